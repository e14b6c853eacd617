/* Unit tests for store/relay: the edge's forwarding cursor (stored,
 * loaded, pinning max_age retention, overridden by max_bytes with the
 * loss counted), seq spans through seqidx, and the central node's origin
 * marks written in the commit's transaction. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/err.h"
#include "store/relay.h"
#include "store/segment.h"
#include "store/store.h"

static char dir[64];

static void rm_store(void)
{
	char p[160];

	snprintf(p, sizeof(p), "%s/data.mdb", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/lock.mdb", dir);
	unlink(p);
	rmdir(dir);
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/lw-relay-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

TestSuite(relay, .init = setup, .fini = rm_store);

#define SEC 1000000000ll

/* One segment of n events arrived at base_s + i seconds, with the
 * origin marks o (may be NULL). */
static void commit_seg(struct lw_store *st, int n, int64_t base_s,
		       const struct lw_store_origin *o, size_t no)
{
	struct lw_segment_builder *b = lw_segment_builder_new();
	struct lw_store_commit_extra x = {0};
	struct lw_diag d = {0};

	for (int i = 0; i < n; i++) {
		struct lw_event ev;

		memset(&ev, 0, sizeof(ev));
		ev.timestamp_ns = ev.created_ns = (base_s + i) * SEC;
		ev.host = LW_STR_LIT("h");
		ev.message = LW_STR_LIT("m");
		ev.facility = ev.severity = LW_SYSLOG_NONE;
		cr_assert_eq(lw_segment_builder_add(b, &ev), LW_OK);
	}
	x.origins = o;
	x.norigins = no;
	cr_assert_eq(lw_store_commit_ex(st, b, &x, NULL, &d), LW_OK, "%s", d.detail);
	lw_segment_builder_free(b);
}

static struct lw_store *open_rw(const struct lw_store_opts *o)
{
	struct lw_store *st;
	struct lw_diag d = {0};

	cr_assert_eq(lw_store_open(dir, o, &st, &d), LW_OK, "%s", d.detail);
	return st;
}

Test(relay, cursor_starts_at_zero_and_is_stored)
{
	struct lw_store *st = open_rw(NULL);
	uint64_t c = 99;

	cr_assert_eq(lw_relay_cursor_load(st, &c, NULL), LW_OK);
	cr_expect_eq(c, 0);
	commit_seg(st, 3, 1000, NULL, 0);
	cr_assert_eq(lw_relay_cursor_save(st, 2, NULL), LW_OK);
	lw_store_close(st);
	st = open_rw(NULL);
	cr_assert_eq(lw_relay_cursor_load(st, &c, NULL), LW_OK);
	cr_expect_eq(c, 2);
	lw_store_close(st);
}

Test(relay, span_finds_the_segment_holding_a_seq_or_the_next)
{
	struct lw_store *st = open_rw(NULL);
	struct lw_store_reader *rd;
	uint64_t id, first;
	uint32_t count;

	commit_seg(st, 3, 1000, NULL, 0);  /* seqs 0..2, id 1 */
	commit_seg(st, 4, 2000, NULL, 0);  /* seqs 3..6, id 2 */
	cr_assert_eq(lw_store_reader_open(st, &rd, NULL), LW_OK);
	cr_assert_eq(lw_relay_span(rd, 0, &id, &first, &count, NULL), LW_OK);
	cr_expect(id == 1 && first == 0 && count == 3);
	cr_assert_eq(lw_relay_span(rd, 2, &id, &first, &count, NULL), LW_OK);
	cr_expect_eq(id, 1);
	cr_assert_eq(lw_relay_span(rd, 5, &id, &first, &count, NULL), LW_OK);
	cr_expect(id == 2 && first == 3 && count == 4);
	cr_expect_eq(lw_relay_span(rd, 7, &id, &first, &count, NULL), LW_ENOTFOUND);
	lw_store_reader_close(rd);
	lw_store_close(st);
}

Test(relay, max_age_keeps_what_is_not_forwarded_max_bytes_counts_it)
{
	struct lw_store_opts o = {.max_age_s = 100, .keep_unforwarded = 1};
	struct lw_store *st = open_rw(&o);
	struct lw_store_retain_result r;
	struct lw_diag d = {0};

	commit_seg(st, 3, 1000, NULL, 0);  /* id 1, seqs 0..2 */
	commit_seg(st, 4, 2000, NULL, 0);  /* id 2, seqs 3..6 */
	commit_seg(st, 5, 3000, NULL, 0);  /* id 3, seqs 7..11 */
	/* No cursor yet: nothing was forwarded, nothing is old enough to go. */
	cr_assert_eq(lw_store_retain(st, 100000 * SEC, &r, &d), LW_OK, "%s", d.detail);
	cr_expect_eq(r.segments, 0);
	/* Acknowledged up to seq 4 (inside segment 2): only segment 1 may go. */
	cr_assert_eq(lw_relay_cursor_save(st, 4, NULL), LW_OK);
	cr_assert_eq(lw_store_retain(st, 100000 * SEC, &r, &d), LW_OK, "%s", d.detail);
	cr_expect_eq(r.segments, 1);
	cr_expect_eq(r.events, 3);
	cr_expect_eq(r.unforwarded, 0);
	lw_store_close(st);
	/* The disk bound wins: everything over it goes, and the events not
	 * yet acknowledged are counted as such (segments 2 and 3: 9). */
	o.max_bytes = 1;
	st = open_rw(&o);
	cr_assert_eq(lw_store_retain(st, 3000 * SEC, &r, &d), LW_OK, "%s", d.detail);
	cr_expect_eq(r.segments, 2);
	cr_expect_eq(r.events, 9);
	cr_expect_eq(r.unforwarded, 9);
	lw_store_close(st);
}

Test(relay, all_forwarded_pins_the_next_segment)
{
	struct lw_store_opts o = {.max_age_s = 100, .keep_unforwarded = 1};
	struct lw_store *st = open_rw(&o);
	struct lw_store_retain_result r;
	struct lw_diag d = {0};

	commit_seg(st, 3, 1000, NULL, 0);
	commit_seg(st, 4, 2000, NULL, 0);
	cr_assert_eq(lw_relay_cursor_save(st, 7, NULL), LW_OK);
	commit_seg(st, 2, 3000, NULL, 0);  /* after the cursor: kept */
	cr_assert_eq(lw_store_retain(st, 100000 * SEC, &r, &d), LW_OK, "%s", d.detail);
	cr_expect_eq(r.segments, 2);
	cr_expect_eq(r.events, 7);
	lw_store_close(st);
}

static int collect(const char *node, size_t len, uint64_t next, void *arg)
{
	char *out = arg;
	size_t used = strlen(out);

	snprintf(out + used, 256 - used, "%.*s=%llu;", (int)len, node,
		 (unsigned long long)next);
	return 0;
}

Test(relay, origin_marks_are_stored_with_the_commit)
{
	struct lw_store *st = open_rw(NULL);
	struct lw_store_origin a = {"town-a", 6, 40}, b = {"town-b", 6, 7};
	struct lw_store_reader *rd;
	char seen[256] = "";
	uint64_t next = 1;

	cr_assert_eq(lw_relay_origin_load(st, "town-a", 6, &next, NULL), LW_OK);
	cr_expect_eq(next, 0);
	commit_seg(st, 2, 1000, (struct lw_store_origin[]){a, b}, 2);
	a.next_seq = 45;
	commit_seg(st, 1, 1000, &a, 1);
	lw_store_close(st);
	st = open_rw(NULL);
	cr_assert_eq(lw_relay_origin_load(st, "town-a", 6, &next, NULL), LW_OK);
	cr_expect_eq(next, 45);
	cr_assert_eq(lw_store_reader_open(st, &rd, NULL), LW_OK);
	cr_assert_eq(lw_relay_reader_origins(rd, collect, seen, NULL), LW_OK);
	cr_expect_str_eq(seen, "town-a=45;town-b=7;");
	lw_store_reader_close(rd);
	lw_store_close(st);
}
