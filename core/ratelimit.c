/* lw_ratelimit: GCRA buckets in an open-addressed table with a bounded
 * probe window and least-recently-used eviction inside that window. */
#include "core/ratelimit.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#define LW_RL_PROBE 8 /* slots looked at per lookup: bounds the work */

struct slot {
	struct lw_ratelimit_key key;
	int64_t tat;       /* theoretical arrival time, ns; 0 = empty slot */
	int64_t last_seen; /* ns; the eviction order */
};

struct lw_ratelimit {
	int64_t interval;  /* ns per token */
	int64_t tolerance; /* burst * interval: how far tat may run ahead */
	uint64_t seed;
	uint32_t mask;
	uint64_t evictions;
	struct slot *slots;
};

struct lw_ratelimit *lw_ratelimit_new(uint32_t rate, uint32_t burst,
				      uint32_t max_sources, uint64_t seed)
{
	struct lw_ratelimit *rl;
	uint32_t n = 16;

	if (rate == 0 || burst == 0)
		return NULL;
	while (n < max_sources && n < (1u << 24))
		n <<= 1;
	rl = calloc(1, sizeof(*rl));
	if (rl == NULL)
		return NULL;
	rl->slots = calloc(n, sizeof(*rl->slots));
	if (rl->slots == NULL) {
		free(rl);
		return NULL;
	}
	rl->mask = n - 1;
	rl->interval = 1000000000LL / rate;
	if (rl->interval == 0)
		rl->interval = 1;
	rl->tolerance = (int64_t)burst * rl->interval;
	rl->seed = (seed ? seed : lw_ratelimit_random_seed()) | 1;
	return rl;
}

uint64_t lw_ratelimit_random_seed(void)
{
	uint64_t seed;

	if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
		seed = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ull;
	return seed;
}

void lw_ratelimit_free(struct lw_ratelimit *rl)
{
	if (rl == NULL)
		return;
	free(rl->slots);
	free(rl);
}

void lw_ratelimit_key_of(const struct sockaddr *sa, struct lw_ratelimit_key *key)
{
	memset(key, 0, sizeof(*key));
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
		key->b[10] = key->b[11] = 0xff;
		memcpy(key->b + 12, &in->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
		memcpy(key->b, &in6->sin6_addr, 16);
	}
}

/* Keyed mix of the 16 key bytes (two 64-bit halves, a multiply-xorshift
 * finaliser each): cheap, and unpredictable without the seed. */
uint32_t lw_ratelimit_key_hash(const struct lw_ratelimit_key *key, uint64_t seed)
{
	uint64_t a, b, h;

	memcpy(&a, key->b, 8);
	memcpy(&b, key->b + 8, 8);
	h = seed ^ a;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h ^= b + 0x9e3779b97f4a7c15ull + (h << 6);
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 29;
	return (uint32_t)h;
}

static struct slot *find_slot(struct lw_ratelimit *rl,
			      const struct lw_ratelimit_key *key)
{
	uint32_t i = lw_ratelimit_key_hash(key, rl->seed);
	struct slot *victim = NULL;

	for (int k = 0; k < LW_RL_PROBE; k++) {
		struct slot *s = &rl->slots[(i + (uint32_t)k) & rl->mask];

		if (s->tat == 0) {
			if (victim == NULL || victim->tat != 0)
				victim = s; /* first empty slot */
			continue;
		}
		if (memcmp(&s->key, key, sizeof(*key)) == 0)
			return s;
		if (victim == NULL || (victim->tat != 0 && s->last_seen < victim->last_seen))
			victim = s;
	}
	if (victim->tat != 0)
		rl->evictions++;
	victim->key = *key;
	victim->tat = 0;
	return victim;
}

int64_t lw_ratelimit_take(struct lw_ratelimit *rl,
			  const struct lw_ratelimit_key *key, int64_t now_ns)
{
	struct slot *s = find_slot(rl, key);
	int64_t tat = s->tat > now_ns ? s->tat : now_ns;
	int64_t next = tat + rl->interval;

	s->last_seen = now_ns;
	/* A fresh slot (tat = now) always passes: tolerance >= interval. */
	if (next - now_ns > rl->tolerance)
		return next - rl->tolerance - now_ns;
	s->tat = next;
	return 0;
}

size_t lw_ratelimit_bytes(const struct lw_ratelimit *rl)
{
	return sizeof(*rl) + ((size_t)rl->mask + 1) * sizeof(struct slot);
}

uint64_t lw_ratelimit_evictions(const struct lw_ratelimit *rl)
{
	return rl->evictions;
}
