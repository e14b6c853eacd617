/* Unit tests for store/segment (lw_segment): exact round trips and the
 * rejection of corrupt input. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "store/segment.h"

#define NEV 2000

struct fixture_ev {
	struct lw_event ev;
	struct lw_field fields[3];
	char host[32], app[32], procid[16], msg[200], src[32], fval[3][40];
};

static struct fixture_ev fx[NEV];

static struct lw_str S(const char *s)
{
	return (struct lw_str){s, (uint32_t)strlen(s)};
}

static void make_events(void)
{
	static const char *zones[] = {"mynumber", "lgwan", "internet", ""};

	for (int i = 0; i < NEV; i++) {
		struct fixture_ev *f = &fx[i];
		struct lw_event *ev = &f->ev;

		memset(f, 0, sizeof(*f));
		snprintf(f->host, sizeof(f->host), "host-%d", i % 7);
		snprintf(f->app, sizeof(f->app), i % 3 ? "sshd" : "CRON");
		snprintf(f->procid, sizeof(f->procid), "%d", 1000 + i);
		snprintf(f->msg, sizeof(f->msg),
			 "Failed password for invalid user u%d from 10.0.%d.%d port %d ssh2",
			 i, i % 256, (i * 7) % 256, 40000 + i);
		snprintf(f->src, sizeof(f->src), "10.30.0.%d:514", i % 5);
		ev->timestamp_ns = 1764246605000000000ll + (int64_t)i * 1234567 -
				   (i % 10 == 0 ? 5000000000ll : 0);
		ev->created_ns = ev->timestamp_ns + (i % 4) * 1000;
		ev->host = S(f->host);
		ev->app = S(f->app);
		ev->procid = S(f->procid);
		ev->msgid = i % 2 ? S("ID47") : LW_STR_NULL;
		ev->structured_data = i % 5 ? LW_STR_NULL
					    : S("[exampleSDID@32473 iut=\"3\" eventSource=\"App\"]");
		ev->message = S(f->msg);
		ev->zone = S(zones[i % 4]);
		ev->source_address = S(f->src);
		ev->facility = (uint8_t)(i % 24);
		ev->severity = i % 9 == 8 ? LW_SYSLOG_NONE : (uint8_t)(i % 8);
		ev->flags = (uint16_t)(i % 128);
		ev->nfields = (uint32_t)(i % 4);
		for (uint32_t k = 0; k < ev->nfields; k++) {
			static const char *keys[] = {"source.ip", "user.name", "event.outcome"};

			snprintf(f->fval[k], sizeof(f->fval[k]), "v%d-%u", i, k);
			f->fields[k].key = S(keys[k]);
			f->fields[k].value = S(f->fval[k]);
		}
		ev->fields = ev->nfields ? f->fields : NULL;
	}
}

static int str_same(struct lw_str a, struct lw_str b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

static void expect_same(const struct lw_event *a, const struct lw_event *b, int i)
{
	cr_expect_eq(a->timestamp_ns, b->timestamp_ns, "ts %d", i);
	cr_expect_eq(a->created_ns, b->created_ns, "created %d", i);
	cr_expect(str_same(a->host, b->host), "host %d", i);
	cr_expect(str_same(a->app, b->app), "app %d", i);
	cr_expect(str_same(a->procid, b->procid), "procid %d", i);
	cr_expect(str_same(a->msgid, b->msgid), "msgid %d", i);
	cr_expect(str_same(a->structured_data, b->structured_data), "sd %d", i);
	cr_expect(str_same(a->message, b->message), "message %d", i);
	cr_expect(str_same(a->zone, b->zone), "zone %d", i);
	cr_expect(str_same(a->source_address, b->source_address), "src %d", i);
	cr_expect_eq(a->facility, b->facility, "fac %d", i);
	cr_expect_eq(a->severity, b->severity, "sev %d", i);
	cr_expect_eq(a->flags, b->flags, "flags %d", i);
	cr_assert_eq(a->nfields, b->nfields, "nfields %d", i);
	for (uint32_t k = 0; k < a->nfields; k++) {
		cr_expect(str_same(a->fields[k].key, b->fields[k].key), "fkey %d/%u", i, k);
		cr_expect(str_same(a->fields[k].value, b->fields[k].value), "fval %d/%u", i, k);
	}
}

/* Seals b and returns a stored value (header written, id 1) in *out. */
static void seal_value(struct lw_segment_builder *b, uint8_t **out, size_t *len)
{
	struct lw_segment_sealed s;
	struct lw_diag d = {0};

	cr_assert_eq(lw_segment_builder_seal(b, &s, &d), LW_OK, "%s", d.detail);
	s.hdr.id = 1;
	lw_segment_header_write(&s.hdr, s.value);
	*out = malloc(s.value_len);
	cr_assert_not_null(*out);
	memcpy(*out, s.value, s.value_len);
	*len = s.value_len;
}

Test(segment, round_trip_of_many_events_is_exact)
{
	struct lw_segment_builder *b = lw_segment_builder_new();
	struct lw_segment_decoder *d = lw_segment_decoder_new();
	struct lw_segment_header h;
	struct lw_diag diag = {0};
	const struct lw_event *ev;
	uint8_t *val;
	size_t len;
	uint32_t n;

	cr_assert_not_null(b);
	cr_assert_not_null(d);
	make_events();
	for (int i = 0; i < NEV; i++)
		cr_assert_eq(lw_segment_builder_add(b, &fx[i].ev), LW_OK);
	cr_expect_eq(lw_segment_builder_count(b), NEV);
	seal_value(b, &val, &len);
	cr_assert_eq(lw_segment_decode(d, val, len, &h, &diag), LW_OK, "%s", diag.detail);
	cr_expect_eq(h.count, NEV);
	cr_expect_eq(h.id, 1);
	cr_expect_eq(h.min_ts, fx[NEV - 10].ev.timestamp_ns < fx[0].ev.timestamp_ns
			       ? fx[NEV - 10].ev.timestamp_ns : fx[0].ev.timestamp_ns);
	cr_expect_eq(h.max_ts, fx[NEV - 1].ev.timestamp_ns);
	ev = lw_segment_decoder_events(d, &n);
	cr_assert_eq(n, NEV);
	for (int i = 0; i < NEV; i++)
		expect_same(&ev[i], &fx[i].ev, i);
	free(val);
	lw_segment_builder_free(b);
	lw_segment_decoder_free(d);
}

/* Adds the fixture's events to both builders, hinting `hinted` the way
 * the writer does (each stage a few events ahead), process ids from
 * `pid`. */
static void add_hinted(struct lw_segment_builder *plain,
		       struct lw_segment_builder *hinted, int pid)
{
	for (int i = 0; i < NEV; i++) {
		snprintf(fx[i].procid, sizeof(fx[i].procid), "%d", pid + i);
		fx[i].ev.procid = S(fx[i].procid);
	}
	for (int i = 0; i < NEV; i++) {
		cr_assert_eq(lw_segment_builder_add(plain, &fx[i].ev), LW_OK);
		for (int stage = 0; stage < 3; stage++)
			if (i + 3 - stage < NEV)
				lw_segment_builder_prefetch(hinted, &fx[i + 3 - stage].ev, stage);
		cr_assert_eq(lw_segment_builder_add(hinted, &fx[i].ev), LW_OK);
	}
}

/* The hints start once the dictionary outgrows the caches (2,000 process
 * ids, then 2,000 more while hinted, then the first 2,000 again, found
 * by the hints). They read slots, entries and strings the dictionary may
 * have moved since (grown in between): under ASan a read out of bounds
 * fails here. And the segment must be the same, byte for byte, as one
 * built without. */
Test(segment, dictionary_prefetch_hints_change_no_stored_byte)
{
	struct lw_segment_builder *plain = lw_segment_builder_new();
	struct lw_segment_builder *hinted = lw_segment_builder_new();
	uint8_t *a, *b;
	size_t alen, blen;

	cr_assert_not_null(plain);
	cr_assert_not_null(hinted);
	make_events();
	add_hinted(plain, hinted, 1000);
	add_hinted(plain, hinted, 5000);
	add_hinted(plain, hinted, 1000);
	cr_expect_eq(lw_segment_builder_count(hinted), 3 * NEV);
	seal_value(plain, &a, &alen);
	seal_value(hinted, &b, &blen);
	cr_assert_eq(alen, blen);
	cr_expect(memcmp(a, b, alen) == 0);
	free(a);
	free(b);
	lw_segment_builder_free(plain);
	lw_segment_builder_free(hinted);
}

Test(segment, empty_strings_binary_bytes_and_extremes_round_trip)
{
	static const char bin[] = "a\0b\xff\xfe\x01\n\"\\\x80zz";
	struct lw_segment_builder *b = lw_segment_builder_new();
	struct lw_segment_decoder *d = lw_segment_decoder_new();
	struct lw_event evs[3];
	struct lw_field fl[2];
	struct lw_diag diag = {0};
	const struct lw_event *out;
	uint8_t *val;
	size_t len;
	uint32_t n;

	memset(evs, 0, sizeof(evs));
	/* all empty */
	evs[0].facility = LW_SYSLOG_NONE;
	evs[0].severity = LW_SYSLOG_NONE;
	/* binary everywhere, a field with an empty key and value */
	evs[1].timestamp_ns = INT64_MIN;
	evs[1].created_ns = INT64_MAX;
	evs[1].host = (struct lw_str){bin, sizeof(bin) - 1};
	evs[1].message = (struct lw_str){bin, sizeof(bin) - 1};
	evs[1].source_address = (struct lw_str){bin + 1, 3};
	evs[1].flags = 0xffff;
	fl[0].key = LW_STR_NULL;
	fl[0].value = LW_STR_NULL;
	fl[1].key = (struct lw_str){bin, 4};
	fl[1].value = (struct lw_str){bin, sizeof(bin) - 1};
	evs[1].fields = fl;
	evs[1].nfields = 2;
	/* a large message */
	char *big = malloc(70000);
	cr_assert_not_null(big);
	for (int i = 0; i < 70000; i++)
		big[i] = (char)(i * 31);
	evs[2].timestamp_ns = INT64_MAX;
	evs[2].created_ns = INT64_MIN;
	evs[2].message = (struct lw_str){big, 70000};
	for (int i = 0; i < 3; i++)
		cr_assert_eq(lw_segment_builder_add(b, &evs[i]), LW_OK);
	seal_value(b, &val, &len);
	cr_assert_eq(lw_segment_decode(d, val, len, NULL, &diag), LW_OK, "%s", diag.detail);
	out = lw_segment_decoder_events(d, &n);
	cr_assert_eq(n, 3);
	for (int i = 0; i < 3; i++)
		expect_same(&out[i], &evs[i], i);
	free(val);
	free(big);
	lw_segment_builder_free(b);
	lw_segment_decoder_free(d);
}

Test(segment, builder_reset_reuses_memory_for_a_new_segment)
{
	struct lw_segment_builder *b = lw_segment_builder_new();
	struct lw_segment_decoder *d = lw_segment_decoder_new();
	const struct lw_event *out;
	uint8_t *val;
	size_t len;
	uint32_t n;

	make_events();
	for (int i = 0; i < 100; i++)
		cr_assert_eq(lw_segment_builder_add(b, &fx[i].ev), LW_OK);
	lw_segment_builder_reset(b);
	cr_expect_eq(lw_segment_builder_count(b), 0);
	cr_expect_eq(lw_segment_builder_raw_bytes(b), 0);
	for (int i = 100; i < 150; i++)
		cr_assert_eq(lw_segment_builder_add(b, &fx[i].ev), LW_OK);
	seal_value(b, &val, &len);
	cr_assert_eq(lw_segment_decode(d, val, len, NULL, NULL), LW_OK);
	out = lw_segment_decoder_events(d, &n);
	cr_assert_eq(n, 50);
	for (int i = 0; i < 50; i++)
		expect_same(&out[i], &fx[100 + i].ev, i);
	free(val);
	lw_segment_builder_free(b);
	lw_segment_decoder_free(d);
}

Test(segment, empty_builder_cannot_be_sealed)
{
	struct lw_segment_builder *b = lw_segment_builder_new();
	struct lw_segment_sealed s;

	cr_expect_eq(lw_segment_builder_seal(b, &s, NULL), LW_EINVAL);
	lw_segment_builder_free(b);
}

Test(segment, metadata_record_lists_hosts_zones_apps_with_counts)
{
	struct lw_segment_builder *b = lw_segment_builder_new();
	struct lw_segment_sealed s;
	struct lw_segment_meta m;
	struct lw_segment_meta_item it;
	uint64_t total = 0, skew = 0, expect_skew = 0;
	size_t pos = 0;

	make_events();
	for (int i = 0; i < NEV; i++) {
		cr_assert_eq(lw_segment_builder_add(b, &fx[i].ev), LW_OK);
		if (fx[i].ev.flags & LW_EVENT_CLOCK_SKEW)
			expect_skew++;
	}
	cr_assert_eq(lw_segment_builder_seal(b, &s, NULL), LW_OK);
	cr_assert_eq(lw_segment_meta_parse(s.meta, s.meta_len, &m), LW_OK);
	cr_expect_eq(m.count, NEV);
	cr_expect_eq(m.nitems[LW_SEGMENT_META_HOST], 7);
	cr_expect_eq(m.nitems[LW_SEGMENT_META_ZONE], 4);
	cr_expect_eq(m.nitems[LW_SEGMENT_META_APP], 2);
	while (lw_segment_meta_next(&m, LW_SEGMENT_META_HOST, &pos, &it)) {
		total += it.count;
		skew += it.skew;
	}
	cr_expect_eq(total, NEV);
	cr_expect_eq(skew, expect_skew);
	cr_expect(lw_segment_meta_has(&m, LW_SEGMENT_META_HOST, "host-3", 6));
	cr_expect(!lw_segment_meta_has(&m, LW_SEGMENT_META_HOST, "host-9", 6));
	cr_expect(lw_segment_meta_has(&m, LW_SEGMENT_META_ZONE, "", 0));
	cr_expect(lw_segment_meta_has(&m, LW_SEGMENT_META_APP, "CRON", 4));
	/* every truncation of the record is rejected */
	for (size_t cut = 0; cut < s.meta_len; cut++)
		cr_expect_eq(lw_segment_meta_parse(s.meta, cut, &m), LW_ECORRUPT,
			     "cut at %zu", cut);
	lw_segment_builder_free(b);
}

Test(segment, truncated_or_flipped_values_are_rejected_not_crashed)
{
	struct lw_segment_builder *b = lw_segment_builder_new();
	struct lw_segment_decoder *d = lw_segment_decoder_new();
	uint8_t *val, *copy;
	size_t len;
	int rejected = 0;

	make_events();
	for (int i = 0; i < 300; i++)
		cr_assert_eq(lw_segment_builder_add(b, &fx[i].ev), LW_OK);
	seal_value(b, &val, &len);
	copy = malloc(len);
	for (size_t cut = 0; cut < len; cut += 7)
		cr_expect_eq(lw_segment_decode(d, val, cut, NULL, NULL), LW_ECORRUPT,
			     "cut at %zu", cut);
	for (size_t pos = 0; pos < len; pos += 3) {
		memcpy(copy, val, len);
		copy[pos] ^= 0x40;
		int rc = lw_segment_decode(d, copy, len, NULL, NULL);
		cr_expect(rc == LW_OK || rc == LW_ECORRUPT, "pos %zu rc %d", pos, rc);
		rejected += rc == LW_ECORRUPT;
	}
	/* zstd's checksum catches every frame flip; header flips in the
	 * hash fields decode fine (verify catches those). */
	cr_expect_gt(rejected, (int)(len / 3) - 40, "rejected %d of %zu", rejected, len / 3);
	free(copy);
	free(val);
	lw_segment_builder_free(b);
	lw_segment_decoder_free(d);
}

Test(segment, garbage_raw_columns_are_rejected)
{
	struct lw_segment_decoder *d = lw_segment_decoder_new();
	uint8_t raw[512];
	struct lw_diag diag = {0};

	srand(42);
	for (int round = 0; round < 2000; round++) {
		size_t n = (size_t)(rand() % (int)sizeof(raw));

		for (size_t i = 0; i < n; i++)
			raw[i] = (uint8_t)rand();
		if (n > 2) {
			raw[0] = 1;   /* count 1 */
			raw[1] = 21;  /* the right column count */
		}
		int rc = lw_segment_decode_raw(d, raw, n, 1, &diag);
		cr_expect(rc == LW_ECORRUPT || rc == LW_OK, "round %d rc %d", round, rc);
	}
	/* varint that never ends */
	memset(raw, 0xff, sizeof(raw));
	cr_expect_eq(lw_segment_decode_raw(d, raw, sizeof(raw), 1, &diag), LW_ECORRUPT);
	lw_segment_decoder_free(d);
}

Test(segment, chain_covers_header_fields_metadata_and_frame)
{
	struct lw_segment_header h;
	uint8_t a[32], b2[32], c[32];
	const char frame[] = "frame-bytes";
	char meta[] = "metadata-record";

	memset(&h, 0, sizeof(h));
	h.version = LW_SEGMENT_VERSION;
	h.header_len = LW_SEGMENT_HEADER_LEN;
	h.id = 5;
	h.count = 3;
	cr_assert_eq(lw_segment_chain(&h, meta, sizeof(meta), frame, sizeof(frame), a), LW_OK);
	h.count = 4;
	cr_assert_eq(lw_segment_chain(&h, meta, sizeof(meta), frame, sizeof(frame), b2), LW_OK);
	cr_expect_neq(memcmp(a, b2, 32), 0);
	h.count = 3;
	h.prev_chain[31] = 1;
	cr_assert_eq(lw_segment_chain(&h, meta, sizeof(meta), frame, sizeof(frame), c), LW_OK);
	cr_expect_neq(memcmp(a, c, 32), 0);
	h.prev_chain[31] = 0;
	/* one byte of the metadata record */
	meta[0] ^= 1;
	cr_assert_eq(lw_segment_chain(&h, meta, sizeof(meta), frame, sizeof(frame), c), LW_OK);
	cr_expect_neq(memcmp(a, c, 32), 0);
	meta[0] ^= 1;
	/* the chain field itself is not an input */
	h.chain[0] = 0xaa;
	cr_assert_eq(lw_segment_chain(&h, meta, sizeof(meta), frame, sizeof(frame), c), LW_OK);
	cr_expect_eq(memcmp(a, c, 32), 0);
}

Test(segment, older_format_version_is_refused_by_number)
{
	struct lw_segment_builder *b = lw_segment_builder_new();
	struct lw_segment_decoder *d = lw_segment_decoder_new();
	struct lw_segment_header h;
	struct lw_diag diag = {0};
	uint8_t *val;
	size_t len;

	make_events();
	for (int i = 0; i < 10; i++)
		cr_assert_eq(lw_segment_builder_add(b, &fx[i].ev), LW_OK);
	seal_value(b, &val, &len);
	cr_assert_eq(lw_segment_decode(d, val, len, NULL, NULL), LW_OK);
	val[4] = 1; /* version 1: the chain did not cover the metadata */
	val[5] = 0;
	cr_expect_eq(lw_segment_header_parse(val, len, &h, &diag), LW_ECORRUPT);
	cr_expect_str_eq(diag.detail, "segment format version 1 not supported (this logward reads 2)");
	cr_expect_eq(lw_segment_decode(d, val, len, NULL, NULL), LW_ECORRUPT);
	free(val);
	lw_segment_builder_free(b);
	lw_segment_decoder_free(d);
}

/* Offset of the first occurrence of needle in hay, or -1. */
static long find_bytes(const uint8_t *hay, size_t n, const char *needle)
{
	size_t k = strlen(needle);

	for (size_t i = 0; i + k <= n; i++)
		if (memcmp(hay + i, needle, k) == 0)
			return (long)i;
	return -1;
}

Test(segment, metadata_check_accepts_the_builders_record_and_names_a_lie)
{
	struct lw_segment_builder *b = lw_segment_builder_new();
	struct lw_segment_decoder *d = lw_segment_decoder_new();
	struct lw_segment_sealed s;
	struct lw_segment_meta m;
	struct lw_diag diag = {0};
	uint8_t *rec;
	long off;

	make_events();
	for (int i = 0; i < NEV; i++)
		cr_assert_eq(lw_segment_builder_add(b, &fx[i].ev), LW_OK);
	cr_assert_eq(lw_segment_builder_seal(b, &s, NULL), LW_OK);
	s.hdr.id = 1;
	lw_segment_header_write(&s.hdr, s.value);
	/* nothing decoded yet */
	cr_assert_eq(lw_segment_meta_parse(s.meta, s.meta_len, &m), LW_OK);
	cr_expect_eq(lw_segment_decoder_check_meta(d, &m, NULL), LW_EINVAL);
	cr_assert_eq(lw_segment_decode(d, s.value, s.value_len, NULL, NULL), LW_OK);
	cr_expect_eq(lw_segment_decoder_check_meta(d, &m, &diag), LW_OK, "%s", diag.detail);

	rec = malloc(s.meta_len);
	cr_assert_not_null(rec);
	/* a host renamed in place (same length: the record still parses) */
	memcpy(rec, s.meta, s.meta_len);
	off = find_bytes(rec, s.meta_len, "host-3");
	cr_assert_geq(off, 0);
	rec[off + 5] = 'X';
	cr_assert_eq(lw_segment_meta_parse(rec, s.meta_len, &m), LW_OK);
	cr_expect_eq(lw_segment_decoder_check_meta(d, &m, &diag), LW_ECORRUPT);
	cr_expect_str_eq(diag.detail, "host 'host-3' (286 events) is not in the metadata record");
	/* an app's count changed (CRON: i % 3 == 0, 667 events = 0x9b 0x05) */
	memcpy(rec, s.meta, s.meta_len);
	off = find_bytes(rec, s.meta_len, "CRON");
	cr_assert_geq(off, 0);
	cr_assert_eq(rec[off + 4], 0x9b);
	rec[off + 4] = 0x9a;
	cr_assert_eq(lw_segment_meta_parse(rec, s.meta_len, &m), LW_OK);
	cr_expect_eq(lw_segment_decoder_check_meta(d, &m, &diag), LW_ECORRUPT);
	cr_expect(strstr(diag.detail, "app 'CRON' has 666 events") != NULL, "%s", diag.detail);
	/* text bytes (fixed part, offset 32) */
	memcpy(rec, s.meta, s.meta_len);
	rec[32] ^= 1;
	cr_assert_eq(lw_segment_meta_parse(rec, s.meta_len, &m), LW_OK);
	cr_expect_eq(lw_segment_decoder_check_meta(d, &m, &diag), LW_ECORRUPT);
	cr_expect(strstr(diag.detail, "text bytes") != NULL, "%s", diag.detail);
	free(rec);
	lw_segment_builder_free(b);
	lw_segment_decoder_free(d);
}

/* --- selective decode ---------------------------------------------------- */

static void build_fixture_value(uint8_t **val, size_t *len)
{
	struct lw_segment_builder *b = lw_segment_builder_new();

	cr_assert_not_null(b);
	make_events();
	for (int i = 0; i < NEV; i++)
		cr_assert_eq(lw_segment_builder_add(b, &fx[i].ev), LW_OK);
	seal_value(b, val, len);
	lw_segment_builder_free(b);
}

Test(segment, selective_decode_fills_what_was_asked_then_the_rest)
{
	struct lw_segment_decoder *d = lw_segment_decoder_new();
	struct lw_diag diag = {0};
	const struct lw_event *ev;
	uint8_t *val;
	size_t len;
	uint32_t n;

	build_fixture_value(&val, &len);
	cr_assert_eq(lw_segment_decode_begin(d, val, len, NULL, &diag), LW_OK, "%s", diag.detail);
	cr_assert_eq(lw_segment_decode_cols(d, LW_SEGMENT_COL_HOST | LW_SEGMENT_COL_TS, &diag),
		     LW_OK, "%s", diag.detail);
	ev = lw_segment_decoder_events(d, &n);
	cr_assert_eq(n, NEV);
	for (int i = 0; i < NEV; i++) {
		cr_expect(str_same(ev[i].host, fx[i].ev.host), "host %d", i);
		cr_expect_eq(ev[i].timestamp_ns, fx[i].ev.timestamp_ns, "ts %d", i);
		cr_expect_eq(ev[i].message.len, 0, "message %d not asked for", i);
		cr_expect_eq(ev[i].zone.len, 0, "zone %d not asked for", i);
	}
	cr_assert_eq(lw_segment_decode_cols(d, LW_SEGMENT_COL_ALL, &diag), LW_OK, "%s", diag.detail);
	ev = lw_segment_decoder_events(d, &n);
	cr_assert_eq(n, NEV);
	for (int i = 0; i < NEV; i++)
		expect_same(&ev[i], &fx[i].ev, i);
	lw_segment_decoder_free(d);
	free(val);
}

Test(segment, a_prefix_decode_leaves_the_messages_compressed)
{
	struct lw_segment_decoder *d = lw_segment_decoder_new();
	struct lw_diag diag = {0};
	uint8_t *val;
	size_t len;
	uint32_t n;

	/* ~250 KB of columns, messages last: more than one zstd block, so
	 * the host column is decompressed without the messages */
	build_fixture_value(&val, &len);
	cr_assert_eq(lw_segment_decode_begin(d, val, len, NULL, &diag), LW_OK, "%s", diag.detail);
	cr_assert_eq(lw_segment_decode_cols(d, LW_SEGMENT_COL_HOST, &diag), LW_OK, "%s", diag.detail);
	lw_segment_decoder_detach(d);
	/* the value may be gone now: what was not decompressed is refused,
	 * never read from freed memory */
	cr_expect_eq(lw_segment_decode_cols(d, LW_SEGMENT_COL_MESSAGE, &diag), LW_EINVAL);
	lw_segment_decoder_events(d, &n);
	cr_expect_eq(n, 0, "nothing is handed out after a failed decode");
	lw_segment_decoder_free(d);
	free(val);
}

Test(segment, message_column_holds_every_message_back_to_back)
{
	struct lw_segment_decoder *d = lw_segment_decoder_new();
	struct lw_diag diag = {0};
	const char *col;
	size_t clen, off = 0;
	uint8_t *val;
	size_t len;

	build_fixture_value(&val, &len);
	cr_expect_eq(lw_segment_decode_column(d, LW_SEGMENT_COL_MESSAGE, &col, &clen, NULL),
		     LW_EINVAL, "no segment begun");
	cr_assert_eq(lw_segment_decode_begin(d, val, len, NULL, &diag), LW_OK, "%s", diag.detail);
	cr_expect_eq(lw_segment_decode_column(d, LW_SEGMENT_COL_HOST, &col, &clen, NULL), LW_EINVAL,
		     "a dictionary column is not text");
	/* readable before any event is decoded */
	cr_assert_eq(lw_segment_decode_column(d, LW_SEGMENT_COL_MESSAGE, &col, &clen, &diag), LW_OK,
		     "%s", diag.detail);
	for (int i = 0; i < NEV; i++) {
		cr_assert_leq(off + fx[i].ev.message.len, clen);
		cr_expect_eq(memcmp(col + off, fx[i].ev.message.ptr, fx[i].ev.message.len), 0, "%d", i);
		off += fx[i].ev.message.len;
	}
	cr_expect_eq(off, clen);
	lw_segment_decoder_free(d);
	free(val);
}

Test(segment, a_reused_decoder_leaves_no_member_of_the_last_segment_behind)
{
	struct lw_segment_decoder *d = lw_segment_decoder_new();
	struct lw_diag diag = {0};
	const struct lw_event *ev;
	uint8_t *val;
	size_t len;
	uint32_t n;

	build_fixture_value(&val, &len);
	cr_assert_eq(lw_segment_decode(d, val, len, NULL, &diag), LW_OK, "%s", diag.detail);
	/* the same decoder, host only: nothing else of the full decode shows */
	cr_assert_eq(lw_segment_decode_begin(d, val, len, NULL, &diag), LW_OK, "%s", diag.detail);
	cr_assert_eq(lw_segment_decode_cols(d, LW_SEGMENT_COL_HOST, &diag), LW_OK, "%s", diag.detail);
	ev = lw_segment_decoder_events(d, &n);
	for (uint32_t i = 0; i < n; i++) {
		cr_assert(str_same(ev[i].host, fx[i].ev.host), "host %u", i);
		cr_assert_eq(ev[i].message.len, 0, "message %u", i);
		cr_assert_eq(ev[i].zone.len, 0, "zone %u", i);
		cr_assert_eq(ev[i].nfields, 0, "fields %u", i);
		cr_assert_eq(ev[i].timestamp_ns, 0, "ts %u", i);
	}
	/* then messages only: the hosts of the last decode are gone too */
	cr_assert_eq(lw_segment_decode_begin(d, val, len, NULL, &diag), LW_OK, "%s", diag.detail);
	cr_assert_eq(lw_segment_decode_cols(d, LW_SEGMENT_COL_MESSAGE, &diag), LW_OK, "%s", diag.detail);
	ev = lw_segment_decoder_events(d, &n);
	for (uint32_t i = 0; i < n; i++) {
		cr_assert(str_same(ev[i].message, fx[i].ev.message), "message %u", i);
		cr_assert_eq(ev[i].host.len, 0, "host %u", i);
	}
	lw_segment_decoder_free(d);
	free(val);
}
