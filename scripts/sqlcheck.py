"""sqlcheck: every query text is fixed at compile time.

Why: SQL is parameterised, always; no query text is ever built from
input (docs STYLE.md). A text pasted together at run time is how SQL
injection starts, so the build refuses any that could be.

What: every call of kore_pgsql_query*, pc_dbq_init, PQexec*, PQprepare,
PQsendQuery* and PQsendPrepare must get a query text that is fixed at
compile time: a string literal (macros and adjacent literals included),
a ?: of such, or a const variable/array whose initialiser is one. A
function that passes its own parameter on as the query (admin_exec,
pc_dbq_init) becomes a query function in turn and its callers are
checked the same way; a struct field passed on (pc_dbq.query) must get
such a text in every assignment and initialiser. A function whose query
parameter nobody in the checked files calls, and taking the address of
a query function, are reported too: neither can be checked.

How: analyse() reads one file's tree (clangast.py) into requirements;
settle() decides them across all files. Run by scripts/astcheck, whose
self-test on tests/static/planted_sql.c asserts that exactly the lines
marked PLANTED there are reported.
"""
import re

from clangast import qualtype, record_name, strip, walk, where

TITLE = 'SQL texts fixed at compile time'

# Query functions: name -> 0-based index of the query-text argument.
SINKS = {
    'kore_pgsql_query': 1, 'kore_pgsql_query_params': 1,
    'kore_pgsql_v_query_params': 1, 'kore_pgsql_query_param_fields': 1,
    'pc_dbq_init': 2,
    'PQexec': 1, 'PQexecParams': 1, 'PQprepare': 2, 'PQsendQuery': 1,
    'PQsendQueryParams': 1, 'PQsendPrepare': 2,
}


def chartype(qt):
    return 'char' in qt or 'void *' in qt


def const_ok(qt, subscript):
    q = qt.replace(' ', '')
    if subscript:
        return re.fullmatch(r'(const)?char\*const\[\d*\]', q) is not None
    return (re.fullmatch(r'constchar\[\d*\]', q) is not None or
            re.fullmatch(r'(const)?char\*const', q) is not None)


class Fn:
    """What one function body tells about its variables."""

    def __init__(self, name, node, decls):
        self.name = name
        self.params = {}
        self.assigned = {}
        self.addr = set()
        self.decls = decls
        i = 0
        for c in node.get('inner', []):
            if c.get('kind') == 'ParmVarDecl':
                self.params[c['id']] = (c.get('name', '?'), i)
                i += 1
        for x in walk(node):
            k = x.get('kind')
            if k == 'BinaryOperator' and x.get('opcode') == '=':
                lhs = strip(x['inner'][0])
                if lhs.get('kind') == 'DeclRefExpr':
                    self.assigned.setdefault(
                        lhs['referencedDecl']['id'], []).append(x['inner'][1])
            elif k == 'UnaryOperator' and x.get('opcode') == '&':
                op = strip(x['inner'][0])
                if op.get('kind') == 'DeclRefExpr':
                    self.addr.add(op['referencedDecl']['id'])


def classify(n, fn, gvars, seen=()):
    """Requirements for n to be a compile-time text: [] when it is one;
    ('param', f, i), ('field', rec, name), ('gvar', name, sub) to be
    settled across files; ('other', why) when it is not."""
    n = strip(n)
    k = n.get('kind')
    if k in ('StringLiteral', 'PredefinedExpr'):
        return []
    if k == 'IntegerLiteral' and n.get('value') == '0':
        return []       # NULL: no text at all
    if k == 'ConditionalOperator':
        return (classify(n['inner'][1], fn, gvars, seen) +
                classify(n['inner'][2], fn, gvars, seen))
    if k == 'DeclRefExpr':
        return var(n['referencedDecl'], False, fn, gvars, seen)
    if k == 'ArraySubscriptExpr':
        base = strip(n['inner'][0])
        if base.get('kind') == 'DeclRefExpr':
            return var(base['referencedDecl'], True, fn, gvars, seen)
        return [('other', 'an element of a computed array')]
    if k == 'MemberExpr':
        return member(n)
    if k == 'CallExpr':
        return [('other', 'the result of a function call')]
    return [('other', 'an expression (%s)' % k)]


def member(n):
    """Requirements for a struct field n used as a text."""
    rec = record_name(strip(n['inner'][0]))
    qt = qualtype(n)
    if '[' in qt and not const_ok(qt, False):
        # snprintf() and memcpy() write arrays: no assignment to track.
        return [('other', "'%s.%s', a writable array (%s)" %
                 (rec, n.get('name', '?'), qt))]
    return [('field', rec, n.get('name', '?'))]


def var(rd, sub, fn, gvars, seen):
    """Requirements for the variable rd (its element if sub)."""
    vid, name = rd.get('id'), rd.get('name', '?')
    kind = rd.get('kind')
    if kind not in ('VarDecl', 'ParmVarDecl'):
        return [('other', "'%s', a %s" % (name, kind))]
    if vid in seen:
        return []
    seen = seen + (vid,)
    if fn is not None and vid in fn.addr:
        return [('other', "'%s', whose address is taken" % name)]
    d = fn.decls.get(vid) if fn is not None else None
    if kind == 'VarDecl' and (fn is None or vid in gvars or d is None or
                              d.get('storageClass') == 'extern'):
        return [('gvar', name, sub)]
    reqs = []
    qt = rd.get('type', {}).get('qualType', '')
    if kind == 'ParmVarDecl':
        if vid not in fn.params:
            return [('other', "parameter '%s' of another function" % name)]
        if sub:
            return [('other', "an element of parameter '%s'" % name)]
        reqs.append(('param', fn.name, fn.params[vid][1]))
    else:
        arr = '[' in qt
        if arr and not const_ok(qt, sub):
            return [('other', "'%s', a writable array (%s)" % (name, qt))]
        if sub and not arr:
            return [('other', "an element of '%s' (%s)" % (name, qt))]
        if d.get('init') and d.get('inner'):
            reqs += init_reqs(d['inner'][0], sub, fn, gvars, seen)
    for rhs in fn.assigned.get(vid, []):
        reqs += classify(rhs, fn, gvars, seen)
    return reqs


def init_reqs(init, sub, fn, gvars, seen=()):
    init = strip(init)
    if sub:
        if init.get('kind') != 'InitListExpr':
            return [('other', 'an element of a non-list initialiser')]
        r = []
        for e in init.get('inner', []):
            if strip(e).get('kind') != 'ImplicitValueInitExpr':
                r += classify(e, fn, gvars, seen)
        return r
    return classify(init, fn, gvars, seen)


# --- one file ------------------------------------------------------------

def analyse(root, decls, main):
    """What one file (main, normalised) holds: its query calls, the
    values given to char fields, its constant globals, the functions
    whose address it takes and the functions it defines."""
    records = {}
    for x in walk(root):
        if x.get('kind') == 'RecordDecl' and x.get('name') and \
                x.get('completeDefinition'):
            records['%s %s' % (x.get('tagUsed', 'struct'), x['name'])] = \
                [c.get('name') for c in x.get('inner', [])
                 if c.get('kind') == 'FieldDecl']
    top = root.get('inner', [])
    gvars = {d['id'] for d in top if d.get('kind') == 'VarDecl'}
    r = {'calls': [], 'fields': [], 'gdefs': {}, 'addr': [], 'fdefs': {}}
    for d in top:
        k = d.get('kind')
        if k == 'VarDecl' and d.get('init') and where(d)[0] == main:
            r['gdefs'][d['name']] = global_def(d, gvars)
        elif k == 'FunctionDecl' and where(d)[0] == main and any(
                c.get('kind') == 'CompoundStmt' for c in d.get('inner', [])):
            r['fdefs'][d['name']] = where(d)
            scan_function(d, Fn(d['name'], d, decls), gvars, records, r)
    return r


def global_def(d, gvars):
    """A global with an initialiser: is it a constant, and of what."""
    qt = qualtype(d)
    return {
        'where': where(d), 'qt': qt,
        'plain': const_ok(qt, False),
        'sub': const_ok(qt, True),
        'reqs': init_reqs(d['inner'][0], '[' in qt and const_ok(qt, True),
                          None, gvars),
    }


def scan_function(d, fn, gvars, records, r):
    """Add the calls, field values and function addresses of d to r."""
    callees = set()
    for x in walk(d):
        xk = x.get('kind')
        if xk == 'CallExpr':
            c = strip(x['inner'][0])
            if c.get('kind') != 'DeclRefExpr' or \
                    c['referencedDecl'].get('kind') != 'FunctionDecl':
                continue
            callees.add(c['id'])
            a = [classify(arg, fn, gvars) if chartype(qualtype(arg))
                 else None for arg in x['inner'][1:]]
            r['calls'].append({'callee': c['referencedDecl']['name'],
                               'args': a, 'where': where(x), 'fn': fn.name})
        elif xk == 'DeclRefExpr' and x.get('referencedDecl', {}).get(
                'kind') == 'FunctionDecl' and x['id'] not in callees:
            r['addr'].append((x['referencedDecl']['name'], where(x)))
        elif xk == 'BinaryOperator' and x.get('opcode') == '=':
            lhs = strip(x['inner'][0])
            if lhs.get('kind') == 'MemberExpr' and \
                    chartype(qualtype(lhs)):
                f = classify(lhs, fn, gvars)[0]
                r['fields'].append({'field': f[1:], 'where': where(x),
                                    'reqs': classify(x['inner'][1], fn,
                                                     gvars)})
        elif xk == 'InitListExpr':
            r['fields'] += init_fields(x, fn, gvars, records)


def init_fields(x, fn, gvars, records):
    """The char fields a struct initialiser x gives values to."""
    qt = re.sub(r'\bconst\b', '', qualtype(x)).strip()
    names = records.get(qt)
    out = []
    for fname, e in zip(names or (), x.get('inner', [])):
        if strip(e).get('kind') == 'ImplicitValueInitExpr':
            continue
        if chartype(qualtype(e)):
            out.append({'field': (qt.replace('struct ', ''), fname),
                        'where': where(e),
                        'reqs': classify(e, fn, gvars)})
    return out


# --- all files -----------------------------------------------------------

class Settle:
    """Decides the requirements of all files together: wrappers found
    on the way become query functions, and the calls are checked again
    until no new one turns up."""

    def __init__(self, results):
        self.calls = [c for r in results for c in r['calls']]
        self.fields = [f for r in results for f in r['fields']]
        self.addr = [a for r in results for a in r['addr']]
        self.gdefs, self.fdefs = {}, {}
        for r in results:
            self.gdefs.update(r['gdefs'])
            self.fdefs.update(r['fdefs'])
        self.sinks = {k: {v} for k, v in SINKS.items()}
        self.found = {}
        self.checked_fields, self.checked_gvars = set(), set()
        self.changed = False

    def report(self, w, msg):
        self.found.setdefault((w[0], w[1], msg), None)

    def query_args(self):
        """(where, what, requirements) of every query argument."""
        work = []
        for c in self.calls:
            for i in sorted(self.sinks.get(c['callee'], ())):
                if i >= len(c['args']):
                    continue
                what = 'argument %d of %s()' % (i + 1, c['callee'])
                if c['args'][i] is None:
                    self.report(c['where'], '%s is not a string' % what)
                    continue
                work.append((c['where'], what, c['args'][i]))
        return work

    def run(self):
        self.changed = True
        while self.changed:
            self.changed = False
            work = self.query_args()
            while work:
                w, what, reqs = work.pop()
                for r in reqs:
                    self.require(w, what, r, work)
        self.unchecked()

    def require(self, w, what, r, work):
        """Settle one requirement r of the text at w."""
        if r[0] == 'other':
            self.report(w, 'query text built at run time: %s is %s'
                        % (what, r[1]))
        elif r[0] == 'param':
            if r[2] not in self.sinks.setdefault(r[1], set()):
                self.sinks[r[1]].add(r[2])
                self.changed = True
        elif r[0] == 'field':
            key = (r[1], r[2])
            if key in self.checked_fields:
                return
            self.checked_fields.add(key)
            for f in self.fields:
                if tuple(f['field']) == key:
                    work.append((f['where'], 'this value of %s.%s '
                                 '(passed on as a query text)' % key,
                                 f['reqs']))
        elif r[0] == 'gvar':
            self.require_gvar(w, what, r, work)

    def require_gvar(self, w, what, r, work):
        g = self.gdefs.get(r[1])
        if g is None:
            self.report(w, "query text built at run time: %s is "
                        "'%s', defined without an initialiser in "
                        "the checked files" % (what, r[1]))
        elif not g['sub' if r[2] else 'plain']:
            self.report(w, "query text built at run time: %s is "
                        "'%s' (%s), which is not a constant" %
                        (what, r[1], g['qt']))
        elif (r[1], r[2]) not in self.checked_gvars:
            self.checked_gvars.add((r[1], r[2]))
            work.append((g['where'], "'%s'" % r[1], g['reqs']))

    def unchecked(self):
        """Query functions that nothing checks what they are given."""
        called = {c['callee'] for c in self.calls}
        for name in self.sinks:
            if name not in SINKS and name not in called:
                self.report(self.fdefs.get(name, ('?', 0)),
                            'parameter %s of %s() is passed on as a query '
                            'text, but nothing in the checked files calls '
                            '%s() to check what it is given' %
                            (' and '.join(str(i + 1) for i in
                                          sorted(self.sinks[name])),
                             name, name))
        for name, w in self.addr:
            if name in self.sinks:
                self.report(w, 'the address of query function %s() is '
                            'taken; calls through a pointer cannot be '
                            'checked' % name)


def settle(results):
    """(findings, summary line, self-test line) over all files."""
    s = Settle(results)
    s.run()
    wrappers = ', '.join(sorted(k for k in s.sinks if k not in SINKS))
    ncalls = sum(1 for c in s.calls if c['callee'] in SINKS)
    return (sorted(s.found),
            '%d direct query calls, wrappers checked as query functions: '
            '%s' % (ncalls, wrappers or 'none'),
            'query functions found through wrappers: %s' %
            (wrappers or 'none'))
