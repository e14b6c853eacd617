/* lw_api: routing, authentication, CSRF, roles, audit, errors, and the
 * handlers of sessions, users, tokens, the audit trail, rule reload and
 * the static console. Incidents: api_incidents.c; events, sources and
 * the overview: api_events.c. */
#include "web/api.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/escape.h"
#include "core/time.h"
#include "store/audit.h"
#include "store/store.h"
#include "store/users.h"
#include "web/api_int.h"
#include "web/assets.h"

#define SESSION_COOKIE "lw_session"

/* --- responses ----------------------------------------------------------- */

void lw_api_error(struct lw_api_req *r, unsigned status, const char *code,
		  const char *fmt, ...)
{
	char msg[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	r->status = status;
	r->content_type = "application/json";
	r->disposition[0] = '\0';
	lw_buf_reset(&r->out);
	lw_buf_printf(&r->out, "{\"error\":{\"code\":\"%s\",\"message\":", code);
	lw_escape_json_string(&r->out, msg, strlen(msg));
	lw_buf_puts(&r->out, "}}\n");
}

void lw_api_store_error(struct lw_api_req *r, int rc, const struct lw_diag *diag,
			int conflict)
{
	const char *why = diag != NULL && diag->detail[0] ? diag->detail : lw_strerror(rc);

	switch (rc) {
	case LW_ENOTFOUND: lw_api_error(r, 404, "not_found", "%s", why); break;
	case LW_EINVAL:
		if (conflict)
			lw_api_error(r, 409, "conflict", "%s", why);
		else
			lw_api_error(r, 400, "bad_request", "%s", why);
		break;
	case LW_EPARSE: lw_api_error(r, 400, "bad_query", "%s", why); break;
	case LW_ETOOBIG: lw_api_error(r, 413, "too_large", "%s", why); break;
	case LW_EFULL:
		if (conflict)
			lw_api_error(r, 409, "conflict", "%s", why);
		else
			lw_api_error(r, 503, "store_full", "%s", why);
		break;
	default: lw_api_error(r, 500, "internal", "%s", why); break;
	}
}

void lw_api_json(struct lw_api_req *r)
{
	r->status = 200;
	r->content_type = "application/json";
	lw_buf_reset(&r->out);
}

void lw_api_jkey(struct lw_buf *b, const char *key, int first)
{
	if (!first)
		lw_buf_putc(b, ',');
	lw_escape_json_string(b, key, strlen(key));
	lw_buf_putc(b, ':');
}

static void jstr(struct lw_buf *b, const char *key, const char *v, int first)
{
	lw_api_jkey(b, key, first);
	lw_escape_json_string(b, v, strlen(v));
}

int lw_api_param_time(struct lw_api_call *c, const char *key, int64_t *ns)
{
	const char *v = lw_params_get(&c->params, key);

	if (v == NULL || v[0] == '\0')
		return LW_ENOTFOUND;
	if (lw_time_parse_query(v, c->r->now_ns, ns) != LW_OK) {
		lw_api_error(c->r, 400, "bad_request",
			     "%s: expected RFC 3339 or an age such as 15m, got \"%s\"", key, v);
		return LW_EINVAL;
	}
	return LW_OK;
}

int lw_api_param_uint(struct lw_api_call *c, const char *key, uint64_t min,
		      uint64_t max, uint64_t def, uint64_t *out)
{
	const char *v = lw_params_get(&c->params, key);
	uint64_t n;

	*out = def;
	if (v == NULL || v[0] == '\0')
		return LW_OK;
	if (lw_jsonin_parse_u64(v, &n) != LW_OK || n < min || n > max) {
		lw_api_error(c->r, 400, "bad_request", "%s: expected a number from %llu to %llu",
			     key, (unsigned long long)min, (unsigned long long)max);
		return LW_EINVAL;
	}
	*out = n;
	return LW_OK;
}

/* --- state ---------------------------------------------------------------- */

/* The zone name times are shown in: the config's, else the system's
 * (/etc/localtime's target below zoneinfo/), else UTC. */
static void find_timezone(const struct lw_config *cfg, char *out, size_t len)
{
	char link[512];
	ssize_t n;
	const char *z;

	if (cfg->timezone[0] != '\0') {
		snprintf(out, len, "%s", cfg->timezone);
		return;
	}
	snprintf(out, len, "UTC");
	n = readlink("/etc/localtime", link, sizeof(link) - 1);
	if (n <= 0)
		return;
	link[n] = '\0';
	z = strstr(link, "zoneinfo/");
	if (z != NULL)
		snprintf(out, len, "%s", z + strlen("zoneinfo/"));
}

struct lw_api *lw_api_new(const struct lw_api_opts *o)
{
	struct lw_api *api = calloc(1, sizeof(*api));
	const struct lw_api_config *ac = &o->cfg->api;

	if (api == NULL)
		return NULL;
	api->o = *o;
	if (api->o.scrypt_log2_n == 0)
		api->o.scrypt_log2_n = LW_SECRET_LOG2_N;
	api->auth = lw_auth_new(&(struct lw_auth_opts){
		.idle_ms = ac->session_idle_ms, .max_ms = ac->session_max_ms,
		.max_sessions = ac->max_sessions, .max_failures = ac->login_max_failures,
		.window_ms = ac->login_window_ms});
	if (api->auth == NULL) {
		free(api);
		return NULL;
	}
	find_timezone(o->cfg, api->timezone, sizeof(api->timezone));
	return api;
}

void lw_api_free(struct lw_api *api)
{
	if (api == NULL)
		return;
	lw_auth_free(api->auth);
	free(api);
}

void lw_api_req_init(struct lw_api_req *r)
{
	memset(r, 0, sizeof(*r));
	lw_buf_init(&r->out);
}

void lw_api_req_release(struct lw_api_req *r)
{
	lw_buf_release(&r->out);
}

void lw_api_get_stats(const struct lw_api *api, struct lw_api_stats *out)
{
	*out = api->stats;
}

void lw_api_count_refused(struct lw_api *api)
{
	api->stats.connections_refused++;
}

/* --- audit ---------------------------------------------------------------- */

static void audit(struct lw_api *api, const struct lw_api_req *r, const char *actor,
		  const char *action, const char *target, const char *detail)
{
	struct lw_diag diag = {0};
	int rc = lw_audit_append(api->o.store, &(struct lw_audit_entry){
		.time_ns = r->now_ns, .actor = actor, .address = r->address,
		.action = action, .target = target, .status = r->status, .detail = detail},
		&diag);

	if (rc != LW_OK)
		lw_log(api->o.log, LW_LOG_ERR, "api", "cannot write an audit record",
		       "action", action, "error", diag.detail, NULL);
}

/* --- who is asking -------------------------------------------------------- */

static int bearer(const char *authz, const char **token)
{
	if (authz == NULL || strncasecmp(authz, "Bearer ", 7) != 0)
		return 0;
	*token = authz + 7;
	while (**token == ' ')
		(*token)++;
	return 1;
}

/* Fills who from the token or the session cookie, with the user's current
 * role from the store. LW_OK, or LW_ENOTFOUND (no valid credentials). */
static int authenticate(struct lw_api *api, struct lw_api_req *r,
			struct lw_principal *who, char sid[LW_AUTH_ID_LEN + 1])
{
	struct lw_store_reader *rd = NULL;
	const char *token;
	int rc;

	memset(who, 0, sizeof(*who));
	sid[0] = '\0';
	if (lw_store_reader_open(api->o.store, &rd, NULL) != LW_OK)
		return LW_ESTORE;
	if (bearer(r->authorization, &token)) {
		struct lw_token t;

		rc = lw_tokens_find(rd, token, strlen(token), &t, NULL);
		if (rc == LW_OK) {
			snprintf(who->name, sizeof(who->name), "%s", t.name);
			who->role = t.role;
			who->via_token = 1;
		}
	} else if (r->cookie != NULL &&
		   lw_params_cookie(r->cookie, SESSION_COOKIE, sid, LW_AUTH_ID_LEN + 1) == LW_OK &&
		   lw_auth_session_find(api->auth, sid, r->now_ms, who) == LW_OK) {
		struct lw_user u;

		/* the role (and whether the user may still log in) is read at
		 * each request: `logward user disable` takes effect at once */
		rc = lw_users_get(rd, who->name, &u, NULL);
		if (rc == LW_OK && !u.disabled) {
			who->role = u.role;
		} else {
			lw_auth_session_end(api->auth, sid);
			rc = LW_ENOTFOUND;
		}
	} else {
		rc = LW_ENOTFOUND;
	}
	lw_store_reader_close(rd);
	return rc == LW_OK ? LW_OK : LW_ENOTFOUND;
}

/* --- sessions ------------------------------------------------------------- */

static void set_cookie(struct lw_api_req *r, const char *sid, long max_age_s)
{
	snprintf(r->set_cookie, sizeof(r->set_cookie),
		 SESSION_COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%ld%s",
		 sid, max_age_s, r->https ? "; Secure" : "");
}

static void me_json(struct lw_api *api, struct lw_api_req *r, const struct lw_principal *who)
{
	lw_api_json(r);
	lw_buf_putc(&r->out, '{');
	jstr(&r->out, "user", who->name, 1);
	jstr(&r->out, "role", lw_users_role_name(who->role), 0);
	jstr(&r->out, "auth", who->via_token ? "token" : "session", 0);
	if (!who->via_token)
		jstr(&r->out, "csrf", who->csrf, 0);
	jstr(&r->out, "timezone", api->timezone, 0);
	lw_buf_puts(&r->out, "}\n");
}

static void h_login(struct lw_api_call *c)
{
	struct lw_api *api = c->api;
	struct lw_api_req *r = c->r;
	const char *name = lw_jsonin_str(&c->body, "user");
	const char *pw = lw_jsonin_str(&c->body, "password");
	struct lw_store_reader *rd = NULL;
	struct lw_principal who;
	struct lw_user u;
	char sid[LW_AUTH_ID_LEN + 1];
	int ok = 0, rc;

	if (name == NULL || pw == NULL || name[0] == '\0') {
		lw_api_error(r, 400, "bad_request", "a login needs \"user\" and \"password\"");
		goto audit;
	}
	snprintf(c->target, sizeof(c->target), "user:%s", name);
	if (!lw_auth_login_allowed(api->auth, name, r->address, r->now_ms)) {
		api->stats.logins_limited++;
		lw_api_error(r, 429, "rate_limited",
			     "too many failed logins for this user or from this address; try later");
		goto audit;
	}
	rc = lw_store_reader_open(api->o.store, &rd, NULL);
	if (rc == LW_OK)
		rc = lw_users_get(rd, name, &u, NULL);
	lw_store_reader_close(rd);
	if (rc == LW_OK && !u.disabled && u.hash[0] != '\0')
		ok = lw_secret_check_password(pw, strlen(pw), u.hash);
	else
		lw_secret_burn(pw, strlen(pw)); /* same time as a wrong password */
	if (!ok) {
		api->stats.logins_failed++;
		lw_auth_login_failed(api->auth, name, r->address, r->now_ms);
		lw_api_error(r, 401, "unauthorized", "wrong user name or password");
		snprintf(c->detail, sizeof(c->detail), "%s",
			 rc != LW_OK ? "no such user" : u.disabled ? "user disabled"
			 : "wrong password");
		goto audit;
	}
	lw_auth_login_succeeded(api->auth, name);
	if (lw_auth_session_new(api->auth, name, r->now_ms, sid, who.csrf) != LW_OK) {
		lw_api_error(r, 500, "internal", "no randomness for a session id");
		goto audit;
	}
	api->stats.logins_ok++;
	snprintf(who.name, sizeof(who.name), "%s", name);
	who.role = u.role;
	who.via_token = 0;
	set_cookie(r, sid, (long)(api->o.cfg->api.session_max_ms / 1000));
	me_json(api, r, &who);
audit:
	audit(api, r, name ? name : "", "login", c->target, c->detail);
}

static void h_logout(struct lw_api_call *c)
{
	char sid[LW_AUTH_ID_LEN + 1];

	if (c->r->cookie != NULL &&
	    lw_params_cookie(c->r->cookie, SESSION_COOKIE, sid, sizeof(sid)) == LW_OK)
		lw_auth_session_end(c->api->auth, sid);
	set_cookie(c->r, "", 0);
	lw_api_json(c->r);
	lw_buf_puts(&c->r->out, "{\"ok\":true}\n");
	snprintf(c->target, sizeof(c->target), "user:%s", c->who->name);
}

static void h_me(struct lw_api_call *c)
{
	me_json(c->api, c->r, c->who);
}

static void h_health(struct lw_api_call *c)
{
	lw_api_json(c->r);
	lw_buf_puts(&c->r->out, "{\"status\":\"up\"}\n");
}

/* --- users and tokens ------------------------------------------------------ */

static int user_json(const struct lw_user *u, void *arg)
{
	struct lw_buf *b = arg;

	if (b->data[b->len - 1] != '[')
		lw_buf_putc(b, ',');
	lw_buf_putc(b, '{');
	jstr(b, "name", u->name, 1);
	jstr(b, "role", lw_users_role_name(u->role), 0);
	lw_buf_printf(b, ",\"disabled\":%s,\"created\":\"", u->disabled ? "true" : "false");
	lw_time_format_rfc3339(u->created_ns, b);
	lw_buf_puts(b, "\",\"updated\":\"");
	lw_time_format_rfc3339(u->updated_ns, b);
	lw_buf_puts(b, "\"}");
	return 0;
}

static void h_users(struct lw_api_call *c)
{
	struct lw_store_reader *rd = NULL;
	struct lw_diag diag = {0};
	int rc;

	lw_api_json(c->r);
	lw_buf_puts(&c->r->out, "{\"users\":[");
	rc = lw_store_reader_open(c->api->o.store, &rd, &diag);
	if (rc == LW_OK)
		rc = lw_users_list(rd, user_json, &c->r->out, &diag);
	lw_store_reader_close(rd);
	if (rc != LW_OK)
		return lw_api_store_error(c->r, rc, &diag, 0);
	lw_buf_puts(&c->r->out, "]}\n");
}

static enum lw_role role_arg(struct lw_api_call *c)
{
	const char *s = lw_jsonin_str(&c->body, "role");
	enum lw_role role = s ? lw_users_role_parse(s) : LW_ROLE_NONE;

	if (role == LW_ROLE_NONE)
		lw_api_error(c->r, 400, "bad_request",
			     "\"role\" is viewer, operator or admin");
	return role;
}

static void h_user_add(struct lw_api_call *c)
{
	const char *name = lw_jsonin_str(&c->body, "name");
	const char *pw = lw_jsonin_str(&c->body, "password");
	struct lw_diag diag = {0};
	struct lw_user u;
	enum lw_role role;
	int rc;

	if (name == NULL || pw == NULL || pw[0] == '\0')
		return lw_api_error(c->r, 400, "bad_request", "a user needs \"name\", \"role\" and \"password\"");
	snprintf(c->target, sizeof(c->target), "user:%s", name);
	if ((role = role_arg(c)) == LW_ROLE_NONE)
		return;
	memset(&u, 0, sizeof(u));
	snprintf(u.name, sizeof(u.name), "%s", name);
	u.role = role;
	u.created_ns = u.updated_ns = c->r->now_ns;
	snprintf(c->detail, sizeof(c->detail), "role=%s", lw_users_role_name(role));
	if (lw_users_name_check(name, &diag) != LW_OK)
		return lw_api_error(c->r, 400, "bad_request", "%s", diag.detail);
	if (lw_secret_hash_password(pw, strlen(pw), c->api->o.scrypt_log2_n, u.hash) != LW_OK)
		return lw_api_error(c->r, 400, "bad_request", "a password has 1 to %d bytes",
				    LW_SECRET_PASSWORD_MAX);
	rc = lw_users_put(c->api->o.store, &u, 1, &diag);
	if (rc != LW_OK)
		return lw_api_store_error(c->r, rc, &diag, 1);
	lw_api_json(c->r);
	c->r->status = 201;
	lw_buf_puts(&c->r->out, "{\"user\":[");
	user_json(&u, &c->r->out);
	lw_buf_puts(&c->r->out, "]}\n");
}

/* Reads a user for a change: LW_OK, else the response is set. */
static int user_for_change(struct lw_api_call *c, const char *name, struct lw_user *u)
{
	struct lw_store_reader *rd = NULL;
	struct lw_diag diag = {0};
	int rc;

	if (name == NULL)
		return lw_api_error(c->r, 400, "bad_request", "\"name\" is required"), LW_EINVAL;
	snprintf(c->target, sizeof(c->target), "user:%s", name);
	rc = lw_store_reader_open(c->api->o.store, &rd, &diag);
	if (rc == LW_OK)
		rc = lw_users_get(rd, name, u, &diag);
	lw_store_reader_close(rd);
	if (rc == LW_ENOTFOUND)
		lw_api_error(c->r, 404, "not_found", "no user '%s'", name);
	else if (rc != LW_OK)
		lw_api_store_error(c->r, rc, &diag, 0);
	return rc;
}

static void user_save(struct lw_api_call *c, struct lw_user *u)
{
	struct lw_diag diag = {0};
	int rc;

	u->updated_ns = c->r->now_ns;
	rc = lw_users_put(c->api->o.store, u, 0, &diag);
	if (rc != LW_OK)
		return lw_api_store_error(c->r, rc, &diag, 1);
	lw_auth_session_end_user(c->api->auth, u->name);
	lw_api_json(c->r);
	lw_buf_puts(&c->r->out, "{\"user\":[");
	user_json(u, &c->r->out);
	lw_buf_puts(&c->r->out, "]}\n");
}

static void h_user_disable(struct lw_api_call *c)
{
	struct lw_user u;
	int enable = 0;

	if (user_for_change(c, lw_jsonin_str(&c->body, "name"), &u) != LW_OK)
		return;
	(void)lw_jsonin_bool(&c->body, "enable", &enable);
	u.disabled = !enable;
	snprintf(c->detail, sizeof(c->detail), "%s", enable ? "enabled" : "disabled");
	user_save(c, &u);
}

static void h_user_role(struct lw_api_call *c)
{
	struct lw_user u;
	enum lw_role role;

	if (user_for_change(c, lw_jsonin_str(&c->body, "name"), &u) != LW_OK)
		return;
	if ((role = role_arg(c)) == LW_ROLE_NONE)
		return;
	u.role = role;
	snprintf(c->detail, sizeof(c->detail), "role=%s", lw_users_role_name(role));
	user_save(c, &u);
}

static void h_user_passwd(struct lw_api_call *c)
{
	const char *pw = lw_jsonin_str(&c->body, "password");
	const char *name = lw_jsonin_str(&c->body, "name");
	struct lw_user u;

	if (name == NULL)
		name = c->who->name;
	/* anyone may change their own password, proving the current one;
	 * an admin may set anyone's */
	if (strcmp(name, c->who->name) != 0 && c->who->role < LW_ROLE_ADMIN)
		return lw_api_error(c->r, 403, "forbidden", "only an admin sets another user's password");
	if (user_for_change(c, name, &u) != LW_OK)
		return;
	if (c->who->role < LW_ROLE_ADMIN || strcmp(name, c->who->name) == 0) {
		const char *cur = lw_jsonin_str(&c->body, "current_password");

		if (cur == NULL || !lw_secret_check_password(cur, strlen(cur), u.hash))
			return lw_api_error(c->r, 403, "forbidden", "the current password is wrong");
	}
	if (pw == NULL || lw_secret_hash_password(pw, strlen(pw), c->api->o.scrypt_log2_n,
						  u.hash) != LW_OK)
		return lw_api_error(c->r, 400, "bad_request", "\"password\" has 1 to %d bytes",
				    LW_SECRET_PASSWORD_MAX);
	snprintf(c->detail, sizeof(c->detail), "password changed");
	user_save(c, &u);
}

static int token_json(const struct lw_token *t, void *arg)
{
	struct lw_buf *b = arg;

	if (b->data[b->len - 1] != '[')
		lw_buf_putc(b, ',');
	lw_buf_putc(b, '{');
	jstr(b, "name", t->name, 1);
	jstr(b, "role", lw_users_role_name(t->role), 0);
	jstr(b, "created_by", t->created_by, 0);
	lw_buf_printf(b, ",\"revoked\":%s,\"created\":\"", t->revoked ? "true" : "false");
	lw_time_format_rfc3339(t->created_ns, b);
	lw_buf_puts(b, "\"}");
	return 0;
}

static void h_tokens(struct lw_api_call *c)
{
	struct lw_store_reader *rd = NULL;
	struct lw_diag diag = {0};
	int rc;

	lw_api_json(c->r);
	lw_buf_puts(&c->r->out, "{\"tokens\":[");
	rc = lw_store_reader_open(c->api->o.store, &rd, &diag);
	if (rc == LW_OK)
		rc = lw_tokens_list(rd, token_json, &c->r->out, &diag);
	lw_store_reader_close(rd);
	if (rc != LW_OK)
		return lw_api_store_error(c->r, rc, &diag, 0);
	lw_buf_puts(&c->r->out, "]}\n");
}

static void h_token_add(struct lw_api_call *c)
{
	const char *name = lw_jsonin_str(&c->body, "name");
	char text[LW_TOKEN_TEXT_LEN];
	struct lw_diag diag = {0};
	enum lw_role role;
	int rc;

	if (name == NULL)
		return lw_api_error(c->r, 400, "bad_request", "a token needs \"name\" and \"role\"");
	snprintf(c->target, sizeof(c->target), "token:%s", name);
	if ((role = role_arg(c)) == LW_ROLE_NONE)
		return;
	snprintf(c->detail, sizeof(c->detail), "role=%s", lw_users_role_name(role));
	rc = lw_tokens_add(c->api->o.store, name, role, c->who->name, c->r->now_ns, text, &diag);
	if (rc != LW_OK)
		return lw_api_store_error(c->r, rc, &diag, 1);
	lw_api_json(c->r);
	c->r->status = 201;
	lw_buf_putc(&c->r->out, '{');
	jstr(&c->r->out, "name", name, 1);
	jstr(&c->r->out, "role", lw_users_role_name(role), 0);
	jstr(&c->r->out, "token", text, 0);
	lw_buf_puts(&c->r->out, "}\n");
	memset(text, 0, sizeof(text));
}

static void h_token_revoke(struct lw_api_call *c)
{
	const char *name = lw_jsonin_str(&c->body, "name");
	struct lw_diag diag = {0};
	int rc;

	if (name == NULL)
		return lw_api_error(c->r, 400, "bad_request", "\"name\" is required");
	snprintf(c->target, sizeof(c->target), "token:%s", name);
	rc = lw_tokens_revoke(c->api->o.store, name, c->r->now_ns, &diag);
	if (rc != LW_OK)
		return lw_api_store_error(c->r, rc, &diag, 1);
	lw_api_json(c->r);
	lw_buf_puts(&c->r->out, "{\"ok\":true}\n");
}

static int audit_json(const struct lw_audit_view *v, void *arg)
{
	struct lw_buf *b = arg;

	if (b->data[b->len - 1] != '[')
		lw_buf_putc(b, ',');
	lw_audit_to_json(v, b);
	return 0;
}

static void h_audit(struct lw_api_call *c)
{
	struct lw_store_reader *rd = NULL;
	struct lw_diag diag = {0};
	int64_t since = INT64_MIN;
	uint64_t limit, before;
	int rc;

	if (lw_api_param_uint(c, "limit", 1, 10000, 100, &limit) != LW_OK ||
	    lw_api_param_uint(c, "before", 0, UINT64_MAX / 2, 0, &before) != LW_OK)
		return;
	if (lw_api_param_time(c, "since", &since) == LW_EINVAL)
		return;
	lw_api_json(c->r);
	lw_buf_puts(&c->r->out, "{\"audit\":[");
	rc = lw_store_reader_open(c->api->o.store, &rd, &diag);
	if (rc == LW_OK)
		rc = lw_audit_list(rd, before, since, (uint32_t)limit, audit_json, &c->r->out,
				   NULL, &diag);
	lw_store_reader_close(rd);
	if (rc != LW_OK)
		return lw_api_store_error(c->r, rc, &diag, 0);
	lw_buf_puts(&c->r->out, "]}\n");
}

static void h_reload(struct lw_api_call *c)
{
	snprintf(c->target, sizeof(c->target), "rules");
	if (c->api->o.reload_rules == NULL)
		return lw_api_error(c->r, 503, "unavailable", "no daemon to reload here");
	c->api->o.reload_rules(c->api->o.reload_arg);
	lw_api_json(c->r);
	c->r->status = 202;
	lw_buf_puts(&c->r->out, "{\"reload\":\"requested\"}\n");
}

/* --- routing -------------------------------------------------------------- */

struct route {
	enum lw_api_method method;
	const char *pattern;       /* "{id}" matches one decimal segment */
	enum lw_role min_role;     /* LW_ROLE_NONE: anonymous */
	const char *action;        /* audit action of a POST */
	void (*fn)(struct lw_api_call *c);
};

static const struct route routes[] = {
	{LW_API_GET, "/api/v1/health", LW_ROLE_NONE, NULL, h_health},
	{LW_API_POST, "/api/v1/login", LW_ROLE_NONE, "login", h_login},
	{LW_API_POST, "/api/v1/logout", LW_ROLE_VIEWER, "logout", h_logout},
	{LW_API_GET, "/api/v1/me", LW_ROLE_VIEWER, NULL, h_me},
	{LW_API_POST, "/api/v1/me/password", LW_ROLE_VIEWER, "user.passwd", h_user_passwd},
	{LW_API_GET, "/api/v1/incidents", LW_ROLE_VIEWER, NULL, lw_api_incidents_list},
	{LW_API_GET, "/api/v1/incidents.csv", LW_ROLE_VIEWER, NULL, lw_api_incidents_csv},
	{LW_API_GET, "/api/v1/incidents/counts", LW_ROLE_VIEWER, NULL, lw_api_incidents_counts},
	{LW_API_POST, "/api/v1/incidents/bulk", LW_ROLE_OPERATOR, "incident.bulk", lw_api_incidents_bulk},
	{LW_API_GET, "/api/v1/incidents/{id}", LW_ROLE_VIEWER, NULL, lw_api_incident_get},
	{LW_API_POST, "/api/v1/incidents/{id}/ack", LW_ROLE_OPERATOR, "incident.ack", lw_api_incident_ack},
	{LW_API_POST, "/api/v1/incidents/{id}/close", LW_ROLE_OPERATOR, "incident.close", lw_api_incident_close},
	{LW_API_POST, "/api/v1/incidents/{id}/assign", LW_ROLE_OPERATOR, "incident.assign", lw_api_incident_assign},
	{LW_API_POST, "/api/v1/incidents/{id}/notes", LW_ROLE_OPERATOR, "incident.note", lw_api_incident_note},
	{LW_API_POST, "/api/v1/incidents/{id}/steps", LW_ROLE_OPERATOR, "incident.step", lw_api_incident_step},
	{LW_API_GET, "/api/v1/events", LW_ROLE_VIEWER, NULL, lw_api_events},
	{LW_API_GET, "/api/v1/events.csv", LW_ROLE_VIEWER, NULL, lw_api_events_csv},
	{LW_API_GET, "/api/v1/events/histogram", LW_ROLE_VIEWER, NULL, lw_api_events_histogram},
	{LW_API_GET, "/api/v1/events/top", LW_ROLE_VIEWER, NULL, lw_api_events_top},
	{LW_API_GET, "/api/v1/fields", LW_ROLE_VIEWER, NULL, lw_api_fields},
	{LW_API_GET, "/api/v1/sources", LW_ROLE_VIEWER, NULL, lw_api_sources},
	{LW_API_GET, "/api/v1/overview", LW_ROLE_VIEWER, NULL, lw_api_overview},
	{LW_API_GET, "/api/v1/users", LW_ROLE_ADMIN, NULL, h_users},
	{LW_API_POST, "/api/v1/users", LW_ROLE_ADMIN, "user.add", h_user_add},
	{LW_API_POST, "/api/v1/users/disable", LW_ROLE_ADMIN, "user.disable", h_user_disable},
	{LW_API_POST, "/api/v1/users/role", LW_ROLE_ADMIN, "user.role", h_user_role},
	{LW_API_POST, "/api/v1/users/passwd", LW_ROLE_ADMIN, "user.passwd", h_user_passwd},
	{LW_API_GET, "/api/v1/tokens", LW_ROLE_ADMIN, NULL, h_tokens},
	{LW_API_POST, "/api/v1/tokens", LW_ROLE_ADMIN, "token.add", h_token_add},
	{LW_API_POST, "/api/v1/tokens/revoke", LW_ROLE_ADMIN, "token.revoke", h_token_revoke},
	{LW_API_GET, "/api/v1/audit", LW_ROLE_ADMIN, NULL, h_audit},
	{LW_API_POST, "/api/v1/rules/reload", LW_ROLE_ADMIN, "rules.reload", h_reload},
};

/* 1 when path matches pattern; *id set from a "{id}" segment. */
static int match(const char *pattern, const char *path, uint64_t *id)
{
	while (*pattern && *path) {
		if (strncmp(pattern, "{id}", 4) == 0) {
			char num[24];
			size_t n = strcspn(path, "/");

			if (n == 0 || n >= sizeof(num))
				return 0;
			memcpy(num, path, n);
			num[n] = '\0';
			if (lw_jsonin_parse_u64(num, id) != LW_OK)
				return 0;
			pattern += 4;
			path += n;
			continue;
		}
		if (*pattern++ != *path++)
			return 0;
	}
	return *pattern == '\0' && *path == '\0';
}

static void serve_asset(struct lw_api_req *r)
{
	const struct lw_asset *a = lw_assets_find(r->path);

	/* the console's own pages (#/incidents ...) are routed in the
	 * browser; any other path that is not an asset is a 404 */
	if (a == NULL)
		return lw_api_error(r, 404, "not_found", "no such page");
	r->status = 200;
	r->content_type = a->content_type;
	r->cacheable = strncmp(r->path, "/assets/", 8) == 0;
	lw_buf_reset(&r->out);
	if (r->method != LW_API_HEAD)
		lw_buf_append(&r->out, a->data, a->len);
}

static void dispatch(struct lw_api *api, struct lw_api_req *r, struct lw_api_call *c)
{
	const struct route *rt = NULL;
	struct lw_principal who;
	struct lw_diag diag = {0};
	char sid[LW_AUTH_ID_LEN + 1];
	int path_known = 0, rc;

	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (!match(routes[i].pattern, r->path, &c->id))
			continue;
		path_known = 1;
		if (routes[i].method == r->method ||
		    (routes[i].method == LW_API_GET && r->method == LW_API_HEAD)) {
			rt = &routes[i];
			break;
		}
	}
	if (rt == NULL) {
		if (path_known)
			return lw_api_error(r, 405, "method_not_allowed", "method not allowed here");
		if (strncmp(r->path, "/api/", 5) == 0)
			return lw_api_error(r, 404, "not_found", "no such endpoint");
		if (r->method != LW_API_GET && r->method != LW_API_HEAD)
			return lw_api_error(r, 405, "method_not_allowed", "method not allowed here");
		return serve_asset(r);
	}
	if (strstr(rt->pattern, "{id}") != NULL)
		snprintf(c->target, sizeof(c->target), "incident:%llu", (unsigned long long)c->id);
	rc = lw_params_parse(r->query, r->query ? strlen(r->query) : 0, &c->params, &diag);
	if (rc != LW_OK) {
		lw_api_store_error(r, rc, &diag, 0);
		goto audit;
	}
	if (rt->method == LW_API_POST) {
		if (r->body_len > api->o.cfg->api.max_body_bytes) {
			lw_api_error(r, 413, "too_large", "request body over %llu bytes",
				     (unsigned long long)api->o.cfg->api.max_body_bytes);
			goto audit;
		}
		rc = lw_jsonin_parse(r->body ? r->body : "{}", r->body ? r->body_len : 2,
				     &c->body, &diag);
		if (rc != LW_OK) {
			lw_api_error(r, 400, "bad_json", "%s", diag.detail[0] ? diag.detail
				     : lw_strerror(rc));
			goto audit;
		}
	}
	if (rt->min_role != LW_ROLE_NONE) {
		rc = authenticate(api, r, &who, sid);
		if (rc != LW_OK) {
			lw_api_error(r, 401, "unauthorized", "log in, or send a valid API token");
			goto audit;
		}
		c->who = &who;
		/* a cookie rides along on any request the browser sends: a
		 * state change must prove it came from our page */
		if (rt->method == LW_API_POST && !who.via_token &&
		    !lw_auth_csrf_ok(who.csrf, r->csrf_header)) {
			lw_api_error(r, 403, "csrf", "missing or wrong X-CSRF-Token");
			goto audit;
		}
		if (who.role < rt->min_role) {
			lw_api_error(r, 403, "forbidden", "this needs the %s role",
				     lw_users_role_name(rt->min_role));
			goto audit;
		}
	}
	rt->fn(c);
	if (rt->fn == h_login)
		return; /* audited by the handler, which knows the user name */
audit:
	if (rt->method == LW_API_POST && rt->fn != h_login)
		audit(api, r, c->who ? c->who->name : "", rt->action, c->target, c->detail);
	else if (rt->fn == h_login)
		audit(api, r, "", "login", c->target, c->detail);
}

void lw_api_handle(struct lw_api *api, struct lw_api_req *r)
{
	struct lw_api_call c;

	memset(&c, 0, sizeof(c));
	c.api = api;
	c.r = r;
	r->status = 500;
	r->content_type = "application/json";
	r->set_cookie[0] = r->disposition[0] = '\0';
	api->stats.requests++;
	if (r->now_ns == 0)
		r->now_ns = lw_time_now_ns();
	if (r->now_ms == 0)
		r->now_ms = lw_time_mono_ms();
	if (r->address == NULL)
		r->address = "";
	if (r->path == NULL || r->path[0] != '/')
		lw_api_error(r, 400, "bad_request", "bad path");
	else
		dispatch(api, r, &c);
	if (r->out.oom)
		lw_api_error(r, 500, "internal", "out of memory");
	lw_params_release(&c.params);
	lw_jsonin_release(&c.body);
}
