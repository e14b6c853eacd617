/* lw_arena: chunked bump allocation. Large requests get a chunk of their
 * own so one oversized message does not waste a whole ordinary chunk. */
#include "core/arena.h"

#include <stdlib.h>
#include <string.h>

struct lw_arena_chunk {
	struct lw_arena_chunk *next;
	size_t size;
	size_t used;
	_Alignas(16) unsigned char data[];
};

void lw_arena_init(struct lw_arena *arena, size_t chunk_size)
{
	arena->head = NULL;
	arena->spare = NULL;
	arena->chunk_size = chunk_size ? chunk_size : 256 * 1024;
	arena->used_bytes = 0;
}

static void free_chain(struct lw_arena_chunk *c)
{
	while (c != NULL) {
		struct lw_arena_chunk *next = c->next;
		free(c);
		c = next;
	}
}

void lw_arena_release(struct lw_arena *arena)
{
	free_chain(arena->head);
	free_chain(arena->spare);
	arena->head = NULL;
	arena->spare = NULL;
	arena->used_bytes = 0;
}

void lw_arena_reset(struct lw_arena *arena)
{
	struct lw_arena_chunk *c = arena->head;

	while (c != NULL) {
		struct lw_arena_chunk *next = c->next;
		if (c->size == arena->chunk_size) {
			c->used = 0;
			c->next = arena->spare;
			arena->spare = c;
		} else {
			free(c); /* dedicated chunk of one oversized request */
		}
		c = next;
	}
	arena->head = NULL;
	arena->used_bytes = 0;
}

void *lw_arena_alloc(struct lw_arena *arena, size_t len)
{
	struct lw_arena_chunk *c = arena->head;
	size_t need = (len + 7) & ~(size_t)7;

	if (need < len)
		return NULL;
	if (need > arena->chunk_size / 2) {
		/* Big requests get a chunk of their own, linked behind the
		 * current one so the current one keeps filling. */
		c = malloc(sizeof(*c) + need);
		if (c == NULL)
			return NULL;
		c->size = need;
		c->used = need;
		if (arena->head != NULL) {
			c->next = arena->head->next;
			arena->head->next = c;
		} else {
			c->next = NULL;
			arena->head = c;
		}
		arena->used_bytes += need;
		return c->data;
	}
	if (c == NULL || c->size - c->used < need) {
		if (arena->spare != NULL) {
			c = arena->spare;
			arena->spare = c->next;
		} else {
			c = malloc(sizeof(*c) + arena->chunk_size);
			if (c == NULL)
				return NULL;
			c->size = arena->chunk_size;
		}
		c->used = 0;
		c->next = arena->head;
		arena->head = c;
	}
	c->used += need;
	arena->used_bytes += need;
	return c->data + c->used - need;
}

char *lw_arena_memdup(struct lw_arena *arena, const void *src, size_t len)
{
	char *p = lw_arena_alloc(arena, len + 1);

	if (p == NULL)
		return NULL;
	if (len)
		memcpy(p, src, len);
	p[len] = '\0';
	return p;
}
