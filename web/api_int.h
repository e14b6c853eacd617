/* web/api_int.h - what the files of the API share and nobody else sees:
 * the API's state, the route arguments, the helpers every handler uses
 * (errors, JSON, parameters, the audit hook), and the handlers of
 * api_incidents.c and api_events.c. Include only from web/. */
#ifndef LW_WEB_API_INT_H
#define LW_WEB_API_INT_H

#include "web/api.h"
#include "web/auth.h"
#include "web/jsonin.h"
#include "web/params.h"

struct lw_api {
	struct lw_api_opts o;
	struct lw_auth *auth;
	struct lw_api_stats stats;
	char timezone[64];         /* the zone the console shows times in */
};

/* What the router hands a handler. */
struct lw_api_call {
	struct lw_api *api;
	struct lw_api_req *r;
	const struct lw_principal *who;  /* NULL for anonymous routes */
	uint64_t id;                     /* {id} of the path, when it has one */
	struct lw_params params;         /* the query string */
	struct lw_jsonin body;           /* POST bodies */
	/* the audit record of a POST: target and detail (the handler fills) */
	char target[96];
	char detail[512];
};

/* Sets an error response: {"error":{"code":code,"message":...}}. */
void lw_api_error(struct lw_api_req *r, unsigned status, const char *code,
		  const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* An lw_err from the store as a response (not found 404, EINVAL 409 for
 * state changes when conflict is set else 400, ...). */
void lw_api_store_error(struct lw_api_req *r, int rc, const struct lw_diag *diag,
			int conflict);
/* Starts a 200 JSON response (resets the body). */
void lw_api_json(struct lw_api_req *r);
/* "key":"escaped value" with a leading comma unless first. */
void lw_api_jkey(struct lw_buf *b, const char *key, int first);

/* A parameter as time (RFC 3339 or an age): LW_OK with *ns, LW_ENOTFOUND
 * when absent; a bad value answers 400 and returns LW_EINVAL. */
int lw_api_param_time(struct lw_api_call *c, const char *key, int64_t *ns);
/* An unsigned parameter in [min, max], or def when absent; a bad one
 * answers 400 and returns LW_EINVAL. */
int lw_api_param_uint(struct lw_api_call *c, const char *key, uint64_t min,
		      uint64_t max, uint64_t def, uint64_t *out);

/* Handlers (api_incidents.c). */
void lw_api_incidents_list(struct lw_api_call *c);
void lw_api_incidents_csv(struct lw_api_call *c);
void lw_api_incidents_counts(struct lw_api_call *c);
void lw_api_incident_get(struct lw_api_call *c);
void lw_api_incident_ack(struct lw_api_call *c);
void lw_api_incident_close(struct lw_api_call *c);
void lw_api_incident_assign(struct lw_api_call *c);
void lw_api_incident_note(struct lw_api_call *c);
void lw_api_incident_step(struct lw_api_call *c);
void lw_api_incidents_bulk(struct lw_api_call *c);
/* Handlers (api_events.c). */
void lw_api_events(struct lw_api_call *c);
void lw_api_events_csv(struct lw_api_call *c);
void lw_api_events_histogram(struct lw_api_call *c);
void lw_api_events_top(struct lw_api_call *c);
void lw_api_fields(struct lw_api_call *c);
void lw_api_sources(struct lw_api_call *c);
void lw_api_overview(struct lw_api_call *c);

#endif
