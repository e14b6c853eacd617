/* collector/notify.c - incident notification outputs (prefix lw_notify).
 * lw_notify_submit runs on the pipeline's writer thread; each output has
 * its own thread, queue and backoff, so one output that hangs for its
 * whole timeout delays only itself.
 *
 * Queue per output: a ring of refcounted messages (one copy of the JSON
 * shared by every output it goes to). The head is being delivered; on
 * failure it stays at the head until its retry time (later entries wait:
 * incidents go out in order), or leaves when attempts are exhausted. */
#include "collector/notify.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/time.h"

#define BACKOFF_MAX_MS 60000
#define WAIT_STEP_MS 10

extern char **environ;

struct msg {
	atomic_uint refs;
	size_t len;      /* JSON + '\n' */
	char data[];
};

struct output {
	struct lw_notify *n;
	const struct lw_notify_config *cfg;
	pthread_t thread;
	int started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct msg **ring;
	uint32_t cap, head, count;
	int stopping;
	int busy;          /* delivering the head right now */
	uint32_t attempts; /* of the head */
	int64_t retry_at;  /* monotonic ms; 0 = now */
	char *argv_ptrs[LW_NOTIFY_MAX_ARGS + 1];
};

struct lw_notify {
	struct output *outs;
	size_t nouts;
	uint32_t backoff_ms;
	const struct lw_log *log;
	struct lw_counters *counters;
};

static const char *const level_names[] = {"informational", "low", "medium",
					  "high", "critical"};

unsigned lw_notify_level(const char *name)
{
	for (unsigned i = 0; name != NULL && i < 5; i++)
		if (strcmp(name, level_names[i]) == 0)
			return i;
	return 0;
}

static void count(struct lw_notify *n, enum lw_counter c)
{
	if (n->counters != NULL)
		lw_counters_add(n->counters, c, 1);
}

static void msg_put(struct msg *m)
{
	if (m != NULL && atomic_fetch_sub(&m->refs, 1) == 1)
		free(m);
}

/* --- file output ------------------------------------------------------- */

static int deliver_file(struct output *o, const struct msg *m, char *why,
			size_t whylen)
{
	/* Not through a symlink (someone who can write the directory could
	 * point it at a file of theirs, or ours), and only into a regular
	 * file (O_NONBLOCK: a FIFO planted there must not block us). */
	int fd = open(o->cfg->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
		      O_NOFOLLOW | O_NONBLOCK, 0640);
	char ebuf[128];
	struct stat st;
	ssize_t w;
	int rc = 0;

	if (fd == -1) {
		snprintf(why, whylen, "cannot open: %s", errno == ELOOP ?
			 "it is a symbolic link" : strerror_r(errno, ebuf, sizeof(ebuf)));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		snprintf(why, whylen, "cannot open: not a regular file");
		close(fd);
		return -1;
	}
	/* One write: O_APPEND makes it land whole at the end even with
	 * other writers; a short write is an error (disk full). */
	do
		w = write(fd, m->data, m->len);
	while (w == -1 && errno == EINTR);
	if (w != (ssize_t)m->len) {
		snprintf(why, whylen, "write: %s", w == -1 ? strerror_r(errno, ebuf, sizeof(ebuf)) : "short write");
		rc = -1;
	} else if (fdatasync(fd) == -1 && errno != EINVAL) {
		snprintf(why, whylen, "fdatasync: %s", strerror_r(errno, ebuf, sizeof(ebuf)));
		rc = -1;
	}
	close(fd);
	return rc;
}

/* --- exec output ------------------------------------------------------- */

/* Runs in the child between fork and execve: async-signal-safe calls only. */
static void child(int rfd, char *const argv[])
{
	int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);

	setpgid(0, 0);
	if (dup2(rfd, 0) == -1)
		_exit(126);
	if (devnull != -1 && dup2(devnull, 1) == -1)
		_exit(126);
	/* Nothing of the daemon's (LMDB, sockets) reaches the program. */
	for (int fd = 3; fd < 1024; fd++)
		close(fd);
	signal(SIGPIPE, SIG_DFL);
	/* This thread blocks SIGPIPE, and serve blocked SIGTERM, SIGINT and
	 * SIGHUP before starting it: the program starts with none blocked,
	 * as any program expects (a timeout's SIGTERM must reach it). */
	{
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
	}
	execve(argv[0], argv, environ);
	_exit(127);
}

/* Writes all of m to fd (non-blocking) before deadline; the child may exit
 * without reading, which is not our failure: its exit status decides. */
static void feed_stdin(int fd, const struct msg *m, int64_t deadline)
{
	size_t off = 0;

	while (off < m->len) {
		struct pollfd p = {fd, POLLOUT, 0};
		int64_t left = deadline - lw_time_mono_ms();
		ssize_t w;

		if (left <= 0 || poll(&p, 1, (int)(left > 100 ? 100 : left)) == -1)
			return;
		if (!(p.revents & (POLLOUT | POLLERR | POLLHUP)))
			continue;
		w = write(fd, m->data + off, m->len - off);
		if (w == -1 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (w == -1)
			return; /* EPIPE: the program closed stdin */
		off += (size_t)w;
	}
}

/* Waits for pid until deadline; then kills its process group. Returns the
 * wait status, or -1 after a kill. */
static int reap(pid_t pid, int64_t deadline)
{
	int status;

	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		struct timespec ts = {0, WAIT_STEP_MS * 1000000L};

		if (r == pid)
			return status;
		if (r == -1 && errno != EINTR)
			return -2;
		if (lw_time_mono_ms() >= deadline)
			break;
		nanosleep(&ts, NULL);
	}
	kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	return -1;
}

static int deliver_exec(struct output *o, const struct msg *m, char *why,
			size_t whylen)
{
	int64_t deadline = lw_time_mono_ms() + o->cfg->timeout_ms;
	char ebuf[128];
	int fds[2], status;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) == -1) {
		snprintf(why, whylen, "pipe: %s", strerror_r(errno, ebuf, sizeof(ebuf)));
		return -1;
	}
	pid = fork();
	if (pid == -1) {
		snprintf(why, whylen, "fork: %s", strerror_r(errno, ebuf, sizeof(ebuf)));
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0)
		child(fds[0], o->argv_ptrs);
	/* Both sides set the group: whichever runs first, kill(-pid)
	 * finds it. */
	setpgid(pid, pid);
	close(fds[0]);
	fcntl(fds[1], F_SETFL, O_NONBLOCK);
	feed_stdin(fds[1], m, deadline);
	close(fds[1]);
	status = reap(pid, deadline);
	if (status == -1) {
		snprintf(why, whylen, "timed out after %u ms, killed", o->cfg->timeout_ms);
		return -1;
	}
	if (status == -2) {
		snprintf(why, whylen, "waitpid: %s", strerror_r(errno, ebuf, sizeof(ebuf)));
		return -1;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status))
		snprintf(why, whylen, "exit status %d%s", WEXITSTATUS(status),
			 WEXITSTATUS(status) == 127 ? " (cannot execute)" : "");
	else
		snprintf(why, whylen, "killed by signal %d",
			 WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	return -1;
}

/* --- the output thread ----------------------------------------------- */

static struct msg *pop_head(struct output *o)
{
	struct msg *m = o->ring[o->head];

	o->ring[o->head] = NULL;
	o->head = (o->head + 1) % o->cap;
	o->count--;
	o->attempts = 0;
	o->retry_at = 0;
	return m;
}

static void log_failure(struct output *o, const char *why, uint32_t attempts,
			int giving_up)
{
	char n[16];

	snprintf(n, sizeof(n), "%u", attempts);
	lw_log(o->n->log, giving_up ? LW_LOG_ERR : LW_LOG_WARNING, "notify",
	       giving_up ? "notification dropped after its last attempt"
			 : "notification failed; will retry",
	       "output", o->cfg->type == LW_NOTIFY_FILE ? o->cfg->path
							: o->cfg->argv.v[0],
	       "attempts", n, "reason", why, NULL);
}

/* Waits for a due head (or stop); returns with mu held. */
static int wait_due(struct output *o)
{
	while (!o->stopping) {
		int64_t now = lw_time_mono_ms();
		struct timespec ts;

		if (o->count > 0 && o->retry_at <= now)
			return 1;
		if (o->count == 0) {
			pthread_cond_wait(&o->cv, &o->mu);
			continue;
		}
		ts.tv_sec = o->retry_at / 1000;
		ts.tv_nsec = (o->retry_at % 1000) * 1000000;
		pthread_cond_timedwait(&o->cv, &o->mu, &ts);
	}
	return 0;
}

static void *output_main(void *arg)
{
	struct output *o = arg;
	sigset_t set;

	/* A program that exits without reading stdin makes our write fail
	 * with EPIPE instead of killing the daemon. */
	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	pthread_mutex_lock(&o->mu);
	while (wait_due(o)) {
		struct msg *m = o->ring[o->head];
		char why[256] = "";
		int rc;

		atomic_fetch_add(&m->refs, 1); /* the queue may drop it meanwhile */
		o->busy = 1;
		if (o->attempts > 0)
			count(o->n, LW_CTR_NOTIFY_RETRIED);
		o->attempts++;
		pthread_mutex_unlock(&o->mu);
		rc = o->cfg->type == LW_NOTIFY_FILE ? deliver_file(o, m, why, sizeof(why))
						    : deliver_exec(o, m, why, sizeof(why));
		pthread_mutex_lock(&o->mu);
		o->busy = 0;
		if (rc == 0)
			count(o->n, LW_CTR_NOTIFY_SENT);
		else
			count(o->n, LW_CTR_NOTIFY_FAILED);
		/* Still our head? (a full queue may have dropped it) */
		if (o->count > 0 && o->ring[o->head] == m) {
			if (rc == 0) {
				msg_put(pop_head(o));
			} else if (o->attempts >= o->cfg->max_attempts) {
				log_failure(o, why, o->attempts, 1);
				count(o->n, LW_CTR_NOTIFY_DROPPED);
				msg_put(pop_head(o));
			} else {
				uint64_t d = (uint64_t)o->n->backoff_ms << (o->attempts - 1 < 16 ? o->attempts - 1 : 16);

				log_failure(o, why, o->attempts, 0);
				o->retry_at = lw_time_mono_ms() + (int64_t)(d < BACKOFF_MAX_MS ? d : BACKOFF_MAX_MS);
			}
		}
		msg_put(m);
		pthread_cond_broadcast(&o->cv);
	}
	pthread_mutex_unlock(&o->mu);
	sigtimedwait(&set, NULL, &(struct timespec){0, 0}); /* clear a pending SIGPIPE */
	return NULL;
}

/* --- public ---------------------------------------------------------- */

static void output_release(struct output *o)
{
	while (o->ring != NULL && o->count > 0) {
		count(o->n, LW_CTR_NOTIFY_DROPPED);
		msg_put(pop_head(o));
	}
	free(o->ring);
	pthread_cond_destroy(&o->cv);
	pthread_mutex_destroy(&o->mu);
}

int lw_notify_start(const struct lw_notify_opts *opts, struct lw_notify **out,
		    struct lw_diag *diag)
{
	struct lw_notify *n;
	pthread_condattr_t ca;
	size_t i;

	*out = NULL;
	n = calloc(1, sizeof(*n));
	if (n == NULL || (opts->noutputs > 0 &&
			  (n->outs = calloc(opts->noutputs, sizeof(*n->outs))) == NULL)) {
		free(n);
		return lw_diag_set(diag, LW_ENOMEM, NULL, 0, 0, "notify: out of memory");
	}
	n->backoff_ms = opts->backoff_ms ? opts->backoff_ms : 1000;
	n->log = opts->log;
	n->counters = opts->counters;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	for (i = 0; i < opts->noutputs; i++) {
		struct output *o = &n->outs[i];

		o->n = n;
		o->cfg = &opts->outputs[i];
		o->cap = opts->queue_max ? opts->queue_max : 1024;
		pthread_mutex_init(&o->mu, NULL);
		pthread_cond_init(&o->cv, &ca);
		n->nouts = i + 1;
		for (size_t a = 0; a < o->cfg->argv.n && a < LW_NOTIFY_MAX_ARGS; a++)
			o->argv_ptrs[a] = (char *)o->cfg->argv.v[a];
		o->ring = calloc(o->cap, sizeof(*o->ring));
		if (o->ring == NULL)
			goto fail;
		if (pthread_create(&o->thread, NULL, output_main, o) != 0)
			goto fail;
		o->started = 1;
	}
	pthread_condattr_destroy(&ca);
	*out = n;
	return LW_OK;

fail:
	pthread_condattr_destroy(&ca);
	lw_notify_stop(n, 0);
	return lw_diag_set(diag, LW_ENOMEM, NULL, 0, 0,
			   "notify: cannot start output thread");
}

size_t lw_notify_outputs(const struct lw_notify *n)
{
	return n != NULL ? n->nouts : 0;
}

void lw_notify_submit(struct lw_notify *n, const char *json, size_t len,
		      unsigned level)
{
	struct msg *m;
	unsigned targets = 0;

	if (n == NULL || n->nouts == 0)
		return;
	if (len > LW_NOTIFY_MAX_JSON) {
		count(n, LW_CTR_NOTIFY_DROPPED);
		return;
	}
	m = malloc(sizeof(*m) + len + 1);
	if (m == NULL) {
		count(n, LW_CTR_NOTIFY_DROPPED);
		return;
	}
	memcpy(m->data, json, len);
	m->data[len] = '\n';
	m->len = len + 1;
	for (size_t i = 0; i < n->nouts; i++)
		targets += level >= n->outs[i].cfg->min_level;
	atomic_init(&m->refs, targets);
	for (size_t i = 0; i < n->nouts && targets > 0; i++) {
		struct output *o = &n->outs[i];

		if (level < o->cfg->min_level)
			continue;
		pthread_mutex_lock(&o->mu);
		if (o->count == o->cap) {
			/* Drop the oldest; the head being delivered keeps
			 * its own reference until the attempt ends. */
			count(n, LW_CTR_NOTIFY_DROPPED);
			msg_put(pop_head(o));
		}
		o->ring[(o->head + o->count) % o->cap] = m;
		o->count++;
		pthread_cond_broadcast(&o->cv);
		pthread_mutex_unlock(&o->mu);
	}
	if (targets == 0)
		free(m);
}

void lw_notify_stop(struct lw_notify *n, uint32_t drain_ms)
{
	int64_t deadline = lw_time_mono_ms() + drain_ms;

	if (n == NULL)
		return;
	for (size_t i = 0; i < n->nouts; i++) {
		struct output *o = &n->outs[i];

		pthread_mutex_lock(&o->mu);
		while (o->started && (o->count > 0 || o->busy) && lw_time_mono_ms() < deadline) {
			struct timespec ts;
			int64_t t = lw_time_mono_ms() + 50;

			ts.tv_sec = t / 1000;
			ts.tv_nsec = (t % 1000) * 1000000;
			pthread_cond_timedwait(&o->cv, &o->mu, &ts);
		}
		o->stopping = 1;
		pthread_cond_broadcast(&o->cv);
		pthread_mutex_unlock(&o->mu);
	}
	for (size_t i = 0; i < n->nouts; i++) {
		if (n->outs[i].started)
			pthread_join(n->outs[i].thread, NULL);
		output_release(&n->outs[i]);
	}
	free(n->outs);
	free(n);
}
