/* lw_verify: the chain walk behind `logward verify`. Reader thread. */
#include "store/verify.h"
#include "core/buf.h"
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

/* What check_segment needs besides the segment: reused per segment. */
struct vctx {
	struct lw_store_reader *rd;
	struct lw_segment_decoder *dec;
	struct lw_buf meta; /* copy of the metadata record */
};

/* Copies segment id's metadata record into v->meta (a reader call may
 * end the life of pointers from earlier calls). LW_ENOTFOUND if absent. */
static int load_meta(struct vctx *v, uint64_t id, struct lw_diag *diag)
{
	const void *rec;
	size_t rlen;
	int rc = lw_store_reader_get_meta(v->rd, id, &rec, &rlen, diag);

	if (rc != LW_OK)
		return rc;
	lw_buf_reset(&v->meta);
	lw_buf_append(&v->meta, rec, rlen);
	return v->meta.oom ? LW_ENOMEM : LW_OK;
}

/* Checks one stored segment against its expected id and link: header,
 * chain over header + metadata record + frame, then decodes it and checks
 * the record against the events. */
static int check_segment(struct vctx *v, uint64_t id, const uint8_t prev[32],
			 struct lw_segment_header *h, struct lw_verify_result *res,
			 struct lw_diag *diag)
{
	struct lw_diag d = {0};
	struct lw_segment_meta m;
	uint8_t chain[LW_SHA256_LEN];
	const void *val;
	size_t len;
	int rc;

	rc = load_meta(v, id, diag);
	if (rc == LW_ENOTFOUND)
		return broken(res, id, "metadata record missing");
	if (rc != LW_OK)
		return rc;
	rc = lw_store_reader_get_segment(v->rd, id, &val, &len, diag);
	if (rc != LW_OK)
		return rc;
	if (lw_segment_header_parse(val, len, h, &d) != LW_OK)
		return broken(res, id, "bad header: %s", d.detail);
	if (h->id != id)
		return broken(res, id,
			      "header says segment %llu (segments reordered or copied)",
			      (unsigned long long)h->id);
	if (memcmp(h->prev_chain, prev, LW_SHA256_LEN) != 0)
		return broken(res, id,
			      "previous-hash link broken (a segment before it was removed, replaced or reordered)");
	rc = lw_segment_chain(h, v->meta.data, v->meta.len,
			      (const uint8_t *)val + LW_SEGMENT_HEADER_LEN,
			      len - LW_SEGMENT_HEADER_LEN, chain);
	if (rc != LW_OK)
		return lw_diag_set(diag, rc, NULL, 0, 0, "cannot compute SHA-256");
	if (memcmp(chain, h->chain, LW_SHA256_LEN) != 0)
		return broken(res, id,
			      "chain hash mismatch (header, metadata record or data changed)");
	if (lw_segment_meta_parse(v->meta.data, v->meta.len, &m) != LW_OK)
		return broken(res, id, "metadata record does not parse");
	/* The chain proves the bytes are what the writer stored; decoding
	 * proves the record tells the truth about them (a writer bug, or a
	 * forger who re-chained everything after it, would otherwise make
	 * queries skip events silently). */
	rc = lw_segment_decode(v->dec, val, len, NULL, &d);
	if (rc == LW_ENOMEM)
		return rc;
	if (rc != LW_OK)
		return broken(res, id, "does not decode: %s", d.detail);
	rc = lw_segment_decoder_check_meta(v->dec, &m, &d);
	if (rc == LW_ENOMEM)
		return rc;
	if (rc != LW_OK)
		return broken(res, id,
			      "metadata record does not match the segment (queries could skip it): %s",
			      d.detail);
	return LW_OK;
}

int lw_verify_run(struct lw_store *st, struct lw_verify_result *res,
		  struct lw_diag *diag)
{
	struct vctx v = {0};
	struct lw_store_reader *rd = NULL;
	struct lw_store_head head;
	struct lw_segment_header h;
	uint8_t prev[LW_SHA256_LEN];
	uint64_t expect, id, after = 0;
	const void *val;
	size_t len;
	int rc;

	memset(res, 0, sizeof(*res));
	lw_buf_init(&v.meta);
	v.dec = lw_segment_decoder_new();
	if (v.dec == NULL)
		return LW_ENOMEM;
	rc = lw_store_reader_open(st, &rd, diag);
	if (rc != LW_OK)
		goto out;
	v.rd = rd;
	rc = lw_store_reader_head(rd, &head, diag);
	if (rc == LW_ECORRUPT) {
		rc = broken(res, 0, "%s", diag ? diag->detail : "bad meta");
		goto out;
	}
	if (rc != LW_OK)
		goto out;
	/* This version of logward never deletes segments (retention is not
	 * implemented), so it never writes a chain checkpoint. One that
	 * exists was written by someone else to make a deletion of the
	 * oldest segments verify: report it instead of trusting it. */
	if (head.first_id != 1) {
		rc = broken(res, head.first_id,
			    "chain checkpoint claims segments before %llu were retired, but this logward never retires segments (the oldest segments were removed outside logward)",
			    (unsigned long long)head.first_id);
		goto out;
	}
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
		rc = check_segment(&v, id, prev, &h, res, diag);
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
	lw_segment_decoder_free(v.dec);
	lw_buf_release(&v.meta);
	return rc;
}
