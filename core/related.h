/* The entities an incident involves (prefix lw_related): ECS related.ip,
 * related.user and related.hosts, summarised from the events that raised
 * it. This module holds the one table of which event fields feed which
 * list (related.c), and a bounded set: at most LW_RELATED_MAX values per
 * list are kept, in the order they were first seen, and a 2048-bit
 * linear-counting sketch per list estimates how many distinct values
 * there were in all, so "and N more" stays meaningful when an incident
 * involves thousands of addresses (docs/incidents.md "Related entities").
 *
 * A set is plain bytes (no pointers): copied with memcpy, merged with
 * lw_related_merge, stored by store/incidents.c. */
#ifndef LW_CORE_RELATED_H
#define LW_CORE_RELATED_H

#include <stddef.h>
#include <stdint.h>

#include "core/event.h"

enum lw_related_kind {
	LW_RELATED_IP = 0,
	LW_RELATED_USER = 1,
	LW_RELATED_HOSTS = 2,
	LW_RELATED_KINDS = 3
};

#define LW_RELATED_MAX 16          /* values kept per list */
#define LW_RELATED_VALUE_MAX 256   /* bytes of one value; longer ones are only counted */
#define LW_RELATED_POOL 1024       /* bytes of all kept values (NULs included) */
#define LW_RELATED_SKETCH_BYTES 256

/* ~2 KB: the pipeline keeps one per pending firing. Values live in pool
 * (NUL-terminated, at off); a value that no longer fits is only counted. */
struct lw_related_set {
	uint8_t n[LW_RELATED_KINDS];
	uint16_t used;
	uint16_t off[LW_RELATED_KINDS][LW_RELATED_MAX];
	char pool[LW_RELATED_POOL];
	uint8_t sketch[LW_RELATED_KINDS][LW_RELATED_SKETCH_BYTES];
};

/* Value i (< s->n[k]) of list k. */
static inline const char *lw_related_value(const struct lw_related_set *s,
					   enum lw_related_kind k, uint32_t i)
{
	return s->pool + s->off[k][i];
}

/* "ip", "user", "hosts": the member names under related. */
const char *lw_related_kind_name(enum lw_related_kind k);

/* The list an event field feeds, or -1: source.ip, destination.ip,
 * client.ip, server.ip, host.ip and every other key ending in ".ip";
 * user.name, source.user.name, destination.user.name, user.target.name;
 * source.domain, destination.domain, client.domain, server.domain,
 * host.hostname, source.hostname, destination.hostname. */
int lw_related_field_kind(const char *key, size_t len);

/* Calls add for every value of ev that feeds a list (host.name included),
 * empty values left out. */
typedef void (*lw_related_cb)(enum lw_related_kind k, const char *v,
			      size_t len, void *arg);
void lw_related_of_event(const struct lw_event *ev, lw_related_cb add, void *arg);

void lw_related_clear(struct lw_related_set *s);
/* Adds one value: kept when new and there is room, counted in any case. */
void lw_related_add(struct lw_related_set *s, enum lw_related_kind k,
		    const char *v, size_t len);
/* Unions src into dst (dst's values first, then src's new ones). */
void lw_related_merge(struct lw_related_set *dst, const struct lw_related_set *src);
/* ORs a sketch (from a stored record) into s's list k. */
void lw_related_merge_sketch(struct lw_related_set *s, enum lw_related_kind k,
			     const uint8_t sketch[LW_RELATED_SKETCH_BYTES]);
/* Estimated distinct values of list k not among those kept (>= 0). */
uint64_t lw_related_more(const uint8_t sketch[LW_RELATED_SKETCH_BYTES],
			 uint32_t kept);
/* 1 when list k holds exactly v. */
int lw_related_has(const struct lw_related_set *s, enum lw_related_kind k,
		   const char *v, size_t len);

#endif
