"""Issue 4: every route has an entry in the central permission table.

kore.conf may only send paths to pc_dispatch, the dispatcher that checks
the table; the table in src/routes.c lists roles for every route that is
not public; and the permission matrix in permissions.py covers exactly the
routes of that table, so a route added without a matrix row (or without
roles) fails here."""
import os
import re

from conftest import TOP
from permissions import MATRIX, PUBLIC

ROLE_BITS = {"ADMIN": {"admin"}, "AUDIT": {"auditor"}, "OPER": {"operator"},
             "ANY": {"operator", "admin", "auditor"}}


def kore_routes():
    routes = []
    with open(os.path.join(TOP, "kore.conf")) as f:
        for line in f:
            parts = line.split()
            if parts and parts[0] == "route":
                routes.append(tuple(parts[1:]))
    return routes


def table_routes():
    with open(os.path.join(TOP, "src", "routes.c")) as f:
        text = f.read()
    body = text[text.index("pc_routes[] = {"):]
    body = body[:body.index("};")]
    rows = re.findall(r"\{\s*(GET|POST),\s*\"([^\"]+)\",\s*([^,]+),\s*"
                      r"([^,]+),\s*(pc_h_\w+)\s*\}", body)
    out = []
    for method, path, roles, flags, handler in rows:
        who = set()
        if roles.strip() != "0":
            for bit in roles.split("|"):
                who |= ROLE_BITS[bit.strip()]
        public = "PUBLIC" in flags
        out.append((method, path.replace(":id", "{id}")
                    .replace(":week", "{week}").replace(":half", "{half}")
                    .replace(":day", "{day}"),
                    PUBLIC if public else frozenset(who), handler))
    return out


def test_kore_sends_every_path_to_the_permission_dispatcher():
    routes = kore_routes()
    assert routes, "no route in kore.conf"
    for route in routes:
        assert route[-1] == "pc_dispatch", route


def test_every_table_route_has_roles_or_is_public():
    rows = table_routes()
    assert len(rows) >= 16
    for method, path, who, handler in rows:
        assert who == PUBLIC or who, (method, path, handler)
        # Public routes are exactly the ones a stranger needs.
        if who == PUBLIC:
            assert path in ("/healthz", "/api/hours", "/api/login",
                            "/api/enrolment/begin",
                            "/api/enrolment/finish")


def test_matrix_covers_exactly_the_table():
    table = {(m, p): who for m, p, who, _ in table_routes()}
    matrix = {(m, p): (who if who == PUBLIC else frozenset(who))
              for m, p, who, _ in MATRIX}
    assert table == matrix


# --- issue 13: one list of every error code ------------------------------

CODE_SOURCES = (
    # pc_http_error(req, 403, "code", ...), across lines.
    (os.path.join("src", "*.c"),
     r'pc_http_error(?:_reason)?\(\s*\w+\s*,\s*\d+\s*,\s*"([a-z_]+)"'),
    # The tables of dberr.c and httperr.c: { ..., 409, "code", ...
    (os.path.join("src", "*.c"), r'\{\s*(?:"\w+"\s*,\s*)?\d{3}\s*,\s*"([a-z_]+)"'),
    # reviews.c: the database's answer passed through as the code.
    (os.path.join("src", "reviews.c"),
     r'strcmp\(s, "([a-z_]+)"\) == 0\) \{\s*code = s'),
    # Error bodies built inside PostgreSQL.
    (os.path.join("migrations", "*.sql"),
     r"jsonb_build_object\('error',\s*'([a-z_]+)'"),
)


def test_readme_lists_every_error_code():
    """The README's error-code table is the API's contract: every code
    the server can answer, found in the code itself, must be in it."""
    import glob
    found = set()
    for pattern, rx in CODE_SOURCES:
        for path in glob.glob(os.path.join(TOP, pattern)):
            with open(path) as f:
                found.update(re.findall(rx, f.read()))
    with open(os.path.join(TOP, "README.md")) as f:
        readme = f.read()
    table = readme[readme.index("### Error codes"):
                   readme.index("### HTTP, exactly")]
    listed = set(re.findall(r"`([a-z_]+)`", table))
    assert len(found) > 30, found
    assert found - listed == set()
