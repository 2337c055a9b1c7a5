/*
 * sitecheck.c: payconsole-admin check-config (issue 17, part 4).
 *
 * What would stop the server at start-up, or make it refuse everyone
 * once started, found before it starts and reported all at once:
 *   1. policy.conf through the server's own parser, then its allowlist
 *      and host names (empty ones refuse every client);
 *   2. the key files it names, through the server's own loaders (mode,
 *      type, content);
 *   3. site.conf: the users and directories of the privilege
 *      separation, the TLS key (the key manager's, 0400) and whether
 *      the certificate matches it, the DH group;
 *   4. the database: reachable as the owner, every migration in the
 *      migrations directory applied and unchanged.
 * Kore parses site.conf itself; only the four directives this layout
 * depends on are read here, each with its line.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "ckpt.h"
#include "policy.h"
#include "secretbox.h"
#include "sitecheck.h"

enum {
	SC_ROOT,
	SC_RUNAS,
	SC_KEYMGR_ROOT,
	SC_KEYMGR_RUNAS,
	SC_DIRECTIVES
};

/* One site.conf directive: its value and line (0: not there). */
struct sitecheck_directive {
	const char	*name;
	char		value[PATH_MAX];
	int		line;
};

struct sitecheck {
	FILE				*out;
	int				problems;
	char				policy[PATH_MAX];
	char				siteconf[PATH_MAX];
	char				dh[PATH_MAX];
	struct sitecheck_directive	d[SC_DIRECTIVES];
};

static void	sitecheck_report(struct sitecheck *, const char *, int,
		    const char *, ...) __attribute__((format(printf, 4, 5)));
static int	sitecheck_policy(struct sitecheck *, struct pc_policy *);
static void	sitecheck_keys(struct sitecheck *, const struct pc_policy *);
static void	sitecheck_kore_read(struct sitecheck *);
static void	sitecheck_kore(struct sitecheck *);
static int	sitecheck_uid(const char *, uid_t *);
static void	sitecheck_user(struct sitecheck *, int, int);
static void	sitecheck_dir(struct sitecheck *, int, int);
static void	sitecheck_tls(struct sitecheck *);
static int	sitecheck_tls_key(struct sitecheck *, const char *);
static void	sitecheck_db(struct sitecheck *, const struct pc_policy *,
		    const char *);
static void	sitecheck_migrations(struct sitecheck *, PGresult *,
		    const char *);
static int	sitecheck_is_migration(const struct dirent *);
static int	sitecheck_sha256(const char *, char *);

static void
sitecheck_report(struct sitecheck *sc, const char *file, int line,
    const char *fmt, ...)
{
	va_list		ap;

	fprintf(sc->out, "%s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(sc->out, fmt, ap);
	va_end(ap);
	fputc('\n', sc->out);
	sc->problems++;
}

static int
sitecheck_policy(struct sitecheck *sc, struct pc_policy *p)
{
	char	err[PC_POLICY_ERR_MAX];

	if (pc_policy_load(p, sc->policy, err, sizeof(err)) == -1) {
		/* Already "file:line: message", as the server says it. */
		fprintf(sc->out, "%s\n", err);
		sc->problems++;
		return (-1);
	}
	if (p->allow_count == 0)
		sitecheck_report(sc, sc->policy, 0,
		    "no allow_cidr: every client would be refused");
	if (p->environment == PC_POLICY_ENV_PRODUCTION &&
	    p->server_name_count == 0)
		sitecheck_report(sc, sc->policy, 0,
		    "no server_name: every request would be refused (421)");
	if ((p->checkpoint_key_file[0] == '\0') !=
	    (p->checkpoint_file[0] == '\0'))
		sitecheck_report(sc, sc->policy, 0,
		    "checkpoint_key_file and checkpoint_file go together");
	return (0);
}

/* The server's own loaders: the same mode, type and content rules. */
static void
sitecheck_keys(struct sitecheck *sc, const struct pc_policy *p)
{
	struct pc_kek		kek;
	struct pc_ckpt_key	ck;
	char			err[PC_POLICY_ERR_MAX];

	memset(&kek, 0, sizeof(kek));
	if (pc_kek_load(&kek, p->totp_key_file, err, sizeof(err)) == -1)
		sitecheck_report(sc, p->totp_key_file, 0, "%s", err);
	pc_kek_wipe(&kek);

	if (p->checkpoint_key_file[0] == '\0')
		return;
	if (pc_ckpt_key_load(&ck, p->checkpoint_key_file, err,
	    sizeof(err)) == -1)
		sitecheck_report(sc, p->checkpoint_key_file, 0, "%s", err);
	else
		pc_ckpt_key_free(&ck);
}

/* The first word of a line is the directive, the second its value. */
static void
sitecheck_kore_read(struct sitecheck *sc)
{
	FILE		*f;
	char		*buf, *key, *val, *save;
	size_t		 cap;
	int		 line, i;

	if ((f = fopen(sc->siteconf, "r")) == NULL) {
		sitecheck_report(sc, sc->siteconf, 0, "cannot be read: %s",
		    strerror(errno));
		return;
	}
	buf = NULL;
	cap = 0;
	for (line = 1; getline(&buf, &cap, f) != -1; line++) {
		if ((key = strtok_r(buf, " \t\r\n", &save)) == NULL ||
		    (val = strtok_r(NULL, " \t\r\n", &save)) == NULL)
			continue;
		for (i = 0; i < SC_DIRECTIVES; i++) {
			if (strcmp(key, sc->d[i].name) != 0)
				continue;
			(void)snprintf(sc->d[i].value,
			    sizeof(sc->d[i].value), "%s", val);
			sc->d[i].line = line;
		}
	}
	free(buf);
	(void)fclose(f);
}

static void
sitecheck_kore(struct sitecheck *sc)
{
	sc->d[SC_ROOT].name = "root";
	sc->d[SC_RUNAS].name = "runas";
	sc->d[SC_KEYMGR_ROOT].name = "keymgr_root";
	sc->d[SC_KEYMGR_RUNAS].name = "keymgr_runas";
	sitecheck_kore_read(sc);

	sitecheck_user(sc, SC_RUNAS, SC_RUNAS);
	sitecheck_dir(sc, SC_ROOT, SC_ROOT);
	/* Kore's defaults: the key manager takes root and runas. */
	sitecheck_user(sc, SC_KEYMGR_RUNAS, SC_RUNAS);
	sitecheck_dir(sc, SC_KEYMGR_ROOT, SC_ROOT);
	sitecheck_tls(sc);
}

/* name's uid: 0, or -1 when there is no such user. */
static int
sitecheck_uid(const char *name, uid_t *uid)
{
	struct passwd	pw, *found;
	char		buf[4096];

	if (getpwnam_r(name, &pw, buf, sizeof(buf), &found) != 0 ||
	    found == NULL)
		return (-1);
	*uid = pw.pw_uid;
	return (0);
}

/* Directive i names a user; unset, it is dflt's (itself: required). */
static void
sitecheck_user(struct sitecheck *sc, int i, int dflt)
{
	struct sitecheck_directive	*d = &sc->d[i];
	uid_t				 uid;

	if (d->line == 0) {
		if (i == dflt)
			sitecheck_report(sc, sc->siteconf, 0,
			    "no %s: the server needs a user to drop to",
			    d->name);
		else
			*d = sc->d[dflt];
		return;
	}
	if (sitecheck_uid(d->value, &uid) == -1)
		sitecheck_report(sc, sc->siteconf, d->line,
		    "%s %s: no such user", d->name, d->value);
}

/* Directive i names a chroot directory; unset, it is dflt's. */
static void
sitecheck_dir(struct sitecheck *sc, int i, int dflt)
{
	struct sitecheck_directive	*d = &sc->d[i];
	struct stat			 st;

	if (d->line == 0) {
		if (i == dflt)
			sitecheck_report(sc, sc->siteconf, 0,
			    "no %s: the workers need a directory to chroot "
			    "into", d->name);
		else
			*d = sc->d[dflt];
		return;
	}
	if (stat(d->value, &st) == -1 || !S_ISDIR(st.st_mode))
		sitecheck_report(sc, sc->siteconf, d->line,
		    "%s %s: not a directory", d->name, d->value);
}

/*
 * cert.pem and key.pem inside keymgr_root (kore.conf's certfile and
 * certkey), the key readable by the key manager alone, the one the
 * certificate was issued for; and the DH group in the site's tls/.
 */
static void
sitecheck_tls(struct sitecheck *sc)
{
	const struct sitecheck_directive	*d = &sc->d[SC_KEYMGR_ROOT];
	char					 cert[PATH_MAX], key[PATH_MAX];
	FILE					*f;
	X509					*x;
	EVP_PKEY				*pk;

	if (d->line == 0)
		return;
	if ((size_t)snprintf(cert, sizeof(cert), "%s/cert.pem", d->value) >=
	    sizeof(cert) || (size_t)snprintf(key, sizeof(key), "%s/key.pem",
	    d->value) >= sizeof(key)) {
		sitecheck_report(sc, sc->siteconf, d->line, "%s: too long",
		    d->name);
		return;
	}

	x = NULL;
	pk = NULL;
	if ((f = fopen(cert, "r")) != NULL) {
		x = PEM_read_X509(f, NULL, NULL, NULL);
		(void)fclose(f);
	}
	if (x == NULL)
		sitecheck_report(sc, cert, 0, "no PEM certificate");
	else if (X509_cmp_current_time(X509_get0_notAfter(x)) < 0)
		sitecheck_report(sc, cert, 0, "expired");

	if (sitecheck_tls_key(sc, key) == 0 && (f = fopen(key, "r")) != NULL) {
		/* No passphrase callback: an encrypted key fails here too. */
		pk = PEM_read_PrivateKey(f, NULL, NULL, NULL);
		(void)fclose(f);
		if (pk == NULL)
			sitecheck_report(sc, key, 0,
			    "no unencrypted PEM private key");
	}
	if (x != NULL && pk != NULL && X509_check_private_key(x, pk) != 1)
		sitecheck_report(sc, cert, 0,
		    "does not match the private key %s", key);
	X509_free(x);
	EVP_PKEY_free(pk);

	if ((f = fopen(sc->dh, "r")) == NULL)
		sitecheck_report(sc, sc->dh, 0, "cannot be read: %s",
		    strerror(errno));
	else
		(void)fclose(f);
}

/* The key manager reads key.pem as keymgr_runas: its file, 0400. */
static int
sitecheck_tls_key(struct sitecheck *sc, const char *key)
{
	const struct sitecheck_directive	*u = &sc->d[SC_KEYMGR_RUNAS];
	struct stat				 st;
	uid_t					 uid;

	if (lstat(key, &st) == -1) {
		sitecheck_report(sc, key, 0, "%s", strerror(errno));
		return (-1);
	}
	if (!S_ISREG(st.st_mode)) {
		sitecheck_report(sc, key, 0, "not a regular file");
		return (-1);
	}
	if ((st.st_mode & 077) != 0)
		sitecheck_report(sc, key, 0,
		    "readable or writable by group or others");
	if (u->line != 0 && sitecheck_uid(u->value, &uid) == 0 &&
	    st.st_uid != uid)
		sitecheck_report(sc, key, 0, "not owned by %s, the key "
		    "manager's user (keymgr_runas)", u->value);
	return (0);
}

/*
 * As the owner role, which alone reads meta.schema_migrations, and as
 * admin_connect() reaches it: every db_ports port, the one that takes
 * writes.
 */
static void
sitecheck_db(struct sitecheck *sc, const struct pc_policy *p,
    const char *migdir)
{
	char		 hosts[1024];
	const char	*keys[] = { "host", "dbname", "user", "sslmode",
			    "gssencmode", "connect_timeout",
			    "application_name", "target_session_attrs", "port",
			    NULL };
	const char	*vals[] = { hosts, p->db_name, "pc_owner",
			    "disable", "disable", "10", "payconsole-admin",
			    "read-write", p->db_ports, NULL };
	PGconn		*conn;
	PGresult	*res;
	const char	*state;

	if (pc_policy_db_hosts(p, p->db_socket_dir, hosts,
	    sizeof(hosts)) == -1) {
		sitecheck_report(sc, sc->policy, 0,
		    "db_socket_dir: too long for db_ports");
		return;
	}
	/* No ports: libpq's default (the keys end before "port"). */
	if (p->db_ports[0] == '\0')
		keys[8] = NULL;
	conn = PQconnectdbParams(keys, vals, 0);
	if (PQstatus(conn) != CONNECTION_OK) {
		sitecheck_report(sc, sc->policy, 0,
		    "database %s on %s unreachable: %.*s", p->db_name,
		    p->db_socket_dir,
		    (int)strcspn(PQerrorMessage(conn), "\n"),
		    PQerrorMessage(conn));
		PQfinish(conn);
		return;
	}
	res = PQexecParams(conn,
	    "SELECT name, sha256 FROM meta.schema_migrations", 0, NULL, NULL,
	    NULL, NULL, 0);
	if (PQresultStatus(res) == PGRES_TUPLES_OK) {
		sitecheck_migrations(sc, res, migdir);
	} else {
		state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		/* undefined_table: never migrated, everything pending. */
		if (state != NULL && strcmp(state, "42P01") == 0) {
			PQclear(res);
			res = NULL;
			sitecheck_migrations(sc, NULL, migdir);
		} else {
			sitecheck_report(sc, sc->policy, 0, "database %s: "
			    "%.*s", p->db_name, (int)strcspn(
			    PQresultErrorMessage(res), "\n"),
			    PQresultErrorMessage(res));
		}
	}
	PQclear(res);
	PQfinish(conn);
}

/* Each file in dir applied with the same SHA-256, each applied there. */
static void
sitecheck_migrations(struct sitecheck *sc, PGresult *res, const char *dir)
{
	struct dirent	**names;
	struct stat	  st;
	char		  path[PATH_MAX], sum[65];
	int		  n, i, r, rows;

	rows = res != NULL ? PQntuples(res) : 0;
	if ((n = scandir(dir, &names, sitecheck_is_migration,
	    alphasort)) == -1) {
		sitecheck_report(sc, dir, 0, "cannot be read: %s",
		    strerror(errno));
		return;
	}
	for (i = 0; i < n; i++) {
		(void)snprintf(path, sizeof(path), "%s/%s", dir,
		    names[i]->d_name);
		for (r = 0; r < rows; r++) {
			if (strcmp(PQgetvalue(res, r, 0),
			    names[i]->d_name) == 0)
				break;
		}
		if (r == rows)
			sitecheck_report(sc, path, 0, "not applied "
			    "(payconsole-admin migrate)");
		else if (sitecheck_sha256(path, sum) == -1)
			sitecheck_report(sc, path, 0, "cannot be read");
		else if (strcmp(sum, PQgetvalue(res, r, 1)) != 0)
			sitecheck_report(sc, path, 0, "changed since it was "
			    "applied; migrations are append-only");
		free(names[i]);
	}
	free(names);

	for (r = 0; r < rows; r++) {
		(void)snprintf(path, sizeof(path), "%s/%s", dir,
		    PQgetvalue(res, r, 0));
		if (stat(path, &st) == -1)
			sitecheck_report(sc, dir, 0, "applied migration %s "
			    "is missing", PQgetvalue(res, r, 0));
	}
}

/* NNN_*.sql, as scripts/migrate applies them. */
static int
sitecheck_is_migration(const struct dirent *e)
{
	const char	*s = e->d_name;
	size_t		 len = strlen(s);

	return (len > 8 && s[0] >= '0' && s[0] <= '9' && s[1] >= '0' &&
	    s[1] <= '9' && s[2] >= '0' && s[2] <= '9' && s[3] == '_' &&
	    strcmp(s + len - 4, ".sql") == 0);
}

/* Lower-case hex SHA-256 of a file, as sha256sum prints it. */
static int
sitecheck_sha256(const char *path, char *hex)
{
	EVP_MD_CTX	*md;
	FILE		*f;
	unsigned char	 buf[8192], out[EVP_MAX_MD_SIZE];
	unsigned int	 len, i;
	size_t		 n;
	int		 rc;

	if ((f = fopen(path, "r")) == NULL)
		return (-1);
	if ((md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(md);
		(void)fclose(f);
		return (-1);
	}
	rc = 0;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
		if (EVP_DigestUpdate(md, buf, n) != 1)
			rc = -1;
	}
	if (ferror(f) || EVP_DigestFinal_ex(md, out, &len) != 1)
		rc = -1;
	EVP_MD_CTX_free(md);
	(void)fclose(f);
	if (rc == -1)
		return (-1);
	for (i = 0; i < len; i++)
		(void)snprintf(hex + 2 * i, 3, "%02x", out[i]);
	return (0);
}

int
pc_sitecheck_run(const char *site, const char *migrations, FILE *out)
{
	struct sitecheck	sc;
	struct pc_policy	p;
	int			policy_ok;

	memset(&sc, 0, sizeof(sc));
	sc.out = out;
	if ((size_t)snprintf(sc.policy, sizeof(sc.policy), "%s/policy.conf",
	    site) >= sizeof(sc.policy) || (size_t)snprintf(sc.siteconf,
	    sizeof(sc.siteconf), "%s/site.conf", site) >= sizeof(sc.siteconf) ||
	    (size_t)snprintf(sc.dh, sizeof(sc.dh), "%s/tls/dh.pem", site) >=
	    sizeof(sc.dh)) {
		sitecheck_report(&sc, site, 0, "path too long");
		return (sc.problems);
	}

	policy_ok = sitecheck_policy(&sc, &p) == 0;
	if (policy_ok)
		sitecheck_keys(&sc, &p);
	sitecheck_kore(&sc);
	if (policy_ok)
		sitecheck_db(&sc, &p, migrations);
	return (sc.problems);
}
