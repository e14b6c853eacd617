/* libFuzzer target for the segment decoder (store/segment.c).
 *
 * The input is tried twice: as a stored value (header + zstd frame) and,
 * to reach the column parser without zstd's checksum in the way, as raw
 * columnar data whose first byte is the event count. Any return code is
 * fine; crashes, over-reads, leaks and sanitizer reports are not. When the
 * raw form decodes, the events are re-encoded and decoded again, and the
 * second decode must give the same events (round-trip invariant), and a
 * selective decode of some of the columns (lw_segment_decode_cols, the
 * query path) must give exactly those members of the same events. The
 * stored-value form is also decoded selectively, which must never crash
 * whatever it answers. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "store/segment.h"
#include "store/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int same(struct lw_str a, struct lw_str b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

/* Decodes value selectively (members in mask, then the rest) and checks
 * each member against the full decode in full[0..n). */
static void check_selective(const void *value, size_t len, const struct lw_event *full,
			    uint32_t n, unsigned mask)
{
	struct lw_segment_decoder *d = lw_segment_decoder_new();
	const struct lw_event *ev;
	uint32_t m;

	mask &= LW_SEGMENT_COL_ALL;
	if (d == NULL || lw_segment_decode_begin(d, value, len, NULL, NULL) != LW_OK ||
	    lw_segment_decode_cols(d, mask, NULL) != LW_OK)
		abort();
	ev = lw_segment_decoder_events(d, &m);
	if (m != n)
		abort();
	for (uint32_t i = 0; i < n; i++) {
		if (((mask & LW_SEGMENT_COL_TS) && ev[i].timestamp_ns != full[i].timestamp_ns) ||
		    ((mask & LW_SEGMENT_COL_HOST) && !same(ev[i].host, full[i].host)) ||
		    ((mask & LW_SEGMENT_COL_ZONE) && !same(ev[i].zone, full[i].zone)) ||
		    ((mask & LW_SEGMENT_COL_SEVERITY) && ev[i].severity != full[i].severity) ||
		    ((mask & LW_SEGMENT_COL_MESSAGE) && !same(ev[i].message, full[i].message)) ||
		    (!(mask & LW_SEGMENT_COL_MESSAGE) && ev[i].message.len != 0) ||
		    ((mask & LW_SEGMENT_COL_FIELDS) && ev[i].nfields != full[i].nfields))
			abort();
	}
	/* the rest, added to what is there, completes the same events */
	if (lw_segment_decode_cols(d, LW_SEGMENT_COL_ALL, NULL) != LW_OK)
		abort();
	ev = lw_segment_decoder_events(d, &m);
	for (uint32_t i = 0; i < m; i++)
		if (!same(ev[i].message, full[i].message) || !same(ev[i].app, full[i].app) ||
		    ev[i].created_ns != full[i].created_ns || ev[i].nfields != full[i].nfields)
			abort();
	lw_segment_decoder_free(d);
}

static void round_trip(const struct lw_event *ev, uint32_t n)
{
	struct lw_segment_builder *b = lw_segment_builder_new();
	struct lw_segment_decoder *d = lw_segment_decoder_new();
	struct lw_segment_sealed s;
	const struct lw_event *out;
	uint32_t m;

	if (b == NULL || d == NULL)
		goto out;
	for (uint32_t i = 0; i < n; i++)
		if (lw_segment_builder_add(b, &ev[i]) != LW_OK)
			goto out;
	if (lw_segment_builder_seal(b, &s, NULL) != LW_OK)
		goto out;
	lw_segment_header_write(&s.hdr, s.value);
	if (lw_segment_decode(d, s.value, s.value_len, NULL, NULL) != LW_OK)
		abort();
	out = lw_segment_decoder_events(d, &m);
	if (m != n)
		abort();
	for (uint32_t i = 0; i < n; i++) {
		if (out[i].timestamp_ns != ev[i].timestamp_ns ||
		    out[i].created_ns != ev[i].created_ns ||
		    !same(out[i].host, ev[i].host) || !same(out[i].message, ev[i].message) ||
		    out[i].nfields != ev[i].nfields || out[i].flags != ev[i].flags)
			abort();
		for (uint32_t f = 0; f < ev[i].nfields; f++)
			if (!same(out[i].fields[f].key, ev[i].fields[f].key) ||
			    !same(out[i].fields[f].value, ev[i].fields[f].value))
				abort();
	}
	check_selective(s.value, s.value_len, out, n, n * 2654435761u);
out:
	lw_segment_builder_free(b);
	lw_segment_decoder_free(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lw_segment_decoder *d = lw_segment_decoder_new();
	const struct lw_event *ev;
	uint32_t n;

	if (d == NULL)
		return 0;
	(void)lw_segment_decode(d, data, size, NULL, NULL);
	if (size > 0 && lw_segment_decode_begin(d, data, size, NULL, NULL) == LW_OK)
		(void)lw_segment_decode_cols(d, data[size - 1] | (unsigned)data[0] << 8, NULL);
	if (size > 0 &&
	    lw_segment_decode_raw(d, data + 1, size - 1, data[0], NULL) == LW_OK) {
		ev = lw_segment_decoder_events(d, &n);
		if (n > 0)
			round_trip(ev, n);
	}
	lw_segment_decoder_free(d);
	return 0;
}
