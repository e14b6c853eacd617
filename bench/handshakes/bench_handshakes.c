/* logward-bench-handshakes: full TLS handshakes against a TLS listener at
 * a fixed rate (or as fast as possible), each on a new connection with
 * no session reuse, sending one syslog line before closing. Reports how
 * many completed, how many failed and their latency (connect to
 * handshake done). With the daemon's CPU time read around it
 * (bench/tls-handshakes), it gives the server's cost per handshake and
 * what a handshake load does to ingestion. Not a test. */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench/benchtls.h"
#include "bench/netaddr.h"
#include "core/err.h"

#define MAX_THREADS 64
#define MAX_SAMPLES (1u << 20)

struct shared {
	struct lw_netaddr addr;
	struct lw_benchtls *tls;
	double rate;          /* per thread; 0 = as fast as possible */
	double duration;      /* seconds */
	double start;
	_Atomic uint64_t ok, failed, sample_n;
	double *samples;      /* handshake latencies, seconds */
	char first_error[256];
	pthread_mutex_t lock;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void note_error(struct shared *sh, const char *what)
{
	pthread_mutex_lock(&sh->lock);
	if (sh->first_error[0] == '\0')
		snprintf(sh->first_error, sizeof(sh->first_error), "%.200s", what);
	pthread_mutex_unlock(&sh->lock);
	atomic_fetch_add(&sh->failed, 1);
}

/* One connection: connect, handshake, one line, close_notify. */
static void one(struct shared *sh, uint64_t n)
{
	struct lw_benchtls_conn *c = NULL;
	struct lw_diag diag = {0};
	char line[128];
	double t0 = now_s();
	int one_ = 1, len;
	int fd = socket(sh->addr.ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd == -1) {
		note_error(sh, strerror(errno));
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one_, sizeof(one_));
	if (connect(fd, (struct sockaddr *)&sh->addr.ss, sh->addr.len) != 0) {
		note_error(sh, strerror(errno));
		close(fd);
		return;
	}
	if (lw_benchtls_connect(sh->tls, fd, &c, &diag) != LW_OK) {
		note_error(sh, diag.detail);
		close(fd);
		return;
	}
	uint64_t k = atomic_fetch_add(&sh->sample_n, 1);

	if (k < MAX_SAMPLES)
		sh->samples[k] = now_s() - t0;
	len = snprintf(line, sizeof(line), "<13>Dec  7 10:00:00 hs app: handshake %llu\n",
		       (unsigned long long)n);
	if (lw_benchtls_write(c, line, (size_t)len) != LW_OK)
		note_error(sh, "write after the handshake failed");
	else
		atomic_fetch_add(&sh->ok, 1);
	lw_benchtls_conn_free(c);
	close(fd);
}

static void *worker(void *arg)
{
	struct shared *sh = arg;
	double next = sh->start;
	uint64_t n = 0;

	while (now_s() - sh->start < sh->duration) {
		if (sh->rate > 0) {
			double wait = next - now_s();

			if (wait > 0) {
				struct timespec ts = {(time_t)wait, (long)((wait - (double)(time_t)wait) * 1e9)};
				nanosleep(&ts, NULL);
			}
			next += 1.0 / sh->rate;
		}
		one(sh, n++);
	}
	return NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: logward-bench-handshakes --tls HOST:PORT [-r RATE] [-d SECONDS] [-t THREADS]\n"
		"  --tls HOST:PORT   the TLS listener\n"
		"  -r, --rate R      handshakes per second in all (default 0: as fast as possible)\n"
		"  -d, --duration S  seconds (default 10)\n"
		"  -t, --threads N   client threads (default 2)\n"
		"Prints one JSON object: handshakes done and failed, achieved rate,\n"
		"latency p50/p99 in ms, the first error.\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"tls", required_argument, NULL, 'T'}, {"rate", required_argument, NULL, 'r'},
		{"duration", required_argument, NULL, 'd'}, {"threads", required_argument, NULL, 't'},
		{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
	struct lw_benchtls_opts to = {.insecure = 1};
	struct shared sh;
	struct lw_diag diag = {0};
	pthread_t th[MAX_THREADS];
	const char *target = NULL;
	double rate = 0, elapsed, p50 = 0, p99 = 0;
	int threads = 2, ch;
	uint64_t ns;

	memset(&sh, 0, sizeof(sh));
	sh.duration = 10;
	while ((ch = getopt_long(argc, argv, "r:d:t:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'T': target = optarg; break;
		case 'r': rate = atof(optarg); break;
		case 'd': sh.duration = atof(optarg); break;
		case 't': threads = atoi(optarg); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (target == NULL || threads < 1 || threads > MAX_THREADS || sh.duration <= 0) {
		usage(stderr);
		return 2;
	}
	if (lw_netaddr_parse(LW_TR_TLS, target, &sh.addr, &diag) != LW_OK ||
	    lw_benchtls_client_new(&to, &sh.tls, &diag) != LW_OK) {
		fprintf(stderr, "logward-bench-handshakes: %s\n", diag.detail);
		return 1;
	}
	sh.samples = calloc(MAX_SAMPLES, sizeof(double));
	if (sh.samples == NULL)
		return 1;
	pthread_mutex_init(&sh.lock, NULL);
	sh.rate = rate / threads;
	sh.start = now_s();
	for (int i = 0; i < threads; i++)
		pthread_create(&th[i], NULL, worker, &sh);
	for (int i = 0; i < threads; i++)
		pthread_join(th[i], NULL);
	elapsed = now_s() - sh.start;
	ns = atomic_load(&sh.sample_n);
	if (ns > MAX_SAMPLES)
		ns = MAX_SAMPLES;
	if (ns > 0) {
		qsort(sh.samples, ns, sizeof(double), cmp_double);
		p50 = sh.samples[ns / 2] * 1e3;
		p99 = sh.samples[ns * 99 / 100] * 1e3;
	}
	printf("{\"target\":\"%s\",\"threads\":%d,\"target_rate\":%.1f,\"elapsed\":%.3f,"
	       "\"handshakes\":%llu,\"failed\":%llu,\"rate\":%.1f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,"
	       "\"first_error\":%s%s%s}\n",
	       target, threads, rate, elapsed, (unsigned long long)atomic_load(&sh.ok),
	       (unsigned long long)atomic_load(&sh.failed),
	       (double)atomic_load(&sh.ok) / elapsed, p50, p99,
	       sh.first_error[0] ? "\"" : "", sh.first_error[0] ? sh.first_error : "null",
	       sh.first_error[0] ? "\"" : "");
	lw_benchtls_free(sh.tls);
	free(sh.samples);
	return atomic_load(&sh.failed) > 0 ? 1 : 0;
}
