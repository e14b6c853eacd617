/* lw_store: the LMDB environment, its named databases and the one write
 * transaction per commit. Writer thread for lw_store_commit; readers
 * (lw_store_reader_*) in any thread or process.
 *
 * Databases (keys of segments/segmeta are u64 big-endian, so LMDB's
 * memcmp order is id order and MDB_APPEND applies):
 *   segments  id -> segment header + zstd frame     (store/segment.h)
 *   segmeta   id -> metadata record                 (store/segment.h)
 *   names     kind byte + name -> u64 events, u64 skew (LE)
 *   meta      "version" -> u32, "head" -> totals and chain head,
 *             "counters" -> text snapshot, "checkpoint" -> u64 + hash,
 *             "seq" -> u64 next event seq,
 *             "corrlog" + u64 BE -> a correlation change set,
 *             "corrstats" -> per-rule correlation counts (text)
 *   seqidx    last event seq of a segment (BE) -> segment id, first seq (BE)
 *   origins   origin node name -> u64 next origin seq stored (store/relay.h)
 *   inc*      incidents and their indexes (store/incidents.c) */
#include "store/store.h"
#include "store/segment.h"
#include "store/store_int.h"

#include <errno.h>
#include <lmdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* 2: segments of version 2 (the chain covers the metadata record).
 * 3: retention checkpoints with counts, reasons and a MAC; keyed chain
 * (meta "integrity", LW_SEGMENT_FLAG_KEYED). Other formats are refused
 * at open, not misread. */
#define STORE_FORMAT 3
/* Room for the incidents databases and later indexes. */
#define STORE_MAXDBS 32
#define HEAD_LEN 104
#define DEFAULT_MAP (16ull << 30)

/* struct lw_store and struct lw_store_reader: store/store_int.h */

static int open_key(struct lw_store *st, const char *path, struct lw_diag *diag);

static int mdb_fail(struct lw_diag *diag, int rc, const char *what)
{
	if (rc == MDB_MAP_FULL)
		return lw_diag_set(diag, LW_EFULL, NULL, 0, 0, "lmdb %s: %s", what,
				   mdb_strerror(rc));
	return lw_diag_set(diag, LW_ESTORE, NULL, 0, 0, "lmdb %s: %s", what,
			   mdb_strerror(rc));
}

int lw_store_mdb_fail(struct lw_diag *diag, int rc, const char *what)
{
	return mdb_fail(diag, rc, what);
}

void lw_store_be64(uint8_t out[8], uint64_t v)
{
	for (int i = 0; i < 8; i++)
		out[i] = (uint8_t)(v >> (56 - 8 * i));
}

uint64_t lw_store_rd_be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

void lw_store_le_put(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

uint64_t lw_store_le_get(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* mkdir -p with mode 0750 for the directories it creates. */
static int make_dirs(const char *dir, struct lw_diag *diag)
{
	char path[4096];
	size_t n = strlen(dir);

	if (n == 0 || n >= sizeof(path))
		return lw_diag_set(diag, LW_EINVAL, NULL, 0, 0,
				   "bad data directory '%s'", dir);
	memcpy(path, dir, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		path[i] = '\0';
		if (mkdir(path, 0750) == -1 && errno != EEXIST) {
			int e = errno;
			char ebuf[128];

			lw_diag_set(diag, LW_EIO, NULL, 0, 0,
				    "cannot create directory '%s': %s", path,
				    strerror_r(e, ebuf, sizeof(ebuf)));
			if (diag != NULL)
				diag->sys_errno = e;
			return LW_EIO;
		}
		path[i] = i == n ? '\0' : '/';
	}
	return LW_OK;
}

static int put_version(struct lw_store *st, MDB_txn *txn, struct lw_diag *diag)
{
	MDB_val k = {7, (void *)"version"}, v;
	uint8_t buf[4];
	int rc;

	rc = mdb_get(txn, st->meta, &k, &v);
	if (rc == MDB_SUCCESS) {
		if (v.mv_size != 4 || lw_store_le_get(v.mv_data, 4) != STORE_FORMAT)
			return lw_diag_set(diag, LW_ECORRUPT, NULL, 0, 0,
					   "store format version %llu not supported (this logward reads %d; export with the logward that wrote it)",
					   v.mv_size == 4 ? (unsigned long long)lw_store_le_get(v.mv_data, 4) : 0ull,
					   STORE_FORMAT);
		return LW_OK;
	}
	if (rc != MDB_NOTFOUND)
		return mdb_fail(diag, rc, "get version");
	if (st->readonly)
		return LW_OK; /* nothing committed yet */
	lw_store_le_put(buf, STORE_FORMAT, 4);
	v.mv_size = 4;
	v.mv_data = buf;
	rc = mdb_put(txn, st->meta, &k, &v, 0);
	return rc == MDB_SUCCESS ? LW_OK : mdb_fail(diag, rc, "put version");
}

/* --- event seqs ------------------------------------------------------ */

static const MDB_val seq_key = {3, (void *)"seq"};

/* The next event seq (events ever committed) in txn; *found = 0 when the
 * store predates seqs (then 0). */
static int seq_load(struct lw_store *st, MDB_txn *txn, uint64_t *seq,
		    int *found)
{
	MDB_val k = seq_key, v;
	int rc = mdb_get(txn, st->meta, &k, &v);

	*seq = 0;
	*found = 0;
	if (rc == MDB_NOTFOUND)
		return MDB_SUCCESS;
	if (rc != MDB_SUCCESS)
		return rc;
	if (v.mv_size != 8)
		return MDB_CORRUPTED;
	*seq = lw_store_le_get(v.mv_data, 8);
	*found = 1;
	return MDB_SUCCESS;
}

static int seq_store(struct lw_store *st, MDB_txn *txn, uint64_t seq)
{
	MDB_val k = seq_key, v;
	uint8_t buf[8];

	lw_store_le_put(buf, seq, 8);
	v.mv_size = 8;
	v.mv_data = buf;
	return mdb_put(txn, st->meta, &k, &v, 0);
}

/* seqidx entry of one segment: key = its last seq, so MDB_SET_RANGE on a
 * seq lands on the segment holding it. */
static int seq_index(struct lw_store *st, MDB_txn *txn, uint64_t id,
		     uint64_t first, uint32_t count)
{
	uint8_t key[8], val[16];
	MDB_val k = {8, key}, v = {16, val};

	if (count == 0)
		return MDB_SUCCESS;
	lw_store_be64(key, first + count - 1);
	lw_store_be64(val, id);
	lw_store_be64(val + 8, first);
	return mdb_put(txn, st->seqidx, &k, &v, MDB_APPEND);
}

/* A store written before seqs existed: number its events in segment
 * order (header counts) once, at the first writable open. */
static int seq_backfill(struct lw_store *st, MDB_txn *txn)
{
	MDB_cursor *cur;
	MDB_val k, v;
	uint64_t seq = 0;
	int found, rc;

	rc = seq_load(st, txn, &seq, &found);
	if (rc != MDB_SUCCESS || found)
		return rc;
	rc = mdb_cursor_open(txn, st->seg, &cur);
	if (rc != MDB_SUCCESS)
		return rc;
	rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	while (rc == MDB_SUCCESS) {
		struct lw_segment_header h;

		if (k.mv_size == 8 &&
		    lw_segment_header_parse(v.mv_data, v.mv_size, &h, NULL) == LW_OK) {
			rc = seq_index(st, txn, lw_store_rd_be64(k.mv_data), seq, h.count);
			if (rc != MDB_SUCCESS)
				break;
			seq += h.count;
		}
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	if (rc != MDB_NOTFOUND)
		return rc;
	return seq_store(st, txn, seq);
}

/* The databases added with incidents. Readonly on an older store: absent,
 * has_inc stays 0. */
static int open_inc_dbs(struct lw_store *st, MDB_txn *txn, unsigned flags)
{
	int rc;

	if ((rc = mdb_dbi_open(txn, "seqidx", flags, &st->seqidx)) != MDB_SUCCESS ||
	    (rc = mdb_dbi_open(txn, "incidents", flags, &st->inc)) != MDB_SUCCESS ||
	    (rc = mdb_dbi_open(txn, "incopen", flags, &st->inc_open)) != MDB_SUCCESS ||
	    (rc = mdb_dbi_open(txn, "incstatus", flags, &st->inc_status)) != MDB_SUCCESS ||
	    (rc = mdb_dbi_open(txn, "inctime", flags, &st->inc_time)) != MDB_SUCCESS)
		return rc == MDB_NOTFOUND && st->readonly ? MDB_SUCCESS : rc;
	st->has_inc = 1;
	return st->readonly ? MDB_SUCCESS : seq_backfill(st, txn);
}

/* The console's databases (store/users.h, audit.h, casework.h): created
 * at the first writable open, absent on an older store opened readonly. */
static int open_console_dbs(struct lw_store *st, MDB_txn *txn, unsigned flags)
{
	int rc;

	if ((rc = mdb_dbi_open(txn, "users", flags, &st->users)) != MDB_SUCCESS ||
	    (rc = mdb_dbi_open(txn, "tokens", flags, &st->tokens)) != MDB_SUCCESS ||
	    (rc = mdb_dbi_open(txn, "audit", flags, &st->audit)) != MDB_SUCCESS ||
	    (rc = mdb_dbi_open(txn, "casework", flags, &st->casework)) != MDB_SUCCESS)
		return rc == MDB_NOTFOUND && st->readonly ? MDB_SUCCESS : rc;
	st->has_console = 1;
	rc = mdb_dbi_open(txn, "origins", flags, &st->origins);
	if (rc != MDB_SUCCESS)
		return rc == MDB_NOTFOUND && st->readonly ? MDB_SUCCESS : rc;
	st->has_origins = 1;
	return MDB_SUCCESS;
}

void lw_store_lock_shared(struct lw_store *st)
{
	pthread_rwlock_rdlock(&st->map_lock);
}

void lw_store_unlock(struct lw_store *st)
{
	pthread_rwlock_unlock(&st->map_lock);
}

int lw_store_resize(struct lw_store *st, uint64_t size)
{
	int rc;

	pthread_rwlock_wrlock(&st->map_lock);
	rc = mdb_env_set_mapsize(st->env, size);
	pthread_rwlock_unlock(&st->map_lock);
	return rc;
}

int lw_store_begin_write(struct lw_store *st, MDB_txn **txn)
{
	int rc;

	lw_store_lock_shared(st);
	rc = mdb_txn_begin(st->env, NULL, 0, txn);
	if (rc == MDB_MAP_RESIZED) {
		lw_store_unlock(st);
		rc = lw_store_resize(st, 0);
		lw_store_lock_shared(st);
		if (rc == MDB_SUCCESS)
			rc = mdb_txn_begin(st->env, NULL, 0, txn);
	}
	if (rc != MDB_SUCCESS)
		lw_store_unlock(st);
	return rc;
}

int lw_store_write_txn(struct lw_store *st, lw_store_txn_fn fn, void *arg,
		       struct lw_diag *diag)
{
	MDB_txn *txn = NULL;
	int rc;

	if (st->readonly || !st->has_console)
		return lw_diag_set(diag, LW_EINVAL, NULL, 0, 0, "store opened readonly");
	rc = lw_store_begin_write(st, &txn);
	if (rc != MDB_SUCCESS)
		return lw_store_mdb_fail(diag, rc, "begin write");
	rc = fn(st, txn, arg, diag);
	if (rc != LW_OK) {
		mdb_txn_abort(txn);
		lw_store_unlock(st);
		return rc;
	}
	rc = mdb_txn_commit(txn);
	lw_store_unlock(st);
	return rc == MDB_SUCCESS ? LW_OK : lw_store_mdb_fail(diag, rc, "commit");
}

static int open_dbs(struct lw_store *st, struct lw_diag *diag)
{
	unsigned flags = st->readonly ? 0 : MDB_CREATE;
	MDB_txn *txn = NULL;
	int rc;

	rc = mdb_txn_begin(st->env, NULL, st->readonly ? MDB_RDONLY : 0, &txn);
	if (rc != MDB_SUCCESS)
		return mdb_fail(diag, rc, "begin");
	if ((rc = mdb_dbi_open(txn, "segments", flags, &st->seg)) != MDB_SUCCESS ||
	    (rc = mdb_dbi_open(txn, "segmeta", flags, &st->segmeta)) != MDB_SUCCESS ||
	    (rc = mdb_dbi_open(txn, "names", flags, &st->names)) != MDB_SUCCESS ||
	    (rc = mdb_dbi_open(txn, "meta", flags, &st->meta)) != MDB_SUCCESS) {
		if (rc == MDB_NOTFOUND)
			rc = lw_diag_set(diag, LW_ESTORE, NULL, 0, 0,
					 "not a logward store (no 'segments' database)");
		else
			rc = mdb_fail(diag, rc, "open database");
		goto fail;
	}
	rc = put_version(st, txn, diag);
	if (rc != LW_OK)
		goto fail;
	rc = open_inc_dbs(st, txn, flags);
	if (rc != MDB_SUCCESS) {
		rc = mdb_fail(diag, rc, "open incident databases");
		goto fail;
	}
	rc = open_console_dbs(st, txn, flags);
	if (rc != MDB_SUCCESS) {
		rc = mdb_fail(diag, rc, "open console databases");
		goto fail;
	}
	/* Committing (also a read txn) makes the handles usable by later
	 * transactions (mdb_dbi_open docs). */
	rc = mdb_txn_commit(txn);
	txn = NULL;
	if (rc != MDB_SUCCESS)
		return mdb_fail(diag, rc, "commit");
	return LW_OK;

fail:
	mdb_txn_abort(txn);
	return rc;
}

int lw_store_open(const char *dir, const struct lw_store_opts *opts,
		  struct lw_store **out, struct lw_diag *diag)
{
	struct lw_store *st;
	unsigned flags = MDB_NOTLS;
	uint64_t map = opts && opts->map_size ? opts->map_size : DEFAULT_MAP;
	int rc;

	*out = NULL;
	st = calloc(1, sizeof(*st));
	if (st == NULL)
		return LW_ENOMEM;
	st->readonly = opts ? opts->readonly : 0;
	st->key_fd = -1;
	pthread_rwlock_init(&st->map_lock, NULL);
	if (!st->readonly) {
		rc = make_dirs(dir, diag);
		if (rc != LW_OK)
			goto fail;
	} else {
		flags |= MDB_RDONLY;
	}
	rc = mdb_env_create(&st->env);
	if (rc == MDB_SUCCESS)
		rc = mdb_env_set_maxdbs(st->env, STORE_MAXDBS);
	/* A reader takes the writer's map size from the file (0 = as
	 * stored) so it never maps less than was written. */
	if (rc == MDB_SUCCESS && !st->readonly)
		rc = mdb_env_set_mapsize(st->env, map);
	if (rc != MDB_SUCCESS) {
		rc = mdb_fail(diag, rc, "env");
		goto fail;
	}
	/* Default durability (no MDB_NOSYNC/NOMETASYNC): a kill -9 or power
	 * loss keeps the last committed transaction intact. MDB_NOTLS:
	 * reader slots follow the txn, not the thread. */
	rc = mdb_env_open(st->env, dir, flags, 0640);
	if (rc != MDB_SUCCESS) {
		if (rc > 0) {
			char ebuf[128];

			lw_diag_set(diag, LW_EIO, NULL, 0, 0,
				    "cannot open store '%s': %s", dir, strerror_r(rc, ebuf, sizeof(ebuf)));
			if (diag != NULL)
				diag->sys_errno = rc;
			rc = LW_EIO;
		} else {
			rc = mdb_fail(diag, rc, "open");
		}
		goto fail;
	}
	rc = open_dbs(st, diag);
	if (rc == LW_OK && !st->readonly)
		rc = open_key(st, opts ? opts->integrity_key : NULL, diag);
	if (rc != LW_OK)
		goto fail;
	if (opts != NULL) {
		st->max_age_s = opts->max_age_s;
		st->max_bytes = opts->max_bytes;
		st->keep_unforwarded = opts->keep_unforwarded;
		st->retention_interval_ms = opts->retention_interval_ms;
	}
	if (st->retention_interval_ms == 0)
		st->retention_interval_ms = LW_STORE_RETENTION_INTERVAL_MS;
	*out = st;
	return LW_OK;

fail:
	lw_store_close(st);
	return rc;
}

void lw_store_close(struct lw_store *st)
{
	if (st == NULL)
		return;
	if (st->env != NULL)
		mdb_env_close(st->env);
	if (st->key_fd >= 0)
		close(st->key_fd);
	pthread_rwlock_destroy(&st->map_lock);
	free(st);
}

uint64_t lw_store_map_size(const struct lw_store *st)
{
	MDB_envinfo info;

	if (mdb_env_info(st->env, &info) != MDB_SUCCESS)
		return 0;
	return info.me_mapsize;
}

/* --- keyed chain ----------------------------------------------------- */

int lw_store_key_for(struct lw_store *st, uint64_t index,
		     struct lw_integrity_key *k, struct lw_diag *diag)
{
	int rc = lw_integrity_file_read(st->key_fd, k, diag);

	if (rc != LW_OK)
		return rc;
	if (k->index > index) {
		lw_integrity_key_wipe(k);
		return lw_diag_set(diag, LW_ECORRUPT, NULL, 0, 0,
				   "the key file is at segment %llu but the store's next segment is %llu: "
				   "the newest segments were removed (run logward verify --key)",
				   (unsigned long long)k->index, (unsigned long long)index);
	}
	rc = lw_integrity_ratchet_to(k, index);
	if (rc != LW_OK)
		lw_integrity_key_wipe(k);
	return rc;
}

/* A writer's open: the key file and meta "integrity" must agree, and a
 * key file left behind by a crash after a commit is ratcheted up to the
 * store (by segment index) before anything else is written. */
static int open_key(struct lw_store *st, const char *path, struct lw_diag *diag)
{
	struct lw_store_head h;
	struct lw_integrity_key k;
	MDB_txn *txn;
	int rc;

	rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn);
	if (rc != MDB_SUCCESS)
		return mdb_fail(diag, rc, "begin");
	rc = lw_store_head_load(st, txn, &h, diag);
	mdb_txn_abort(txn);
	if (rc != LW_OK)
		return rc;
	st->keyed_from = h.keyed_from;
	/* NULL: a writer of incidents only (ack/close) may open a keyed
	 * store; lw_store_commit refuses segments. "": a segment writer
	 * whose config names no key, told now rather than at each commit. */
	if (path == NULL)
		return LW_OK;
	if (path[0] == '\0') {
		if (h.keyed_from != 0)
			return lw_diag_set(diag, LW_EINVAL, NULL, 0, 0,
					   "the store is keyed (logward init-key): set storage.integrity_key to its key file");
		return LW_OK;
	}
	if (h.keyed_from == 0)
		return lw_diag_set(diag, LW_EINVAL, NULL, 0, 0,
				   "storage.integrity_key is set but the store was not made with logward init-key");
	rc = lw_integrity_file_open(path, &st->key_fd, diag);
	if (rc != LW_OK)
		return rc;
	/* The file first, then the head: another writer (serve, ingest)
	 * advances the file after each commit, so a head read before the
	 * file may be behind it by what was committed meanwhile. Read in
	 * this order the file is past the head + 1 only when segments were
	 * removed. */
	rc = lw_integrity_file_read(st->key_fd, &k, diag);
	if (rc != LW_OK)
		return rc;
	rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn);
	if (rc != MDB_SUCCESS) {
		lw_integrity_key_wipe(&k);
		return mdb_fail(diag, rc, "begin");
	}
	rc = lw_store_head_load(st, txn, &h, diag);
	mdb_txn_abort(txn);
	if (rc == LW_OK && k.index > h.last_id + 1)
		rc = lw_diag_set(diag, LW_ECORRUPT, NULL, 0, 0,
				 "the key file is at segment %llu but the store's next segment is %llu: "
				 "the newest segments were removed (run logward verify --key)",
				 (unsigned long long)k.index, (unsigned long long)h.last_id + 1);
	if (rc == LW_OK)
		rc = lw_integrity_ratchet_to(&k, h.last_id + 1);
	if (rc == LW_OK)
		rc = lw_integrity_file_advance(st->key_fd, &k, diag);
	lw_integrity_key_wipe(&k);
	return rc;
}

/* --- head record ------------------------------------------------------ */

static void head_encode(const struct lw_store_head *h, uint8_t out[HEAD_LEN])
{
	memset(out, 0, HEAD_LEN);
	lw_store_le_put(out, 1, 4);
	lw_store_le_put(out + 8, h->last_id, 8);
	memcpy(out + 16, h->chain, 32);
	lw_store_le_put(out + 48, h->segments, 8);
	lw_store_le_put(out + 56, h->events, 8);
	lw_store_le_put(out + 64, h->raw_bytes, 8);
	lw_store_le_put(out + 72, h->text_bytes, 8);
	lw_store_le_put(out + 80, h->stored_bytes, 8);
	lw_store_le_put(out + 88, (uint64_t)h->min_ts, 8);
	lw_store_le_put(out + 96, (uint64_t)h->max_ts, 8);
}

int lw_store_head_load(struct lw_store *st, MDB_txn *txn,
		       struct lw_store_head *h, struct lw_diag *diag)
{
	MDB_val k = {4, (void *)"head"}, v;
	MDB_val ck = {10, (void *)"checkpoint"}, ik = {9, (void *)"integrity"};
	const uint8_t *p;
	int rc;

	memset(h, 0, sizeof(*h));
	h->first_id = 1;
	rc = mdb_get(txn, st->meta, &k, &v);
	if (rc == MDB_SUCCESS) {
		if (v.mv_size != HEAD_LEN || lw_store_le_get(v.mv_data, 4) != 1)
			return lw_diag_set(diag, LW_ECORRUPT, NULL, 0, 0,
					   "bad chain head record in meta");
		p = v.mv_data;
		h->last_id = lw_store_le_get(p + 8, 8);
		memcpy(h->chain, p + 16, 32);
		h->segments = lw_store_le_get(p + 48, 8);
		h->events = lw_store_le_get(p + 56, 8);
		h->raw_bytes = lw_store_le_get(p + 64, 8);
		h->text_bytes = lw_store_le_get(p + 72, 8);
		h->stored_bytes = lw_store_le_get(p + 80, 8);
		h->min_ts = (int64_t)lw_store_le_get(p + 88, 8);
		h->max_ts = (int64_t)lw_store_le_get(p + 96, 8);
	} else if (rc != MDB_NOTFOUND) {
		return mdb_fail(diag, rc, "get head");
	}
	rc = mdb_get(txn, st->meta, &ck, &v);
	if (rc == MDB_SUCCESS) {
		if (lw_store_checkpoint_decode(v.mv_data, v.mv_size, &h->ckpt) != LW_OK)
			return lw_diag_set(diag, LW_ECORRUPT, NULL, 0, 0,
					   "bad checkpoint record in meta (%zu bytes)",
					   v.mv_size);
		h->has_checkpoint = 1;
		h->first_id = h->ckpt.first_id;
		memcpy(h->first_prev, h->ckpt.first_prev, 32);
	} else if (rc != MDB_NOTFOUND) {
		return mdb_fail(diag, rc, "get checkpoint");
	}
	rc = mdb_get(txn, st->meta, &ik, &v);
	if (rc == MDB_SUCCESS) {
		if (v.mv_size != 16 || lw_store_le_get(v.mv_data, 4) != 1 ||
		    lw_store_le_get((const uint8_t *)v.mv_data + 8, 8) == 0)
			return lw_diag_set(diag, LW_ECORRUPT, NULL, 0, 0,
					   "bad integrity record in meta");
		h->keyed_from = lw_store_le_get((const uint8_t *)v.mv_data + 8, 8);
	} else if (rc != MDB_NOTFOUND) {
		return mdb_fail(diag, rc, "get integrity");
	}
	return LW_OK;
}

int lw_store_head_put(struct lw_store *st, MDB_txn *txn,
		      const struct lw_store_head *h)
{
	MDB_val k = {4, (void *)"head"}, v;
	uint8_t buf[HEAD_LEN];

	head_encode(h, buf);
	v.mv_size = HEAD_LEN;
	v.mv_data = buf;
	return mdb_put(txn, st->meta, &k, &v, 0);
}

/* --- commit ----------------------------------------------------------- */

static int names_add(struct lw_store *st, MDB_txn *txn, uint8_t kind,
		     const struct lw_segment_meta *m,
		     enum lw_segment_meta_kind mk)
{
	struct lw_segment_meta_item it;
	uint8_t key[1 + LW_STORE_NAME_MAX], val[16];
	size_t pos = 0;
	int rc;

	while (lw_segment_meta_next(m, mk, &pos, &it)) {
		size_t n = it.name.len < LW_STORE_NAME_MAX ? it.name.len
							   : LW_STORE_NAME_MAX;
		MDB_val k = {1 + n, key}, v;
		uint64_t events = it.count, skew = it.skew;

		key[0] = kind;
		if (n)
			memcpy(key + 1, it.name.ptr, n);
		rc = mdb_get(txn, st->names, &k, &v);
		if (rc == MDB_SUCCESS && v.mv_size == 16) {
			events += lw_store_le_get(v.mv_data, 8);
			skew += lw_store_le_get((const uint8_t *)v.mv_data + 8, 8);
		} else if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND) {
			return rc;
		}
		lw_store_le_put(val, events, 8);
		lw_store_le_put(val + 8, skew, 8);
		v.mv_size = 16;
		v.mv_data = val;
		rc = mdb_put(txn, st->names, &k, &v, 0);
		if (rc != MDB_SUCCESS)
			return rc;
	}
	return MDB_SUCCESS;
}

/* Writes the sealed segment as id head->last_id + 1 and advances head.
 * Returns an LMDB code (MDB_SUCCESS, MDB_MAP_FULL ...) or, for a chain
 * computation failure, an lw_err (negative and below LMDB's range). */
static int write_segment(struct lw_store *st, MDB_txn *txn,
			 struct lw_segment_sealed *s, struct lw_store_head *head,
			 const struct lw_segment_meta *m, const uint8_t *chain_key)
{
	uint8_t key[8];
	MDB_val k = {8, key}, v;
	int rc;

	s->hdr.id = head->last_id + 1;
	s->hdr.flags = chain_key != NULL ? LW_SEGMENT_FLAG_KEYED : 0;
	memcpy(s->hdr.prev_chain, head->chain, 32);
	/* The chain covers the metadata record too (store/segment.h): it
	 * is what queries skip segments by. */
	rc = lw_segment_chain_keyed(&s->hdr, chain_key, s->meta, s->meta_len,
				    s->value + LW_SEGMENT_HEADER_LEN,
				    s->value_len - LW_SEGMENT_HEADER_LEN, s->hdr.chain);
	if (rc != LW_OK)
		return rc;
	lw_segment_header_write(&s->hdr, s->value);
	lw_store_be64(key, s->hdr.id);
	v.mv_size = s->value_len;
	v.mv_data = s->value;
	rc = mdb_put(txn, st->seg, &k, &v, MDB_APPEND);
	if (rc != MDB_SUCCESS)
		return rc;
	v.mv_size = s->meta_len;
	v.mv_data = (void *)s->meta;
	rc = mdb_put(txn, st->segmeta, &k, &v, MDB_APPEND);
	if (rc != MDB_SUCCESS)
		return rc;
	rc = names_add(st, txn, LW_STORE_HOST, m, LW_SEGMENT_META_HOST);
	if (rc == MDB_SUCCESS)
		rc = names_add(st, txn, LW_STORE_ZONE, m, LW_SEGMENT_META_ZONE);
	if (rc == MDB_SUCCESS)
		rc = names_add(st, txn, LW_STORE_APP, m, LW_SEGMENT_META_APP);
	if (rc != MDB_SUCCESS)
		return rc;
	if (head->segments == 0 || s->hdr.min_ts < head->min_ts)
		head->min_ts = s->hdr.min_ts;
	if (head->segments == 0 || s->hdr.max_ts > head->max_ts)
		head->max_ts = s->hdr.max_ts;
	head->last_id = s->hdr.id;
	memcpy(head->chain, s->hdr.chain, 32);
	head->segments++;
	head->events += s->hdr.count;
	head->raw_bytes += s->hdr.raw_size;
	head->text_bytes += s->text_bytes;
	head->stored_bytes += s->value_len;
	return MDB_SUCCESS;
}

#define CORRLOG_PREFIX "corrlog"
#define CORRLOG_KEY (sizeof(CORRLOG_PREFIX) - 1 + 8)

static void corrlog_key(uint8_t out[CORRLOG_KEY], uint64_t seq)
{
	memcpy(out, CORRLOG_PREFIX, CORRLOG_KEY - 8);
	lw_store_be64(out + CORRLOG_KEY - 8, seq);
}

static int is_corrlog(const MDB_val *k)
{
	return k->mv_size == CORRLOG_KEY &&
	       memcmp(k->mv_data, CORRLOG_PREFIX, CORRLOG_KEY - 8) == 0;
}

/* The change set, the deletion of the ones before keep_from, and of the
 * whole-state record of the format before the log. */
static int write_state_log(struct lw_store *st, MDB_txn *txn,
			   const struct lw_store_commit_extra *x)
{
	uint8_t key[CORRLOG_KEY], first[CORRLOG_KEY];
	MDB_val k = {CORRLOG_KEY, key}, v = {x->state_log_len, (void *)x->state_log};
	MDB_val legacy = {9, (void *)"corrstate"};
	MDB_cursor *cur;
	int rc;

	corrlog_key(key, x->state_log_seq);
	rc = mdb_put(txn, st->meta, &k, &v, 0);
	if (rc != MDB_SUCCESS)
		return rc;
	rc = mdb_del(txn, st->meta, &legacy, NULL);
	if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND)
		return rc;
	rc = mdb_cursor_open(txn, st->meta, &cur);
	if (rc != MDB_SUCCESS)
		return rc;
	corrlog_key(first, 0);
	k = (MDB_val){CORRLOG_KEY, first};
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	while (rc == MDB_SUCCESS && is_corrlog(&k) &&
	       lw_store_rd_be64((const uint8_t *)k.mv_data + CORRLOG_KEY - 8) <
	       x->state_log_keep_from) {
		rc = mdb_cursor_del(cur, 0);
		if (rc == MDB_SUCCESS)
			rc = mdb_cursor_get(cur, &k, &v, MDB_GET_CURRENT);
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND || rc == MDB_SUCCESS ? MDB_SUCCESS : rc;
}

/* Incidents, correlation state and counters of one commit, inside txn.
 * first is the seq the store gives the segment's first event. */
static int write_extra(struct lw_store *st, MDB_txn *txn,
		       const struct lw_store_commit_extra *x, uint64_t first,
		       struct lw_store_commit_result *res)
{
	MDB_val ck = {8, (void *)"counters"}, sk = {9, (void *)"corrstats"}, v;
	int rc;

	if (x->nraises > 0) {
		if (!st->has_inc)
			return MDB_INCOMPATIBLE;
		rc = lw_incidents_apply(st, txn, x->raises, x->nraises,
					x->first_seq, first, x->now_ns, res);
		if (rc != MDB_SUCCESS)
			return rc;
	}
	if (x->norigins > 0) {
		rc = lw_relay_origins_put(st, txn, x->origins, x->norigins);
		if (rc != MDB_SUCCESS)
			return rc;
	}
	if (x->state_log != NULL) {
		rc = write_state_log(st, txn, x);
		if (rc != MDB_SUCCESS)
			return rc;
	}
	if (x->corr_stats != NULL) {
		v.mv_size = x->corr_stats_len;
		v.mv_data = (void *)x->corr_stats;
		rc = mdb_put(txn, st->meta, &sk, &v, 0);
		if (rc != MDB_SUCCESS)
			return rc;
	}
	if (x->counters != NULL) {
		v.mv_size = x->counters_len;
		v.mv_data = (void *)x->counters;
		rc = mdb_put(txn, st->meta, &ck, &v, 0);
		if (rc != MDB_SUCCESS)
			return rc;
	}
	return MDB_SUCCESS;
}

static void result_reset(struct lw_store_commit_result *res)
{
	res->first_seq = 0;
	res->created = res->updated = 0;
	if (res->created_json != NULL)
		lw_buf_reset(res->created_json);
}

/* One attempt: the whole commit in one write txn. */
static int commit_txn(struct lw_store *st, struct lw_segment_sealed *s,
		      const struct lw_segment_meta *m,
		      const struct lw_store_commit_extra *x,
		      struct lw_store_commit_result *res, struct lw_diag *diag)
{
	struct lw_store_head head;
	struct lw_integrity_key key = {0};
	MDB_txn *txn = NULL;
	uint64_t seq;
	int found, rc, keyed = 0;

	result_reset(res);
	/* Another process (logward ingest) may have grown the map: then
	 * its size (0 = the size now in the environment) is adopted and the
	 * begin retried, or every later commit of ours would fail the same
	 * way. The caller holds no lock here; lw_store_begin_write takes it. */
	rc = lw_store_begin_write(st, &txn);
	if (rc != MDB_SUCCESS)
		return mdb_fail(diag, rc, "begin write");
	/* The head is read inside the txn, not cached: another process
	 * (logward ingest) may have committed since our last commit. */
	rc = lw_store_head_load(st, txn, &head, diag);
	if (rc != LW_OK)
		goto out;
	rc = seq_load(st, txn, &seq, &found);
	if (rc != MDB_SUCCESS)
		goto mdb_out;
	res->first_seq = seq;
	if (s != NULL && (head.keyed_from != 0) != (st->key_fd >= 0)) {
		rc = lw_diag_set(diag, LW_EINVAL, NULL, 0, 0, head.keyed_from != 0 ?
				 "the store is keyed (logward init-key): set storage.integrity_key to its key file" :
				 "storage.integrity_key is set but the store was not made with logward init-key");
		goto out;
	}
	if (s != NULL && st->key_fd >= 0) {
		/* Read inside the write txn, which serialises every writer
		 * process: K for exactly the id this segment gets. */
		rc = lw_store_key_for(st, head.last_id + 1, &key, diag);
		if (rc != LW_OK)
			goto out;
		keyed = 1;
	}
	if (s != NULL) {
		rc = write_segment(st, txn, s, &head, m, keyed ? key.key : NULL);
		if (rc == MDB_KEYEXIST) {
			rc = lw_diag_set(diag, LW_ECORRUPT, NULL, 0, 0,
					 "segment %llu already exists: chain head is behind the segments database",
					 (unsigned long long)head.last_id + 1);
			goto out;
		}
		if (rc < 0 && rc >= LW_ECOMPRESS) /* an lw_err from hashing */
			goto out;
		if (rc != MDB_SUCCESS)
			goto mdb_out;
		rc = lw_store_head_put(st, txn, &head);
		if (rc == MDB_SUCCESS && st->has_inc)
			rc = seq_index(st, txn, s->hdr.id, seq, s->hdr.count);
		if (rc == MDB_SUCCESS)
			rc = seq_store(st, txn, seq + s->hdr.count);
		if (rc != MDB_SUCCESS)
			goto mdb_out;
	}
	rc = write_extra(st, txn, x, seq, res);
	if (rc != MDB_SUCCESS)
		goto mdb_out;
	rc = mdb_txn_commit(txn);
	txn = NULL;
	lw_store_unlock(st);
	if (rc != MDB_SUCCESS)
		goto mdb_out;
	if (s != NULL)
		st->committed_stored_bytes = head.stored_bytes;
	if (keyed) {
		/* Only after the commit: a key file ahead of the store could
		 * never chain the segment that failed. A crash (or a failed
		 * write) here leaves the file behind, and the next commit or
		 * open ratchets forward by index; the segment is stored
		 * either way, so this is not the commit's error. */
		if (lw_integrity_ratchet(&key) == LW_OK)
			lw_integrity_file_advance(st->key_fd, &key, NULL);
		lw_integrity_key_wipe(&key);
	}
	return LW_OK;

mdb_out:
	rc = mdb_fail(diag, rc, "commit");
out:
	lw_integrity_key_wipe(&key);
	if (txn != NULL) {
		mdb_txn_abort(txn);
		lw_store_unlock(st);
	}
	return rc;
}

int lw_store_commit(struct lw_store *st, struct lw_segment_builder *b,
		    const void *counters_snapshot, size_t snapshot_len,
		    struct lw_diag *diag)
{
	struct lw_store_commit_extra x = {0};

	x.counters = counters_snapshot;
	x.counters_len = snapshot_len;
	return lw_store_commit_ex(st, b, &x, NULL, diag);
}

int lw_store_commit_ex(struct lw_store *st, struct lw_segment_builder *b,
		       const struct lw_store_commit_extra *x,
		       struct lw_store_commit_result *res, struct lw_diag *diag)
{
	struct lw_segment_sealed sealed, *s = NULL;
	struct lw_segment_meta m = {0};
	struct lw_store_commit_result dummy = {0};
	uint64_t need = 0;
	int rc;

	if (res == NULL)
		res = &dummy;
	if (st->readonly)
		return lw_diag_set(diag, LW_EINVAL, NULL, 0, 0,
				   "store opened readonly");
	if (b != NULL && lw_segment_builder_count(b) > 0) {
		/* Compression runs before the write txn begins, so the
		 * txn (and the writer lock) is held only for the puts. */
		rc = lw_segment_builder_seal(b, &sealed, diag);
		if (rc != LW_OK)
			return rc;
		rc = lw_segment_meta_parse(sealed.meta, sealed.meta_len, &m);
		if (rc != LW_OK)
			return lw_diag_set(diag, rc, NULL, 0, 0, "bad metadata record");
		s = &sealed;
		need = 2 * (s->value_len + s->meta_len);
	}
	rc = commit_txn(st, s, &m, x, res, diag);
	if (rc == LW_EFULL) {
		/* Grow between transactions and retry once: lw_store_resize
		 * waits until no other thread of this process (the console)
		 * is inside a transaction. Double, and at least twice this
		 * commit's bytes for overflow pages. */
		uint64_t cur = lw_store_map_size(st);
		uint64_t next = cur * 2 > cur + need ? cur * 2 : cur + need;
		int mrc = lw_store_resize(st, next);

		if (mrc != MDB_SUCCESS)
			return mdb_fail(diag, mrc, "grow map");
		rc = commit_txn(st, s, &m, x, res, diag);
	}
	if (rc == LW_OK && b != NULL)
		lw_segment_builder_reset(b);
	return rc;
}

/* --- readers ---------------------------------------------------------- */

/* Begins (or renews) the reader's txn. A writer that grew the map makes
 * LMDB return MDB_MAP_RESIZED: adopt the new size and retry. */
static int reader_live(struct lw_store_reader *rd, struct lw_diag *diag)
{
	int rc;

	if (rd->active)
		return LW_OK;
	/* An active snapshot holds the map lock shared (reset and close
	 * release it), so no thread of this process remaps under it. */
	lw_store_lock_shared(rd->st);
	if (rd->txn != NULL) {
		rc = mdb_txn_renew(rd->txn);
		if (rc == MDB_SUCCESS) {
			rd->active = 1;
			return LW_OK;
		}
		mdb_txn_abort(rd->txn);
		rd->txn = NULL;
		if (rc != MDB_MAP_RESIZED) {
			lw_store_unlock(rd->st);
			return mdb_fail(diag, rc, "renew");
		}
	}
	for (int tries = 0; tries < 2; tries++) {
		rc = mdb_txn_begin(rd->st->env, NULL, MDB_RDONLY, &rd->txn);
		if (rc != MDB_MAP_RESIZED)
			break;
		rd->txn = NULL;
		lw_store_unlock(rd->st);
		lw_store_resize(rd->st, 0);
		lw_store_lock_shared(rd->st);
	}
	if (rc != MDB_SUCCESS) {
		rd->txn = NULL;
		lw_store_unlock(rd->st);
		return mdb_fail(diag, rc, "begin read");
	}
	rd->active = 1;
	return LW_OK;
}

int lw_store_reader_open(struct lw_store *st, struct lw_store_reader **out,
			 struct lw_diag *diag)
{
	struct lw_store_reader *rd;
	int rc;

	*out = NULL;
	rd = calloc(1, sizeof(*rd));
	if (rd == NULL)
		return LW_ENOMEM;
	rd->st = st;
	rc = reader_live(rd, diag);
	if (rc != LW_OK) {
		free(rd);
		return rc;
	}
	*out = rd;
	return LW_OK;
}

void lw_store_reader_close(struct lw_store_reader *rd)
{
	if (rd == NULL)
		return;
	if (rd->txn != NULL)
		mdb_txn_abort(rd->txn);
	if (rd->active)
		lw_store_unlock(rd->st);
	free(rd);
}

void lw_store_reader_reset(struct lw_store_reader *rd)
{
	if (rd->active) {
		mdb_txn_reset(rd->txn);
		lw_store_unlock(rd->st);
	}
	rd->active = 0;
}

int lw_store_reader_head(struct lw_store_reader *rd, struct lw_store_head *out,
			 struct lw_diag *diag)
{
	int rc = reader_live(rd, diag);

	if (rc != LW_OK)
		return rc;
	return lw_store_head_load(rd->st, rd->txn, out, diag);
}

static int next_in(struct lw_store_reader *rd, MDB_dbi dbi, uint64_t after,
		   uint64_t *id, const void **val, size_t *len,
		   struct lw_diag *diag)
{
	uint8_t key[8];
	MDB_val k = {8, key}, v;
	MDB_cursor *cur;
	int rc;

	if (after == UINT64_MAX)
		return LW_ENOTFOUND;
	rc = reader_live(rd, diag);
	if (rc != LW_OK)
		return rc;
	rc = mdb_cursor_open(rd->txn, dbi, &cur);
	if (rc != MDB_SUCCESS)
		return mdb_fail(diag, rc, "cursor");
	lw_store_be64(key, after + 1);
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	mdb_cursor_close(cur);
	if (rc == MDB_NOTFOUND)
		return LW_ENOTFOUND;
	if (rc != MDB_SUCCESS)
		return mdb_fail(diag, rc, "cursor get");
	if (k.mv_size != 8)
		return lw_diag_set(diag, LW_ECORRUPT, NULL, 0, 0,
				   "segment key of %zu bytes", k.mv_size);
	*id = lw_store_rd_be64(k.mv_data);
	*val = v.mv_data;
	*len = v.mv_size;
	return LW_OK;
}

static int get_in(struct lw_store_reader *rd, MDB_dbi dbi, uint64_t id,
		  const void **val, size_t *len, struct lw_diag *diag)
{
	uint8_t key[8];
	MDB_val k = {8, key}, v;
	int rc = reader_live(rd, diag);

	if (rc != LW_OK)
		return rc;
	lw_store_be64(key, id);
	rc = mdb_get(rd->txn, dbi, &k, &v);
	if (rc == MDB_NOTFOUND)
		return LW_ENOTFOUND;
	if (rc != MDB_SUCCESS)
		return mdb_fail(diag, rc, "get");
	*val = v.mv_data;
	*len = v.mv_size;
	return LW_OK;
}

int lw_store_reader_prev_meta(struct lw_store_reader *rd, uint64_t before,
			      uint64_t *id, const void **rec, size_t *len,
			      struct lw_diag *diag)
{
	uint8_t key[8];
	MDB_val k = {8, key}, v;
	MDB_cursor *cur;
	int rc;

	if (before == 0)
		return LW_ENOTFOUND;
	rc = reader_live(rd, diag);
	if (rc != LW_OK)
		return rc;
	rc = mdb_cursor_open(rd->txn, rd->st->segmeta, &cur);
	if (rc != MDB_SUCCESS)
		return mdb_fail(diag, rc, "cursor");
	/* the first key >= before, then one back; none >= before: the last */
	lw_store_be64(key, before);
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	if (rc == MDB_SUCCESS)
		rc = mdb_cursor_get(cur, &k, &v, MDB_PREV);
	else if (rc == MDB_NOTFOUND)
		rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	mdb_cursor_close(cur);
	if (rc == MDB_NOTFOUND)
		return LW_ENOTFOUND;
	if (rc != MDB_SUCCESS)
		return mdb_fail(diag, rc, "cursor get");
	if (k.mv_size != 8)
		return lw_diag_set(diag, LW_ECORRUPT, NULL, 0, 0,
				   "segment key of %zu bytes", k.mv_size);
	*id = lw_store_rd_be64(k.mv_data);
	*rec = v.mv_data;
	*len = v.mv_size;
	return LW_OK;
}

int lw_store_reader_next_meta(struct lw_store_reader *rd, uint64_t after,
			      uint64_t *id, const void **rec, size_t *len,
			      struct lw_diag *diag)
{
	return next_in(rd, rd->st->segmeta, after, id, rec, len, diag);
}

int lw_store_reader_next_segment(struct lw_store_reader *rd, uint64_t after,
				 uint64_t *id, const void **val, size_t *len,
				 struct lw_diag *diag)
{
	return next_in(rd, rd->st->seg, after, id, val, len, diag);
}

int lw_store_reader_get_segment(struct lw_store_reader *rd, uint64_t id,
				const void **val, size_t *len,
				struct lw_diag *diag)
{
	return get_in(rd, rd->st->seg, id, val, len, diag);
}

int lw_store_reader_get_meta(struct lw_store_reader *rd, uint64_t id,
			     const void **rec, size_t *len,
			     struct lw_diag *diag)
{
	return get_in(rd, rd->st->segmeta, id, rec, len, diag);
}

int lw_store_reader_names(struct lw_store_reader *rd, lw_store_name_cb cb,
			  void *arg, struct lw_diag *diag)
{
	static const uint8_t order[3] = {LW_STORE_HOST, LW_STORE_ZONE, LW_STORE_APP};
	MDB_cursor *cur = NULL;
	int rc = reader_live(rd, diag);

	if (rc != LW_OK)
		return rc;
	rc = mdb_cursor_open(rd->txn, rd->st->names, &cur);
	if (rc != MDB_SUCCESS)
		return mdb_fail(diag, rc, "cursor");
	for (int i = 0; i < 3; i++) {
		uint8_t kind = order[i];
		MDB_val k = {1, &kind}, v;

		rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
		while (rc == MDB_SUCCESS && k.mv_size >= 1 &&
		       ((const uint8_t *)k.mv_data)[0] == kind) {
			struct lw_str name = {(const char *)k.mv_data + 1,
					      (uint32_t)(k.mv_size - 1)};

			if (v.mv_size == 16) {
				int crc = cb((enum lw_store_name_kind)kind, name,
					     lw_store_le_get(v.mv_data, 8),
					     lw_store_le_get((const uint8_t *)v.mv_data + 8, 8),
					     arg);
				if (crc != 0) {
					mdb_cursor_close(cur);
					return crc;
				}
			}
			rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
		}
		if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND) {
			mdb_cursor_close(cur);
			return mdb_fail(diag, rc, "cursor get");
		}
	}
	mdb_cursor_close(cur);
	return LW_OK;
}

/* The meta record `key` into out (reset first; empty when absent). */
static int reader_meta(struct lw_store_reader *rd, const char *key,
		       struct lw_buf *out, struct lw_diag *diag)
{
	MDB_val k = {strlen(key), (void *)key}, v;
	int rc = reader_live(rd, diag);

	lw_buf_reset(out);
	if (rc != LW_OK)
		return rc;
	rc = mdb_get(rd->txn, rd->st->meta, &k, &v);
	if (rc == MDB_NOTFOUND)
		return LW_OK;
	if (rc != MDB_SUCCESS)
		return mdb_fail(diag, rc, "get meta record");
	lw_buf_append(out, v.mv_data, v.mv_size);
	return out->oom ? LW_ENOMEM : LW_OK;
}

int lw_store_reader_counters(struct lw_store_reader *rd, struct lw_buf *out,
			     struct lw_diag *diag)
{
	return reader_meta(rd, "counters", out, diag);
}

int lw_store_reader_corr_stats(struct lw_store_reader *rd, struct lw_buf *out,
			       struct lw_diag *diag)
{
	return reader_meta(rd, "corrstats", out, diag);
}

/* One reader's get, in a read transaction of its own. */
static int load_with_reader(struct lw_store *st,
			    int (*get)(struct lw_store_reader *, struct lw_buf *,
				       struct lw_diag *),
			    struct lw_buf *out, struct lw_diag *diag)
{
	struct lw_store_reader *rd;
	int rc;

	lw_buf_reset(out);
	rc = lw_store_reader_open(st, &rd, diag);
	if (rc != LW_OK)
		return rc;
	rc = get(rd, out, diag);
	lw_store_reader_close(rd);
	return rc;
}

int lw_store_load_corr_stats(struct lw_store *st, struct lw_buf *out,
			     struct lw_diag *diag)
{
	return load_with_reader(st, lw_store_reader_corr_stats, out, diag);
}

int lw_store_load_counters(struct lw_store *st, struct lw_buf *out,
			   struct lw_diag *diag)
{
	return load_with_reader(st, lw_store_reader_counters, out, diag);
}

/* --- event seqs, correlation state ------------------------------------ */

int lw_store_reader_txn(struct lw_store_reader *rd, MDB_txn **txn,
			struct lw_diag *diag)
{
	int rc = reader_live(rd, diag);

	*txn = rc == LW_OK ? rd->txn : NULL;
	return rc;
}

int lw_store_reader_find_seq(struct lw_store_reader *rd, uint64_t seq,
			     uint64_t *segment_id, uint32_t *index,
			     struct lw_diag *diag)
{
	uint8_t key[8];
	MDB_val k = {8, key}, v;
	MDB_cursor *cur;
	uint64_t first;
	int rc = reader_live(rd, diag);

	if (rc != LW_OK)
		return rc;
	if (!rd->st->has_inc)
		return LW_ENOTFOUND;
	rc = mdb_cursor_open(rd->txn, rd->st->seqidx, &cur);
	if (rc != MDB_SUCCESS)
		return mdb_fail(diag, rc, "cursor");
	lw_store_be64(key, seq);
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	mdb_cursor_close(cur);
	if (rc == MDB_NOTFOUND)
		return LW_ENOTFOUND;
	if (rc != MDB_SUCCESS)
		return mdb_fail(diag, rc, "cursor get");
	if (k.mv_size != 8 || v.mv_size != 16)
		return lw_diag_set(diag, LW_ECORRUPT, NULL, 0, 0,
				   "bad seqidx record");
	first = lw_store_rd_be64((const uint8_t *)v.mv_data + 8);
	/* Below the segment's first seq: the segment that held it is gone
	 * (retention). Past UINT32_MAX events: not a segment of ours. */
	if (seq < first || seq - first > UINT32_MAX)
		return LW_ENOTFOUND;
	*segment_id = lw_store_rd_be64(v.mv_data);
	*index = (uint32_t)(seq - first);
	return LW_OK;
}

int lw_store_events_total(struct lw_store *st, uint64_t *out,
			  struct lw_diag *diag)
{
	struct lw_store_reader *rd;
	uint64_t seq;
	int found, rc;

	*out = 0;
	rc = lw_store_reader_open(st, &rd, diag);
	if (rc != LW_OK)
		return rc;
	rc = seq_load(st, rd->txn, &seq, &found);
	if (rc == MDB_SUCCESS && !found) {
		/* Readonly on a store that predates seqs: the head's total. */
		struct lw_store_head h;

		rc = lw_store_head_load(st, rd->txn, &h, diag);
		lw_store_reader_close(rd);
		*out = rc == LW_OK ? h.events : 0;
		return rc;
	}
	lw_store_reader_close(rd);
	if (rc != MDB_SUCCESS)
		return mdb_fail(diag, rc, "get seq");
	*out = seq;
	return LW_OK;
}

int lw_store_load_state_log(struct lw_store *st,
			    int (*cb)(void *arg, uint64_t seq, const void *data,
				      size_t len),
			    void *arg, int *legacy, struct lw_diag *diag)
{
	uint8_t first[CORRLOG_KEY];
	MDB_val k = {9, (void *)"corrstate"}, v;
	struct lw_store_reader *rd;
	MDB_cursor *cur;
	int rc, ret = LW_OK;

	*legacy = 0;
	rc = lw_store_reader_open(st, &rd, diag);
	if (rc != LW_OK)
		return rc;
	*legacy = mdb_get(rd->txn, st->meta, &k, &v) == MDB_SUCCESS;
	rc = mdb_cursor_open(rd->txn, st->meta, &cur);
	if (rc != MDB_SUCCESS) {
		lw_store_reader_close(rd);
		return mdb_fail(diag, rc, "cursor");
	}
	corrlog_key(first, 0);
	k = (MDB_val){CORRLOG_KEY, first};
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	     rc == MDB_SUCCESS && is_corrlog(&k) && ret == LW_OK;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
		ret = cb(arg, lw_store_rd_be64((const uint8_t *)k.mv_data + CORRLOG_KEY - 8),
			 v.mv_data, v.mv_size);
	mdb_cursor_close(cur);
	lw_store_reader_close(rd);
	if (ret != LW_OK)
		return ret;
	if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND)
		return mdb_fail(diag, rc, "walk corrlog");
	return LW_OK;
}
