/* core/related.c - which event fields name an incident's entities, and
 * the bounded set of them (prefix lw_related). */
#include "core/related.h"

#include <math.h>
#include <string.h>

_Static_assert(LW_RELATED_SKETCH_BYTES % 8 == 0, "the sketch is counted a word at a time");

static const char *const kind_names[LW_RELATED_KINDS] = {"ip", "user", "hosts"};

/* The one table: field -> list. Keys ending in ".ip" feed related.ip
 * whether listed or not (firewall and VPN decoders name theirs freely). */
static const struct {
	const char *key;
	enum lw_related_kind kind;
} field_table[] = {
	{"user.name", LW_RELATED_USER},
	{"source.user.name", LW_RELATED_USER},
	{"destination.user.name", LW_RELATED_USER},
	{"user.target.name", LW_RELATED_USER},
	{"source.domain", LW_RELATED_HOSTS},
	{"destination.domain", LW_RELATED_HOSTS},
	{"client.domain", LW_RELATED_HOSTS},
	{"server.domain", LW_RELATED_HOSTS},
	{"host.hostname", LW_RELATED_HOSTS},
	{"source.hostname", LW_RELATED_HOSTS},
	{"destination.hostname", LW_RELATED_HOSTS},
};

const char *lw_related_kind_name(enum lw_related_kind k)
{
	return (unsigned)k < LW_RELATED_KINDS ? kind_names[k] : "";
}

int lw_related_field_kind(const char *key, size_t len)
{
	if (len >= 3 && memcmp(key + len - 3, ".ip", 3) == 0)
		return LW_RELATED_IP;
	/* Every other key of the table ends in "name" or "domain": most
	 * fields of an event (event.action, source.port ...) stop here. */
	if (!(len >= 4 && memcmp(key + len - 4, "name", 4) == 0) &&
	    !(len >= 6 && memcmp(key + len - 6, "domain", 6) == 0))
		return -1;
	for (size_t i = 0; i < sizeof(field_table) / sizeof(field_table[0]); i++)
		if (strlen(field_table[i].key) == len &&
		    memcmp(field_table[i].key, key, len) == 0)
			return (int)field_table[i].kind;
	return -1;
}

void lw_related_of_event(const struct lw_event *ev, lw_related_cb add, void *arg)
{
	if (ev->host.len > 0)
		add(LW_RELATED_HOSTS, ev->host.ptr, ev->host.len, arg);
	for (uint32_t i = 0; i < ev->nfields; i++) {
		const struct lw_field *f = &ev->fields[i];
		int k;

		if (f->value.len == 0)
			continue;
		k = lw_related_field_kind(f->key.ptr, f->key.len);
		if (k >= 0)
			add((enum lw_related_kind)k, f->value.ptr, f->value.len, arg);
	}
}

void lw_related_clear(struct lw_related_set *s)
{
	memset(s->n, 0, sizeof(s->n));
	s->used = 0;
	memset(s->sketch, 0, sizeof(s->sketch));
}

static uint64_t fnv1a(const char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

int lw_related_has(const struct lw_related_set *s, enum lw_related_kind k,
		   const char *v, size_t len)
{
	for (uint32_t i = 0; i < s->n[k]; i++) {
		const char *have = lw_related_value(s, k, i);

		if (strncmp(have, v, len) == 0 && have[len] == '\0')
			return 1;
	}
	return 0;
}

void lw_related_add(struct lw_related_set *s, enum lw_related_kind k,
		    const char *v, size_t len)
{
	uint64_t h;

	if ((unsigned)k >= LW_RELATED_KINDS || len == 0)
		return;
	/* FNV-1a's low bits follow the last bytes of similar values (one
	 * subnet's addresses) too closely: mixed (murmur3's fmix64) first. */
	h = fnv1a(v, len);
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	h %= 8 * LW_RELATED_SKETCH_BYTES;
	s->sketch[k][h / 8] |= (uint8_t)(1u << (h % 8));
	if (s->n[k] == LW_RELATED_MAX || len >= LW_RELATED_VALUE_MAX ||
	    len + 1 > (size_t)(LW_RELATED_POOL - s->used) ||
	    memchr(v, '\0', len) != NULL || lw_related_has(s, k, v, len))
		return;
	memcpy(s->pool + s->used, v, len);
	s->pool[s->used + len] = '\0';
	s->off[k][s->n[k]++] = s->used;
	s->used = (uint16_t)(s->used + len + 1);
}

void lw_related_merge_sketch(struct lw_related_set *s, enum lw_related_kind k,
			     const uint8_t sketch[LW_RELATED_SKETCH_BYTES])
{
	for (size_t i = 0; i < LW_RELATED_SKETCH_BYTES; i++)
		s->sketch[k][i] |= sketch[i];
}

void lw_related_merge(struct lw_related_set *dst, const struct lw_related_set *src)
{
	for (int k = 0; k < LW_RELATED_KINDS; k++) {
		for (uint32_t i = 0; i < src->n[k]; i++) {
			const char *v = lw_related_value(src, (enum lw_related_kind)k, i);

			lw_related_add(dst, (enum lw_related_kind)k, v, strlen(v));
		}
		lw_related_merge_sketch(dst, (enum lw_related_kind)k, src->sketch[k]);
	}
}

/* Linear counting: with m bits of which z are zero, about -m ln(z/m)
 * distinct values were hashed into them (Whang et al. 1990). Below a few
 * hundred values it is exact but for rare collisions, which it corrects
 * on average; a full sketch reports its ceiling, m ln m. */
uint64_t lw_related_more(const uint8_t sketch[LW_RELATED_SKETCH_BYTES],
			 uint32_t kept)
{
	const double m = 8.0 * LW_RELATED_SKETCH_BYTES;
	uint32_t zero = 0;
	double est;

	/* A word at a time: without -mpopcnt each popcount is a libgcc
	 * call (1 % of a commit's CPU when every incident is new). */
	for (size_t i = 0; i < LW_RELATED_SKETCH_BYTES; i += 8) {
		uint64_t w;

		memcpy(&w, sketch + i, 8);
		zero += 64u - (uint32_t)__builtin_popcountll(w);
	}
	est = -m * log((zero > 0 ? (double)zero : 1.0) / m);
	uint64_t n = (uint64_t)llround(est);

	return n > kept ? n - kept : 0;
}
