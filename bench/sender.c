/* bench/sender.c - logward-bench's send loop (prefix lw_sender).  Each
 * worker thread owns its ring, connections, token bucket and counters;
 * the calling thread only starts, waits and sums.  See sender.h. */
#include "bench/sender.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "bench/benchtls.h"
#include "bench/sys.h"
#include "core/err.h"

/* Longest a rate-limited thread sleeps before it looks at the clock, the
 * stop flag and the deadline again. */
#define SLEEP_MAX_NS 10000000
/* Shortest sleep: below this the wakeup cost dominates and the bucket
 * would be refilled by less than a message at moderate rates. */
#define SLEEP_MIN_NS 20000
/* Token bucket depth, in seconds of rate: small enough that the output is
 * smooth at the millisecond scale, large enough to amortise syscalls. */
#define BURST_SEC 0.002

/* Workers set up (render, connect), then wait at the gate so that every
 * connection exists before the first byte is sent and the clock starts. */
struct run {
	atomic_int stop;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	unsigned ready;             /* workers waiting at the gate */
	int go;                     /* the gate is open */
	int done_fd;                /* eventfd: each worker adds 1 when done */
};

struct conn {
	int fd;
	struct lw_benchtls_conn *tls;
	uint64_t remaining;         /* messages still to send on this connection */
	uint64_t msgs;              /* messages sent on it so far */
	int done;
	char seq[LW_MSGGEN_SEQ_LEN];
};

struct worker {
	const struct lw_sender_cfg *cfg;
	struct run *run;
	unsigned index;
	pthread_t tid;

	struct lw_msggen_ring ring;
	struct lw_msggen_clock clock;
	size_t pos;                 /* next ring slot */

	struct conn *conns;
	unsigned nconns;
	unsigned rr;                /* round-robin start */

	struct mmsghdr *mm;         /* datagram: batch_msgs headers ... */
	struct iovec *iov;          /* ... each pointing at its own iovec */

	double rate, tokens, burst; /* msgs/s for this thread; 0: unlimited */
	int64_t refill_ns;

	/* --sources: the next attacker address is (src_base + src_k * P) mod
	 * sources, which visits every address once before any repeats */
	uint64_t src_base, src_k;
	/* slow attackers (worker 0, connection 0): their messages, and when
	 * each attempt is due (connection 0's message count), in order */
	struct lw_buf attempts;
	size_t *att_off, *att_ts, *att_seq, *att_len;
	uint64_t *due;
	unsigned *due_who;
	unsigned ndue, next_due;
	uint64_t slow_sent;

	uint64_t sent, bytes, errors;
	unsigned connected;
	int64_t t0, t1;
	char first_error[256];
};

static void
note_error(struct worker *w, const char *what, int errnum)
{
	char ebuf[128];

	w->errors++;
	if (w->first_error[0] == '\0')
		snprintf(w->first_error, sizeof(w->first_error), "%s: %s", what,
			 errnum ? lw_sys_strerror(errnum, ebuf, sizeof(ebuf)) : "failed");
}

static int
conn_open(struct worker *w, struct conn *c)
{
	const struct lw_sender_cfg *cfg = w->cfg;
	struct lw_diag diag;
	int fd, e;

	fd = socket(cfg->addr.ss.ss_family,
		    lw_netaddr_socktype(cfg->addr.transport) | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		note_error(w, "socket", errno);
		return LW_EIO;
	}
	if (cfg->sndbuf > 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &cfg->sndbuf, sizeof(cfg->sndbuf));
	while (connect(fd, (const struct sockaddr *)&cfg->addr.ss, cfg->addr.len) == -1) {
		if (errno == EINTR)
			continue;
		e = errno;
		close(fd);
		note_error(w, "connect", e);
		return LW_EIO;
	}
	if (cfg->addr.transport == LW_TR_TLS) {
		memset(&diag, 0, sizeof(diag));
		if (lw_benchtls_connect(cfg->tls, fd, &c->tls, &diag) != LW_OK) {
			close(fd);
			w->errors++;
			if (w->first_error[0] == '\0')
				snprintf(w->first_error, sizeof(w->first_error), "%.200s",
					 diag.detail);
			return LW_EIO;
		}
	}
	c->fd = fd;
	return LW_OK;
}

/* A TLS 1.3 server sends session tickets after the handshake.  Closing
 * with them unread makes the kernel send RST instead of FIN, and a reset
 * makes the receiver drop what it has not read yet: the tail of the run.
 * So after close_notify, half-close and read until the server closes
 * (bounded by DRAIN_TIMEOUT_SEC). */
#define DRAIN_TIMEOUT_SEC 5

static void
drain(int fd)
{
	struct timeval tv = { .tv_sec = DRAIN_TIMEOUT_SEC, .tv_usec = 0 };
	char buf[4096];
	int64_t end = lw_sys_mono_ns() + (int64_t)DRAIN_TIMEOUT_SEC * 1000000000;

	(void)shutdown(fd, SHUT_WR);
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (lw_sys_mono_ns() < end) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n == 0 || (n == -1 && errno != EINTR))
			break;
	}
}

static void
conn_close(struct conn *c)
{
	if (c->fd == -1)
		return;
	if (c->tls) {
		lw_benchtls_conn_free(c->tls);
		c->tls = NULL;
		drain(c->fd);
	}
	close(c->fd);
	c->fd = -1;
}

/* Writes every byte of iov[0..n) (n <= 2); stores how many were written. */
static int
write_all(struct conn *c, struct iovec *iov, int n, size_t *written)
{
	struct msghdr mh;
	ssize_t w;

	*written = 0;
	if (c->tls) {
		for (int i = 0; i < n; i++) {
			if (lw_benchtls_write(c->tls, iov[i].iov_base, iov[i].iov_len) != LW_OK)
				return EIO;
			*written += iov[i].iov_len;
		}
		return 0;
	}
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = iov;
	mh.msg_iovlen = (size_t)n;
	while (mh.msg_iovlen > 0) {
		/* MSG_NOSIGNAL: a closed receiver is an error to count, not a
		 * SIGPIPE that kills the run before it can report. */
		w = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
		if (w == -1) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		*written += (size_t)w;
		while (mh.msg_iovlen > 0 && (size_t)w >= mh.msg_iov->iov_len) {
			w -= (ssize_t)mh.msg_iov->iov_len;
			mh.msg_iov++;
			mh.msg_iovlen--;
		}
		if (mh.msg_iovlen > 0) {
			mh.msg_iov->iov_base = (char *)mh.msg_iov->iov_base + w;
			mh.msg_iov->iov_len -= (size_t)w;
		}
	}
	return 0;
}

static void
conn_fail(struct worker *w, struct conn *c, const char *what, int errnum)
{
	note_error(w, what, errnum);
	conn_close(c);
	c->done = 1;
}

/* A prime: coprime with every source count below it, so the stride
 * walks all of them. */
#define SRC_STRIDE 2654435761ULL

static void
patch(struct worker *w, size_t i, struct conn *c)
{
	uint64_t n = w->cfg->gen.sources;

	lw_msggen_patch(&w->ring, i, &w->clock, c->seq);
	if (n > 0) {
		uint64_t stride = n % SRC_STRIDE ? SRC_STRIDE % n : 1;

		lw_msggen_patch_src(&w->ring, i, (w->src_base + w->src_k * stride) % n);
		w->src_k++;
	}
}

void
lw_sender_slow_address(unsigned j, char *out, size_t outlen)
{
	snprintf(out, outlen, "203.0.113.%u", 200 + j);
}

/* Sends slow attempt `who` on c now (clock and seq patched in). */
static void
send_attempt(struct worker *w, struct conn *c, unsigned who)
{
	char *m = w->attempts.data + w->att_off[who];
	struct iovec iov = { .iov_base = m, .iov_len = w->att_len[who] };
	size_t written;
	int e;

	memcpy(w->attempts.data + w->att_ts[who], w->clock.text, w->clock.len);
	memcpy(w->attempts.data + w->att_seq[who], c->seq, LW_MSGGEN_SEQ_LEN);
	(void)lw_msggen_seq_next(c->seq);
	if (lw_netaddr_socktype(w->cfg->addr.transport) == SOCK_STREAM) {
		e = write_all(c, &iov, 1, &written);
	} else {
		while (send(c->fd, m, iov.iov_len, 0) == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == ENOBUFS) {
				lw_sys_sleep_ns(SLEEP_MIN_NS);
				continue;
			}
			break;
		}
		e = 0;
	}
	if (e != 0) {
		conn_fail(w, c, "send", e);
		return;
	}
	w->sent++;
	w->slow_sent++;
	w->bytes += iov.iov_len;
	c->msgs++;
	c->remaining--;
}

/* One stream batch: up to <limit> messages and about batch_bytes, as one
 * or two iovecs (two when the batch wraps around the ring's end). */
static uint64_t
send_stream(struct worker *w, struct conn *c, uint64_t limit)
{
	struct lw_msggen_ring *r = &w->ring;
	size_t start = w->pos, i = w->pos, bytes = 0, written = 0;
	size_t max_bytes = w->cfg->batch_bytes;
	struct iovec iov[2];
	uint64_t k = 0;
	int niov = 1, e;

	if (limit > r->n)
		limit = r->n; /* a slot must not be patched twice per batch */
	while (k < limit && bytes < max_bytes) {
		patch(w, i, c);
		bytes += r->slots[i].len;
		k++;
		if (++i == r->n)
			i = 0;
	}
	iov[0].iov_base = r->buf + r->slots[start].off;
	if (i > start) {
		iov[0].iov_len = bytes;
	} else {
		iov[0].iov_len = r->bytes - r->slots[start].off;
		iov[1].iov_base = r->buf;
		iov[1].iov_len = r->slots[i].off;
		niov = iov[1].iov_len ? 2 : 1;
	}
	w->pos = i;
	e = write_all(c, iov, niov, &written);
	if (e != 0) {
		/* Count only the messages that reached the kernel in full. */
		uint64_t full = 0;
		size_t acc = 0;

		for (size_t j = start; full < k; j = (j + 1 == r->n) ? 0 : j + 1) {
			if (acc + r->slots[j].len > written)
				break;
			acc += r->slots[j].len;
			full++;
		}
		w->sent += full;
		w->bytes += acc;
		conn_fail(w, c, "send", e);
		return full;
	}
	w->sent += k;
	w->bytes += bytes;
	return k;
}

/* One datagram batch: up to batch_msgs messages in sendmmsg() calls.  A
 * datagram the kernel refuses (ECONNREFUSED after an ICMP unreachable,
 * EMSGSIZE) is counted as an error and skipped; the rest still go out. */
static uint64_t
send_dgram(struct worker *w, struct conn *c, uint64_t limit)
{
	struct lw_msggen_ring *r = &w->ring;
	size_t i = w->pos;
	unsigned n, done = 0;
	uint64_t ok = 0, bytes = 0;

	if (limit > w->cfg->batch_msgs)
		limit = w->cfg->batch_msgs;
	if (limit > r->n)
		limit = r->n;
	n = (unsigned)limit;
	for (unsigned j = 0; j < n; j++) {
		patch(w, i, c);
		w->iov[j].iov_base = r->buf + r->slots[i].off;
		w->iov[j].iov_len = r->slots[i].len;
		if (++i == r->n)
			i = 0;
	}
	w->pos = i;
	while (done < n) {
		int got = sendmmsg(c->fd, w->mm + done, n - done, 0);

		if (got == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == ENOBUFS) {
				/* Full send queue: wait, it drains. */
				if (atomic_load_explicit(&w->run->stop, memory_order_relaxed))
					break;
				lw_sys_sleep_ns(SLEEP_MIN_NS);
				continue;
			}
			note_error(w, "sendmmsg", errno);
			done++;
			continue;
		}
		for (int j = 0; j < got; j++)
			bytes += w->iov[done + (unsigned)j].iov_len;
		ok += (unsigned)got;
		done += (unsigned)got;
	}
	w->sent += ok;
	w->bytes += bytes;
	return done;
}

static void
refill(struct worker *w, int64_t now)
{
	w->tokens += (double)(now - w->refill_ns) * w->rate / 1e9;
	if (w->tokens > w->burst)
		w->tokens = w->burst;
	w->refill_ns = now;
}

static void
sleep_for_token(struct worker *w)
{
	int64_t ns = (int64_t)((1.0 - w->tokens) / w->rate * 1e9);

	if (ns < SLEEP_MIN_NS)
		ns = SLEEP_MIN_NS;
	if (ns > SLEEP_MAX_NS)
		ns = SLEEP_MAX_NS;
	lw_sys_sleep_ns(ns);
}

static void
worker_loop(struct worker *w)
{
	const struct lw_sender_cfg *cfg = w->cfg;
	int stream = lw_netaddr_socktype(cfg->addr.transport) == SOCK_STREAM;
	int64_t deadline = cfg->count ? 0 : w->t0 + (int64_t)cfg->duration_ms * 1000000;
	unsigned active = 1;

	w->refill_ns = w->t0;
	w->tokens = w->burst < 1.0 ? w->burst : 1.0;
	while (active > 0) {
		struct timespec rt;
		int64_t now = lw_sys_mono_ns();
		int starved = 0;

		if (atomic_load_explicit(&w->run->stop, memory_order_relaxed))
			break;
		if (deadline && now >= deadline)
			break;
		clock_gettime(CLOCK_REALTIME, &rt);
		lw_msggen_clock_update(&w->clock, &rt);
		if (w->rate > 0)
			refill(w, now);
		active = 0;
		for (unsigned n = 0; n < w->nconns; n++) {
			struct conn *c = &w->conns[(w->rr + n) % w->nconns];
			uint64_t k = c->remaining, sent;

			if (c->done)
				continue;
			active++;
			if (w->rate > 0) {
				if (w->tokens < 1.0) {
					starved = 1;
					break;
				}
				if ((double)k > w->tokens)
					k = (uint64_t)w->tokens;
			}
			if (w->ndue > 0 && c == &w->conns[0]) {
				/* A slow attempt due now goes first; the batch
				 * stops where the next one is due. */
				while (w->next_due < w->ndue && !c->done &&
				       c->msgs >= w->due[w->next_due] && c->remaining > 0) {
					send_attempt(w, c, w->due_who[w->next_due++]);
					if (w->rate > 0)
						w->tokens -= 1.0;
				}
				if (c->done || c->remaining == 0) {
					c->done = 1;
					continue;
				}
				k = k < c->remaining ? k : c->remaining;
				if (w->next_due < w->ndue && w->due[w->next_due] - c->msgs < k)
					k = w->due[w->next_due] - c->msgs;
				if (k == 0)
					continue;
			}
			sent = stream ? send_stream(w, c, k) : send_dgram(w, c, k);
			if (w->rate > 0)
				w->tokens -= (double)sent;
			c->remaining -= sent;
			c->msgs += sent;
			if (c->remaining == 0)
				c->done = 1;
		}
		w->rr++;
		if (starved)
			sleep_for_token(w);
	}
	w->t1 = lw_sys_mono_ns();
}

/* Worker 0: one message per slow attacker, and the schedule: attempt m
 * of attacker j is due when connection 0 has sent
 * (m * slow + j + 1) * span / (slow * attempts + 1) messages. */
static int
slow_setup(struct worker *w)
{
	const struct lw_sender_cfg *cfg = w->cfg;
	unsigned k = cfg->slow, a = cfg->slow_attempts, n = k * a;
	uint64_t span = cfg->slow_span;
	struct lw_msggen_cfg mc = cfg->gen;

	lw_buf_init(&w->attempts);
	w->att_off = calloc(k, sizeof(*w->att_off));
	w->att_ts = calloc(k, sizeof(*w->att_ts));
	w->att_seq = calloc(k, sizeof(*w->att_seq));
	w->att_len = calloc(k, sizeof(*w->att_len));
	w->due = calloc(n, sizeof(*w->due));
	w->due_who = calloc(n, sizeof(*w->due_who));
	if (!w->att_off || !w->att_ts || !w->att_seq || !w->att_len || !w->due || !w->due_who)
		return LW_ENOMEM;
	if (span == 0 || span > w->conns[0].remaining)
		span = w->conns[0].remaining;
	for (unsigned j = 0; j < k; j++) {
		char ip[32];

		lw_sender_slow_address(j, ip, sizeof(ip));
		w->att_off[j] = w->attempts.len;
		if (lw_msggen_render_attempt(&w->attempts, &mc, ip, 40000 + j, "in-jump01",
					     &w->att_ts[j], &w->att_seq[j]) != LW_OK)
			return LW_ENOMEM;
		w->att_len[j] = w->attempts.len - w->att_off[j];
	}
	for (unsigned i = 0; i < n; i++) {
		w->due[i] = (uint64_t)(((unsigned __int128)(i + 1) * span) / (n + 1));
		w->due_who[i] = i % k;
	}
	w->ndue = n;
	return LW_OK;
}

static int
worker_setup(struct worker *w)
{
	const struct lw_sender_cfg *cfg = w->cfg;
	struct lw_msggen_cfg gen = cfg->gen;
	int rc;

	/* Threads render different rings: same seed would mean every thread
	 * sends the same message sequence. */
	gen.seed = cfg->gen.seed + w->index;
	rc = lw_msggen_ring_build(&w->ring, &gen, cfg->replay, time(NULL));
	if (rc != LW_OK) {
		note_error(w, "cannot render messages", ENOMEM);
		return rc;
	}
	lw_msggen_clock_init(&w->clock, cfg->gen.format);
	if (w->index == 0 && cfg->slow > 0 && slow_setup(w) != LW_OK) {
		note_error(w, "cannot render the slow attempts", ENOMEM);
		return LW_ENOMEM;
	}
	if (lw_netaddr_socktype(cfg->addr.transport) == SOCK_DGRAM) {
		w->mm = calloc(cfg->batch_msgs, sizeof(*w->mm));
		w->iov = calloc(cfg->batch_msgs, sizeof(*w->iov));
		if (w->mm == NULL || w->iov == NULL) {
			note_error(w, "cannot allocate batch", ENOMEM);
			return LW_ENOMEM;
		}
		for (unsigned j = 0; j < cfg->batch_msgs; j++) {
			w->mm[j].msg_hdr.msg_iov = &w->iov[j];
			w->mm[j].msg_hdr.msg_iovlen = 1;
		}
	}
	for (unsigned i = 0; i < w->nconns; i++) {
		rc = conn_open(w, &w->conns[i]);
		if (rc != LW_OK)
			return rc;
		w->connected++;
	}
	return LW_OK;
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	uint64_t one = 1;
	int rc;

	rc = worker_setup(w);
	if (rc != LW_OK)
		atomic_store(&w->run->stop, 1); /* all or nothing: abort the run */
	pthread_mutex_lock(&w->run->mu);
	w->run->ready++;
	pthread_cond_broadcast(&w->run->cv);
	while (!w->run->go)
		pthread_cond_wait(&w->run->cv, &w->run->mu);
	pthread_mutex_unlock(&w->run->mu);
	w->t0 = lw_sys_mono_ns();
	if (rc == LW_OK)
		worker_loop(w);
	else
		w->t1 = w->t0;
	for (unsigned i = 0; i < w->nconns; i++)
		conn_close(&w->conns[i]);
	while (write(w->run->done_fd, &one, sizeof(one)) == -1 && errno == EINTR)
		;
	return NULL;
}

static void
workers_init(const struct lw_sender_cfg *cfg, struct run *run, struct worker *ws,
	     struct conn *conns)
{
	for (unsigned c = 0; c < cfg->connections; c++) {
		conns[c].fd = -1;
		/* A duration run still ends where the 12-digit message number
		 * would wrap, so a sequence number is never sent twice. */
		if (cfg->count)
			conns[c].remaining = cfg->count / cfg->connections
				+ (c < cfg->count % cfg->connections);
		else
			conns[c].remaining = LW_SENDER_MAX_PER_CONN;
		conns[c].done = conns[c].remaining == 0;
		lw_msggen_seq_init(conns[c].seq, c, 1);
	}
	/* Thread t gets a contiguous run of connections (sizes differ by at
	 * most one), so its slice of the rate follows its share of them. */
	for (unsigned t = 0, first = 0; t < cfg->threads; t++) {
		struct worker *w = &ws[t];

		w->cfg = cfg;
		w->run = run;
		w->index = t;
		w->nconns = cfg->connections / cfg->threads + (t < cfg->connections % cfg->threads);
		w->conns = conns + first;
		first += w->nconns;
		w->rate = cfg->rate * w->nconns / cfg->connections;
		w->src_base = cfg->gen.sources ? cfg->gen.sources / cfg->threads * t : 0;
		w->burst = w->rate * BURST_SEC;
		if (w->burst < 1.0)
			w->burst = 1.0;
	}
}

/* Waits until all <n> workers are done; a readable <stop_fd> stops them. */
static int
wait_workers(struct run *run, unsigned n, int stop_fd)
{
	unsigned done = 0;
	int stopped = 0;

	while (done < n) {
		struct pollfd p[2] = {
			{ .fd = run->done_fd, .events = POLLIN },
			{ .fd = stopped ? -1 : stop_fd, .events = POLLIN },
		};
		uint64_t v;

		if (poll(p, 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents) {
			atomic_store(&run->stop, 1);
			stopped = 1;
		}
		if ((p[0].revents & POLLIN) && read(run->done_fd, &v, sizeof(v)) == sizeof(v))
			done += (unsigned)v;
	}
	return stopped;
}

static void
sum_results(const struct worker *ws, unsigned n, struct lw_sender_result *res)
{
	int64_t t0 = 0, t1 = 0;

	for (unsigned t = 0; t < n; t++) {
		const struct worker *w = &ws[t];

		res->sent += w->sent;
		res->slow_sent += w->slow_sent;
		res->bytes += w->bytes;
		res->errors += w->errors;
		res->connected += w->connected;
		if (res->first_error[0] == '\0' && w->first_error[0])
			snprintf(res->first_error, sizeof(res->first_error), "%.200s", w->first_error);
		if (t == 0 || w->t0 < t0)
			t0 = w->t0;
		if (t == 0 || w->t1 > t1)
			t1 = w->t1;
	}
	res->elapsed = (double)(t1 - t0) / 1e9;
}

static void
open_gate(struct run *run, unsigned started)
{
	pthread_mutex_lock(&run->mu);
	while (run->ready < started)
		pthread_cond_wait(&run->cv, &run->mu);
	run->go = 1;
	pthread_cond_broadcast(&run->cv);
	pthread_mutex_unlock(&run->mu);
}

int
lw_sender_run(const struct lw_sender_cfg *cfg, int stop_fd,
	      struct lw_sender_result *res, struct lw_diag *diag)
{
	struct run run;
	struct worker *ws = NULL;
	struct conn *conns = NULL;
	unsigned started = 0;
	int rc = LW_OK;

	memset(res, 0, sizeof(*res));
	memset(&run, 0, sizeof(run));
	atomic_init(&run.stop, 0);
	pthread_mutex_init(&run.mu, NULL);
	pthread_cond_init(&run.cv, NULL);
	run.done_fd = eventfd(0, EFD_CLOEXEC);
	if (run.done_fd == -1) {
		rc = lw_diag_set(diag, LW_EIO, NULL, 0, 0, "eventfd failed");
		goto out;
	}
	ws = calloc(cfg->threads, sizeof(*ws));
	conns = calloc(cfg->connections, sizeof(*conns));
	if (ws == NULL || conns == NULL) {
		rc = LW_ENOMEM;
		goto out;
	}
	workers_init(cfg, &run, ws, conns);
	for (; started < cfg->threads; started++) {
		if (pthread_create(&ws[started].tid, NULL, worker_main, &ws[started]) != 0) {
			rc = lw_diag_set(diag, LW_EIO, NULL, 0, 0, "cannot start thread %u",
					 started);
			atomic_store(&run.stop, 1);
			break;
		}
	}
	open_gate(&run, started);
	res->stopped = wait_workers(&run, started, stop_fd);
	for (unsigned t = 0; t < started; t++)
		pthread_join(ws[t].tid, NULL);
	if (rc == LW_OK)
		sum_results(ws, cfg->threads, res);
out:
	if (ws) {
		for (unsigned t = 0; t < cfg->threads; t++) {
			lw_msggen_ring_release(&ws[t].ring);
			free(ws[t].mm);
			free(ws[t].iov);
			lw_buf_release(&ws[t].attempts);
			free(ws[t].att_off);
			free(ws[t].att_ts);
			free(ws[t].att_seq);
			free(ws[t].att_len);
			free(ws[t].due);
			free(ws[t].due_who);
		}
	}
	free(ws);
	free(conns);
	if (run.done_fd != -1)
		close(run.done_fd);
	pthread_cond_destroy(&run.cv);
	pthread_mutex_destroy(&run.mu);
	return rc;
}
