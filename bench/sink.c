/* bench/sink.c - logward-bench's receiver (prefix lw_sink).  The calling
 * thread accepts and decides when to stop; one reader thread per stream
 * connection (or one for the datagram socket) frames, counts and tracks
 * sequence numbers in its own counters.  See sink.h. */
#include "bench/sink.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "bench/benchtls.h"
#include "bench/msggen.h"
#include "bench/sys.h"
#include "core/err.h"

#define READ_CHUNK (256 * 1024)
#define MAX_FRAME (64 * 1024)          /* longer frames are skipped */
#define DGRAM_BATCH 256
#define DGRAM_BUF (64 * 1024)          /* any UDP datagram fits */
#define UDP_RCVBUF_DEFAULT (8 << 20)
#define POLL_MS 20
/* After the expected count arrived: how long to keep reading for extra
 * (duplicate) messages before reporting. */
#define SETTLE_NS 200000000
/* Stream: all senders gone and no new one for this long means done. */
#define CLOSED_LINGER_NS 300000000

struct lw_sink {
	const struct lw_sink_cfg *cfg;
	int fd;                 /* listening or datagram socket */
	struct lw_netaddr local;
	int unlink_path;
	atomic_int stop;
};

struct reader {
	struct lw_sink *sink;
	int fd;                 /* stream: owned; datagram: the sink's */
	pthread_t tid;
	atomic_uint_fast64_t pub_msgs;   /* progress, read by the main thread */
	atomic_int done;
	enum lw_sink_framing mode;
	size_t skip;            /* octet frame bytes still to skip */
	int skip_lf;            /* skipping an oversize LF frame */

	uint64_t msgs, bytes, unparsed, oversize, partial, kernel_drops, io_errors;
	int64_t first_ns, last_ns;
	struct lw_seqtrack track;
	char first_error[128];
};

static void
reader_error(struct reader *r, const char *what, int errnum)
{
	char ebuf[96];

	r->io_errors++;
	if (r->first_error[0] == '\0')
		snprintf(r->first_error, sizeof(r->first_error), "%s: %s", what,
			 errnum ? lw_sys_strerror(errnum, ebuf, sizeof(ebuf)) : "failed");
}

static void
on_message(struct reader *r, const char *msg, size_t len)
{
	unsigned conn;
	uint64_t n;

	r->msgs++;
	if (!r->sink->cfg->verify)
		return;
	if (len > 0 && msg[len - 1] == '\r')
		len--;
	if (lw_seqtrack_parse(msg, len, &conn, &n) == 0)
		lw_seqtrack_add(&r->track, conn, n);
	else
		r->unparsed++;
}

/* Octet-counted frame at p: "LEN SP MSG".  Returns the header length and
 * sets *mlen, 0 when more bytes are needed, or -1 when it is not a valid
 * header (the connection then falls back to LF framing). */
static int
octet_header(const char *p, size_t avail, size_t *mlen)
{
	size_t v = 0, i = 0;

	while (i < avail && i < 10 && p[i] >= '0' && p[i] <= '9')
		v = v * 10 + (size_t)(p[i++] - '0');
	if (i == avail)
		return 0;
	if (i == 0 || i == 10 || p[i] != ' ' || v == 0)
		return -1;
	*mlen = v;
	return (int)i + 1;
}

/* Consumes complete frames from buf[0..len) and returns the bytes used;
 * the rest is an incomplete frame the caller keeps for the next read. */
static size_t
parse_frames(struct reader *r, const char *buf, size_t len)
{
	size_t pos = 0;

	while (pos < len) {
		if (r->skip) {
			size_t k = len - pos < r->skip ? len - pos : r->skip;

			r->skip -= k;
			pos += k;
			continue;
		}
		if (r->mode == LW_SINK_AUTO)
			r->mode = buf[pos] >= '0' && buf[pos] <= '9' ? LW_SINK_OCTET : LW_SINK_LF;
		if (r->mode == LW_SINK_LF || r->skip_lf) {
			const char *nl = memchr(buf + pos, '\n', len - pos);

			if (nl == NULL)
				break;
			if (!r->skip_lf)
				on_message(r, buf + pos, (size_t)(nl - (buf + pos)));
			r->skip_lf = 0;
			pos = (size_t)(nl - buf) + 1;
			continue;
		}
		size_t mlen = 0;
		int h = octet_header(buf + pos, len - pos, &mlen);

		if (h == 0)
			break;
		if (h < 0) {
			r->unparsed++;
			r->mode = LW_SINK_LF;
			continue;
		}
		if (mlen > MAX_FRAME) {
			r->msgs++;
			r->oversize++;
			r->skip = mlen;
			pos += (size_t)h;
			continue;
		}
		if (len - pos - (size_t)h < mlen)
			break;
		on_message(r, buf + pos + h, mlen);
		pos += (size_t)h + mlen;
	}
	return pos;
}

static int
stream_read(struct reader *r, struct lw_benchtls_conn *tls, char *buf, size_t cap,
	    size_t *got)
{
	ssize_t n;

	if (tls) {
		int rc = lw_benchtls_read(tls, buf, cap, got);

		if (rc == LW_EIO && !atomic_load(&r->sink->stop))
			reader_error(r, "TLS read", 0);
		return rc == LW_OK ? LW_OK : LW_ECLOSED;
	}
	for (;;) {
		n = read(r->fd, buf, cap);
		if (n > 0) {
			*got = (size_t)n;
			return LW_OK;
		}
		if (n == 0)
			return LW_ECLOSED;
		if (errno == EINTR)
			continue;
		if (!atomic_load(&r->sink->stop))
			reader_error(r, "read", errno);
		return LW_ECLOSED;
	}
}

static void
stream_loop(struct reader *r, struct lw_benchtls_conn *tls)
{
	size_t cap = READ_CHUNK + MAX_FRAME, have = 0, got, used;
	char *buf = malloc(cap);

	if (buf == NULL) {
		reader_error(r, "cannot allocate read buffer", ENOMEM);
		return;
	}
	while (stream_read(r, tls, buf + have, cap - have, &got) == LW_OK) {
		int64_t now = lw_sys_mono_ns();

		if (r->first_ns == 0)
			r->first_ns = now;
		r->last_ns = now;
		r->bytes += got;
		have += got;
		used = parse_frames(r, buf, have);
		have -= used;
		if (have == cap) {
			/* One LF frame fills the whole buffer: skip it. */
			r->msgs++;
			r->oversize++;
			r->skip_lf = 1;
			have = 0;
		} else if (have > 0 && used > 0) {
			memmove(buf, buf + used, have);
		}
		atomic_store_explicit(&r->pub_msgs, r->msgs, memory_order_relaxed);
	}
	if (have > 0 && !r->skip) {
		r->partial++;
		on_message(r, buf, have);
		atomic_store_explicit(&r->pub_msgs, r->msgs, memory_order_relaxed);
	}
	free(buf);
}

static void *
stream_reader(void *arg)
{
	struct reader *r = arg;
	struct lw_benchtls_conn *tls = NULL;
	struct lw_diag diag;

	if (r->sink->cfg->addr.transport == LW_TR_TLS) {
		memset(&diag, 0, sizeof(diag));
		if (lw_benchtls_accept(r->sink->cfg->tls, r->fd, &tls, &diag) != LW_OK) {
			r->io_errors++;
			snprintf(r->first_error, sizeof(r->first_error), "%.100s", diag.detail);
			goto out;
		}
	}
	stream_loop(r, tls);
out:
	lw_benchtls_conn_free(tls);
	atomic_store(&r->done, 1);
	return NULL;
}

/* SO_RXQ_OVFL: the kernel's count of datagrams dropped on this socket,
 * attached to received messages, so UDP loss is attributed, not guessed. */
static void
note_drops(struct reader *r, struct msghdr *mh)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) {
			uint32_t v;

			memcpy(&v, CMSG_DATA(c), sizeof(v));
			if (v > r->kernel_drops)
				r->kernel_drops = v;
		}
	}
}

struct dgram_bufs {
	char *data;
	char *ctl;
	struct mmsghdr mm[DGRAM_BATCH];
	struct iovec iov[DGRAM_BATCH];
};

#define CTL_LEN CMSG_SPACE(sizeof(uint32_t))

static void
dgram_arm(struct dgram_bufs *d)
{
	for (int i = 0; i < DGRAM_BATCH; i++) {
		d->iov[i].iov_base = d->data + (size_t)i * DGRAM_BUF;
		d->iov[i].iov_len = DGRAM_BUF;
		memset(&d->mm[i].msg_hdr, 0, sizeof(d->mm[i].msg_hdr));
		d->mm[i].msg_hdr.msg_iov = &d->iov[i];
		d->mm[i].msg_hdr.msg_iovlen = 1;
		d->mm[i].msg_hdr.msg_control = d->ctl + (size_t)i * CTL_LEN;
		d->mm[i].msg_hdr.msg_controllen = CTL_LEN;
	}
}

static void *
dgram_reader(void *arg)
{
	struct reader *r = arg;
	struct dgram_bufs *d = calloc(1, sizeof(*d));

	if (d == NULL || (d->data = malloc((size_t)DGRAM_BATCH * DGRAM_BUF)) == NULL
	    || (d->ctl = calloc(DGRAM_BATCH, CTL_LEN)) == NULL) {
		reader_error(r, "cannot allocate datagram buffers", ENOMEM);
		goto out;
	}
	while (!atomic_load_explicit(&r->sink->stop, memory_order_relaxed)) {
		int n;

		dgram_arm(d);
		n = recvmmsg(r->fd, d->mm, DGRAM_BATCH, MSG_WAITFORONE, NULL);
		if (n == -1) {
			if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
				continue; /* SO_RCVTIMEO: look at the stop flag */
			reader_error(r, "recvmmsg", errno);
			break;
		}
		int64_t now = lw_sys_mono_ns();

		if (r->first_ns == 0)
			r->first_ns = now;
		r->last_ns = now;
		for (int i = 0; i < n; i++) {
			size_t len = d->mm[i].msg_len;
			const char *p = d->iov[i].iov_base;

			r->bytes += len;
			if (d->mm[i].msg_hdr.msg_flags & MSG_TRUNC) {
				r->msgs++;
				r->oversize++;
				continue;
			}
			/* Many senders end a datagram with LF; it is not part
			 * of the message. */
			if (len > 0 && p[len - 1] == '\n')
				len--;
			on_message(r, p, len);
		}
		note_drops(r, &d->mm[n - 1].msg_hdr);
		atomic_store_explicit(&r->pub_msgs, r->msgs, memory_order_relaxed);
	}
out:
	if (d) {
		free(d->data);
		free(d->ctl);
	}
	free(d);
	atomic_store(&r->done, 1);
	return NULL;
}

static struct reader *
reader_new(struct lw_sink *s, int fd)
{
	struct reader *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->sink = s;
	r->fd = fd;
	r->mode = s->cfg->framing;
	atomic_init(&r->pub_msgs, 0);
	atomic_init(&r->done, 0);
	lw_seqtrack_init(&r->track);
	return r;
}

static void
reader_free(struct reader *r)
{
	if (r == NULL)
		return;
	lw_seqtrack_release(&r->track);
	free(r);
}

static int
sock_fail(struct lw_diag *diag, const char *what, const struct lw_netaddr *a)
{
	char ebuf[128], where[128];
	int e = errno;

	lw_netaddr_format(a, where, sizeof(where));
	lw_diag_set(diag, LW_EIO, NULL, 0, 0, "%s '%s': %s", what, where,
		    lw_sys_strerror(e, ebuf, sizeof(ebuf)));
	if (diag)
		diag->sys_errno = e;
	return LW_EIO;
}

/* A stale socket file from an earlier run would make bind() fail; remove
 * it, but never anything that is not a socket. */
static void
remove_stale_socket(const struct lw_netaddr *a)
{
	const char *path = ((const struct sockaddr_un *)&a->ss)->sun_path;
	struct stat st;

	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		(void)unlink(path);
}

static void
set_rcvbuf(int fd, int size)
{
	/* SO_RCVBUFFORCE passes rmem_max when we are allowed to. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) == -1)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
}

int
lw_sink_open(const struct lw_sink_cfg *cfg, struct lw_sink **out, struct lw_diag *diag)
{
	const struct lw_netaddr *a = &cfg->addr;
	int type = lw_netaddr_socktype(a->transport), one = 1, rc;
	struct lw_sink *s;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return LW_ENOMEM;
	s->cfg = cfg;
	atomic_init(&s->stop, 0);
	s->local = *a;
	s->fd = socket(a->ss.ss_family, type | SOCK_CLOEXEC, 0);
	if (s->fd == -1) {
		rc = sock_fail(diag, "cannot create socket for", a);
		goto fail;
	}
	if (a->ss.ss_family == AF_UNIX)
		remove_stale_socket(a);
	else
		(void)setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (cfg->rcvbuf > 0)
		set_rcvbuf(s->fd, cfg->rcvbuf);
	else if (a->transport == LW_TR_UDP)
		set_rcvbuf(s->fd, UDP_RCVBUF_DEFAULT);
	if (bind(s->fd, (const struct sockaddr *)&a->ss, a->len) == -1) {
		rc = sock_fail(diag, "cannot bind", a);
		goto fail;
	}
	s->unlink_path = a->ss.ss_family == AF_UNIX;
	if (type == SOCK_STREAM) {
		if (listen(s->fd, 1024) == -1 || fcntl(s->fd, F_SETFL, O_NONBLOCK) == -1) {
			rc = sock_fail(diag, "cannot listen on", a);
			goto fail;
		}
	} else {
		struct timeval tv = { .tv_sec = 0, .tv_usec = 100000 };

		(void)setsockopt(s->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		if (a->transport == LW_TR_UDP)
			(void)setsockopt(s->fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one));
	}
	if (a->ss.ss_family != AF_UNIX) {
		s->local.len = sizeof(s->local.ss);
		if (getsockname(s->fd, (struct sockaddr *)&s->local.ss, &s->local.len) == -1) {
			rc = sock_fail(diag, "getsockname", a);
			goto fail;
		}
	}
	*out = s;
	return LW_OK;

fail:
	lw_sink_close(s);
	return rc;
}

void
lw_sink_local(const struct lw_sink *s, struct lw_netaddr *out)
{
	*out = s->local;
}

void
lw_sink_close(struct lw_sink *s)
{
	if (s == NULL)
		return;
	if (s->fd != -1)
		close(s->fd);
	if (s->unlink_path)
		(void)unlink(((const struct sockaddr_un *)&s->local.ss)->sun_path);
	free(s);
}

struct readers {
	struct reader **v;
	unsigned n, cap;
};

static int
readers_add(struct readers *rs, struct reader *r)
{
	if (rs->n == rs->cap) {
		unsigned ncap = rs->cap ? rs->cap * 2 : 16;
		struct reader **nv = realloc(rs->v, ncap * sizeof(*nv));

		if (nv == NULL)
			return LW_ENOMEM;
		rs->v = nv;
		rs->cap = ncap;
	}
	rs->v[rs->n++] = r;
	return LW_OK;
}

static void
accept_all(struct lw_sink *s, struct readers *rs, struct lw_sink_result *res)
{
	for (;;) {
		int fd = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC);
		struct reader *r;

		if (fd == -1)
			return; /* EAGAIN, or an aborted connection: poll again */
		if (rs->n >= s->cfg->max_conns) {
			close(fd);
			res->rejected++;
			continue;
		}
		if (s->cfg->rcvbuf > 0)
			set_rcvbuf(fd, s->cfg->rcvbuf);
		r = reader_new(s, fd);
		if (r == NULL || readers_add(rs, r) != LW_OK) {
			reader_free(r);
			close(fd);
			res->rejected++;
			continue;
		}
		if (pthread_create(&r->tid, NULL, stream_reader, r) != 0) {
			rs->n--;
			reader_free(r);
			close(fd);
			res->rejected++;
			continue;
		}
		res->connections++;
	}
}

struct progress {
	uint64_t total;
	unsigned open;
};

static void
sample(const struct readers *rs, struct progress *p)
{
	p->total = 0;
	p->open = 0;
	for (unsigned i = 0; i < rs->n; i++) {
		p->total += atomic_load_explicit(&rs->v[i]->pub_msgs, memory_order_relaxed);
		if (!atomic_load(&rs->v[i]->done))
			p->open++;
	}
}

/* The stop rules of sink.h, evaluated every POLL_MS. */
static int
should_stop(const struct lw_sink *s, const struct progress *p, unsigned nreaders,
	    int64_t now, int64_t start, int64_t last_change, int64_t last_accept)
{
	const struct lw_sink_cfg *cfg = s->cfg;
	int stream = lw_netaddr_socktype(cfg->addr.transport) == SOCK_STREAM;

	if (cfg->duration_ms && now - start >= (int64_t)cfg->duration_ms * 1000000)
		return 1;
	if (cfg->idle_ms && p->total > 0
	    && now - last_change >= (int64_t)cfg->idle_ms * 1000000)
		return 1;
	if (cfg->expect && p->total >= cfg->expect) {
		if (stream && p->open == 0)
			return 1;
		if (now - last_change >= SETTLE_NS)
			return 1;
	}
	if (stream && !cfg->stay && nreaders > 0 && p->open == 0
	    && now - last_accept >= CLOSED_LINGER_NS)
		return 1;
	return 0;
}

static void
collect(struct readers *rs, struct lw_sink_result *res, struct lw_seqtrack *all)
{
	int64_t first = 0, last = 0;

	for (unsigned i = 0; i < rs->n; i++) {
		struct reader *r = rs->v[i];

		res->messages += r->msgs;
		res->bytes += r->bytes;
		res->unparsed += r->unparsed;
		res->oversize += r->oversize;
		res->partial += r->partial;
		res->kernel_drops += r->kernel_drops;
		res->io_errors += r->io_errors;
		if (res->first_error[0] == '\0' && r->first_error[0])
			snprintf(res->first_error, sizeof(res->first_error), "%s",
				 r->first_error);
		if (r->first_ns && (first == 0 || r->first_ns < first))
			first = r->first_ns;
		if (r->last_ns > last)
			last = r->last_ns;
		if (lw_seqtrack_merge(all, &r->track) != LW_OK)
			res->io_errors++;
	}
	res->elapsed = first ? (double)(last - first) / 1e9 : 0.0;
}

static void
stop_readers(struct lw_sink *s, struct readers *rs)
{
	int stream = lw_netaddr_socktype(s->cfg->addr.transport) == SOCK_STREAM;

	atomic_store(&s->stop, 1);
	for (unsigned i = 0; i < rs->n; i++) {
		/* Wakes a reader blocked in read(); the datagram reader sees
		 * the flag within its SO_RCVTIMEO. */
		if (stream && !atomic_load(&rs->v[i]->done))
			(void)shutdown(rs->v[i]->fd, SHUT_RDWR);
	}
	for (unsigned i = 0; i < rs->n; i++) {
		pthread_join(rs->v[i]->tid, NULL);
		if (stream)
			close(rs->v[i]->fd);
	}
}

int
lw_sink_run(struct lw_sink *s, int stop_fd, struct lw_sink_result *res,
	    struct lw_diag *diag)
{
	int stream = lw_netaddr_socktype(s->cfg->addr.transport) == SOCK_STREAM;
	struct readers rs = { 0 };
	struct lw_seqtrack all;
	struct progress p = { 0 }, prev = { 0 };
	int64_t start = lw_sys_mono_ns(), last_change = start, last_accept = start;
	int rc = LW_OK;

	memset(res, 0, sizeof(*res));
	lw_seqtrack_init(&all);
	if (!stream) {
		struct reader *r = reader_new(s, s->fd);

		if (r == NULL || readers_add(&rs, r) != LW_OK) {
			reader_free(r);
			rc = LW_ENOMEM;
			goto out;
		}
		if (pthread_create(&r->tid, NULL, dgram_reader, r) != 0) {
			rs.n = 0;
			reader_free(r);
			rc = lw_diag_set(diag, LW_EIO, NULL, 0, 0, "cannot start reader thread");
			goto out;
		}
	}
	for (;;) {
		struct pollfd pf[2] = {
			{ .fd = stop_fd, .events = POLLIN },
			{ .fd = stream ? s->fd : -1, .events = POLLIN },
		};
		int64_t now;

		if (poll(pf, 2, POLL_MS) == -1 && errno != EINTR) {
			rc = lw_diag_set(diag, LW_EIO, NULL, 0, 0, "poll failed");
			break;
		}
		now = lw_sys_mono_ns();
		if (pf[0].revents) {
			res->stopped = 1;
			break;
		}
		if (pf[1].revents & POLLIN) {
			unsigned before = rs.n;

			accept_all(s, &rs, res);
			if (rs.n != before)
				last_accept = now;
		}
		sample(&rs, &p);
		if (p.total != prev.total)
			last_change = now;
		prev = p;
		if (should_stop(s, &p, rs.n, now, start, last_change, last_accept))
			break;
	}
	stop_readers(s, &rs);
	collect(&rs, res, &all);
	lw_seqtrack_totals(&all, &res->seq);
	res->missing = res->seq.gaps;
	if (s->cfg->expect > res->seq.unique
	    && s->cfg->expect - res->seq.unique > res->missing)
		res->missing = s->cfg->expect - res->seq.unique;
out:
	for (unsigned i = 0; i < rs.n; i++)
		reader_free(rs.v[i]);
	free(rs.v);
	lw_seqtrack_release(&all);
	return rc;
}
