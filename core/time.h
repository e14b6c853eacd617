/* Time parsing and formatting (prefix lw_time). All times are int64 ns
 * since the Unix epoch, UTC. */
#ifndef LW_CORE_TIME_H
#define LW_CORE_TIME_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

/* Current wall-clock time (CLOCK_REALTIME) in ns. */
int64_t lw_time_now_ns(void);

/* CLOCK_MONOTONIC in ns / ms: deadlines and rates, which a wall-clock
 * step must not move. */
int64_t lw_time_mono_ns(void);
int64_t lw_time_mono_ms(void);

/* Parses an RFC 3339 timestamp ("2026-11-27T12:30:05.123456+09:00", also
 * "Z", a space instead of "T", and a date alone meaning midnight UTC).
 * On success stores ns and returns the number of bytes consumed (> 0);
 * returns 0 when s does not start with a valid timestamp. */
size_t lw_time_parse_rfc3339(const char *s, size_t len, int64_t *ns);

/* Parses a length of time, digits and a unit s, m, h, d or w ("15m",
 * "2h", "7d") into *ns (>= 0; at most 31 years). LW_OK or LW_EINVAL. */
int lw_time_parse_age(const char *s, int64_t *ns);

/* Parses a query time: RFC 3339 as above (the whole string), or a relative
 * age "15m", "2h", "7d", "30s" meaning now_ns minus that. LW_OK/LW_EINVAL. */
int lw_time_parse_query(const char *s, int64_t now_ns, int64_t *ns);

/* Appends "2026-11-27T12:30:05.123456Z" (microseconds, UTC). */
void lw_time_format_rfc3339(int64_t ns, struct lw_buf *out);

/* Civil-calendar helpers (proleptic Gregorian, any year). Days are counted
 * from 1970-01-01; mon is 1..12, mday 1..31. */
int64_t lw_time_days_from_civil(int64_t year, unsigned mon, unsigned mday);
void lw_time_civil_from_days(int64_t days, int64_t *year, unsigned *mon,
			     unsigned *mday);
/* Days in a month (1..12) of a year; 0 for a bad month. */
unsigned lw_time_days_in_month(int64_t year, unsigned mon);

/* One parsed ISO 8601 / RFC 3339 date-time, before any zone is applied. */
struct lw_time_parts {
	int64_t local_sec;   /* the wall-clock fields as seconds since the epoch */
	int32_t nsec;        /* fraction, truncated to ns */
	int32_t offset_sec;  /* UTC offset when has_offset */
	int has_offset;      /* "Z" or +hh:mm was present */
};

enum lw_time_iso_flags {
	LW_TIME_ISO_STRICT = 1u << 0,    /* RFC 5424: only 'T', only 'Z', offset required */
	LW_TIME_ISO_DATE_ONLY = 1u << 1, /* a date alone is accepted (midnight) */
};

/* Years whose every instant fits int64 ns since the epoch. */
#define LW_TIME_YEAR_MIN 1678
#define LW_TIME_YEAR_MAX 2261

/* Parses "YYYY-MM-DD[Tt ]hh:mm:ss[.frac][Z|+hh:mm|-hh:mm]" at s (any number
 * of fraction digits, truncated to ns; fields range-checked, no leap
 * second). Returns the bytes consumed (> 0) or 0 when s does not start with
 * such a timestamp. Years outside LW_TIME_YEAR_MIN..MAX are refused (the
 * result would not fit int64 ns). Borrows s; never allocates. */
size_t lw_time_parse_iso(const char *s, size_t len, unsigned flags,
			 struct lw_time_parts *out);

#endif
