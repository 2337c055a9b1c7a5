/*
 * request.c: the state every request carries (created by the
 * dispatcher), the caller's address, and the session check that runs
 * before any handler that needs a signed-in user.
 */
#include <netinet/in.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "allowlist.h"
#include "app.h"
#include "cardguard.h"
#include "cidr.h"
#include "db.h"
#include "http_util.h"
#include "password.h"
#include "request.h"
#include "utf8.h"
#include "wipe.h"

static void	pc_req_free(struct http_request *);
static void	pc_req_source(struct http_request *, char *, size_t);
static int	pc_req_csrf_ok(struct http_request *, const uint8_t *);
static void	pc_req_copy(char *, size_t, const char *);

static void
pc_req_free(struct http_request *req)
{
	struct pc_req	*r;

	/* Kore may call this twice (again after pending tasks end). */
	if ((r = http_state_get(req)) == NULL)
		return;
	pc_dbq_cleanup(&r->sq);
	if (r->h_used && r->h_free != NULL)
		r->h_free(r->h.buf);
	pc_wipe(&r->s, sizeof(r->s));
	pc_wipe(r->tok, sizeof(r->tok));
}

struct pc_req *
pc_req_get(struct http_request *req)
{
	struct pc_req	*r;

	if ((r = http_state_get(req)) == NULL) {
		r = http_state_create(req, sizeof(*r), pc_req_free);
		pc_req_source(req, r->source, sizeof(r->source));
	}
	return (r);
}

/* Handler state, allocated once per request and freed with it. */
void *
pc_req_handler_state(struct http_request *req, size_t len,
    void (*onfree)(void *))
{
	struct pc_req	*r;

	r = pc_req_get(req);
	if (len > sizeof(r->h.buf))
		fatal("handler state of %zu bytes does not fit", len);
	if (!r->h_used) {
		r->h_used = 1;
		r->h_free = onfree;
	}
	return (r->h.buf);
}

/*
 * Steps of an http_state_run() table: go on to step next (Kore's
 * http_state_run() runs whatever req->fsm_state names, so every step
 * that continues says where to).
 */
int
pc_req_step(struct http_request *req, int next)
{
	req->fsm_state = (u_int8_t)next;
	return (HTTP_STATE_CONTINUE);
}

/*
 * The wait for q (pc_dbq_state()) as a whole step: on to step next once
 * the query is done, RETRY until then, COMPLETE once a refusal or
 * failure has been answered.
 */
int
pc_req_wait(struct http_request *req, struct pc_dbq *q, int next)
{
	int	rv;

	if ((rv = pc_dbq_state(req, q)) != HTTP_STATE_CONTINUE)
		return (rv);
	return (pc_req_step(req, next));
}

/*
 * The caller's address: the connection's, which behind a trusted proxy
 * is the one its PROXY v2 header carried (patch 13), the address the
 * allowlist judged. No request header (X-Forwarded-For) is ever read:
 * it is the client's to forge.
 */
static void
pc_req_source(struct http_request *req, char *out, size_t len)
{
	uint8_t		addr[16];
	int		family;

	pc_allowlist_peer(req->owner, &family, addr);
	pc_cidr_addr_str(family, addr, out, len);
}

/* Is now inside the allowed hours? Also gives the window's end. */
int
pc_req_in_hours(int64_t *end)
{
	int64_t		now;

	now = (int64_t)time(NULL);
	if (end != NULL)
		*end = pc_hours_window_end(&pc_policy.hours, &pc_tz, now);
	return (pc_hours_allowed(&pc_policy.hours, &pc_tz, now));
}

/* State-changing requests: same Origin and the session's CSRF token. */
static int
pc_req_csrf_ok(struct http_request *req, const uint8_t *tok)
{
	const char	*origin, *csrf;
	char		want[300];
	int		n;

	if (!http_request_header(req, "origin", &origin) ||
	    !http_request_header(req, "x-csrf-token", &csrf))
		return (0);
	n = snprintf(want, sizeof(want), "https://%s", req->host);
	if (n < 0 || (size_t)n >= sizeof(want) || strcmp(origin, want) != 0)
		return (0);
	return (pc_token_csrf_ok(tok, csrf, strlen(csrf)));
}

static void
pc_req_copy(char *dst, size_t len, const char *src)
{
	if (kore_strlcpy(dst, src, len) >= len)
		dst[0] = '\0';
}

/*
 * Returns KORE_RESULT_OK when r->s holds a live session, RETRY while the
 * database works, ERROR when the request has been answered (401, 403,
 * 503).
 */
int
pc_req_session(struct http_request *req, int state_changing)
{
	struct pc_req	*r;
	const char	*cookie;
	PGresult	*res;
	int		in_hours;

	r = pc_req_get(req);
	if (r->authed)
		return (KORE_RESULT_OK);

	if (!r->sq.inited) {
		if (!http_request_header(req, "cookie", &cookie) ||
		    pc_cookie_session(cookie, r->s.token) == -1) {
			pc_http_error(req, 401, "unauthenticated",
			    "Sign in first.");
			return (KORE_RESULT_ERROR);
		}
		if (state_changing && !pc_req_csrf_ok(req, r->s.token)) {
			pc_http_error(req, 403, "csrf_failed",
			    "The request did not come from this console.");
			return (KORE_RESULT_ERROR);
		}
		in_hours = pc_req_in_hours(NULL);
		if (pc_bytea_encode(r->s.token, sizeof(r->s.token), r->tok,
		    sizeof(r->tok)) == -1)
			fatal("token parameter buffer too small");
		(void)snprintf(r->sq_idle, sizeof(r->sq_idle), "%u",
		    pc_policy.session_idle_seconds);
		(void)snprintf(r->sq_inhours, sizeof(r->sq_inhours), "%s",
		    in_hours ? "true" : "false");
		pc_dbq_init(&r->sq, PC_DB_AUTH,
		    "SELECT status, session_id, user_id, username, "
		    "display_name, role, must_change_password, "
		    "extract(epoch FROM idle_expires_at)::bigint, "
		    "extract(epoch FROM absolute_expires_at)::bigint, "
		    "coalesce(extract(epoch FROM reauth_at)::bigint, 0) "
		    "FROM auth.session_check($1::bytea, $2::int, $3::bool, "
		    "$4::inet)");
		pc_dbq_param(&r->sq, r->tok, strlen(r->tok));
		pc_dbq_param(&r->sq, r->sq_idle, strlen(r->sq_idle));
		pc_dbq_param(&r->sq, r->sq_inhours, strlen(r->sq_inhours));
		pc_dbq_param(&r->sq, r->source, strlen(r->source));
	}

	switch (pc_dbq_wait(req, &r->sq)) {
	case PC_DB_RETRY:
		return (KORE_RESULT_RETRY);
	case PC_DB_ERROR:
		return (KORE_RESULT_ERROR);
	case PC_DB_DONE:
		break;
	}

	res = r->sq.result;
	if (PQntuples(res) != 1 || PQnfields(res) != 10) {
		pc_http_error(req, 401, "unauthenticated", "Sign in first.");
		return (KORE_RESULT_ERROR);
	}
	if (strcmp(PQgetvalue(res, 0, 0), "outside_hours") == 0) {
		pc_http_error(req, 403, "outside_hours",
		    "The console is closed at this hour.");
		return (KORE_RESULT_ERROR);
	}
	if (strcmp(PQgetvalue(res, 0, 0), "ok") != 0) {
		pc_http_error(req, 401, "unauthenticated", "Sign in first.");
		return (KORE_RESULT_ERROR);
	}

	r->s.session_id = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	r->s.user_id = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
	pc_req_copy(r->s.username, sizeof(r->s.username),
	    PQgetvalue(res, 0, 3));
	pc_req_copy(r->s.display_name, sizeof(r->s.display_name),
	    PQgetvalue(res, 0, 4));
	pc_req_copy(r->s.role, sizeof(r->s.role), PQgetvalue(res, 0, 5));
	r->s.must_change_password = PQgetvalue(res, 0, 6)[0] == 't';
	r->s.idle_expires_at = strtoll(PQgetvalue(res, 0, 7), NULL, 10);
	r->s.absolute_expires_at = strtoll(PQgetvalue(res, 0, 8), NULL, 10);
	r->s.reauth_at = strtoll(PQgetvalue(res, 0, 9), NULL, 10);
	r->authed = 1;

	return (KORE_RESULT_OK);
}

/*
 * Every body this API takes is JSON, so a request with content must
 * say so: Content-Type application/json, optionally with charset=utf-8
 * (jsonin.c). Otherwise 415 unsupported_media_type, before any handler
 * reads it. Returns 1 to go on, 0 when answered.
 */
int
pc_req_media_type(struct http_request *req)
{
	const char	*ct;

	/* No disk offload (kore.conf): a body is in http_body or absent. */
	if (req->http_body == NULL || req->http_body->length == 0)
		return (1);
	if (http_request_header(req, "content-type", &ct) &&
	    pc_jsonin_media_type(ct))
		return (1);
	/* Unread, it may still hold a password (a form post). */
	pc_wipe(req->http_body->data, req->http_body->length);
	pc_http_error(req, 415, "unsupported_media_type",
	    "Send the body as Content-Type: application/json.");
	return (0);
}

/*
 * A JSON object body (jsonin.c: RFC 8259, strictly): read into buf (the
 * body must be shorter than len) and parsed into json. Returns 1 when
 * json holds an object, else 0. Either way, finish with
 * pc_req_json_done(). The media type was checked before the handler
 * (pc_req_media_type()).
 */
int
pc_req_json(struct http_request *req, struct pc_jsonin *json, uint8_t *buf,
    size_t len)
{
	ssize_t		n;

	json->root = NULL;
	if ((n = http_body_read(req, buf, len)) <= 0 ||
	    req->http_body_length > 0)
		return (0);
	return (pc_jsonin_parse(json, buf, (size_t)n) == PC_JSONIN_OK);
}

/*
 * Every copy of the body wiped, whatever it held (a password under an
 * unexpected key too): the tree and the parser's buffers (wiped as
 * jansson frees them), buf and Kore's body buffer.
 */
void
pc_req_json_done(struct http_request *req, struct pc_jsonin *json,
    uint8_t *buf, size_t len)
{
	pc_jsonin_free(json);
	pc_wipe(buf, len);
	if (req->http_body != NULL)
		pc_wipe(req->http_body->data, req->http_body->length);
}

/*
 * The one text field of a small JSON object body ({"comment": "..."}),
 * into out: non-empty, shorter than max bytes, valid UTF-8 without
 * control characters but newline and tab, free of card numbers.
 * Returns 1, or 0 after answering 400 (invalid_request or
 * card_number_refused).
 */
int
pc_req_body_text(struct http_request *req, const char *key, char *out,
    size_t len, size_t max)
{
	struct pc_jsonin	json;
	const char		*c;
	uint8_t			body[2048];
	size_t			clen;
	int			ok;

	ok = 0;
	out[0] = '\0';
	if (pc_req_json(req, &json, body, sizeof(body)) &&
	    (c = pc_jsonin_string(&json, key, &clen)) != NULL &&
	    clen > 0 && max <= len && clen < max &&
	    kore_strlcpy(out, c, len) < max &&
	    pc_utf8_text(out, strlen(out), 1))
		ok = 1;
	pc_req_json_done(req, &json, body, sizeof(body));
	if (!ok) {
		out[0] = '\0';
		pc_http_error(req, 400, "invalid_request",
		    "A parameter is not acceptable.");
		return (0);
	}
	if (!pc_req_no_card(req, out, strlen(out))) {
		out[0] = '\0';
		return (0);
	}
	return (1);
}

/*
 * The card guard on a text we keep or log (a filter, a header): 1 when
 * s[0..len) holds no card number, else 0 after answering 400
 * card_number_refused.
 */
int
pc_req_no_card(struct http_request *req, const char *s, size_t len)
{
	if (!pc_cardguard_find(s, len))
		return (1);
	pc_req_card_refused(req);
	return (0);
}

/* The one answer to a card number where none belongs. */
void
pc_req_card_refused(struct http_request *req)
{
	pc_http_error(req, 400, "card_number_refused",
	    "Card numbers are not accepted here.");
}

/*
 * What the signed-in user just looked at or did, as one audit.note():
 * the database takes actor, name and role from the session (db: the
 * handle whose login role may note the event, audit.note_rules). The
 * texts must live as long as the request (literals or handler state).
 * rule "" raises no alert (NULL); any other raises it at "alert".
 */
void
pc_req_record(struct pc_dbq *q, struct pc_req *r, const char *db,
    const char *event, const char *target, const char *outcome,
    const char *details, size_t details_len, const char *rule)
{
	pc_dbq_init(q, db, "SELECT audit.note($1::bytea, $2::inet, $3, $4, "
	    "$5, $6::jsonb, $7)");
	pc_dbq_param(q, r->tok, strlen(r->tok));
	pc_dbq_param(q, r->source, strlen(r->source));
	pc_dbq_param(q, event, strlen(event));
	pc_dbq_param(q, target, strlen(target));
	pc_dbq_param(q, outcome, strlen(outcome));
	pc_dbq_param(q, details, details_len);
	pc_dbq_param(q, rule[0] != '\0' ? rule : NULL, strlen(rule));
}

/*
 * The handle a signed-in user's reads and own actions use: auditors
 * through their read-only role, operators through pc_payments, admins
 * through pc_auth.
 */
const char *
pc_req_db(const struct pc_req *r)
{
	if (strcmp(r->s.role, "auditor") == 0)
		return (PC_DB_AUDITOR);
	if (strcmp(r->s.role, "operator") == 0)
		return (PC_DB_PAYMENTS);
	return (PC_DB_AUTH);
}
