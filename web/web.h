/* The HTTP server of the API and console (prefix lw_web): libevent's
 * evhttp on a thread and event_base of its own, so neither a slow browser
 * nor a long search ever touches the collector's loop; requests are
 * answered by web/api.h. HTTPS when given an OpenSSL context (the daemon
 * builds it with the TLS listener's code, collector/tls.c, and passes it
 * in: web/ does not include collector/).
 *
 * Every response carries: Content-Security-Policy (scripts, styles,
 * images and fetches from this origin only; no inline script or style;
 * frame-ancestors 'none'), X-Frame-Options DENY, X-Content-Type-Options
 * nosniff, Referrer-Policy no-referrer, and Cache-Control no-store
 * (except the compiled-in assets). Bodies over api.max_body_size are
 * refused by evhttp (413); headers over 16 KiB too.
 *
 * Threads: lw_web_start and lw_web_stop from the daemon's main thread;
 * the server thread reads and writes the store on its own. */
#ifndef LW_WEB_WEB_H
#define LW_WEB_WEB_H

#include <stddef.h>

#include "core/err.h"
#include "web/api.h"

struct ssl_ctx_st;
struct lw_web;

struct lw_web_opts {
	struct lw_api_opts api;     /* what the handlers use */
	const char *address;        /* host:port; port 0 = ephemeral */
	struct ssl_ctx_st *tls;     /* borrowed; NULL = plain HTTP */
};

/* Binds and starts the thread. LW_EINVAL (address), LW_EIO (bind:
 * diag.sys_errno), LW_ENOMEM. Borrowed objects must outlive lw_web_stop. */
int lw_web_start(const struct lw_web_opts *o, struct lw_web **out, struct lw_diag *diag);
/* "api http://127.0.0.1:8514" (the bound port). */
void lw_web_describe(const struct lw_web *w, char *out, size_t len);
/* Stops the thread and frees everything; NULL is allowed. */
void lw_web_stop(struct lw_web *w);

#endif
