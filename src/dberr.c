/*
 * dberr.c: SQLSTATE to answer (dberr.h).
 */
#include <string.h>

#include "dberr.h"

static const struct pc_dberr pc_dberr_table[] = {
	{ "PCA01", 401, "unauthenticated", "Sign in first." },
	{ "PCA02", 403, "reauth_required",
	    "Confirm your password and one-time code first." },
	{ "PCA03", 403, "forbidden", "Your role does not allow this." },
	{ "PCA04", 403, "self_forbidden",
	    "Nobody acts on their own account or their own action here." },
	{ "PCA05", 404, "not_found", "No such resource." },
	{ "PCA06", 409, "approval_not_pending",
	    "This request has already been decided." },
	{ "PCA07", 409, "approval_expired", "This request has expired." },
	{ "PCA08", 409, "operation_mismatch",
	    "This is not the operation that was requested; reload it." },
	{ "PCA09", 403, "four_eyes",
	    "A second person decides this: not the requester and not the "
	    "account concerned." },
	{ "PCA10", 403, "password_change_required",
	    "Change your password first." },
	{ "PCA11", 409, "approval_pending",
	    "A request for this is already waiting for approval." },
	{ "PCA12", 409, "refund_exceeds_captured",
	    "Refunds cannot exceed the captured amount." },
	{ "PCA13", 409, "invalid_transition",
	    "The transaction cannot change this way now." },
	{ "PCA14", 409, "conflict",
	    "This conflicts with the current state (a name in use, or "
	    "nothing to change)." },
	{ "23505", 409, "conflict",
	    "This conflicts with the current state (a name in use, or "
	    "nothing to change)." },
	{ "23514", 400, "invalid_request", "A field is not acceptable." },
	{ "22023", 400, "invalid_request", "A field is not acceptable." },
	{ "22P02", 400, "invalid_request", "A field is not acceptable." },
};

static const struct pc_dberr pc_dberr_unavailable = {
	NULL, 503, "unavailable", "The service is temporarily unavailable."
};

const struct pc_dberr *
pc_dberr_lookup(const char *sqlstate)
{
	size_t	i;

	if (sqlstate == NULL)
		return (&pc_dberr_unavailable);
	for (i = 0; i < sizeof(pc_dberr_table) / sizeof(pc_dberr_table[0]);
	    i++) {
		if (strcmp(pc_dberr_table[i].sqlstate, sqlstate) == 0)
			return (&pc_dberr_table[i]);
	}
	return (&pc_dberr_unavailable);
}
