"""clangast: clang's JSON syntax tree for the checks of scripts/astcheck.

The checks read the tree clang builds (clang -Xclang -ast-dump=json), so
macros, string concatenation and casts are seen as the compiler sees
them. This module runs clang on one file and gives the tree with every
location's file and line filled in, plus small walking helpers shared by
the checks (sqlcheck.py, dberrcheck.py).
"""
import json
import os
import re
import subprocess

STRIP = ('ImplicitCastExpr', 'ParenExpr', 'CStyleCastExpr')


class ClangError(Exception):
    """clang could not read a file; the message carries its stderr."""


def parse(clang, cflags, path):
    """The tree of path and its VarDecl/ParmVarDecl nodes by id."""
    cmd = [clang, '-fsyntax-only', '-Xclang', '-ast-dump=json'] + cflags + \
        [path]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode != 0:
        raise ClangError('%s: clang failed:\n%s' %
                         (path, p.stderr.decode(errors='replace')))
    root = json.loads(p.stdout)
    return root, annotate(root)


def annotate(root):
    """clang's JSON omits a location's file and line when they repeat
    the previous one in document order: walk in order, fill them in
    as _f/_l, and index the declarations."""
    cur_f = cur_l = None
    decls = {}
    stack = [iter((root,))]
    while stack:
        try:
            x = next(stack[-1])
        except StopIteration:
            stack.pop()
            continue
        if isinstance(x, dict):
            if 'offset' in x:
                if 'file' in x:
                    cur_f = x['file']
                if 'line' in x:
                    cur_l = x['line']
                x['_f'], x['_l'] = cur_f, cur_l
                continue
            if x.get('kind') in ('VarDecl', 'ParmVarDecl') and 'id' in x:
                decls[x['id']] = x
            stack.append(iter(x.values()))
        elif isinstance(x, list):
            stack.append(iter(x))
    return decls


def strip(n):
    """n without the casts and parentheses around it."""
    while n.get('kind') in STRIP and n.get('inner'):
        n = n['inner'][0]
    return n


def where(n):
    """(file, line) of n, where a macro is used rather than defined."""
    for key in ('loc', 'range'):
        l = n.get(key)
        if not l:
            continue
        if key == 'range':
            l = l.get('begin', {})
        l = l.get('expansionLoc', l)
        if '_f' in l:
            return (os.path.normpath(l['_f']), l['_l'])
    return ('?', 0)


def walk(n):
    """Pre-order over the nodes under n (n included)."""
    stack = [n]
    while stack:
        x = stack.pop()
        yield x
        stack.extend(reversed(x.get('inner', [])))


def qualtype(n):
    """The C type of n as clang spells it ('' if none)."""
    return n.get('type', {}).get('qualType', '')


def record_name(n):
    """'kore_pgsql' for an expression of type struct kore_pgsql (*)."""
    return re.sub(r'\bconst\b|\bstruct\b|\*', '', qualtype(n)).strip()


def callee(call):
    """The name of the function a CallExpr calls directly, else None."""
    c = strip(call['inner'][0])
    if c.get('kind') != 'DeclRefExpr' or \
            c['referencedDecl'].get('kind') != 'FunctionDecl':
        return None
    return c['referencedDecl']['name']


def own_functions(root, path):
    """The function definitions of root that are written in path."""
    main = os.path.normpath(path)
    for d in root.get('inner', []):
        if d.get('kind') == 'FunctionDecl' and where(d)[0] == main and any(
                c.get('kind') == 'CompoundStmt' for c in d.get('inner', [])):
            yield d
