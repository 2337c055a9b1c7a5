/*
 * test_hours.c: unit tests for src/hours.c (cmocka).
 *
 * Zones come from tests/unit/data/zoneinfo: Asia/Tokyo, Europe/Berlin
 * and America/New_York are copies of Debian's tzdata 2025b ("fat" files,
 * transitions listed up to 2037); the Test/ zones are slim files made by
 * zic from data/zoneinfo-src/test.zi, so their present-day offsets come
 * from the POSIX TZ footer. Keeping copies makes the expected instants
 * independent of the tzdata installed.
 *
 * Every instant below is a literal checked with date(1) while writing,
 * e.g. TZ=Asia/Tokyo date -d @1795392000 -> 2026-11-23 09:00:00 +0900.
 */

#include <sys/stat.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "hours.h"

#define ZONEINFO	"data/zoneinfo"
#define FILE_MAX	(64 * 1024)

/* 64 bytes: one more than a zone name may have. */
#define LONG_NAME	"Aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/" \
			"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

enum zone_id {
	TOKYO,
	BERLIN,
	NEWYORK,
	SANTIAGO,
	NUUK,
	JERUSALEM,
	NZONES
};

static const char	*zone_names[NZONES] = {
	"Asia/Tokyo",
	"Europe/Berlin",
	"America/New_York",
	"Test/Santiago",
	"Test/Nuuk",
	"Test/Jerusalem",
};

static struct pc_tz	zones[NZONES];
static struct pc_tz	scratch;

static size_t
read_fixture(const char *name, uint8_t *buf, size_t cap)
{
	char	 path[256];
	FILE	*fp;
	size_t	 n;

	snprintf(path, sizeof(path), "%s/%s", ZONEINFO, name);
	fp = fopen(path, "rb");
	assert_non_null(fp);
	n = fread(buf, 1, cap, fp);
	assert_true(n > 0 && n < cap);
	fclose(fp);
	return (n);
}

static int
setup_group(void **state)
{
	size_t	i;

	(void)state;
	for (i = 0; i < NZONES; i++) {
		if (pc_tz_load(&zones[i], ZONEINFO, zone_names[i]) == -1) {
			fprintf(stderr, "cannot load %s/%s\n", ZONEINFO,
			    zone_names[i]);
			return (-1);
		}
	}
	return (0);
}

static struct pc_hours_window
window(const char *text)
{
	struct pc_hours_window	w;

	assert_int_equal(pc_hours_parse(&w, text), 0);
	return (w);
}

/*
 * pc_hours_parse
 */

struct parse_ok {
	const char	*text;
	uint16_t	 start;
	uint16_t	 end;
};

static const struct parse_ok	parse_ok_cases[] = {
	{ "09:00-24:00", 540, 1440 },
	{ "00:00-24:00", 0, 1440 },
	{ "22:00-06:00", 1320, 360 },
	{ "00:00-00:01", 0, 1 },
	{ "23:59-00:00", 1439, 1440 },	/* end 00:00 is midnight = 24:00 */
	{ "22:00-00:00", 1320, 1440 },
	{ "23:59-24:00", 1439, 1440 },
	{ "09:30-17:45", 570, 1065 },
	{ "12:00-11:59", 720, 719 },
};

static const char	*parse_bad_cases[] = {
	"",
	"9:00-17:00",
	"09:00-17:0",
	"09:00 -17:00",
	" 09:00-17:00",
	"09:00-17:00 ",
	"09:00-17:00\n",
	"09:00-17:00x",
	"09:00--17:00",
	"+9:00-17:00",
	"09:00-+7:00",
	"-9:00-17:00",
	"09.00-17.00",
	"09:00_17:00",
	"0900-1700",
	"09:00-",
	"09:00",
	"09:60-17:00",
	"09:00-17:60",
	"25:00-17:00",
	"09:00-25:00",
	"24:00-09:00",	/* 24 only as end */
	"09:00-24:01",
	"09:00-24:30",
	"09:00-09:00",
	"00:00-00:00",
	"24:00-24:00",
	"00:00-24:00x",
	"0a:00-17:00",
	"09:00-17:00-18:00",
	"\xef\xbc\x90" "9:00-17:00",	/* fullwidth 0 */
};

static void
test_parse_ok(void **state)
{
	struct pc_hours_window	w;
	size_t			i;

	(void)state;
	for (i = 0; i < sizeof(parse_ok_cases) / sizeof(parse_ok_cases[0]);
	    i++) {
		assert_int_equal(pc_hours_parse(&w, parse_ok_cases[i].text), 0);
		assert_int_equal(w.start_min, parse_ok_cases[i].start);
		assert_int_equal(w.end_min, parse_ok_cases[i].end);
	}
}

static void
test_parse_bad(void **state)
{
	struct pc_hours_window	w;
	size_t			i;

	(void)state;
	for (i = 0; i < sizeof(parse_bad_cases) / sizeof(parse_bad_cases[0]);
	    i++) {
		w.start_min = 1;
		w.end_min = 2;
		if (pc_hours_parse(&w, parse_bad_cases[i]) != -1)
			fail_msg("accepted \"%s\"", parse_bad_cases[i]);
		assert_int_equal(w.start_min, 0);
		assert_int_equal(w.end_min, 0);
	}
	assert_int_equal(pc_hours_parse(&w, NULL), -1);
	assert_int_equal(pc_hours_parse(NULL, "09:00-24:00"), -1);
}

/*
 * pc_tz_offset
 */

struct off_case {
	enum zone_id	zone;
	int64_t		t;
	int32_t		off;
};

static const struct off_case	off_cases[] = {
	{ TOKYO, 1795392000LL, 32400 },		/* 2026-11-23 09:00 JST */
	{ TOKYO, 0LL, 32400 },
	{ TOKYO, -2208988800LL, 32400 },	/* 1900 */
	{ TOKYO, 2216250000LL, 32400 },		/* 2040, footer JST-9 */
	/* Berlin 2026: CET -> CEST at 01:00 UTC, CEST -> CET at 01:00 UTC. */
	{ BERLIN, 1774745999LL, 3600 },		/* 2026-03-29 00:59:59 UTC */
	{ BERLIN, 1774746000LL, 7200 },		/* 2026-03-29 01:00:00 UTC */
	{ BERLIN, 1792889999LL, 7200 },		/* 2026-10-25 00:59:59 UTC */
	{ BERLIN, 1792890000LL, 3600 },		/* 2026-10-25 01:00:00 UTC */
	/* New York 2026: 07:00 UTC in March, 06:00 UTC in November. */
	{ NEWYORK, 1772953199LL, -18000 },	/* 2026-03-08 06:59:59 UTC */
	{ NEWYORK, 1772953200LL, -14400 },	/* 2026-03-08 07:00:00 UTC */
	{ NEWYORK, 1793512799LL, -14400 },	/* 2026-11-01 05:59:59 UTC */
	{ NEWYORK, 1793512800LL, -18000 },	/* 2026-11-01 06:00:00 UTC */
	/* 2040: past the fat files' last transition, footer rule only. */
	{ BERLIN, 2216249999LL, 3600 },		/* 2040-03-25 00:59:59 UTC */
	{ BERLIN, 2216250000LL, 7200 },		/* 2040-03-25 01:00:00 UTC */
	{ BERLIN, 2234998799LL, 7200 },		/* 2040-10-28 00:59:59 UTC */
	{ BERLIN, 2234998800LL, 3600 },		/* 2040-10-28 01:00:00 UTC */
	{ NEWYORK, 2215061999LL, -18000 },	/* 2040-03-11 06:59:59 UTC */
	{ NEWYORK, 2215062000LL, -14400 },	/* 2040-03-11 07:00:00 UTC */
	{ NEWYORK, 2235621599LL, -14400 },	/* 2040-11-04 05:59:59 UTC */
	{ NEWYORK, 2235621600LL, -18000 },	/* 2040-11-04 06:00:00 UTC */
	{ BERLIN, 4109878799LL, 3600 },		/* 2100-03-28 00:59:59 UTC */
	{ BERLIN, 4109878800LL, 7200 },
	{ BERLIN, 4128627599LL, 7200 },		/* 2100-10-31 00:59:59 UTC */
	{ BERLIN, 4128627600LL, 3600 },
	/* Slim files: 2026 from the footer alone. */
	{ SANTIAGO, 1775357999LL, -10800 },	/* 2026-04-05 02:59:59 UTC */
	{ SANTIAGO, 1775358000LL, -14400 },	/* M4.1.6/24 in DST */
	{ SANTIAGO, 1788667199LL, -14400 },	/* 2026-09-06 03:59:59 UTC */
	{ SANTIAGO, 1788667200LL, -10800 },	/* M9.1.6/24 in std */
	{ NUUK, 1774745999LL, -7200 },		/* M3.5.0/-1 */
	{ NUUK, 1774746000LL, -3600 },
	{ NUUK, 1792889999LL, -3600 },		/* M10.5.0/0 */
	{ NUUK, 1792890000LL, -7200 },
	{ JERUSALEM, 1774569599LL, 7200 },	/* M3.4.4/26: Fri 02:00 */
	{ JERUSALEM, 1774569600LL, 10800 },
	{ JERUSALEM, 1792882799LL, 10800 },	/* M10.5.0 */
	{ JERUSALEM, 1792882800LL, 7200 },
};

static void
test_offsets(void **state)
{
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(off_cases) / sizeof(off_cases[0]); i++) {
		if (pc_tz_offset(&zones[off_cases[i].zone], off_cases[i].t) !=
		    off_cases[i].off)
			fail_msg("%s at %lld: %d, want %d",
			    zone_names[off_cases[i].zone],
			    (long long)off_cases[i].t,
			    pc_tz_offset(&zones[off_cases[i].zone],
			    off_cases[i].t), off_cases[i].off);
	}
}

/* The footer rules as documented in tzdata, and the fat files' ends. */
static void
test_footer_rule(void **state)
{
	const struct pc_tz	*b = &zones[BERLIN], *ny = &zones[NEWYORK];
	const struct pc_tz	*tk = &zones[TOKYO];

	(void)state;
	/* CET-1CEST,M3.5.0,M10.5.0/3 */
	assert_true(b->has_rule && b->has_dst);
	assert_int_equal(b->std_off, 3600);
	assert_int_equal(b->dst_off, 7200);
	assert_int_equal(b->dst_start_m, 3);
	assert_int_equal(b->dst_start_w, 5);
	assert_int_equal(b->dst_start_d, 0);
	assert_int_equal(b->dst_start_t, 7200);
	assert_int_equal(b->dst_end_m, 10);
	assert_int_equal(b->dst_end_w, 5);
	assert_int_equal(b->dst_end_d, 0);
	assert_int_equal(b->dst_end_t, 10800);
	/* EST5EDT,M3.2.0,M11.1.0 */
	assert_true(ny->has_rule && ny->has_dst);
	assert_int_equal(ny->std_off, -18000);
	assert_int_equal(ny->dst_off, -14400);
	assert_int_equal(ny->dst_start_m, 3);
	assert_int_equal(ny->dst_start_w, 2);
	assert_int_equal(ny->dst_end_m, 11);
	assert_int_equal(ny->dst_end_w, 1);
	/* JST-9 */
	assert_true(tk->has_rule && !tk->has_dst);
	assert_int_equal(tk->std_off, 32400);

	/* 2040 is beyond the listed transitions (last: 2037). */
	assert_true(b->ntrans > 0 && ny->ntrans > 0);
	assert_int_equal(b->trans[b->ntrans - 1], 2140045200LL);
	assert_int_equal(ny->trans[ny->ntrans - 1], 2140668000LL);
}

/*
 * Where the rule is in force and transitions are listed too, both must
 * agree: a copy with its transitions dropped answers from the footer
 * alone, for every transition from 2008 on (both rules date from 2007).
 */
static void
test_footer_matches_transitions(void **state)
{
	static const enum zone_id	ids[] = { BERLIN, NEWYORK };
	const struct pc_tz		*z;
	size_t				 i, k, checked;
	int64_t				 t;

	(void)state;
	for (k = 0; k < sizeof(ids) / sizeof(ids[0]); k++) {
		z = &zones[ids[k]];
		scratch = *z;
		scratch.ntrans = 0;
		checked = 0;
		for (i = 0; i < z->ntrans; i++) {
			t = z->trans[i];
			if (t < 1199145600LL)		/* 2008-01-01 */
				continue;
			assert_int_equal(pc_tz_offset(&scratch, t - 1),
			    pc_tz_offset(z, t - 1));
			assert_int_equal(pc_tz_offset(&scratch, t),
			    pc_tz_offset(z, t));
			checked++;
		}
		assert_int_equal(checked, 60);		/* 2008..2037 */
	}
}

/*
 * pc_hours_allowed
 */

struct allow_case {
	enum zone_id	 zone;
	const char	*win;
	int64_t		 t;
	int		 ok;
};

static const struct allow_case	allow_cases[] = {
	/* Tokyo, 2026-11-23. */
	{ TOKYO, "09:00-24:00", 1795359600LL, 0 },	/* 00:00:00 */
	{ TOKYO, "09:00-24:00", 1795391999LL, 0 },	/* 08:59:59 */
	{ TOKYO, "09:00-24:00", 1795392000LL, 1 },	/* 09:00:00 */
	{ TOKYO, "09:00-24:00", 1795402800LL, 1 },	/* 12:00:00 */
	{ TOKYO, "09:00-24:00", 1795445999LL, 1 },	/* 23:59:59 */
	{ TOKYO, "09:00-24:00", 1795446000LL, 0 }, /* 24:00 = 11-24 00:00 */
	/* Crossing midnight. */
	{ TOKYO, "22:00-06:00", 1795438799LL, 0 },	/* 21:59:59 */
	{ TOKYO, "22:00-06:00", 1795438800LL, 1 },	/* 22:00:00 */
	{ TOKYO, "22:00-06:00", 1795445999LL, 1 },	/* 23:59:59 */
	{ TOKYO, "22:00-06:00", 1795446000LL, 1 },	/* 11-24 00:00:00 */
	{ TOKYO, "22:00-06:00", 1795467599LL, 1 },	/* 11-24 05:59:59 */
	{ TOKYO, "22:00-06:00", 1795467600LL, 0 },	/* 11-24 06:00:00 */
	{ TOKYO, "22:00-06:00", 1795402800LL, 0 },	/* 12:00:00 */
	/* Around the epoch: floor division for negative instants. */
	{ TOKYO, "09:00-24:00", -1LL, 0 },	/* 1970-01-01 08:59:59 */
	{ TOKYO, "09:00-24:00", 0LL, 1 },	/* 1970-01-01 09:00:00 */
	{ TOKYO, "09:00-24:00", -32401LL, 1 },	/* 1969-12-31 23:59:59 */
	{ TOKYO, "09:00-24:00", -32400LL, 0 },	/* 1970-01-01 00:00:00 */
	{ TOKYO, "09:00-24:00", -86400LL, 1 },	/* 1969-12-31 09:00:00 */
	{ TOKYO, "09:00-24:00", -86401LL, 0 },	/* 1969-12-31 08:59:59 */
	{ TOKYO, "00:00-24:00", -86401LL, 1 },
	/* Berlin, the day before and the day of each change. */
	{ BERLIN, "09:00-24:00", 1774684799LL, 0 },	/* 03-28 08:59:59 CET */
	{ BERLIN, "09:00-24:00", 1774684800LL, 1 },	/* 03-28 09:00:00 CET */
	{ BERLIN, "09:00-24:00", 1774738799LL, 1 },	/* 03-28 23:59:59 CET */
	{ BERLIN, "09:00-24:00", 1774738800LL, 0 },	/* 03-29 00:00:00 CET */
	{ BERLIN, "09:00-24:00", 1774767599LL, 0 }, /* 03-29 08:59:59 CEST */
	{ BERLIN, "09:00-24:00", 1774767600LL, 1 }, /* 03-29 09:00:00 CEST */
	{ BERLIN, "09:00-24:00", 1774821599LL, 1 }, /* 03-29 23:59:59 CEST */
	{ BERLIN, "09:00-24:00", 1774821600LL, 0 }, /* 03-30 00:00:00 CEST */
	{ BERLIN, "09:00-24:00", 1792879199LL, 1 }, /* 10-24 23:59:59 CEST */
	{ BERLIN, "09:00-24:00", 1792879200LL, 0 }, /* 10-25 00:00:00 CEST */
	{ BERLIN, "09:00-24:00", 1792915199LL, 0 },	/* 10-25 08:59:59 CET */
	{ BERLIN, "09:00-24:00", 1792915200LL, 1 },	/* 10-25 09:00:00 CET */
	{ BERLIN, "09:00-24:00", 1792969199LL, 1 },	/* 10-25 23:59:59 CET */
	{ BERLIN, "09:00-24:00", 1792969200LL, 0 },	/* 10-26 00:00:00 CET */
	/* A window ending inside the spring-forward gap (02:00-03:00). */
	{ BERLIN, "20:00-02:30", 1774745999LL, 1 },	/* 01:59:59 CET */
	{ BERLIN, "20:00-02:30", 1774746000LL, 0 },	/* 03:00:00 CEST */
	/* And inside the repeated hour: 02:30 CEST ends, 02:00 CET again. */
	{ BERLIN, "20:00-02:30", 1792888199LL, 1 },	/* 02:29:59 CEST */
	{ BERLIN, "20:00-02:30", 1792888200LL, 0 },	/* 02:30:00 CEST */
	{ BERLIN, "20:00-02:30", 1792889999LL, 0 },	/* 02:59:59 CEST */
	{ BERLIN, "20:00-02:30", 1792890000LL, 1 },	/* 02:00:00 CET */
	{ BERLIN, "20:00-02:30", 1792891799LL, 1 },	/* 02:29:59 CET */
	{ BERLIN, "20:00-02:30", 1792891800LL, 0 },	/* 02:30:00 CET */
	/* New York 2026. */
	{ NEWYORK, "09:00-24:00", 1772946000LL, 0 },	/* 03-08 00:00 EST */
	{ NEWYORK, "09:00-24:00", 1772974799LL, 0 },	/* 03-08 08:59:59 EDT */
	{ NEWYORK, "09:00-24:00", 1772974800LL, 1 },	/* 03-08 09:00:00 EDT */
	{ NEWYORK, "09:00-24:00", 1773028799LL, 1 },	/* 03-08 23:59:59 EDT */
	{ NEWYORK, "09:00-24:00", 1773028800LL, 0 },	/* 03-09 00:00:00 EDT */
	{ NEWYORK, "09:00-24:00", 1793505600LL, 0 },	/* 11-01 00:00 EDT */
	{ NEWYORK, "09:00-24:00", 1793541599LL, 0 },	/* 11-01 08:59:59 EST */
	{ NEWYORK, "09:00-24:00", 1793541600LL, 1 },	/* 11-01 09:00:00 EST */
	{ NEWYORK, "09:00-24:00", 1793595599LL, 1 },	/* 11-01 23:59:59 EST */
	{ NEWYORK, "09:00-24:00", 1793595600LL, 0 },	/* 11-02 00:00:00 EST */
	/* Berlin 2040, footer rule: 03-25 is a CEST day. */
	{ BERLIN, "09:00-24:00", 2216271599LL, 0 },	/* 08:59:59 CEST */
	{ BERLIN, "09:00-24:00", 2216271600LL, 1 },	/* 09:00:00 CEST */
	/* Santiago, DST starts at 24:00: 00:00-01:00 never happens. */
	{ SANTIAGO, "00:30-06:00", 1788667199LL, 0 },	/* 09-05 23:59:59 -04 */
	{ SANTIAGO, "00:30-06:00", 1788667200LL, 1 },	/* 09-06 01:00:00 -03 */
};

static void
test_allowed(void **state)
{
	struct pc_hours_window	w;
	size_t			i;
	int			got;

	(void)state;
	for (i = 0; i < sizeof(allow_cases) / sizeof(allow_cases[0]); i++) {
		w = window(allow_cases[i].win);
		got = pc_hours_allowed(&w, &zones[allow_cases[i].zone],
		    allow_cases[i].t);
		if (got != allow_cases[i].ok)
			fail_msg("%s %s at %lld: %d, want %d",
			    zone_names[allow_cases[i].zone], allow_cases[i].win,
			    (long long)allow_cases[i].t, got,
			    allow_cases[i].ok);
	}
}

/*
 * pc_hours_window_end
 */

struct end_case {
	enum zone_id	 zone;
	const char	*win;
	int64_t		 t;
	int64_t		 end;
};

static const struct end_case	end_cases[] = {
	/* 2026-11-23 12:00 JST -> 11-24 00:00 JST. */
	{ TOKYO, "09:00-24:00", 1795402800LL, 1795446000LL },
	{ TOKYO, "09:00-24:00", 1795392000LL, 1795446000LL },
	{ TOKYO, "09:00-24:00", 1795445999LL, 1795446000LL },
	/* Outside: t itself. */
	{ TOKYO, "09:00-24:00", 1795391999LL, 1795391999LL },
	{ TOKYO, "09:00-24:00", 1795446000LL, 1795446000LL },
	/* 22:00-06:00: 23:00 and 00:00 both end at 06:00 next morning. */
	{ TOKYO, "22:00-06:00", 1795442400LL, 1795467600LL },
	{ TOKYO, "22:00-06:00", 1795446000LL, 1795467600LL },
	{ TOKYO, "22:00-06:00", 1795467599LL, 1795467600LL },
	/* 1970-01-01 09:00 JST -> 01-02 00:00 JST. */
	{ TOKYO, "09:00-24:00", 0LL, 54000LL },
	{ TOKYO, "09:00-24:00", -86400LL, -32400LL },
	/* Berlin: 03-28 12:00 CET -> 03-29 00:00 CET (a 23-hour day next). */
	{ BERLIN, "09:00-24:00", 1774695600LL, 1774738800LL },
	/* 03-29 12:00 CEST -> 03-30 00:00 CEST. */
	{ BERLIN, "09:00-24:00", 1774778400LL, 1774821600LL },
	/* 10-24 12:00 CEST -> 10-25 00:00 CEST. */
	{ BERLIN, "09:00-24:00", 1792836000LL, 1792879200LL },
	/* 10-25 12:00 CET -> 10-26 00:00 CET. */
	{ BERLIN, "09:00-24:00", 1792926000LL, 1792969200LL },
	/* Overnight windows across the change: 06:00 in the new offset. */
	{ BERLIN, "22:00-06:00", 1774735200LL, 1774756800LL },
	{ BERLIN, "22:00-06:00", 1792875600LL, 1792904400LL },
	/* End in the gap: the jump to 03:00 CEST is the end. */
	{ BERLIN, "20:00-02:30", 1774735200LL, 1774746000LL },
	/* End in the repeated hour: 02:30 CEST, then again 02:30 CET. */
	{ BERLIN, "20:00-02:30", 1792875600LL, 1792888200LL },
	{ BERLIN, "20:00-02:30", 1792890000LL, 1792891800LL },
	/* New York. */
	{ NEWYORK, "09:00-24:00", 1772902800LL, 1772946000LL },
	{ NEWYORK, "09:00-24:00", 1772985600LL, 1773028800LL },
	{ NEWYORK, "09:00-24:00", 1793462400LL, 1793505600LL },
	{ NEWYORK, "09:00-24:00", 1793552400LL, 1793595600LL },
	/* 2040 (footer): 03-25 12:00 CEST -> 03-26 00:00 CEST. */
	{ BERLIN, "09:00-24:00", 2216282400LL, 2216325600LL },
	/* All day: the session still ends when the local date changes. */
	{ TOKYO, "00:00-24:00", 1795402800LL, 1795446000LL },
	{ BERLIN, "00:00-24:00", 1774695600LL, 1774738800LL },
	{ BERLIN, "00:00-24:00", 1774778400LL, 1774821600LL },
};

static void
test_window_end(void **state)
{
	struct pc_hours_window	w;
	size_t			i;
	int64_t			got;

	(void)state;
	for (i = 0; i < sizeof(end_cases) / sizeof(end_cases[0]); i++) {
		w = window(end_cases[i].win);
		got = pc_hours_window_end(&w, &zones[end_cases[i].zone],
		    end_cases[i].t);
		if (got != end_cases[i].end)
			fail_msg("%s %s at %lld: %lld, want %lld",
			    zone_names[end_cases[i].zone], end_cases[i].win,
			    (long long)end_cases[i].t, (long long)got,
			    (long long)end_cases[i].end);
	}
}

/*
 * window_end against brute force: the first second after t at which
 * pc_hours_allowed() says no, for windows around each 2026 change.
 */
static void
test_window_end_brute(void **state)
{
	static const char	*wins[] = {
		"09:00-24:00", "22:00-06:00", "20:00-02:30", "01:30-02:30",
		"02:15-03:00", "00:30-06:00", "23:00-01:00", "12:00-11:59",
	};
	static const struct {
		enum zone_id	zone;
		int64_t		change;
	} changes[] = {
		{ BERLIN, 1774746000LL }, { BERLIN, 1792890000LL },
		{ NEWYORK, 1772953200LL }, { NEWYORK, 1793512800LL },
		{ SANTIAGO, 1775358000LL }, { SANTIAGO, 1788667200LL },
		{ NUUK, 1774746000LL }, { JERUSALEM, 1774569600LL },
	};
	struct pc_hours_window	w;
	const struct pc_tz	*z;
	size_t			i, k;
	int64_t			t, u, end;

	(void)state;
	for (k = 0; k < sizeof(changes) / sizeof(changes[0]); k++) {
		z = &zones[changes[k].zone];
		for (i = 0; i < sizeof(wins) / sizeof(wins[0]); i++) {
			w = window(wins[i]);
			/* Start points 7 h 13 min apart, over 36 hours. */
			for (t = changes[k].change - 86400;
			    t < changes[k].change + 43200; t += 26011) {
				end = pc_hours_window_end(&w, z, t);
				if (!pc_hours_allowed(&w, z, t)) {
					assert_int_equal(end, t);
					continue;
				}
				for (u = t + 1; u < t + 2 * 86400; u++) {
					if (!pc_hours_allowed(&w, z, u))
						break;
				}
				if (u != end)
					fail_msg("%s %s at %lld: %lld, brute "
					    "%lld", zone_names[changes[k].zone],
					    wins[i], (long long)t,
					    (long long)end, (long long)u);
			}
		}
	}
}

/*
 * Bad arguments, unloaded zones, extreme instants: always "denied".
 */
static void
test_fail_closed(void **state)
{
	struct pc_hours_window	w, bad;
	struct pc_tz		empty;

	(void)state;
	w = window("00:00-24:00");
	memset(&empty, 0, sizeof(empty));
	assert_int_equal(pc_hours_allowed(&w, &empty, 1795402800LL), 0);
	assert_int_equal(pc_hours_window_end(&w, &empty, 1795402800LL),
	    1795402800LL);
	assert_int_equal(pc_tz_offset(&empty, 1795402800LL), 0);
	assert_int_equal(pc_tz_offset(NULL, 1795402800LL), 0);
	assert_int_equal(pc_hours_allowed(NULL, &zones[TOKYO], 0), 0);
	assert_int_equal(pc_hours_allowed(&w, NULL, 0), 0);
	assert_int_equal(pc_hours_window_end(NULL, &zones[TOKYO], 5), 5);

	/* A window that pc_hours_parse() would never produce. */
	bad.start_min = 600;
	bad.end_min = 600;
	assert_int_equal(pc_hours_allowed(&bad, &zones[TOKYO], 1795402800LL),
	    0);
	bad.start_min = 0;
	bad.end_min = 1441;
	assert_int_equal(pc_hours_allowed(&bad, &zones[TOKYO], 1795402800LL),
	    0);

	assert_int_equal(pc_hours_allowed(&w, &zones[BERLIN], INT64_MAX), 0);
	assert_int_equal(pc_hours_allowed(&w, &zones[BERLIN], INT64_MIN), 0);
	assert_int_equal(pc_hours_window_end(&w, &zones[BERLIN], INT64_MAX),
	    INT64_MAX);
	assert_int_equal(pc_hours_window_end(&w, &zones[BERLIN], INT64_MIN),
	    INT64_MIN);
	/* Offsets at the extremes must not overflow (UBSan builds). */
	(void)pc_tz_offset(&zones[BERLIN], INT64_MAX);
	(void)pc_tz_offset(&zones[BERLIN], INT64_MIN);
	(void)pc_tz_offset(&zones[SANTIAGO], INT64_MAX);
	(void)pc_tz_offset(&zones[SANTIAGO], INT64_MIN);
}

/*
 * pc_tz_load
 */

static const char	*bad_names[] = {
	"",
	"/Asia/Tokyo",
	"../zoneinfo/Asia/Tokyo",
	"Asia/../Asia/Tokyo",
	"Asia/..",
	"..",
	"Asia//Tokyo",
	"Asia/Tokyo/",
	"Asia/Tok yo",
	"Asia/Tokyo\n",
	"Asia\\Tokyo",
	"Asia/Tokyo.",
	"Asia/T\xc5\x8dky\xc5\x8d",
	"Asia/Tokyo;",
	"Asia/*",
	LONG_NAME,
	"Asia/Osaka",		/* valid name, no such file */
	"Asia",			/* a directory */
	"Test",
};

static void
test_load(void **state)
{
	size_t	i;

	(void)state;
	assert_int_equal(strlen(LONG_NAME), 64);
	for (i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
		memset(&scratch, 0xa5, sizeof(scratch));
		if (pc_tz_load(&scratch, ZONEINFO, bad_names[i]) != -1)
			fail_msg("loaded \"%s\"", bad_names[i]);
		assert_int_equal(scratch.ntypes, 0);
	}
	assert_int_equal(pc_tz_load(&scratch, ZONEINFO, NULL), -1);
	assert_int_equal(pc_tz_load(&scratch, NULL, "Asia/Tokyo"), -1);
	assert_int_equal(pc_tz_load(&scratch, "", "Asia/Tokyo"), -1);
	assert_int_equal(pc_tz_load(NULL, ZONEINFO, "Asia/Tokyo"), -1);

	assert_int_equal(pc_tz_load(&scratch, ZONEINFO, "Asia/Tokyo"), 0);
	assert_string_equal(scratch.name, "Asia/Tokyo");
	assert_int_equal(scratch.ntypes, 4);
	assert_int_equal(scratch.ntrans, 9);
	/* Type 0 is LMT (+9:18:59), in force before 1887. */
	assert_int_equal(scratch.type_off[0], 33539);
}

/* Files over 64 KiB are refused; one just under is read whole. */
static void
test_load_size(void **state)
{
	char		dir[] = "/tmp/test_hours.XXXXXX";
	char		path[128];
	uint8_t		*buf;
	size_t		n;
	FILE		*fp;

	(void)state;
	buf = calloc(1, FILE_MAX + 1);
	assert_non_null(buf);
	assert_non_null(mkdtemp(dir));

	/* A valid file padded would not parse anyway; size alone decides. */
	snprintf(path, sizeof(path), "%s/Big", dir);
	fp = fopen(path, "wb");
	assert_non_null(fp);
	memcpy(buf, "TZif2", 5);
	assert_int_equal(fwrite(buf, 1, FILE_MAX + 1, fp), FILE_MAX + 1);
	fclose(fp);
	assert_int_equal(pc_tz_load(&scratch, dir, "Big"), -1);

	n = read_fixture("Europe/Berlin", buf, FILE_MAX);
	snprintf(path, sizeof(path), "%s/Berlin", dir);
	fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(buf, 1, n, fp), n);
	fclose(fp);
	assert_int_equal(pc_tz_load(&scratch, dir, "Berlin"), 0);
	assert_int_equal(pc_tz_offset(&scratch, 1774746000LL), 7200);

	unlink(path);
	snprintf(path, sizeof(path), "%s/Big", dir);
	unlink(path);
	rmdir(dir);
	free(buf);
}

/* The installed tzdata, as the server loads it. */
static void
test_load_system(void **state)
{
	struct stat	st;

	(void)state;
	if (stat("/usr/share/zoneinfo/Asia/Tokyo", &st) == -1)
		skip();
	assert_int_equal(pc_tz_load(&scratch, "/usr/share/zoneinfo",
	    "Asia/Tokyo"), 0);
	assert_int_equal(pc_tz_offset(&scratch, 1795392000LL), 32400);
	assert_int_equal(pc_tz_load(&scratch, "/usr/share/zoneinfo",
	    "Europe/Berlin"), 0);
	assert_int_equal(pc_tz_offset(&scratch, 1774746000LL), 7200);
}

/*
 * pc_tz_parse on hand-made images.
 */

struct ttype {
	int32_t		off;
	uint8_t		isdst;
};

struct tzspec {
	char			 version;	/* 0, '2', '3', ... */
	size_t			 ntrans;
	const int64_t		*trans;
	const uint8_t		*idx;
	size_t			 ntypes;
	const struct ttype	*types;
	const char		*footer;	/* NULL: empty footer */
};

static uint8_t *
put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
	return (p + 4);
}

static uint8_t *
put_block(uint8_t *p, const struct tzspec *s, int tsize)
{
	size_t		i;
	uint64_t	v;

	/* Header: magic, version, 15 unused, six counts. */
	memcpy(p, "TZif", 4);
	p[4] = (uint8_t)s->version;
	memset(p + 5, 0, 15);
	p += 20;
	p = put32(p, 0);			/* isutcnt */
	p = put32(p, 0);			/* isstdcnt */
	p = put32(p, 0);			/* leapcnt */
	p = put32(p, (uint32_t)s->ntrans);	/* timecnt */
	p = put32(p, (uint32_t)s->ntypes);	/* typecnt */
	p = put32(p, 4);			/* charcnt */

	for (i = 0; i < s->ntrans; i++) {
		v = (uint64_t)s->trans[i];
		if (tsize == 8)
			p = put32(p, (uint32_t)(v >> 32));
		p = put32(p, (uint32_t)v);
	}
	for (i = 0; i < s->ntrans; i++)
		*p++ = s->idx[i];
	for (i = 0; i < s->ntypes; i++) {
		p = put32(p, (uint32_t)s->types[i].off);
		*p++ = s->types[i].isdst;
		*p++ = 0;
	}
	memcpy(p, "ABC", 4);
	return (p + 4);
}

static size_t
build(uint8_t *buf, const struct tzspec *s)
{
	uint8_t		*p;
	size_t		 n;

	p = put_block(buf, s, 4);
	if (s->version == 0)
		return ((size_t)(p - buf));
	p = put_block(p, s, 8);
	*p++ = '\n';
	if (s->footer != NULL) {
		n = strlen(s->footer);
		memcpy(p, s->footer, n);
		p += n;
	}
	*p++ = '\n';
	return ((size_t)(p - buf));
}

static const int64_t	syn_trans[] = { -100000LL, 1000000LL, 2000000LL };
static const uint8_t	syn_idx[] = { 1, 2, 1 };
static const struct ttype	syn_types[] = {
	{ 7200, 1 },		/* a DST type in slot 0 */
	{ 3600, 0 },		/* the first standard type */
	{ 10800, 1 },
};

static struct tzspec
syn_spec(char version, const char *footer)
{
	struct tzspec	s;

	s.version = version;
	s.ntrans = 3;
	s.trans = syn_trans;
	s.idx = syn_idx;
	s.ntypes = 3;
	s.types = syn_types;
	s.footer = footer;
	return (s);
}

static void
test_parse_synthetic(void **state)
{
	uint8_t		buf[1024];
	struct tzspec	s;
	size_t		len;

	(void)state;

	/* v1 only: 32-bit data, no footer. */
	s = syn_spec(0, NULL);
	len = build(buf, &s);
	assert_int_equal(pc_tz_parse(&scratch, "v1", buf, len), 0);
	assert_int_equal(scratch.ntrans, 3);
	assert_int_equal(scratch.has_rule, 0);
	/* Before the first transition: the first non-DST type. */
	assert_int_equal(pc_tz_offset(&scratch, -100001LL), 3600);
	assert_int_equal(pc_tz_offset(&scratch, -100000LL), 3600);
	assert_int_equal(pc_tz_offset(&scratch, 999999LL), 3600);
	assert_int_equal(pc_tz_offset(&scratch, 1000000LL), 10800);
	assert_int_equal(pc_tz_offset(&scratch, 1999999LL), 10800);
	/* No footer: the last type stays. */
	assert_int_equal(pc_tz_offset(&scratch, 2000000LL), 3600);
	assert_int_equal(pc_tz_offset(&scratch, 4000000000LL), 3600);
	/* Trailing bytes after a v1 image. */
	buf[len] = 0;
	assert_int_equal(pc_tz_parse(&scratch, "v1", buf, len + 1), -1);

	/* v2, v3, v4 with a footer that disagrees with the last type. */
	s = syn_spec('2', "XXX-5");
	len = build(buf, &s);
	assert_int_equal(pc_tz_parse(&scratch, "v2", buf, len), 0);
	assert_int_equal(pc_tz_offset(&scratch, 2000000LL), 3600);
	assert_int_equal(pc_tz_offset(&scratch, 2000001LL), 18000);
	s.version = '3';
	len = build(buf, &s);
	assert_int_equal(pc_tz_parse(&scratch, "v3", buf, len), 0);
	s.version = '4';
	len = build(buf, &s);
	assert_int_equal(pc_tz_parse(&scratch, "v4", buf, len), 0);
	/* Empty footer: no rule. */
	s.footer = NULL;
	len = build(buf, &s);
	assert_int_equal(pc_tz_parse(&scratch, "v4", buf, len), 0);
	assert_int_equal(scratch.has_rule, 0);
	assert_int_equal(pc_tz_offset(&scratch, 4000000000LL), 3600);

	/* Unknown version. */
	s = syn_spec('5', NULL);
	len = build(buf, &s);
	assert_int_equal(pc_tz_parse(&scratch, "v5", buf, len), -1);
	s = syn_spec('1', NULL);
	len = build(buf, &s);
	assert_int_equal(pc_tz_parse(&scratch, "v1?", buf, len), -1);

	/* Name too long for the struct. */
	s = syn_spec('2', NULL);
	len = build(buf, &s);
	assert_int_equal(pc_tz_parse(&scratch, LONG_NAME, buf, len), -1);
	assert_int_equal(pc_tz_parse(&scratch, NULL, buf, len), 0);
	assert_int_equal(pc_tz_parse(&scratch, "x", NULL, len), -1);
	assert_int_equal(pc_tz_parse(NULL, "x", buf, len), -1);
}

/* A valid v2 image, then one field broken at a time. */
static void
test_parse_malformed(void **state)
{
	static const int64_t	desc[] = { 2000000LL, 1000000LL, 3000000LL };
	static const uint8_t	badidx[] = { 1, 3, 1 };
	static const struct ttype	badoff[] = {
		{ 93600, 0 }, { 3600, 0 }, { 10800, 1 }
	};
	static const struct ttype	baddst[] = {
		{ 7200, 2 }, { 3600, 0 }, { 10800, 1 }
	};
	struct ttype	many[PC_TZ_MAX_TYPES + 1];
	uint8_t		buf[1024], copy[1024];
	struct tzspec	s;
	size_t		i, len, v1len;

	(void)state;
	s = syn_spec('2', "XXX-1");
	len = build(buf, &s);
	assert_int_equal(pc_tz_parse(&scratch, "ok", buf, len), 0);
	v1len = 44 + 3 * 5 + 3 * 6 + 4;

	/* Bad magic, in either header. */
	memcpy(copy, buf, len);
	copy[0] = 'X';
	assert_int_equal(pc_tz_parse(&scratch, "x", copy, len), -1);
	memcpy(copy, buf, len);
	copy[v1len + 3] = 'g';
	assert_int_equal(pc_tz_parse(&scratch, "x", copy, len), -1);
	/* Second header of another version. */
	memcpy(copy, buf, len);
	copy[v1len + 4] = '3';
	assert_int_equal(pc_tz_parse(&scratch, "x", copy, len), -1);

	/* Transitions out of order, equal, bad index, bad types. */
	s.trans = desc;
	len = build(buf, &s);
	assert_int_equal(pc_tz_parse(&scratch, "x", buf, len), -1);
	s = syn_spec('2', "XXX-1");
	s.idx = badidx;
	len = build(buf, &s);
	assert_int_equal(pc_tz_parse(&scratch, "x", buf, len), -1);
	s = syn_spec('2', "XXX-1");
	s.types = badoff;
	len = build(buf, &s);
	assert_int_equal(pc_tz_parse(&scratch, "x", buf, len), -1);
	s = syn_spec('2', "XXX-1");
	s.types = baddst;
	len = build(buf, &s);
	assert_int_equal(pc_tz_parse(&scratch, "x", buf, len), -1);
	/* No types at all. */
	s = syn_spec('2', "XXX-1");
	s.ntrans = 0;
	s.ntypes = 0;
	len = build(buf, &s);
	assert_int_equal(pc_tz_parse(&scratch, "x", buf, len), -1);
	/* More types than struct pc_tz holds. */
	s = syn_spec('2', "XXX-1");
	for (i = 0; i < PC_TZ_MAX_TYPES + 1; i++) {
		many[i].off = 3600;
		many[i].isdst = 0;
	}
	s.types = many;
	s.ntypes = PC_TZ_MAX_TYPES + 1;
	len = build(buf, &s);
	assert_int_equal(pc_tz_parse(&scratch, "x", buf, len), -1);
	s.ntypes = PC_TZ_MAX_TYPES;
	len = build(buf, &s);
	assert_int_equal(pc_tz_parse(&scratch, "x", buf, len), 0);

	/* Footer framing: missing newlines, trailing bytes, NUL inside. */
	s = syn_spec('2', "XXX-1");
	len = build(buf, &s);
	memcpy(copy, buf, len);
	copy[len - 1] = 'x';
	assert_int_equal(pc_tz_parse(&scratch, "x", copy, len), -1);
	memcpy(copy, buf, len);
	copy[len - 7] = ' ';
	assert_int_equal(pc_tz_parse(&scratch, "x", copy, len), -1);
	memcpy(copy, buf, len);
	copy[len] = '\n';
	assert_int_equal(pc_tz_parse(&scratch, "x", copy, len + 1), -1);
	memcpy(copy, buf, len);
	copy[len - 3] = '\0';
	assert_int_equal(pc_tz_parse(&scratch, "x", copy, len), -1);
	/* And a failed parse leaves nothing usable behind. */
	assert_int_equal(scratch.ntypes, 0);
	assert_int_equal(scratch.has_rule, 0);
}

/* Counts far beyond the buffer or the struct, in either header. */
static void
test_parse_huge_counts(void **state)
{
	static const uint32_t	vals[] = {
		0xffffffffU, 0x80000000U, 0x7fffffffU, 0x10000000U,
		PC_TZ_MAX_TRANS + 1, 65536, 1000,
	};
	uint8_t		buf[FILE_MAX], copy[FILE_MAX];
	size_t		len, field, v, hdr, v1len;
	const uint8_t	*h;
	uint32_t	c[6];

	(void)state;
	len = read_fixture("Europe/Berlin", buf, sizeof(buf));
	h = buf + 20;
	for (field = 0; field < 6; field++)
		c[field] = (uint32_t)h[field * 4] << 24 |
		    (uint32_t)h[field * 4 + 1] << 16 |
		    (uint32_t)h[field * 4 + 2] << 8 | h[field * 4 + 3];
	/* isut, isstd, leap, time, type, char counts of the v1 block. */
	v1len = 44 + c[3] * 5 + c[4] * 6 + c[5] + c[2] * 8 + c[1] + c[0];

	for (hdr = 0; hdr < 2; hdr++) {
		for (field = 0; field < 6; field++) {
			for (v = 0; v < sizeof(vals) / sizeof(vals[0]); v++) {
				memcpy(copy, buf, len);
				put32(copy + (hdr ? v1len : 0) + 20 + field * 4,
				    vals[v]);
				assert_int_equal(pc_tz_parse(&scratch, "x",
				    copy, len), -1);
			}
		}
	}
}

/* Every proper prefix of a real file is refused, without crashing. */
static void
test_parse_prefixes(void **state)
{
	uint8_t		buf[FILE_MAX], *copy;
	size_t		i, len, n;

	(void)state;
	for (i = 0; i < NZONES; i++) {
		len = read_fixture(zone_names[i], buf, sizeof(buf));
		assert_int_equal(pc_tz_parse(&scratch, "x", buf, len), 0);
		for (n = 0; n < len; n++) {
			/* Exact-size heap copies let ASan see any overread. */
			copy = malloc(n > 0 ? n : 1);
			assert_non_null(copy);
			memcpy(copy, buf, n);
			if (pc_tz_parse(&scratch, "x", copy, n) != -1)
				fail_msg("%s: prefix of %zu accepted",
				    zone_names[i], n);
			free(copy);
		}
	}
}

/*
 * Random corruption (fixed seed): parse must not crash, and whatever it
 * accepts must be safe to query.
 */
static void
test_parse_mutations(void **state)
{
	struct pc_hours_window	w;
	uint8_t			buf[FILE_MAX], *copy;
	size_t			i, len, n, pos;
	unsigned		seed, k, m, nm;
	int64_t			t;

	(void)state;
	w = window("22:00-06:00");
	seed = 12345;
	for (i = 0; i < NZONES; i++) {
		len = read_fixture(zone_names[i], buf, sizeof(buf));
		for (k = 0; k < 3000; k++) {
			copy = malloc(len);
			assert_non_null(copy);
			memcpy(copy, buf, len);
			n = len;
			nm = 1 + rand_r(&seed) % 4;
			for (m = 0; m < nm; m++) {
				pos = (size_t)rand_r(&seed) % n;
				if (rand_r(&seed) % 8 == 0)
					n = pos + 1;
				else
					copy[pos] = (uint8_t)rand_r(&seed);
			}
			if (pc_tz_parse(&scratch, "x", copy, n) == 0) {
				for (t = -4000000000LL; t < 5000000000LL;
				    t += 700000001LL) {
					(void)pc_tz_offset(&scratch, t);
					(void)pc_hours_window_end(&w, &scratch,
					    t);
				}
			}
			free(copy);
		}
	}
}

/*
 * POSIX TZ footers, through a hand-made v2 image with no transitions.
 */

struct footer_case {
	const char	*footer;
	int		 rc;
	int32_t		 std_off, dst_off;
	int		 has_dst;
	int		 sm, sw, sd, st;
	int		 em, ew, ed, et;
};

static const struct footer_case	footer_cases[] = {
	{ "JST-9", 0, 32400, 32400, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "<+0330>-3:30", 0, 12600, 12600, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "<+1245>-12:45", 0, 45900, 45900, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "<-01>1", 0, -3600, -3600, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "UTC0", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "AAA+3", 0, -10800, -10800, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "XXX-1:02:03", 0, 3723, 3723, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "CET-1CEST,M3.5.0,M10.5.0/3", 0, 3600, 7200, 1,
	    3, 5, 0, 7200, 10, 5, 0, 10800 },
	{ "EST5EDT,M3.2.0,M11.1.0", 0, -18000, -14400, 1,
	    3, 2, 0, 7200, 11, 1, 0, 7200 },
	{ "EST5EDT4,M3.2.0/2:00:00,M11.1.0/02:00", 0, -18000, -14400, 1,
	    3, 2, 0, 7200, 11, 1, 0, 7200 },
	{ "<-02>2<-01>,M3.5.0/-1,M10.5.0/0", 0, -7200, -3600, 1,
	    3, 5, 0, -3600, 10, 5, 0, 0 },
	{ "IST-2IDT,M3.4.4/26,M10.5.0", 0, 7200, 10800, 1,
	    3, 4, 4, 93600, 10, 5, 0, 7200 },
	{ "<-04>4<-03>,M9.1.6/24,M4.1.6/24", 0, -14400, -10800, 1,
	    9, 1, 6, 86400, 4, 1, 6, 86400 },
	{ "AAA3BBB,M3.5.0/167,M10.5.0/-167:59:59", 0, -10800, -7200, 1,
	    3, 5, 0, 601200, 10, 5, 0, -604799 },
	{ "<+13>-13<+14>,M9.5.0/2:00,M4.1.0/+3", 0, 46800, 50400, 1,
	    9, 5, 0, 7200, 4, 1, 0, 10800 },
	/* Refused. */
	{ "JST", -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "JS-9", -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "-9", -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "JST-9 ", -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ " JST-9", -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "JST-9\t", -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "JST-25", -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "JST-009", -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "JST-9:60", -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "JST-9:5", -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "JST-9:", -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "JST-9:00:", -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "JST--9", -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "<+03-3", -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "<+3>-3", -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "<+0 3>-3", -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "<+0330>", -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "CET-1CEST", -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "CET-1CEST-2", -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "CET-1CEST,M3.5.0", -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "CET-1CEST,M3.5.0,", -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "CET-1CEST,M3.5.0,M10.5.0,", -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "CET-1CE,M3.5.0,M10.5.0", -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "CET-1CEST,M13.5.0,M10.5.0", -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "CET-1CEST,M0.5.0,M10.5.0", -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "CET-1CEST,M3.6.0,M10.5.0", -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "CET-1CEST,M3.0.0,M10.5.0", -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "CET-1CEST,M3.5.7,M10.5.0", -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "CET-1CEST,M3.5,M10.5.0", -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "CET-1CEST,M3.5.0/168,M10.5.0", -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "CET-1CEST,M3.5.0/,M10.5.0", -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "CET-1CEST,M3.5.0/1:2,M10.5.0", -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "CET-1CEST,M3.5.0/1:00:60,M10.5.0", -1, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0, 0 },
	/* Julian forms are not supported: fail closed. */
	{ "EST5EDT,J60,J300", -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "EST5EDT,60,300", -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "EST5EDT,M3.2.0,J300", -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "EST5EDT,0/0,J365/25", -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
};

static void
test_footer_strings(void **state)
{
	static const struct ttype	type0 = { 0, 0 };
	const struct footer_case	*c;
	uint8_t				 buf[1024];
	struct tzspec			 s;
	size_t				 i, len;

	(void)state;
	memset(&s, 0, sizeof(s));
	s.version = '3';
	s.ntypes = 1;
	s.types = &type0;
	for (i = 0; i < sizeof(footer_cases) / sizeof(footer_cases[0]); i++) {
		c = &footer_cases[i];
		s.footer = c->footer;
		len = build(buf, &s);
		if (pc_tz_parse(&scratch, "x", buf, len) != c->rc)
			fail_msg("footer \"%s\": want %d", c->footer, c->rc);
		if (c->rc == -1) {
			assert_int_equal(scratch.has_rule, 0);
			continue;
		}
		assert_int_equal(scratch.has_rule, 1);
		assert_int_equal(scratch.std_off, c->std_off);
		assert_int_equal(scratch.has_dst, c->has_dst);
		if (!c->has_dst)
			continue;
		assert_int_equal(scratch.dst_off, c->dst_off);
		assert_int_equal(scratch.dst_start_m, c->sm);
		assert_int_equal(scratch.dst_start_w, c->sw);
		assert_int_equal(scratch.dst_start_d, c->sd);
		assert_int_equal(scratch.dst_start_t, c->st);
		assert_int_equal(scratch.dst_end_m, c->em);
		assert_int_equal(scratch.dst_end_w, c->ew);
		assert_int_equal(scratch.dst_end_d, c->ed);
		assert_int_equal(scratch.dst_end_t, c->et);
	}
}

/* Leap-second ("right/") files are refused rather than misread. */
static void
test_parse_leap_seconds(void **state)
{
	uint8_t		buf[1024];
	struct tzspec	s;
	size_t		len, v1len;

	(void)state;
	s = syn_spec('2', "XXX-1");
	len = build(buf, &s);
	v1len = 44 + 3 * 5 + 3 * 6 + 4;
	/* Claim one leap record in the v2 header and supply 12 bytes. */
	put32(buf + v1len + 28, 1);
	memmove(buf + len - 7 + 12, buf + len - 7, 7);
	memset(buf + len - 7, 0, 12);
	assert_int_equal(pc_tz_parse(&scratch, "x", buf, len + 12), -1);
}

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		cmocka_unit_test(test_parse_ok),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_offsets),
		cmocka_unit_test(test_footer_rule),
		cmocka_unit_test(test_footer_matches_transitions),
		cmocka_unit_test(test_allowed),
		cmocka_unit_test(test_window_end),
		cmocka_unit_test(test_window_end_brute),
		cmocka_unit_test(test_fail_closed),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_load_size),
		cmocka_unit_test(test_load_system),
		cmocka_unit_test(test_parse_synthetic),
		cmocka_unit_test(test_parse_malformed),
		cmocka_unit_test(test_parse_huge_counts),
		cmocka_unit_test(test_parse_prefixes),
		cmocka_unit_test(test_parse_mutations),
		cmocka_unit_test(test_footer_strings),
		cmocka_unit_test(test_parse_leap_seconds),
	};

	return (cmocka_run_group_tests(tests, setup_group, NULL));
}
