/*
 * hours.h: allowed-hours window in a policy timezone (pure).
 *
 * The timezone is loaded from a TZif file (e.g. /usr/share/zoneinfo/
 * Asia/Tokyo) once at start-up, before the workers chroot; after that
 * every decision is a pure function of (window, zone, instant).
 */
#ifndef PC_HOURS_H
#define PC_HOURS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Minutes after local midnight; end may be 1440 (24:00). */
struct pc_hours_window {
	uint16_t	start_min;	/* 0..1439 */
	uint16_t	end_min;	/* 1..1440; end < start crosses midnight */
};

#define PC_TZ_MAX_TRANS		2000
#define PC_TZ_MAX_TYPES		32

struct pc_tz {
	char		name[64];
	size_t		ntrans;
	int64_t		trans[PC_TZ_MAX_TRANS];		/* UTC seconds */
	uint8_t		trans_type[PC_TZ_MAX_TRANS];
	size_t		ntypes;
	int32_t		type_off[PC_TZ_MAX_TYPES];	/* UTC offset, seconds */
	/* POSIX TZ footer rule for instants after the last transition. */
	int		has_rule;
	int32_t		std_off;	/* UTC offset in standard time */
	int32_t		dst_off;	/* UTC offset in DST (if has_dst) */
	int		has_dst;
	/* Mm.w.d/time rules: month 1..12, week 1..5, wday 0..6, secs */
	int		dst_start_m, dst_start_w, dst_start_d, dst_start_t;
	int		dst_end_m, dst_end_w, dst_end_d, dst_end_t;
};

/* "HH:MM-HH:MM", HH 00..24, MM 00..59, 24 only as 24:00, start != end. */
int	pc_hours_parse(struct pc_hours_window *w, const char *text);

/* Load a TZif (v2+ preferred) image from memory / from a file. 0 or -1. */
int	pc_tz_parse(struct pc_tz *tz, const char *name,
	    const uint8_t *data, size_t len);
int	pc_tz_load(struct pc_tz *tz, const char *zoneinfo_dir,
	    const char *name);

/* UTC offset in seconds in force at instant t. */
int32_t	pc_tz_offset(const struct pc_tz *tz, int64_t t);

/* 1 if instant t (UTC seconds) lies inside the window, 0 otherwise. */
int	pc_hours_allowed(const struct pc_hours_window *w,
	    const struct pc_tz *tz, int64_t t);

/*
 * If t is inside the window: the UTC instant at which the current window
 * ends (the first instant not allowed). If t is outside: returns t.
 * Sessions never live past this.
 */
int64_t	pc_hours_window_end(const struct pc_hours_window *w,
	    const struct pc_tz *tz, int64_t t);

#endif
