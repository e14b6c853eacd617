/* TZif reader and UTC offset lookup (prefix lw_tz). Load once at startup,
 * then read-only from any thread.
 *
 * TZif layout (RFC 8536), all integers big-endian:
 *
 *   header  "TZif" ver[1] reserved[15] isutcnt isstdcnt leapcnt timecnt
 *           typecnt charcnt                          (six u32)
 *   v1 data trans[timecnt] (i32) idx[timecnt] (u8) ttinfo[typecnt] (6 bytes:
 *           i32 utoff, u8 isdst, u8 desigidx) chars[charcnt]
 *           leap[leapcnt] (8 bytes) isstd[isstdcnt] isut[isutcnt]
 *   v2+     a second header and the same data with i64 times (leap 12 bytes),
 *           then "\n" POSIX-TZ-string "\n"
 */
#include "core/tz.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/time.h"

#define TZ_MAX_FILE (1u << 20)   /* real files are < 4 KiB */
#define TZ_MAX_TIMES 20000u
#define TZ_MAX_TYPES 256u

/* A POSIX TZ rule date: Jn (julian, no Feb 29), n (zero-based day), or
 * Mm.w.d (d-th weekday of week w of month m). */
struct tz_rule_date {
	char kind; /* 'J', 'D' or 'M' */
	int a, b, c;
	int32_t time; /* seconds after local midnight, may be negative */
};

struct tz_rule {
	int32_t std_off; /* east-positive */
	int32_t dst_off;
	int has_dst;
	struct tz_rule_date start, end;
};

struct lw_tz {
	char name[128];
	uint32_t ntrans;
	int64_t *trans;    /* ascending UTC seconds */
	int32_t *off;      /* offset after trans[i] */
	int32_t off_before; /* offset before trans[0] */
	int has_rule;
	struct tz_rule rule;
};

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
	       p[3];
}

static int64_t be64(const unsigned char *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

/* --- POSIX TZ string ------------------------------------------------ */

static const char *rule_name(const char *s)
{
	if (*s == '<') {
		while (*s && *s != '>')
			s++;
		return *s == '>' ? s + 1 : NULL;
	}
	const char *b = s;
	while ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z'))
		s++;
	return s - b >= 3 ? s : NULL;
}

/* [+-]hh[:mm[:ss]], hours up to 167 (RFC 8536 extension). */
static const char *rule_hms(const char *s, int32_t *out)
{
	int sign = 1, part = 0;
	int32_t v[3] = {0, 0, 0};

	if (*s == '+' || *s == '-')
		sign = *s++ == '-' ? -1 : 1;
	if (*s < '0' || *s > '9')
		return NULL;
	for (;;) {
		int n = 0;

		while (*s >= '0' && *s <= '9' && n < 3) {
			v[part] = v[part] * 10 + (*s++ - '0');
			n++;
		}
		if (n == 0 || part == 2 || *s != ':')
			break;
		s++;
		part++;
	}
	if (v[0] > 167 || v[1] > 59 || v[2] > 59)
		return NULL;
	*out = sign * (v[0] * 3600 + v[1] * 60 + v[2]);
	return s;
}

static const char *rule_num(const char *s, int *out, int lo, int hi)
{
	int v = 0, n = 0;

	while (*s >= '0' && *s <= '9' && n < 4) {
		v = v * 10 + (*s++ - '0');
		n++;
	}
	if (n == 0 || v < lo || v > hi)
		return NULL;
	*out = v;
	return s;
}

static const char *rule_date(const char *s, struct tz_rule_date *d)
{
	if (*s == 'J') {
		d->kind = 'J';
		s = rule_num(s + 1, &d->a, 1, 365);
	} else if (*s == 'M') {
		d->kind = 'M';
		s = rule_num(s + 1, &d->a, 1, 12);
		if (s && *s == '.')
			s = rule_num(s + 1, &d->b, 1, 5);
		else
			s = NULL;
		if (s && *s == '.')
			s = rule_num(s + 1, &d->c, 0, 6);
		else
			s = NULL;
	} else {
		d->kind = 'D';
		s = rule_num(s, &d->a, 0, 365);
	}
	if (s == NULL)
		return NULL;
	d->time = 7200;
	if (*s == '/')
		s = rule_hms(s + 1, &d->time);
	return s;
}

static int rule_parse(const char *s, struct tz_rule *r)
{
	int32_t v;

	memset(r, 0, sizeof(*r));
	s = rule_name(s);
	if (s == NULL || (s = rule_hms(s, &v)) == NULL)
		return -1;
	r->std_off = -v; /* POSIX offsets are west-positive */
	if (*s == '\0')
		return 0;
	if ((s = rule_name(s)) == NULL)
		return -1;
	r->has_dst = 1;
	r->dst_off = r->std_off + 3600;
	if (*s != ',' && *s != '\0') {
		if ((s = rule_hms(s, &v)) == NULL)
			return -1;
		r->dst_off = -v;
	}
	if (*s == '\0') { /* POSIX default: US rules */
		r->start = (struct tz_rule_date){'M', 3, 2, 0, 7200};
		r->end = (struct tz_rule_date){'M', 11, 1, 0, 7200};
		return 0;
	}
	if (*s != ',' || (s = rule_date(s + 1, &r->start)) == NULL)
		return -1;
	if (*s != ',' || (s = rule_date(s + 1, &r->end)) == NULL)
		return -1;
	return *s == '\0' ? 0 : -1;
}

/* Local-time seconds since the epoch at which date d happens in year y. */
static int64_t rule_when(const struct tz_rule_date *d, int64_t y)
{
	int64_t day;

	if (d->kind == 'J') {
		day = lw_time_days_from_civil(y, 1, 1) + d->a - 1;
		if (d->a >= 60 && lw_time_days_in_month(y, 2) == 29)
			day++;
	} else if (d->kind == 'D') {
		day = lw_time_days_from_civil(y, 1, 1) + d->a;
	} else {
		int64_t first = lw_time_days_from_civil(y, (unsigned)d->a, 1);
		/* 1970-01-01 was a Thursday (weekday 4). */
		int wd = (int)(((first % 7) + 7 + 4) % 7);
		int64_t mday = 1 + (d->c - wd + 7) % 7 + (int64_t)(d->b - 1) * 7;
		unsigned dim = lw_time_days_in_month(y, (unsigned)d->a);

		while (mday > dim)
			mday -= 7;
		day = first + mday - 1;
	}
	return day * 86400 + d->time;
}

static int32_t rule_offset(const struct tz_rule *r, int64_t utc)
{
	int64_t y, start, end, days;
	unsigned m, dd;

	if (!r->has_dst)
		return r->std_off;
	days = (utc + r->std_off) / 86400 - ((utc + r->std_off) % 86400 < 0);
	lw_time_civil_from_days(days, &y, &m, &dd);
	start = rule_when(&r->start, y) - r->std_off;
	end = rule_when(&r->end, y) - r->dst_off;
	if (start < end)
		return (utc >= start && utc < end) ? r->dst_off : r->std_off;
	return (utc >= end && utc < start) ? r->std_off : r->dst_off;
}

/* --- TZif --------------------------------------------------------- */

struct tzif_counts {
	uint32_t isut, isstd, leap, time, type, chr;
};

static int read_header(const unsigned char *p, size_t len,
		       struct tzif_counts *c)
{
	if (len < 44 || memcmp(p, "TZif", 4) != 0)
		return -1;
	c->isut = be32(p + 20);
	c->isstd = be32(p + 24);
	c->leap = be32(p + 28);
	c->time = be32(p + 32);
	c->type = be32(p + 36);
	c->chr = be32(p + 40);
	if (c->time > TZ_MAX_TIMES || c->type == 0 || c->type > TZ_MAX_TYPES ||
	    c->leap > 10000 || c->chr > 10000 ||
	    (c->isut != 0 && c->isut != c->type) ||
	    (c->isstd != 0 && c->isstd != c->type))
		return -1;
	return 0;
}

static size_t block_size(const struct tzif_counts *c, size_t tsize)
{
	return c->time * tsize + c->time + c->type * 6 + c->chr +
	       c->leap * (tsize + 4) + c->isstd + c->isut;
}

/* Fills tz from one data block (tsize 4 for v1, 8 for v2+). */
static int load_block(struct lw_tz *tz, const unsigned char *p,
		      const struct tzif_counts *c, size_t tsize)
{
	const unsigned char *idx = p + c->time * tsize;
	const unsigned char *types = idx + c->time;
	uint32_t i;

	tz->trans = malloc(sizeof(*tz->trans) * (c->time ? c->time : 1));
	tz->off = malloc(sizeof(*tz->off) * (c->time ? c->time : 1));
	if (tz->trans == NULL || tz->off == NULL)
		return LW_ENOMEM;
	for (i = 0; i < c->time; i++) {
		int64_t t = tsize == 8 ? be64(p + i * 8) : (int32_t)be32(p + i * 4);

		if (idx[i] >= c->type || (i > 0 && t <= tz->trans[i - 1]))
			return LW_EPARSE;
		tz->trans[i] = t;
		tz->off[i] = (int32_t)be32(types + idx[i] * 6);
		if (tz->off[i] < -25 * 3600 || tz->off[i] > 26 * 3600)
			return LW_EPARSE;
	}
	tz->ntrans = c->time;
	/* RFC 8536 3.2: type 0 describes times before the first transition. */
	tz->off_before = (int32_t)be32(types);
	if (tz->off_before < -25 * 3600 || tz->off_before > 26 * 3600)
		return LW_EPARSE;
	return LW_OK;
}

int lw_tz_parse(const void *data, size_t len, const char *name,
		struct lw_tz **out, struct lw_diag *diag)
{
	const unsigned char *p = data;
	struct tzif_counts c;
	struct lw_tz *tz;
	size_t n, tsize = 4;
	int rc = LW_EPARSE;

	*out = NULL;
	tz = calloc(1, sizeof(*tz));
	if (tz == NULL)
		return LW_ENOMEM;
	snprintf(tz->name, sizeof(tz->name), "%s", name ? name : "");
	if (read_header(p, len, &c) != 0)
		goto fail;
	n = 44 + block_size(&c, 4);
	if (n > len)
		goto fail;
	if (p[4] >= '2') {
		/* v2+: the 64-bit block after the v1 one is authoritative. */
		p += n;
		len -= n;
		if (read_header(p, len, &c) != 0)
			goto fail;
		tsize = 8;
		n = 44 + block_size(&c, 8);
		if (n > len)
			goto fail;
	}
	rc = load_block(tz, p + 44, &c, tsize);
	if (rc != LW_OK)
		goto fail;
	if (tsize == 8 && n + 2 <= len && p[n] == '\n') {
		const char *f = (const char *)p + n + 1;
		const char *nl = memchr(f, '\n', len - n - 1);
		char buf[128];

		if (nl != NULL && nl > f && (size_t)(nl - f) < sizeof(buf)) {
			memcpy(buf, f, (size_t)(nl - f));
			buf[nl - f] = '\0';
			if (rule_parse(buf, &tz->rule) != 0) {
				rc = LW_EPARSE;
				goto fail;
			}
			tz->has_rule = 1;
		}
	}
	*out = tz;
	return LW_OK;

fail:
	lw_tz_free(tz);
	if (rc == LW_EPARSE)
		return lw_diag_set(diag, rc, name, 0, 0, "not a valid TZif file");
	return rc;
}

static int read_file(const char *path, const char *name, unsigned char **buf,
		     size_t *len, struct lw_diag *diag)
{
	struct stat st;
	ssize_t r;
	size_t got = 0;
	int fd, rc;

	*buf = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = (errno == ENOENT || errno == ENOTDIR) ? LW_ENOTFOUND : LW_EIO;
		if (diag)
			diag->sys_errno = errno;
		return lw_diag_set(diag, rc, path, 0, 0, "unknown time zone '%s'",
				   name);
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (size_t)st.st_size > TZ_MAX_FILE) {
		rc = lw_diag_set(diag, LW_EPARSE, path, 0, 0,
				 "time zone '%s' is not a TZif file", name);
		goto out;
	}
	*buf = malloc((size_t)st.st_size + 1);
	if (*buf == NULL) {
		rc = LW_ENOMEM;
		goto out;
	}
	while (got < (size_t)st.st_size) {
		r = read(fd, *buf + got, (size_t)st.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			rc = lw_diag_set(diag, LW_EIO, path, 0, 0, "read failed");
			free(*buf);
			*buf = NULL;
			goto out;
		}
		got += (size_t)r;
	}
	*len = got;
	rc = LW_OK;
out:
	close(fd);
	return rc;
}

int lw_tz_load(const char *name, struct lw_tz **out, struct lw_diag *diag)
{
	char path[512];
	unsigned char *buf;
	size_t len = 0;
	int rc;

	*out = NULL;
	if (name == NULL || name[0] == '\0') {
		snprintf(path, sizeof(path), "/etc/localtime");
		name = "localtime";
	} else if (strstr(name, "..") != NULL || strlen(name) > 256) {
		return lw_diag_set(diag, LW_EINVAL, NULL, 0, 0,
				   "bad time zone name '%.64s'", name);
	} else if (name[0] == '/') {
		snprintf(path, sizeof(path), "%s", name);
	} else {
		snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", name);
	}
	rc = read_file(path, name, &buf, &len, diag);
	if (rc != LW_OK)
		return rc;
	rc = lw_tz_parse(buf, len, name, out, diag);
	free(buf);
	return rc;
}

void lw_tz_free(struct lw_tz *tz)
{
	if (tz == NULL)
		return;
	free(tz->trans);
	free(tz->off);
	free(tz);
}

const char *lw_tz_name(const struct lw_tz *tz)
{
	return tz ? tz->name : "UTC";
}

int32_t lw_tz_offset_at(const struct lw_tz *tz, int64_t utc)
{
	uint32_t lo, hi;

	if (tz == NULL)
		return 0;
	if (tz->ntrans == 0)
		return tz->has_rule ? rule_offset(&tz->rule, utc) : tz->off_before;
	if (utc < tz->trans[0])
		return tz->off_before;
	if (utc >= tz->trans[tz->ntrans - 1] && tz->has_rule)
		return rule_offset(&tz->rule, utc);
	lo = 0;
	hi = tz->ntrans; /* invariant: trans[lo] <= utc < trans[hi] */
	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (tz->trans[mid] <= utc)
			lo = mid;
		else
			hi = mid;
	}
	return tz->off[lo];
}

int64_t lw_tz_local_to_utc(const struct lw_tz *tz, int64_t local)
{
	int32_t before, after;
	int64_t u_before, u_after;

	if (tz == NULL)
		return local;
	/* Offsets stay within +-26 h and changes are more than two days
	 * apart, so the offsets a day either side are the "before" and
	 * "after" candidates of any change near this wall-clock time. */
	before = lw_tz_offset_at(tz, local - 86400);
	after = lw_tz_offset_at(tz, local + 86400);
	u_before = local - before;
	if (before == after || lw_tz_offset_at(tz, u_before) == before)
		return u_before; /* unambiguous, or ambiguous: earlier instant */
	u_after = local - after;
	if (lw_tz_offset_at(tz, u_after) == after)
		return u_after;
	return u_before; /* in a gap: keep the offset from before the change */
}
