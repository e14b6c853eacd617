/* Browser sessions and the login limiter of the HTTP API (prefix
 * lw_auth). Sessions live in the daemon's memory only: a restart ends
 * every session (operators log in again; API tokens, which are in the
 * store, keep working). A session has a random 32-byte id (the HttpOnly
 * cookie) and a random 32-byte CSRF token (returned by the login, echoed
 * by the client in X-CSRF-Token on every state-changing request); it ends
 * after `session_idle` without use, `session_max` after the login, at
 * logout, or when the table is full and it is the least recently used.
 *
 * Failed logins are counted per user name and per client address: after
 * `login_max_failures` failures within `login_window` of the first one,
 * further attempts for that name or from that address answer 429 until
 * the window has passed (the password is then not even checked). The
 * table is fixed-size; when full the entry whose window started first is
 * reused.
 *
 * Threads: one (the web thread); no locks. Times are monotonic ms. */
#ifndef LW_WEB_AUTH_H
#define LW_WEB_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "core/secret.h"
#include "store/users.h"

#define LW_AUTH_ID_LEN LW_SECRET_B64_LEN(32) /* 43 characters */
#define LW_AUTH_LIMIT_SLOTS 4096

struct lw_auth_opts {
	uint64_t idle_ms, max_ms;
	uint32_t max_sessions;
	uint32_t max_failures;
	uint64_t window_ms;
};

/* Who a request acts as. */
struct lw_principal {
	char name[LW_USERS_NAME_MAX + 1];
	enum lw_role role;
	int via_token;                   /* API token (no CSRF needed) */
	char csrf[LW_AUTH_ID_LEN + 1];   /* session only */
};

struct lw_auth;

/* NULL on ENOMEM. */
struct lw_auth *lw_auth_new(const struct lw_auth_opts *o);
void lw_auth_free(struct lw_auth *a);

/* A new session for user: its id and CSRF token (NUL-terminated).
 * LW_OK, LW_EIO (no randomness). */
int lw_auth_session_new(struct lw_auth *a, const char *user, int64_t now_ms,
			char sid[LW_AUTH_ID_LEN + 1], char csrf[LW_AUTH_ID_LEN + 1]);
/* The live session with id sid (compared in constant time): its user
 * and CSRF token in *p (role left to the caller, who reads the user's
 * current one), and its idle clock restarted. LW_OK or LW_ENOTFOUND
 * (unknown, expired: then removed). */
int lw_auth_session_find(struct lw_auth *a, const char *sid, int64_t now_ms,
			 struct lw_principal *p);
void lw_auth_session_end(struct lw_auth *a, const char *sid);
/* Ends every session of user (disabled, password changed). */
void lw_auth_session_end_user(struct lw_auth *a, const char *user);
uint32_t lw_auth_session_count(const struct lw_auth *a);

/* 1 when a login for user from addr may be tried now, 0 when either is
 * over its failure limit. */
int lw_auth_login_allowed(struct lw_auth *a, const char *user, const char *addr,
			  int64_t now_ms);
/* Counts a failure against user and addr. */
void lw_auth_login_failed(struct lw_auth *a, const char *user, const char *addr,
			  int64_t now_ms);
/* A success clears the user's failures (not the address's). */
void lw_auth_login_succeeded(struct lw_auth *a, const char *user);

/* 1 when the two CSRF tokens are equal (constant time), else 0. */
int lw_auth_csrf_ok(const char *expected, const char *got);

#endif
