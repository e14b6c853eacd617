/* lw_users: console users and API tokens in the store's `users` and
 * `tokens` databases (records framed by store/rec.h). */
#include "store/users.h"

#include <stdio.h>
#include <string.h>

#include "core/utf8.h"
#include "store/rec.h"
#include "store/store_int.h"

static const char USER_MAGIC[4] = {'L', 'W', 'U', 'S'};
static const char TOKEN_MAGIC[4] = {'L', 'W', 'T', 'K'};
#define REC_VERSION 1

static const char *const role_names[] = {"none", "viewer", "operator", "admin"};

const char *lw_users_role_name(enum lw_role r)
{
	return (unsigned)r <= LW_ROLE_ADMIN ? role_names[r] : "none";
}

enum lw_role lw_users_role_parse(const char *s)
{
	for (int r = LW_ROLE_VIEWER; r <= LW_ROLE_ADMIN; r++)
		if (strcmp(s, role_names[r]) == 0)
			return (enum lw_role)r;
	return LW_ROLE_NONE;
}

int lw_users_name_check(const char *name, struct lw_diag *diag)
{
	size_t n = strlen(name);

	if (n == 0 || n > LW_USERS_NAME_MAX)
		return lw_diag_set(diag, LW_EINVAL, NULL, 0, 0,
				   "a name has 1 to %d bytes", LW_USERS_NAME_MAX);
	if (!lw_utf8_valid(name, n))
		return lw_diag_set(diag, LW_EINVAL, NULL, 0, 0, "a name must be UTF-8");
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c <= ' ' || c == 0x7f || c == ':')
			return lw_diag_set(diag, LW_EINVAL, NULL, 0, 0,
					   "a name holds no spaces, control characters or ':'");
	}
	return LW_OK;
}

static void user_encode(const struct lw_user *u, struct lw_buf *out)
{
	size_t start = lw_rec_begin(out, USER_MAGIC, REC_VERSION);

	lw_rec_u8(out, (uint8_t)u->role);
	lw_rec_u8(out, u->disabled ? 1 : 0);
	lw_rec_u64(out, (uint64_t)u->created_ns);
	lw_rec_u64(out, (uint64_t)u->updated_ns);
	lw_rec_str(out, u->hash, strlen(u->hash), LW_SECRET_HASH_MAX - 1);
	lw_rec_seal(out, start);
}

static int user_decode(const void *key, size_t klen, const void *rec, size_t len,
		       struct lw_user *u)
{
	struct lw_rec_cursor c;
	struct lw_str h;

	memset(u, 0, sizeof(*u));
	if (klen == 0 || klen > LW_USERS_NAME_MAX ||
	    lw_rec_open(rec, len, USER_MAGIC, REC_VERSION, &c) != LW_OK)
		return LW_ECORRUPT;
	memcpy(u->name, key, klen);
	u->role = (enum lw_role)lw_rec_take(&c, 1);
	u->disabled = (int)lw_rec_take(&c, 1);
	u->created_ns = (int64_t)lw_rec_take(&c, 8);
	u->updated_ns = (int64_t)lw_rec_take(&c, 8);
	h = lw_rec_take_str(&c, LW_SECRET_HASH_MAX - 1);
	if (lw_rec_close(&c) != LW_OK || u->role < LW_ROLE_VIEWER ||
	    u->role > LW_ROLE_ADMIN || u->disabled > 1)
		return LW_ECORRUPT;
	memcpy(u->hash, h.ptr, h.len);
	return LW_OK;
}

struct user_put {
	const struct lw_user *u;
	int create;
};

static int user_put_txn(struct lw_store *st, MDB_txn *txn, void *arg,
			struct lw_diag *diag)
{
	struct user_put *a = arg;
	MDB_val k = {strlen(a->u->name), (void *)a->u->name}, v;
	struct lw_buf rec;
	int rc = mdb_get(txn, st->users, &k, &v);

	if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND)
		return lw_store_mdb_fail(diag, rc, "get user");
	if (a->create && rc == MDB_SUCCESS)
		return lw_diag_set(diag, LW_EINVAL, NULL, 0, 0, "user '%s' exists", a->u->name);
	if (!a->create && rc == MDB_NOTFOUND)
		return lw_diag_set(diag, LW_ENOTFOUND, NULL, 0, 0, "no user '%s'", a->u->name);
	lw_buf_init(&rec);
	user_encode(a->u, &rec);
	if (rec.oom) {
		lw_buf_release(&rec);
		return LW_ENOMEM;
	}
	v.mv_size = rec.len;
	v.mv_data = rec.data;
	rc = mdb_put(txn, st->users, &k, &v, 0);
	lw_buf_release(&rec);
	return rc == MDB_SUCCESS ? LW_OK : lw_store_mdb_fail(diag, rc, "put user");
}

int lw_users_put(struct lw_store *st, const struct lw_user *u, int create,
		 struct lw_diag *diag)
{
	struct user_put a = {u, create};
	int rc = lw_users_name_check(u->name, diag);

	if (rc != LW_OK)
		return rc;
	if (u->role < LW_ROLE_VIEWER || u->role > LW_ROLE_ADMIN)
		return lw_diag_set(diag, LW_EINVAL, NULL, 0, 0,
				   "a role is viewer, operator or admin");
	return lw_store_write_txn(st, user_put_txn, &a, diag);
}

int lw_users_get(struct lw_store_reader *rd, const char *name, struct lw_user *out,
		 struct lw_diag *diag)
{
	MDB_txn *txn;
	MDB_val k = {strlen(name), (void *)name}, v;
	int rc = lw_store_reader_txn(rd, &txn, diag);

	memset(out, 0, sizeof(*out));
	if (rc != LW_OK)
		return rc;
	if (!rd->st->has_console || k.mv_size == 0 || k.mv_size > LW_USERS_NAME_MAX)
		return LW_ENOTFOUND;
	rc = mdb_get(txn, rd->st->users, &k, &v);
	if (rc == MDB_NOTFOUND)
		return LW_ENOTFOUND;
	if (rc != MDB_SUCCESS)
		return lw_store_mdb_fail(diag, rc, "get user");
	return user_decode(k.mv_data, k.mv_size, v.mv_data, v.mv_size, out);
}

/* Calls each(key, value) for every entry of dbi; non-zero stops. */
static int walk(struct lw_store_reader *rd, MDB_dbi dbi,
		int (*each)(const MDB_val *k, const MDB_val *v, void *arg), void *arg,
		struct lw_diag *diag)
{
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k, v;
	int rc = lw_store_reader_txn(rd, &txn, diag);

	if (rc != LW_OK || !rd->st->has_console)
		return rc;
	rc = mdb_cursor_open(txn, dbi, &cur);
	if (rc != MDB_SUCCESS)
		return lw_store_mdb_fail(diag, rc, "cursor");
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == MDB_SUCCESS;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		int r = each(&k, &v, arg);

		if (r != 0) {
			mdb_cursor_close(cur);
			return r;
		}
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? LW_OK : lw_store_mdb_fail(diag, rc, "walk");
}

struct user_walk {
	lw_users_cb cb;
	void *arg;
};

static int user_each(const MDB_val *k, const MDB_val *v, void *arg)
{
	struct user_walk *w = arg;
	struct lw_user u;

	if (user_decode(k->mv_data, k->mv_size, v->mv_data, v->mv_size, &u) != LW_OK)
		return 0;
	return w->cb(&u, w->arg);
}

int lw_users_list(struct lw_store_reader *rd, lw_users_cb cb, void *arg,
		  struct lw_diag *diag)
{
	struct user_walk w = {cb, arg};

	return walk(rd, rd->st->users, user_each, &w, diag);
}

/* --- tokens ------------------------------------------------------------ */

static void token_encode(const struct lw_token *t, struct lw_buf *out)
{
	size_t start = lw_rec_begin(out, TOKEN_MAGIC, REC_VERSION);

	lw_rec_u8(out, (uint8_t)t->role);
	lw_rec_u8(out, t->revoked ? 1 : 0);
	lw_rec_u64(out, (uint64_t)t->created_ns);
	lw_rec_u64(out, (uint64_t)t->revoked_ns);
	lw_rec_str(out, t->name, strlen(t->name), LW_USERS_NAME_MAX);
	lw_rec_str(out, t->created_by, strlen(t->created_by), LW_USERS_NAME_MAX);
	lw_rec_seal(out, start);
}

static int token_decode(const MDB_val *k, const MDB_val *v, struct lw_token *t)
{
	struct lw_rec_cursor c;
	struct lw_str name, by;

	memset(t, 0, sizeof(*t));
	if (k->mv_size != LW_SHA256_LEN ||
	    lw_rec_open(v->mv_data, v->mv_size, TOKEN_MAGIC, REC_VERSION, &c) != LW_OK)
		return LW_ECORRUPT;
	memcpy(t->hash, k->mv_data, LW_SHA256_LEN);
	t->role = (enum lw_role)lw_rec_take(&c, 1);
	t->revoked = (int)lw_rec_take(&c, 1);
	t->created_ns = (int64_t)lw_rec_take(&c, 8);
	t->revoked_ns = (int64_t)lw_rec_take(&c, 8);
	name = lw_rec_take_str(&c, LW_USERS_NAME_MAX);
	by = lw_rec_take_str(&c, LW_USERS_NAME_MAX);
	if (lw_rec_close(&c) != LW_OK || t->role < LW_ROLE_VIEWER ||
	    t->role > LW_ROLE_ADMIN || t->revoked > 1)
		return LW_ECORRUPT;
	memcpy(t->name, name.ptr, name.len);
	memcpy(t->created_by, by.ptr, by.len);
	return LW_OK;
}

static int put_token(struct lw_store *st, MDB_txn *txn, const struct lw_token *t,
		     struct lw_diag *diag)
{
	MDB_val k = {LW_SHA256_LEN, (void *)t->hash}, v;
	struct lw_buf rec;
	int rc;

	lw_buf_init(&rec);
	token_encode(t, &rec);
	if (rec.oom) {
		lw_buf_release(&rec);
		return LW_ENOMEM;
	}
	v.mv_size = rec.len;
	v.mv_data = rec.data;
	rc = mdb_put(txn, st->tokens, &k, &v, 0);
	lw_buf_release(&rec);
	return rc == MDB_SUCCESS ? LW_OK : lw_store_mdb_fail(diag, rc, "put token");
}

/* The unrevoked token named name, found by walking (a handful of tokens). */
static int find_named(struct lw_store *st, MDB_txn *txn, const char *name,
		      struct lw_token *out, struct lw_diag *diag)
{
	MDB_cursor *cur;
	MDB_val k, v;
	int rc = mdb_cursor_open(txn, st->tokens, &cur);

	if (rc != MDB_SUCCESS)
		return lw_store_mdb_fail(diag, rc, "cursor");
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == MDB_SUCCESS;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (token_decode(&k, &v, out) == LW_OK && !out->revoked &&
		    strcmp(out->name, name) == 0) {
			mdb_cursor_close(cur);
			return LW_OK;
		}
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? LW_ENOTFOUND : lw_store_mdb_fail(diag, rc, "walk");
}

static int token_add_txn(struct lw_store *st, MDB_txn *txn, void *arg,
			 struct lw_diag *diag)
{
	struct lw_token *t = arg, old;
	int rc = find_named(st, txn, t->name, &old, diag);

	if (rc == LW_OK)
		return lw_diag_set(diag, LW_EINVAL, NULL, 0, 0, "token '%s' exists", t->name);
	if (rc != LW_ENOTFOUND)
		return rc;
	return put_token(st, txn, t, diag);
}

int lw_tokens_add(struct lw_store *st, const char *name, enum lw_role role,
		  const char *created_by, int64_t now_ns, char text[LW_TOKEN_TEXT_LEN],
		  struct lw_diag *diag)
{
	struct lw_token t;
	uint8_t raw[32];
	int rc = lw_users_name_check(name, diag);

	text[0] = '\0';
	if (rc != LW_OK)
		return rc;
	if (role < LW_ROLE_VIEWER || role > LW_ROLE_ADMIN)
		return lw_diag_set(diag, LW_EINVAL, NULL, 0, 0,
				   "a role is viewer, operator or admin");
	if (lw_secret_random(raw, sizeof(raw)) != LW_OK)
		return lw_diag_set(diag, LW_EIO, NULL, 0, 0, "no randomness");
	memset(&t, 0, sizeof(t));
	snprintf(t.name, sizeof(t.name), "%s", name);
	snprintf(t.created_by, sizeof(t.created_by), "%s", created_by ? created_by : "");
	t.role = role;
	t.created_ns = now_ns;
	memcpy(text, LW_TOKEN_PREFIX, 4);
	lw_secret_b64url(raw, sizeof(raw), text + 4);
	if (lw_sha256(text, strlen(text), t.hash) != LW_OK)
		return LW_ENOMEM;
	rc = lw_store_write_txn(st, token_add_txn, &t, diag);
	if (rc != LW_OK)
		text[0] = '\0';
	return rc;
}

int lw_tokens_find(struct lw_store_reader *rd, const char *text, size_t len,
		   struct lw_token *out, struct lw_diag *diag)
{
	uint8_t hash[LW_SHA256_LEN];
	MDB_txn *txn;
	MDB_val k = {LW_SHA256_LEN, hash}, v;
	int rc;

	memset(out, 0, sizeof(*out));
	if (len != LW_TOKEN_TEXT_LEN - 1 || memcmp(text, LW_TOKEN_PREFIX, 4) != 0)
		return LW_ENOTFOUND;
	if (lw_sha256(text, len, hash) != LW_OK)
		return LW_ENOMEM;
	rc = lw_store_reader_txn(rd, &txn, diag);
	if (rc != LW_OK)
		return rc;
	if (!rd->st->has_console)
		return LW_ENOTFOUND;
	/* The lookup is by hash: timing says nothing about the token. */
	rc = mdb_get(txn, rd->st->tokens, &k, &v);
	if (rc == MDB_NOTFOUND)
		return LW_ENOTFOUND;
	if (rc != MDB_SUCCESS)
		return lw_store_mdb_fail(diag, rc, "get token");
	if (token_decode(&k, &v, out) != LW_OK)
		return LW_ECORRUPT;
	return out->revoked ? LW_ENOTFOUND : LW_OK;
}

struct token_revoke {
	const char *name;
	int64_t now_ns;
};

static int token_revoke_txn(struct lw_store *st, MDB_txn *txn, void *arg,
			    struct lw_diag *diag)
{
	struct token_revoke *a = arg;
	struct lw_token t;
	int rc = find_named(st, txn, a->name, &t, diag);

	if (rc == LW_ENOTFOUND)
		return lw_diag_set(diag, LW_ENOTFOUND, NULL, 0, 0, "no token '%s'", a->name);
	if (rc != LW_OK)
		return rc;
	t.revoked = 1;
	t.revoked_ns = a->now_ns;
	return put_token(st, txn, &t, diag);
}

int lw_tokens_revoke(struct lw_store *st, const char *name, int64_t now_ns,
		     struct lw_diag *diag)
{
	struct token_revoke a = {name, now_ns};

	return lw_store_write_txn(st, token_revoke_txn, &a, diag);
}

struct token_walk {
	lw_tokens_cb cb;
	void *arg;
};

static int token_each(const MDB_val *k, const MDB_val *v, void *arg)
{
	struct token_walk *w = arg;
	struct lw_token t;

	if (token_decode(k, v, &t) != LW_OK)
		return 0;
	return w->cb(&t, w->arg);
}

int lw_tokens_list(struct lw_store_reader *rd, lw_tokens_cb cb, void *arg,
		   struct lw_diag *diag)
{
	struct token_walk w = {cb, arg};

	return walk(rd, rd->st->tokens, token_each, &w, diag);
}
