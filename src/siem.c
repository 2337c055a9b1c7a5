/*
 * siem.c: the SIEM stream (issue 16, part 2): every sealed audit event,
 * once committed and linked, as one RFC 5424 syslog message.
 *
 * Who holds what: the parent (root, before chroot) resolves the
 * collector's name and reads its CA file into an SSL_CTX (the workers
 * have neither a resolver nor the file); worker 1 streams. A local sink
 * is a datagram socket under Kore's root, which worker 1 reconnects to
 * by its path inside the chroot whenever the syslog daemon restarts.
 *
 * Each round, every siem_interval_seconds, in worker 1:
 *   1. a stream sink that has ended (a close_notify, a FIN, an error:
 *      a collector sends no data) is closed, and what it took last
 *      round is not acknowledged;
 *   2. audit.siem_next(ack, 200) moves audit.siem_cursor to what the
 *      sink took last round (ack) and returns the sealed events after
 *      it, in chain order;
 *   3. the sink is (re)connected, each event formatted (siembody.c,
 *      syslog5424.c) and sent: a datagram each, or "LEN SP MSG" frames
 *      (RFC 5425) over TLS;
 *   4. the sink's health raises or clears syslog_down (control.c).
 *
 * Delivery is at least once, by id: a datagram that send() took is in
 * the daemon's queue, so it is acknowledged at the next round; over TLS
 * a successful SSL_write() only means the kernel has it, so a batch is
 * acknowledged one round later if the connection is still healthy then,
 * and sent again after a reconnect otherwise. Without RELP a collector
 * that crashed after reading a batch and before storing it loses it;
 * a restart of the collector does not. The collector deduplicates by
 * the SD parameter id; seq (the chain's) shows a gap.
 *
 * Blocking: the query is asynchronous; connecting and writing are
 * bounded by PC_SIEM_IO_MS each (a refused local connection costs
 * nothing, a black-holed collector at most a few seconds per round).
 */
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "app.h"
#include "control.h"
#include "db.h"
#include "siem.h"
#include "siembody.h"
#include "syslog5424.h"

#define PC_SIEM_BATCH		"200"
#define PC_SIEM_IO_MS		2000
/* RFC 5424 facility 13, "log audit". */
#define PC_SIEM_FACILITY	13

static int	pc_siem_resolve(char *, size_t);
static int	pc_siem_tls_init(char *, size_t);
static void	pc_siem_tick(void *, u_int64_t);
static void	pc_siem_rows(PGresult *, void *);
static void	pc_siem_done(int, void *);
static void	pc_siem_batch(PGresult *);
static int	pc_siem_connect(const char **);
static int	pc_siem_connect_local(const char **);
static int	pc_siem_connect_tls(const char **);
static int	pc_siem_wait(int, short);
static int	pc_siem_peer_check(SSL *);
static int	pc_siem_alive(void);
static void	pc_siem_close(void);
static int	pc_siem_send(PGresult *, int, const char **);
static int	pc_siem_write(char *, size_t, const char **);
static void	pc_siem_health(int, const char *);
static const char *pc_siem_text(PGresult *, int, int);

static char			pc_siem_hostname[PC_SYSLOG5424_HOST_MAX + 1];
static char			pc_siem_peer[PC_POLICY_HOST_MAX];
static struct sockaddr_storage	pc_siem_addr;
static socklen_t		pc_siem_addrlen;
static SSL_CTX			*pc_siem_ctx;
static const char		*pc_siem_path;

static int			pc_siem_fd = -1;
static SSL			*pc_siem_ssl;
/* The last event the sink took this round, acknowledged at the next. */
static int64_t			pc_siem_sent;
/* When the sink last failed to take anything (0: it is up). */
static time_t			pc_siem_down;
static int			pc_siem_inflight;

/* The collector's address, resolved once: the workers have no DNS. */
static int
pc_siem_resolve(char *err, size_t errlen)
{
	struct addrinfo		hints, *res;
	char			host[PC_POLICY_HOST_MAX], *colon;
	int			rc;

	(void)snprintf(host, sizeof(host), "%s", pc_policy.siem_collector);
	/* policy.c checked "host:port"; a bracketed IPv6 loses them. */
	colon = strrchr(host, ':');
	*colon = '\0';
	if (host[0] == '[') {
		host[strlen(host) - 1] = '\0';
		memmove(host, host + 1, strlen(host));
	}
	(void)snprintf(pc_siem_peer, sizeof(pc_siem_peer), "%s", host);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(host, colon + 1, &hints, &res)) != 0) {
		(void)snprintf(err, errlen, "siem_collector %s: %s",
		    pc_policy.siem_collector, gai_strerror(rc));
		return (-1);
	}
	memcpy(&pc_siem_addr, res->ai_addr, res->ai_addrlen);
	pc_siem_addrlen = res->ai_addrlen;
	freeaddrinfo(res);
	return (0);
}

/* TLS 1.2 or later, the collector's certificate checked against siem_ca. */
static int
pc_siem_tls_init(char *err, size_t errlen)
{
	if ((pc_siem_ctx = SSL_CTX_new(TLS_client_method())) == NULL ||
	    SSL_CTX_set_min_proto_version(pc_siem_ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_load_verify_locations(pc_siem_ctx, pc_policy.siem_ca,
	    NULL) != 1) {
		(void)snprintf(err, errlen, "siem_ca %s: cannot be loaded",
		    pc_policy.siem_ca);
		SSL_CTX_free(pc_siem_ctx);
		pc_siem_ctx = NULL;
		return (-1);
	}
	SSL_CTX_set_verify(pc_siem_ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_mode(pc_siem_ctx, SSL_MODE_AUTO_RETRY);
	return (0);
}

int
pc_siem_parent_init(char *err, size_t errlen)
{
	if (pc_policy.siem_sink == PC_POLICY_SIEM_NONE) {
		kore_log(LOG_WARNING, "siem_sink none: the audit trail is not "
		    "streamed to a SIEM");
		return (0);
	}
	if (gethostname(pc_siem_hostname, sizeof(pc_siem_hostname) - 1) == -1)
		(void)snprintf(pc_siem_hostname, sizeof(pc_siem_hostname),
		    "-");
	if (pc_policy.siem_sink == PC_POLICY_SIEM_TLS &&
	    (pc_siem_resolve(err, errlen) == -1 ||
	    pc_siem_tls_init(err, errlen) == -1))
		return (-1);
	kore_log(LOG_NOTICE, "siem: every sealed event to %s %s, every %u s",
	    pc_policy.siem_sink == PC_POLICY_SIEM_TLS ? "tls" : "local",
	    pc_policy.siem_sink == PC_POLICY_SIEM_TLS ?
	    pc_policy.siem_collector : pc_policy.siem_socket,
	    pc_policy.siem_interval_seconds);
	return (0);
}

void
pc_siem_parent_teardown(void)
{
	SSL_CTX_free(pc_siem_ctx);
	pc_siem_ctx = NULL;
}

/* Worker 1 streams; the others need nothing of it. */
void
pc_siem_worker_init(void)
{
	if (worker == NULL || worker->id != 1) {
		pc_siem_parent_teardown();
		return;
	}
	if (pc_policy.siem_sink == PC_POLICY_SIEM_NONE)
		return;
	if (pc_policy.siem_sink == PC_POLICY_SIEM_LOCAL)
		pc_siem_path = pc_db_inside_root(pc_policy.siem_socket,
		    "siem_socket");
	kore_timer_add(pc_siem_tick,
	    (u_int64_t)pc_policy.siem_interval_seconds * 1000, NULL, 0);
}

/*
 * A clean stop acknowledges what the sink took in the last round (the
 * query is synchronous: the event loop has ended), so the next start
 * does not send it again.
 */
void
pc_siem_worker_stop(void)
{
	struct kore_pgsql	sql;
	const char		*v[1];
	char			ack[24];
	int			len[1], fmt[1];

	if (worker == NULL || worker->id != 1 || pc_siem_fd == -1)
		return;
	if (pc_siem_sent > 0 && pc_siem_alive()) {
		(void)snprintf(ack, sizeof(ack), "%" PRId64, pc_siem_sent);
		v[0] = ack;
		len[0] = (int)strlen(ack);
		fmt[0] = 0;
		kore_pgsql_init(&sql);
		if (!kore_pgsql_setup(&sql, PC_DB_AUTH, KORE_PGSQL_SYNC) ||
		    !kore_pgsql_query_param_fields(&sql, "SELECT 1 FROM "
		    "audit.siem_next($1::bigint, 1)", KORE_PGSQL_FORMAT_TEXT,
		    1, v, len, fmt))
			kore_log(LOG_WARNING, "siem: the last batch was not "
			    "acknowledged: it is sent again at the next start");
		kore_pgsql_cleanup(&sql);
	}
	if (pc_siem_ssl != NULL)
		(void)SSL_shutdown(pc_siem_ssl);
	pc_siem_close();
}

static void
pc_siem_tick(void *arg, u_int64_t now)
{
	const char	*v[1];
	char		ack[24];

	(void)arg;
	(void)now;
	if (pc_siem_inflight)
		return;
	/* Step 1: what a dead stream took last round is sent again. */
	if (pc_siem_fd != -1 && !pc_siem_alive()) {
		pc_siem_close();
		pc_siem_sent = 0;
		pc_siem_health(0, "the collector closed the connection");
	}
	/* Step 2. */
	(void)snprintf(ack, sizeof(ack), "%" PRId64, pc_siem_sent);
	v[0] = ack;
	pc_siem_inflight = pc_db_bg(PC_DB_AUTH, "SELECT seq, id, at, "
	    "actor_id, actor_name, actor_role, source, event, target, "
	    "outcome, details FROM audit.siem_next($1::bigint, "
	    PC_SIEM_BATCH ")", 1, v, pc_siem_rows, pc_siem_done, NULL);
}

/* The cursor is at what was sent: steps 3 and 4. */
static void
pc_siem_rows(PGresult *res, void *arg)
{
	(void)arg;
	pc_siem_sent = 0;
	pc_siem_batch(res);
}

static void
pc_siem_done(int ok, void *arg)
{
	(void)arg;
	pc_siem_inflight = 0;
	if (!ok)
		kore_log(LOG_WARNING, "siem: the next batch cannot be read");
}

/* Steps 3 and 4: every row to the sink, in order, until one fails. */
static void
pc_siem_batch(PGresult *res)
{
	const char	*why;
	int		i, n;

	why = NULL;
	if (pc_siem_fd == -1 && pc_siem_connect(&why) == -1) {
		pc_siem_health(0, why);
		return;
	}
	n = PQntuples(res);
	for (i = 0; i < n; i++) {
		if (pc_siem_send(res, i, &why) == -1) {
			kore_log(LOG_WARNING, "siem: event %s not sent: %s",
			    PQgetvalue(res, i, 1), why);
			pc_siem_close();
			/* A datagram sent was delivered; a stream's maybe not. */
			if (pc_policy.siem_sink == PC_POLICY_SIEM_TLS) {
				pc_siem_sent = 0;
				pc_siem_health(0, why);
			} else
				/* A daemon that took some is slow, not down. */
				pc_siem_health(i > 0, why);
			return;
		}
		pc_siem_sent = strtoll(PQgetvalue(res, i, 1), NULL, 10);
	}
	pc_siem_health(1, NULL);
}

/* Up clears syslog_down; down raises it once it has lasted long enough. */
static void
pc_siem_health(int up, const char *why)
{
	time_t	now;

	now = time(NULL);
	if (up) {
		pc_siem_down = 0;
		pc_control_syslog(0, 0, NULL);
		return;
	}
	if (pc_siem_down == 0)
		pc_siem_down = now;
	if (now - pc_siem_down >= (time_t)pc_policy.siem_down_seconds)
		pc_control_syslog(1, pc_siem_down, why);
}

static const char *
pc_siem_text(PGresult *res, int row, int col)
{
	return (PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col));
}

/* One row as one message. 0 or -1 with *why. */
static int
pc_siem_send(PGresult *res, int row, const char **why)
{
	struct pc_siembody_event	ev;
	struct pc_syslog5424		m;
	char				*body, *msg;
	size_t				blen, cap;
	int				n, rc;

	memset(&ev, 0, sizeof(ev));
	ev.seq = strtoll(PQgetvalue(res, row, 0), NULL, 10);
	ev.id = strtoll(PQgetvalue(res, row, 1), NULL, 10);
	ev.at = pc_siem_text(res, row, 2);
	ev.actor_id = pc_siem_text(res, row, 3);
	ev.actor_name = pc_siem_text(res, row, 4);
	ev.actor_role = pc_siem_text(res, row, 5);
	ev.source = pc_siem_text(res, row, 6);
	ev.event = pc_siem_text(res, row, 7);
	ev.target = pc_siem_text(res, row, 8);
	ev.outcome = pc_siem_text(res, row, 9);
	ev.details = pc_siem_text(res, row, 10);
	if ((body = pc_siembody_json(&ev, &blen)) == NULL) {
		*why = "out of memory";
		return (-1);
	}
	memset(&m, 0, sizeof(m));
	m.facility = PC_SIEM_FACILITY;
	m.severity = pc_syslog5424_severity(ev.outcome);
	m.timestamp = ev.at;
	m.hostname = pc_siem_hostname;
	m.app = "payconsole";
	m.procid = (int64_t)pc_server_pid;
	m.id = ev.id;
	m.seq = ev.seq;
	m.type = ev.event;
	m.body = body;
	/* The header and SD are bounded: a type of 64, ids of 19 digits. */
	cap = PC_SYSLOG5424_FRAME_MAX + blen + 1024;
	msg = kore_malloc(cap);
	if ((n = pc_syslog5424_format(&m, msg + PC_SYSLOG5424_FRAME_MAX,
	    cap - PC_SYSLOG5424_FRAME_MAX)) == -1) {
		*why = "cannot be formatted";
		rc = -1;
	} else
		rc = pc_siem_write(msg + PC_SYSLOG5424_FRAME_MAX, (size_t)n,
		    why);
	kore_free(msg);
	free(body);
	return (rc);
}

/*
 * A datagram, or the frame and the message as one TLS write: msg has
 * PC_SYSLOG5424_FRAME_MAX bytes of room in front of it for the frame.
 */
static int
pc_siem_write(char *msg, size_t len, const char **why)
{
	char		frame[PC_SYSLOG5424_FRAME_MAX + 1];
	char		*start;
	int		flen;
	ssize_t		w;

	if (pc_siem_ssl == NULL) {
		/* A full queue: the daemon gets a moment to read, once. */
		w = send(pc_siem_fd, msg, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w == -1 && errno == EAGAIN &&
		    pc_siem_wait(pc_siem_fd, POLLOUT) == 0)
			w = send(pc_siem_fd, msg, len,
			    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w != (ssize_t)len) {
			*why = w == -1 ? strerror(errno) : "short send";
			return (-1);
		}
		return (0);
	}
	if ((flen = pc_syslog5424_frame(len, frame, sizeof(frame))) == -1) {
		*why = "message too long";
		return (-1);
	}
	start = msg - flen;
	memcpy(start, frame, (size_t)flen);
	ERR_clear_error();
	if (SSL_write(pc_siem_ssl, start, (int)len + flen) != (int)len + flen) {
		*why = "TLS write failed";
		return (-1);
	}
	return (0);
}

static int
pc_siem_connect(const char **why)
{
	return (pc_policy.siem_sink == PC_POLICY_SIEM_TLS ?
	    pc_siem_connect_tls(why) : pc_siem_connect_local(why));
}

static int
pc_siem_connect_local(const char **why)
{
	struct sockaddr_un	sun;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(pc_siem_path) >= sizeof(sun.sun_path)) {
		*why = "siem_socket path too long";
		return (-1);
	}
	memcpy(sun.sun_path, pc_siem_path, strlen(pc_siem_path));
	pc_siem_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (pc_siem_fd == -1 ||
	    connect(pc_siem_fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		*why = strerror(errno);
		pc_siem_close();
		return (-1);
	}
	return (0);
}

/* Until fd is ready for events, at most PC_SIEM_IO_MS. 0 or -1. */
static int
pc_siem_wait(int fd, short events)
{
	struct pollfd	pfd;

	pfd.fd = fd;
	pfd.events = events;
	pfd.revents = 0;
	return (poll(&pfd, 1, PC_SIEM_IO_MS) == 1 ? 0 : -1);
}

/*
 * The certificate must name the collector as siem_collector does: an
 * address literal as an IP SAN (and no SNI, RFC 6066), else a DNS name.
 */
static int
pc_siem_peer_check(SSL *ssl)
{
	struct in6_addr	a6;

	if (inet_pton(AF_INET, pc_siem_peer, &a6) == 1 ||
	    inet_pton(AF_INET6, pc_siem_peer, &a6) == 1)
		return (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl),
		    pc_siem_peer) == 1 ? 0 : -1);
	if (SSL_set_tlsext_host_name(ssl, pc_siem_peer) != 1 ||
	    SSL_set1_host(ssl, pc_siem_peer) != 1)
		return (-1);
	return (0);
}

/* TCP with a bounded connect, then TLS with the name checked. */
static int
pc_siem_connect_tls(const char **why)
{
	struct timeval	tv;
	socklen_t	slen;
	long		verify;
	int		soerr;

	pc_siem_fd = socket(pc_siem_addr.ss_family, SOCK_STREAM |
	    SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (pc_siem_fd == -1) {
		*why = strerror(errno);
		return (-1);
	}
	if (connect(pc_siem_fd, (struct sockaddr *)&pc_siem_addr,
	    pc_siem_addrlen) == -1) {
		soerr = errno;
		slen = sizeof(soerr);
		if (soerr != EINPROGRESS ||
		    pc_siem_wait(pc_siem_fd, POLLOUT) == -1 ||
		    getsockopt(pc_siem_fd, SOL_SOCKET, SO_ERROR, &soerr,
		    &slen) == -1 || soerr != 0) {
			*why = soerr == EINPROGRESS ? "connect timed out" :
			    strerror(soerr);
			pc_siem_close();
			return (-1);
		}
	}
	/* Blocking from here, each read or write bounded. */
	tv.tv_sec = PC_SIEM_IO_MS / 1000;
	tv.tv_usec = 0;
	if (fcntl(pc_siem_fd, F_SETFL, 0) == -1 ||
	    setsockopt(pc_siem_fd, SOL_SOCKET, SO_SNDTIMEO, &tv,
	    sizeof(tv)) == -1 ||
	    setsockopt(pc_siem_fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
	    sizeof(tv)) == -1 ||
	    (pc_siem_ssl = SSL_new(pc_siem_ctx)) == NULL ||
	    SSL_set_fd(pc_siem_ssl, pc_siem_fd) != 1 ||
	    pc_siem_peer_check(pc_siem_ssl) == -1) {
		*why = "TLS set-up failed";
		pc_siem_close();
		return (-1);
	}
	ERR_clear_error();
	if (SSL_connect(pc_siem_ssl) != 1) {
		verify = SSL_get_verify_result(pc_siem_ssl);
		*why = verify != X509_V_OK ?
		    X509_verify_cert_error_string(verify) :
		    "TLS handshake failed";
		kore_log(LOG_WARNING, "siem: %s: %s", pc_policy.siem_collector,
		    *why);
		pc_siem_close();
		return (-1);
	}
	return (0);
}

/*
 * A stream is healthy while reading it gives nothing: collectors send no
 * data. What TLS itself sends (TLS 1.3 session tickets) is read and
 * dropped without blocking; an end (close_notify, EOF) or an error is
 * not healthy.
 */
static int
pc_siem_alive(void)
{
	char	buf[512];
	int	n, alive;

	if (pc_siem_ssl == NULL)
		return (1);
	if (fcntl(pc_siem_fd, F_SETFL, O_NONBLOCK) == -1)
		return (0);
	for (;;) {
		ERR_clear_error();
		if ((n = SSL_read(pc_siem_ssl, buf, sizeof(buf))) > 0)
			continue;
		alive = SSL_get_error(pc_siem_ssl, n) == SSL_ERROR_WANT_READ;
		break;
	}
	if (fcntl(pc_siem_fd, F_SETFL, 0) == -1)
		alive = 0;
	return (alive);
}

static void
pc_siem_close(void)
{
	if (pc_siem_ssl != NULL) {
		SSL_free(pc_siem_ssl);
		pc_siem_ssl = NULL;
	}
	if (pc_siem_fd != -1)
		(void)close(pc_siem_fd);
	pc_siem_fd = -1;
}
