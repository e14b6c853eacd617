/* collector/dgram.h - the udp and unix datagram sources (prefix
 * lw_dgram): recvmmsg(2), LW_DGRAM_VLEN datagrams per call and a few calls
 * per wakeup; each datagram is one frame for the sink (trailing LF, CR and
 * NUL dropped; longer than max_message_size: cut, flagged truncated).
 *
 * Datagrams have no flow control, so they take no part in backpressure:
 * one the sink refuses (LW_EFULL) is dropped and counted in
 * LW_CTR_DROPPED_UDP; one the kernel dropped (receive buffer full) is
 * counted in LW_CTR_DROPPED_KERNEL, from SO_RXQ_OVFL on each datagram and
 * SO_MEMINFO on every tick and at the drain. udp only (unix senders have
 * no address): `allow` drops other senders (LW_CTR_REFUSED_ALLOW), and
 * `rate_limit` drops datagrams over a source's limit
 * (LW_CTR_RATE_DROPPED), both verdicts cached for the last sender.
 *
 * The unix socket (mode 0666, like /dev/log) replaces a stale socket
 * file, refuses one another process still answers on, never removes a
 * path that is not a socket, and is removed at close.
 *
 * Threads, ownership, errors: as collector/source.h.
 */
#ifndef LW_COLLECTOR_DGRAM_H
#define LW_COLLECTOR_DGRAM_H

#include "collector/source.h"

#define LW_DGRAM_VLEN 32 /* datagrams per recvmmsg call */

/* lw_source_open for types udp and unix. */
int lw_dgram_open(const struct lw_source_env *env, struct lw_source **out,
		  struct lw_diag *diag);

#endif
