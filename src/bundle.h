/*
 * bundle.h: the evidence bundle's pure parts (issue 16, part 6): the
 * period, the files and what each evidences, and index.json.
 */
#ifndef PC_BUNDLE_H
#define PC_BUNDLE_H

#include <stddef.h>
#include <stdint.h>

/* A period is at most this many site-local days, both ends included. */
#define PC_BUNDLE_MAX_DAYS	400
#define PC_BUNDLE_SHA_HEX	65

struct pc_bundle_period {
	char		from[11], to[11];	/* YYYY-MM-DD */
	int64_t		days;			/* to - from + 1 */
};

/* A PPC finding of REQUIREMENTS.md: "PPC-n", n its row in the table. */
struct pc_bundle_finding {
	const char	*id;
	const char	*finding;
};

#define PC_BUNDLE_REFS	8

/* One file of the bundle and what it is evidence of. */
struct pc_bundle_file {
	const char	*name;
	const char	*what;
	const char	*findings[PC_BUNDLE_REFS];	/* NULL-terminated */
	const char	*pci_dss[PC_BUNDLE_REFS];	/* NULL-terminated */
};

/* A file as written: its table entry, size and SHA-256 (hex). */
struct pc_bundle_entry {
	const struct pc_bundle_file	*file;
	uint64_t			 size;
	char				 sha256[PC_BUNDLE_SHA_HEX];
};

/*
 * --from and --to: real calendar dates, from <= to, at most
 * PC_BUNDLE_MAX_DAYS days. 0, or -1 with a reason in err.
 */
int	pc_bundle_period(struct pc_bundle_period *p, const char *from,
	    const char *to, char *err, size_t errlen);

/* Days since 1970-01-01 of a valid "YYYY-MM-DD", or INT64_MIN. */
int64_t	pc_bundle_day(const char *date);

const struct pc_bundle_finding	*pc_bundle_findings(size_t *n);
const struct pc_bundle_file	*pc_bundle_files(size_t *n);

/*
 * index.json for the entries (in the table's order), the period and
 * its time zone: a malloc'ed, NUL-terminated text, or NULL.
 */
char	*pc_bundle_index(const struct pc_bundle_period *p, const char *tz,
	    const struct pc_bundle_entry *e, size_t n, size_t *len);

#endif
