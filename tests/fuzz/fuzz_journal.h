/* Shared body of the journal export and journal JSON libFuzzer targets.
 * The first 4 bytes choose the limits and the chunking; the rest is the
 * stream. Invariants: no crash or leak; every event is well-formed (views
 * non-NULL, extra keys under "journald.", severity/facility in range, only
 * the flags the mapping sets, the bad-UTF-8 flag agrees with the
 * validator); no entry over the limits; and feeding in one piece, in
 * pieces cut at a chosen byte, in pieces of a chosen size with refusals,
 * gives the same events and the same verdict (failed or not). */
#ifndef LW_FUZZ_JOURNAL_H
#define LW_FUZZ_JOURNAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collector/journal.h"
#include "core/err.h"
#include "core/event.h"
#include "core/utf8.h"

struct fz {
	struct lw_batch *b;
	size_t max_entry;
	uint32_t max_fields;
	uint64_t hash, n, offered;
	unsigned refuse; /* refuse every refuse-th offer (0 = never) */
};

static void fz_hash(struct fz *z, const void *p, size_t n)
{
	const unsigned char *u = p;

	for (size_t i = 0; i < n; i++)
		z->hash = (z->hash ^ u[i]) * 1099511628211ULL;
}

static void fz_str(struct fz *z, struct lw_str s)
{
	if (s.len > 0 && s.ptr == NULL)
		abort();
	fz_hash(z, &s.len, sizeof(s.len));
	if (s.len)
		fz_hash(z, s.ptr, s.len);
}

static int fz_entry(void *arg, const struct lw_journal_entry *e)
{
	static const struct lw_listener_src src = {
		.zone = "zone", .zone_len = 4, .addr = "127.0.0.1:9", .addr_len = 11};
	struct fz *z = arg;
	struct lw_listener_counts cnt = {0};
	const struct lw_event *ev;

	if (z->refuse && ++z->offered % z->refuse == 0)
		return LW_EFULL;
	if (e->nfields > z->max_fields || e->bytes > z->max_entry)
		abort();
	if (lw_journal_add_entry(z->b, e, &src, 42, &cnt) != LW_OK)
		abort(); /* an empty batch takes any bounded entry */
	ev = &z->b->events[0];
	if (ev->flags & ~(unsigned)(LW_EVENT_NO_TIMESTAMP | LW_EVENT_BAD_UTF8))
		abort();
	if (!!(ev->flags & LW_EVENT_BAD_UTF8) ==
	    (ev->message.len == 0 || lw_utf8_valid(ev->message.ptr, ev->message.len)))
		abort();
	if ((ev->severity > 7 && ev->severity != LW_SYSLOG_NONE) ||
	    (ev->facility > 23 && ev->facility != LW_SYSLOG_NONE))
		abort();
	if (ev->nfields > e->nfields || ev->created_ns != 42 ||
	    ((ev->flags & LW_EVENT_NO_TIMESTAMP) && ev->timestamp_ns != 42))
		abort();
	fz_hash(z, &ev->timestamp_ns, sizeof(ev->timestamp_ns));
	fz_hash(z, &ev->flags, sizeof(ev->flags));
	fz_hash(z, &ev->severity, 1);
	fz_hash(z, &ev->facility, 1);
	fz_str(z, ev->host);
	fz_str(z, ev->app);
	fz_str(z, ev->procid);
	fz_str(z, ev->message);
	if (ev->source_address.len != 11 ||
	    memcmp(ev->source_address.ptr, "127.0.0.1:9", 11) != 0)
		abort();
	for (uint32_t i = 0; i < ev->nfields; i++) {
		const struct lw_field *f = &ev->fields[i];

		if (f->key.len <= 9 || memcmp(f->key.ptr, "journald.", 9) != 0)
			abort();
		fz_str(z, f->key);
		fz_str(z, f->value);
	}
	z->n++;
	lw_batch_reset(z->b);
	return LW_OK;
}

/* Feeds d[0..n) in pieces (cut: the first piece; step: later pieces, 0 =
 * the rest at once). Returns 1 when the stream failed. */
static int fz_run(enum lw_journal_format fmt, const uint8_t *d, size_t n,
		  size_t cut, size_t step, struct fz *z)
{
	struct lw_journal *j = lw_journal_new(fmt, z->max_entry, z->max_fields);
	size_t pos = 0;
	int rc = LW_OK, first = 1;

	if (j == NULL)
		abort();
	while (pos < n) {
		size_t want = first ? cut : (step ? step : n - pos), used;

		if (want > n - pos)
			want = n - pos;
		first = 0;
		rc = lw_journal_feed(j, d + pos, want, &used, fz_entry, z);
		if (used > want)
			abort();
		pos += used;
		if (rc != LW_OK && rc != LW_EFULL)
			break;
	}
	if (rc == LW_OK || rc == LW_EFULL) {
		do
			rc = lw_journal_finish(j, fz_entry, z);
		while (rc == LW_EFULL);
	}
	if (rc != LW_OK && lw_journal_error(j)[0] == '\0')
		abort(); /* every failure says why */
	if (rc == LW_OK && lw_journal_offset(j) != n)
		abort(); /* a clean stream is consumed whole */
	lw_journal_free(j);
	return rc != LW_OK;
}

static int fz_main(enum lw_journal_format fmt, const uint8_t *data, size_t size)
{
	struct fz whole = {0}, cut = {0}, stepped = {0};
	int f1, f2, f3;

	if (size < 4)
		return 0;
	whole.b = lw_batch_new(4);
	if (whole.b == NULL)
		return 0;
	whole.max_entry = 8 + (size_t)data[0] * 16; /* 8..4088: limits get hit */
	whole.max_fields = 1 + data[1] % 64;
	cut = stepped = whole;
	stepped.refuse = 2 + data[3] % 3;
	data += 4;
	size -= 4;
	f1 = fz_run(fmt, data, size, size, 0, &whole);
	f2 = fz_run(fmt, data, size, data[-2] % (size + 1), 0, &cut);
	f3 = fz_run(fmt, data, size, 1 + data[-1] % 7, 1 + data[-1] % 13, &stepped);
	if (f1 != f2 || f1 != f3 || whole.n != cut.n || whole.n != stepped.n ||
	    whole.hash != cut.hash || whole.hash != stepped.hash)
		abort();
	lw_batch_free(whole.b);
	return 0;
}

#endif
