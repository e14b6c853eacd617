/* bench/sender.h - logward-bench's load generator (prefix lw_sender).
 *
 * lw_sender_run() starts cfg->threads threads; thread t drives the
 * connections t, t+T, t+2T ... round robin.  Each thread owns its message
 * ring (msggen.h), its connections, its token bucket and its counters
 * (summed after join, as wrk does), so threads share nothing while
 * sending.  Per batch a thread patches the timestamps and sequence fields
 * of the next messages in its ring and hands them to the kernel in one
 * call: sendmsg() of up to batch_bytes (stream), sendmmsg() of up to
 * batch_msgs datagrams (datagram), or SSL_write() (TLS).
 *
 * The calling thread only waits: for the workers to finish, or for
 * <stop_fd> (e.g. a signalfd) to become readable, which stops them at
 * their next batch.
 */
#ifndef LW_BENCH_SENDER_H
#define LW_BENCH_SENDER_H

#include <stddef.h>
#include <stdint.h>

#include "bench/msggen.h"
#include "bench/netaddr.h"

struct lw_diag;
struct lw_benchtls;

/* Highest message number of the 12-digit sequence field (msggen.h). */
#define LW_SENDER_MAX_PER_CONN 999999999999ULL

struct lw_sender_cfg {
	struct lw_netaddr addr;
	struct lw_msggen_cfg gen;        /* framing must match the transport */
	const struct lw_msggen_lines *replay;  /* borrowed; NULL: templates */
	struct lw_benchtls *tls;         /* borrowed; required for LW_TR_TLS */
	unsigned connections;            /* 1..LW_MSGGEN_MAX_CONNS-1 */
	unsigned threads;                /* 1..connections */
	uint64_t count;                  /* total messages; 0: use duration */
	uint64_t duration_ms;            /* with count 0; 0 with count 0: error */
	double rate;                     /* total msgs/s; 0: as fast as possible */
	size_t batch_bytes;              /* stream: bytes per send call */
	unsigned batch_msgs;             /* datagram: messages per sendmmsg */
	int sndbuf;                      /* SO_SNDBUF; 0: kernel default */
	/* Slow attackers (with gen.sources): slow addresses
	 * (lw_sender_slow_address) each send slow_attempts failed SSH
	 * logins on connection 0, spread evenly over its first slow_span
	 * messages (within the run's count). */
	unsigned slow;
	unsigned slow_attempts;
	uint64_t slow_span;
};

#define LW_SENDER_MAX_SLOW 50

/* The address of slow attacker j (< LW_SENDER_MAX_SLOW): 203.0.113.200
 * and on (RFC 5737; --sources templates use none of these blocks). */
void lw_sender_slow_address(unsigned j, char *out, size_t outlen);

struct lw_sender_result {
	uint64_t sent;          /* messages handed to the kernel in full */
	uint64_t bytes;         /* their bytes, framing included */
	uint64_t errors;        /* failed connects, writes, datagrams */
	uint64_t slow_sent;     /* slow attackers' messages among `sent` */
	unsigned connected;     /* connections that were established */
	double elapsed;         /* seconds, all threads started to last done */
	int stopped;            /* stop_fd fired before the end */
	char first_error[256];  /* empty when errors == 0 */
};

/* Runs the load as configured and fills <res>.  Borrows <cfg>.  Returns
 * LW_OK when the run happened (send errors are counted in res->errors, not
 * returned), or LW_ENOMEM / LW_EIO (threads could not start; diag says
 * why).  <stop_fd> may be -1. */
int lw_sender_run(const struct lw_sender_cfg *cfg, int stop_fd,
		  struct lw_sender_result *res, struct lw_diag *diag);

#endif
