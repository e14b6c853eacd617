/* The state of logward's anomaly correlations (correlator/correlation_int.h;
 * semantics in docs/rules.md "Anomaly correlations"): new_terms keeps a
 * table of term hashes per group, value_sum a window's sum and a baseline,
 * beaconing the last intervals of a series. Each is a fixed number of
 * int64 words per group, so the groups, the budget, shedding and saving
 * of correlation_groups.c and correlation_state.c hold them unchanged;
 * the functions here only read and write those words. */
#include <math.h>
#include <string.h>

#include "correlator/correlation_int.h"

#define HOUR_NS 3600000000000LL

/* ---- new_terms ----
 *
 * Words: [0] the group's first event time (learning starts), [1] entries
 * in use, [2..2 + terms) an open-addressing table (linear probing). An
 * entry is the term's 44-bit tag (bits 20-63 of its hash, the low bit
 * forced so that no entry is 0) over the hour it was last seen modulo
 * 2^20 (hours compare by their signed difference: 60 years either way).
 * The slot comes from the tag too, so the table can be rebuilt from its
 * entries alone. Two terms are taken for one when 43 hash bits agree. */

#define NT_HOUR_BITS 20
#define NT_HOUR_MASK ((1u << NT_HOUR_BITS) - 1)
#define NT_HOUR_HALF (1u << (NT_HOUR_BITS - 1))

static uint64_t nt_tag(uint64_t vh)
{
	return (vh >> NT_HOUR_BITS) | 1;
}

static int64_t nt_hour(int64_t ts)
{
	int64_t q = ts / HOUR_NS;

	return (ts % HOUR_NS != 0 && ts < 0) ? q - 1 : q;
}

/* Hours from the entry's last sighting to now; 0 when the entry is newer
 * (an event out of order). */
static uint32_t nt_age(uint64_t e, int64_t now_h)
{
	uint32_t d = ((uint32_t)now_h - (uint32_t)(e & NT_HOUR_MASK)) & NT_HOUR_MASK;

	return d >= NT_HOUR_HALF ? 0 : d;
}

static uint64_t nt_entry(uint64_t tag, int64_t hour)
{
	return tag << NT_HOUR_BITS | ((uint64_t)hour & NT_HOUR_MASK);
}

static uint32_t nt_home(uint64_t tag, uint32_t mask)
{
	return (uint32_t)(tag >> 1) & mask;
}

static uint32_t nt_span_hours(const struct crule *r)
{
	int64_t h = r->timespan_ns / HOUR_NS;

	return h < 1 ? 1 : (uint32_t)h;
}

/* Entries a table of r->terms slots holds at most (probes stay short). */
static uint32_t nt_limit(const struct crule *r)
{
	return r->terms / 4 * 3;
}

static void nt_insert(uint64_t *tab, uint32_t mask, uint64_t e)
{
	uint32_t i = nt_home(e >> NT_HOUR_BITS, mask);

	while (tab[i] != 0)
		i = (i + 1) & mask;
	tab[i] = e;
}

/* Makes room for one more entry: the entries not seen within the
 * timespan go; when that frees nothing, the one seen longest ago. The
 * table is rebuilt (a full table only: once per terms / 4 new terms at
 * most). */
static void nt_compact(const struct crule *r, int64_t *st, int64_t now_h,
		       uint64_t *scratch)
{
	uint64_t *tab = (uint64_t *)(st + 2);
	uint32_t n = 0, span = nt_span_hours(r), oldest = 0;

	for (uint32_t i = 0; i < r->terms; i++) {
		if (tab[i] == 0 || nt_age(tab[i], now_h) >= span)
			continue;
		if (n > 0 && nt_age(tab[i], now_h) > nt_age(scratch[oldest], now_h))
			oldest = n;
		scratch[n++] = tab[i];
	}
	if (n > 0 && n >= nt_limit(r))
		scratch[oldest] = scratch[--n];
	memset(tab, 0, (size_t)r->terms * sizeof(*tab));
	for (uint32_t i = 0; i < n; i++)
		nt_insert(tab, r->terms - 1, scratch[i]);
	st[1] = n;
}

struct anomaly_step lw_correlation_new_terms_update(const struct crule *r,
						    int64_t *st, int64_t ts,
						    uint64_t vh, uint64_t *scratch)
{
	struct anomaly_step s = {0, 0, 0, 0};
	uint64_t *tab = (uint64_t *)(st + 2), tag = nt_tag(vh);
	uint32_t mask = r->terms - 1, i;
	int64_t now_h = nt_hour(ts), watched;
	int is_new = 1;

	if (st[0] == T_NONE || ts < st[0])
		st[0] = ts; /* the group is watched from its first event on */
	for (i = nt_home(tag, mask); tab[i] != 0; i = (i + 1) & mask) {
		if (tab[i] >> NT_HOUR_BITS != tag)
			continue;
		is_new = nt_age(tab[i], now_h) >= nt_span_hours(r);
		if (nt_age(tab[i], now_h) > 0 || is_new)
			tab[i] = nt_entry(tag, now_h);
		break;
	}
	if (tab[i] == 0) {
		if ((uint64_t)st[1] >= nt_limit(r))
			nt_compact(r, st, now_h, scratch);
		nt_insert(tab, mask, nt_entry(tag, now_h));
		st[1]++;
	}
	/* Before the group has been watched for `learn`, a term not in the
	 * table may have been seen before the watch began: learnt, not new.
	 * (Words restored from a damaged store may be anything: no
	 * arithmetic on them may overflow.) */
	s.fire = is_new && !__builtin_sub_overflow(ts, st[0], &watched) &&
		watched >= r->learn_ns;
	s.counts = s.restart = s.fire;
	return s;
}

/* ---- value_sum ----
 *
 * Words: [0] the current window's number (floor(time / timespan); T_NONE
 * before the first event), [1] its sum (saturating), [2] the baseline (a
 * double's bits), [3] windows in the baseline (low 32 bits) and whether
 * the current window fired (bit 32). */

#define VS_FIRED (1LL << 32)

static int64_t floor_div(int64_t t, int64_t d)
{
	int64_t q = t / d;

	return (t % d != 0 && t < 0) ? q - 1 : q;
}

static double vs_base(const int64_t *st)
{
	double b;

	memcpy(&b, &st[2], sizeof(b));
	return b;
}

static void vs_set_base(int64_t *st, double b)
{
	memcpy(&st[2], &b, sizeof(b));
}

/* The threshold: value_sum takes gt and gte only (the loader checks). */
static int vs_over(const struct crule *r, int64_t sum)
{
	if ((r->opmask & (1u << OP_GT)) && !(sum > r->opv[OP_GT]))
		return 0;
	if ((r->opmask & (1u << OP_GTE)) && !(sum >= r->opv[OP_GTE]))
		return 0;
	return 1;
}

struct anomaly_step lw_correlation_value_sum_update(const struct crule *r,
						    int64_t *st, int64_t ts,
						    int64_t v)
{
	struct anomaly_step s = {0, 1, 0, 0};
	int64_t win = floor_div(ts, r->timespan_ns);
	uint32_t n;

	if (st[0] == T_NONE) {
		st[0] = win;
		st[1] = st[2] = st[3] = 0;
		s.restart = 1;
	} else if (win < st[0]) {
		/* A closed window: its sum is in the baseline already. */
		s.counts = 0;
		s.out_of_order = 1;
		return s;
	} else if (win > st[0]) {
		/* The window closes into the baseline (windows without events
		 * are not in it: a host idle at night keeps its daytime
		 * baseline). */
		n = (uint32_t)st[3];
		vs_set_base(st, n == 0 ? (double)st[1] :
			    vs_base(st) + r->weight * ((double)st[1] - vs_base(st)));
		st[3] = n < UINT32_MAX ? n + 1 : n;
		st[0] = win;
		st[1] = 0;
		s.restart = 1;
	}
	if (st[1] < 0)
		st[1] = 0; /* damaged state: sums are never negative */
	st[1] = v > INT64_MAX - st[1] ? INT64_MAX : st[1] + v;
	if ((st[3] & VS_FIRED) || !vs_over(r, st[1]))
		return s;
	n = (uint32_t)st[3];
	if (r->factor > 0 && (n < r->learn_windows ||
			      !((double)st[1] > r->factor * vs_base(st))))
		return s;
	st[3] |= VS_FIRED;
	s.fire = 1;
	return s;
}

/* ---- beaconing ----
 *
 * Words: [0] the time of the series' last occurrence, [1] occurrences in
 * the series (0: none yet), [2..2 + k - 1) the last k - 1 intervals in
 * ns, a ring written at (occurrences - 2) mod (k - 1). All 0 is empty,
 * and a series of two occurrences fits in the group record (SM_HEAD). */

struct anomaly_step lw_correlation_beacon_update(const struct crule *r,
						 int64_t *st, int64_t ts)
{
	struct anomaly_step s = {0, 1, 0, 0};
	uint32_t slots = r->k - 1;
	int64_t gap, *iv = st + 2;
	double sum = 0, var = 0, mean;

	/* (st[1] <= 0 or an overflowing gap: none yet, or damaged words) */
	if (st[1] <= 0 || __builtin_sub_overflow(ts, st[0], &gap) ||
	    gap > r->timespan_ns) {
		/* The first occurrence, or the gap broke the series. */
		memset(iv, 0, slots * sizeof(*iv));
		st[0] = ts;
		st[1] = 1;
		s.restart = 1;
		return s;
	}
	if (gap < 0) {
		s.counts = 0;
		s.out_of_order = 1;
		return s;
	}
	if (gap < r->min_gap_ns)
		return s; /* the same occurrence (a beacon's second request) */
	iv[(uint64_t)(st[1] - 1) % slots] = gap;
	st[0] = ts;
	if (st[1] < INT64_MAX)
		st[1]++;
	if ((uint64_t)st[1] < r->k)
		return s;
	for (uint32_t i = 0; i < slots; i++)
		sum += (double)iv[i];
	mean = sum / slots;
	for (uint32_t i = 0; i < slots; i++)
		var += ((double)iv[i] - mean) * ((double)iv[i] - mean);
	if (sqrt(var / slots) > r->jitter * mean)
		return s;
	/* Re-armed: the next firing needs a whole new series of intervals,
	 * continuing from this occurrence. */
	memset(iv, 0, slots * sizeof(*iv));
	st[1] = 1;
	s.fire = 1;
	return s;
}

/* ---- common ---- */

uint32_t lw_correlation_anomaly_words(const struct crule *r)
{
	switch (r->type) {
	case CT_NEW_TERMS: return 2 + r->terms;
	case CT_VALUE_SUM: return 4;
	case CT_BEACONING: return 2 + r->k - 1;
	default: return 0;
	}
}

void lw_correlation_anomaly_init(const struct crule *r, int64_t *st)
{
	memset(st, 0, lw_correlation_anomaly_words(r) * sizeof(*st));
	if (r->type != CT_BEACONING)
		st[0] = T_NONE;
}

uint32_t lw_correlation_anomaly_weight(const struct crule *r, const int64_t *st)
{
	int64_t n;

	switch (r->type) {
	case CT_NEW_TERMS: n = st[1]; break;
	case CT_VALUE_SUM: n = st[0] == T_NONE ? 0 : (uint32_t)st[3]; break;
	default: n = st[1]; break;
	}
	return n < 0 ? 0 : n > 255 ? 255 : (uint32_t)n;
}
