/* collector/listener.c - UDP, TCP and unix datagram listeners on libevent
 * (prefix lw_listener). Collector thread only.
 *
 * Speed: streams are read with one read(2) of up to rbuf_len (256 KiB)
 * per wakeup into a buffer shared by all connections (frames are copied
 * into the batch arena anyway, so a per-connection buffer would only cost
 * memory: 1,000 idle connections hold a framer each and nothing else).
 * Datagrams come LW_DGRAM_VLEN at a time through recvmmsg(2).
 *
 * Kernel drops: datagram sockets have SO_RXQ_OVFL, so each datagram
 * carries the socket's drop total (sk_drops) as it was when the datagram
 * was queued; the increase goes to LW_CTR_DROPPED_KERNEL. Drops after the
 * last queued datagram show up in no datagram, so lw_listener_tick and the
 * stop also read the total with SO_MEMINFO. Both are readings of one
 * counter: only an increase over the highest total seen is added.
 *
 * Backpressure and memory: a stream connection whose frame was refused
 * holds that frame and the rest of its read in its framer, and is not read
 * again until they are delivered (conn_cb checks lw_framing_pending), so a
 * connection holds at most one read buffer (256 KiB) whatever the pause
 * state says. Fairness: after a pause, only the connection that got to read
 * first makes progress, so the one that stalled moves to the end of the
 * list, and connections are re-armed in list order (epoll reports ready
 * sockets in the order they were added).
 */
#include "collector/listener.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <event2/event.h>
#include <linux/sock_diag.h> /* SK_MEMINFO_DROPS */
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "collector/framing.h"
#include "core/time.h"

#define LW_DGRAM_VLEN 32       /* datagrams per recvmmsg call */
#define LW_DGRAM_ROUNDS 8      /* recvmmsg calls per wakeup: fairness */
#define LW_DGRAM_CMSG CMSG_SPACE(sizeof(uint32_t)) /* SO_RXQ_OVFL per datagram */
#define LW_ACCEPT_BURST 64     /* accepts per wakeup */
#define LW_ACCEPT_BACKOFF_MS 100 /* pause accepting after EMFILE */
#define LW_UDP_RCVBUF (8 << 20) /* absorbs a commit's fsync at high rates */
#define LW_DRAIN_STREAM_MAX (64u << 20) /* bytes read per connection at stop */
#define LW_DRAIN_DGRAM_ROUNDS 4096
#define LW_DRAIN_QUIET_MS 100       /* no new bytes for this long: the sender is done */
#define LW_DRAIN_DEADLINE_MS 5000   /* whole stream drain at stop, all connections */

struct conn {
	struct lw_listener *l;
	int fd;
	int closing; /* peer gone; held frames still to deliver */
	struct event *ev;
	struct lw_framing *fr;
	struct lw_listener_src src;
	char addr[INET6_ADDRSTRLEN + 16];
	struct sockaddr_storage peer; /* its zone is looked up again on reload */
	struct conn *prev, *next;
};

struct lw_listener {
	struct lw_listener_env env;
	enum lw_listener_type type;
	int fd;
	int paused;
	struct event *ev;        /* datagrams or accept */
	struct event *backoff;   /* re-enables accept after EMFILE */
	const struct timeval *idle_tv; /* common timeout, NULL = none */
	char bound[160];         /* "127.0.0.1:40001" or the unix path */
	struct conn *conns, *conns_tail; /* re-armed head first */
	uint32_t nconns;
	/* datagram state */
	uint8_t *dbuf;
	size_t dbuf_each;
	struct mmsghdr *msgs;
	struct iovec *iov;
	struct sockaddr_storage *peers;
	uint8_t *cbuf;             /* LW_DGRAM_VLEN control buffers */
	uint32_t kdrops_seen;      /* highest sk_drops total seen */
	struct sockaddr_storage last_peer; /* cache: one sender sends many */
	socklen_t last_peer_len;
	struct lw_listener_src last_src;
	char last_addr[INET6_ADDRSTRLEN + 16];
	int64_t now_ns;
	uint64_t refused_logged;
};

/* ---- frame -> event ------------------------------------------------- */

void lw_listener_counts_flush(struct lw_listener_counts *cnt,
			      struct lw_counters *c)
{
	if (cnt->received)
		lw_counters_add(c, LW_CTR_RECEIVED, cnt->received);
	if (cnt->bytes)
		lw_counters_add(c, LW_CTR_BYTES_RECEIVED, cnt->bytes);
	if (cnt->parsed)
		lw_counters_add(c, LW_CTR_PARSED, cnt->parsed);
	if (cnt->malformed)
		lw_counters_add(c, LW_CTR_MALFORMED, cnt->malformed);
	if (cnt->truncated)
		lw_counters_add(c, LW_CTR_TRUNCATED, cnt->truncated);
	if (cnt->framing_errors)
		lw_counters_add(c, LW_CTR_FRAMING_ERRORS, cnt->framing_errors);
	memset(cnt, 0, sizeof(*cnt));
}

int lw_listener_add_frame(struct lw_batch *b, const uint8_t *msg, size_t len,
			  unsigned flags, const struct lw_listener_src *src,
			  const struct lw_parse_opts *po,
			  lw_listener_parse_fn parse,
			  struct lw_listener_counts *cnt)
{
	struct lw_event *ev;
	char *copy;

	if (len > UINT32_MAX)
		len = UINT32_MAX;
	if (lw_batch_full(b))
		return LW_EFULL;
	/* One allocation for the frame and the source address; the frame is
	 * parsed in place, so every event string is a view into this copy. */
	copy = lw_arena_alloc(&b->arena, len + src->addr_len + 1);
	if (copy == NULL)
		return LW_ENOMEM;
	memcpy(copy, msg, len);
	copy[len] = '\0';
	memcpy(copy + len + 1, src->addr, src->addr_len);
	ev = lw_batch_push(b);
	(parse != NULL ? parse : lw_syslog_parse)(copy, len, po, ev);
	ev->zone.ptr = src->zone;
	ev->zone.len = src->zone_len;
	ev->source_address.ptr = copy + len + 1;
	ev->source_address.len = src->addr_len;
	if (flags & (LW_MSG_TRUNCATED | LW_MSG_PARTIAL)) {
		ev->flags |= LW_EVENT_TRUNCATED;
		cnt->truncated++;
	}
	if (ev->flags & LW_EVENT_PARSE_ERROR)
		cnt->malformed++;
	else
		cnt->parsed++;
	cnt->received++;
	cnt->bytes += len;
	b->raw_bytes += len;
	return LW_OK;
}

/* ---- helpers ---------------------------------------------------------- */

static void format_peer(const struct sockaddr *sa, char *out, size_t outlen)
{
	char ip[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip));
		snprintf(out, outlen, "%s:%u", ip, ntohs(in->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip));
		snprintf(out, outlen, "[%s]:%u", ip, ntohs(in6->sin6_port));
	} else {
		snprintf(out, outlen, "?");
	}
}

static void set_src(struct lw_listener *l, struct lw_listener_src *src,
		    const struct sockaddr *sa, const char *addr)
{
	const char *zone = sa ? lw_config_zone_of(l->env.cfg, sa) : NULL;

	if (zone == NULL)
		zone = l->env.lc->zone;
	src->zone = zone;
	src->zone_len = (uint32_t)strlen(zone);
	src->addr = addr;
	src->addr_len = (uint32_t)strlen(addr);
}

static int sys_fail(struct lw_diag *diag, int err, const char *what,
		    const char *where)
{
	char ebuf[128];

	lw_diag_set(diag, LW_EIO, NULL, 0, 0, "cannot %s '%s': %s", what, where,
		    strerror_r(err, ebuf, sizeof(ebuf)));
	if (diag != NULL)
		diag->sys_errno = err;
	return LW_EIO;
}

/* "127.0.0.1:5514", "[::1]:5514", "localhost:5514" -> sockaddr. */
static int resolve(const char *address, int socktype,
		   struct sockaddr_storage *ss, socklen_t *sl,
		   struct lw_diag *diag)
{
	char host[128], *colon;
	const char *port;
	struct addrinfo hints, *res = NULL;
	int rc;

	snprintf(host, sizeof(host), "%s", address);
	colon = strrchr(host, ':');
	if (colon == NULL)
		return lw_diag_set(diag, LW_EINVAL, NULL, 0, 0,
				   "address '%s' needs a port (host:port)", address);
	*colon = '\0';
	port = colon + 1;
	if (host[0] == '[') {
		size_t n = strlen(host);
		if (n < 2 || host[n - 1] != ']')
			return lw_diag_set(diag, LW_EINVAL, NULL, 0, 0,
					   "bad IPv6 address '%s'", address);
		host[n - 1] = '\0';
		memmove(host, host + 1, n - 1);
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = socktype;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	rc = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
	if (rc != 0)
		return lw_diag_set(diag, LW_EINVAL, NULL, 0, 0,
				   "cannot resolve '%s': %s", address, gai_strerror(rc));
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*sl = res->ai_addrlen;
	freeaddrinfo(res);
	return LW_OK;
}

static void describe_bound(struct lw_listener *l)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (getsockname(l->fd, (struct sockaddr *)&ss, &sl) == 0)
		format_peer((struct sockaddr *)&ss, l->bound, sizeof(l->bound));
}

/* ---- datagrams (UDP and unix) ------------------------------------------ */

static const struct lw_listener_src *dgram_src(struct lw_listener *l,
					       const struct mmsghdr *m)
{
	const struct sockaddr *sa = m->msg_hdr.msg_name;
	socklen_t sl = m->msg_hdr.msg_namelen;

	if (l->type == LW_LISTENER_UNIX)
		return &l->last_src; /* set once: the socket path */
	if (sl != l->last_peer_len || memcmp(sa, &l->last_peer, sl) != 0) {
		memcpy(&l->last_peer, sa, sl);
		l->last_peer_len = sl;
		format_peer(sa, l->last_addr, sizeof(l->last_addr));
		set_src(l, &l->last_src, sa, l->last_addr);
	}
	return &l->last_src;
}

/* total: a reading of the socket's cumulative drop counter (uint32, may
 * wrap). Returns how far it is ahead of the highest reading so far; an
 * older reading (a datagram queued before the last SO_MEMINFO) gives 0. */
static uint32_t kdrops_note(struct lw_listener *l, uint32_t total)
{
	uint32_t d = total - l->kdrops_seen;

	if (d == 0 || d > UINT32_MAX / 2)
		return 0;
	l->kdrops_seen = total;
	return d;
}

/* The SO_RXQ_OVFL total a datagram carries (absent while it is 0). */
static uint32_t kdrops_of(struct lw_listener *l, struct msghdr *h)
{
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(h); cm != NULL;
	     cm = CMSG_NXTHDR(h, cm)) {
		uint32_t total;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SO_RXQ_OVFL ||
		    cm->cmsg_len < CMSG_LEN(sizeof(total)))
			continue;
		memcpy(&total, CMSG_DATA(cm), sizeof(total));
		return kdrops_note(l, total);
	}
	return 0;
}

/* Reads the drop total now (datagram sockets; others: nothing). */
static void kdrops_poll(struct lw_listener *l)
{
	uint32_t mi[SK_MEMINFO_VARS];
	socklen_t len = sizeof(mi);
	uint32_t d;

	if (l->type == LW_LISTENER_TCP || l->fd == -1)
		return;
	if (getsockopt(l->fd, SOL_SOCKET, SO_MEMINFO, mi, &len) == -1 ||
	    len < sizeof(mi))
		return; /* before Linux 4.6: datagrams still carry the total */
	d = kdrops_note(l, mi[SK_MEMINFO_DROPS]);
	if (d > 0)
		lw_counters_add(l->env.counters, LW_CTR_DROPPED_KERNEL, d);
}

/* Reads up to rounds * LW_DGRAM_VLEN datagrams; returns how many. */
static unsigned dgram_read(struct lw_listener *l, unsigned rounds)
{
	unsigned total = 0;
	uint64_t dropped = 0, kdropped = 0;

	for (unsigned r = 0; r < rounds; r++) {
		int n;

		for (unsigned i = 0; i < LW_DGRAM_VLEN; i++) {
			l->msgs[i].msg_hdr.msg_namelen = sizeof(l->peers[i]);
			l->msgs[i].msg_hdr.msg_controllen = LW_DGRAM_CMSG;
			l->msgs[i].msg_hdr.msg_flags = 0;
		}
		n = recvmmsg(l->fd, l->msgs, LW_DGRAM_VLEN, MSG_DONTWAIT, NULL);
		if (n == -1)
			break; /* EAGAIN, or an error the next wakeup retries */
		l->now_ns = lw_time_now_ns();
		for (int i = 0; i < n; i++) {
			const uint8_t *p = l->iov[i].iov_base;
			size_t len = l->msgs[i].msg_len;
			unsigned flags = 0;

			kdropped += kdrops_of(l, &l->msgs[i].msg_hdr);
			if (l->msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
				flags = LW_MSG_TRUNCATED;
				len = l->dbuf_each;
			}
			/* Senders differ: some end a datagram with LF or NUL. */
			while (len > 0 && (p[len - 1] == '\n' || p[len - 1] == '\r' ||
					   p[len - 1] == '\0'))
				len--;
			if (len == 0)
				continue;
			if (l->env.sink.frame(l->env.sink.arg, p, len, flags,
					      dgram_src(l, &l->msgs[i]),
					      l->now_ns) != LW_OK)
				dropped++;
		}
		total += (unsigned)n;
		if (n < LW_DGRAM_VLEN)
			break;
	}
	if (dropped > 0)
		lw_counters_add(l->env.counters, LW_CTR_DROPPED_UDP, dropped);
	if (kdropped > 0)
		lw_counters_add(l->env.counters, LW_CTR_DROPPED_KERNEL, kdropped);
	return total;
}

static void dgram_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	dgram_read(arg, LW_DGRAM_ROUNDS);
}

static int dgram_alloc(struct lw_listener *l)
{
	size_t each = l->env.lc->max_message_bytes;

	if (each == 0 || each > 65535)
		each = 65535; /* no datagram is larger */
	l->dbuf_each = each;
	l->dbuf = malloc(each * LW_DGRAM_VLEN);
	l->msgs = calloc(LW_DGRAM_VLEN, sizeof(*l->msgs));
	l->iov = calloc(LW_DGRAM_VLEN, sizeof(*l->iov));
	l->peers = calloc(LW_DGRAM_VLEN, sizeof(*l->peers));
	/* calloc: aligned for struct cmsghdr; LW_DGRAM_CMSG keeps it so. */
	l->cbuf = calloc(LW_DGRAM_VLEN, LW_DGRAM_CMSG);
	if (!l->dbuf || !l->msgs || !l->iov || !l->peers || !l->cbuf)
		return LW_ENOMEM;
	for (unsigned i = 0; i < LW_DGRAM_VLEN; i++) {
		l->iov[i].iov_base = l->dbuf + i * each;
		l->iov[i].iov_len = each;
		l->msgs[i].msg_hdr.msg_iov = &l->iov[i];
		l->msgs[i].msg_hdr.msg_iovlen = 1;
		l->msgs[i].msg_hdr.msg_name = &l->peers[i];
		l->msgs[i].msg_hdr.msg_control = l->cbuf + i * LW_DGRAM_CMSG;
	}
	return LW_OK;
}

/* A stale socket file from a crashed daemon is removed; a live one (some
 * process still bound: connect succeeds) is an error, not a takeover. */
static int unix_prepare(const char *path, struct lw_diag *diag)
{
	struct sockaddr_un sun;
	struct stat st;
	int fd, live;

	if (lstat(path, &st) == -1)
		return LW_OK;
	if (!S_ISSOCK(st.st_mode))
		return lw_diag_set(diag, LW_EINVAL, NULL, 0, 0,
				   "'%s' exists and is not a socket", path);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return sys_fail(diag, errno, "create socket for", path);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path)); /* caller checked the length */
	live = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0;
	close(fd);
	if (live)
		return lw_diag_set(diag, LW_EIO, NULL, 0, 0,
				   "socket '%s' is in use by another process", path);
	if (unlink(path) == -1)
		return sys_fail(diag, errno, "remove stale socket", path);
	return LW_OK;
}

/* Each datagram then carries the socket's kernel drop total. */
static int set_rxq_ovfl(int fd)
{
	int one = 1;

	return setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one));
}

static int open_unix(struct lw_listener *l, struct lw_diag *diag)
{
	const char *path = l->env.lc->path;
	struct sockaddr_un sun;
	int rc;

	if (strlen(path) >= sizeof(sun.sun_path))
		return lw_diag_set(diag, LW_EINVAL, NULL, 0, 0,
				   "unix socket path '%s' is too long", path);
	rc = unix_prepare(path, diag);
	if (rc != LW_OK)
		return rc;
	l->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (l->fd == -1)
		return sys_fail(diag, errno, "create socket for", path);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path)); /* length checked above */
	if (set_rxq_ovfl(l->fd) == -1)
		return sys_fail(diag, errno, "set SO_RXQ_OVFL on", path);
	if (bind(l->fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		return sys_fail(diag, errno, "bind", path);
	/* Like /dev/log: every local process may log. */
	if (chmod(path, 0666) == -1)
		return sys_fail(diag, errno, "chmod", path);
	memcpy(l->bound, path, strlen(path) + 1);
	set_src(l, &l->last_src, NULL, l->bound);
	return LW_OK;
}

static int open_inet(struct lw_listener *l, int socktype, struct lw_diag *diag)
{
	const char *addr = l->env.lc->address;
	struct sockaddr_storage ss;
	socklen_t sl = 0;
	int one = 1, rc;

	rc = resolve(addr, socktype, &ss, &sl, diag);
	if (rc != LW_OK)
		return rc;
	l->fd = socket(ss.ss_family, socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (l->fd == -1)
		return sys_fail(diag, errno, "create socket for", addr);
	if (setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1)
		return sys_fail(diag, errno, "set SO_REUSEADDR on", addr);
	if (socktype == SOCK_DGRAM) {
		int sz = LW_UDP_RCVBUF;
		/* Best effort: capped by net.core.rmem_max. */
		setsockopt(l->fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
		if (set_rxq_ovfl(l->fd) == -1)
			return sys_fail(diag, errno, "set SO_RXQ_OVFL on", addr);
	}
	if (bind(l->fd, (struct sockaddr *)&ss, sl) == -1)
		return sys_fail(diag, errno, "bind", addr);
	if (socktype == SOCK_STREAM && listen(l->fd, SOMAXCONN) == -1)
		return sys_fail(diag, errno, "listen on", addr);
	describe_bound(l);
	return LW_OK;
}

/* ---- streams (TCP) ------------------------------------------------------ */

static void conn_unlink(struct conn *c)
{
	struct lw_listener *l = c->l;

	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		l->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	else
		l->conns_tail = c->prev;
	c->prev = c->next = NULL;
}

static void conn_append(struct conn *c)
{
	struct lw_listener *l = c->l;

	c->prev = l->conns_tail;
	c->next = NULL;
	if (l->conns_tail != NULL)
		l->conns_tail->next = c;
	else
		l->conns = c;
	l->conns_tail = c;
}

static void conn_free(struct conn *c)
{
	struct lw_listener *l = c->l;

	conn_unlink(c);
	l->nconns--;
	if (c->ev != NULL)
		event_free(c->ev);
	if (c->fd != -1)
		close(c->fd);
	lw_framing_free(c->fr);
	free(c);
}

static int conn_frame(void *arg, const uint8_t *msg, size_t len, unsigned flags)
{
	struct conn *c = arg;
	struct lw_listener *l = c->l;

	return l->env.sink.frame(l->env.sink.arg, msg, len, flags, &c->src,
				 l->now_ns);
}

static void conn_stats(struct conn *c)
{
	struct lw_framing_stats st = {0};

	lw_framing_take_stats(c->fr, &st);
	if (st.bad_octet_count + st.partial > 0)
		lw_counters_add(c->l->env.counters, LW_CTR_FRAMING_ERRORS,
				st.bad_octet_count + st.partial);
}

/* The peer is gone (or idle, or we stop): deliver the partial frame, then
 * free. When the sink is full the connection lingers, fd closed, until
 * lw_listener_resume finishes it. Returns LW_OK or LW_EFULL. */
static int conn_finish(struct conn *c)
{
	int rc;

	c->closing = 1;
	if (c->ev != NULL)
		event_del(c->ev);
	if (c->fd != -1) {
		close(c->fd);
		c->fd = -1;
	}
	c->l->now_ns = lw_time_now_ns();
	rc = lw_framing_finish(c->fr, conn_frame, c);
	conn_stats(c);
	if (rc == LW_EFULL)
		return rc;
	conn_free(c);
	return LW_OK;
}

/* c holds a refused frame: it goes last in the re-arm order (fairness),
 * and the sink pauses every stream connection. */
static void conn_stall(struct conn *c)
{
	struct lw_listener *l = c->l;

	conn_unlink(c);
	conn_append(c);
	l->env.sink.stalled(l->env.sink.arg);
}

static void conn_close(struct conn *c)
{
	if (conn_finish(c) == LW_EFULL)
		conn_stall(c);
}

/* Delivers what open connection c held back. LW_OK, LW_EFULL or a
 * framing error. */
static int conn_deliver_held(struct conn *c)
{
	int rc;

	if (!lw_framing_pending(c->fr))
		return LW_OK;
	c->l->now_ns = lw_time_now_ns();
	rc = lw_framing_feed(c->fr, NULL, 0, conn_frame, c);
	conn_stats(c);
	return rc;
}

static void log_conn_error(struct conn *c, const char *msg, const char *err)
{
	lw_log(c->l->env.log, LW_LOG_ERR, "collector", msg, "peer", c->addr,
	       "error", err, NULL);
}

static void conn_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	struct lw_listener *l = c->l;
	ssize_t n;
	int rc;

	if (what & EV_TIMEOUT) {
		lw_counters_add(l->env.counters, LW_CTR_CONN_IDLE_CLOSED, 1);
		conn_close(c);
		return;
	}
	/* Never read on top of held bytes: each read would add up to
	 * rbuf_len to the framer. Normally a paused connection gets no
	 * event; this also holds if one comes anyway. */
	rc = conn_deliver_held(c);
	if (rc == LW_EFULL) {
		event_del(c->ev);
		conn_stall(c);
		return;
	}
	if (rc != LW_OK)
		goto fail;
	n = read(fd, l->env.rbuf, l->env.rbuf_len);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) { /* EOF, or ECONNRESET and friends: the peer is gone */
		conn_close(c);
		return;
	}
	l->now_ns = lw_time_now_ns();
	rc = lw_framing_feed(c->fr, l->env.rbuf, (size_t)n, conn_frame, c);
	conn_stats(c);
	if (rc == LW_EFULL)
		conn_stall(c);
	else if (rc != LW_OK)
		goto fail;
	return;

fail:
	log_conn_error(c, "cannot frame stream; closing connection",
		       lw_strerror(rc));
	conn_close(c);
}

/* LW_OK, or LW_EIO with errno from event_add (epoll_ctl, or ENOMEM). */
static int conn_arm(struct conn *c)
{
	return event_add(c->ev, c->l->idle_tv) == 0 ? LW_OK : LW_EIO;
}

static void refuse(struct lw_listener *l, int fd, const char *why,
		   const char *peer)
{
	close(fd);
	lw_counters_add(l->env.counters, LW_CTR_CONN_REFUSED, 1);
	/* Log the first and then every 1000th: a flood must not flood us. */
	if (l->refused_logged++ % 1000 == 0)
		lw_log(l->env.log, LW_LOG_WARNING, "collector",
		       "connection refused", "listener", l->bound, "peer", peer,
		       "reason", why, NULL);
}

static void accept_one(struct lw_listener *l, int fd,
		       const struct sockaddr *sa)
{
	struct conn *c;
	char peer[INET6_ADDRSTRLEN + 16];
	const char *why = "out of memory";

	format_peer(sa, peer, sizeof(peer));
	if (l->nconns >= l->env.lc->max_connections) {
		refuse(l, fd, "max_connections", peer);
		return;
	}
	if (l->env.lc->allow.count > 0 &&
	    !lw_cidr_list_contains(&l->env.lc->allow, sa)) {
		refuse(l, fd, "not in allow", peer);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		goto fail;
	c->l = l;
	c->fd = fd;
	memcpy(c->addr, peer, sizeof(peer));
	memcpy(&c->peer, sa, sa->sa_family == AF_INET6 ?
	       sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
	set_src(l, &c->src, sa, c->addr);
	c->fr = lw_framing_new(l->env.lc->framing, l->env.lc->max_message_bytes);
	c->ev = event_new(l->env.base, fd, EV_READ | EV_PERSIST, conn_cb, c);
	if (c->fr == NULL || c->ev == NULL)
		goto fail;
	/* Nothing was read yet, so a connection we cannot watch is refused. */
	if (!l->paused && conn_arm(c) != LW_OK) {
		why = "cannot watch connection";
		goto fail;
	}
	conn_append(c);
	l->nconns++;
	lw_counters_add(l->env.counters, LW_CTR_CONN_ACCEPTED, 1);
	return;

fail:
	if (c != NULL) {
		lw_framing_free(c->fr);
		if (c->ev != NULL)
			event_free(c->ev);
		free(c);
	}
	refuse(l, fd, why, peer);
}

/* Stop accepting for LW_ACCEPT_BACKOFF_MS. When the timer cannot be
 * armed, keep accepting: spinning on EMFILE beats going deaf. */
static void accept_backoff(struct lw_listener *l)
{
	struct timeval tv = {0, LW_ACCEPT_BACKOFF_MS * 1000};

	if (event_add(l->backoff, &tv) == -1) {
		lw_log(l->env.log, LW_LOG_ERR, "collector",
		       "cannot arm accept backoff timer", "listener", l->bound,
		       NULL);
		return;
	}
	event_del(l->ev);
}

static void backoff_cb(evutil_socket_t fd, short what, void *arg)
{
	struct lw_listener *l = arg;

	(void)fd;
	(void)what;
	if (event_add(l->ev, NULL) == -1) {
		/* Try again after the next backoff; say so, once per try. */
		lw_log(l->env.log, LW_LOG_ERR, "collector",
		       "cannot resume accepting; retrying", "listener", l->bound,
		       NULL);
		accept_backoff(l);
	}
}

static void accept_cb(evutil_socket_t lfd, short what, void *arg)
{
	struct lw_listener *l = arg;

	(void)what;
	for (int k = 0; k < LW_ACCEPT_BURST; k++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int fd = accept4(lfd, (struct sockaddr *)&ss, &sl,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd == -1) {
			int err = errno;
			char ebuf[128];

			if (err == EAGAIN || err == EWOULDBLOCK)
				return;
			if (err == EINTR || err == ECONNABORTED)
				continue;
			/* EMFILE/ENFILE/ENOBUFS: the pending connection stays
			 * queued and would wake us forever; back off. */
			lw_log(l->env.log, LW_LOG_ERR, "collector",
			       "cannot accept connection", "listener", l->bound,
			       "error", strerror_r(err, ebuf, sizeof(ebuf)), NULL);
			accept_backoff(l);
			return;
		}
		accept_one(l, fd, (struct sockaddr *)&ss);
	}
}

/* ---- lifecycle ------------------------------------------------------------ */

/* The idle timeout of connections armed from now on (NULL = none). */
static void set_idle_tv(struct lw_listener *l)
{
	struct timeval tv = {l->env.lc->idle_timeout_ms / 1000,
			     (l->env.lc->idle_timeout_ms % 1000) * 1000};

	/* Common timeout: O(1) re-arm per read with 1,000s of connections
	 * sharing the same duration. */
	l->idle_tv = l->env.lc->idle_timeout_ms > 0 ?
		event_base_init_common_timeout(l->env.base, &tv) : NULL;
}

static const char *type_name(enum lw_listener_type t)
{
	switch (t) {
	case LW_LISTENER_UDP: return "udp";
	case LW_LISTENER_TCP: return "tcp";
	case LW_LISTENER_TLS: return "tls";
	case LW_LISTENER_UNIX: return "unix";
	case LW_LISTENER_JOURNAL_HTTP: return "journal-http";
	}
	return "?";
}

int lw_listener_open(const struct lw_listener_env *env,
		     struct lw_listener **out, struct lw_diag *diag)
{
	struct lw_listener *l;
	int rc;

	*out = NULL;
	if (env->lc->type != LW_LISTENER_UDP && env->lc->type != LW_LISTENER_TCP &&
	    env->lc->type != LW_LISTENER_UNIX)
		return lw_diag_set(diag, LW_EINVAL, env->cfg->path[0] ? env->cfg->path : NULL,
				   0, 0, "listener type '%s' is not supported yet",
				   type_name(env->lc->type));
	l = calloc(1, sizeof(*l));
	if (l == NULL)
		return LW_ENOMEM;
	l->env = *env;
	l->type = env->lc->type;
	l->fd = -1;
	switch (l->type) {
	case LW_LISTENER_TCP:
		rc = open_inet(l, SOCK_STREAM, diag);
		if (rc != LW_OK)
			goto fail;
		l->ev = event_new(env->base, l->fd, EV_READ | EV_PERSIST, accept_cb, l);
		l->backoff = evtimer_new(env->base, backoff_cb, l);
		set_idle_tv(l);
		break;
	case LW_LISTENER_UDP:
		rc = open_inet(l, SOCK_DGRAM, diag);
		if (rc == LW_OK)
			rc = dgram_alloc(l);
		if (rc != LW_OK)
			goto fail;
		l->ev = event_new(env->base, l->fd, EV_READ | EV_PERSIST, dgram_cb, l);
		break;
	default:
		rc = open_unix(l, diag);
		if (rc == LW_OK)
			rc = dgram_alloc(l);
		if (rc != LW_OK)
			goto fail;
		l->ev = event_new(env->base, l->fd, EV_READ | EV_PERSIST, dgram_cb, l);
		break;
	}
	rc = LW_ENOMEM;
	if (l->ev == NULL || (l->type == LW_LISTENER_TCP && l->backoff == NULL))
		goto fail;
	*out = l;
	return LW_OK;

fail:
	if (rc == LW_ENOMEM)
		lw_diag_set(diag, rc, NULL, 0, 0, "listener: out of memory");
	lw_listener_close(l);
	return rc;
}

int lw_listener_start(struct lw_listener *l)
{
	return event_add(l->ev, NULL) == 0 ? LW_OK : LW_EIO;
}

void lw_listener_describe(const struct lw_listener *l, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s %s", type_name(l->type), l->bound);
}

void lw_listener_pause(struct lw_listener *l)
{
	if (l->type != LW_LISTENER_TCP || l->paused)
		return;
	l->paused = 1;
	for (struct conn *c = l->conns; c != NULL; c = c->next)
		if (!c->closing)
			event_del(c->ev);
}

int lw_listener_deliver_held(struct lw_listener *l)
{
	struct conn *c, *next;

	if (l->type != LW_LISTENER_TCP)
		return LW_OK;
	for (c = l->conns; c != NULL; c = next) {
		int rc;

		next = c->next;
		/* conn_finish frees c unless it returns LW_EFULL. */
		rc = c->closing ? conn_finish(c) : conn_deliver_held(c);
		if (rc == LW_EFULL)
			return LW_EFULL;
		if (rc != LW_OK) {
			log_conn_error(c, "cannot frame stream; closing connection",
				       lw_strerror(rc));
			if (conn_finish(c) == LW_EFULL)
				return LW_EFULL;
		}
	}
	return LW_OK;
}

int lw_listener_resume(struct lw_listener *l)
{
	struct conn *c, *next;
	int full = 0;

	/* First every held frame, so a connection that is resumed never
	 * overtakes its own held bytes. */
	if (lw_listener_deliver_held(l) == LW_EFULL)
		return LW_EFULL;
	if (l->type != LW_LISTENER_TCP || !l->paused)
		return LW_OK;
	l->paused = 0;
	for (c = l->conns; c != NULL; c = next) {
		char ebuf[128];

		next = c->next;
		if (conn_arm(c) == LW_OK)
			continue;
		/* Unwatched, it would hang until the peer gives up. */
		log_conn_error(c, "cannot watch connection; closing it",
			       strerror_r(errno, ebuf, sizeof(ebuf)));
		if (conn_finish(c) == LW_EFULL)
			full = 1;
	}
	if (!full)
		return LW_OK;
	lw_listener_pause(l);
	return LW_EFULL;
}

int lw_listener_update(struct lw_listener *l, const struct lw_config *cfg,
		       const struct lw_listener_config *lc)
{
	size_t each = lc->max_message_bytes;

	l->env.cfg = cfg;
	l->env.lc = lc;
	/* Every zone string borrowed from the old config is looked up again
	 * in the new one before the old one can go. */
	for (struct conn *c = l->conns; c != NULL; c = c->next)
		set_src(l, &c->src, (const struct sockaddr *)&c->peer, c->addr);
	l->last_peer_len = 0; /* the UDP sender cache holds a zone too */
	if (l->type == LW_LISTENER_UNIX)
		set_src(l, &l->last_src, NULL, l->bound);
	if (l->type == LW_LISTENER_TCP) {
		set_idle_tv(l);
		return LW_OK;
	}
	if (each == 0 || each > 65535)
		each = 65535;
	if (each != l->dbuf_each) {
		uint8_t *dbuf = malloc(each * LW_DGRAM_VLEN);

		if (dbuf == NULL)
			return LW_ENOMEM; /* the old size stays in force */
		free(l->dbuf);
		l->dbuf = dbuf;
		l->dbuf_each = each;
		for (unsigned i = 0; i < LW_DGRAM_VLEN; i++) {
			l->iov[i].iov_base = l->dbuf + i * each;
			l->iov[i].iov_len = each;
		}
	}
	return LW_OK;
}

void lw_listener_tick(struct lw_listener *l)
{
	kdrops_poll(l);
}

/* A sender that wrote everything before we were told to stop may still
 * have bytes in flight: its send queue drains into our receive buffer only
 * as we read. So an empty buffer is not the end: wait for a short quiet
 * period (LW_DRAIN_QUIET_MS) before giving up, within an overall deadline
 * so a sender that never pauses cannot hold the stop forever. */
static int drain_wait(int fd, int64_t deadline_ms)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	struct timespec now;
	int64_t left;

	clock_gettime(CLOCK_MONOTONIC, &now);
	left = deadline_ms - ((int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000);
	if (left <= 0)
		return 0;
	return poll(&pfd, 1, (int)(left < LW_DRAIN_QUIET_MS ? left : LW_DRAIN_QUIET_MS)) == 1;
}

void lw_listener_drain(struct lw_listener *l)
{
	struct timespec start;
	int64_t deadline;

	clock_gettime(CLOCK_MONOTONIC, &start);
	deadline = (int64_t)start.tv_sec * 1000 + start.tv_nsec / 1000000 + LW_DRAIN_DEADLINE_MS;
	if (l->ev != NULL)
		event_del(l->ev);
	if (l->type != LW_LISTENER_TCP) {
		dgram_read(l, LW_DRAIN_DGRAM_ROUNDS);
		kdrops_poll(l); /* drops that no queued datagram reported */
		return;
	}
	/* Stop accepting first: a connection in the backlog has sent nothing
	 * we have read, so closing it loses nothing we took responsibility for. */
	if (l->fd != -1)
		close(l->fd);
	l->fd = -1;
	while (l->conns != NULL) {
		struct conn *c = l->conns;
		size_t got = 0;

		if (!c->closing) {
			lw_framing_feed(c->fr, NULL, 0, conn_frame, c);
			while (got < LW_DRAIN_STREAM_MAX) {
				ssize_t n = read(c->fd, l->env.rbuf, l->env.rbuf_len);
				if (n == -1 && errno == EAGAIN && drain_wait(c->fd, deadline))
					continue;
				if (n <= 0)
					break;
				got += (size_t)n;
				l->now_ns = lw_time_now_ns();
				lw_framing_feed(c->fr, l->env.rbuf, (size_t)n,
						conn_frame, c);
			}
		}
		/* The sink blocks for a batch now, so LW_EFULL cannot happen;
		 * if it did, freeing here still ends the loop. */
		if (conn_finish(c) != LW_OK)
			conn_free(c);
	}
}

void lw_listener_close(struct lw_listener *l)
{
	if (l == NULL)
		return;
	while (l->conns != NULL)
		conn_free(l->conns);
	if (l->ev != NULL)
		event_free(l->ev);
	if (l->backoff != NULL)
		event_free(l->backoff);
	if (l->fd != -1)
		close(l->fd);
	if (l->type == LW_LISTENER_UNIX && l->bound[0] != '\0')
		unlink(l->bound);
	free(l->dbuf);
	free(l->msgs);
	free(l->iov);
	free(l->peers);
	free(l->cbuf);
	free(l);
}
