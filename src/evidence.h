/*
 * evidence.h: the evidence bundle of payconsole-admin (issue 16, part
 * 6): a deterministic ustar archive of what an assessor asks for over
 * a period of site-local days.
 */
#ifndef PC_EVIDENCE_H
#define PC_EVIDENCE_H

#include <libpq-fe.h>

#include "bundle.h"
#include "policy.h"

struct pc_evidence {
	PGconn				*db;	/* pc_auditor (read-only) */
	PGconn				*owner;	/* pc_owner: migrations only */
	const struct pc_policy		*policy;
	const char			*policy_path;
	struct pc_bundle_period		 period;
	const char			*out;

	/* Results. */
	char				 sha256[PC_BUNDLE_SHA_HEX];
	int				 open_period;	/* not over yet */
	long long			 events;
	char				 err[512];
};

/*
 * Writes ev->out, never over an existing file: every part in a
 * temporary file, the archive beside out, fsynced, then linked into
 * place. 0, or -1 with ev->err and nothing left behind.
 */
int	pc_evidence_write(struct pc_evidence *ev);

#endif
