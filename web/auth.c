/* lw_auth: the session table and the failed-login table, both fixed
 * arrays scanned linearly (a few thousand entries: microseconds). */
#include "web/auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct session {
	int used;
	char sid[LW_AUTH_ID_LEN + 1];
	char csrf[LW_AUTH_ID_LEN + 1];
	char user[LW_USERS_NAME_MAX + 1];
	int64_t created_ms, used_ms;
};

struct limit {
	char key[LW_USERS_NAME_MAX + 64]; /* "u:" name or "a:" address; "" = free */
	uint32_t failures;
	int64_t start_ms;
};

struct lw_auth {
	struct lw_auth_opts o;
	struct session *sessions;
	struct limit limits[LW_AUTH_LIMIT_SLOTS];
};

struct lw_auth *lw_auth_new(const struct lw_auth_opts *o)
{
	struct lw_auth *a = calloc(1, sizeof(*a));

	if (a == NULL)
		return NULL;
	a->o = *o;
	if (a->o.max_sessions == 0)
		a->o.max_sessions = 1;
	a->sessions = calloc(a->o.max_sessions, sizeof(*a->sessions));
	if (a->sessions == NULL) {
		free(a);
		return NULL;
	}
	return a;
}

void lw_auth_free(struct lw_auth *a)
{
	if (a == NULL)
		return;
	/* the ids are credentials: do not leave them in freed memory */
	memset(a->sessions, 0, a->o.max_sessions * sizeof(*a->sessions));
	free(a->sessions);
	free(a);
}

static int expired(const struct lw_auth *a, const struct session *s, int64_t now_ms)
{
	return now_ms - s->used_ms >= (int64_t)a->o.idle_ms ||
	       now_ms - s->created_ms >= (int64_t)a->o.max_ms;
}

static int random_id(char out[LW_AUTH_ID_LEN + 1])
{
	uint8_t raw[32];

	if (lw_secret_random(raw, sizeof(raw)) != LW_OK)
		return LW_EIO;
	lw_secret_b64url(raw, sizeof(raw), out);
	return LW_OK;
}

int lw_auth_session_new(struct lw_auth *a, const char *user, int64_t now_ms,
			char sid[LW_AUTH_ID_LEN + 1], char csrf[LW_AUTH_ID_LEN + 1])
{
	struct session *slot = NULL;

	for (uint32_t i = 0; i < a->o.max_sessions; i++) {
		struct session *s = &a->sessions[i];

		if (s->used && expired(a, s, now_ms))
			s->used = 0;
		if (!s->used) {
			slot = s;
			break;
		}
		if (slot == NULL || s->used_ms < slot->used_ms)
			slot = s;
	}
	if (random_id(sid) != LW_OK || random_id(csrf) != LW_OK)
		return LW_EIO;
	memset(slot, 0, sizeof(*slot));
	slot->used = 1;
	memcpy(slot->sid, sid, LW_AUTH_ID_LEN + 1);
	memcpy(slot->csrf, csrf, LW_AUTH_ID_LEN + 1);
	snprintf(slot->user, sizeof(slot->user), "%s", user);
	slot->created_ms = slot->used_ms = now_ms;
	return LW_OK;
}

static struct session *find(struct lw_auth *a, const char *sid)
{
	struct session *hit = NULL;

	if (strlen(sid) != LW_AUTH_ID_LEN)
		return NULL;
	/* every slot is compared, in constant time per slot */
	for (uint32_t i = 0; i < a->o.max_sessions; i++)
		if (a->sessions[i].used &&
		    lw_secret_equal(a->sessions[i].sid, sid, LW_AUTH_ID_LEN))
			hit = &a->sessions[i];
	return hit;
}

int lw_auth_session_find(struct lw_auth *a, const char *sid, int64_t now_ms,
			 struct lw_principal *p)
{
	struct session *s = find(a, sid);

	memset(p, 0, sizeof(*p));
	if (s == NULL)
		return LW_ENOTFOUND;
	if (expired(a, s, now_ms)) {
		memset(s, 0, sizeof(*s));
		return LW_ENOTFOUND;
	}
	s->used_ms = now_ms;
	snprintf(p->name, sizeof(p->name), "%s", s->user);
	memcpy(p->csrf, s->csrf, sizeof(p->csrf));
	return LW_OK;
}

void lw_auth_session_end(struct lw_auth *a, const char *sid)
{
	struct session *s = find(a, sid);

	if (s != NULL)
		memset(s, 0, sizeof(*s));
}

void lw_auth_session_end_user(struct lw_auth *a, const char *user)
{
	for (uint32_t i = 0; i < a->o.max_sessions; i++)
		if (a->sessions[i].used && strcmp(a->sessions[i].user, user) == 0)
			memset(&a->sessions[i], 0, sizeof(a->sessions[i]));
}

uint32_t lw_auth_session_count(const struct lw_auth *a)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < a->o.max_sessions; i++)
		n += a->sessions[i].used != 0;
	return n;
}

static void limit_key(char *out, size_t len, char kind, const char *v)
{
	snprintf(out, len, "%c:%s", kind, v ? v : "");
}

static struct limit *limit_find(struct lw_auth *a, const char *key, int create,
				int64_t now_ms)
{
	struct limit *free_slot = NULL, *oldest = NULL;

	for (size_t i = 0; i < LW_AUTH_LIMIT_SLOTS; i++) {
		struct limit *l = &a->limits[i];

		if (l->key[0] == '\0') {
			if (free_slot == NULL)
				free_slot = l;
			continue;
		}
		if (strcmp(l->key, key) == 0)
			return l;
		if (oldest == NULL || l->start_ms < oldest->start_ms)
			oldest = l;
	}
	if (!create)
		return NULL;
	if (free_slot == NULL)
		free_slot = oldest;
	memset(free_slot, 0, sizeof(*free_slot));
	snprintf(free_slot->key, sizeof(free_slot->key), "%s", key);
	free_slot->start_ms = now_ms;
	return free_slot;
}

static int over(struct lw_auth *a, const char *key, int64_t now_ms)
{
	struct limit *l = limit_find(a, key, 0, now_ms);

	if (l == NULL)
		return 0;
	if (now_ms - l->start_ms >= (int64_t)a->o.window_ms) {
		memset(l, 0, sizeof(*l));
		return 0;
	}
	return l->failures >= a->o.max_failures;
}

int lw_auth_login_allowed(struct lw_auth *a, const char *user, const char *addr,
			  int64_t now_ms)
{
	char ku[sizeof(a->limits[0].key)], ka[sizeof(a->limits[0].key)];

	limit_key(ku, sizeof(ku), 'u', user);
	limit_key(ka, sizeof(ka), 'a', addr);
	return !over(a, ku, now_ms) && !over(a, ka, now_ms);
}

static void count_failure(struct lw_auth *a, const char *key, int64_t now_ms)
{
	struct limit *l = limit_find(a, key, 1, now_ms);

	if (now_ms - l->start_ms >= (int64_t)a->o.window_ms) {
		l->failures = 0;
		l->start_ms = now_ms;
	}
	l->failures++;
}

void lw_auth_login_failed(struct lw_auth *a, const char *user, const char *addr,
			  int64_t now_ms)
{
	char k[sizeof(a->limits[0].key)];

	limit_key(k, sizeof(k), 'u', user);
	count_failure(a, k, now_ms);
	limit_key(k, sizeof(k), 'a', addr);
	count_failure(a, k, now_ms);
}

void lw_auth_login_succeeded(struct lw_auth *a, const char *user)
{
	char k[sizeof(a->limits[0].key)];
	struct limit *l;

	limit_key(k, sizeof(k), 'u', user);
	l = limit_find(a, k, 0, 0);
	if (l != NULL)
		memset(l, 0, sizeof(*l));
}

int lw_auth_csrf_ok(const char *expected, const char *got)
{
	if (expected == NULL || got == NULL || expected[0] == '\0' ||
	    strlen(got) != LW_AUTH_ID_LEN || strlen(expected) != LW_AUTH_ID_LEN)
		return 0;
	return lw_secret_equal(expected, got, LW_AUTH_ID_LEN);
}
