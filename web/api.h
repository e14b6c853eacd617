/* The HTTP API and console, without the transport (prefix lw_api): one
 * request in (method, path, query, headers, body, client address), one
 * response out (status, type, body, cookie). web/web.c feeds it from
 * libevent's HTTP server; the unit tests call it directly. Every
 * endpoint is in docs/api.md; the static console pages are served from
 * the assets compiled into the binary (web/assets.h).
 *
 * Who: a session cookie (browser; state-changing requests must echo the
 * session's CSRF token in X-CSRF-Token) or `Authorization: Bearer
 * lwt_...` (scripts). Roles: viewer < operator < admin (store/users.h).
 * Every POST, allowed or not, and every login attempt is an audit record
 * (store/audit.h). Errors are JSON: {"error":{"code":C,"message":M}}
 * with a stable code per status.
 *
 * Threads: an lw_api is used by one thread (the web thread). It reads
 * the store with short read transactions and writes with short write
 * transactions, beside the daemon's writer. */
#ifndef LW_WEB_API_H
#define LW_WEB_API_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/config.h"
#include "core/counters.h"
#include "core/log.h"

struct lw_store;
struct lw_api;

struct lw_api_opts {
	struct lw_store *store;            /* borrowed, opened for writing */
	const struct lw_config *cfg;       /* api section, timezone */
	const struct lw_counters *counters; /* live daemon counters, or NULL */
	const struct lw_log *log;          /* or NULL */
	/* POST /api/v1/rules/reload: asks the daemon to reload (SIGHUP's
	 * path). NULL: the endpoint answers 503. */
	void (*reload_rules)(void *arg);
	void *reload_arg;
	/* GET /api/v1/overview's health: whether commits are failing and how
	 * many drop counters are in a persistent-loss episode (the daemon's
	 * loss watcher). NULL: left out. Called from the web thread. */
	void (*health)(void *arg, int *storage_failing, uint32_t *loss_episodes);
	void *health_arg;
	unsigned scrypt_log2_n;            /* password cost for users the API makes; 0 = default */
};

enum lw_api_method {
	LW_API_GET = 1,
	LW_API_HEAD,
	LW_API_POST,
	LW_API_OTHER
};

struct lw_api_req {
	/* in: all borrowed; NULL = absent */
	enum lw_api_method method;
	const char *path;          /* decoded path, no query */
	const char *query;         /* raw query string */
	const char *body;
	size_t body_len;
	const char *cookie, *authorization, *csrf_header;
	const char *address;       /* client "ip:port" */
	int https;
	int64_t now_ms;            /* monotonic */
	int64_t now_ns;            /* wall clock */
	/* out */
	unsigned status;
	const char *content_type;
	struct lw_buf out;
	char set_cookie[256];
	char disposition[128];     /* Content-Disposition, or "" */
	int cacheable;             /* static asset: may be cached */
};

/* NULL on ENOMEM. */
struct lw_api *lw_api_new(const struct lw_api_opts *o);
void lw_api_free(struct lw_api *api);

void lw_api_req_init(struct lw_api_req *r);
void lw_api_req_release(struct lw_api_req *r);

/* Answers r (fills the out members). Never fails: errors are responses. */
void lw_api_handle(struct lw_api *api, struct lw_api_req *r);

/* Login and connection counters of this process (also in GET
 * /api/v1/overview). */
struct lw_api_stats {
	uint64_t logins_ok, logins_failed, logins_limited, requests;
	uint64_t connections_refused; /* over api.max_connections_per_source */
};
void lw_api_get_stats(const struct lw_api *api, struct lw_api_stats *out);
/* The server closed a connection at accept (web/web.c). Server thread. */
void lw_api_count_refused(struct lw_api *api);

#endif
