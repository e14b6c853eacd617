/* Console users and API tokens (prefix lw_users): who may use the HTTP
 * API (web/) and with which role. Two LMDB databases of the store
 * (docs/storage.md "Console records"):
 *
 *   users    name -> record: role, disabled, created, updated, password
 *            hash (core/secret.h: scrypt, never the password)
 *   tokens   SHA-256 of the token -> record: name, role, revoked,
 *            created, created by (the token itself is shown once, at
 *            creation, and never stored)
 *
 * Roles are ordered: a viewer reads incidents, events and sources; an
 * operator also acknowledges, assigns, notes and closes; an admin also
 * manages users and tokens and reloads rules.
 *
 * Threads: reads take a store reader (any thread or process); writes run
 * one short write txn in the caller's thread (LMDB serialises it with the
 * daemon's commits). A store written before the console existed has
 * none of these databases when opened readonly: every read is empty. */
#ifndef LW_STORE_USERS_H
#define LW_STORE_USERS_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/secret.h"
#include "core/sha256.h"

struct lw_store;
struct lw_store_reader;

enum lw_role {
	LW_ROLE_NONE = 0,
	LW_ROLE_VIEWER = 1,
	LW_ROLE_OPERATOR = 2,
	LW_ROLE_ADMIN = 3
};

/* "viewer", "operator", "admin" ("none" for anything else). */
const char *lw_users_role_name(enum lw_role r);
/* The role a name means, or LW_ROLE_NONE. */
enum lw_role lw_users_role_parse(const char *s);

#define LW_USERS_NAME_MAX 64

/* 1..64 bytes of valid UTF-8, no control bytes, no spaces, no ':' (the
 * name must survive a log line and an HTTP header). LW_OK or LW_EINVAL
 * with diag saying why. Used for user and token names. */
int lw_users_name_check(const char *name, struct lw_diag *diag);

struct lw_user {
	char name[LW_USERS_NAME_MAX + 1];
	enum lw_role role;
	int disabled;
	int64_t created_ns, updated_ns;
	char hash[LW_SECRET_HASH_MAX];  /* "" = no password: cannot log in */
};

/* Writes u. create = 1: the name must be new (LW_EINVAL "exists");
 * create = 0: it must exist (LW_ENOTFOUND). LW_EINVAL also for a bad
 * name or role; LW_ESTORE, LW_EFULL. */
int lw_users_put(struct lw_store *st, const struct lw_user *u, int create,
		 struct lw_diag *diag);
/* LW_OK, LW_ENOTFOUND, LW_ECORRUPT, LW_ESTORE. */
int lw_users_get(struct lw_store_reader *rd, const char *name, struct lw_user *out,
		 struct lw_diag *diag);
/* Every user in name order; non-zero from cb stops and is returned. A
 * record that does not decode is skipped. */
typedef int (*lw_users_cb)(const struct lw_user *u, void *arg);
int lw_users_list(struct lw_store_reader *rd, lw_users_cb cb, void *arg,
		  struct lw_diag *diag);

/* --- tokens ------------------------------------------------------------ */

#define LW_TOKEN_PREFIX "lwt_"
/* "lwt_" + 43 base64url characters of 32 random bytes, and a NUL. */
#define LW_TOKEN_TEXT_LEN (4 + LW_SECRET_B64_LEN(32) + 1)

struct lw_token {
	char name[LW_USERS_NAME_MAX + 1];
	enum lw_role role;
	int revoked;
	int64_t created_ns, revoked_ns;
	char created_by[LW_USERS_NAME_MAX + 1];
	uint8_t hash[LW_SHA256_LEN];
};

/* Makes a token named name (no other unrevoked token may have it:
 * LW_EINVAL) and writes its text into text (shown once; only its hash
 * is stored). LW_EIO when no randomness. */
int lw_tokens_add(struct lw_store *st, const char *name, enum lw_role role,
		  const char *created_by, int64_t now_ns, char text[LW_TOKEN_TEXT_LEN],
		  struct lw_diag *diag);
/* The unrevoked token whose text is text: LW_OK, LW_ENOTFOUND (unknown
 * or revoked), LW_ESTORE. */
int lw_tokens_find(struct lw_store_reader *rd, const char *text, size_t len,
		   struct lw_token *out, struct lw_diag *diag);
/* Marks the unrevoked token named name revoked: LW_OK, LW_ENOTFOUND. */
int lw_tokens_revoke(struct lw_store *st, const char *name, int64_t now_ns,
		     struct lw_diag *diag);
/* Every token (revoked ones too), in hash order. */
typedef int (*lw_tokens_cb)(const struct lw_token *t, void *arg);
int lw_tokens_list(struct lw_store_reader *rd, lw_tokens_cb cb, void *arg,
		   struct lw_diag *diag);

#endif
