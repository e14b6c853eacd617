/* Unit tests for web/auth: sessions end when idle, when too old, at
 * logout and when evicted; failed logins are limited per user and per
 * address within the window; CSRF tokens compare exactly. */
#include <criterion/criterion.h>
#include <string.h>

#include "core/err.h"
#include "web/auth.h"

static struct lw_auth *mk(uint32_t max_sessions)
{
	struct lw_auth *a = lw_auth_new(&(struct lw_auth_opts){
		.idle_ms = 1000, .max_ms = 5000, .max_sessions = max_sessions,
		.max_failures = 3, .window_ms = 10000});

	cr_assert_not_null(a);
	return a;
}

Test(auth, session_life)
{
	struct lw_auth *a = mk(4);
	char sid[LW_AUTH_ID_LEN + 1], csrf[LW_AUTH_ID_LEN + 1];
	struct lw_principal p;

	cr_assert_eq(lw_auth_session_new(a, "alice", 0, sid, csrf), LW_OK);
	cr_assert_eq(strlen(sid), LW_AUTH_ID_LEN);
	cr_assert_str_neq(sid, csrf);
	cr_assert_eq(lw_auth_session_find(a, sid, 900, &p), LW_OK);
	cr_assert_str_eq(p.name, "alice");
	cr_assert_str_eq(p.csrf, csrf);
	/* used at 900: alive until 1900, not past 5000 in all */
	cr_assert_eq(lw_auth_session_find(a, sid, 1800, &p), LW_OK);
	cr_assert_eq(lw_auth_session_find(a, sid, 2700, &p), LW_OK);
	cr_assert_eq(lw_auth_session_find(a, sid, 3600, &p), LW_OK);
	cr_assert_eq(lw_auth_session_find(a, sid, 4500, &p), LW_OK);
	cr_assert_eq(lw_auth_session_find(a, sid, 5000, &p), LW_ENOTFOUND, "absolute limit");
	cr_assert_eq(lw_auth_session_count(a), 0);
	cr_assert_eq(lw_auth_session_new(a, "bob", 10000, sid, csrf), LW_OK);
	cr_assert_eq(lw_auth_session_find(a, sid, 11000, &p), LW_ENOTFOUND, "idle limit");
	cr_assert_eq(lw_auth_session_new(a, "bob", 20000, sid, csrf), LW_OK);
	lw_auth_session_end(a, sid);
	cr_assert_eq(lw_auth_session_find(a, sid, 20001, &p), LW_ENOTFOUND, "logout");
	cr_assert_eq(lw_auth_session_find(a, "short", 20001, &p), LW_ENOTFOUND);
	lw_auth_free(a);
}

Test(auth, eviction_and_end_user)
{
	struct lw_auth *a = mk(2);
	char s1[LW_AUTH_ID_LEN + 1], s2[LW_AUTH_ID_LEN + 1], s3[LW_AUTH_ID_LEN + 1], c[LW_AUTH_ID_LEN + 1];
	struct lw_principal p;

	cr_assert_eq(lw_auth_session_new(a, "a", 0, s1, c), LW_OK);
	cr_assert_eq(lw_auth_session_new(a, "b", 10, s2, c), LW_OK);
	cr_assert_eq(lw_auth_session_find(a, s1, 20, &p), LW_OK); /* s2 is now the least recent */
	cr_assert_eq(lw_auth_session_new(a, "c", 30, s3, c), LW_OK);
	cr_assert_eq(lw_auth_session_find(a, s2, 40, &p), LW_ENOTFOUND);
	cr_assert_eq(lw_auth_session_find(a, s1, 40, &p), LW_OK);
	lw_auth_session_end_user(a, "a");
	cr_assert_eq(lw_auth_session_find(a, s1, 50, &p), LW_ENOTFOUND);
	cr_assert_eq(lw_auth_session_find(a, s3, 50, &p), LW_OK);
	lw_auth_free(a);
}

Test(auth, login_limits)
{
	struct lw_auth *a = mk(2);

	for (int i = 0; i < 3; i++) {
		cr_assert_eq(lw_auth_login_allowed(a, "alice", "10.0.0.1:1", 100), 1);
		lw_auth_login_failed(a, "alice", "10.0.0.1:1", 100);
	}
	cr_assert_eq(lw_auth_login_allowed(a, "alice", "10.0.0.2:1", 200), 0, "per user");
	cr_assert_eq(lw_auth_login_allowed(a, "bob", "10.0.0.1:1", 200), 0, "per address");
	cr_assert_eq(lw_auth_login_allowed(a, "bob", "10.0.0.2:1", 200), 1);
	cr_assert_eq(lw_auth_login_allowed(a, "alice", "10.0.0.2:1", 10100), 1, "window passed");
	lw_auth_login_failed(a, "bob", "10.0.0.3:1", 20000);
	lw_auth_login_failed(a, "bob", "10.0.0.4:1", 20000);
	lw_auth_login_succeeded(a, "bob");
	lw_auth_login_failed(a, "bob", "10.0.0.5:1", 20000);
	cr_assert_eq(lw_auth_login_allowed(a, "bob", "10.0.0.6:1", 20001), 1, "a success clears the user's count");
	lw_auth_free(a);
}

Test(auth, csrf)
{
	const char *t = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";

	cr_assert_eq(strlen(t), LW_AUTH_ID_LEN);
	cr_assert_eq(lw_auth_csrf_ok(t, t), 1);
	cr_assert_eq(lw_auth_csrf_ok(t, "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFH"), 0);
	cr_assert_eq(lw_auth_csrf_ok(t, NULL), 0);
	cr_assert_eq(lw_auth_csrf_ok(t, ""), 0);
	cr_assert_eq(lw_auth_csrf_ok("", ""), 0);
}
