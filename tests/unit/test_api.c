/* Unit tests for web/api: requests answered without a socket. The role
 * matrix (anonymous 401, viewer 403 on writes, operator 200, admin-only
 * endpoints), CSRF on session writes and not on token writes, the error
 * JSON and its codes, the login limiter (429), the audit record of every
 * write and login, the security of the static pages (no asset outside
 * the table, index.html has no inline script). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"
#include "core/err.h"
#include "core/secret.h"
#include "store/audit.h"
#include "store/incidents.h"
#include "store/store.h"
#include "store/users.h"
#include "web/api.h"

static char dir[64];
static struct lw_store *st;
static struct lw_config *cfg;
static struct lw_api *api;
static struct lw_api_req r;
static char cookie[128], csrf[64];
static int64_t clock_ms = 1000;

static void add_user(const char *name, const char *pw, enum lw_role role)
{
	struct lw_user u = {.role = role, .created_ns = 1};

	snprintf(u.name, sizeof(u.name), "%s", name);
	cr_assert_eq(lw_secret_hash_password(pw, strlen(pw), 10, u.hash), LW_OK);
	cr_assert_eq(lw_users_put(st, &u, 1, NULL), LW_OK);
}

static void setup(void)
{
	struct lw_segment_builder *b = lw_segment_builder_new();
	static struct lw_related_set rel;
	struct lw_incidents_raise raise = {
		.related = &rel,
		.rule_id = "r1", .rule_title = "SSH brute force", .rule_level = "high",
		.category = "unauthorized-access", .level = "high",
		.response = "{\"steps\":[\"one\",\"two\"],\"notify\":[]}",
		.group = "{\"source.ip\":\"203.0.113.50\"}", .host = "web1", .zone = "lgwan",
		.first_seen_ns = 1, .last_seen_ns = 2, .count = 1};
	struct lw_store_commit_extra x = {.raises = &raise, .nraises = 1, .now_ns = 3};

	lw_related_clear(&rel);
	lw_related_add(&rel, LW_RELATED_IP, "10.20.0.5", 9);
	lw_related_add(&rel, LW_RELATED_USER, "mallory", 7);
	snprintf(dir, sizeof(dir), "/tmp/lw-api-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	cr_assert_eq(lw_store_open(dir, NULL, &st, NULL), LW_OK);
	cr_assert_eq(lw_store_commit_ex(st, b, &x, NULL, NULL), LW_OK);
	lw_segment_builder_free(b);
	cfg = malloc(sizeof(*cfg));
	lw_config_defaults(cfg);
	cfg->api.login_max_failures = 3;
	snprintf(cfg->timezone, sizeof(cfg->timezone), "Asia/Tokyo");
	api = lw_api_new(&(struct lw_api_opts){.store = st, .cfg = cfg, .scrypt_log2_n = 10});
	cr_assert_not_null(api);
	add_user("view", "view-pw", LW_ROLE_VIEWER);
	add_user("op", "op-pw", LW_ROLE_OPERATOR);
	add_user("boss", "boss-pw", LW_ROLE_ADMIN);
	lw_api_req_init(&r);
}

static void teardown(void)
{
	char cmd[128];

	lw_api_req_release(&r);
	lw_api_free(api);
	lw_store_close(st);
	free(cfg);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(api, .init = setup, .fini = teardown);

/* One request; the response stays in r (body NUL-terminated). */
static unsigned call(enum lw_api_method m, const char *path, const char *query,
		     const char *body, const char *cookie_hdr, const char *csrf_hdr,
		     const char *authz)
{
	lw_api_req_release(&r);
	lw_api_req_init(&r);
	r.method = m;
	r.path = path;
	r.query = query;
	r.body = body;
	r.body_len = body ? strlen(body) : 0;
	r.cookie = cookie_hdr;
	r.csrf_header = csrf_hdr;
	r.authorization = authz;
	r.address = "127.0.0.1:5555";
	r.now_ms = clock_ms;
	r.now_ns = 1700000000000000000ll + clock_ms * 1000000;
	lw_api_handle(api, &r);
	lw_buf_putc(&r.out, '\0');
	r.out.len--;
	return r.status;
}

static int body_has(const char *s)
{
	return strstr(r.out.data, s) != NULL;
}

static void login(const char *user, const char *pw)
{
	char body[128];
	const char *c;

	snprintf(body, sizeof(body), "{\"user\":\"%s\",\"password\":\"%s\"}", user, pw);
	cr_assert_eq(call(LW_API_POST, "/api/v1/login", NULL, body, NULL, NULL, NULL), 200, "%s", r.out.data);
	cr_assert(strncmp(r.set_cookie, "lw_session=", 11) == 0);
	cr_assert(strstr(r.set_cookie, "; HttpOnly; SameSite=Strict") != NULL, "%s", r.set_cookie);
	cr_assert(strstr(r.set_cookie, "Secure") == NULL, "no Secure over plain HTTP");
	snprintf(cookie, sizeof(cookie), "other=1; %.*s", (int)strcspn(r.set_cookie, ";"), r.set_cookie);
	c = strstr(r.out.data, "\"csrf\":\"");
	cr_assert_not_null(c);
	snprintf(csrf, sizeof(csrf), "%.43s", c + 8);
}

Test(api, anonymous)
{
	cr_assert_eq(call(LW_API_GET, "/api/v1/health", NULL, NULL, NULL, NULL, NULL), 200);
	cr_assert_str_eq(r.out.data, "{\"status\":\"up\"}\n");
	cr_assert_eq(call(LW_API_GET, "/api/v1/incidents", NULL, NULL, NULL, NULL, NULL), 401);
	cr_assert_str_eq(r.out.data, "{\"error\":{\"code\":\"unauthorized\",\"message\":\"log in, or send a valid API token\"}}\n");
	cr_assert_eq(call(LW_API_POST, "/api/v1/incidents/1/ack", NULL, "{}", NULL, NULL, NULL), 401);
	cr_assert_eq(call(LW_API_GET, "/api/v1/incidents", NULL, NULL, "lw_session=forged-value-000000000000000000000000000", NULL, NULL), 401);
	cr_assert_eq(call(LW_API_GET, "/api/v1/nothing", NULL, NULL, NULL, NULL, NULL), 404);
	cr_assert_eq(call(LW_API_GET, "/", NULL, NULL, NULL, NULL, NULL), 200);
	cr_assert(body_has("<script type=\"module\" src=\"/assets/app.js\"></script>"));
	cr_assert(!body_has("<script>"), "no inline script");
	cr_assert(!body_has("style="), "no inline style");
	cr_assert_eq(call(LW_API_GET, "/assets/../../etc/passwd", NULL, NULL, NULL, NULL, NULL), 404);
	cr_assert_eq(call(LW_API_GET, "/assets/vendor/LICENSE-htm", NULL, NULL, NULL, NULL, NULL), 404,
		     "licences stay in the source tree");
	cr_assert_eq(call(LW_API_POST, "/", NULL, "{}", NULL, NULL, NULL), 405);
}

Test(api, role_matrix_and_csrf)
{
	char sess_op[128], csrf_op[64];

	login("view", "view-pw");
	cr_assert_eq(call(LW_API_GET, "/api/v1/me", NULL, NULL, cookie, NULL, NULL), 200);
	cr_assert(body_has("\"user\":\"view\",\"role\":\"viewer\",\"auth\":\"session\""));
	cr_assert(body_has("\"timezone\":\"Asia/Tokyo\""));
	cr_assert_eq(call(LW_API_GET, "/api/v1/incidents", NULL, NULL, cookie, NULL, NULL), 200);
	cr_assert(body_has("\"id\":1,") && body_has("\"assignee\":\"\""));
	cr_assert_eq(call(LW_API_POST, "/api/v1/incidents/1/ack", NULL, "{}", cookie, csrf, NULL), 403);
	cr_assert(body_has("\"code\":\"forbidden\""));
	cr_assert_eq(call(LW_API_GET, "/api/v1/users", NULL, NULL, cookie, NULL, NULL), 403);
	login("op", "op-pw");
	memcpy(sess_op, cookie, sizeof(cookie));
	memcpy(csrf_op, csrf, sizeof(csrf));
	cr_assert_eq(call(LW_API_POST, "/api/v1/incidents/1/ack", NULL, "{}", sess_op, NULL, NULL), 403);
	cr_assert(body_has("\"code\":\"csrf\""));
	cr_assert_eq(call(LW_API_POST, "/api/v1/incidents/1/ack", NULL, "{\"note\":\"mine\"}", sess_op, csrf_op, NULL), 200);
	cr_assert(body_has("\"status\":\"acknowledged\""));
	cr_assert(body_has("{\"status\":\"acknowledged\",\"actor\":\"op\",\"note\":\"mine\"}") ||
		  body_has("\"actor\":\"op\",\"note\":\"mine\""), "%s", r.out.data);
	cr_assert_eq(call(LW_API_POST, "/api/v1/incidents/1/ack", NULL, "{}", sess_op, csrf_op, NULL), 409);
	cr_assert(body_has("\"code\":\"conflict\""));
	cr_assert_eq(call(LW_API_POST, "/api/v1/incidents/1/steps", NULL, "{\"step\":1,\"done\":true}", sess_op, csrf_op, NULL), 200);
	cr_assert(body_has("\"checklist\":[{\"step\":1,\"done\":true"));
	cr_assert_eq(call(LW_API_POST, "/api/v1/incidents/1/steps", NULL, "{\"step\":2,\"done\":true}", sess_op, csrf_op, NULL), 400,
		     "the plan has two steps");
	cr_assert_eq(call(LW_API_POST, "/api/v1/users", NULL, "{\"name\":\"x\",\"role\":\"viewer\",\"password\":\"p\"}", sess_op, csrf_op, NULL), 403);
	login("boss", "boss-pw");
	cr_assert_eq(call(LW_API_POST, "/api/v1/users", NULL, "{\"name\":\"x\",\"role\":\"viewer\",\"password\":\"p\"}", cookie, csrf, NULL), 201);
	cr_assert_eq(call(LW_API_POST, "/api/v1/tokens", NULL, "{\"name\":\"bot\",\"role\":\"operator\"}", cookie, csrf, NULL), 201);
	{
		char authz[128];
		const char *t = strstr(r.out.data, "\"token\":\"");

		cr_assert_not_null(t);
		snprintf(authz, sizeof(authz), "Bearer %.47s", t + 9);
		cr_assert_eq(call(LW_API_POST, "/api/v1/incidents/1/notes", NULL, "{\"text\":\"by token\"}", NULL, NULL, authz), 200,
			     "a token writes without CSRF: %s", r.out.data);
		cr_assert(body_has("\"actor\":\"bot\",\"text\":\"by token\""));
	}
	/* a logout ends the session; the other user's stays */
	cr_assert_eq(call(LW_API_POST, "/api/v1/logout", NULL, "{}", cookie, csrf, NULL), 200);
	cr_assert_eq(call(LW_API_GET, "/api/v1/me", NULL, NULL, cookie, NULL, NULL), 401);
	cr_assert_eq(call(LW_API_GET, "/api/v1/me", NULL, NULL, sess_op, NULL, NULL), 200);
}

static int count_action(const struct lw_audit_view *v, void *arg)
{
	int *n = arg;

	n[0]++;
	if (v->status == 429)
		n[1]++;
	if (v->status == 401 && v->action.len == 5)
		n[2]++;
	if (v->status == 403)
		n[3]++;
	return 0;
}

Test(api, login_limit_and_audit)
{
	struct lw_store_reader *rd;
	int n[4] = {0};

	for (int i = 0; i < 3; i++)
		cr_assert_eq(call(LW_API_POST, "/api/v1/login", NULL, "{\"user\":\"op\",\"password\":\"bad\"}", NULL, NULL, NULL), 401);
	cr_assert_eq(call(LW_API_POST, "/api/v1/login", NULL, "{\"user\":\"op\",\"password\":\"op-pw\"}", NULL, NULL, NULL), 429);
	cr_assert(body_has("\"code\":\"rate_limited\""));
	cr_assert_eq(r.set_cookie[0], '\0', "no session when limited");
	clock_ms += 16 * 60 * 1000; /* past login_window (15m) */
	login("op", "op-pw");
	cr_assert_eq(call(LW_API_POST, "/api/v1/incidents/1/ack", NULL, "{}", cookie, "wrong", NULL), 403);
	cr_assert_eq(call(LW_API_POST, "/api/v1/login", NULL, "{\"user\":", NULL, NULL, NULL), 400);
	cr_assert(body_has("\"code\":\"bad_json\""));
	cr_assert_eq(lw_store_reader_open(st, &rd, NULL), LW_OK);
	cr_assert_eq(lw_audit_list(rd, 0, INT64_MIN, 0, count_action, n, NULL, NULL), LW_OK);
	lw_store_reader_close(rd);
	/* 3 failed logins, 1 limited, 1 good login, 1 csrf refusal, 1 bad body */
	cr_assert_eq(n[0], 7);
	cr_assert_eq(n[1], 1);
	cr_assert_eq(n[2], 3);
	cr_assert_eq(n[3], 1);
}

Test(api, bad_parameters)
{
	login("view", "view-pw");
	cr_assert_eq(call(LW_API_GET, "/api/v1/incidents", "limit=0", NULL, cookie, NULL, NULL), 400);
	cr_assert_eq(call(LW_API_GET, "/api/v1/incidents", "limit=abc", NULL, cookie, NULL, NULL), 400);
	cr_assert_eq(call(LW_API_GET, "/api/v1/incidents", "q=%00", NULL, cookie, NULL, NULL), 400);
	cr_assert_eq(call(LW_API_GET, "/api/v1/incidents", "cursor=x_y", NULL, cookie, NULL, NULL), 400);
	cr_assert_eq(call(LW_API_GET, "/api/v1/incidents", "since=yesterday", NULL, cookie, NULL, NULL), 400);
	cr_assert_eq(call(LW_API_GET, "/api/v1/incidents", "q=level:high%20AND", NULL, cookie, NULL, NULL), 400);
	cr_assert(body_has("\"code\":\"bad_query\""));
	cr_assert_eq(call(LW_API_GET, "/api/v1/events", "q=host.name:(", NULL, cookie, NULL, NULL), 400);
	cr_assert_eq(call(LW_API_GET, "/api/v1/events", "cursor=12", NULL, cookie, NULL, NULL), 400);
	cr_assert_eq(call(LW_API_GET, "/api/v1/incidents/abc", NULL, NULL, cookie, NULL, NULL), 404);
	cr_assert_eq(call(LW_API_GET, "/api/v1/incidents/99", NULL, NULL, cookie, NULL, NULL), 404);
	cr_assert_eq(call(LW_API_GET, "/api/v1/incidents", "related=203.0.113.50", NULL, cookie, NULL, NULL), 200);
	cr_assert(body_has("\"id\":1,"));
	cr_assert_eq(call(LW_API_GET, "/api/v1/incidents", "related=203.0.113.5", NULL, cookie, NULL, NULL), 200);
	cr_assert(!body_has("\"id\":1,"), "related is exact, not a prefix");
	/* related.* values, and the incident's ECS related members */
	cr_assert_eq(call(LW_API_GET, "/api/v1/incidents", "related=mallory", NULL, cookie, NULL, NULL), 200);
	cr_assert(body_has("\"id\":1,"));
	cr_assert(body_has("\"related\":{\"ip\":[\"10.20.0.5\"],\"user\":[\"mallory\"],\"hosts\":[]}"));
	cr_assert_eq(call(LW_API_GET, "/api/v1/incidents", "related=10.20.0.6", NULL, cookie, NULL, NULL), 200);
	cr_assert(!body_has("\"id\":1,"));
}
