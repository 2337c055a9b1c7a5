"""planted: the self-test shared by the checks of scripts/static-check.

A check that cannot fail is a defect, so each one first runs on a file
of violations planted on purpose (tests/static/planted_*), each marked
PLANTED in a comment, beside look-alikes that are fine. The self-test
passes only if exactly the marked lines are reported.
"""
import os
import re

MARK = re.compile(r'(/\*|#)\s*PLANTED\b')


def planted_lines(files):
    """(file, line) of every line marked PLANTED in files."""
    want = set()
    for f in files:
        with open(f) as fp:
            for i, line in enumerate(fp, 1):
                if MARK.search(line):
                    want.add((os.path.normpath(f), i))
    return want


def selftest(found, notes, files):
    """Exactly the PLANTED lines of files must be found: 0 if so.
    found holds (file, line, message); notes are printed after."""
    want = planted_lines(files)
    got = {(f, l) for f, l, _ in found}
    for f, l, m in found:
        print('  caught %s:%d: %s' % (f, l, m))
    for f, l in sorted(want - got):
        print('  MISSED %s:%d (marked PLANTED)' % (f, l))
    for f, l in sorted(got - want):
        print('  FALSE ALARM %s:%d (not marked PLANTED)' % (f, l))
    for n in notes:
        print('  %s' % n)
    return 0 if got == want and want else 1
