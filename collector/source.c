/* collector/source.c - the kinds of sources and what they share (prefix
 * lw_source). See source.h. */
#include "collector/source.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "collector/dgram.h"
#include "collector/journal_http.h"
#include "collector/natsin.h"
#include "collector/tcp.h"
#include "core/ratelimit.h"

typedef int (*open_fn)(const struct lw_source_env *env, struct lw_source **out,
		       struct lw_diag *diag);

/* The one table of kinds, by listener type. binds_path: the socket is
 * named by the listener's path, not its address. */
static const struct {
	open_fn open;
	int binds_path;
} kinds[LW_LISTENER__COUNT] = {
	[LW_LISTENER_UDP] = {lw_dgram_open, 0},
	[LW_LISTENER_TCP] = {lw_tcp_open, 0},
	[LW_LISTENER_TLS] = {lw_tcp_open, 0},
	[LW_LISTENER_UNIX] = {lw_dgram_open, 1},
	[LW_LISTENER_JOURNAL_HTTP] = {lw_jhttp_open, 0},
	[LW_LISTENER_NATS] = {lw_natsin_source_open, 0},
};

int lw_source_open(const struct lw_source_env *env, struct lw_source **out,
		   struct lw_diag *diag)
{
	*out = NULL;
	if ((unsigned)env->lc->type >= LW_LISTENER__COUNT)
		return lw_diag_set(diag, LW_EINVAL, NULL, 0, 0, "unknown listener type %d",
				   (int)env->lc->type);
	return kinds[env->lc->type].open(env, out, diag);
}

int lw_source_start(struct lw_source *s)
{
	return s->ops->start(s);
}

void lw_source_pause(struct lw_source *s)
{
	if (s->ops->pause != NULL)
		s->ops->pause(s);
}

int lw_source_deliver_held(struct lw_source *s)
{
	return s->ops->deliver_held != NULL ? s->ops->deliver_held(s) : LW_OK;
}

int lw_source_resume(struct lw_source *s)
{
	return s->ops->resume != NULL ? s->ops->resume(s) : LW_OK;
}

void lw_source_tick(struct lw_source *s)
{
	if (s->ops->tick != NULL)
		s->ops->tick(s);
}

void lw_source_drain(struct lw_source *s)
{
	s->ops->drain(s);
}

int lw_source_update(struct lw_source *s, const struct lw_config *cfg,
		     const struct lw_listener_config *lc)
{
	return s->ops->update(s, cfg, lc);
}

void lw_source_close(struct lw_source *s)
{
	if (s != NULL)
		s->ops->close(s);
}

void lw_source_describe(const struct lw_source *s, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s %s", lw_config_listener_type_name(s->env.lc->type),
		 s->bound);
}

static const char *socket_name(const struct lw_listener_config *lc)
{
	return (unsigned)lc->type < LW_LISTENER__COUNT && kinds[lc->type].binds_path ?
		lc->path : lc->address;
}

int lw_source_same_socket(const struct lw_listener_config *a,
			  const struct lw_listener_config *b)
{
	return a->type == b->type && strcmp(socket_name(a), socket_name(b)) == 0;
}

void lw_source_init(struct lw_source *s, const struct lw_source_ops *ops,
		    const struct lw_source_env *env)
{
	s->ops = ops;
	s->env = *env;
	s->fd = -1;
	s->bound[0] = '\0';
}

int lw_source_sys_fail(struct lw_diag *diag, int err, const char *what,
		       const char *where)
{
	char ebuf[128];

	lw_diag_set(diag, LW_EIO, NULL, 0, 0, "cannot %s '%s': %s", what, where,
		    strerror_r(err, ebuf, sizeof(ebuf)));
	if (diag != NULL)
		diag->sys_errno = err;
	return LW_EIO;
}

int lw_source_bind_inet(struct lw_source *s, int socktype, struct lw_diag *diag)
{
	const char *addr = s->env.lc->address;
	struct sockaddr_storage ss;
	socklen_t sl = 0;
	int one = 1, rc;

	rc = lw_listener_resolve(addr, socktype, &ss, &sl, diag);
	if (rc != LW_OK)
		return rc;
	s->fd = socket(ss.ss_family, socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd == -1)
		return lw_source_sys_fail(diag, errno, "create socket for", addr);
	if (setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1)
		return lw_source_sys_fail(diag, errno, "set SO_REUSEADDR on", addr);
	if (bind(s->fd, (struct sockaddr *)&ss, sl) == -1)
		return lw_source_sys_fail(diag, errno, "bind", addr);
	if (socktype == SOCK_STREAM && listen(s->fd, SOMAXCONN) == -1)
		return lw_source_sys_fail(diag, errno, "listen on", addr);
	sl = sizeof(ss);
	if (getsockname(s->fd, (struct sockaddr *)&ss, &sl) == 0)
		lw_listener_format_peer((struct sockaddr *)&ss, s->bound, sizeof(s->bound));
	return LW_OK;
}

void lw_source_set_src(const struct lw_source *s, struct lw_listener_src *src,
		       const struct sockaddr *sa, const char *addr)
{
	const char *zone = sa != NULL ? lw_config_zone_of(s->env.cfg, sa) : NULL;

	if (zone == NULL)
		zone = s->env.lc->zone;
	src->zone = zone;
	src->zone_len = (uint32_t)strlen(zone);
	src->addr = addr;
	src->addr_len = (uint32_t)strlen(addr);
}

int lw_source_allows(const struct lw_source *s, const struct sockaddr *sa)
{
	return s->env.lc->allow.count == 0 ||
	       lw_cidr_list_contains(&s->env.lc->allow, sa);
}

/* A limiter of rate/burst over slots sources, or none when rate is 0. */
static int limiter(uint32_t rate, uint32_t burst, uint32_t slots,
		   struct lw_ratelimit **out, struct lw_diag *diag)
{
	*out = NULL;
	if (rate == 0)
		return LW_OK;
	*out = lw_ratelimit_new(rate, burst, slots, 0);
	if (*out == NULL)
		return lw_diag_set(diag, LW_ENOMEM, NULL, 0, 0, "listener: out of memory");
	return LW_OK;
}

int lw_source_ratelimit_new(const struct lw_source *s, struct lw_ratelimit **out,
			    struct lw_diag *diag)
{
	const struct lw_rate_limit_config *rl = &s->env.lc->rate_limit;

	return limiter(rl->events_per_second, rl->burst, rl->max_sources, out, diag);
}

int lw_source_budget_new(const struct lw_source *s, struct lw_ratelimit **out,
			 struct lw_diag *diag)
{
	const struct lw_rate_limit_config *rl = &s->env.lc->rate_limit;

	/* One key (all zeros) shares the whole table: 16 slots, the least. */
	return limiter(rl->listener_events_per_second, rl->listener_burst, 16, out, diag);
}
