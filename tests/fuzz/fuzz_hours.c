/*
 * fuzz_hours.c: the allowed-hours window and the TZif timezone parser.
 *
 * An input that starts with "TZif" goes to pc_tz_parse() (the zone file
 * is read before the workers chroot and is treated as hostile); the
 * parsed zone is then asked for offsets and window decisions at
 * instants around its transitions and at the extremes. Anything else is
 * a window text for pc_hours_parse().
 *
 * Properties: a parsed window prints back as its text (an end of 00:00
 * reads as 24:00); a failed parse leaves it zeroed; a parsed zone has
 * 1..32 types and at most 2000 transitions; pc_hours_window_end(t) is
 * never before t and is t when t is outside the window.
 */
#include "hours.h"
#include "fuzz_util.h"

static void	fuzz_window(const uint8_t *, size_t);
static void	fuzz_tz(const uint8_t *, size_t);
static void	fuzz_instant(const struct pc_tz *, int64_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size >= 4 && memcmp(data, "TZif", 4) == 0)
		fuzz_tz(data, size);
	else
		fuzz_window(data, size);
	return (0);
}

static void
fuzz_window(const uint8_t *data, size_t size)
{
	struct pc_hours_window	w;
	char			*s, back[32];

	s = fz_cstr(data, size);
	if (pc_hours_parse(&w, s) == -1) {
		FZ_CHECK(w.start_min == 0 && w.end_min == 0);
		free(s);
		return;
	}
	FZ_CHECK(w.start_min < 1440 && w.end_min >= 1 && w.end_min <= 1440);
	FZ_CHECK(w.start_min != w.end_min);
	(void)snprintf(back, sizeof(back), "%02u:%02u-%02u:%02u",
	    w.start_min / 60u, w.start_min % 60u, w.end_min / 60u,
	    w.end_min % 60u);
	FZ_CHECK(strcmp(back, s) == 0 || (w.end_min == 1440 &&
	    strcmp(s + 6, "00:00") == 0 && strncmp(back, s, 6) == 0));
	free(s);
}

static void
fuzz_instant(const struct pc_tz *tz, int64_t t)
{
	static const struct pc_hours_window	ws[] = {
		{ 9 * 60, 18 * 60 },	/* office hours */
		{ 0, 1440 },		/* all day: ends at local midnight */
		{ 22 * 60, 6 * 60 },	/* across midnight */
		{ 150, 151 },		/* one minute inside a DST change */
	};
	size_t					i;
	int64_t					e;
	int					a;

	(void)pc_tz_offset(tz, t);
	for (i = 0; i < sizeof(ws) / sizeof(ws[0]); i++) {
		a = pc_hours_allowed(&ws[i], tz, t);
		FZ_CHECK(a == 0 || a == 1);
		e = pc_hours_window_end(&ws[i], tz, t);
		FZ_CHECK(e >= t);
		if (!a)
			FZ_CHECK(e == t);
	}
}

static void
fuzz_tz(const uint8_t *data, size_t size)
{
	static const int64_t	fixed[] = {
		INT64_MIN, -((int64_t)1 << 50) - 1, -((int64_t)1 << 50),
		-10000000000LL, -1, 0, 1700000000, 2147483647, 2147483648LL,
		4102444800LL, (int64_t)1 << 50, ((int64_t)1 << 50) + 1,
		INT64_MAX,
	};
	static struct pc_tz	tz;
	uint8_t			*copy;
	size_t			i;

	copy = fz_dup(data, size);
	if (pc_tz_parse(&tz, "Fuzz/Zone", copy, size) == -1) {
		FZ_CHECK(tz.ntypes == 0 && tz.ntrans == 0 && tz.name[0] == '\0');
		free(copy);
		return;
	}
	FZ_CHECK(tz.ntypes >= 1 && tz.ntypes <= PC_TZ_MAX_TYPES);
	FZ_CHECK(tz.ntrans <= PC_TZ_MAX_TRANS);
	FZ_CHECK(strcmp(tz.name, "Fuzz/Zone") == 0);

	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		fuzz_instant(&tz, fixed[i]);
	/* Around the first and the last few transitions. */
	for (i = 0; i < tz.ntrans && i < 3; i++) {
		if (tz.trans[i] > INT64_MIN)
			fuzz_instant(&tz, tz.trans[i] - 1);
		fuzz_instant(&tz, tz.trans[i]);
	}
	for (i = tz.ntrans > 3 ? tz.ntrans - 3 : 0; i < tz.ntrans; i++) {
		fuzz_instant(&tz, tz.trans[i]);
		if (tz.trans[i] < INT64_MAX)
			fuzz_instant(&tz, tz.trans[i] + 1);
	}
	free(copy);
}
