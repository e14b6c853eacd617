/* Time zones from TZif files (prefix lw_tz), without the C library's global
 * TZ state: no setenv("TZ"), tzset() or localtime(). A loaded zone is
 * immutable, so one struct lw_tz may be shared by any number of threads.
 *
 * Format: RFC 8536 (TZif versions 1, 2, 3 and 4). Times after the last
 * transition follow the footer's POSIX TZ rule ("CET-1CEST,M3.5.0,M10.5.0/3").
 * Leap-second records are ignored: logward counts POSIX seconds.
 *
 * A NULL struct lw_tz * means UTC everywhere in this API. */
#ifndef LW_CORE_TZ_H
#define LW_CORE_TZ_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct lw_tz; /* opaque */

/* Loads a zone by IANA name ("Asia/Tokyo") from /usr/share/zoneinfo, or
 * /etc/localtime when name is NULL or "". A name that starts with '/' is
 * taken as a path to a TZif file. Names containing ".." are refused.
 * On success *out owns a new zone (free with lw_tz_free).
 * Errors: LW_ENOTFOUND (no such zone; diag names it), LW_EPARSE (not a
 * valid TZif file), LW_EIO (read error, diag.sys_errno), LW_EINVAL (bad
 * name), LW_ENOMEM. *out is NULL on failure. */
int lw_tz_load(const char *name, struct lw_tz **out, struct lw_diag *diag);

/* Builds a zone from TZif bytes in memory (borrowed for the call only).
 * name is copied (may be NULL). Errors: LW_EPARSE, LW_ENOMEM. */
int lw_tz_parse(const void *data, size_t len, const char *name,
		struct lw_tz **out, struct lw_diag *diag);

/* NULL is a no-op. */
void lw_tz_free(struct lw_tz *tz);

/* The name given to lw_tz_load ("UTC" for NULL, "localtime" for ""). */
const char *lw_tz_name(const struct lw_tz *tz);

/* UTC offset in seconds (east positive) in effect at utc_seconds. */
int32_t lw_tz_offset_at(const struct lw_tz *tz, int64_t utc_seconds);

/* Converts a wall-clock time in the zone (seconds since the epoch as if
 * the wall clock were UTC) to UTC seconds. O(log transitions).
 * - Ambiguous times (clocks set back, the hour happens twice): the
 *   earlier instant, i.e. the offset in effect before the change.
 * - Nonexistent times (clocks set forward, a gap): the offset in effect
 *   before the change, so 02:30 in a 02:00->03:00 gap is read as 03:30
 *   after the change (what POSIX mktime does with tm_isdst = -1).
 * Both choices use the "before" offset, so a sender whose clock has not
 * yet applied the change is read correctly. */
int64_t lw_tz_local_to_utc(const struct lw_tz *tz, int64_t local_seconds);

#endif
