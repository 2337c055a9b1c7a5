/*
 * refuse.c: the load generator for the allowlist figure of `make bench`,
 * and the ceiling it is compared with. bench/run compiles it into its
 * temporary directory.
 *
 *   refuse serve PORT THREADS
 *       A bare listener on 127.0.0.1:PORT: THREADS threads that accept()
 *       and close() and nothing else, the least a refusal can cost.
 *       Prints "ready" once listening; runs until killed.
 *
 *   refuse connect SRC DST PORT SECONDS THREADS
 *       THREADS threads open connections from SRC (bound, any port) to
 *       DST:PORT as fast as they can for SECONDS and wait for each to be
 *       closed by the server without a byte. A connection that stays
 *       open for 2 s was not refused. Prints one line:
 *       "refused R open O errors E seconds S".
 */
#define _GNU_SOURCE
#include <sys/socket.h>
#include <sys/time.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT	24
#endif

struct load {
	struct sockaddr_in	src, dst;
	double			until;
	uint64_t		refused, open, errors;
};

static int	lfd;

static double
now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

static void *
serve_thread(void *arg)
{
	int	fd;

	(void)arg;
	for (;;) {
		if ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) == -1)
			continue;
		close(fd);
	}
	return (NULL);
}

static void *
load_thread(void *arg)
{
	struct load	*l = arg;
	struct pollfd	pfd;
	char		b[64];
	ssize_t		n;
	int		fd, one = 1;

	while (now() < l->until) {
		if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
			l->errors++;
			continue;
		}
		(void)setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
		    sizeof(one));
		if (bind(fd, (struct sockaddr *)&l->src, sizeof(l->src)) == -1 ||
		    connect(fd, (struct sockaddr *)&l->dst,
		    sizeof(l->dst)) == -1) {
			l->errors++;
			close(fd);
			continue;
		}
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 2000) != 1) {
			l->open++;
		} else {
			n = recv(fd, b, sizeof(b), 0);
			if (n == 0 || (n == -1 && errno == ECONNRESET))
				l->refused++;
			else
				l->open++;
		}
		close(fd);
	}
	return (NULL);
}

static int
serve(int port, int nthreads)
{
	struct sockaddr_in	sin;
	pthread_t		t;
	int			i, one = 1;

	if ((lfd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return (1);
	(void)setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(lfd, 4096) == -1) {
		perror("refuse serve");
		return (1);
	}
	for (i = 0; i < nthreads; i++)
		pthread_create(&t, NULL, serve_thread, NULL);
	printf("ready\n");
	fflush(stdout);
	for (;;)
		pause();
}

static int
load(const char *src, const char *dst, int port, double secs, int nthreads)
{
	struct load	*l;
	pthread_t	*t;
	uint64_t	r = 0, o = 0, e = 0;
	double		t0;
	int		i;

	l = calloc((size_t)nthreads, sizeof(*l));
	t = calloc((size_t)nthreads, sizeof(*t));
	if (l == NULL || t == NULL)
		return (1);
	t0 = now();
	for (i = 0; i < nthreads; i++) {
		l[i].src.sin_family = l[i].dst.sin_family = AF_INET;
		l[i].dst.sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, src, &l[i].src.sin_addr) != 1 ||
		    inet_pton(AF_INET, dst, &l[i].dst.sin_addr) != 1)
			return (1);
		l[i].until = t0 + secs;
		pthread_create(&t[i], NULL, load_thread, &l[i]);
	}
	for (i = 0; i < nthreads; i++) {
		pthread_join(t[i], NULL);
		r += l[i].refused;
		o += l[i].open;
		e += l[i].errors;
	}
	printf("refused %llu open %llu errors %llu seconds %.3f\n",
	    (unsigned long long)r, (unsigned long long)o,
	    (unsigned long long)e, now() - t0);
	return (0);
}

int
main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "serve") == 0)
		return (serve(atoi(argv[2]), atoi(argv[3])));
	if (argc == 7 && strcmp(argv[1], "connect") == 0)
		return (load(argv[2], argv[3], atoi(argv[4]), atof(argv[5]),
		    atoi(argv[6])));
	fprintf(stderr, "usage: refuse serve PORT THREADS | "
	    "refuse connect SRC DST PORT SECONDS THREADS\n");
	return (2);
}
