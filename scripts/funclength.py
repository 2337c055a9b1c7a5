"""funclength: no C function in src/ is longer than 120 lines.

    funclength.py [--expect-planted] ALLOWLIST FILE...

Why: a 250-line handler hides which step owns which query; one named
function per step shows it (docs/STYLE.md, "multi-step requests as a
table of small functions"). 120 lines is the ceiling our craft issue
set.

What: a function is measured from the line of its opening brace to the
line of its closing brace, both included. KNF puts both at column 0,
and the function's name at column 0 on the line before (or on the first
line of its parameter list), which is where it is reported.

Exempt: generated files. src/common_passwords.c (a word list written by
scripts/gen-common-passwords) and anything under build/ (build/assets.c,
written by scripts/gen-assets) are skipped whatever the file list.

The allowlist (tests/static/long-functions.allow) names functions that
were over the limit when the check came in, one "file:function" a line;
they are shown but do not fail. It must only shrink: an entry whose
function is no longer over the limit (or no longer exists) in a checked
file fails the check until the line is removed, so a function cannot
grow back.

Exit 1 on any finding. --expect-planted is the self-test
(tests/static/planted_long.c and planted_long.allow): exactly the lines
marked PLANTED there must be reported.
"""
import os
import re
import sys

from planted import selftest

LIMIT = 120
EXEMPT = ('src/common_passwords.c',)
EXEMPT_DIRS = ('build/',)
NAME = re.compile(r'^(?:[A-Za-z_][\w \t*]*?[ \t*])?([A-Za-z_]\w*)\s*\(')


def exempt(path):
    p = os.path.normpath(path)
    return p in EXEMPT or p.startswith(EXEMPT_DIRS)


def functions(path):
    """(name, line of the name, length) of each function in path."""
    with open(path) as fp:
        lines = fp.read().split('\n')
    out = []
    i = 0
    while i < len(lines):
        if not lines[i].startswith('{'):
            i += 1
            continue
        start = i
        i += 1
        while i < len(lines) and not lines[i].startswith('}'):
            i += 1
        name = name_of(lines, start)
        if name is not None:
            out.append((name[0], name[1], i - start + 1))
    return out


def name_of(lines, brace):
    """(name, 1-based line) of the function whose body opens at index
    brace: the nearest line above at column 0 (parameter lines that
    continue it are indented)."""
    j = brace - 1
    while j >= 0 and lines[j][:1] in (' ', '\t'):
        j -= 1
    m = NAME.match(lines[j]) if j >= 0 else None
    if m is None:
        return None
    return (m.group(1), j + 1)


def read_allowlist(path):
    """{'file:function': line} of the allowlist, and bad lines."""
    allow, bad = {}, []
    with open(path) as fp:
        for n, line in enumerate(fp, 1):
            entry = line.split('#', 1)[0].strip()
            if not entry:
                continue
            if re.fullmatch(r'[\w./-]+\.c:[A-Za-z_]\w*', entry) is None:
                bad.append((n, 'not a file:function entry: %r' % entry))
            else:
                allow[entry] = n
    return allow, bad


def check(allowlist, files):
    """(findings, allowed functions over the limit, files measured)."""
    allow, bad = read_allowlist(allowlist)
    al = os.path.normpath(allowlist)
    found = [(al, n, m) for n, m in bad]
    allowed, over, measured = [], set(), []
    for f in files:
        if exempt(f):
            continue
        f = os.path.normpath(f)
        measured.append(f)
        for name, line, length in functions(f):
            if length <= LIMIT:
                continue
            key = '%s:%s' % (f, name)
            over.add(key)
            if key in allow:
                allowed.append((f, line, name, length))
            else:
                found.append((f, line, '%s() is %d lines long, over %d: '
                              'split it into named steps' %
                              (name, length, LIMIT)))
    for key, n in sorted(allow.items(), key=lambda x: x[1]):
        if key.split(':')[0] in measured and key not in over:
            found.append((al, n, '%s is not over %d lines (or is gone): '
                          'remove it from the list, which only shrinks' %
                          (key, LIMIT)))
    return sorted(found), allowed, measured


def main(argv):
    args = argv[1:]
    planted = bool(args) and args[0] == '--expect-planted'
    if planted:
        args = args[1:]
    allowlist, files = args[0], args[1:]
    found, allowed, measured = check(allowlist, files)
    notes = ['allowed (%s): %s:%d: %s() is %d lines' %
             (allowlist, f, l, n, length) for f, l, n, length in allowed]
    if planted:
        return selftest(found, notes, files + [allowlist])
    for f, l, m in found:
        print('%s:%d: %s' % (f, l, m))
    for n in notes:
        print('  %s' % n)
    print('  %d of %d files measured (generated ones exempt), %d '
          'functions over %d lines on the allowlist' %
          (len(measured), len(files), len(allowed), LIMIT))
    return 1 if found else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
