/*
 * hours.c: allowed-hours window in a policy timezone (pure, no Kore headers).
 *
 * The zone comes from a TZif file (RFC 8536) read once before the workers
 * chroot. Nothing here touches localtime(), mktime() or TZ: every decision
 * is a function of (window, zone, instant) so that it behaves the same in
 * the chroot, in tests and in the admin CLI.
 *
 * Why not glibc (measured 2026-12, glibc 2.36, Debian tzdata 2025b): a
 * variant with TZ=":/usr/share/zoneinfo/Area/City" + tzset() before the
 * chroot and localtime_r()/tm_gmtoff in the decisions gave the same
 * answers on every decision test in test_hours.c (offsets, allowed,
 * window end, brute-force window end, fail-closed arguments) and keeps
 * its zone after chroot (strace: no file access while TZ is unchanged).
 * It was not adopted because:
 * - It cannot fail closed. tzset() reports nothing: of the 6,595 proper
 *   prefixes of the six test zone files and the 14,851 random
 *   corruptions that the parser below refuses, glibc silently used UTC
 *   for 6,458 and 10,838 and other wrong offsets for 92 and 1,265; all
 *   37 footer strings refused below were taken as UTC or as a wrong
 *   offset ("JST-25" as +24h, "JST-9:60" as +9:59, "M0.5.0" as DST all
 *   year). A missing or unreadable zone also becomes UTC, which cannot
 *   be told from a real "UTC" policy (test_login uses Etc/UTC).
 * - The zone is one global per process. A second zone (the unit tests
 *   switch between six) or a zone named after chroot makes glibc re-read
 *   the file: inside the chroot that silently gives UTC, and switching
 *   back to the first zone gives UTC too.
 * - glibc has no "next transition": the window end had to probe hourly
 *   and bisect, assuming at most one offset change per probed hour.
 * - It reads leap-second ("right/") zones, giving wall clocks 27 s off
 *   for POSIX time_t; the parser refuses them.
 * Speed was not a reason: glibc took about 0.2-0.3 us per window check
 * and 2 us per window end (this code: 0.01-0.02 us); switching zones
 * cost 11 us a check. The policy (and so the zone) is loaded once, by
 * the parent in kore_parent_configure(); nothing reloads it (SIGHUP only
 * reopens access logs), and the admin CLI does not use the zone.
 *
 * The TZif image is treated as hostile: every count is checked against
 * the buffer and against the fixed arrays in struct pc_tz before anything
 * is read, and anything we do not model (leap seconds, Julian-day footer
 * rules, unknown versions) is refused so that start-up fails instead of
 * the window silently drifting.
 *
 * DST: the window is always judged on the local wall clock at instant t
 * (t + offset in force at t). A gap skips wall-clock minutes; a repeated
 * hour is judged twice, so a window ending at 02:30 on a fall-back night
 * closes at 02:30 summer time and opens again for the half hour from
 * 02:00 to 02:30 winter time. pc_hours_window_end() returns exactly the
 * first instant after t at which that judgement becomes "denied".
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hours.h"

#define PC_HOURS_DAY		86400
#define PC_HOURS_MIN_DAY	1440

/*
 * Instants beyond +-2^50 s (35 million years) are refused: it keeps
 * t + offset and the calendar arithmetic far from int64 overflow.
 */
#define PC_HOURS_T_LIMIT	((int64_t)1 << 50)

/* Bound on pc_hours_window_end() steps; each step is one offset change. */
#define PC_HOURS_MAX_STEPS	(PC_TZ_MAX_TRANS + 64)

#define PC_TZ_FILE_MAX		(64 * 1024)
#define PC_TZ_NAME_MAX		63
#define PC_TZ_HDR_LEN		44
#define PC_TZ_FOOTER_MAX	255

/* RFC 8536 3.2: utoff SHOULD be in -89999..93599 (-25h..+26h). */
#define PC_TZ_OFF_MIN		(-89999)
#define PC_TZ_OFF_MAX		93599

/* POSIX offsets allow 0..24 hours; RFC 8536 rule times 0..167. */
#define PC_TZ_OFF_HMAX		24
#define PC_TZ_RULE_HMAX		167

struct pc_tz_hdr {
	uint8_t		version;
	uint32_t	isutcnt;
	uint32_t	isstdcnt;
	uint32_t	leapcnt;
	uint32_t	timecnt;
	uint32_t	typecnt;
	uint32_t	charcnt;
};

static int	pc_hours_hhmm(const char *p, int is_end, uint16_t *out);
static int	pc_hours_window_ok(const struct pc_hours_window *w);
static int	pc_hours_zone_ok(const struct pc_tz *tz);
static int	pc_hours_stays(const struct pc_hours_window *w,
		    const struct pc_tz *tz, int64_t u, int full, int64_t day0);
static int64_t	pc_hours_fdiv(int64_t a, int64_t b);
static int64_t	pc_hours_fmod(int64_t a, int64_t b);
static int64_t	pc_hours_local_day(const struct pc_tz *tz, int64_t t);
static int64_t	pc_hours_days_from_civil(int64_t y, int m, int d);
static int64_t	pc_hours_year_of(int64_t days);
static int	pc_hours_leap(int64_t y);

static uint32_t	pc_tz_be32(const uint8_t *p);
static int64_t	pc_tz_be64(const uint8_t *p);
static int32_t	pc_tz_s32(uint32_t v);
static int	pc_tz_header(const uint8_t *data, size_t len, size_t off,
		    struct pc_tz_hdr *h);
static int	pc_tz_span(size_t *acc, uint32_t count, size_t width,
		    size_t avail);
static int	pc_tz_blocklen(const struct pc_tz_hdr *h, size_t tsize,
		    size_t avail, size_t *out);
static int	pc_tz_block(struct pc_tz *tz, const struct pc_tz_hdr *h,
		    const uint8_t *p, size_t tsize);
static int	pc_tz_footer(struct pc_tz *tz, const char *s);
static int	pc_tz_tzname(const char **sp);
static int	pc_tz_num(const char **sp, int maxdig, int max, int *out);
static int	pc_tz_hms(const char **sp, int hmax, int32_t *secs);
static int	pc_tz_mrule(const char **sp, int *m, int *w, int *d, int *t);
static int	pc_tz_name_ok(const char *name);
static int	pc_tz_read(const char *path, uint8_t *buf, size_t max,
		    size_t *len);
static int64_t	pc_tz_rule_day(int64_t y, int m, int w, int d);
static void	pc_tz_rule_events(const struct pc_tz *tz, int64_t y,
		    int64_t ev[2]);
static int32_t	pc_tz_rule_offset(const struct pc_tz *tz, int64_t t);
static int	pc_tz_rule_next(const struct pc_tz *tz, int64_t t,
		    int64_t *next);
static int	pc_tz_next(const struct pc_tz *tz, int64_t t, int64_t *next);
static size_t	pc_tz_search(const struct pc_tz *tz, int64_t t);

/*
 * Window text.
 */

int
pc_hours_parse(struct pc_hours_window *w, const char *text)
{
	struct pc_hours_window	tmp;

	if (w == NULL)
		return (-1);
	memset(w, 0, sizeof(*w));
	if (text == NULL)
		return (-1);

	/* Each check stops at the first NUL, so we never read past it. */
	if (pc_hours_hhmm(text, 0, &tmp.start_min) == -1)
		return (-1);
	if (text[5] != '-')
		return (-1);
	if (pc_hours_hhmm(text + 6, 1, &tmp.end_min) == -1)
		return (-1);
	if (text[11] != '\0')
		return (-1);
	if (tmp.start_min == tmp.end_min)
		return (-1);
	/* "22:00-00:00" ends at midnight: the same as 22:00-24:00. */
	if (tmp.end_min == 0)
		tmp.end_min = PC_HOURS_MIN_DAY;
	if (!pc_hours_window_ok(&tmp))
		return (-1);

	*w = tmp;
	return (0);
}

/* "HH:MM" at p; 24:00 only when is_end. */
static int
pc_hours_hhmm(const char *p, int is_end, uint16_t *out)
{
	int	h, m;

	if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9')
		return (-1);
	if (p[2] != ':')
		return (-1);
	if (p[3] < '0' || p[3] > '9' || p[4] < '0' || p[4] > '9')
		return (-1);

	h = (p[0] - '0') * 10 + (p[1] - '0');
	m = (p[3] - '0') * 10 + (p[4] - '0');
	if (m > 59 || h > 24)
		return (-1);
	if (h == 24 && (m != 0 || !is_end))
		return (-1);

	*out = (uint16_t)(h * 60 + m);
	return (0);
}

static int
pc_hours_window_ok(const struct pc_hours_window *w)
{
	if (w->start_min >= PC_HOURS_MIN_DAY)
		return (0);
	if (w->end_min == 0 || w->end_min > PC_HOURS_MIN_DAY)
		return (0);
	if (w->start_min == w->end_min)
		return (0);
	return (1);
}

/*
 * Decisions.
 */

int
pc_hours_allowed(const struct pc_hours_window *w, const struct pc_tz *tz,
    int64_t t)
{
	int64_t		sod, min;
	int32_t		off;

	if (w == NULL || tz == NULL)
		return (0);
	if (!pc_hours_window_ok(w) || !pc_hours_zone_ok(tz))
		return (0);
	if (t < -PC_HOURS_T_LIMIT || t > PC_HOURS_T_LIMIT)
		return (0);

	off = pc_tz_offset(tz, t);
	sod = pc_hours_fmod(t + off, PC_HOURS_DAY);
	min = sod / 60;

	if (w->start_min < w->end_min)
		return (min >= w->start_min && min < w->end_min);
	/* Crosses midnight: 22:00-06:00 is [22:00, 24:00) + [00:00, 06:00). */
	return (min >= w->start_min || min < w->end_min);
}

/*
 * Walk forward from t: with the offset fixed, the wall clock reaches the
 * end of the window at u + delta; an offset change before that may move
 * the clock out of (or further into) the window, so we stop at every
 * instant where the offset may change and judge again there. Between two
 * such stops the clock runs straight and stays inside the window, which
 * makes the result exact to the second.
 *
 * 00:00-24:00 is never "denied"; there the session ends when the local
 * date changes (normally local midnight), so that sessions still have an
 * end.
 */
int64_t
pc_hours_window_end(const struct pc_hours_window *w, const struct pc_tz *tz,
    int64_t t)
{
	int64_t		u, c, n, sod, end, delta, day0;
	int32_t		off;
	int		full, i;

	if (!pc_hours_allowed(w, tz, t))
		return (t);

	full = (w->start_min == 0 && w->end_min == PC_HOURS_MIN_DAY);
	day0 = pc_hours_local_day(tz, t);
	end = (int64_t)w->end_min * 60;

	u = t;
	for (i = 0; i < PC_HOURS_MAX_STEPS; i++) {
		off = pc_tz_offset(tz, u);
		sod = pc_hours_fmod(u + off, PC_HOURS_DAY);
		delta = end - sod;
		if (delta <= 0)
			delta += PC_HOURS_DAY;
		c = u + delta;
		if (pc_tz_next(tz, u, &n) == 0 && n < c)
			c = n;
		if (c > PC_HOURS_T_LIMIT)
			return (u);
		if (!pc_hours_stays(w, tz, c, full, day0))
			return (c);
		u = c;
	}

	/* Fail closed: u is still inside the window, so never too late. */
	return (u);
}

static int
pc_hours_stays(const struct pc_hours_window *w, const struct pc_tz *tz,
    int64_t u, int full, int64_t day0)
{
	if (full)
		return (pc_hours_local_day(tz, u) == day0);
	return (pc_hours_allowed(w, tz, u));
}

static int
pc_hours_zone_ok(const struct pc_tz *tz)
{
	if (tz->ntypes == 0 || tz->ntypes > PC_TZ_MAX_TYPES)
		return (0);
	if (tz->ntrans > PC_TZ_MAX_TRANS)
		return (0);
	return (1);
}

/*
 * Calendar arithmetic (proleptic Gregorian, days since 1970-01-01).
 */

static int64_t
pc_hours_fdiv(int64_t a, int64_t b)
{
	int64_t		q;

	q = a / b;
	if ((a % b) != 0 && ((a < 0) != (b < 0)))
		q--;
	return (q);
}

static int64_t
pc_hours_fmod(int64_t a, int64_t b)
{
	return (a - pc_hours_fdiv(a, b) * b);
}

static int64_t
pc_hours_local_day(const struct pc_tz *tz, int64_t t)
{
	return (pc_hours_fdiv(t + pc_tz_offset(tz, t), PC_HOURS_DAY));
}

static int
pc_hours_leap(int64_t y)
{
	return ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0);
}

/* H. Hinnant's days_from_civil, on floor division so negatives work. */
static int64_t
pc_hours_days_from_civil(int64_t y, int m, int d)
{
	int64_t		era, yoe, doy, doe;

	if (m <= 2)
		y--;
	era = pc_hours_fdiv(y, 400);
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (era * 146097 + doe - 719468);
}

static int64_t
pc_hours_year_of(int64_t days)
{
	int64_t		z, era, doe, yoe, y, doy, mp;

	z = days + 719468;
	era = pc_hours_fdiv(z, 146097);
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	/* mp 10 and 11 are January and February of the next year. */
	return (mp >= 10 ? y + 1 : y);
}

/*
 * Zone lookups.
 */

int32_t
pc_tz_offset(const struct pc_tz *tz, int64_t t)
{
	size_t		i;
	uint8_t		type;

	if (tz == NULL || !pc_hours_zone_ok(tz))
		return (0);

	if (tz->ntrans == 0) {
		/* Only the footer describes the zone, if there is one. */
		if (tz->has_rule)
			return (pc_tz_rule_offset(tz, t));
		return (tz->type_off[0]);
	}

	/* pc_tz_parse() made type 0 the one in force before trans[0]. */
	if (t < tz->trans[0])
		return (tz->type_off[0]);
	if (t > tz->trans[tz->ntrans - 1] && tz->has_rule)
		return (pc_tz_rule_offset(tz, t));

	i = pc_tz_search(tz, t);
	type = tz->trans_type[i];
	if (type >= tz->ntypes)
		type = 0;
	return (tz->type_off[type]);
}

/* Index of the last transition at or before t; needs trans[0] <= t. */
static size_t
pc_tz_search(const struct pc_tz *tz, int64_t t)
{
	size_t		lo, hi, mid;

	lo = 0;
	hi = tz->ntrans;
	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (tz->trans[mid] <= t)
			lo = mid;
		else
			hi = mid;
	}
	return (lo);
}

/*
 * First instant after t at which the offset may change (it may also stay
 * the same there; callers just look again). 0 if found, -1 if none.
 */
static int
pc_tz_next(const struct pc_tz *tz, int64_t t, int64_t *next)
{
	int64_t		best, cand, last, from;
	size_t		i;
	int		found;

	found = 0;
	best = 0;

	if (tz->ntrans > 0) {
		last = tz->trans[tz->ntrans - 1];
		if (t < tz->trans[0]) {
			best = tz->trans[0];
			found = 1;
		} else if (t < last) {
			i = pc_tz_search(tz, t) + 1;
			best = tz->trans[i];
			found = 1;
		} else if (tz->has_rule && last < INT64_MAX && last + 1 > t) {
			/* The footer takes over just after the last entry. */
			best = last + 1;
			found = 1;
		}
		if (found || !tz->has_rule)
			goto out;
	}

	if (tz->has_rule) {
		from = t;
		if (tz->ntrans > 0 && tz->trans[tz->ntrans - 1] > from)
			from = tz->trans[tz->ntrans - 1];
		if (pc_tz_rule_next(tz, from, &cand) == 0) {
			best = cand;
			found = 1;
		}
	}

out:
	if (!found)
		return (-1);
	*next = best;
	return (0);
}

/*
 * POSIX TZ rule evaluation. A Mm.w.d/time date is a local wall-clock time:
 * the start of DST is given in standard time, its end in DST.
 */

/* Day (since epoch) of weekday d in week w (5 = last) of month m, year y. */
static int64_t
pc_tz_rule_day(int64_t y, int m, int w, int d)
{
	static const int	mdays[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};
	int64_t			first, wd, day, len;

	first = pc_hours_days_from_civil(y, m, 1);
	wd = pc_hours_fmod(first + 4, 7);	/* 1970-01-01 was a Thursday */
	day = pc_hours_fmod(d - wd, 7) + (int64_t)(w - 1) * 7;
	len = mdays[m - 1] + (m == 2 && pc_hours_leap(y));
	while (day >= len)
		day -= 7;
	return (first + day);
}

/* ev[0]: instant DST starts in year y, ev[1]: instant it ends. */
static void
pc_tz_rule_events(const struct pc_tz *tz, int64_t y, int64_t ev[2])
{
	ev[0] = pc_tz_rule_day(y, tz->dst_start_m, tz->dst_start_w,
	    tz->dst_start_d) * PC_HOURS_DAY + tz->dst_start_t - tz->std_off;
	ev[1] = pc_tz_rule_day(y, tz->dst_end_m, tz->dst_end_w,
	    tz->dst_end_d) * PC_HOURS_DAY + tz->dst_end_t - tz->dst_off;
}

/*
 * The latest rule event at or before t decides; looking at the years
 * around t copes with either hemisphere and with rule times that spill
 * into the neighbouring year (up to +-167 h).
 */
static int32_t
pc_tz_rule_offset(const struct pc_tz *tz, int64_t t)
{
	int64_t		y, yy, ev[2], best;
	int		k, found, dst;

	if (!tz->has_dst)
		return (tz->std_off);
	if (t < -PC_HOURS_T_LIMIT)
		t = -PC_HOURS_T_LIMIT;
	if (t > PC_HOURS_T_LIMIT)
		t = PC_HOURS_T_LIMIT;

	y = pc_hours_year_of(pc_hours_fdiv(t + tz->std_off, PC_HOURS_DAY));
	found = dst = 0;
	best = 0;
	for (yy = y - 2; yy <= y + 1; yy++) {
		pc_tz_rule_events(tz, yy, ev);
		for (k = 0; k < 2; k++) {
			if (ev[k] <= t && (!found || ev[k] >= best)) {
				best = ev[k];
				dst = (k == 0);
				found = 1;
			}
		}
	}
	return (dst ? tz->dst_off : tz->std_off);
}

/* First rule event strictly after t. 0 if found, -1 if none. */
static int
pc_tz_rule_next(const struct pc_tz *tz, int64_t t, int64_t *next)
{
	int64_t		y, yy, ev[2], best;
	int		k, found;

	if (!tz->has_dst || t < -PC_HOURS_T_LIMIT || t > PC_HOURS_T_LIMIT)
		return (-1);

	y = pc_hours_year_of(pc_hours_fdiv(t + tz->std_off, PC_HOURS_DAY));
	found = 0;
	best = 0;
	for (yy = y - 1; yy <= y + 2; yy++) {
		pc_tz_rule_events(tz, yy, ev);
		for (k = 0; k < 2; k++) {
			if (ev[k] > t && (!found || ev[k] < best)) {
				best = ev[k];
				found = 1;
			}
		}
	}
	if (!found)
		return (-1);
	*next = best;
	return (0);
}

/*
 * TZif parsing (RFC 8536).
 */

int
pc_tz_parse(struct pc_tz *tz, const char *name, const uint8_t *data,
    size_t len)
{
	struct pc_tz_hdr	 h1, h2;
	const uint8_t		*nl;
	char			 footer[PC_TZ_FOOTER_MAX + 1];
	size_t			 nlen, b1, b2, off, flen;

	if (tz == NULL)
		return (-1);
	memset(tz, 0, sizeof(*tz));
	if (data == NULL)
		goto fail;

	if (name != NULL) {
		nlen = strlen(name);
		if (nlen >= sizeof(tz->name))
			goto fail;
		memcpy(tz->name, name, nlen + 1);
	}

	if (pc_tz_header(data, len, 0, &h1) == -1)
		goto fail;
	if (pc_tz_blocklen(&h1, 4, len - PC_TZ_HDR_LEN, &b1) == -1)
		goto fail;
	off = PC_TZ_HDR_LEN + b1;

	if (h1.version == 0) {
		/* Version 1: 32-bit data only, nothing may follow it. */
		if (off != len)
			goto fail;
		if (pc_tz_block(tz, &h1, data + PC_TZ_HDR_LEN, 4) == -1)
			goto fail;
		return (0);
	}

	/* Version 2+: skip the 32-bit block, use the 64-bit one. */
	if (pc_tz_header(data, len, off, &h2) == -1)
		goto fail;
	if (h2.version != h1.version)
		goto fail;
	off += PC_TZ_HDR_LEN;
	if (pc_tz_blocklen(&h2, 8, len - off, &b2) == -1)
		goto fail;
	if (pc_tz_block(tz, &h2, data + off, 8) == -1)
		goto fail;
	off += b2;

	/* Footer: "\n" TZ-string "\n", and that must be the end. */
	if (len - off < 2 || data[off] != '\n')
		goto fail;
	off++;
	nl = memchr(data + off, '\n', len - off);
	if (nl == NULL || (size_t)(nl - data) != len - 1)
		goto fail;
	flen = (size_t)(nl - (data + off));
	if (flen > PC_TZ_FOOTER_MAX)
		goto fail;
	if (flen > 0) {
		if (memchr(data + off, '\0', flen) != NULL)
			goto fail;
		memcpy(footer, data + off, flen);
		footer[flen] = '\0';
		if (pc_tz_footer(tz, footer) == -1)
			goto fail;
	}
	return (0);

fail:
	memset(tz, 0, sizeof(*tz));
	return (-1);
}

static uint32_t
pc_tz_be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3]);
}

/* Two's complement without relying on implementation-defined casts. */
static int64_t
pc_tz_be64(const uint8_t *p)
{
	uint64_t	v;

	v = (uint64_t)pc_tz_be32(p) << 32 | pc_tz_be32(p + 4);
	if (v <= (uint64_t)INT64_MAX)
		return ((int64_t)v);
	return ((int64_t)(v - (uint64_t)INT64_MAX - 1) + INT64_MIN);
}

static int32_t
pc_tz_s32(uint32_t v)
{
	if (v <= (uint32_t)INT32_MAX)
		return ((int32_t)v);
	return ((int32_t)(v - (uint32_t)INT32_MAX - 1) + INT32_MIN);
}

static int
pc_tz_header(const uint8_t *data, size_t len, size_t off,
    struct pc_tz_hdr *h)
{
	const uint8_t	*p;

	if (off > len || len - off < PC_TZ_HDR_LEN)
		return (-1);
	p = data + off;
	if (memcmp(p, "TZif", 4) != 0)
		return (-1);
	/* Versions we know; a newer one may mean things we would misread. */
	if (p[4] != 0 && p[4] != '2' && p[4] != '3' && p[4] != '4')
		return (-1);
	h->version = p[4];
	h->isutcnt = pc_tz_be32(p + 20);
	h->isstdcnt = pc_tz_be32(p + 24);
	h->leapcnt = pc_tz_be32(p + 28);
	h->timecnt = pc_tz_be32(p + 32);
	h->typecnt = pc_tz_be32(p + 36);
	h->charcnt = pc_tz_be32(p + 40);
	return (0);
}

/* *acc += count * width, if that stays within avail. */
static int
pc_tz_span(size_t *acc, uint32_t count, size_t width, size_t avail)
{
	size_t	n;

	if (*acc > avail)
		return (-1);
	if ((size_t)count > (avail - *acc) / width)
		return (-1);
	n = (size_t)count * width;
	*acc += n;
	return (0);
}

/* Length of a data block as the header describes it; must fit in avail. */
static int
pc_tz_blocklen(const struct pc_tz_hdr *h, size_t tsize, size_t avail,
    size_t *out)
{
	size_t	acc;

	acc = 0;
	if (pc_tz_span(&acc, h->timecnt, tsize, avail) == -1 ||
	    pc_tz_span(&acc, h->timecnt, 1, avail) == -1 ||
	    pc_tz_span(&acc, h->typecnt, 6, avail) == -1 ||
	    pc_tz_span(&acc, h->charcnt, 1, avail) == -1 ||
	    pc_tz_span(&acc, h->leapcnt, tsize + 4, avail) == -1 ||
	    pc_tz_span(&acc, h->isstdcnt, 1, avail) == -1 ||
	    pc_tz_span(&acc, h->isutcnt, 1, avail) == -1)
		return (-1);
	*out = acc;
	return (0);
}

/* Decode one data block whose length pc_tz_blocklen() has checked. */
static int
pc_tz_block(struct pc_tz *tz, const struct pc_tz_hdr *h, const uint8_t *p,
    size_t tsize)
{
	const uint8_t	*times, *idx, *types, *chars, *isstd, *isut;
	size_t		 i, pre;
	int64_t		 t;
	int32_t		 off, tmp;
	uint8_t		 isdst, dflt_seen;

	if (h->timecnt > PC_TZ_MAX_TRANS)
		return (-1);
	if (h->typecnt == 0 || h->typecnt > PC_TZ_MAX_TYPES)
		return (-1);
	if (h->charcnt == 0)
		return (-1);
	/* Leap-second zones ("right/...") count TAI-ish seconds: refuse. */
	if (h->leapcnt != 0)
		return (-1);
	if (h->isstdcnt != 0 && h->isstdcnt != h->typecnt)
		return (-1);
	if (h->isutcnt != 0 && h->isutcnt != h->typecnt)
		return (-1);

	times = p;
	idx = times + (size_t)h->timecnt * tsize;
	types = idx + h->timecnt;
	chars = types + (size_t)h->typecnt * 6;
	isstd = chars + h->charcnt;		/* leapcnt is 0 */
	isut = isstd + h->isstdcnt;

	for (i = 0; i < h->timecnt; i++) {
		if (tsize == 8)
			t = pc_tz_be64(times + i * 8);
		else
			t = pc_tz_s32(pc_tz_be32(times + i * 4));
		if (i > 0 && t <= tz->trans[i - 1])
			return (-1);
		if (idx[i] >= h->typecnt)
			return (-1);
		tz->trans[i] = t;
		tz->trans_type[i] = idx[i];
	}
	tz->ntrans = h->timecnt;

	/* Designations must be NUL-terminated inside the array. */
	if (chars[h->charcnt - 1] != '\0')
		return (-1);

	pre = 0;
	dflt_seen = 0;
	for (i = 0; i < h->typecnt; i++) {
		off = pc_tz_s32(pc_tz_be32(types + i * 6));
		isdst = types[i * 6 + 4];
		if (off < PC_TZ_OFF_MIN || off > PC_TZ_OFF_MAX)
			return (-1);
		if (isdst > 1 || types[i * 6 + 5] >= h->charcnt)
			return (-1);
		if (!isdst && !dflt_seen) {
			pre = i;
			dflt_seen = 1;
		}
		tz->type_off[i] = off;
	}
	tz->ntypes = h->typecnt;

	for (i = 0; i < h->isstdcnt; i++) {
		if (isstd[i] > 1)
			return (-1);
	}
	for (i = 0; i < h->isutcnt; i++) {
		if (isut[i] > 1)
			return (-1);
	}

	/*
	 * Before the first transition the first non-DST type applies (type 0
	 * if all are DST). Swap it into slot 0 so lookups need no extra
	 * field; only offsets are kept, so nothing else refers to the index.
	 */
	if (pre != 0) {
		tmp = tz->type_off[0];
		tz->type_off[0] = tz->type_off[pre];
		tz->type_off[pre] = tmp;
		for (i = 0; i < tz->ntrans; i++) {
			if (tz->trans_type[i] == 0)
				tz->trans_type[i] = (uint8_t)pre;
			else if (tz->trans_type[i] == pre)
				tz->trans_type[i] = 0;
		}
	}
	return (0);
}

/*
 * POSIX TZ footer: std offset [dst [offset] ,rule ,rule]. Only the
 * Mm.w.d[/time] rule form is accepted; Julian forms fail closed, and so
 * does a DST name without a rule (POSIX leaves that default open).
 */
static int
pc_tz_footer(struct pc_tz *tz, const char *s)
{
	const char	*p;
	int32_t		 v;

	p = s;
	if (pc_tz_tzname(&p) == -1)
		return (-1);
	if (pc_tz_hms(&p, PC_TZ_OFF_HMAX, &v) == -1)
		return (-1);
	/* POSIX offsets count west of Greenwich: "JST-9" is UTC+9. */
	tz->std_off = -v;
	tz->dst_off = tz->std_off;
	tz->has_dst = 0;
	if (*p == '\0') {
		tz->has_rule = 1;
		return (0);
	}

	if (pc_tz_tzname(&p) == -1)
		return (-1);
	if (*p != ',') {
		if (pc_tz_hms(&p, PC_TZ_OFF_HMAX, &v) == -1)
			return (-1);
		tz->dst_off = -v;
	} else {
		tz->dst_off = tz->std_off + 3600;
	}

	if (pc_tz_mrule(&p, &tz->dst_start_m, &tz->dst_start_w,
	    &tz->dst_start_d, &tz->dst_start_t) == -1)
		return (-1);
	if (pc_tz_mrule(&p, &tz->dst_end_m, &tz->dst_end_w,
	    &tz->dst_end_d, &tz->dst_end_t) == -1)
		return (-1);
	if (*p != '\0')
		return (-1);

	tz->has_dst = 1;
	tz->has_rule = 1;
	return (0);
}

/* "ABC" (3+ letters) or "<+0330>" (3+ of [A-Za-z0-9+-] in brackets). */
static int
pc_tz_tzname(const char **sp)
{
	const char	*p;
	size_t		 n;

	p = *sp;
	n = 0;
	if (*p == '<') {
		p++;
		while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '+' || *p == '-') {
			p++;
			n++;
		}
		if (*p != '>' || n < 3)
			return (-1);
		p++;
	} else {
		while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')) {
			p++;
			n++;
		}
		if (n < 3)
			return (-1);
	}
	*sp = p;
	return (0);
}

/* 1..maxdig ASCII digits, value <= max. */
static int
pc_tz_num(const char **sp, int maxdig, int max, int *out)
{
	const char	*p;
	int		 v, n;

	p = *sp;
	v = 0;
	for (n = 0; n < maxdig && *p >= '0' && *p <= '9'; n++, p++)
		v = v * 10 + (*p - '0');
	if (n == 0 || v > max)
		return (-1);
	*sp = p;
	*out = v;
	return (0);
}

/* [+-]hh[:mm[:ss]] with hh <= hmax; mm and ss two digits, <= 59. */
static int
pc_tz_hms(const char **sp, int hmax, int32_t *secs)
{
	const char	*p;
	int		 neg, h, i, ms[2];

	p = *sp;
	neg = 0;
	h = ms[0] = ms[1] = 0;
	if (*p == '+' || *p == '-') {
		neg = (*p == '-');
		p++;
	}
	if (pc_tz_num(&p, hmax > 99 ? 3 : 2, hmax, &h) == -1)
		return (-1);
	/* ":mm", then ":ss"; each exactly two digits. */
	for (i = 0; i < 2 && *p == ':'; i++) {
		p++;
		if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9')
			return (-1);
		if (pc_tz_num(&p, 2, 59, &ms[i]) == -1)
			return (-1);
	}
	*secs = (int32_t)(h * 3600 + ms[0] * 60 + ms[1]);
	if (neg)
		*secs = -*secs;
	*sp = p;
	return (0);
}

/* ,Mm.w.d[/time]; time defaults to 02:00:00 and may be -167..167 h. */
static int
pc_tz_mrule(const char **sp, int *m, int *w, int *d, int *t)
{
	const char	*p;
	int32_t		 secs;

	p = *sp;
	if (*p++ != ',')
		return (-1);
	if (*p != 'M')
		return (-1);	/* Jn and n: not supported, fail closed */
	p++;
	if (pc_tz_num(&p, 2, 12, m) == -1 || *m < 1)
		return (-1);
	if (*p++ != '.')
		return (-1);
	if (pc_tz_num(&p, 1, 5, w) == -1 || *w < 1)
		return (-1);
	if (*p++ != '.')
		return (-1);
	if (pc_tz_num(&p, 1, 6, d) == -1)
		return (-1);
	secs = 2 * 3600;
	if (*p == '/') {
		p++;
		if (pc_tz_hms(&p, PC_TZ_RULE_HMAX, &secs) == -1)
			return (-1);
	}
	*t = secs;
	*sp = p;
	return (0);
}

/*
 * Loading from the zoneinfo directory.
 */

int
pc_tz_load(struct pc_tz *tz, const char *zoneinfo_dir, const char *name)
{
	uint8_t		buf[PC_TZ_FILE_MAX];
	char		path[4096];
	size_t		len;
	int		n;

	if (tz == NULL)
		return (-1);
	memset(tz, 0, sizeof(*tz));
	if (zoneinfo_dir == NULL || zoneinfo_dir[0] == '\0')
		return (-1);
	if (!pc_tz_name_ok(name))
		return (-1);

	n = snprintf(path, sizeof(path), "%s/%s", zoneinfo_dir, name);
	if (n < 0 || (size_t)n >= sizeof(path))
		return (-1);
	if (pc_tz_read(path, buf, sizeof(buf), &len) == -1)
		return (-1);

	return (pc_tz_parse(tz, name, buf, len));
}

/*
 * [A-Za-z0-9_+/-], 1..63 bytes, relative, no empty components and no
 * "..": the name comes from configuration but must never leave the
 * zoneinfo directory.
 */
static int
pc_tz_name_ok(const char *name)
{
	size_t		i, len;
	char		c;

	if (name == NULL)
		return (0);
	len = strnlen(name, PC_TZ_NAME_MAX + 1);
	if (len == 0 || len > PC_TZ_NAME_MAX)
		return (0);
	if (name[0] == '/' || name[len - 1] == '/')
		return (0);
	if (strstr(name, "..") != NULL || strstr(name, "//") != NULL)
		return (0);
	for (i = 0; i < len; i++) {
		c = name[i];
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '+' ||
		    c == '-' || c == '/')
			continue;
		return (0);
	}
	return (1);
}

/* Read a regular file of at most max bytes; larger files are refused. */
static int
pc_tz_read(const char *path, uint8_t *buf, size_t max, size_t *len)
{
	struct stat	st;
	size_t		got;
	ssize_t		r;
	uint8_t		extra;
	int		fd, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1)
		return (-1);
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size < 0 || (uintmax_t)st.st_size > max)
		goto fail;

	got = 0;
	while (got < max) {
		r = read(fd, buf + got, max - got);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			goto fail;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	/* The file may have grown since fstat(): refuse rather than cut. */
	if (got == max) {
		do {
			r = read(fd, &extra, 1);
		} while (r == -1 && errno == EINTR);
		if (r != 0)
			goto fail;
	}

	(void)close(fd);
	*len = got;
	return (0);

fail:
	saved = errno;
	(void)close(fd);
	errno = saved;
	return (-1);
}
