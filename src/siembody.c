/*
 * siembody.c: an audit event as the JSON body of its SIEM message, with
 * personal data masked (pure, no Kore headers).
 *
 * What leaves for the collector, and how:
 *   actor_name        masked as a name ("a***"); actor_id stays, so the
 *                     SIEM correlates by id and a console user resolves
 *                     it;
 *   target            masked as a name unless it is digits (an id) or
 *                     the event's family never targets a person
 *                     (pc_siembody_id_families): fail closed for event
 *                     types added later;
 *   source            kept: the origin of the event, PCI DSS 10.2.2;
 *   details           every string under a name or e-mail member
 *                     (pc_siembody_keys) masked, at any depth; any other
 *                     string that holds a candidate card number is
 *                     replaced; details that cannot be parsed (or are
 *                     larger than jsonin.c takes) are left out, marked.
 * Passwords, TOTP codes and session tokens are never in the trail.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cardguard.h"
#include "jsonin.h"
#include "jsonw.h"
#include "mask.h"
#include "siembody.h"

#define PC_SIEMBODY_MASK_MAX	1024
#define PC_SIEMBODY_CARD	"[card number removed]"
#define PC_SIEMBODY_DUMP	(JSON_COMPACT | JSON_PRESERVE_ORDER)

enum pc_siembody_kind {
	PC_SIEMBODY_KEEP = 0,
	PC_SIEMBODY_NAME,
	PC_SIEMBODY_EMAIL,
};

/* Members of details that hold personal data (meta.personal_data). */
static const struct {
	const char		*key;
	enum pc_siembody_kind	 kind;
} pc_siembody_keys[] = {
	{ "username",		PC_SIEMBODY_NAME },
	{ "name",		PC_SIEMBODY_NAME },
	{ "display_name",	PC_SIEMBODY_NAME },
	{ "actor_name",		PC_SIEMBODY_NAME },
	{ "requested_name",	PC_SIEMBODY_NAME },
	{ "decided_name",	PC_SIEMBODY_NAME },
	{ "cardholder_name",	PC_SIEMBODY_NAME },
	{ "comment",		PC_SIEMBODY_NAME },
	{ "email",		PC_SIEMBODY_EMAIL },
	{ "cardholder_email",	PC_SIEMBODY_EMAIL },
};

/* Event families whose target is an id, a rule, a file: never a person. */
static const char *const pc_siembody_id_families[] = {
	"payment.", "payments.", "refund.", "audit.", "alert.", "alerts.",
	"control.", "server.", "policy.", "checkpoint.", "review.",
	"reviews.", "inventory.", "approval.", "approvals.",
};

static enum pc_siembody_kind pc_siembody_key_kind(const char *);
/* One container being walked: an object's next member, an array's. */
struct pc_siembody_frame {
	json_t			*v;
	void			*iter;
	size_t			 i;
	enum pc_siembody_kind	 kind;
};

static int	pc_siembody_walk(json_t *);
static void	pc_siembody_push(struct pc_siembody_frame *, size_t *,
		    json_t *, enum pc_siembody_kind);
static void	pc_siembody_string(json_t *, enum pc_siembody_kind);
static char	*pc_siembody_details(const char *);
static void	pc_siembody_masked(struct pc_jsonw *, const char *,
		    const char *);

static enum pc_siembody_kind
pc_siembody_key_kind(const char *key)
{
	size_t	i;

	for (i = 0; i < sizeof(pc_siembody_keys) /
	    sizeof(pc_siembody_keys[0]); i++) {
		if (strcmp(pc_siembody_keys[i].key, key) == 0)
			return (pc_siembody_keys[i].kind);
	}
	return (PC_SIEMBODY_KEEP);
}

/* One string value, masked as kind says, or without a card number. */
static void
pc_siembody_string(json_t *s, enum pc_siembody_kind kind)
{
	char		out[PC_SIEMBODY_MASK_MAX];
	const char	*v;
	size_t		len;
	int		n;

	v = json_string_value(s);
	len = json_string_length(s);
	if (kind == PC_SIEMBODY_KEEP) {
		if (pc_cardguard_find(v, len))
			(void)json_string_set(s, PC_SIEMBODY_CARD);
		return;
	}
	n = kind == PC_SIEMBODY_EMAIL ? pc_mask_email(v, len, out,
	    sizeof(out)) : pc_mask_name(v, len, out, sizeof(out));
	(void)json_string_set(s, n == -1 ? "***" : out);
}

/*
 * Every string under root, without recursion: a stack of the containers
 * being walked (jsonin.c bounds their depth). A member's kind is what its
 * name says it holds; an array's elements take the array's. 0, or -1
 * when deeper than the stack (then nothing of it may leave).
 */
static int
pc_siembody_walk(json_t *root)
{
	struct pc_siembody_frame	st[PC_JSONIN_MAX_DEPTH + 1];
	struct pc_siembody_frame	*f;
	enum pc_siembody_kind		kind;
	json_t				*m;
	size_t				n;

	n = 0;
	pc_siembody_push(st, &n, root, PC_SIEMBODY_KEEP);
	while (n > 0) {
		f = &st[n - 1];
		if (json_is_object(f->v)) {
			if (f->iter == NULL) {
				n--;
				continue;
			}
			m = json_object_iter_value(f->iter);
			kind = pc_siembody_key_kind(
			    json_object_iter_key(f->iter));
			f->iter = json_object_iter_next(f->v, f->iter);
		} else {
			if (f->i >= json_array_size(f->v)) {
				n--;
				continue;
			}
			m = json_array_get(f->v, f->i++);
			kind = f->kind;
		}
		if (json_is_string(m))
			pc_siembody_string(m, kind);
		else if (json_is_object(m) || json_is_array(m)) {
			if (n == sizeof(st) / sizeof(st[0]))
				return (-1);
			pc_siembody_push(st, &n, m, kind);
		}
	}
	return (0);
}

/* A container onto the walk's stack (the caller checked the room). */
static void
pc_siembody_push(struct pc_siembody_frame *st, size_t *n, json_t *v,
    enum pc_siembody_kind kind)
{
	st[*n].v = v;
	st[*n].iter = json_is_object(v) ? json_object_iter(v) : NULL;
	st[*n].i = 0;
	st[*n].kind = kind;
	(*n)++;
}

/* The details masked, compact; NULL when they cannot be read. */
static char *
pc_siembody_details(const char *details)
{
	struct pc_jsonin	in;
	char			*out;
	size_t			n;

	if (details == NULL || pc_jsonin_parse(&in, details,
	    strlen(details)) != PC_JSONIN_OK)
		return (NULL);
	if (pc_siembody_walk(in.root) == -1) {
		pc_jsonin_free(&in);
		return (NULL);
	}
	/* Into our own buffer: jansson's would need jsonin.c's free. */
	out = NULL;
	n = json_dumpb(in.root, NULL, 0, PC_SIEMBODY_DUMP);
	if (n > 0 && (out = malloc(n + 1)) != NULL) {
		if (json_dumpb(in.root, out, n, PC_SIEMBODY_DUMP) != n) {
			free(out);
			out = NULL;
		} else
			out[n] = '\0';
	}
	pc_jsonin_free(&in);
	return (out);
}

/* A name, masked; null stays null. */
static void
pc_siembody_masked(struct pc_jsonw *w, const char *key, const char *v)
{
	char	out[PC_SIEMBODY_MASK_MAX];

	if (v == NULL) {
		pc_jsonw_null(w, key);
		return;
	}
	if (pc_mask_name(v, strlen(v), out, sizeof(out)) == -1)
		(void)strcpy(out, "***");
	pc_jsonw_string(w, key, out);
}

int
pc_siembody_target_personal(const char *event, const char *target)
{
	size_t	i, n;

	if (target == NULL || *target == '\0' ||
	    strspn(target, "0123456789") == strlen(target))
		return (0);
	for (i = 0; i < sizeof(pc_siembody_id_families) /
	    sizeof(pc_siembody_id_families[0]); i++) {
		n = strlen(pc_siembody_id_families[i]);
		if (event != NULL &&
		    strncmp(event, pc_siembody_id_families[i], n) == 0)
			return (0);
	}
	return (1);
}

char *
pc_siembody_json(const struct pc_siembody_event *ev, size_t *len)
{
	struct pc_jsonw		w;
	char			*details;

	details = pc_siembody_details(ev->details);
	pc_jsonw_init(&w);
	pc_jsonw_object_open(&w, NULL);
	pc_jsonw_int(&w, "id", ev->id);
	pc_jsonw_int(&w, "seq", ev->seq);
	pc_jsonw_string(&w, "at", ev->at);
	if (ev->actor_id == NULL)
		pc_jsonw_null(&w, "actor_id");
	else
		pc_jsonw_int(&w, "actor_id", strtoll(ev->actor_id, NULL, 10));
	pc_siembody_masked(&w, "actor_name", ev->actor_name);
	pc_jsonw_string(&w, "actor_role", ev->actor_role);
	pc_jsonw_string(&w, "source", ev->source);
	pc_jsonw_string(&w, "event", ev->event);
	if (pc_siembody_target_personal(ev->event, ev->target))
		pc_siembody_masked(&w, "target", ev->target);
	else
		pc_jsonw_string(&w, "target", ev->target);
	pc_jsonw_string(&w, "outcome", ev->outcome);
	if (details != NULL)
		pc_jsonw_raw(&w, "details", details);
	else
		pc_jsonw_raw(&w, "details", "{\"unreadable\":true}");
	pc_jsonw_object_close(&w);
	free(details);
	return (pc_jsonw_finish(&w, len));
}
