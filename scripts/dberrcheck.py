"""dberrcheck: database errors are told apart by SQLSTATE, not by text.

Why: PostgreSQL's message text changes with lc_messages, with its
version and with the wording of our own RAISE; the SQLSTATE does not.
src/dberr.c maps SQLSTATEs to answers; code that looks for words in the
message ("duplicate key", "permission denied") breaks silently the day
the text changes. The text is for the log only.

What: no call of a comparison function (COMPARE below) may get a
database error message as any argument. A message is
  - the result of PQerrorMessage(), PQresultErrorMessage(),
    PQresultVerboseErrorMessage(), or of PQresultErrorField() for any
    field but PG_DIAG_SQLSTATE;
  - the field kore_pgsql.error (Kore's copy of the message), or
    pc_dbq.error (db.c's copy of that), or any char field that the
    checked files assign or copy a message into;
  - a local variable that holds one: assigned or initialised from a
    message, or written by a copying function (COPY below) from one;
  - a ?: either of whose branches is one.
Casts and parentheses are looked through. Limits: a message passed to
another function as a parameter and compared there is not followed (no
such code exists; the planted file shows what is caught).

How: analyse() reads one file's tree (clangast.py); settle() adds the
fields that the other files fill. Run by scripts/astcheck, whose
self-test on tests/static/planted_dberr.c asserts that exactly the lines
marked PLANTED there are reported.
"""
from clangast import callee, own_functions, record_name, strip, walk, where

TITLE = 'database errors by SQLSTATE, not by message text'

COMPARE = ('strstr', 'strcasestr', 'strcmp', 'strncmp', 'strcasecmp',
           'strncasecmp', 'memcmp', 'memmem')
MESSAGE = ('PQerrorMessage', 'PQresultErrorMessage',
           'PQresultVerboseErrorMessage')
FIELDS = {('kore_pgsql', 'error'), ('pc_dbq', 'error')}
# Copying functions: name -> 0-based index of the destination.
COPY = {'strlcpy': 0, 'kore_strlcpy': 0, 'strcpy': 0, 'strncpy': 0,
        'memcpy': 0, 'snprintf': 0}
# Functions that return a copy of their first argument.
DUP = ('strdup', 'kore_strdup', 'strndup')
PG_DIAG_SQLSTATE = ord('C')


def is_message_call(n, tainted):
    """n calls a function that returns a message."""
    name = callee(n)
    if name in MESSAGE:
        return True
    if name in DUP and len(n['inner']) > 1:
        return source(n['inner'][1], tainted) == 'message'
    if name == 'PQresultErrorField' and len(n['inner']) == 3:
        field = strip(n['inner'][2])
        return not (field.get('kind') in ('CharacterLiteral',
                                          'IntegerLiteral') and
                    str(field.get('value')) == str(PG_DIAG_SQLSTATE))
    return False


def source(n, tainted):
    """'message' if n is a database error message, ('field', rec, name)
    if it is a char field that may hold one, else None."""
    n = strip(n)
    k = n.get('kind')
    if k == 'CallExpr':
        return 'message' if is_message_call(n, tainted) else None
    if k == 'ConditionalOperator':
        for b in (source(n['inner'][1], tainted),
                  source(n['inner'][2], tainted)):
            if b is not None:
                return b
        return None
    if k == 'DeclRefExpr':
        vid = n.get('referencedDecl', {}).get('id')
        return 'message' if vid in tainted else None
    if k == 'MemberExpr':
        key = (record_name(strip(n['inner'][0])), n.get('name', '?'))
        return 'message' if key in FIELDS else ('field',) + key
    if k == 'ArraySubscriptExpr':
        return source(n['inner'][0], tainted)
    return None


def writes(n):
    """(destination, value) pairs that n stores: an assignment, a
    variable's initialiser or a copying call."""
    k = n.get('kind')
    if k == 'BinaryOperator' and n.get('opcode') == '=':
        return [(n['inner'][0], n['inner'][1])]
    if k == 'VarDecl' and n.get('init') and n.get('inner'):
        return [(n, n['inner'][0])]
    if k == 'CallExpr' and callee(n) in COPY:
        args = n['inner'][1:]
        dst = args[COPY[callee(n)]]
        return [(dst, a) for a in args if a is not dst]
    return []


def taint(fn):
    """Ids of fn's variables that may hold a message, and the
    (rec, field) it copies a message into; to a fixed point."""
    tainted, fields = set(), set()
    stores = [w for x in walk(fn) for w in writes(x)]
    grew = True
    while grew:
        grew = False
        for dst, val in stores:
            if source(val, tainted) != 'message':
                continue
            dst = strip(dst)
            if dst.get('kind') == 'VarDecl':
                key, into = dst.get('id'), tainted
            elif dst.get('kind') == 'DeclRefExpr':
                key, into = dst['referencedDecl'].get('id'), tainted
            elif dst.get('kind') == 'MemberExpr':
                key = (record_name(strip(dst['inner'][0])),
                       dst.get('name', '?'))
                into = fields
            else:
                continue
            if key not in into:
                into.add(key)
                grew = True
    return tainted, fields


def analyse(root, decls, main):
    """The comparisons of one file that get a message (or a field that
    may hold one), and the fields it copies a message into."""
    r = {'compares': [], 'fields': set(), 'ncompares': 0}
    for fn in own_functions(root, main):
        tainted, fields = taint(fn)
        r['fields'] |= fields
        for x in walk(fn):
            if x.get('kind') != 'CallExpr' or callee(x) not in COMPARE:
                continue
            r['ncompares'] += 1
            for i, a in enumerate(x['inner'][1:]):
                s = source(a, tainted)
                if s is not None:
                    r['compares'].append((where(x), callee(x), i + 1, s))
    return r


def settle(results):
    """(findings, summary line, self-test line) over all files."""
    fields = set(FIELDS)
    for r in results:
        fields |= r['fields']
    found = set()
    for r in results:
        for w, fname, i, s in r['compares']:
            if s == 'message':
                what = 'a database error message'
            elif tuple(s[1:]) in fields:
                what = "'%s.%s', which holds a database error message" % \
                    tuple(s[1:])
            else:
                continue
            found.add((w[0], w[1], 'argument %d of %s() is %s: tell '
                       'errors apart by SQLSTATE (src/dberr.c)' %
                       (i, fname, what)))
    n = sum(r['ncompares'] for r in results)
    return (sorted(found),
            '%d string comparisons, none on a database error message' % n
            if not found else '%d string comparisons' % n,
            'message fields: %s' % ', '.join(
                '%s.%s' % f for f in sorted(fields)))
