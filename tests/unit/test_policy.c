/*
 * test_policy.c: the policy file parser, table driven.
 *
 * Fixtures live in data/policy/ (run with cwd = tests/unit): ok_*.conf
 * must load, bad_*.conf must fail with the message in the table below.
 * Bounds are tested in memory, four rows per numeric key. Every row is
 * its own cmocka test so a failure names the case.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "policy.h"

#define DATA		"data/policy/"
#define REQUIRED	"totp_key_file /etc/payconsole/totp.key\n"	\
			"db_socket_dir /var/lib/payconsole/root/run\n"

/* `sha256sum data/policy/ok_full.conf`, pasted: an independent oracle. */
#define OK_FULL_SHA256	\
	"94f00b08f332ea0b1226918fcb947ed154f8fbcfac82cb8a5905956f7385795b"

struct file_case {
	const char	*file;
	const char	*expect;	/* NULL: must load */
	void		(*check)(const struct pc_policy *);
};

enum bound_which { BELOW_MIN, AT_MIN, AT_MAX, ABOVE_MAX };

struct bound_case {
	const char	*key;
	size_t		 off;
	uint32_t	 lo, hi;
	enum bound_which which;
	const char	*prelude;	/* lines needed to make the value legal */
};

struct value_case {
	const char	*line;		/* one line after REQUIRED */
	const char	*expect;	/* NULL: must parse; else message tail */
};

struct len_case {
	const char	*key;
	const char	*lead;		/* fixed start of the value */
	char		 fill;
	size_t		 len;		/* total value length */
	int		 valid;
	unsigned int	 max;
};

static void	test_file_row(void **);
static void	test_bound_row(void **);
static void	test_value_row(void **);
static void	test_len_row(void **);
static void	test_exact_message(void **);
static void	test_defaults(void **);
static void	test_empty_allowlist_denies(void **);
static void	test_missing_each_required(void **);
static void	test_line_length(void **);
static void	test_cidr_count(void **);
static void	test_echo_truncated(void **);
static void	test_echo_sanitised(void **);
static void	test_control_chars(void **);
static void	test_reset_on_failure(void **);
static void	test_bad_args(void **);
static void	test_small_err_buffer(void **);
static void	test_digest_literal(void **);
static void	test_digest_every_ok_file(void **);
static void	test_digest_memory(void **);
static void	test_load_missing(void **);
static void	test_db_hosts(void **);
static void	test_load_directory(void **);
static void	test_load_fifo(void **);
static void	test_load_size_limit(void **);
static void	test_load_symlink(void **);
static void	test_reference_conf(void **);
static void	test_describe(void **);
static void	test_server_names(void **);

static void	check_minimal(const struct pc_policy *);
static void	check_full(const struct pc_policy *);
static void	check_dev_low(const struct pc_policy *);
static void	check_prod_t2(const struct pc_policy *);
static void	check_prod_t1(const struct pc_policy *);
static void	check_no_final_newline(const struct pc_policy *);
static void	check_open_all_day(const struct pc_policy *);

static int	parse_str(struct pc_policy *, const char *, char *, size_t);
static size_t	count_lines(const char *);
static char	*read_file(const char *, size_t *);
static void	sha256_hex(const void *, size_t, char *);
static int	addr_match(const struct pc_cidr *, size_t, const char *);
static char	*make_tmpdir(void);
static void	write_file(const char *, const char *, size_t);
static uint32_t	field_u32(const struct pc_policy *, size_t);

#define FILE_OK(f, fn)							\
	{ "file " f, test_file_row, NULL, NULL,				\
	  &(struct file_case){ f, NULL, fn } }
#define FILE_BAD(f, e)							\
	{ "file " f, test_file_row, NULL, NULL,				\
	  &(struct file_case){ f, e, NULL } }

#define BOUND1(k, f, lo, hi, w, pre)					\
	{ "bounds " k " " #w, test_bound_row, NULL, NULL,		\
	  &(struct bound_case){ k, offsetof(struct pc_policy, f),	\
	  lo, hi, w, pre } }
#define BOUNDS(k, f, lo, hi, pre)					\
	BOUND1(k, f, lo, hi, BELOW_MIN, pre),				\
	BOUND1(k, f, lo, hi, AT_MIN, pre),				\
	BOUND1(k, f, lo, hi, AT_MAX, pre),				\
	BOUND1(k, f, lo, hi, ABOVE_MAX, pre)

#define VALUE(l, e)							\
	{ "value " #l, test_value_row, NULL, NULL,			\
	  &(struct value_case){ l, e } }

#define LEN(k, lead, fill, n, ok, max)					\
	{ "length " k " " #n, test_len_row, NULL, NULL,			\
	  &(struct len_case){ k, lead, fill, n, ok, max } }

static const struct CMUnitTest tests[] = {
	/* Fixture files: file -> expected error (after "data/policy/"). */
	FILE_OK("ok_minimal.conf", check_minimal),
	FILE_OK("ok_full.conf", check_full),
	FILE_OK("ok_dev_argon2_low.conf", check_dev_low),
	FILE_OK("ok_prod_argon2_t2_m19456.conf", check_prod_t2),
	FILE_OK("ok_prod_argon2_t1_m47104.conf", check_prod_t1),
	FILE_OK("ok_no_final_newline.conf", check_no_final_newline),
	FILE_OK("ok_open_all_day.conf", check_open_all_day),
	FILE_BAD("bad_typo.conf",
	    "bad_typo.conf:3: unknown key 'allow_cdir'"),
	FILE_BAD("bad_key_case.conf",
	    "bad_key_case.conf:1: unknown key 'Environment'"),
	FILE_BAD("bad_duplicate.conf",
	    "bad_duplicate.conf:5: duplicate key 'hours' "
	    "(first set on line 3)"),
	FILE_BAD("bad_duplicate_path.conf",
	    "bad_duplicate_path.conf:3: duplicate key 'totp_key_file' "
	    "(first set on line 1)"),
	FILE_BAD("bad_missing_totp.conf",
	    "bad_missing_totp.conf:0: missing required key 'totp_key_file'"),
	FILE_BAD("bad_missing_dbsock.conf",
	    "bad_missing_dbsock.conf:0: missing required key "
	    "'db_socket_dir'"),
	FILE_BAD("bad_empty.conf",
	    "bad_empty.conf:0: missing required key 'totp_key_file'"),
	FILE_BAD("bad_missing_value.conf",
	    "bad_missing_value.conf:3: missing value for key "
	    "'lockout_threshold'"),
	FILE_BAD("bad_trailing_comment.conf",
	    "bad_trailing_comment.conf:3: lockout_threshold: invalid number "
	    "'5 # five'"),
	FILE_BAD("bad_crlf.conf",
	    "bad_crlf.conf:1: control character 0x0d in line"),
	FILE_BAD("bad_prod_argon2_t1.conf",
	    "bad_prod_argon2_t1.conf:3: argon2_t 1 with argon2_m_kib 47103 "
	    "is below the production minimum"),
	FILE_BAD("bad_prod_argon2_t2.conf",
	    "bad_prod_argon2_t2.conf:3: argon2_t 2 with argon2_m_kib 19455 "
	    "is below the production minimum"),
	FILE_BAD("bad_prod_argon2_implicit.conf",
	    "bad_prod_argon2_implicit.conf:5: argon2_t 2 with argon2_m_kib "
	    "8192 is below the production minimum"),
	FILE_BAD("bad_prod_argon2_env_last.conf",
	    "bad_prod_argon2_env_last.conf:2: argon2_t 1 with argon2_m_kib "
	    "8192 is below the production minimum"),
	FILE_BAD("bad_lockout_max.conf",
	    "bad_lockout_max.conf:4: lockout_max_seconds (1800) is less "
	    "than lockout_seconds (3600)"),
	FILE_BAD("bad_lockout_max_default.conf",
	    "bad_lockout_max_default.conf:3: lockout_max_seconds (600) is "
	    "less than lockout_seconds (1800)"),
	FILE_BAD("bad_relative_path.conf",
	    "bad_relative_path.conf:1: totp_key_file: expected an absolute "
	    "path"),
	FILE_BAD("bad_dotdot_path.conf",
	    "bad_dotdot_path.conf:2: db_socket_dir: expected an absolute "
	    "path"),
	FILE_BAD("bad_double_slash_path.conf",
	    "bad_double_slash_path.conf:1: totp_key_file: expected an "
	    "absolute path"),
	FILE_BAD("bad_timezone_dotdot.conf",
	    "bad_timezone_dotdot.conf:3: timezone: expected an IANA zone "
	    "name, got '../../etc/passwd'"),
	FILE_BAD("bad_timezone_abs.conf",
	    "bad_timezone_abs.conf:3: timezone: expected an IANA zone name, "
	    "got '/etc/localtime'"),
	FILE_BAD("bad_dbname.conf",
	    "bad_dbname.conf:3: db_name: expected a name matching "
	    "[a-z_][a-z0-9_]*, got 'PayConsole'"),
	FILE_BAD("bad_cidr_hostbits.conf",
	    "bad_cidr_hostbits.conf:4: allow_cidr: invalid CIDR "
	    "'10.8.1.1/24'"),
	FILE_BAD("bad_trusted_proxy.conf",
	    "bad_trusted_proxy.conf:3: trusted_proxy: invalid CIDR "
	    "'10.8.0.0/33'"),
	FILE_BAD("bad_environment.conf",
	    "bad_environment.conf:1: environment: expected production or "
	    "development, got 'staging'"),
	FILE_BAD("bad_hours.conf",
	    "bad_hours.conf:3: hours: expected HH:MM-HH:MM, got "
	    "'9:00-17:00'"),
	FILE_BAD("bad_prod_lockout_short.conf",
	    "bad_prod_lockout_short.conf:3: lockout_seconds 1799 is below "
	    "the production minimum of 1800 (PCI DSS 8.3.4)"),
	FILE_BAD("bad_leading_zero.conf",
	    "bad_leading_zero.conf:3: argon2_p: invalid number '01'"),

	/* Every numeric key: one below min, min, max, one above max. */
	BOUNDS("lockout_threshold", lockout_threshold, 1, 10, ""),
	BOUNDS("lockout_seconds", lockout_seconds, 1, 86400, ""),
	BOUNDS("lockout_max_seconds", lockout_max_seconds, 1, 604800,
	    "lockout_seconds 1\n"),
	BOUNDS("source_fail_threshold", source_fail_threshold, 1, 1000, ""),
	BOUNDS("source_fail_window", source_fail_window, 10, 86400, ""),
	BOUNDS("source_block_seconds", source_block_seconds, 10, 86400, ""),
	BOUNDS("source_busy_weight", source_busy_weight, 0, 1000, ""),
	BOUNDS("argon2_t", argon2_t, 1, 10, ""),
	BOUNDS("argon2_m_kib", argon2_m_kib, 8192, 1048576, ""),
	BOUNDS("argon2_p", argon2_p, 1, 8, ""),
	BOUNDS("argon2_inflight", argon2_inflight, 1, 64, ""),
	BOUNDS("session_idle_seconds", session_idle_seconds, 10, 900, ""),
	BOUNDS("session_absolute_seconds", session_absolute_seconds,
	    60, 43200, ""),
	BOUNDS("refund_approval_threshold", refund_approval_threshold, 0,
	    4000000000U, ""),
	BOUNDS("approval_ttl_seconds", approval_ttl_seconds, 300, 604800, ""),
	BOUNDS("enrolment_ttl_seconds", enrolment_ttl_seconds, 600, 604800,
	    ""),
	BOUNDS("db_timeout_seconds", db_timeout_seconds, 1, 60, ""),
	BOUNDS("inactive_disable_days", inactive_disable_days, 1, 90, ""),
	BOUNDS("control_check_seconds", control_check_seconds, 1, 3600, ""),
	BOUNDS("chain_verify_seconds", chain_verify_seconds, 1, 86400, ""),
	BOUNDS("siem_interval_seconds", siem_interval_seconds, 1, 3600, ""),
	BOUNDS("siem_down_seconds", siem_down_seconds, 1, 86400, ""),

	/* Integer syntax. Line 4 is the line under test. */
	VALUE("lockout_seconds 1800", NULL),
	VALUE("server_name console.example.jp", NULL),
	VALUE("source_fail_exempt 10.8.0.1", NULL),
	VALUE("source_fail_exempt 10.8.0.1/24",
	    "source_fail_exempt: invalid CIDR '10.8.0.1/24'"),
	VALUE("server_name 10.8.0.1", NULL),
	VALUE("server_name [fd00::1]", NULL),
	VALUE("server_name a-b.c9", NULL),
	VALUE("server_name Console.example.jp",
	    "server_name: expected a host name in lower case, "
	    "an IPv4 address or [IPv6], got 'Console.example.jp'"),
	VALUE("server_name -a.example",
	    "server_name: expected a host name in lower case, "
	    "an IPv4 address or [IPv6], got '-a.example'"),
	VALUE("server_name a-.example",
	    "server_name: expected a host name in lower case, "
	    "an IPv4 address or [IPv6], got 'a-.example'"),
	VALUE("server_name a..example",
	    "server_name: expected a host name in lower case, "
	    "an IPv4 address or [IPv6], got 'a..example'"),
	VALUE("server_name example.",
	    "server_name: expected a host name in lower case, "
	    "an IPv4 address or [IPv6], got 'example.'"),
	VALUE("server_name a_b.example",
	    "server_name: expected a host name in lower case, "
	    "an IPv4 address or [IPv6], got 'a_b.example'"),
	VALUE("server_name ::1",
	    "server_name: expected a host name in lower case, "
	    "an IPv4 address or [IPv6], got '::1'"),
	VALUE("server_name [::g]",
	    "server_name: expected a host name in lower case, "
	    "an IPv4 address or [IPv6], got '[::g]'"),
	VALUE("server_name a.example:443",
	    "server_name: expected a host name in lower case, "
	    "an IPv4 address or [IPv6], got 'a.example:443'"),
	VALUE("lockout_seconds +600", "lockout_seconds: invalid number '+600'"),
	VALUE("lockout_seconds -600", "lockout_seconds: invalid number '-600'"),
	VALUE("lockout_seconds 0600", "lockout_seconds: invalid number '0600'"),
	VALUE("lockout_seconds 600s", "lockout_seconds: invalid number '600s'"),
	VALUE("lockout_seconds 0x258",
	    "lockout_seconds: invalid number '0x258'"),
	VALUE("lockout_seconds 6e2", "lockout_seconds: invalid number '6e2'"),
	VALUE("lockout_seconds 600 600",
	    "lockout_seconds: invalid number '600 600'"),
	VALUE("lockout_seconds 0",
	    "lockout_seconds: value '0' out of range 1..86400"),
	VALUE("lockout_seconds 4294967295",
	    "lockout_seconds: value '4294967295' out of range 1..86400"),
	VALUE("lockout_seconds 4294967296",
	    "lockout_seconds: value '4294967296' out of range 1..86400"),
	VALUE("lockout_seconds 4294967356",
	    "lockout_seconds: value '4294967356' out of range 1..86400"),
	VALUE("lockout_seconds 18446744073709552216",
	    "lockout_seconds: value '18446744073709552216' out of range "
	    "1..86400"),

	/* Layout. */
	VALUE("lockout_seconds\t\t1800\t ", NULL),
	VALUE("   lockout_seconds 1800", NULL),
	VALUE("   # lockout_seconds 1", NULL),
	VALUE("#lockout_seconds 1", NULL),
	VALUE("lockout_seconds", "missing value for key 'lockout_seconds'"),
	VALUE("lockout_seconds \t ",
	    "missing value for key 'lockout_seconds'"),
	VALUE("lockout_seconds=600", "unknown key 'lockout_seconds=600'"),
	VALUE("lockout_seconds: 600", "unknown key 'lockout_seconds:'"),
	VALUE("; comment", "unknown key ';'"),
	VALUE("// comment", "unknown key '//'"),

	/* Enum, hours, CIDR, strings, paths. */
	VALUE("environment development", NULL),
	VALUE("environment Production",
	    "environment: expected production or development, got "
	    "'Production'"),
	VALUE("environment production ",  NULL),
	VALUE("environment prod",
	    "environment: expected production or development, got 'prod'"),
	/* The SIEM sink and what each kind needs (line 4 names the sink). */
	VALUE("siem_sink none", NULL),
	VALUE("siem_sink syslog",
	    "siem_sink: expected none, local or tls, got 'syslog'"),
	VALUE("siem_sink local", "siem_sink local needs siem_socket"),
	VALUE("siem_sink local\nsiem_socket /srv/root/dev/log", NULL),
	VALUE("siem_sink tls\nsiem_collector siem.example.jp:6514",
	    "siem_sink tls needs siem_collector and siem_ca"),
	VALUE("siem_sink tls\nsiem_ca /etc/payconsole/siem-ca.pem",
	    "siem_sink tls needs siem_collector and siem_ca"),
	VALUE("siem_sink tls\nsiem_collector siem.example.jp:6514\n"
	    "siem_ca /etc/payconsole/siem-ca.pem", NULL),
	VALUE("siem_collector 10.8.0.9:6514", NULL),
	VALUE("siem_collector [fd00::9]:6514", NULL),
	VALUE("siem_collector siem.example.jp:65535", NULL),
	VALUE("siem_collector siem.example.jp",
	    "siem_collector: expected HOST:PORT, HOST a host name in lower "
	    "case, an IPv4 address or [IPv6], got 'siem.example.jp'"),
	VALUE("siem_collector siem.example.jp:0",
	    "siem_collector: expected HOST:PORT, HOST a host name in lower "
	    "case, an IPv4 address or [IPv6], got 'siem.example.jp:0'"),
	VALUE("siem_collector siem.example.jp:65536",
	    "siem_collector: expected HOST:PORT, HOST a host name in lower "
	    "case, an IPv4 address or [IPv6], got 'siem.example.jp:65536'"),
	VALUE("siem_collector SIEM.example.jp:6514",
	    "siem_collector: expected HOST:PORT, HOST a host name in lower "
	    "case, an IPv4 address or [IPv6], got 'SIEM.example.jp:6514'"),
	VALUE("siem_socket dev/log",
	    "siem_socket: expected an absolute path without blanks, //, . "
	    "or .. parts, got 'dev/log'"),
	VALUE("hours 00:00-24:00", NULL),
	VALUE("hours 22:00-06:00", NULL),
	VALUE("hours 09:00-09:00",
	    "hours: expected HH:MM-HH:MM, got '09:00-09:00'"),
	VALUE("hours 09:00-24:01",
	    "hours: expected HH:MM-HH:MM, got '09:00-24:01'"),
	VALUE("hours 09:60-18:00",
	    "hours: expected HH:MM-HH:MM, got '09:60-18:00'"),
	VALUE("hours 09:00 - 18:00",
	    "hours: expected HH:MM-HH:MM, got '09:00 - 18:00'"),
	VALUE("allow_cidr 10.0.0.0/8", NULL),
	VALUE("allow_cidr ::/0", NULL),
	VALUE("allow_cidr 10.0.0.0/08",
	    "allow_cidr: invalid CIDR '10.0.0.0/08'"),
	VALUE("allow_cidr 10.0.0.0/8 10.1.0.0/16",
	    "allow_cidr: invalid CIDR '10.0.0.0/8 10.1.0.0/16'"),
	VALUE("allow_cidr 10.0.0.0/8,10.1.0.0/16",
	    "allow_cidr: invalid CIDR '10.0.0.0/8,10.1.0.0/16'"),
	VALUE("trusted_proxy ::1/129",
	    "trusted_proxy: invalid CIDR '::1/129'"),
	VALUE("timezone UTC", NULL),
	VALUE("timezone Etc/GMT+9", NULL),
	VALUE("timezone America/Port-au-Prince", NULL),
	VALUE("timezone Asia/Tokyo/",
	    "timezone: expected an IANA zone name, got 'Asia/Tokyo/'"),
	VALUE("timezone Asia//Tokyo",
	    "timezone: expected an IANA zone name, got 'Asia//Tokyo'"),
	VALUE("timezone Asia/Tokyo.bak",
	    "timezone: expected an IANA zone name, got 'Asia/Tokyo.bak'"),
	VALUE("timezone Asia Tokyo",
	    "timezone: expected an IANA zone name, got 'Asia Tokyo'"),
	VALUE("timezone $TZ",
	    "timezone: expected an IANA zone name, got '$TZ'"),
	VALUE("db_name pay_console_2", NULL),
	VALUE("db_name 2pay",
	    "db_name: expected a name matching [a-z_][a-z0-9_]*, got '2pay'"),
	VALUE("db_name pay-console",
	    "db_name: expected a name matching [a-z_][a-z0-9_]*, got "
	    "'pay-console'"),
	VALUE("db_name pay;drop",
	    "db_name: expected a name matching [a-z_][a-z0-9_]*, got "
	    "'pay;drop'"),
	VALUE("db_ports 5432", NULL),
	VALUE("db_ports 5432,5433", NULL),
	VALUE("db_ports 1,2,3,65535", NULL),
	VALUE("db_ports 1,2,3,4,5",
	    "db_ports: expected 1 to 4 port numbers separated by commas, got "
	    "'1,2,3,4,5'"),
	VALUE("db_ports 65536",
	    "db_ports: expected 1 to 4 port numbers separated by commas, got "
	    "'65536'"),
	VALUE("db_ports 05432",
	    "db_ports: expected 1 to 4 port numbers separated by commas, got "
	    "'05432'"),
	VALUE("db_ports 5432,",
	    "db_ports: expected 1 to 4 port numbers separated by commas, got "
	    "'5432,'"),
	VALUE("db_ports 5432,,5433",
	    "db_ports: expected 1 to 4 port numbers separated by commas, got "
	    "'5432,,5433'"),
	VALUE("db_ports 0",
	    "db_ports: expected 1 to 4 port numbers separated by commas, got "
	    "'0'"),
	cmocka_unit_test(test_db_hosts),

	/* String and path lengths: at max, one above. */
	LEN("timezone", "", 'A', 63, 1, 63),
	LEN("timezone", "", 'A', 64, 0, 63),
	LEN("db_name", "", 'a', 63, 1, 63),
	LEN("db_name", "", 'a', 64, 0, 63),
	LEN("totp_key_file", "/", 'k', PC_POLICY_PATH_MAX - 1, 1,
	    PC_POLICY_PATH_MAX - 1),
	LEN("totp_key_file", "/", 'k', PC_POLICY_PATH_MAX, 0,
	    PC_POLICY_PATH_MAX - 1),
	LEN("db_socket_dir", "/", 'd', PC_POLICY_PATH_MAX - 1, 1,
	    PC_POLICY_PATH_MAX - 1),
	LEN("db_socket_dir", "/", 'd', PC_POLICY_PATH_MAX, 0,
	    PC_POLICY_PATH_MAX - 1),

	cmocka_unit_test(test_exact_message),
	cmocka_unit_test(test_defaults),
	cmocka_unit_test(test_empty_allowlist_denies),
	cmocka_unit_test(test_missing_each_required),
	cmocka_unit_test(test_line_length),
	cmocka_unit_test(test_cidr_count),
	cmocka_unit_test(test_echo_truncated),
	cmocka_unit_test(test_echo_sanitised),
	cmocka_unit_test(test_control_chars),
	cmocka_unit_test(test_reset_on_failure),
	cmocka_unit_test(test_bad_args),
	cmocka_unit_test(test_small_err_buffer),
	cmocka_unit_test(test_digest_literal),
	cmocka_unit_test(test_digest_every_ok_file),
	cmocka_unit_test(test_digest_memory),
	cmocka_unit_test(test_load_missing),
	cmocka_unit_test(test_load_directory),
	cmocka_unit_test(test_load_fifo),
	cmocka_unit_test(test_load_size_limit),
	cmocka_unit_test(test_load_symlink),
	cmocka_unit_test(test_reference_conf),
	cmocka_unit_test(test_describe),
	cmocka_unit_test(test_server_names),
};

static const char *ok_files[] = {
	"ok_minimal.conf", "ok_full.conf", "ok_dev_argon2_low.conf",
	"ok_prod_argon2_t2_m19456.conf", "ok_prod_argon2_t1_m47104.conf",
	"ok_no_final_newline.conf", "ok_open_all_day.conf",
};

/* --- helpers ----------------------------------------------------------- */

static int
parse_str(struct pc_policy *p, const char *text, char *err, size_t errlen)
{
	return (pc_policy_parse(p, "mem", text, strlen(text), err, errlen));
}

static size_t
count_lines(const char *s)
{
	size_t		n = 0;

	for (; *s != '\0'; s++) {
		if (*s == '\n')
			n++;
	}
	return (n);
}

static char *
read_file(const char *path, size_t *len)
{
	FILE		*fp;
	char		*buf;
	long		 sz;

	if ((fp = fopen(path, "rb")) == NULL)
		fail_msg("cannot open %s", path);
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	sz = ftell(fp);
	assert_true(sz >= 0);
	rewind(fp);
	buf = malloc((size_t)sz + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)sz, fp), (size_t)sz);
	buf[sz] = '\0';
	fclose(fp);
	*len = (size_t)sz;
	return (buf);
}

static void
sha256_hex(const void *data, size_t len, char *out)
{
	unsigned char	md[EVP_MAX_MD_SIZE];
	unsigned int	mdlen, i;

	assert_int_equal(EVP_Digest(data, len, md, &mdlen, EVP_sha256(),
	    NULL), 1);
	assert_int_equal(mdlen, 32);
	for (i = 0; i < mdlen; i++)
		snprintf(out + i * 2, 3, "%02x", md[i]);
}

static int
addr_match(const struct pc_cidr *list, size_t n, const char *text)
{
	uint8_t		addr[16];
	int		family;

	memset(addr, 0, sizeof(addr));
	family = (strchr(text, ':') != NULL) ? AF_INET6 : AF_INET;
	if (inet_pton(family, text, addr) != 1)
		fail_msg("bad address in test: %s", text);
	return (pc_cidr_list_match(list, n, family, addr));
}

static char *
make_tmpdir(void)
{
	char		*d;

	d = strdup("/tmp/pc_test_policy.XXXXXX");
	assert_non_null(d);
	assert_non_null(mkdtemp(d));
	return (d);
}

static void
write_file(const char *path, const char *data, size_t len)
{
	FILE		*fp;

	fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

static uint32_t
field_u32(const struct pc_policy *p, size_t off)
{
	uint32_t	v;

	memcpy(&v, (const char *)p + off, sizeof(v));
	return (v);
}

/* --- ok fixture checks ------------------------------------------------- */

static void
check_minimal(const struct pc_policy *p)
{
	struct pc_policy	d;

	pc_policy_defaults(&d);
	assert_int_equal(p->environment, PC_POLICY_ENV_PRODUCTION);
	assert_int_equal(p->allow_count, 0);
	assert_int_equal(p->trusted_proxy_count, 0);
	assert_string_equal(p->totp_key_file, "/etc/payconsole/totp.key");
	assert_string_equal(p->db_socket_dir, "/var/lib/payconsole/root/run");
	/* Apart from the two paths and the digest, it is the defaults. */
	assert_memory_equal(&p->hours, &d.hours, sizeof(d.hours));
	assert_string_equal(p->timezone, "Asia/Tokyo");
	assert_int_equal(p->lockout_threshold, 5);
	assert_int_equal(p->lockout_seconds, 1800);
	assert_int_equal(p->lockout_max_seconds, 86400);
	assert_int_equal(p->source_fail_threshold, 20);
	assert_int_equal(p->source_fail_window, 600);
	assert_int_equal(p->source_block_seconds, 900);
	assert_int_equal(p->source_busy_weight, 1);
	assert_int_equal(p->argon2_t, 3);
	assert_int_equal(p->argon2_m_kib, 65536);
	assert_int_equal(p->argon2_p, 1);
	assert_int_equal(p->argon2_inflight, 2);
	assert_int_equal(p->session_idle_seconds, 900);
	assert_int_equal(p->session_absolute_seconds, 43200);
	assert_int_equal(p->refund_approval_threshold, 100000);
	assert_int_equal(p->approval_ttl_seconds, 86400);
	assert_int_equal(p->enrolment_ttl_seconds, 86400);
	assert_string_equal(p->db_name, "payconsole");
	assert_int_equal(p->db_timeout_seconds, 5);
}

static void
check_full(const struct pc_policy *p)
{
	assert_int_equal(p->environment, PC_POLICY_ENV_DEVELOPMENT);
	assert_int_equal(p->allow_count, 4);
	assert_true(addr_match(p->allow, p->allow_count, "10.8.0.200"));
	assert_false(addr_match(p->allow, p->allow_count, "10.8.1.1"));
	assert_true(addr_match(p->allow, p->allow_count, "192.168.10.7"));
	assert_false(addr_match(p->allow, p->allow_count, "192.168.10.8"));
	assert_true(addr_match(p->allow, p->allow_count, "fd00:8::1"));
	assert_false(addr_match(p->allow, p->allow_count, "fd00:9::1"));
	assert_true(addr_match(p->allow, p->allow_count, "172.16.9.9"));
	assert_true(addr_match(p->allow, p->allow_count, "172.31.0.0"));
	assert_false(addr_match(p->allow, p->allow_count, "172.32.0.0"));
	assert_int_equal(p->trusted_proxy_count, 2);
	assert_true(addr_match(p->trusted_proxy, 2, "10.8.0.1"));
	assert_false(addr_match(p->trusted_proxy, 2, "10.8.0.2"));
	assert_true(addr_match(p->trusted_proxy, 2, "2001:db8::1"));
	assert_int_equal(p->hours.start_min, 22 * 60);
	assert_int_equal(p->hours.end_min, 6 * 60);
	assert_string_equal(p->timezone, "America/Argentina/Buenos_Aires");
	assert_int_equal(p->lockout_threshold, 3);
	assert_int_equal(p->lockout_seconds, 600);
	assert_int_equal(p->lockout_max_seconds, 7200);
	assert_int_equal(p->source_fail_threshold, 50);
	assert_int_equal(p->source_fail_window, 300);
	assert_int_equal(p->source_block_seconds, 1200);
	assert_int_equal(p->argon2_t, 1);
	assert_int_equal(p->argon2_m_kib, 8192);
	assert_int_equal(p->argon2_p, 2);
	assert_int_equal(p->argon2_inflight, 4);
	assert_int_equal(p->session_idle_seconds, 300);
	assert_int_equal(p->session_absolute_seconds, 3600);
	assert_int_equal(p->refund_approval_threshold, 0);
	assert_int_equal(p->approval_ttl_seconds, 3600);
	assert_int_equal(p->enrolment_ttl_seconds, 7200);
	assert_string_equal(p->totp_key_file, "/etc/payconsole/totp.key");
	assert_string_equal(p->db_socket_dir, "/srv/pc/root/run");
	assert_string_equal(p->db_name, "pc_test_1");
}

static void
check_dev_low(const struct pc_policy *p)
{
	assert_int_equal(p->environment, PC_POLICY_ENV_DEVELOPMENT);
	assert_int_equal(p->argon2_t, 1);
	assert_int_equal(p->argon2_m_kib, 8192);
}

static void
check_prod_t2(const struct pc_policy *p)
{
	assert_int_equal(p->environment, PC_POLICY_ENV_PRODUCTION);
	assert_int_equal(p->argon2_t, 2);
	assert_int_equal(p->argon2_m_kib, 19456);
}

static void
check_prod_t1(const struct pc_policy *p)
{
	assert_int_equal(p->environment, PC_POLICY_ENV_PRODUCTION);
	assert_int_equal(p->argon2_t, 1);
	assert_int_equal(p->argon2_m_kib, 47104);
}

static void
check_no_final_newline(const struct pc_policy *p)
{
	assert_int_equal(p->lockout_seconds, 3600);
	assert_int_equal(p->lockout_max_seconds, 3600);
}

static void
check_open_all_day(const struct pc_policy *p)
{
	assert_int_equal(p->hours.start_min, 0);
	assert_int_equal(p->hours.end_min, 1440);
	assert_string_equal(p->timezone, "Etc/GMT-9");
	assert_string_equal(p->db_name, "_payconsole");
}

/* --- table rows -------------------------------------------------------- */

static void
test_file_row(void **state)
{
	const struct file_case	*fc = *state;
	struct pc_policy	 p;
	char			 path[256], err[PC_POLICY_ERR_MAX];
	char			 want[PC_POLICY_ERR_MAX];
	int			 rc;

	snprintf(path, sizeof(path), DATA "%s", fc->file);
	memset(err, 0, sizeof(err));
	rc = pc_policy_load(&p, path, err, sizeof(err));

	if (fc->expect == NULL) {
		if (rc != 0)
			fail_msg("%s: %s", path, err);
		assert_int_equal(strlen(p.digest), 64);
		fc->check(&p);
		return;
	}

	assert_int_equal(rc, -1);
	/* The whole name, then the expected line and message. */
	snprintf(want, sizeof(want), DATA "%s", fc->expect);
	if (strncmp(err, want, strlen(want)) != 0)
		fail_msg("got '%s', want prefix '%s'", err, want);
	/* Failure leaves the deny-everyone defaults. */
	assert_int_equal(p.allow_count, 0);
	assert_string_equal(p.totp_key_file, "");
	assert_string_equal(p.digest, "");
}

static void
test_bound_row(void **state)
{
	const struct bound_case	*bc = *state;
	struct pc_policy	 p;
	char			 text[512], err[PC_POLICY_ERR_MAX];
	char			 want[PC_POLICY_ERR_MAX];
	uint32_t		 v;
	size_t			 line;
	int			 ok;

	switch (bc->which) {
	case BELOW_MIN:
		v = bc->lo - 1;
		ok = 0;
		break;
	case AT_MIN:
		v = bc->lo;
		ok = 1;
		break;
	case AT_MAX:
		v = bc->hi;
		ok = 1;
		break;
	default:
		v = bc->hi + 1;
		ok = 0;
		break;
	}

	/* development: the table bounds, not the production floor. */
	snprintf(text, sizeof(text), "environment development\n" REQUIRED
	    "%s%s %u\n", bc->prelude, bc->key, v);
	line = count_lines(text);

	if (ok) {
		if (parse_str(&p, text, err, sizeof(err)) != 0)
			fail_msg("%s %u: %s", bc->key, v, err);
		assert_int_equal(field_u32(&p, bc->off), v);
		return;
	}
	assert_int_equal(parse_str(&p, text, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "mem:%zu: %s: value '%u' out of range "
	    "%u..%u", line, bc->key, v, bc->lo, bc->hi);
	assert_string_equal(err, want);
}

static void
test_value_row(void **state)
{
	const struct value_case	*vc = *state;
	struct pc_policy	 p;
	char			 text[512], err[PC_POLICY_ERR_MAX];
	char			 want[PC_POLICY_ERR_MAX];

	snprintf(text, sizeof(text), "# value test\n" REQUIRED "%s\n",
	    vc->line);

	if (vc->expect == NULL) {
		if (parse_str(&p, text, err, sizeof(err)) != 0)
			fail_msg("'%s': %s", vc->line, err);
		return;
	}
	assert_int_equal(parse_str(&p, text, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "mem:4: %s", vc->expect);
	assert_string_equal(err, want);
}

static void
test_len_row(void **state)
{
	const struct len_case	*lc = *state;
	struct pc_policy	 p;
	char			 val[PC_POLICY_PATH_MAX + 8];
	char			 text[1024], err[PC_POLICY_ERR_MAX];
	char			 want[PC_POLICY_ERR_MAX];
	size_t			 n;

	assert_true(lc->len < sizeof(val));
	n = strlen(lc->lead);
	memcpy(val, lc->lead, n);
	memset(val + n, lc->fill, lc->len - n);
	val[lc->len] = '\0';

	/* The key under test comes last, so it overrides nothing. */
	if (strcmp(lc->key, "totp_key_file") == 0) {
		snprintf(text, sizeof(text), "db_socket_dir /run/pc\n"
		    "totp_key_file %s\n", val);
	} else if (strcmp(lc->key, "db_socket_dir") == 0) {
		snprintf(text, sizeof(text), "totp_key_file /etc/pc.key\n"
		    "db_socket_dir %s\n", val);
	} else {
		snprintf(text, sizeof(text), REQUIRED "%s %s\n", lc->key, val);
	}

	if (lc->valid) {
		if (parse_str(&p, text, err, sizeof(err)) != 0)
			fail_msg("%s: %s", lc->key, err);
		return;
	}
	assert_int_equal(parse_str(&p, text, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "mem:%zu: %s: value longer than %u bytes",
	    count_lines(text), lc->key, lc->max);
	assert_string_equal(err, want);
}

/* --- single tests ------------------------------------------------------ */

/* The format promised in the brief, to the byte. */
static void
test_exact_message(void **state)
{
	struct pc_policy	 p;
	char			 err[PC_POLICY_ERR_MAX];
	const char		*text =
	    "# payconsole policy\n"
	    "\n"
	    "environment production\n"
	    REQUIRED
	    "\n"
	    "allow_cdir 10.8.0.0/24\n";

	(void)state;
	assert_int_equal(pc_policy_parse(&p, "conf/policy.conf", text,
	    strlen(text), err, sizeof(err)), -1);
	assert_string_equal(err,
	    "conf/policy.conf:7: unknown key 'allow_cdir'");
}

static void
test_defaults(void **state)
{
	struct pc_policy	p;

	(void)state;
	memset(&p, 0xa5, sizeof(p));
	pc_policy_defaults(&p);
	assert_int_equal(p.environment, PC_POLICY_ENV_PRODUCTION);
	assert_int_equal(p.allow_count, 0);
	assert_int_equal(p.trusted_proxy_count, 0);
	assert_int_equal(p.hours.start_min, 540);
	assert_int_equal(p.hours.end_min, 1440);
	assert_string_equal(p.timezone, "Asia/Tokyo");
	assert_int_equal(p.lockout_threshold, 5);
	assert_int_equal(p.lockout_seconds, 1800);
	assert_int_equal(p.lockout_max_seconds, 86400);
	assert_int_equal(p.source_fail_threshold, 20);
	assert_int_equal(p.source_fail_window, 600);
	assert_int_equal(p.source_block_seconds, 900);
	assert_int_equal(p.argon2_t, 3);
	assert_int_equal(p.argon2_m_kib, 65536);
	assert_int_equal(p.argon2_p, 1);
	assert_int_equal(p.argon2_inflight, 2);
	assert_int_equal(p.session_idle_seconds, 900);
	assert_int_equal(p.session_absolute_seconds, 43200);
	assert_int_equal(p.refund_approval_threshold, 100000);
	assert_int_equal(p.approval_ttl_seconds, 86400);
	assert_int_equal(p.enrolment_ttl_seconds, 86400);
	assert_string_equal(p.totp_key_file, "");
	assert_string_equal(p.db_socket_dir, "");
	assert_string_equal(p.db_name, "payconsole");
	assert_int_equal(p.db_timeout_seconds, 5);
	assert_string_equal(p.digest, "");
}

static void
test_empty_allowlist_denies(void **state)
{
	struct pc_policy	p;
	char			err[PC_POLICY_ERR_MAX];

	(void)state;
	assert_int_equal(parse_str(&p, REQUIRED, err, sizeof(err)), 0);
	assert_int_equal(p.allow_count, 0);
	assert_false(addr_match(p.allow, p.allow_count, "10.8.0.1"));
	assert_false(addr_match(p.allow, p.allow_count, "::1"));
}

static void
test_missing_each_required(void **state)
{
	struct pc_policy	p;
	char			err[PC_POLICY_ERR_MAX];

	(void)state;
	assert_int_equal(parse_str(&p,
	    "totp_key_file /etc/payconsole/totp.key\n", err, sizeof(err)), -1);
	assert_string_equal(err, "mem:0: missing required key 'db_socket_dir'");
	assert_int_equal(parse_str(&p,
	    "db_socket_dir /run/pc\n# totp_key_file /x\n", err,
	    sizeof(err)), -1);
	assert_string_equal(err, "mem:0: missing required key 'totp_key_file'");
	assert_int_equal(parse_str(&p, "", err, sizeof(err)), -1);
	assert_string_equal(err, "mem:0: missing required key 'totp_key_file'");
	assert_int_equal(pc_policy_parse(&p, "mem", NULL, 0, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "mem:0: missing required key 'totp_key_file'");
}

static void
test_line_length(void **state)
{
	struct pc_policy	 p;
	char			 err[PC_POLICY_ERR_MAX];
	char			*text;
	size_t			 off;

	(void)state;
	text = malloc(2048);
	assert_non_null(text);

	/* A 1024-byte comment line is fine... */
	off = (size_t)snprintf(text, 2048, REQUIRED);
	text[off++] = '#';
	memset(text + off, 'x', 1023);
	off += 1023;
	text[off++] = '\n';
	text[off] = '\0';
	if (parse_str(&p, text, err, sizeof(err)) != 0)
		fail_msg("%s", err);

	/* ...1025 bytes is not, even as a comment. */
	off -= 1;
	text[off++] = 'x';
	text[off++] = '\n';
	text[off] = '\0';
	assert_int_equal(parse_str(&p, text, err, sizeof(err)), -1);
	assert_string_equal(err, "mem:3: line longer than 1024 bytes");

	/* Also without a final newline. */
	text[off - 1] = '\0';
	assert_int_equal(parse_str(&p, text, err, sizeof(err)), -1);
	assert_string_equal(err, "mem:3: line longer than 1024 bytes");

	/* Trailing blanks count: the limit is on the raw line. */
	off = (size_t)snprintf(text, 2048, REQUIRED "lockout_threshold 5");
	memset(text + off, ' ', 1025 - 19);
	text[off + 1025 - 19] = '\0';
	assert_int_equal(parse_str(&p, text, err, sizeof(err)), -1);
	assert_string_equal(err, "mem:3: line longer than 1024 bytes");
	text[off + 1024 - 19] = '\0';
	assert_int_equal(parse_str(&p, text, err, sizeof(err)), 0);

	free(text);
}

static void
test_cidr_count(void **state)
{
	struct pc_policy	 p;
	char			 err[PC_POLICY_ERR_MAX];
	char			*text;
	size_t			 off, i, cap;

	(void)state;
	cap = 64 * (PC_POLICY_MAX_CIDRS + 2) + 256;
	text = malloc(cap);
	assert_non_null(text);

	off = (size_t)snprintf(text, cap, REQUIRED);
	for (i = 0; i < PC_POLICY_MAX_CIDRS; i++) {
		off += (size_t)snprintf(text + off, cap - off,
		    "allow_cidr 10.%zu.%zu.0/24\n"
		    "trusted_proxy 192.168.%zu.%zu\n",
		    i / 256, i % 256, i / 256, i % 256);
	}
	if (parse_str(&p, text, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(p.allow_count, PC_POLICY_MAX_CIDRS);
	assert_int_equal(p.trusted_proxy_count, PC_POLICY_MAX_CIDRS);
	assert_true(addr_match(p.allow, p.allow_count, "10.0.255.9"));

	snprintf(text + off, cap - off, "allow_cidr 172.16.0.0/12\n");
	assert_int_equal(parse_str(&p, text, err, sizeof(err)), -1);
	assert_string_equal(err, "mem:515: allow_cidr: more than 256 entries");

	snprintf(text + off, cap - off, "trusted_proxy 172.16.0.0/12\n");
	assert_int_equal(parse_str(&p, text, err, sizeof(err)), -1);
	assert_string_equal(err,
	    "mem:515: trusted_proxy: more than 256 entries");

	free(text);
}

/* Never more than 64 bytes of the offending value in the message. */
static void
test_echo_truncated(void **state)
{
	struct pc_policy	p;
	char			err[PC_POLICY_ERR_MAX], text[512], want[256];
	char			big[201], sixty4[65];

	(void)state;
	memset(big, 'Z', 200);
	big[200] = '\0';
	memset(sixty4, 'Z', 64);
	sixty4[64] = '\0';

	snprintf(text, sizeof(text), REQUIRED "lockout_seconds %s\n", big);
	assert_int_equal(parse_str(&p, text, err, sizeof(err)), -1);
	snprintf(want, sizeof(want),
	    "mem:3: lockout_seconds: invalid number '%s...'", sixty4);
	assert_string_equal(err, want);

	/* Unknown keys too. */
	snprintf(text, sizeof(text), REQUIRED "%s 1\n", big);
	assert_int_equal(parse_str(&p, text, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "mem:3: unknown key '%s...'", sixty4);
	assert_string_equal(err, want);

	/* Exactly 64: no ellipsis. */
	snprintf(text, sizeof(text), REQUIRED "lockout_seconds %s\n", sixty4);
	assert_int_equal(parse_str(&p, text, err, sizeof(err)), -1);
	snprintf(want, sizeof(want),
	    "mem:3: lockout_seconds: invalid number '%s'", sixty4);
	assert_string_equal(err, want);
}

static void
test_echo_sanitised(void **state)
{
	struct pc_policy	p;
	char			err[PC_POLICY_ERR_MAX];

	(void)state;
	/* A tab inside a value is not echoed. */
	assert_int_equal(parse_str(&p, REQUIRED "timezone Asia/\tTokyo\n",
	    err, sizeof(err)), -1);
	assert_string_equal(err,
	    "mem:3: timezone: expected an IANA zone name, got 'Asia/Tokyo'");

	/* Non-ASCII bytes are shown as '?', one per byte. */
	assert_int_equal(parse_str(&p, REQUIRED "timezone T\xc5\x8dky\xc5\x8d\n",
	    err, sizeof(err)), -1);
	assert_string_equal(err,
	    "mem:3: timezone: expected an IANA zone name, got 'T?" "?ky?" "?'");
}

/* Control characters other than tab stop the line; none reach the log. */
static void
test_control_chars(void **state)
{
	struct pc_policy	p;
	char			err[PC_POLICY_ERR_MAX];
	const char		text[] = REQUIRED "db_name pay\0console\n";

	(void)state;
	assert_int_equal(parse_str(&p, REQUIRED "db_name \x1b[31mred\n",
	    err, sizeof(err)), -1);
	assert_string_equal(err, "mem:3: control character 0x1b in line");

	assert_int_equal(parse_str(&p, REQUIRED "# bell \a in a comment\n",
	    err, sizeof(err)), -1);
	assert_string_equal(err, "mem:3: control character 0x07 in line");

	assert_int_equal(parse_str(&p, REQUIRED "db_name pay\x7f\n",
	    err, sizeof(err)), -1);
	assert_string_equal(err, "mem:3: control character 0x7f in line");

	/* An embedded NUL does not end the text early. */
	assert_int_equal(pc_policy_parse(&p, "mem", text, sizeof(text) - 1,
	    err, sizeof(err)), -1);
	assert_string_equal(err, "mem:3: control character 0x00 in line");

	/* A carriage return alone is a control character too. */
	assert_int_equal(parse_str(&p, REQUIRED "db_name pay\r\n",
	    err, sizeof(err)), -1);
	assert_string_equal(err, "mem:3: control character 0x0d in line");

	/* UTF-8 in comments is fine. */
	assert_int_equal(parse_str(&p, REQUIRED "# \xe6\x9d\xb1\xe4\xba\xac\n",
	    err, sizeof(err)), 0);
}

/* A failed parse never leaves half a policy behind. */
static void
test_reset_on_failure(void **state)
{
	struct pc_policy	p;
	char			err[PC_POLICY_ERR_MAX];

	(void)state;
	assert_int_equal(pc_policy_load(&p, DATA "ok_full.conf", err,
	    sizeof(err)), 0);
	assert_int_equal(p.allow_count, 4);

	assert_int_equal(parse_str(&p, "allow_cidr 0.0.0.0/0\n"
	    "environment development\nbogus 1\n", err, sizeof(err)), -1);
	assert_int_equal(p.allow_count, 0);
	assert_int_equal(p.environment, PC_POLICY_ENV_PRODUCTION);
	assert_string_equal(p.totp_key_file, "");
	assert_string_equal(p.db_socket_dir, "");
	assert_string_equal(p.digest, "");

	/* Also when the error is found only after the last line. */
	assert_int_equal(parse_str(&p, "allow_cidr 0.0.0.0/0\n", err,
	    sizeof(err)), -1);
	assert_int_equal(p.allow_count, 0);
}

static void
test_bad_args(void **state)
{
	struct pc_policy	p;
	char			err[PC_POLICY_ERR_MAX];

	(void)state;
	assert_int_equal(pc_policy_parse(NULL, "mem", REQUIRED,
	    strlen(REQUIRED), err, sizeof(err)), -1);
	assert_string_equal(err, "mem:0: no policy to fill");
	assert_int_equal(pc_policy_parse(&p, "mem", NULL, 5, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "mem:0: no policy text");
	assert_int_equal(pc_policy_parse(&p, NULL, "x 1\n", 4, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "(policy):1: unknown key 'x'");

	/* No error buffer: still fails, still does not crash. */
	assert_int_equal(pc_policy_parse(&p, "mem", "x 1\n", 4, NULL, 0), -1);
	assert_int_equal(pc_policy_parse(&p, "mem", REQUIRED,
	    strlen(REQUIRED), NULL, 0), 0);

	assert_int_equal(pc_policy_load(&p, NULL, err, sizeof(err)), -1);
	assert_int_equal(pc_policy_load(NULL, DATA "ok_minimal.conf", err,
	    sizeof(err)), -1);
}

static void
test_small_err_buffer(void **state)
{
	struct pc_policy	p;
	char			err[16];

	(void)state;
	memset(err, 'q', sizeof(err));
	assert_int_equal(pc_policy_parse(&p, "conf/policy.conf", "x 1\n", 4,
	    err, sizeof(err)), -1);
	assert_int_equal(strlen(err), sizeof(err) - 1);
	assert_memory_equal(err, "conf/policy.con", sizeof(err));

	memset(err, 'q', sizeof(err));
	assert_int_equal(pc_policy_parse(&p, "m", "x 1\n", 4, err, 1), -1);
	assert_int_equal(err[0], '\0');
	assert_int_equal(err[1], 'q');
}

static void
test_digest_literal(void **state)
{
	struct pc_policy	p;
	char			err[PC_POLICY_ERR_MAX];

	(void)state;
	assert_int_equal(pc_policy_load(&p, DATA "ok_full.conf", err,
	    sizeof(err)), 0);
	assert_string_equal(p.digest, OK_FULL_SHA256);
}

static void
test_digest_every_ok_file(void **state)
{
	struct pc_policy	 p;
	char			 err[PC_POLICY_ERR_MAX], path[256], hex[65];
	char			*buf;
	size_t			 i, len;

	(void)state;
	for (i = 0; i < sizeof(ok_files) / sizeof(ok_files[0]); i++) {
		snprintf(path, sizeof(path), DATA "%s", ok_files[i]);
		if (pc_policy_load(&p, path, err, sizeof(err)) != 0)
			fail_msg("%s", err);
		buf = read_file(path, &len);
		sha256_hex(buf, len, hex);
		free(buf);
		assert_string_equal(p.digest, hex);
	}
}

/* The digest covers the text as given, comments and blanks included. */
static void
test_digest_memory(void **state)
{
	struct pc_policy	p;
	char			err[PC_POLICY_ERR_MAX], a[65];
	const char		t1[] = REQUIRED;
	const char		t2[] = REQUIRED "# comment\n";

	(void)state;
	assert_int_equal(parse_str(&p, t1, err, sizeof(err)), 0);
	sha256_hex(t1, strlen(t1), a);
	assert_string_equal(p.digest, a);
	assert_int_equal(parse_str(&p, t2, err, sizeof(err)), 0);
	assert_string_not_equal(p.digest, a);
	sha256_hex(t2, strlen(t2), a);
	assert_string_equal(p.digest, a);
}

static void
test_load_missing(void **state)
{
	struct pc_policy	p;
	char			err[PC_POLICY_ERR_MAX];

	(void)state;
	assert_int_equal(pc_policy_load(&p, DATA "no_such.conf", err,
	    sizeof(err)), -1);
	assert_string_equal(err, DATA "no_such.conf:0: cannot open: "
	    "No such file or directory");
}

static void
test_load_directory(void **state)
{
	struct pc_policy	p;
	char			err[PC_POLICY_ERR_MAX];

	(void)state;
	assert_int_equal(pc_policy_load(&p, "data/policy", err,
	    sizeof(err)), -1);
	assert_string_equal(err, "data/policy:0: not a regular file");
}

/* A FIFO must be refused at once, not block start-up. */
static void
test_load_fifo(void **state)
{
	struct pc_policy	 p;
	char			 err[PC_POLICY_ERR_MAX], path[256], want[512];
	char			*dir;

	(void)state;
	dir = make_tmpdir();
	snprintf(path, sizeof(path), "%s/fifo.conf", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(pc_policy_load(&p, path, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:0: not a regular file", path);
	assert_string_equal(err, want);
	unlink(path);
	rmdir(dir);
	free(dir);
}

/* Exactly 1 MiB loads; one byte more is refused. */
static void
test_load_size_limit(void **state)
{
	struct pc_policy	 p;
	char			 err[PC_POLICY_ERR_MAX], path[256], want[512];
	char			*dir, *buf;
	size_t			 off, max = 1024 * 1024;

	(void)state;
	buf = malloc(max + 2);
	assert_non_null(buf);
	off = (size_t)snprintf(buf, max, REQUIRED);
	while (off < max) {
		buf[off++] = '#';
		while (off < max && (off % 1000) != 999)
			buf[off++] = 'x';
		if (off < max)
			buf[off++] = '\n';
	}
	assert_int_equal(off, max);

	dir = make_tmpdir();
	snprintf(path, sizeof(path), "%s/big.conf", dir);
	write_file(path, buf, max);
	if (pc_policy_load(&p, path, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_string_equal(p.totp_key_file, "/etc/payconsole/totp.key");

	buf[max] = '\n';
	write_file(path, buf, max + 1);
	assert_int_equal(pc_policy_load(&p, path, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:0: file larger than 1048576 bytes",
	    path);
	assert_string_equal(err, want);

	unlink(path);
	rmdir(dir);
	free(dir);
	free(buf);
}

/* Symlinks are followed (configuration management uses them). */
static void
test_load_symlink(void **state)
{
	struct pc_policy	 p;
	char			 err[PC_POLICY_ERR_MAX], path[256];
	char			 target[4096];
	char			*dir;

	(void)state;
	assert_non_null(realpath(DATA "ok_minimal.conf", target));
	dir = make_tmpdir();
	snprintf(path, sizeof(path), "%s/link.conf", dir);
	assert_int_equal(symlink(target, path), 0);
	if (pc_policy_load(&p, path, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	unlink(path);
	rmdir(dir);
	free(dir);
}

/* The shipped reference file is valid and is the production default. */
static void
test_reference_conf(void **state)
{
	struct pc_policy	p, d;
	char			err[PC_POLICY_ERR_MAX];

	(void)state;
	if (pc_policy_load(&p, "../../conf/policy.conf", err,
	    sizeof(err)) != 0)
		fail_msg("%s", err);
	pc_policy_defaults(&d);

	assert_int_equal(p.environment, PC_POLICY_ENV_PRODUCTION);
	assert_int_equal(p.allow_count, 1);
	assert_true(addr_match(p.allow, 1, "10.8.0.1"));
	assert_true(addr_match(p.allow, 1, "10.8.0.255"));
	assert_false(addr_match(p.allow, 1, "10.8.1.0"));
	assert_false(addr_match(p.allow, 1, "127.0.0.1"));
	assert_false(addr_match(p.allow, 1, "::1"));
	assert_int_equal(p.trusted_proxy_count, 0);
	assert_string_equal(p.totp_key_file, "/etc/payconsole/totp.key");
	assert_string_equal(p.db_socket_dir, "/var/lib/payconsole/root/run");
	assert_string_equal(p.checkpoint_key_file,
	    "/etc/payconsole/checkpoint.key");
	assert_string_equal(p.checkpoint_file,
	    "/var/log/payconsole/checkpoints.log");
	assert_int_equal(p.checkpoint_interval_seconds,
	    d.checkpoint_interval_seconds);
	assert_int_equal(d.checkpoint_interval_seconds, 300);
	assert_int_equal(p.inactive_disable_days, d.inactive_disable_days);
	assert_int_equal(d.inactive_disable_days, 90);
	assert_int_equal(p.control_check_seconds, d.control_check_seconds);
	assert_int_equal(d.control_check_seconds, 30);
	assert_int_equal(p.chain_verify_seconds, d.chain_verify_seconds);
	assert_int_equal(d.chain_verify_seconds, 600);
	assert_int_equal(p.siem_sink, PC_POLICY_SIEM_NONE);
	assert_int_equal(d.siem_sink, PC_POLICY_SIEM_NONE);
	assert_int_equal(p.siem_interval_seconds, d.siem_interval_seconds);
	assert_int_equal(d.siem_interval_seconds, 5);
	assert_int_equal(p.siem_down_seconds, d.siem_down_seconds);
	assert_int_equal(d.siem_down_seconds, 60);

	/* Every other value written out equals the built-in default. */
	assert_memory_equal(&p.hours, &d.hours, sizeof(d.hours));
	assert_string_equal(p.timezone, d.timezone);
	assert_int_equal(p.lockout_threshold, d.lockout_threshold);
	assert_int_equal(p.lockout_seconds, d.lockout_seconds);
	assert_int_equal(p.lockout_max_seconds, d.lockout_max_seconds);
	assert_int_equal(p.source_fail_threshold, d.source_fail_threshold);
	assert_int_equal(p.source_fail_window, d.source_fail_window);
	assert_int_equal(p.source_block_seconds, d.source_block_seconds);
	assert_int_equal(p.argon2_t, d.argon2_t);
	assert_int_equal(p.argon2_m_kib, d.argon2_m_kib);
	assert_int_equal(p.argon2_p, d.argon2_p);
	assert_int_equal(p.argon2_inflight, d.argon2_inflight);
	assert_int_equal(p.session_idle_seconds, d.session_idle_seconds);
	assert_int_equal(p.session_absolute_seconds,
	    d.session_absolute_seconds);
	assert_int_equal(p.refund_approval_threshold,
	    d.refund_approval_threshold);
	assert_int_equal(p.approval_ttl_seconds, d.approval_ttl_seconds);
	assert_int_equal(p.enrolment_ttl_seconds, d.enrolment_ttl_seconds);
	assert_string_equal(p.db_name, d.db_name);
	assert_int_equal(p.db_timeout_seconds, d.db_timeout_seconds);
}

/* The Host rule: named hosts only, port or not, case aside. */
static void
test_server_names(void **state)
{
	static const struct {
		const char	*host;
		int		 ok;
	} rows[] = {
		{ "console.example.jp", 1 }, { "CONSOLE.Example.JP:443", 1 },
		{ "10.8.0.1:8443", 1 }, { "[fd00::1]:443", 1 },
		{ "[fd00::1]", 1 }, { "console.example.jp:", 0 },
		{ "console.example.jp:123456", 0 }, { "console.example.jp:4x", 0 },
		{ "console.example.jp.evil", 0 }, { "evil.console.example.jp", 0 },
		{ "console.example.j", 0 }, { "fd00::1", 0 }, { "[fd00::1", 0 },
		{ "[fd00::1]x", 0 }, { "", 0 }, { "127.0.0.1", 0 },
	};
	struct pc_policy	p;
	char			err[PC_POLICY_ERR_MAX];
	size_t			i;

	(void)state;
	assert_int_equal(parse_str(&p, REQUIRED
	    "server_name console.example.jp\n"
	    "server_name 10.8.0.1\n"
	    "server_name [fd00::1]\n", err, sizeof(err)), 0);
	assert_int_equal(p.server_name_count, 3);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (pc_policy_host_ok(&p, rows[i].host) != rows[i].ok)
			fail_msg("host '%s': want %d", rows[i].host,
			    rows[i].ok);
	}
	assert_int_equal(pc_policy_host_ok(&p, NULL), 0);

	/* At most 8. */
	assert_int_equal(parse_str(&p, REQUIRED
	    "server_name a1\nserver_name a2\nserver_name a3\n"
	    "server_name a4\nserver_name a5\nserver_name a6\n"
	    "server_name a7\nserver_name a8\nserver_name a9\n", err,
	    sizeof(err)), -1);
	assert_string_equal(err, "mem:11: server_name: more than 8 entries");

	/* Production without one: nothing is served. */
	assert_int_equal(parse_str(&p, REQUIRED, err, sizeof(err)), 0);
	assert_int_equal(p.server_name_count, 0);
	assert_int_equal(pc_policy_host_ok(&p, "127.0.0.1"), 0);
	assert_int_equal(pc_policy_host_ok(&p, "localhost:8443"), 0);

	/* Development without one: the loopback names. */
	assert_int_equal(parse_str(&p, REQUIRED "environment development\n"
	    "argon2_t 1\nargon2_m_kib 8192\n", err, sizeof(err)), 0);
	assert_int_equal(p.server_name_count, 3);
	assert_int_equal(pc_policy_host_ok(&p, "127.0.0.1:8443"), 1);
	assert_int_equal(pc_policy_host_ok(&p, "localhost"), 1);
	assert_int_equal(pc_policy_host_ok(&p, "[::1]:8443"), 1);
	assert_int_equal(pc_policy_host_ok(&p, "10.0.0.1"), 0);
}

static void
test_describe(void **state)
{
	struct pc_policy	p;
	char			err[PC_POLICY_ERR_MAX], buf[1024], small[8];
	char			want[1024];

	(void)state;
	assert_int_equal(pc_policy_load(&p, DATA "ok_full.conf", err,
	    sizeof(err)), 0);
	pc_policy_describe(&p, buf, sizeof(buf));
	snprintf(want, sizeof(want),
	    "environment=development hours=22:00-06:00 "
	    "timezone=America/Argentina/Buenos_Aires allow_cidr=4 "
	    "trusted_proxy=2 server_name=3 lockout=3/600s/7200s "
	    "source_fail=50/300s/block1200s/exempt0 "
	    "argon2id=t1,m8192,p2,inflight4 session=300s/3600s "
	    "four_eyes=refund>0/request3600s/enrolment7200s "
	    "db=pc_test_1@/srv/pc/root/run "
	    "totp_key_file=/etc/payconsole/totp.key sha256=%s",
	    OK_FULL_SHA256);
	assert_string_equal(buf, want);
	assert_null(strchr(buf, '\n'));

	pc_policy_describe(&p, small, sizeof(small));
	assert_string_equal(small, "environ");
	pc_policy_describe(&p, NULL, 0);
	pc_policy_describe(NULL, buf, sizeof(buf));
	assert_string_equal(buf, "");

	pc_policy_defaults(&p);
	pc_policy_describe(&p, buf, sizeof(buf));
	assert_non_null(strstr(buf, "environment=production "
	    "hours=09:00-24:00 timezone=Asia/Tokyo allow_cidr=0 "));
	assert_non_null(strstr(buf, " sha256=-"));
}

int
main(void)
{
	return (cmocka_run_group_tests(tests, NULL, NULL));
}

/* libpq's host list: the socket directory once per db_ports entry. */
static void
test_db_hosts(void **state)
{
	struct pc_policy	p;
	char			buf[32];

	(void)state;
	pc_policy_defaults(&p);
	assert_int_equal(pc_policy_db_hosts(&p, "/s", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/s");
	(void)snprintf(p.db_ports, sizeof(p.db_ports), "5432,5433,5434");
	assert_int_equal(pc_policy_db_hosts(&p, "/s", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/s,/s,/s");
	/* Exactly full, then one byte short. */
	assert_int_equal(pc_policy_db_hosts(&p, "/sock", buf, 18), 0);
	assert_string_equal(buf, "/sock,/sock,/sock");
	assert_int_equal(pc_policy_db_hosts(&p, "/sock", buf, 17), -1);
	assert_int_equal(pc_policy_db_hosts(&p, "/a,b", buf, sizeof(buf)), -1);
	assert_int_equal(pc_policy_db_hosts(&p, "/s", buf, 0), -1);
	(void)snprintf(p.db_ports, sizeof(p.db_ports), "5432,5433");
	assert_int_equal(pc_policy_db_hosts(&p, "/sock", buf, 12), 0);
	assert_string_equal(buf, "/sock,/sock");
	assert_int_equal(pc_policy_db_hosts(&p, "/sock", buf, 11), -1);
}
