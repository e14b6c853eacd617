/* collector/dgram.c - udp and unix datagram sources (prefix lw_dgram).
 * See dgram.h.
 *
 * Kernel drops: datagram sockets have SO_RXQ_OVFL, so each datagram
 * carries the socket's drop total (sk_drops) as it was when the datagram
 * was queued; the increase goes to LW_CTR_DROPPED_KERNEL. Drops after the
 * last queued datagram show up in no datagram, so the tick and the drain
 * also read the total with SO_MEMINFO. Both are readings of one counter:
 * only an increase over the highest total seen is added.
 */
#include "collector/dgram.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <linux/sock_diag.h> /* SK_MEMINFO_DROPS */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "collector/framing.h"
#include "core/ratelimit.h"
#include "core/time.h"

#define DGRAM_ROUNDS 8         /* recvmmsg calls per wakeup: fairness */
#define DGRAM_CMSG CMSG_SPACE(sizeof(uint32_t)) /* SO_RXQ_OVFL per datagram */
#define UDP_RCVBUF (8 << 20)   /* absorbs a commit's fsync at high rates */
#define DRAIN_ROUNDS 4096      /* recvmmsg calls at stop, at most */

struct dgram {
	struct lw_source src;
	int is_unix;
	int draining;            /* stopping: no rate limit, no pause */
	int rearm_failed;        /* resume could not turn reading back on */
	struct lw_ratelimit *rl; /* NULL = no rate limit */
	/* The listener's overall budget: one bucket under the all-zero key
	 * (NULL = none). Spoofed sources each find a full bucket of their
	 * own in rl; this one they share. */
	struct lw_ratelimit *budget;
	struct event *ev;
	uint8_t *dbuf;
	size_t dbuf_each;
	struct mmsghdr *msgs;
	struct iovec *iov;
	struct sockaddr_storage *peers;
	uint8_t *cbuf;             /* LW_DGRAM_VLEN control buffers */
	uint32_t kdrops_seen;      /* highest sk_drops total seen */
	/* The last sender (one sender sends many): its source and verdicts. */
	struct sockaddr_storage last_peer;
	socklen_t last_peer_len;
	struct lw_listener_src last_src;
	char last_addr[INET6_ADDRSTRLEN + 16];
	int last_allowed;
	struct lw_ratelimit_key last_rkey;
};

static struct dgram *dgram_of(struct lw_source *s)
{
	return (struct dgram *)(void *)s;
}

static const struct lw_listener_src *dgram_src(struct dgram *d, const struct mmsghdr *m)
{
	const struct sockaddr *sa = m->msg_hdr.msg_name;
	socklen_t sl = m->msg_hdr.msg_namelen;

	if (d->is_unix)
		return &d->last_src; /* set once: the socket path */
	if (sl != d->last_peer_len || memcmp(sa, &d->last_peer, sl) != 0) {
		memcpy(&d->last_peer, sa, sl);
		d->last_peer_len = sl;
		lw_listener_format_peer(sa, d->last_addr, sizeof(d->last_addr));
		lw_source_set_src(&d->src, &d->last_src, sa, d->last_addr);
		d->last_allowed = lw_source_allows(&d->src, sa);
		lw_ratelimit_key_of(sa, &d->last_rkey);
	}
	return &d->last_src;
}

/* total: a reading of the socket's cumulative drop counter (uint32, may
 * wrap). Returns how far it is ahead of the highest reading so far; an
 * older reading (a datagram queued before the last SO_MEMINFO) gives 0. */
static uint32_t kdrops_note(struct dgram *d, uint32_t total)
{
	uint32_t n = total - d->kdrops_seen;

	if (n == 0 || n > UINT32_MAX / 2)
		return 0;
	d->kdrops_seen = total;
	return n;
}

/* The SO_RXQ_OVFL total a datagram carries (absent while it is 0). */
static uint32_t kdrops_of(struct dgram *d, struct msghdr *h)
{
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(h); cm != NULL;
	     cm = CMSG_NXTHDR(h, cm)) {
		uint32_t total;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SO_RXQ_OVFL ||
		    cm->cmsg_len < CMSG_LEN(sizeof(total)))
			continue;
		memcpy(&total, CMSG_DATA(cm), sizeof(total));
		return kdrops_note(d, total);
	}
	return 0;
}

/* Reads the drop total now. */
static void kdrops_poll(struct dgram *d)
{
	uint32_t mi[SK_MEMINFO_VARS];
	socklen_t len = sizeof(mi);
	uint32_t n;

	if (d->src.fd == -1)
		return;
	if (getsockopt(d->src.fd, SOL_SOCKET, SO_MEMINFO, mi, &len) == -1 ||
	    len < sizeof(mi))
		return; /* before Linux 4.6: datagrams still carry the total */
	n = kdrops_note(d, mi[SK_MEMINFO_DROPS]);
	if (n > 0)
		lw_counters_add(d->src.env.counters, LW_CTR_DROPPED_KERNEL, n);
}

/* No batch free: a UDP listener stops reading until one is, so that
 * under a flood the core goes to storing what was read, not to reading
 * datagrams only to drop them, and the kernel drops the excess (counted:
 * dropped_kernel). On one core at 250k datagrams/s (bench/run) the loss
 * fell from 68 % to 41 % (docs/performance.md "UDP under a flood"). A unix
 * datagram socket reads on and drops (counted: dropped_udp): its local
 * senders would block on a full buffer, and syslog(3) callers must not
 * hang on the log server. The stop's drain reads everything. */
static int pausable(const struct dgram *d)
{
	return !d->is_unix && !d->draining;
}

/* Reads up to rounds * LW_DGRAM_VLEN datagrams. */
static void dgram_read(struct dgram *d, unsigned rounds)
{
	const struct lw_source_env *env = &d->src.env;
	static const struct lw_ratelimit_key everyone;
	uint64_t dropped = 0, kdropped = 0, denied = 0, limited = 0, over_budget = 0;
	int64_t now_ns, mono = 0;

	for (unsigned r = 0; r < rounds; r++) {
		int n;

		for (unsigned i = 0; i < LW_DGRAM_VLEN; i++) {
			d->msgs[i].msg_hdr.msg_namelen = sizeof(d->peers[i]);
			d->msgs[i].msg_hdr.msg_controllen = DGRAM_CMSG;
			d->msgs[i].msg_hdr.msg_flags = 0;
		}
		n = recvmmsg(d->src.fd, d->msgs, LW_DGRAM_VLEN, MSG_DONTWAIT, NULL);
		if (n == -1)
			break; /* EAGAIN, or an error the next wakeup retries */
		now_ns = lw_time_now_ns();
		if (d->rl != NULL || d->budget != NULL)
			mono = lw_time_mono_ns();
		for (int i = 0; i < n; i++) {
			const uint8_t *p = d->iov[i].iov_base;
			size_t len = d->msgs[i].msg_len;
			const struct lw_listener_src *src;
			unsigned flags = 0;

			kdropped += kdrops_of(d, &d->msgs[i].msg_hdr);
			if (d->msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
				flags = LW_MSG_TRUNCATED;
				len = d->dbuf_each;
			}
			/* Senders differ: some end a datagram with LF or NUL. */
			while (len > 0 && (p[len - 1] == '\n' || p[len - 1] == '\r' ||
					   p[len - 1] == '\0'))
				len--;
			if (len == 0)
				continue;
			src = dgram_src(d, &d->msgs[i]);
			/* Unix senders have no address: allow and rate limits
			 * are for the network. */
			if (!d->is_unix && !d->last_allowed) {
				denied++;
				continue;
			}
			if (d->rl != NULL && !d->draining &&
			    lw_ratelimit_take(d->rl, &d->last_rkey, mono) > 0) {
				limited++;
				continue;
			}
			if (d->budget != NULL && !d->draining &&
			    lw_ratelimit_take(d->budget, &everyone, mono) > 0) {
				over_budget++;
				continue;
			}
			if (env->sink.frame(env->sink.arg, p, len, flags, src, now_ns) != LW_OK) {
				dropped++;
				if (pausable(d)) {
					/* The rest of this read goes too (at most
					 * LW_DGRAM_VLEN - 1); what comes next waits
					 * in the kernel's buffer. */
					dropped += (uint64_t)(n - i - 1);
					env->sink.stalled(env->sink.arg);
					goto out;
				}
			}
		}
		if (n < LW_DGRAM_VLEN)
			break;
	}
out:
	if (dropped > 0)
		lw_counters_add(env->counters, LW_CTR_DROPPED_UDP, dropped);
	if (kdropped > 0)
		lw_counters_add(env->counters, LW_CTR_DROPPED_KERNEL, kdropped);
	if (denied > 0)
		lw_counters_add(env->counters, LW_CTR_REFUSED_ALLOW, denied);
	if (limited > 0)
		lw_counters_add(env->counters, LW_CTR_RATE_DROPPED, limited);
	if (over_budget > 0)
		lw_counters_add(env->counters, LW_CTR_RATE_LISTENER_DROPPED, over_budget);
}

static void dgram_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	dgram_read(arg, DGRAM_ROUNDS);
}

/* One buffer of each bytes per datagram of a recvmmsg call. */
static int dgram_buffers(struct dgram *d, size_t each)
{
	uint8_t *dbuf = malloc(each * LW_DGRAM_VLEN);

	if (dbuf == NULL)
		return LW_ENOMEM;
	free(d->dbuf);
	d->dbuf = dbuf;
	d->dbuf_each = each;
	for (unsigned i = 0; i < LW_DGRAM_VLEN; i++) {
		d->iov[i].iov_base = d->dbuf + i * each;
		d->iov[i].iov_len = each;
	}
	return LW_OK;
}

static size_t dgram_size(const struct lw_listener_config *lc)
{
	size_t each = lc->max_message_bytes;

	return each == 0 || each > 65535 ? 65535 : each; /* no datagram is larger */
}

static int dgram_alloc(struct dgram *d)
{
	d->msgs = calloc(LW_DGRAM_VLEN, sizeof(*d->msgs));
	d->iov = calloc(LW_DGRAM_VLEN, sizeof(*d->iov));
	d->peers = calloc(LW_DGRAM_VLEN, sizeof(*d->peers));
	/* calloc: aligned for struct cmsghdr; DGRAM_CMSG keeps it so. */
	d->cbuf = calloc(LW_DGRAM_VLEN, DGRAM_CMSG);
	if (!d->msgs || !d->iov || !d->peers || !d->cbuf)
		return LW_ENOMEM;
	for (unsigned i = 0; i < LW_DGRAM_VLEN; i++) {
		d->msgs[i].msg_hdr.msg_iov = &d->iov[i];
		d->msgs[i].msg_hdr.msg_iovlen = 1;
		d->msgs[i].msg_hdr.msg_name = &d->peers[i];
		d->msgs[i].msg_hdr.msg_control = d->cbuf + i * DGRAM_CMSG;
	}
	return dgram_buffers(d, dgram_size(d->src.env.lc));
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
		return lw_source_sys_fail(diag, errno, "create socket for", path);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path)); /* caller checked the length */
	live = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0;
	close(fd);
	if (live)
		return lw_diag_set(diag, LW_EIO, NULL, 0, 0,
				   "socket '%s' is in use by another process", path);
	if (unlink(path) == -1)
		return lw_source_sys_fail(diag, errno, "remove stale socket", path);
	return LW_OK;
}

/* Like /dev/log: every local process may log, so the socket file just
 * bound gets mode 0666. Not with chmod(path): whoever can write the
 * directory could swap the file for a symlink between bind and chmod,
 * and we (root, at startup) would make its target world-writable. The
 * path is opened without following a symlink (O_PATH | O_NOFOLLOW),
 * must be a socket, and that very inode is changed through
 * /proc/self/fd (chmod has no "at this fd" form for O_PATH fds). */
static int unix_open_to_all(const char *path, struct lw_diag *diag)
{
	char proc[64];
	struct stat st;
	int fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC), rc = LW_OK;

	if (fd == -1)
		return lw_source_sys_fail(diag, errno, "open the socket just bound", path);
	if (fstat(fd, &st) == -1) {
		rc = lw_source_sys_fail(diag, errno, "stat the socket just bound", path);
	} else if (!S_ISSOCK(st.st_mode)) {
		rc = lw_diag_set(diag, LW_EIO, NULL, 0, 0,
				 "'%s' is no longer the socket just bound (replaced by %s): "
				 "refusing to change its mode", path,
				 S_ISLNK(st.st_mode) ? "a symbolic link" : "another file");
	} else {
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		if (chmod(proc, 0666) == -1)
			rc = lw_source_sys_fail(diag, errno, "chmod", path);
	}
	close(fd);
	return rc;
}

/* Each datagram then carries the socket's kernel drop total. */
static int set_rxq_ovfl(int fd)
{
	int one = 1;

	return setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one));
}

static int open_unix(struct dgram *d, struct lw_diag *diag)
{
	const char *path = d->src.env.lc->path;
	struct sockaddr_un sun;
	int rc;

	if (strlen(path) >= sizeof(sun.sun_path))
		return lw_diag_set(diag, LW_EINVAL, NULL, 0, 0,
				   "unix socket path '%s' is too long", path);
	rc = unix_prepare(path, diag);
	if (rc != LW_OK)
		return rc;
	d->src.fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (d->src.fd == -1)
		return lw_source_sys_fail(diag, errno, "create socket for", path);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path)); /* length checked above */
	if (set_rxq_ovfl(d->src.fd) == -1)
		return lw_source_sys_fail(diag, errno, "set SO_RXQ_OVFL on", path);
	if (bind(d->src.fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		return lw_source_sys_fail(diag, errno, "bind", path);
	rc = unix_open_to_all(path, diag);
	if (rc != LW_OK)
		return rc;
	memcpy(d->src.bound, path, strlen(path) + 1);
	lw_source_set_src(&d->src, &d->last_src, NULL, d->src.bound);
	return LW_OK;
}

static int open_udp(struct dgram *d, struct lw_diag *diag)
{
	int sz = UDP_RCVBUF, rc;

	rc = lw_source_bind_inet(&d->src, SOCK_DGRAM, diag);
	if (rc != LW_OK)
		return rc;
	/* Best effort: capped by net.core.rmem_max. */
	setsockopt(d->src.fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (set_rxq_ovfl(d->src.fd) == -1)
		return lw_source_sys_fail(diag, errno, "set SO_RXQ_OVFL on",
					  d->src.env.lc->address);
	rc = lw_source_ratelimit_new(&d->src, &d->rl, diag);
	if (rc != LW_OK)
		return rc;
	return lw_source_budget_new(&d->src, &d->budget, diag);
}

static int dgram_start(struct lw_source *s)
{
	return event_add(dgram_of(s)->ev, NULL) == 0 ? LW_OK : LW_EIO;
}

static void dgram_pause(struct lw_source *s)
{
	struct dgram *d = dgram_of(s);

	if (pausable(d)) {
		event_del(d->ev);
		d->rearm_failed = 0; /* paused on purpose: the tick leaves it */
	}
}

/* Nothing is held (what a stall read is dropped), so resuming is
 * reading again: the kernel's buffer is read at the next loop turn. A
 * failed re-arm is retried by the tick. */
static int dgram_resume(struct lw_source *s)
{
	struct dgram *d = dgram_of(s);

	if (!pausable(d))
		return LW_OK;
	if (event_add(d->ev, NULL) != 0) {
		if (!d->rearm_failed)
			lw_log(s->env.log, LW_LOG_ERR, "collector",
			       "cannot resume reading datagrams; retrying",
			       "listener", s->bound, NULL);
		d->rearm_failed = 1;
		return LW_EIO;
	}
	d->rearm_failed = 0;
	return LW_OK;
}

static void dgram_tick(struct lw_source *s)
{
	struct dgram *d = dgram_of(s);

	if (d->rearm_failed)
		(void)dgram_resume(s);
	kdrops_poll(d);
}

static void dgram_drain(struct lw_source *s)
{
	struct dgram *d = dgram_of(s);

	event_del(d->ev);
	d->draining = 1;
	dgram_read(d, DRAIN_ROUNDS);
	kdrops_poll(d); /* drops that no queued datagram reported */
}

static int dgram_update(struct lw_source *s, const struct lw_config *cfg,
			const struct lw_listener_config *lc)
{
	struct dgram *d = dgram_of(s);
	size_t each = dgram_size(lc);

	s->env.cfg = cfg;
	s->env.lc = lc;
	/* The sender cache holds a zone borrowed from the old config. */
	d->last_peer_len = 0;
	if (d->is_unix)
		lw_source_set_src(s, &d->last_src, NULL, s->bound);
	return each != d->dbuf_each ? dgram_buffers(d, each) : LW_OK;
}

static void dgram_close(struct lw_source *s)
{
	struct dgram *d = dgram_of(s);

	if (d->ev != NULL)
		event_free(d->ev);
	lw_ratelimit_free(d->rl);
	lw_ratelimit_free(d->budget);
	if (s->fd != -1)
		close(s->fd);
	if (d->is_unix && s->bound[0] != '\0')
		unlink(s->bound);
	free(d->dbuf);
	free(d->msgs);
	free(d->iov);
	free(d->peers);
	free(d->cbuf);
	free(d);
}

/* No deliver_held: a datagram the sink refused is dropped (counted);
 * pause and resume stop and restart reading UDP (pausable). */
static const struct lw_source_ops dgram_ops = {
	.start = dgram_start,
	.pause = dgram_pause,
	.resume = dgram_resume,
	.tick = dgram_tick,
	.drain = dgram_drain,
	.update = dgram_update,
	.close = dgram_close,
};

int lw_dgram_open(const struct lw_source_env *env, struct lw_source **out,
		  struct lw_diag *diag)
{
	struct dgram *d;
	int rc;

	*out = NULL;
	d = calloc(1, sizeof(*d));
	if (d == NULL)
		return lw_diag_set(diag, LW_ENOMEM, NULL, 0, 0, "listener: out of memory");
	lw_source_init(&d->src, &dgram_ops, env);
	d->is_unix = env->lc->type == LW_LISTENER_UNIX;
	rc = d->is_unix ? open_unix(d, diag) : open_udp(d, diag);
	if (rc != LW_OK)
		goto fail;
	if (dgram_alloc(d) == LW_OK)
		d->ev = event_new(env->base, d->src.fd, EV_READ | EV_PERSIST, dgram_cb, d);
	if (d->ev == NULL) {
		rc = lw_diag_set(diag, LW_ENOMEM, NULL, 0, 0, "listener: out of memory");
		goto fail;
	}
	*out = &d->src;
	return LW_OK;

fail:
	dgram_close(&d->src);
	return rc;
}
