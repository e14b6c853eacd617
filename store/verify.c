/* lw_verify: the chain walk behind `logward verify`. Reader thread. */
#include "store/verify.h"
#include "core/buf.h"
#include "store/integrity.h"
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
	uint64_t keyed_from; /* 0 = unkeyed store */
	struct lw_integrity_key *key; /* ratcheted along the walk, or NULL */
	uint64_t first_id;
	int has_checkpoint;
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
	int keyed;
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
	if (memcmp(h->prev_chain, prev, LW_SHA256_LEN) != 0) {
		if (id == v->first_id && v->has_checkpoint)
			return broken(res, id,
				      "the retention checkpoint does not match this segment (its previous-hash differs: segments were removed or the checkpoint was edited)");
		return broken(res, id,
			      "previous-hash link broken (a segment before it was removed, replaced or reordered)");
	}
	keyed = (h->flags & LW_SEGMENT_FLAG_KEYED) != 0;
	if (v->keyed_from != 0 && id >= v->keyed_from && !keyed)
		return broken(res, id,
			      "unkeyed segment in a keyed store (re-chained with plain SHA-256, without the key)");
	if (v->keyed_from == 0 && keyed)
		return broken(res, id, "keyed segment in a store that has no key (integrity record removed)");
	if (keyed && v->key != NULL) {
		rc = lw_integrity_ratchet_to(v->key, id);
		if (rc != LW_OK)
			return lw_diag_set(diag, rc, NULL, 0, 0, "cannot ratchet the key");
	}
	if (!keyed || v->key != NULL) {
		rc = lw_segment_chain_keyed(h, keyed ? v->key->key : NULL,
					    v->meta.data, v->meta.len,
					    (const uint8_t *)val + LW_SEGMENT_HEADER_LEN,
					    len - LW_SEGMENT_HEADER_LEN, chain);
		if (rc != LW_OK)
			return lw_diag_set(diag, rc, NULL, 0, 0, "cannot compute SHA-256");
		if (memcmp(chain, h->chain, LW_SHA256_LEN) != 0)
			return broken(res, id, keyed ?
				      "keyed chain (HMAC) mismatch: header, metadata record or data changed, or the chain was recomputed without the key" :
				      "chain hash mismatch (header, metadata record or data changed)");
	}
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

/* A keyed store's checkpoint: its MAC under K_key_index, and an index
 * that the store had reached. */
static int check_checkpoint_mac(const struct lw_store_head *head,
				const uint8_t k1[32], struct lw_verify_result *res,
				struct lw_diag *diag)
{
	const struct lw_store_checkpoint *c = &head->ckpt;
	struct lw_integrity_key k = {.index = 1};
	uint8_t mac[32];
	int rc;

	if (c->key_index == 0)
		return broken(res, c->first_id,
			      "the retention checkpoint carries no MAC in a keyed store (written without the key: forged)");
	if (c->key_index < c->first_id || c->key_index > head->last_id + 1)
		return broken(res, c->first_id,
			      "the retention checkpoint names key index %llu, impossible for a deletion up to segment %llu with the newest at %llu (forged)",
			      (unsigned long long)c->key_index,
			      (unsigned long long)c->first_id - 1,
			      (unsigned long long)head->last_id);
	if (k1 == NULL)
		return LW_OK;
	memcpy(k.key, k1, 32);
	rc = lw_integrity_ratchet_to(&k, c->key_index);
	if (rc == LW_OK)
		rc = lw_store_checkpoint_mac(c, k.key, mac);
	lw_integrity_key_wipe(&k);
	if (rc != LW_OK)
		return lw_diag_set(diag, rc, NULL, 0, 0, "cannot compute the checkpoint MAC");
	if (memcmp(mac, c->mac, 32) != 0)
		return broken(res, c->first_id,
			      "the retention checkpoint's MAC does not verify (forged or edited checkpoint)");
	return LW_OK;
}

/* The writer's key file (f, as lw_integrity_file_load left it: rc, d)
 * against the store: an index past the newest segment + 1 means the
 * newest segments were removed (the file cannot be ratcheted back); with
 * K_1, its key must be K_index. f must have been read before the
 * snapshot head comes from: the writer advances the file after each
 * commit, so a file read later may be ahead by the segments committed
 * meanwhile, which is no truncation. */
static int check_key_file(const char *path, int rc, const struct lw_integrity_key *f,
			  const struct lw_diag *d, const struct lw_store_head *head,
			  const uint8_t *k1, struct lw_verify_result *res,
			  struct lw_diag *diag)
{
	struct lw_integrity_key k = {.index = 1};

	if (rc == LW_ENOTFOUND && k1 == NULL) {
		snprintf(res->note, sizeof(res->note),
			 "no key file at %s: truncation of the newest segments not checked", path);
		return LW_OK;
	}
	if (rc == LW_ENOTFOUND)
		return broken(res, head->last_id + 1,
			      "the writer's key file %s is missing (removed to hide truncation?)", path);
	if (rc == LW_ECORRUPT)
		return broken(res, head->last_id + 1, "the writer's key file is damaged: %s", d->detail);
	if (rc != LW_OK) {
		if (diag != NULL)
			*diag = *d;
		return rc;
	}
	res->key_file_checked = 1;
	if (f->index > head->last_id + 1)
		return broken(res, head->last_id + 1,
			      "segment missing: the writer's key file has ratcheted to segment %llu but the store ends at %llu (the newest segments were removed)",
			      (unsigned long long)f->index, (unsigned long long)head->last_id);
	if (f->index < head->last_id + 1)
		snprintf(res->note, sizeof(res->note),
			 "the key file is at segment %llu, behind the store (a writer committed since it was read, or a crash after a commit; the writer ratchets it forward at start)",
			 (unsigned long long)f->index);
	rc = LW_OK;
	if (k1 != NULL) {
		memcpy(k.key, k1, 32);
		rc = lw_integrity_ratchet_to(&k, f->index);
		if (rc == LW_OK && memcmp(k.key, f->key, 32) != 0)
			rc = broken(res, f->index,
				    "the writer's key file does not hold the key for segment %llu (replaced)",
				    (unsigned long long)f->index);
	}
	lw_integrity_key_wipe(&k);
	return rc;
}

int lw_verify_run(struct lw_store *st, const struct lw_verify_opts *opts,
		  struct lw_verify_result *res, struct lw_diag *diag)
{
	struct vctx v = {0};
	struct lw_store_reader *rd = NULL;
	struct lw_store_head head;
	struct lw_segment_header h;
	struct lw_integrity_key key = {.index = 1}, kf = {0};
	struct lw_diag kd = {0};
	const uint8_t *k1 = opts != NULL ? opts->key : NULL;
	int krc = LW_ENOTFOUND;
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
	/* The key file before the snapshot (see check_key_file). */
	if (opts != NULL && opts->key_file != NULL)
		krc = lw_integrity_file_load(opts->key_file, &kf, &kd);
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
	res->keyed_store = head.keyed_from != 0;
	res->has_checkpoint = head.has_checkpoint;
	res->ckpt = head.ckpt;
	v.keyed_from = head.keyed_from;
	v.first_id = head.first_id;
	v.has_checkpoint = head.has_checkpoint;
	if (k1 != NULL) {
		/* The auditor knows the store was keyed: an unkeyed-looking
		 * store was re-chained by someone without the key. */
		if (head.keyed_from > 1) {
			rc = broken(res, head.first_id,
				    "a key was given but the store claims to be keyed only from segment %llu (its integrity record was changed)",
				    (unsigned long long)head.keyed_from);
			goto out;
		}
		/* Walk as keyed from 1 whatever meta says, so the segment
		 * where a re-chained, unkeyed part begins is the one named. */
		v.keyed_from = 1;
		memcpy(key.key, k1, 32);
		v.key = &key;
	}
	if (head.has_checkpoint && v.keyed_from != 0) {
		rc = check_checkpoint_mac(&head, k1, res, diag);
		if (rc != LW_OK)
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
	if (opts != NULL && opts->key_file != NULL && v.keyed_from != 0) {
		rc = check_key_file(opts->key_file, krc, &kf, &kd, &head, k1, res, diag);
		if (rc != LW_OK)
			goto out;
	}
	if (k1 != NULL && head.keyed_from == 0) {
		rc = broken(res, head.first_id,
			    "a key was given but the store's integrity record is gone (removed to make it look unkeyed)");
		goto out;
	}
	res->keyed_checked = k1 != NULL;
	rc = LW_OK;
out:
	lw_integrity_key_wipe(&key);
	lw_integrity_key_wipe(&kf);
	lw_store_reader_close(rd);
	lw_segment_decoder_free(v.dec);
	lw_buf_release(&v.meta);
	return rc;
}
