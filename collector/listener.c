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
 *
 * TLS: the same connection object with a bufferevent_openssl in place of
 * the raw fd and event; its read callback hands the decrypted chunks to
 * the framer in place (evbuffer_peek, no copy), and reading is turned off
 * and on with bufferevent_disable/enable. A bufferevent that holds bytes
 * when reading is turned back on gets a deferred read callback, since no
 * socket event would come for them.
 *
 * Guards: the rate limit is checked per frame in conn_frame; a frame over
 * it is refused like a full sink (the framer keeps it), but the connection
 * is marked throttled, so only it stops reading, until its own timer says
 * the bucket has a token again; a throttled connection is skipped by
 * deliver_held and resume (delivering would only refuse again). Frame and
 * handshake timeouts are checked by one sweep timer per listener.
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

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "collector/framing.h"
#include "collector/tls.h"
#include "core/ratelimit.h"
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
#define LW_SWEEP_MIN_MS 50     /* timeout sweep period bounds */
#define LW_SWEEP_MAX_MS 1000
#define LW_NAME_LEN 256        /* a certificate subject or issuer, cut to fit */

struct conn {
	struct lw_listener *l;
	int fd;
	int closing; /* peer gone; held frames still to deliver */
	int handshaking; /* tls: not connected yet */
	int throttled;   /* over its rate limit: not reading until timer */
	struct event *ev;
	struct bufferevent *bev; /* tls: owns fd and the SSL */
	struct event *timer;     /* rate limit wake-up, made on first use */
	int64_t throttle_wait_ns;
	int64_t frame_since_ns;  /* monotonic start of the incomplete frame, 0 = none */
	int64_t hs_deadline_ns;
	struct lw_ratelimit_key rkey;
	struct lw_framing *fr;
	struct lw_listener_src src;
	struct lw_field tls_fields[2];
	char addr[INET6_ADDRSTRLEN + 16];
	char *tls_names; /* subject, then issuer: LW_NAME_LEN each, tls only */
	struct sockaddr_storage peer; /* its zone is looked up again on reload */
	struct conn *prev, *next;
};

struct lw_listener {
	struct lw_listener_env env;
	enum lw_listener_type type;
	int fd;
	int paused;
	int draining;            /* stopping: no rate limit, the sink waits */
	struct ssl_ctx_st *tls_ctx;
	struct lw_ratelimit *rl; /* NULL = no rate limit */
	struct event *sweep;     /* frame / handshake timeouts; NULL = none */
	int64_t sweep_frame_ns, sweep_hs_ns;
	int last_allowed;        /* allow verdict of last_peer */
	struct lw_ratelimit_key last_rkey;
	uint64_t hs_failed_logged, frame_timeout_logged;
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
	struct lw_field *fields = NULL;
	size_t extra_len = 0;
	char *copy, *p;

	if (len > UINT32_MAX)
		len = UINT32_MAX;
	if (lw_batch_full(b))
		return LW_EFULL;
	for (uint32_t i = 0; i < src->nextra; i++)
		extra_len += src->extra[i].value.len;
	/* One allocation for the frame, the source address and the extra
	 * values; the frame is parsed in place, so every event string is a
	 * view into this copy. The field array (8-aligned) goes first. */
	copy = lw_arena_alloc(&b->arena, src->nextra * sizeof(*fields) +
					 len + src->addr_len + 1 + extra_len);
	if (copy == NULL)
		return LW_ENOMEM;
	if (src->nextra > 0) {
		fields = (struct lw_field *)(void *)copy;
		copy += src->nextra * sizeof(*fields);
	}
	memcpy(copy, msg, len);
	copy[len] = '\0';
	memcpy(copy + len + 1, src->addr, src->addr_len);
	p = copy + len + 1 + src->addr_len;
	for (uint32_t i = 0; i < src->nextra; i++) {
		fields[i].key = src->extra[i].key;
		fields[i].value.ptr = p;
		fields[i].value.len = src->extra[i].value.len;
		memcpy(p, src->extra[i].value.ptr, src->extra[i].value.len);
		p += src->extra[i].value.len;
	}
	ev = lw_batch_push(b);
	(parse != NULL ? parse : lw_syslog_parse)(copy, len, po, ev);
	ev->zone.ptr = src->zone;
	ev->zone.len = src->zone_len;
	ev->source_address.ptr = copy + len + 1;
	ev->source_address.len = src->addr_len;
	if (src->nextra > 0) {
		ev->fields = fields;
		ev->nfields = src->nextra;
	}
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

void lw_listener_format_peer(const struct sockaddr *sa, char *out, size_t outlen)
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

static int is_stream(const struct lw_listener *l)
{
	return l->type == LW_LISTENER_TCP || l->type == LW_LISTENER_TLS;
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

int lw_listener_resolve(const char *address, int socktype,
			struct sockaddr_storage *ss, socklen_t *sl,
			struct lw_diag *diag)
{
	return resolve(address, socktype, ss, sl, diag);
}

static void describe_bound(struct lw_listener *l)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (getsockname(l->fd, (struct sockaddr *)&ss, &sl) == 0)
		lw_listener_format_peer((struct sockaddr *)&ss, l->bound, sizeof(l->bound));
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
		lw_listener_format_peer(sa, l->last_addr, sizeof(l->last_addr));
		set_src(l, &l->last_src, sa, l->last_addr);
		l->last_allowed = l->env.lc->allow.count == 0 ||
				  lw_cidr_list_contains(&l->env.lc->allow, sa);
		lw_ratelimit_key_of(sa, &l->last_rkey);
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

	if (is_stream(l) || l->fd == -1)
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
	uint64_t dropped = 0, kdropped = 0, denied = 0, limited = 0;
	int64_t mono = l->rl != NULL ? lw_time_mono_ns() : 0;

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
		if (l->rl != NULL)
			mono = lw_time_mono_ns();
		for (int i = 0; i < n; i++) {
			const uint8_t *p = l->iov[i].iov_base;
			size_t len = l->msgs[i].msg_len;
			const struct lw_listener_src *src;
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
			src = dgram_src(l, &l->msgs[i]);
			/* Unix senders have no address: allow and rate limits
			 * are for the network. */
			if (l->type == LW_LISTENER_UDP && !l->last_allowed) {
				denied++;
				continue;
			}
			if (l->type == LW_LISTENER_UDP && l->rl != NULL && !l->draining &&
			    lw_ratelimit_take(l->rl, &l->last_rkey, mono) > 0) {
				limited++;
				continue;
			}
			if (l->env.sink.frame(l->env.sink.arg, p, len, flags, src,
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
	if (denied > 0)
		lw_counters_add(l->env.counters, LW_CTR_REFUSED_ALLOW, denied);
	if (limited > 0)
		lw_counters_add(l->env.counters, LW_CTR_RATE_DROPPED, limited);
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

/* ---- streams (TCP and TLS) ---------------------------------------------- */

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

/* Frees the bufferevent (which closes the fd and frees the SSL) or closes
 * the fd. */
static void conn_close_socket(struct conn *c)
{
	if (c->bev != NULL) {
		bufferevent_free(c->bev);
		c->bev = NULL;
		c->fd = -1;
	} else if (c->fd != -1) {
		close(c->fd);
		c->fd = -1;
	}
}

static void conn_free(struct conn *c)
{
	struct lw_listener *l = c->l;

	conn_unlink(c);
	l->nconns--;
	if (c->ev != NULL)
		event_free(c->ev);
	if (c->timer != NULL)
		event_free(c->timer);
	conn_close_socket(c);
	lw_framing_free(c->fr);
	free(c->tls_names);
	free(c);
}

/* Turns reading on (idle timeout re-armed) or off. LW_OK or LW_EIO. */
static int conn_read_on(struct conn *c)
{
	if (c->bev == NULL)
		return event_add(c->ev, c->l->idle_tv) == 0 ? LW_OK : LW_EIO;
	if (bufferevent_enable(c->bev, EV_READ) != 0)
		return LW_EIO;
	/* Bytes decrypted before the pause wait in the input buffer; no
	 * socket event will announce them. */
	if (evbuffer_get_length(bufferevent_get_input(c->bev)) > 0)
		bufferevent_trigger(c->bev, EV_READ,
				    BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
	return LW_OK;
}

static void conn_read_off(struct conn *c)
{
	if (c->bev != NULL)
		bufferevent_disable(c->bev, EV_READ);
	else if (c->ev != NULL)
		event_del(c->ev);
}

static int conn_frame(void *arg, const uint8_t *msg, size_t len, unsigned flags)
{
	struct conn *c = arg;
	struct lw_listener *l = c->l;

	if (l->rl != NULL && !l->draining) {
		int64_t wait = lw_ratelimit_take(l->rl, &c->rkey, lw_time_mono_ns());

		if (wait > 0) {
			/* The framer keeps the frame, as for a full sink. */
			c->throttled = 1;
			c->throttle_wait_ns = wait;
			return LW_EFULL;
		}
	}
	return l->env.sink.frame(l->env.sink.arg, msg, len, flags, &c->src,
				 l->now_ns);
}

/* After a feed: counts framing errors and notes when the frame now in
 * progress began (the frame timeout runs from there). */
static void conn_stats(struct conn *c)
{
	struct lw_framing_stats st = {0};

	lw_framing_take_stats(c->fr, &st);
	if (st.bad_octet_count + st.partial > 0)
		lw_counters_add(c->l->env.counters, LW_CTR_FRAMING_ERRORS,
				st.bad_octet_count + st.partial);
	if (!lw_framing_in_frame(c->fr))
		c->frame_since_ns = 0;
	else if (c->frame_since_ns == 0 || st.messages > 0)
		c->frame_since_ns = lw_time_mono_ns();
}

/* tls: frames what the bufferevent decrypted, chunk by chunk in place.
 * Every chunk fed is drained: on LW_EFULL the framer keeps the unread
 * rest itself. Returns like lw_framing_feed. */
static int tls_feed_input(struct conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	int rc = LW_OK;

	while (rc == LW_OK && evbuffer_get_length(in) > 0) {
		struct evbuffer_iovec v;

		if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
			break;
		c->l->now_ns = lw_time_now_ns();
		rc = lw_framing_feed(c->fr, v.iov_base, v.iov_len, conn_frame, c);
		evbuffer_drain(in, v.iov_len);
		conn_stats(c);
	}
	return rc;
}

/* The peer is gone (or idle, or we stop): deliver the partial frame, then
 * free. When the sink is full (or the source is over its rate limit) the
 * connection lingers, socket closed, until a resume (or its timer)
 * finishes it. Returns LW_OK or LW_EFULL. */
static int conn_finish(struct conn *c)
{
	int rc;

	c->closing = 1;
	if (c->ev != NULL)
		event_del(c->ev);
	if (c->bev != NULL && !c->handshaking) {
		/* What was decrypted but not framed yet goes to the framer
		 * (it holds what the sink refuses). */
		rc = tls_feed_input(c);
		if (rc != LW_OK && rc != LW_EFULL)
			lw_counters_add(c->l->env.counters, LW_CTR_DROPPED_NOMEM, 1);
	}
	conn_close_socket(c);
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

static void log_conn_error(struct conn *c, const char *msg, const char *err)
{
	lw_log(c->l->env.log, LW_LOG_ERR, "collector", msg, "peer", c->addr,
	       "error", err, NULL);
}

static void throttle_cb(evutil_socket_t fd, short what, void *arg);

/* c holds a frame it could not deliver (LW_EFULL). Over its rate limit:
 * it alone stops reading until its bucket has a token. Otherwise the sink
 * is full: stall (every stream connection pauses). */
static void conn_blocked(struct conn *c)
{
	struct lw_listener *l = c->l;
	struct timeval tv;
	int64_t wait;

	if (!c->closing)
		conn_read_off(c);
	if (!c->throttled) {
		conn_stall(c);
		return;
	}
	lw_counters_add(l->env.counters, LW_CTR_RATE_PAUSED, 1);
	wait = c->throttle_wait_ns < 1000000 ? 1000000 : c->throttle_wait_ns;
	tv.tv_sec = wait / 1000000000LL;
	tv.tv_usec = (wait % 1000000000LL) / 1000;
	if (c->timer == NULL)
		c->timer = evtimer_new(l->env.base, throttle_cb, c);
	if (c->timer != NULL && evtimer_add(c->timer, &tv) == 0)
		return;
	/* Without a timer nothing would ever wake it. */
	log_conn_error(c, "cannot arm rate limit timer; closing connection",
		       "out of memory");
	c->throttled = 0;
	if (c->closing || conn_finish(c) == LW_EFULL)
		conn_stall(c); /* a resume retries it */
}

static void conn_close(struct conn *c)
{
	if (conn_finish(c) == LW_EFULL)
		conn_blocked(c);
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

/* The bucket should have a token again: deliver what was held, then read
 * on (unless the whole listener is paused: its resume re-arms us). */
static void throttle_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	struct lw_listener *l = c->l;
	char ebuf[128];
	int rc;

	(void)fd;
	(void)what;
	c->throttled = 0;
	if (c->closing) {
		if (conn_finish(c) == LW_EFULL) /* frees c otherwise */
			conn_blocked(c);
		return;
	}
	rc = conn_deliver_held(c);
	if (rc == LW_EFULL) {
		conn_blocked(c);
		return;
	}
	if (rc != LW_OK) {
		log_conn_error(c, "cannot frame stream; closing connection",
			       lw_strerror(rc));
		conn_close(c);
		return;
	}
	if (l->paused || c->handshaking)
		return;
	if (conn_read_on(c) != LW_OK) {
		log_conn_error(c, "cannot watch connection; closing it",
			       strerror_r(errno, ebuf, sizeof(ebuf)));
		conn_close(c);
	}
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
		conn_blocked(c);
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
		conn_blocked(c);
	else if (rc != LW_OK)
		goto fail;
	return;

fail:
	log_conn_error(c, "cannot frame stream; closing connection",
		       lw_strerror(rc));
	conn_close(c);
}

static void tls_read_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	int rc;

	(void)bev;
	/* A deferred trigger may land after a pause or a throttle: the
	 * bytes wait in the input buffer for the next conn_read_on. */
	if (c->closing || c->throttled || c->l->paused)
		return;
	rc = conn_deliver_held(c);
	if (rc == LW_OK)
		rc = tls_feed_input(c);
	if (rc == LW_EFULL) {
		conn_blocked(c);
	} else if (rc != LW_OK) {
		log_conn_error(c, "cannot frame stream; closing connection",
			       lw_strerror(rc));
		conn_close(c);
	}
}

/* Handshake done: every event of this connection carries the client
 * certificate's subject and issuer (when it sent one). */
static void tls_connected(struct conn *c)
{
	SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
	char *subject = c->tls_names, *issuer = c->tls_names + LW_NAME_LEN;

	c->handshaking = 0;
	c->frame_since_ns = 0;
	if (ssl == NULL || !lw_tls_peer_names(ssl, subject, LW_NAME_LEN, issuer,
					      LW_NAME_LEN))
		return;
	c->tls_fields[0].key = LW_STR_LIT("tls.client.subject");
	c->tls_fields[0].value = (struct lw_str){subject, (uint32_t)strlen(subject)};
	c->tls_fields[1].key = LW_STR_LIT("tls.client.issuer");
	c->tls_fields[1].value = (struct lw_str){issuer, (uint32_t)strlen(issuer)};
	c->src.extra = c->tls_fields;
	c->src.nextra = 2;
}

static void tls_handshake_failed(struct conn *c)
{
	struct lw_listener *l = c->l;
	unsigned long e = bufferevent_get_openssl_error(c->bev);
	char ebuf[256];

	lw_counters_add(l->env.counters, LW_CTR_TLS_HANDSHAKE_FAILED, 1);
	if (e != 0)
		ERR_error_string_n(e, ebuf, sizeof(ebuf));
	else
		snprintf(ebuf, sizeof(ebuf), "connection closed during handshake");
	while (bufferevent_get_openssl_error(c->bev) != 0)
		; /* the rest of this connection's error queue */
	/* The first and then every 1000th: a scan must not flood the log. */
	if (l->hs_failed_logged++ % 1000 == 0)
		lw_log(l->env.log, LW_LOG_WARNING, "collector",
		       "TLS handshake failed", "listener", l->bound, "peer",
		       c->addr, "error", ebuf, NULL);
	conn_free(c); /* nothing was framed */
}

static void tls_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;

	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		tls_connected(c);
		return;
	}
	if (c->handshaking) {
		tls_handshake_failed(c);
		return;
	}
	if (what & BEV_EVENT_TIMEOUT)
		lw_counters_add(c->l->env.counters, LW_CTR_CONN_IDLE_CLOSED, 1);
	conn_close(c); /* EOF, error or idle */
}

static void refuse(struct lw_listener *l, int fd, const char *why,
		   const char *peer, enum lw_counter reason)
{
	close(fd);
	lw_counters_add(l->env.counters, LW_CTR_CONN_REFUSED, 1);
	if (reason != LW_CTR_CONN_REFUSED)
		lw_counters_add(l->env.counters, reason, 1);
	/* Log the first and then every 1000th: a flood must not flood us. */
	if (l->refused_logged++ % 1000 == 0)
		lw_log(l->env.log, LW_LOG_WARNING, "collector",
		       "connection refused", "listener", l->bound, "peer", peer,
		       "reason", why, NULL);
}

/* tls: on success the bufferevent owns fd and the SSL (both freed with
 * it). On failure fd stays the caller's to close, and the SSL is gone:
 * libevent 2.1 frees it on every failure path of
 * bufferevent_openssl_socket_new when BEV_OPT_CLOSE_ON_FREE is set (the
 * one early return, an SSL already bound to another fd, cannot happen
 * for a fresh SSL), so freeing it here too would be a double free. */
static int tls_conn_init(struct conn *c, int fd)
{
	struct lw_listener *l = c->l;
	SSL *ssl = lw_tls_new_ssl(l->tls_ctx);

	c->tls_names = calloc(2, LW_NAME_LEN);
	if (ssl == NULL || c->tls_names == NULL) {
		SSL_free(ssl);
		return LW_ENOMEM;
	}
	c->bev = bufferevent_openssl_socket_new(l->env.base, fd, ssl,
						BUFFEREVENT_SSL_ACCEPTING,
						BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL)
		return LW_ENOMEM;
	c->handshaking = 1;
	c->hs_deadline_ns = lw_time_mono_ns() + l->sweep_hs_ns;
	bufferevent_setcb(c->bev, tls_read_cb, NULL, tls_event_cb, c);
	/* Read timeout = idle timeout; only runs while reading is on. */
	bufferevent_set_timeouts(c->bev, l->idle_tv, NULL);
	return LW_OK;
}

static void accept_one(struct lw_listener *l, int fd,
		       const struct sockaddr *sa)
{
	struct conn *c;
	char peer[INET6_ADDRSTRLEN + 16];
	const char *why = "out of memory";

	lw_listener_format_peer(sa, peer, sizeof(peer));
	if (l->env.lc->allow.count > 0 &&
	    !lw_cidr_list_contains(&l->env.lc->allow, sa)) {
		refuse(l, fd, "not in allow", peer, LW_CTR_REFUSED_ALLOW);
		return;
	}
	if (l->nconns >= l->env.lc->max_connections) {
		refuse(l, fd, "max_connections", peer, LW_CTR_REFUSED_MAX_CONN);
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
	lw_ratelimit_key_of(sa, &c->rkey);
	c->fr = lw_framing_new(l->env.lc->framing, l->env.lc->max_message_bytes);
	if (c->fr == NULL)
		goto fail;
	if (l->type == LW_LISTENER_TLS) {
		if (tls_conn_init(c, fd) != LW_OK)
			goto fail;
	} else {
		c->ev = event_new(l->env.base, fd, EV_READ | EV_PERSIST, conn_cb, c);
		if (c->ev == NULL)
			goto fail;
	}
	conn_append(c);
	l->nconns++;
	/* Nothing was read yet, so a connection we cannot watch is refused. */
	if (!l->paused && conn_read_on(c) != LW_OK) {
		lw_counters_add(l->env.counters, LW_CTR_CONN_REFUSED, 1);
		log_conn_error(c, "connection refused", "cannot watch connection");
		conn_free(c);
		return;
	}
	lw_counters_add(l->env.counters, LW_CTR_CONN_ACCEPTED, 1);
	return;

fail:
	if (c != NULL) {
		lw_framing_free(c->fr);
		if (c->ev != NULL)
			event_free(c->ev);
		free(c->tls_names);
		if (c->bev != NULL) {
			/* It owns fd: closes it. */
			bufferevent_free(c->bev);
			free(c);
			lw_counters_add(l->env.counters, LW_CTR_CONN_REFUSED, 1);
			return;
		}
		free(c);
	}
	refuse(l, fd, why, peer, LW_CTR_CONN_REFUSED);
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

/* Frame and handshake timeouts. A connection that is not reading (paused
 * listener, throttled, holding refused bytes) is not the one stalling, so
 * its clocks restart. O(connections) per sweep. */
static void sweep_cb(evutil_socket_t fd, short what, void *arg)
{
	struct lw_listener *l = arg;
	struct conn *c, *next;
	int64_t now = lw_time_mono_ns();

	(void)fd;
	(void)what;
	for (c = l->conns; c != NULL; c = next) {
		next = c->next;
		if (c->closing)
			continue;
		if (l->paused || c->throttled || lw_framing_pending(c->fr)) {
			if (c->frame_since_ns != 0)
				c->frame_since_ns = now;
			c->hs_deadline_ns = now + l->sweep_hs_ns;
			continue;
		}
		if (c->handshaking) {
			if (now >= c->hs_deadline_ns) {
				lw_counters_add(l->env.counters,
						LW_CTR_TLS_HANDSHAKE_TIMEOUT, 1);
				conn_free(c); /* nothing was framed */
			}
			continue;
		}
		if (l->sweep_frame_ns > 0 && c->frame_since_ns != 0 &&
		    now - c->frame_since_ns >= l->sweep_frame_ns) {
			lw_counters_add(l->env.counters, LW_CTR_FRAME_TIMEOUT, 1);
			if (l->frame_timeout_logged++ % 1000 == 0)
				lw_log(l->env.log, LW_LOG_WARNING, "collector",
				       "frame incomplete past frame_timeout; closing connection",
				       "listener", l->bound, "peer", c->addr, NULL);
			/* The partial frame is stored, flagged truncated. */
			conn_close(c);
		}
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

/* Stream listeners: the frame / handshake timeout sweep (made, not added). */
static int sweep_init(struct lw_listener *l)
{
	const struct lw_listener_config *lc = l->env.lc;

	l->sweep_frame_ns = (int64_t)lc->frame_timeout_ms * 1000000;
	l->sweep_hs_ns = (int64_t)lc->handshake_timeout_ms * 1000000;
	if (l->sweep_frame_ns == 0 && l->type != LW_LISTENER_TLS)
		return LW_OK;
	l->sweep = event_new(l->env.base, -1, EV_PERSIST, sweep_cb, l);
	return l->sweep != NULL ? LW_OK : LW_ENOMEM;
}

int lw_listener_open(const struct lw_listener_env *env,
		     struct lw_listener **out, struct lw_diag *diag)
{
	struct lw_listener *l;
	int rc;

	*out = NULL;
	if (env->lc->type == LW_LISTENER_JOURNAL_HTTP)
		return lw_diag_set(diag, LW_EINVAL, env->cfg->path[0] ? env->cfg->path : NULL,
				   0, 0, "listener type '%s' is not a syslog listener (collector/journal_http.h opens it)",
				   lw_config_listener_type_name(env->lc->type));
	l = calloc(1, sizeof(*l));
	if (l == NULL)
		return LW_ENOMEM;
	l->env = *env;
	l->type = env->lc->type;
	l->fd = -1;
	if (env->lc->rate_limit.events_per_second > 0 && l->type != LW_LISTENER_UNIX) {
		rc = LW_ENOMEM;
		l->rl = lw_ratelimit_new(env->lc->rate_limit.events_per_second,
					 env->lc->rate_limit.burst,
					 env->lc->rate_limit.max_sources, 0);
		if (l->rl == NULL)
			goto fail;
	}
	switch (l->type) {
	case LW_LISTENER_TCP:
	case LW_LISTENER_TLS:
		if (l->type == LW_LISTENER_TLS) {
			/* Before the socket: a bad certificate is the error
			 * the operator needs to see, not a bind conflict. */
			rc = lw_tls_ctx_new(env->lc, &l->tls_ctx, diag);
			if (rc != LW_OK)
				goto fail;
		}
		rc = open_inet(l, SOCK_STREAM, diag);
		if (rc != LW_OK)
			goto fail;
		rc = sweep_init(l);
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
	if (l->ev == NULL || (is_stream(l) && l->backoff == NULL))
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
	struct timeval tv;
	int64_t ms = l->sweep_frame_ns;

	if (event_add(l->ev, NULL) != 0)
		return LW_EIO;
	if (l->sweep == NULL)
		return LW_OK;
	/* A quarter of the shortest timeout: a timeout fires at most 25%
	 * late. */
	if (ms == 0 || (l->tls_ctx != NULL && l->sweep_hs_ns < ms))
		ms = l->sweep_hs_ns;
	ms = ms / 4 / 1000000;
	if (ms < LW_SWEEP_MIN_MS)
		ms = LW_SWEEP_MIN_MS;
	if (ms > LW_SWEEP_MAX_MS)
		ms = LW_SWEEP_MAX_MS;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	return event_add(l->sweep, &tv) == 0 ? LW_OK : LW_EIO;
}

void lw_listener_describe(const struct lw_listener *l, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s %s", lw_config_listener_type_name(l->type), l->bound);
}

void lw_listener_pause(struct lw_listener *l)
{
	if (!is_stream(l) || l->paused)
		return;
	l->paused = 1;
	for (struct conn *c = l->conns; c != NULL; c = c->next)
		if (!c->closing)
			conn_read_off(c);
}

int lw_listener_deliver_held(struct lw_listener *l)
{
	struct conn *c, *next;

	if (!is_stream(l))
		return LW_OK;
	for (c = l->conns; c != NULL; c = next) {
		int rc;

		next = c->next;
		/* Its own timer delivers it; trying now would only refuse. */
		if (c->throttled)
			continue;
		/* conn_finish frees c unless it returns LW_EFULL. */
		rc = c->closing ? conn_finish(c) : conn_deliver_held(c);
		if (rc == LW_EFULL && c->throttled) {
			conn_blocked(c); /* over its rate limit, not the sink */
			continue;
		}
		if (rc == LW_EFULL)
			return LW_EFULL;
		if (rc != LW_OK) {
			log_conn_error(c, "cannot frame stream; closing connection",
				       lw_strerror(rc));
			if (conn_finish(c) == LW_EFULL) {
				if (!c->throttled)
					return LW_EFULL;
				conn_blocked(c);
			}
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
	if (!is_stream(l) || !l->paused)
		return LW_OK;
	l->paused = 0;
	for (c = l->conns; c != NULL; c = next) {
		char ebuf[128];

		next = c->next;
		if (c->throttled || c->closing || conn_read_on(c) == LW_OK)
			continue;
		/* Unwatched, it would hang until the peer gives up. */
		log_conn_error(c, "cannot watch connection; closing it",
			       strerror_r(errno, ebuf, sizeof(ebuf)));
		if (conn_finish(c) == LW_EFULL) {
			if (c->throttled)
				conn_blocked(c);
			else
				full = 1;
		}
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
	if (l->type == LW_LISTENER_TCP || l->type == LW_LISTENER_TLS) {
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

/* tls at stop: what the bufferevent holds, then SSL_read straight from
 * the connection (the event loop no longer runs), like the TCP drain. */
static void tls_drain(struct conn *c, int64_t deadline)
{
	struct lw_listener *l = c->l;
	SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
	int fd = bufferevent_getfd(c->bev);
	size_t got = 0;

	lw_framing_feed(c->fr, NULL, 0, conn_frame, c);
	tls_feed_input(c);
	while (ssl != NULL && got < LW_DRAIN_STREAM_MAX) {
		int n = SSL_read(ssl, l->env.rbuf, (int)l->env.rbuf_len);

		if (n <= 0) {
			if (SSL_get_error(ssl, n) == SSL_ERROR_WANT_READ &&
			    drain_wait(fd, deadline))
				continue;
			break;
		}
		got += (size_t)n;
		l->now_ns = lw_time_now_ns();
		lw_framing_feed(c->fr, l->env.rbuf, (size_t)n, conn_frame, c);
	}
	ERR_clear_error();
}

void lw_listener_drain(struct lw_listener *l)
{
	struct timespec start;
	int64_t deadline;

	clock_gettime(CLOCK_MONOTONIC, &start);
	deadline = (int64_t)start.tv_sec * 1000 + start.tv_nsec / 1000000 + LW_DRAIN_DEADLINE_MS;
	if (l->ev != NULL)
		event_del(l->ev);
	if (l->sweep != NULL)
		event_del(l->sweep);
	l->draining = 1;
	if (!is_stream(l)) {
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

		if (c->timer != NULL)
			event_del(c->timer);
		c->throttled = 0;
		if (c->bev != NULL) {
			if (!c->closing && !c->handshaking)
				tls_drain(c, deadline);
		} else if (!c->closing) {
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
	if (l->sweep != NULL)
		event_free(l->sweep);
	lw_tls_ctx_free(l->tls_ctx);
	lw_ratelimit_free(l->rl);
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
