/* lw_verify: the chain walk behind `logward verify`. Reader thread. */
#include "store/verify.h"
#include "store/segment.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int broken(struct lw_verify_result *res, uint64_t id, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int broken(struct lw_verify_result *res, uint64_t id, const char *fmt, ...)
{
	va_list ap;

	res->bad_id = id;
	va_start(ap, fmt);
	vsnprintf(res->reason, sizeof(res->reason), fmt, ap);
	va_end(ap);
	return LW_ECORRUPT;
}

/* Checks one stored segment against its expected id and link. */
static int check_segment(struct lw_store_reader *rd, uint64_t id,
			 const void *val, size_t len, const uint8_t prev[32],
			 struct lw_segment_header *h, struct lw_verify_result *res,
			 struct lw_diag *diag)
{
	struct lw_diag d = {0};
	struct lw_segment_meta m;
	uint8_t chain[LW_SHA256_LEN];
	const void *rec;
	size_t rlen;
	int rc;

	if (lw_segment_header_parse(val, len, h, &d) != LW_OK)
		return broken(res, id, "bad header: %s", d.detail);
	if (h->id != id)
		return broken(res, id,
			      "header says segment %llu (segments reordered or copied)",
			      (unsigned long long)h->id);
	if (memcmp(h->prev_chain, prev, LW_SHA256_LEN) != 0)
		return broken(res, id,
			      "previous-hash link broken (a segment before it was removed, replaced or reordered)");
	rc = lw_segment_chain(h, (const uint8_t *)val + LW_SEGMENT_HEADER_LEN,
			      len - LW_SEGMENT_HEADER_LEN, chain);
	if (rc != LW_OK)
		return lw_diag_set(diag, rc, NULL, 0, 0, "cannot compute SHA-256");
	if (memcmp(chain, h->chain, LW_SHA256_LEN) != 0)
		return broken(res, id, "chain hash mismatch (header or data changed)");
	rc = lw_store_reader_get_meta(rd, id, &rec, &rlen, diag);
	if (rc == LW_ENOTFOUND)
		return broken(res, id, "metadata record missing");
	if (rc != LW_OK)
		return rc;
	if (lw_segment_meta_parse(rec, rlen, &m) != LW_OK ||
	    m.count != h->count || m.min_ts != h->min_ts || m.max_ts != h->max_ts ||
	    m.raw_size != h->raw_size || m.comp_size != h->comp_size)
		return broken(res, id,
			      "metadata record does not match the segment (queries could skip it)");
	return LW_OK;
}

int lw_verify_run(struct lw_store *st, struct lw_verify_result *res,
		  struct lw_diag *diag)
{
	struct lw_store_reader *rd = NULL;
	struct lw_store_head head;
	struct lw_segment_header h;
	uint8_t prev[LW_SHA256_LEN];
	uint64_t expect, id, after = 0;
	const void *val;
	size_t len;
	int rc;

	memset(res, 0, sizeof(*res));
	rc = lw_store_reader_open(st, &rd, diag);
	if (rc != LW_OK)
		return rc;
	rc = lw_store_reader_head(rd, &head, diag);
	if (rc == LW_ECORRUPT) {
		rc = broken(res, 0, "%s", diag ? diag->detail : "bad meta");
		goto out;
	}
	if (rc != LW_OK)
		goto out;
	expect = head.first_id;
	memcpy(prev, head.first_prev, LW_SHA256_LEN);
	if (expect > 1)
		after = expect - 1;
	/* A segment older than the checkpoint must not exist either. */
	rc = lw_store_reader_next_segment(rd, 0, &id, &val, &len, diag);
	if (rc == LW_OK && id < expect) {
		rc = broken(res, id, "segment older than the chain checkpoint %llu",
			    (unsigned long long)expect);
		goto out;
	}
	for (;;) {
		rc = lw_store_reader_next_segment(rd, after, &id, &val, &len, diag);
		if (rc == LW_ENOTFOUND)
			break;
		if (rc != LW_OK)
			goto out;
		if (id != expect) {
			rc = broken(res, expect, "segment missing (next stored segment is %llu)",
				    (unsigned long long)id);
			goto out;
		}
		rc = check_segment(rd, id, val, len, prev, &h, res, diag);
		if (rc != LW_OK)
			goto out;
		memcpy(prev, h.chain, LW_SHA256_LEN);
		memcpy(res->head, h.chain, LW_SHA256_LEN);
		res->segments++;
		res->events += h.count;
		after = id;
		expect = id + 1;
	}
	if (head.last_id > after) {
		rc = broken(res, after + 1,
			    "segment missing: the chain head names segment %llu (newest segments removed)",
			    (unsigned long long)head.last_id);
		goto out;
	}
	if (head.last_id < after) {
		rc = broken(res, head.last_id + 1,
			    "segment not covered by the chain head (head is %llu)",
			    (unsigned long long)head.last_id);
		goto out;
	}
	if (memcmp(prev, head.chain, LW_SHA256_LEN) != 0) {
		rc = broken(res, after, "chain head in meta does not match this segment");
		goto out;
	}
	rc = LW_OK;
out:
	lw_store_reader_close(rd);
	return rc;
}
