/* lw_fmt_winevt: template-driven reading of rendered Windows events
 * (correlator/fmt_winevt.h). Writer thread; no allocation. Cost: each
 * template term is searched once in its section and once more for the
 * ambiguity check, so O(labels x section length) with memchr-based
 * searches. */
#include "correlator/fmt_winevt.h"

#include <string.h>

#include "core/err.h"
#include "core/memfind.h"

struct hit {
	size_t start;      /* of the label, or SIZE_MAX when not found */
	size_t vstart;     /* after its colon */
	size_t region_end; /* where the label's section (region) ends */
	uint32_t region;   /* which region instance it was found in */
};

/* The first "term:" in s[from..to) that starts a word and is followed by
 * a blank or the end of s; SIZE_MAX when none. */
static size_t find_term(const char *s, size_t n, size_t from, size_t to,
			struct lw_str term)
{
	while (from < to && term.len > 0) {
		const char *p = lw_memfind(s + from, to - from, term.ptr, term.len);
		size_t at, after;

		if (p == NULL)
			return SIZE_MAX;
		at = (size_t)(p - s);
		after = at + term.len;
		if ((at == 0 || lw_fmt_blank((unsigned char)s[at - 1])) && after < n &&
		    s[after] == ':' && (after + 1 == n || lw_fmt_blank((unsigned char)s[after + 1])))
			return at;
		from = at + 1;
	}
	return SIZE_MAX;
}

static int same(struct lw_str a, struct lw_str b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

/* 1 when entry i opens a section block (a named section other than the
 * one of the entry before it). */
static int opens_block(const struct lw_fmt_winevt_entry *t, uint32_t i)
{
	return t[i].section.len > 0 && (i == 0 || !same(t[i].section, t[i - 1].section));
}

int lw_fmt_winevt_parse(const struct lw_fmt_winevt_entry *tmpl, uint32_t ntmpl,
			const char *s, size_t n, lw_fmt_pair_fn fn, void *arg)
{
	size_t hdr[LW_FMT_WINEVT_MAX], body[LW_FMT_WINEVT_MAX];
	struct hit hit[LW_FMT_WINEVT_MAX];
	size_t cursor = 0, rend, next_hdr;
	uint32_t region = 0;
	int pairs = 0;

	if (ntmpl > LW_FMT_WINEVT_MAX)
		return LW_EINVAL;
	/* Pass 1: the section headers, in template order. */
	for (uint32_t i = 0; i < ntmpl; i++) {
		hdr[i] = SIZE_MAX;
		if (!opens_block(tmpl, i))
			continue;
		hdr[i] = find_term(s, n, cursor, n, tmpl[i].section);
		if (hdr[i] != SIZE_MAX) {
			body[i] = hdr[i] + tmpl[i].section.len + 1;
			cursor = body[i];
		}
	}
	/* Pass 2: the labels, each region's in order from its start. */
	next_hdr = n;
	for (uint32_t i = 0; i < ntmpl; i++)
		if (hdr[i] != SIZE_MAX) {
			next_hdr = hdr[i];
			break;
		}
	rend = next_hdr;
	cursor = 0;
	for (uint32_t i = 0; i < ntmpl; i++) {
		size_t at;

		if (hdr[i] != SIZE_MAX) {
			uint32_t k;

			cursor = body[i];
			rend = n;
			for (k = i + 1; k < ntmpl; k++)
				if (hdr[k] != SIZE_MAX) {
					rend = hdr[k];
					break;
				}
			/* The same header again inside its own section: which
			 * one is the device's cannot be told. */
			if (find_term(s, n, body[i], rend, tmpl[i].section) != SIZE_MAX)
				return LW_EPARSE;
			region++;
		}
		at = find_term(s, n, cursor, rend, tmpl[i].label);
		hit[i].start = at;
		if (at == SIZE_MAX)
			continue;
		hit[i].vstart = at + tmpl[i].label.len + 1;
		hit[i].region_end = rend;
		hit[i].region = region;
		cursor = hit[i].vstart;
	}
	/* Values end where the next label of their region starts. */
	for (uint32_t i = 0; i < ntmpl; i++) {
		size_t end, a;

		if (hit[i].start == SIZE_MAX)
			continue;
		end = hit[i].region_end;
		for (uint32_t k = i + 1; k < ntmpl; k++)
			if (hit[k].start != SIZE_MAX) {
				if (hit[k].region == hit[i].region)
					end = hit[k].start;
				break;
			}
		if (find_term(s, n, hit[i].vstart, end, tmpl[i].label) != SIZE_MAX)
			return LW_EPARSE;
		hit[i].region_end = end;
		a = hit[i].vstart;
		while (a < end && lw_fmt_blank((unsigned char)s[a]))
			a++;
		/* Windows aligns values with at most three tabs; four blanks or
		 * more after a label are an empty value and the line break
		 * after it, and what follows is the next line (for the last
		 * label, the explanatory text: "Process Command Line:     Token
		 * Elevation Type indicates ..."). */
		if (a - hit[i].vstart >= 4)
			end = a;
		/* Three blanks end a value: Snare turns a line break into
		 * blanks, and the last value of a section is followed by the
		 * event's explanatory text ("Source Port: 0    This event
		 * is generated ..."); no value of these events holds them. */
		for (size_t k = a; k + 2 < end; k++)
			if (lw_fmt_blank((unsigned char)s[k]) &&
			    lw_fmt_blank((unsigned char)s[k + 1]) &&
			    lw_fmt_blank((unsigned char)s[k + 2])) {
				end = k;
				break;
			}
		while (end > a && lw_fmt_blank((unsigned char)s[end - 1]))
			end--;
		hit[i].vstart = a;
		hit[i].region_end = end;
	}
	for (uint32_t i = 0; i < ntmpl; i++) {
		int rc;

		if (hit[i].start == SIZE_MAX)
			continue;
		rc = fn(tmpl[i].key, (struct lw_str){s + hit[i].vstart,
				(uint32_t)(hit[i].region_end - hit[i].vstart)}, arg);
		if (rc != 0)
			return rc;
		pairs++;
	}
	return pairs;
}
