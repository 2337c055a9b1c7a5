/*
 * payments.c: the payment management screen's API.
 *   GET  /api/transactions             search (keyset pages, masked)
 *   GET  /api/transactions/export      the same search as CSV (capped)
 *   GET  /api/transactions/:id         detail (unmasked for operators,
 *                                      and then audited)
 *   POST /api/transactions/:id/capture, /cancel, /refunds
 * Operations are one call of payments.operate(): idempotency key, version
 * check, state change, refund row and audit record in one transaction,
 * as the session's operator (migrations/016_approvals_and_enrolment.sql).
 * A refund above refund_approval_threshold becomes a request another
 * operator approves (202). Auditors read through pc_auditor.
 * No text input that holds a card number is accepted anywhere.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "app.h"
#include "cardguard.h"
#include "csvw.h"
#include "cursor.h"
#include "db.h"
#include "http_util.h"
#include "jsonw.h"
#include "mask.h"
#include "qs.h"
#include "request.h"
#include "routes.h"
#include "wipe.h"

#define PC_TXN_LIMIT_MAX	200
#define PC_TXN_EXPORT_CAP	10000
#define PC_TXN_COLUMNS							\
	"id, merchant_order_id, amount, currency, status, card_brand, "	\
	"card_last4, cardholder_name, cardholder_email, "		\
	"extract(epoch FROM created_at)::bigint, "			\
	"extract(epoch FROM updated_at)::bigint, version, "		\
	"(extract(epoch FROM created_at) * 1000000)::bigint, "		\
	"captured_amount, refunded_amount"

/*
 * One fixed query for every combination of filters: an absent filter is
 * NULL and folds away when PostgreSQL plans the statement with the
 * actual parameters, so each shape still uses its index.
 */
static const char pc_txn_search_sql[] =
    "SELECT " PC_TXN_COLUMNS " FROM payments.transactions "
    "WHERE ($1::timestamp IS NULL OR created_at >= ($1::timestamp "
    "AT TIME ZONE $9)) "
    "AND ($2::timestamp IS NULL OR created_at < ($2::timestamp "
    "AT TIME ZONE $9)) "
    "AND ($3::text IS NULL OR status = $3) "
    "AND ($4::text IS NULL OR merchant_order_id LIKE "
    "replace(replace($4, '\\', '\\\\'), '_', '\\_') || '%') "
    "AND ($5::bigint IS NULL OR amount >= $5) "
    "AND ($6::bigint IS NULL OR amount <= $6) "
    "AND ($7::text IS NULL OR card_last4 = $7) "
    "AND ($8::text IS NULL OR card_brand = $8) "
    "AND ($10::bigint IS NULL OR (created_at, id) < "
    "('epoch'::timestamptz + $10::bigint * interval '1 microsecond', "
    "$11::bigint)) "
    "ORDER BY created_at DESC, id DESC LIMIT $12::int";

static const char *const pc_txn_filters[] = { "from", "to", "status",
    "order_prefix", "amount_min", "amount_max", "last4", "brand", "limit",
    "cursor", NULL };

enum pc_txn_kind {
	PC_TXN_SEARCH = 1,
	PC_TXN_EXPORT,
	PC_TXN_DETAIL,
	PC_TXN_CAPTURE,
	PC_TXN_CANCEL,
	PC_TXN_REFUND,
};

struct pc_txn {
	enum pc_txn_kind	kind;
	int			masked;
	struct pc_dbq		q;
	struct pc_dbq		audit;
	struct pc_qs		qs;
	char			cur_us[24], cur_id[24], limit[16];
	char			id[24], version[16];
	char			idem_key[65], req_hash[65];
	char			amount[24], reason[512];
	char			threshold[24], ttl[16];
	char			rows[16];
	char			*details;
	char			*csv;
	size_t			csv_len;
};

static void	pc_txn_free(void *);
static struct pc_txn	*pc_txn_get(struct http_request *);
static int	pc_txn_search_check(struct pc_txn *);
static int	pc_txn_search_prepare(struct http_request *, struct pc_txn *);
static int	pc_txn_search_answer(struct http_request *, struct pc_txn *);
static int	pc_txn_export_answer(struct http_request *, struct pc_txn *);
static int	pc_txn_detail_prepare(struct http_request *, struct pc_txn *);
static int	pc_txn_detail_answer(struct http_request *, struct pc_txn *);
static int	pc_txn_op_key(struct http_request *, struct pc_txn *);
static int	pc_txn_op_version(struct http_request *, struct pc_txn *);
static int	pc_txn_op_refund(struct http_request *, struct pc_txn *,
		    uint8_t *, size_t);
static void	pc_txn_op_digest(struct http_request *, struct pc_txn *,
		    const uint8_t *, size_t);
static int	pc_txn_op_read(struct http_request *, struct pc_txn *);
static int	pc_txn_op_prepare(struct http_request *, struct pc_txn *);
static int	pc_txn_op_answer(struct http_request *, struct pc_txn *);
static void	pc_txn_param_caller(struct pc_txn *, struct pc_req *);
static void	pc_txn_json_num(struct pc_jsonw *, const char *, PGresult *,
		    int, int);
static void	pc_txn_row_json(struct pc_jsonw *, const char *, PGresult *,
		    int, int);
static int	pc_txn_digits(const char *, size_t);
static int	pc_txn_one_of(const char *, const char *const *);
static void	pc_txn_hex(const uint8_t *, size_t, char *);
static int	pc_txn_audit_read(struct http_request *, struct pc_txn *);
static int	pc_txn(struct http_request *, enum pc_txn_kind);

static int	pc_txn_step_prepare(struct http_request *);
static int	pc_txn_step_query(struct http_request *);
static int	pc_txn_step_answer(struct http_request *);
static int	pc_txn_step_record(struct http_request *);
static int	pc_txn_step_send(struct http_request *);

/*
 * One request: its query, the answer (a detail or an operation is sent
 * here), the search or export recorded, the held answer sent.
 */
enum pc_txn_step {
	PC_TXN_S_PREPARE = 0,
	PC_TXN_S_QUERY,
	PC_TXN_S_ANSWER,
	PC_TXN_S_RECORD,
	PC_TXN_S_SEND,
};

static struct http_state pc_txn_states[] = {
	[PC_TXN_S_PREPARE] = KORE_HTTP_STATE(pc_txn_step_prepare),
	[PC_TXN_S_QUERY] = KORE_HTTP_STATE(pc_txn_step_query),
	[PC_TXN_S_ANSWER] = KORE_HTTP_STATE(pc_txn_step_answer),
	[PC_TXN_S_RECORD] = KORE_HTTP_STATE(pc_txn_step_record),
	[PC_TXN_S_SEND] = KORE_HTTP_STATE(pc_txn_step_send),
};

#define PC_TXN_NSTATES	(sizeof(pc_txn_states) / sizeof(pc_txn_states[0]))

/*
 * What each kind does at the two steps that differ: prepare its query
 * (0 when answered) and answer it (KORE_RESULT_RETRY when the answer is
 * held until the view is recorded).
 */
static const struct {
	int	(*prepare)(struct http_request *, struct pc_txn *);
	int	(*answer)(struct http_request *, struct pc_txn *);
} pc_txn_kinds[] = {
	[PC_TXN_SEARCH] = { pc_txn_search_prepare, pc_txn_search_answer },
	[PC_TXN_EXPORT] = { pc_txn_search_prepare, pc_txn_export_answer },
	[PC_TXN_DETAIL] = { pc_txn_detail_prepare, pc_txn_detail_answer },
	[PC_TXN_CAPTURE] = { pc_txn_op_prepare, pc_txn_op_answer },
	[PC_TXN_CANCEL] = { pc_txn_op_prepare, pc_txn_op_answer },
	[PC_TXN_REFUND] = { pc_txn_op_prepare, pc_txn_op_answer },
};

static void
pc_txn_free(void *arg)
{
	struct pc_txn	*t = arg;

	pc_dbq_cleanup(&t->q);
	pc_dbq_cleanup(&t->audit);
	if (t->csv != NULL) {
		free(t->csv);
		t->csv = NULL;
	}
	if (t->details != NULL) {
		free(t->details);
		t->details = NULL;
	}
}

static struct pc_txn *
pc_txn_get(struct http_request *req)
{
	return (pc_req_handler_state(req, sizeof(struct pc_txn), pc_txn_free));
}

/* 1 when s is one of the NULL-terminated list. */
static int
pc_txn_one_of(const char *s, const char *const *list)
{
	size_t	i;

	for (i = 0; list[i] != NULL; i++) {
		if (strcmp(s, list[i]) == 0)
			return (1);
	}
	return (0);
}

static int
pc_txn_digits(const char *s, size_t max)
{
	size_t	i;

	if (s == NULL || s[0] == '\0' || strlen(s) > max)
		return (0);
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9')
			return (0);
	}
	return (1);
}

/* h[0..len) as lower-case hex into out (2 * len + 1 bytes). */
static void
pc_txn_hex(const uint8_t *h, size_t len, char *out)
{
	size_t	i;

	for (i = 0; i < len; i++)
		(void)snprintf(out + 2 * i, 3, "%02x", h[i]);
}

/* The filters' values, each of its own form; 0 when one is not. */
static int
pc_txn_search_check(struct pc_txn *t)
{
	static const char *const statuses[] = { "authorized", "captured",
	    "cancelled", "partially_refunded", "refunded", "failed", NULL };
	static const char *const brands[] = { "visa", "mastercard", "jcb",
	    "amex", "diners", "discover", NULL };
	static const char *const times[] = { "from", "to" };
	static const char *const amounts[] = { "amount_min", "amount_max" };
	const char	*v;
	size_t		i, k;

	for (i = 0; i < 2; i++) {
		v = pc_qs_get(&t->qs, times[i]);
		if (v != NULL && !pc_qs_local_time(v))
			return (0);
	}
	if ((v = pc_qs_get(&t->qs, "status")) != NULL &&
	    !pc_txn_one_of(v, statuses))
		return (0);
	if ((v = pc_qs_get(&t->qs, "brand")) != NULL &&
	    !pc_txn_one_of(v, brands))
		return (0);
	if ((v = pc_qs_get(&t->qs, "order_prefix")) != NULL) {
		for (k = 0; v[k] != '\0'; k++) {
			if (!((v[k] >= 'A' && v[k] <= 'Z') ||
			    (v[k] >= 'a' && v[k] <= 'z') ||
			    (v[k] >= '0' && v[k] <= '9') || v[k] == '.' ||
			    v[k] == '_' || v[k] == '-') || k >= 64)
				return (0);
		}
	}
	for (i = 0; i < 2; i++) {
		if ((v = pc_qs_get(&t->qs, amounts[i])) != NULL &&
		    !pc_txn_digits(v, 18))
			return (0);
	}
	if ((v = pc_qs_get(&t->qs, "last4")) != NULL &&
	    (!pc_txn_digits(v, 4) || strlen(v) != 4))
		return (0);
	return (1);
}

/* Validate the filters and bind them; 0 when answered with 400. */
static int
pc_txn_search_prepare(struct http_request *req, struct pc_txn *t)
{
	const char	*v, *names[] = { "from", "to", "status", "order_prefix",
			    "amount_min", "amount_max", "last4", "brand" };
	int64_t		cur_us, cur_id;
	size_t		i;
	long		lim;

	if (pc_qs_parse(&t->qs, req->query_string, pc_txn_filters) == -1 ||
	    !pc_txn_search_check(t))
		goto bad;

	lim = 50;
	if ((v = pc_qs_get(&t->qs, "limit")) != NULL) {
		if (!pc_txn_digits(v, 3) || (lim = strtol(v, NULL, 10)) < 1 ||
		    lim > PC_TXN_LIMIT_MAX)
			goto bad;
	}
	if (t->kind == PC_TXN_EXPORT)
		lim = PC_TXN_EXPORT_CAP;
	/* One row more than asked tells whether there is a next page. */
	(void)snprintf(t->limit, sizeof(t->limit), "%ld", lim + 1);

	t->cur_us[0] = t->cur_id[0] = '\0';
	if ((v = pc_qs_get(&t->qs, "cursor")) != NULL) {
		if (pc_cursor_decode(v, &cur_us, &cur_id) == -1)
			goto bad;
		(void)snprintf(t->cur_us, sizeof(t->cur_us), "%" PRId64,
		    cur_us);
		(void)snprintf(t->cur_id, sizeof(t->cur_id), "%" PRId64,
		    cur_id);
	}

	/*
	 * No card number enters a search, a log or the audit trail. After
	 * the numbers are checked as numbers, so that a huge limit is a bad
	 * number, not a card number.
	 */
	for (i = 0; i < t->qs.n; i++) {
		if (!pc_req_no_card(req, t->qs.value[i],
		    strlen(t->qs.value[i])))
			return (0);
	}

	pc_dbq_init(&t->q, strcmp(pc_req_get(req)->s.role, "auditor") == 0 ?
	    PC_DB_AUDITOR : PC_DB_PAYMENTS, pc_txn_search_sql);
	for (i = 0; i < 8; i++) {
		v = pc_qs_get(&t->qs, names[i]);
		pc_dbq_param(&t->q, v, v != NULL ? strlen(v) : 0);
	}
	pc_dbq_param(&t->q, pc_policy.timezone, strlen(pc_policy.timezone));
	pc_dbq_param(&t->q, t->cur_us[0] ? t->cur_us : NULL,
	    strlen(t->cur_us));
	pc_dbq_param(&t->q, t->cur_id[0] ? t->cur_id : NULL,
	    strlen(t->cur_id));
	pc_dbq_param(&t->q, t->limit, strlen(t->limit));
	return (1);

bad:
	pc_http_error(req, 400, "invalid_request",
	    "A filter is not acceptable.");
	return (0);
}

/* A bigint column as a JSON number. */
static void
pc_txn_json_num(struct pc_jsonw *w, const char *key, PGresult *res,
    int row, int col)
{
	pc_jsonw_int(w, key, strtoll(PQgetvalue(res, row, col), NULL, 10));
}

static void
pc_txn_row_json(struct pc_jsonw *w, const char *key, PGresult *res, int row,
    int masked)
{
	char	name[512], email[512];
	int	n;

	pc_jsonw_object_open(w, key);
	pc_txn_json_num(w, "id", res, row, 0);
	pc_jsonw_string(w, "merchant_order_id", PQgetvalue(res, row, 1));
	pc_txn_json_num(w, "amount", res, row, 2);
	pc_jsonw_string(w, "currency", PQgetvalue(res, row, 3));
	pc_jsonw_string(w, "status", PQgetvalue(res, row, 4));
	pc_jsonw_string(w, "card_brand", PQgetvalue(res, row, 5));
	pc_jsonw_string(w, "card_last4", PQgetvalue(res, row, 6));
	if (masked) {
		n = pc_mask_name(PQgetvalue(res, row, 7),
		    (size_t)PQgetlength(res, row, 7), name, sizeof(name));
		pc_jsonw_string(w, "cardholder_name", n < 0 ? "***" : name);
		n = pc_mask_email(PQgetvalue(res, row, 8),
		    (size_t)PQgetlength(res, row, 8), email, sizeof(email));
		pc_jsonw_string(w, "cardholder_email", n < 0 ? "***" : email);
	} else {
		pc_jsonw_string(w, "cardholder_name", PQgetvalue(res, row, 7));
		pc_jsonw_string(w, "cardholder_email", PQgetvalue(res, row, 8));
	}
	pc_txn_json_num(w, "created_at", res, row, 9);
	pc_txn_json_num(w, "updated_at", res, row, 10);
	pc_txn_json_num(w, "version", res, row, 11);
	pc_txn_json_num(w, "captured_amount", res, row, 13);
	pc_txn_json_num(w, "refunded_amount", res, row, 14);
	pc_jsonw_object_close(w);
}

static int
pc_txn_search_answer(struct http_request *req, struct pc_txn *t)
{
	struct pc_jsonw		w;
	PGresult		*res;
	char			*out, cur[PC_CURSOR_MAX];
	size_t			len;
	int			i, rows, want;

	res = t->q.result;
	/* NOLINTNEXTLINE(cert-err34-c): our own "%ld" of a checked 1..201 */
	want = atoi(t->limit) - 1;
	rows = PQntuples(res);

	pc_jsonw_init(&w);
	pc_jsonw_object_open(&w, NULL);
	pc_jsonw_array_open(&w, "transactions");
	for (i = 0; i < rows && i < want; i++)
		pc_txn_row_json(&w, NULL, res, i, 1);
	pc_jsonw_array_close(&w);
	if (rows > want && want > 0) {
		(void)pc_cursor_encode(
		    strtoll(PQgetvalue(res, want - 1, 12), NULL, 10),
		    strtoll(PQgetvalue(res, want - 1, 0), NULL, 10), cur);
		pc_jsonw_string(&w, "next_cursor", cur);
	} else {
		pc_jsonw_null(&w, "next_cursor");
	}
	pc_jsonw_object_close(&w);

	if ((out = pc_jsonw_finish(&w, &len)) == NULL) {
		pc_http_error(req, 500, "internal", "Internal error.");
		return (KORE_RESULT_OK);
	}
	/* Held until the search is recorded (pc_txn_audit_read). */
	t->csv = out;
	t->csv_len = len;
	(void)snprintf(t->rows, sizeof(t->rows), "%d",
	    rows < want ? rows : want);
	return (KORE_RESULT_RETRY);
}

/*
 * Searches and exports are recorded before their answer leaves: who,
 * which filters (already free of card numbers), how many rows. 0 when
 * answered with an error.
 */
static int
pc_txn_audit_read(struct http_request *req, struct pc_txn *t)
{
	struct pc_req		*r;
	struct pc_jsonw		w;
	size_t			i, len;
	const char		*event;

	r = pc_req_get(req);
	pc_jsonw_init(&w);
	pc_jsonw_object_open(&w, NULL);
	/* NOLINTNEXTLINE(cert-err34-c): our own "%d" of a row count */
	pc_jsonw_int(&w, "rows", atoi(t->rows));
	pc_jsonw_object_open(&w, "filters");
	for (i = 0; i < t->qs.n; i++) {
		if (strcmp(t->qs.name[i], "cursor") == 0)
			pc_jsonw_bool(&w, "next_page", 1);
		else if (t->qs.value[i][0] != '\0')
			pc_jsonw_string(&w, t->qs.name[i], t->qs.value[i]);
	}
	pc_jsonw_object_close(&w);
	pc_jsonw_object_close(&w);
	if ((t->details = pc_jsonw_finish(&w, &len)) == NULL) {
		pc_http_error(req, 500, "internal", "Internal error.");
		return (0);
	}

	event = t->kind == PC_TXN_EXPORT ? "transactions.exported" :
	    "transactions.searched";
	pc_req_record(&t->audit, r, PC_DB_PAYMENTS, event,
	    "payments.transactions", "success", t->details, len, "");
	return (1);
}

/* CSV: masked, neutralised against formula injection, capped. */
static int
pc_txn_export_answer(struct http_request *req, struct pc_txn *t)
{
	static const char *const head[] = { "id", "merchant_order_id",
	    "amount", "currency", "status", "card_brand", "card_last4",
	    "cardholder_name", "cardholder_email", "created_at" };
	struct pc_csvw		c;
	PGresult		*res;
	char			buf[512];
	size_t			i;
	int			r, rows, n;

	res = t->q.result;
	rows = PQntuples(res);
	if (rows > PC_TXN_EXPORT_CAP)
		rows = PC_TXN_EXPORT_CAP;

	pc_csvw_init(&c);
	for (i = 0; i < sizeof(head) / sizeof(head[0]); i++)
		pc_csvw_field(&c, head[i], strlen(head[i]));
	pc_csvw_endrow(&c);
	for (r = 0; r < rows; r++) {
		pc_csvw_int(&c, strtoll(PQgetvalue(res, r, 0), NULL, 10));
		pc_csvw_field(&c, PQgetvalue(res, r, 1),
		    (size_t)PQgetlength(res, r, 1));
		pc_csvw_int(&c, strtoll(PQgetvalue(res, r, 2), NULL, 10));
		for (i = 3; i <= 6; i++)
			pc_csvw_field(&c, PQgetvalue(res, r, (int)i),
			    (size_t)PQgetlength(res, r, (int)i));
		n = pc_mask_name(PQgetvalue(res, r, 7),
		    (size_t)PQgetlength(res, r, 7), buf, sizeof(buf));
		pc_csvw_field(&c, n < 0 ? "***" : buf, n < 0 ? 3 : (size_t)n);
		n = pc_mask_email(PQgetvalue(res, r, 8),
		    (size_t)PQgetlength(res, r, 8), buf, sizeof(buf));
		pc_csvw_field(&c, n < 0 ? "***" : buf, n < 0 ? 3 : (size_t)n);
		pc_csvw_int(&c, strtoll(PQgetvalue(res, r, 9), NULL, 10));
		pc_csvw_endrow(&c);
	}
	if ((t->csv = pc_csvw_finish(&c, &t->csv_len)) == NULL) {
		pc_csvw_free(&c);
		pc_http_error(req, 500, "internal", "Internal error.");
		return (KORE_RESULT_OK);
	}
	(void)snprintf(t->rows, sizeof(t->rows), "%d", rows);
	return (KORE_RESULT_RETRY);
}

/* Auditors read the row masked; an operator's view is recorded. */
static int
pc_txn_detail_prepare(struct http_request *req, struct pc_txn *t)
{
	if (t->masked) {
		pc_dbq_init(&t->q, PC_DB_AUDITOR, "SELECT " PC_TXN_COLUMNS ", "
		    "payments.refund_list(id)::text FROM payments.transactions "
		    "WHERE id = $1::bigint");
		pc_dbq_param(&t->q, t->id, strlen(t->id));
		return (1);
	}
	pc_dbq_init(&t->q, PC_DB_PAYMENTS, "SELECT j->>'id', "
	    "j->>'merchant_order_id', j->>'amount', j->>'currency', "
	    "j->>'status', j->>'card_brand', j->>'card_last4', "
	    "j->>'cardholder_name', j->>'cardholder_email', "
	    "j->>'created_at', j->>'updated_at', j->>'version', 0, "
	    "j->>'captured_amount', j->>'refunded_amount', refunds::text "
	    "FROM payments.view_transaction($1::bytea, $2::inet, $3::bigint) "
	    "AS v(j, refunds)");
	pc_txn_param_caller(t, pc_req_get(req));
	pc_dbq_param(&t->q, t->id, strlen(t->id));
	return (1);
}

/* The caller, as the database functions that act for one take it. */
static void
pc_txn_param_caller(struct pc_txn *t, struct pc_req *r)
{
	pc_dbq_param(&t->q, r->tok, strlen(r->tok));
	pc_dbq_param(&t->q, r->source, strlen(r->source));
}

static int
pc_txn_detail_answer(struct http_request *req, struct pc_txn *t)
{
	struct pc_jsonw		w;
	PGresult		*res;
	char			*out;
	size_t			len;

	res = t->q.result;
	if (PQntuples(res) != 1) {
		pc_http_error(req, 404, "not_found", "No such transaction.");
		return (KORE_RESULT_OK);
	}
	pc_jsonw_init(&w);
	pc_jsonw_object_open(&w, NULL);
	pc_txn_row_json(&w, "transaction", res, 0, t->masked);
	pc_jsonw_raw(&w, "refunds", PQgetvalue(res, 0, 15));
	pc_jsonw_object_close(&w);
	if ((out = pc_jsonw_finish(&w, &len)) == NULL) {
		pc_http_error(req, 500, "internal", "Internal error.");
		return (KORE_RESULT_OK);
	}
	pc_http_json(req, 200, out, len);
	pc_wipe(out, len);
	free(out);
	return (KORE_RESULT_OK);
}

/* The Idempotency-Key header, kept as its SHA-256; 0 when answered. */
static int
pc_txn_op_key(struct http_request *req, struct pc_txn *t)
{
	const char	*key;
	uint8_t		h[32];
	unsigned int	hl;

	if (!http_request_header(req, "idempotency-key", &key) ||
	    strlen(key) < 1 || strlen(key) > 64 ||
	    strspn(key, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789_-") != strlen(key)) {
		pc_http_error(req, 400, "invalid_request",
		    "An Idempotency-Key header (1-64 of A-Z a-z 0-9 _ -) is "
		    "required.");
		return (0);
	}
	/*
	 * A key that is a card number (digits, '-' and '_' only) is
	 * refused. Any other key is an opaque token and not judged: the
	 * digits of a random hex UUID hold a Luhn-valid run 0.7% of the
	 * time. Either way only the key's SHA-256 is stored, so no text of
	 * a key is kept.
	 */
	if (strspn(key, "0123456789_-") == strlen(key) &&
	    !pc_req_no_card(req, key, strlen(key)))
		return (0);
	if (EVP_Digest(key, strlen(key), h, &hl, EVP_sha256(), NULL) != 1)
		fatal("SHA-256 failed");
	pc_txn_hex(h, sizeof(h), t->idem_key);
	return (1);
}

/* The If-Match header: the version the operator saw; 0 when answered. */
static int
pc_txn_op_version(struct http_request *req, struct pc_txn *t)
{
	const char	*match;

	if (!http_request_header(req, "if-match", &match)) {
		pc_http_error(req, 428, "precondition_required",
		    "An If-Match header with the version is required.");
		return (0);
	}
	/* Accept 7 and "7" (an entity tag). */
	if (match[0] == '"' && strlen(match) >= 3 &&
	    match[strlen(match) - 1] == '"') {
		(void)snprintf(t->version, sizeof(t->version), "%.*s",
		    (int)strlen(match) - 2, match + 1);
	} else {
		(void)kore_strlcpy(t->version, match, sizeof(t->version));
	}
	if (!pc_txn_digits(t->version, 9)) {
		pc_http_error(req, 412, "version_mismatch",
		    "The transaction changed; reload it.");
		return (0);
	}
	return (1);
}

/* A refund's amount and reason from body[0..n); 0 when answered. */
static int
pc_txn_op_refund(struct http_request *req, struct pc_txn *t, uint8_t *body,
    size_t n)
{
	struct pc_jsonin	json;
	const char		*r;
	int64_t			a;
	size_t			rlen;
	int			ok;

	ok = 0;
	if (pc_jsonin_parse(&json, body, n) == PC_JSONIN_OK &&
	    pc_jsonin_int(&json, "amount", 1, 999999999999LL, &a) &&
	    (r = pc_jsonin_string(&json, "reason", &rlen)) != NULL &&
	    rlen > 0 && rlen <= 500) {
		(void)snprintf(t->amount, sizeof(t->amount), "%" PRId64, a);
		(void)kore_strlcpy(t->reason, r, sizeof(t->reason));
		ok = 1;
	}
	pc_jsonin_free(&json);
	if (!ok) {
		pc_http_error(req, 400, "invalid_request",
		    "Send amount (a positive integer) and reason.");
		return (0);
	}
	if (!pc_req_no_card(req, t->reason, strlen(t->reason))) {
		pc_wipe(t->reason, sizeof(t->reason));
		return (0);
	}
	return (1);
}

/* Same key, same request: what the request is, as a digest. */
static void
pc_txn_op_digest(struct http_request *req, struct pc_txn *t,
    const uint8_t *body, size_t n)
{
	EVP_MD_CTX	*md;
	uint8_t		h[32];
	unsigned int	hl;

	if ((md = EVP_MD_CTX_new()) == NULL)
		fatal("EVP_MD_CTX_new");
	if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(md, req->path, strlen(req->path) + 1) != 1 ||
	    EVP_DigestUpdate(md, t->version, strlen(t->version) + 1) != 1 ||
	    EVP_DigestUpdate(md, body, n) != 1 ||
	    EVP_DigestFinal_ex(md, h, &hl) != 1)
		fatal("SHA-256 failed");
	EVP_MD_CTX_free(md);
	pc_txn_hex(h, sizeof(h), t->req_hash);
}

/* Headers and body of capture/cancel/refund; 0 when answered. */
static int
pc_txn_op_read(struct http_request *req, struct pc_txn *t)
{
	uint8_t		body[2048];
	ssize_t		n;
	int		ok;

	if (!pc_txn_op_key(req, t) || !pc_txn_op_version(req, t))
		return (0);
	n = http_body_read(req, body, sizeof(body));
	if (n < 0 || req->http_body_length > 0) {
		pc_http_error(req, 400, "invalid_request", "Body too large.");
		return (0);
	}
	t->amount[0] = t->reason[0] = '\0';
	ok = t->kind != PC_TXN_REFUND ||
	    pc_txn_op_refund(req, t, body, (size_t)n);
	if (ok)
		pc_txn_op_digest(req, t, body, (size_t)n);
	pc_wipe(body, sizeof(body));
	return (ok);
}

/*
 * One call of payments.operate(). A refund above the threshold waits
 * for another operator (202).
 */
static int
pc_txn_op_prepare(struct http_request *req, struct pc_txn *t)
{
	const char	*op;

	if (!pc_txn_op_read(req, t))
		return (0);
	op = t->kind == PC_TXN_CAPTURE ? "capture" :
	    t->kind == PC_TXN_CANCEL ? "cancel" : "refund";
	(void)snprintf(t->threshold, sizeof(t->threshold), "%u",
	    pc_policy.refund_approval_threshold);
	(void)snprintf(t->ttl, sizeof(t->ttl), "%u",
	    pc_policy.approval_ttl_seconds);
	pc_dbq_init(&t->q, PC_DB_PAYMENTS, "SELECT status, body::text FROM "
	    "payments.operate($1::bytea, $2::inet, $3, $4::bigint, $5::int, "
	    "$6, $7, $8::bigint, $9, $10::bigint, $11::int)");
	pc_txn_param_caller(t, pc_req_get(req));
	pc_dbq_param(&t->q, op, strlen(op));
	pc_dbq_param(&t->q, t->id, strlen(t->id));
	pc_dbq_param(&t->q, t->version, strlen(t->version));
	pc_dbq_param(&t->q, t->idem_key, strlen(t->idem_key));
	pc_dbq_param(&t->q, t->req_hash, strlen(t->req_hash));
	pc_dbq_param(&t->q, t->amount[0] ? t->amount : NULL,
	    strlen(t->amount));
	pc_dbq_param(&t->q, t->reason[0] ? t->reason : NULL,
	    strlen(t->reason));
	pc_dbq_param(&t->q, t->threshold, strlen(t->threshold));
	pc_dbq_param(&t->q, t->ttl, strlen(t->ttl));
	return (1);
}

/* payments.operate() chose the status and wrote the body. */
static int
pc_txn_op_answer(struct http_request *req, struct pc_txn *t)
{
	PGresult	*res;

	res = t->q.result;
	if (PQntuples(res) != 1) {
		pc_http_error(req, 503, "unavailable",
		    "The service is temporarily unavailable.");
		return (KORE_RESULT_OK);
	}
	/* NOLINTNEXTLINE(cert-err34-c): status from our own SQL function (007_payment_ops.sql) */
	pc_http_json(req, atoi(PQgetvalue(res, 0, 0)), PQgetvalue(res, 0, 1),
	    (size_t)PQgetlength(res, 0, 1));
	return (KORE_RESULT_OK);
}

static int
pc_txn_step_prepare(struct http_request *req)
{
	struct pc_txn	*t;

	t = pc_txn_get(req);
	if (!pc_txn_kinds[t->kind].prepare(req, t))
		return (HTTP_STATE_COMPLETE);
	return (pc_req_step(req, PC_TXN_S_QUERY));
}

static int
pc_txn_step_query(struct http_request *req)
{
	return (pc_req_wait(req, &pc_txn_get(req)->q, PC_TXN_S_ANSWER));
}

/* A detail or an operation is answered; a search or export is held. */
static int
pc_txn_step_answer(struct http_request *req)
{
	struct pc_txn	*t;

	t = pc_txn_get(req);
	if (pc_txn_kinds[t->kind].answer(req, t) != KORE_RESULT_RETRY ||
	    !pc_txn_audit_read(req, t))
		return (HTTP_STATE_COMPLETE);
	return (pc_req_step(req, PC_TXN_S_RECORD));
}

static int
pc_txn_step_record(struct http_request *req)
{
	return (pc_req_wait(req, &pc_txn_get(req)->audit, PC_TXN_S_SEND));
}

static int
pc_txn_step_send(struct http_request *req)
{
	struct pc_txn	*t;

	t = pc_txn_get(req);
	if (t->kind == PC_TXN_SEARCH) {
		pc_http_json(req, 200, t->csv, t->csv_len);
		return (HTTP_STATE_COMPLETE);
	}
	http_response_header(req, "content-type", "text/csv; charset=utf-8");
	http_response_header(req, "content-disposition",
	    "attachment; filename=\"transactions.csv\"");
	http_response_header(req, "x-row-cap", "10000");
	http_response_header(req, "x-rows", t->rows);
	http_response(req, 200, t->csv, t->csv_len);
	return (HTTP_STATE_COMPLETE);
}

static int
pc_txn(struct http_request *req, enum pc_txn_kind kind)
{
	struct pc_txn	*t;

	t = pc_txn_get(req);
	t->kind = kind;
	t->masked = strcmp(pc_req_get(req)->s.role, "operator") != 0;
	(void)snprintf(t->id, sizeof(t->id), "%" PRId64,
	    pc_req_get(req)->path_id);
	return (http_state_run(pc_txn_states, PC_TXN_NSTATES, req));
}

int
pc_h_txn_search(struct http_request *req)
{
	return (pc_txn(req, PC_TXN_SEARCH));
}

int
pc_h_txn_export(struct http_request *req)
{
	return (pc_txn(req, PC_TXN_EXPORT));
}

int
pc_h_txn_detail(struct http_request *req)
{
	return (pc_txn(req, PC_TXN_DETAIL));
}

int
pc_h_txn_capture(struct http_request *req)
{
	return (pc_txn(req, PC_TXN_CAPTURE));
}

int
pc_h_txn_cancel(struct http_request *req)
{
	return (pc_txn(req, PC_TXN_CANCEL));
}

int
pc_h_txn_refund(struct http_request *req)
{
	return (pc_txn(req, PC_TXN_REFUND));
}
