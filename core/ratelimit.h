/* core/ratelimit.h - per-source token buckets in a bounded table
 * (prefix lw_ratelimit). One table per listener; collector thread only.
 *
 * Each source (an IP address, 16 bytes; IPv4 as v4-mapped IPv6) has a
 * bucket of `burst` tokens refilled at `rate` per second. The bucket is
 * kept as one "theoretical arrival time" (GCRA, equivalent to a token
 * bucket): no float, no per-tick refill work.
 *
 * Memory is fixed at creation (max_sources slots): a flood from many
 * (spoofed) sources cannot grow it. A new source that finds no free slot
 * within its short probe window takes the slot there that was used least
 * recently; the evicted source starts again with a full bucket when it
 * comes back, which is the only thing eviction costs.
 *
 * The slot is chosen by a hash keyed with a per-table random seed, so a
 * sender cannot pick addresses that collide on purpose.
 */
#ifndef LW_CORE_RATELIMIT_H
#define LW_CORE_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct lw_ratelimit;

/* A source key: the IP address as 16 bytes (IPv4 v4-mapped). */
struct lw_ratelimit_key {
	uint8_t b[16];
};

/* rate: tokens per second (> 0); burst: bucket size (>= 1); max_sources:
 * table slots (rounded up to a power of two, at least 16). seed: hash key
 * (0 = take one from getrandom). Returns NULL when out of memory. */
struct lw_ratelimit *lw_ratelimit_new(uint32_t rate, uint32_t burst,
				      uint32_t max_sources, uint64_t seed);
/* NULL is a no-op. */
void lw_ratelimit_free(struct lw_ratelimit *rl);

/* Fills key from an AF_INET / AF_INET6 address; anything else (unix
 * sockets) maps to the all-zero key, one shared bucket. */
void lw_ratelimit_key_of(const struct sockaddr *sa, struct lw_ratelimit_key *key);

/* A random seed for lw_ratelimit_key_hash (getrandom; the clock when
 * that fails). */
uint64_t lw_ratelimit_random_seed(void);

/* A keyed hash of key (seed: a random per-table value, so senders cannot
 * choose addresses that collide). Also used by tables of sources kept
 * elsewhere (collector/stream.c counts connections per source). */
uint32_t lw_ratelimit_key_hash(const struct lw_ratelimit_key *key, uint64_t seed);

/* Takes one token from key's bucket at monotonic time now_ns.
 * Returns 0 when the token was there (the event may pass), else the
 * nanoseconds until one will be (> 0; nothing was taken). O(1). */
int64_t lw_ratelimit_take(struct lw_ratelimit *rl,
			  const struct lw_ratelimit_key *key, int64_t now_ns);

/* Heap bytes the table holds: fixed at creation. */
size_t lw_ratelimit_bytes(const struct lw_ratelimit *rl);

/* Sources evicted so far (a new source took a used slot). */
uint64_t lw_ratelimit_evictions(const struct lw_ratelimit *rl);

#endif
