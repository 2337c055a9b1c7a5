/*
 * fuzz_policy.c: pc_policy_parse() on arbitrary policy files.
 *
 * Properties: 0 or -1 and nothing else; on failure the policy is the
 * deny-everyone defaults and the message is "name:line: ..." in
 * printable ASCII (it goes to the log: no control characters or raw
 * bytes of the file may reach it); on success the required keys are set
 * and every value is within its bounds.
 */
#include "policy.h"
#include "fuzz_util.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pc_policy	p;
	char			err[PC_POLICY_ERR_MAX], desc[4096];
	char			*text;
	size_t			i, n;
	int			rc;

	/* Exactly size bytes on the heap: reading past them is caught. */
	text = (char *)fz_dup(data, size);
	memset(err, 'X', sizeof(err));
	rc = pc_policy_parse(&p, "fuzz.conf", text, size, err, sizeof(err));
	FZ_CHECK(rc == 0 || rc == -1);
	n = strnlen(err, sizeof(err));
	FZ_CHECK(n < sizeof(err));
	for (i = 0; i < n; i++)
		FZ_CHECK(err[i] >= 0x20 && err[i] < 0x7f);

	if (rc == -1) {
		FZ_CHECK(strncmp(err, "fuzz.conf:", 10) == 0);
		FZ_CHECK(p.allow_count == 0 && p.trusted_proxy_count == 0);
		FZ_CHECK(p.totp_key_file[0] == '\0' && p.db_socket_dir[0] == '\0');
		FZ_CHECK(p.environment == PC_POLICY_ENV_PRODUCTION);
	} else {
		FZ_CHECK(err[0] == '\0');
		FZ_CHECK(p.allow_count <= PC_POLICY_MAX_CIDRS);
		FZ_CHECK(p.trusted_proxy_count <= PC_POLICY_MAX_CIDRS);
		FZ_CHECK(p.totp_key_file[0] == '/' && p.db_socket_dir[0] == '/');
		FZ_CHECK(strlen(p.digest) == 64);
		FZ_CHECK(p.hours.start_min < 1440 && p.hours.end_min >= 1 &&
		    p.hours.end_min <= 1440 &&
		    p.hours.start_min != p.hours.end_min);
		FZ_CHECK(p.lockout_threshold >= 1 && p.lockout_threshold <= 10);
		FZ_CHECK(p.lockout_max_seconds >= p.lockout_seconds);
		FZ_CHECK(p.argon2_m_kib >= 8192 && p.argon2_p >= 1 &&
		    p.argon2_t >= 1);
		FZ_CHECK(p.session_idle_seconds >= 10 &&
		    p.session_idle_seconds <= 900);
		FZ_CHECK(p.environment == PC_POLICY_ENV_DEVELOPMENT ||
		    p.lockout_seconds >= 1800);
	}
	pc_policy_describe(&p, desc, sizeof(desc));
	FZ_CHECK(memchr(desc, '\0', sizeof(desc)) != NULL);

	free(text);
	return (0);
}
