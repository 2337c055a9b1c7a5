"""astcheck: checks on clang's syntax tree of src/*.c (scripts/static-check).

    astcheck.py CLANG JOBS CFLAGS CHECKS [--expect-planted] FILE...

CHECKS is a comma-separated list of:
  sql    every query text is fixed at compile time (sqlcheck.py)
  dberr  database errors are told apart by SQLSTATE, never by their
         message text (dberrcheck.py)

Each file is parsed once (clang -Xclang -ast-dump=json, JOBS at a time)
and every check named reads that tree: the parse is most of the time.
Findings are printed as file:line: message, then one summary line per
check; exit 1 if there is any, 2 if clang cannot read a file.

--expect-planted is the self-test: the files are planted on purpose
(tests/static/planted_*.c, never built) and the run passes only if
exactly the lines marked /* PLANTED */ are reported, so a check that
cannot fail is caught.
"""
import os
import sys
from multiprocessing import Pool

import clangast
import dberrcheck
import sqlcheck
from planted import selftest

CHECKS = {'sql': sqlcheck, 'dberr': dberrcheck}


def analyse(job):
    """Parse one file and let each check read it (in a worker)."""
    clang, cflags, names, path = job
    try:
        root, decls = clangast.parse(clang, cflags, path)
    except clangast.ClangError as e:
        return {'error': str(e)}
    main = os.path.normpath(path)
    return {n: CHECKS[n].analyse(root, decls, main) for n in names}


def main(argv):
    clang, jobs, cflags = argv[1], int(argv[2]), argv[3].split()
    names = argv[4].split(',')
    files = argv[5:]
    planted = bool(files) and files[0] == '--expect-planted'
    if planted:
        files = files[1:]
    with Pool(max(1, jobs)) as pool:
        results = pool.map(analyse, [(clang, cflags, names, f)
                                     for f in files])
    errs = [r['error'] for r in results if 'error' in r]
    if errs:
        print('\n'.join(errs))
        return 2
    found, summaries, notes = [], [], []
    for n in names:
        f, summary, note = CHECKS[n].settle([r[n] for r in results])
        found += f
        summaries.append(summary)
        notes.append(note)
    if planted:
        return selftest(found, notes, files)
    for f, l, m in found:
        print('%s:%d: %s' % (f, l, m))
    for s in summaries:
        print('  %s' % s)
    return 1 if found else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
