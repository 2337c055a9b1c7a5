/*
 * ckpt.h: signed checkpoints of the audit chain (pure).
 *
 * A checkpoint says, under an Ed25519 signature made with a key kept
 * outside the database: "checkpoint seq: the chain's head after event
 * last_event was head, at time at; the checkpoint before was prev".
 *
 * The signed message is exactly these bytes, no spaces, no newline:
 *   {"seq":S,"last_event":E,"head":"H","at":T,"prev":"P"}
 * S >= 1, E >= 0 and T (Unix seconds) >= 0 in decimal without leading
 * zeros; H the chain hash after event E (64 lower-case hex digits,
 * all zero when the chain is empty); P the SHA-256 of the previous
 * checkpoint's message (all zero for checkpoint 1).
 *
 * The checkpoint file holds one line per checkpoint, the message with
 * two more fields before its closing brace:
 *   {"seq":S,"last_event":E,"head":"H","at":T,"prev":"P","key":"K",
 *    "sig":"G"}                                    (one line, no blank)
 * K the SHA-256 of the public key's DER SubjectPublicKeyInfo
 * (`openssl pkey -pubin -outform DER | sha256sum`), G the 64-byte
 * Ed25519 signature of the message, 128 lower-case hex digits.
 */
#ifndef PC_CKPT_H
#define PC_CKPT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <openssl/evp.h>

#define PC_CKPT_HASH_LEN	32
#define PC_CKPT_SIG_LEN		64
#define PC_CKPT_MSG_MAX		256
#define PC_CKPT_LINE_MAX	512

struct pc_ckpt {
	int64_t		seq;
	int64_t		last_event;
	uint8_t		head[PC_CKPT_HASH_LEN];
	int64_t		at;
	uint8_t		prev[PC_CKPT_HASH_LEN];
	uint8_t		key[PC_CKPT_HASH_LEN];
	uint8_t		sig[PC_CKPT_SIG_LEN];
};

/* A signing key (private) or a verifying key (public only). */
struct pc_ckpt_key {
	EVP_PKEY	*pkey;
	uint8_t		fpr[PC_CKPT_HASH_LEN];
};

/*
 * The private key: PEM PKCS#8 Ed25519, in a file that is a regular file
 * group and others can neither read nor write. 0 or -1 with err.
 */
int	pc_ckpt_key_load(struct pc_ckpt_key *k, const char *path, char *err,
	    size_t errlen);
/* A public key (PEM SubjectPublicKeyInfo) to verify with. 0 or -1. */
int	pc_ckpt_pubkey_load(struct pc_ckpt_key *k, const char *path,
	    char *err, size_t errlen);
/* A new key in k; 0 or -1. */
int	pc_ckpt_key_generate(struct pc_ckpt_key *k);
/*
 * k's private key as PEM PKCS#8 into a new file (O_EXCL, mode 0600),
 * synced; its public key as PEM on out. 0 or -1 with err.
 */
int	pc_ckpt_key_write(const struct pc_ckpt_key *k, const char *path,
	    FILE *out, char *err, size_t errlen);
void	pc_ckpt_key_free(struct pc_ckpt_key *k);

/* The signed message; its length, or -1 when it does not fit. */
int	pc_ckpt_message(const struct pc_ckpt *c, char *buf, size_t len);
/* The file line, without its newline; its length or -1. */
int	pc_ckpt_line(const struct pc_ckpt *c, char *buf, size_t len);
/* A line in the canonical form only (nothing added, nothing left out). */
int	pc_ckpt_parse(struct pc_ckpt *c, const char *line, size_t len);
/* SHA-256 of the message: the next checkpoint's prev. 0 or -1. */
int	pc_ckpt_digest(const struct pc_ckpt *c,
	    uint8_t out[PC_CKPT_HASH_LEN]);

/* Fill c's key and sig with k's fingerprint and signature. 0 or -1. */
int	pc_ckpt_sign(struct pc_ckpt *c, const struct pc_ckpt_key *k);
/* 0 when c's key is k's and its signature verifies, else -1. */
int	pc_ckpt_verify(const struct pc_ckpt *c, const struct pc_ckpt_key *k);

/*
 * An event of audit.events e as the text the chain hashes, written with
 * built-in functions only (a replaced audit.event_digest() changes
 * nothing): for the offline walk and the evidence bundle.
 */
#define PC_CKPT_EVENT_TEXT \
    "pg_catalog.jsonb_build_array(e.id, (extract(epoch FROM e.at) * " \
    "1000000)::bigint, e.actor_id, e.actor_name, e.actor_role, " \
    "e.source::text, e.event, e.target, e.outcome, e.details)::text"

/* One link of the audit chain: h = SHA-256(h || text). 0 or -1. */
int	pc_ckpt_chain_step(uint8_t h[PC_CKPT_HASH_LEN], const void *text,
	    size_t len);

/*
 * The offline verifier's two halves. First the file: every line in the
 * canonical form, signed with k, numbered 1, 2, 3, ... and each prev
 * the digest of the line before, last_event never going back.
 */
struct pc_ckpt_list {
	struct pc_ckpt	*v;
	size_t		 n;
};

#define PC_CKPT_WHY_MAX		192

/*
 * Reads f into l. 0 when every line passes; else -1 with the sequence
 * the first bad line has (or should have had) in *bad and the reason in
 * why; l then holds the checkpoints before it.
 */
int	pc_ckpt_read(FILE *f, const struct pc_ckpt_key *k,
	    struct pc_ckpt_list *l, int64_t *bad, char *why, size_t whylen);
void	pc_ckpt_list_free(struct pc_ckpt_list *l);

/*
 * Then the chain, recomputed from the events as they are now: the
 * caller feeds every event after the anchor (the last retention purge's
 * event and hash; 0 and zeros if none), ids ascending, as the bytes the
 * chain hashes; each checkpoint's head must be the recomputed hash at
 * its last_event. Checkpoints older than the anchor cannot be
 * recomputed and are counted in skipped.
 */
struct pc_ckpt_walk {
	const struct pc_ckpt_list	*l;
	size_t				 next;
	size_t				 skipped;
	int64_t				 last;
	uint8_t				 h[PC_CKPT_HASH_LEN];
	int64_t				 bad;
	char				 why[PC_CKPT_WHY_MAX];
};

void	pc_ckpt_walk_init(struct pc_ckpt_walk *w,
	    const struct pc_ckpt_list *l, int64_t anchor_event,
	    const uint8_t anchor[PC_CKPT_HASH_LEN]);
/* 0, or -1 with w->bad and w->why when a checkpoint failed. */
int	pc_ckpt_walk_event(struct pc_ckpt_walk *w, int64_t id,
	    const void *text, size_t len);
/* After the last event: a checkpoint beyond it names a missing event. */
int	pc_ckpt_walk_end(struct pc_ckpt_walk *w);

#endif
