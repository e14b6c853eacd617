/* bench/sink.h - logward-bench's receiver (prefix lw_sink): listens on
 * one address, counts messages and bytes, and checks the sequence field
 * of every message for loss and duplicates (seqtrack.h).
 *
 * Threads: the calling thread accepts and watches the stop conditions;
 * each stream connection gets a reader thread (framing LF, RFC 6587
 * octet counting, or auto: chosen per connection by its first byte); a
 * datagram socket gets one reader thread using recvmmsg().  Readers own
 * their counters and trackers, which are summed after join.
 */
#ifndef LW_BENCH_SINK_H
#define LW_BENCH_SINK_H

#include <stddef.h>
#include <stdint.h>

#include "bench/netaddr.h"
#include "bench/seqtrack.h"

struct lw_diag;
struct lw_benchtls;
struct lw_sink;

enum lw_sink_framing {
	LW_SINK_AUTO = 0,
	LW_SINK_LF,
	LW_SINK_OCTET,
};

struct lw_sink_cfg {
	struct lw_netaddr addr;
	enum lw_sink_framing framing;
	struct lw_benchtls *tls;   /* borrowed; required for LW_TR_TLS */
	uint64_t expect;           /* stop after this many messages; 0: no */
	uint64_t duration_ms;      /* stop after this long; 0: no */
	uint64_t idle_ms;          /* stop when silent this long after the
				    * first message; 0: never */
	int stay;                  /* stream: keep going after all senders
				    * disconnected */
	int rcvbuf;                /* SO_RCVBUF; 0: kernel default (UDP: 8 MiB) */
	int verify;                /* parse and track sequence fields */
	unsigned max_conns;        /* more are accepted and closed, counted */
};

struct lw_sink_result {
	uint64_t messages;
	uint64_t bytes;            /* message bytes, framing included */
	uint64_t unparsed;         /* messages without a sequence field */
	uint64_t oversize;         /* frames over the buffer, skipped */
	uint64_t partial;          /* a connection closed mid-message */
	uint64_t kernel_drops;     /* UDP: SO_RXQ_OVFL count at the end */
	uint64_t io_errors;
	uint64_t missing;          /* gaps, or expect - unique if larger */
	struct lw_seqtrack_totals seq;
	unsigned connections;      /* stream connections accepted */
	unsigned rejected;         /* over max_conns */
	double elapsed;            /* first received byte to last, seconds */
	int stopped;               /* stop_fd fired */
	char first_error[256];
};

/* Binds and listens (port 0 picks a free port; see lw_sink_local()).
 * Borrows <cfg> until lw_sink_close().  Returns LW_OK or LW_EIO / LW_ENOMEM
 * with the reason in <diag>. */
int lw_sink_open(const struct lw_sink_cfg *cfg, struct lw_sink **out,
		 struct lw_diag *diag);

/* The address actually bound. */
void lw_sink_local(const struct lw_sink *s, struct lw_netaddr *out);

/* Receives until a stop condition of the config holds, or <stop_fd>
 * (may be -1) becomes readable; then fills <res>.  Returns LW_OK, or
 * LW_ENOMEM / LW_EIO when it could not run. */
int lw_sink_run(struct lw_sink *s, int stop_fd, struct lw_sink_result *res,
		struct lw_diag *diag);

/* Closes the socket and removes a unix socket path it created.  NULL is a
 * no-op. */
void lw_sink_close(struct lw_sink *s);

#endif
