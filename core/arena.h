/* Bump allocator (prefix lw_arena): many small allocations freed at once.
 * A batch's event strings live in its arena. Not thread-safe; an arena is
 * owned by whoever owns the batch. */
#ifndef LW_CORE_ARENA_H
#define LW_CORE_ARENA_H

#include <stddef.h>

struct lw_arena_chunk;

struct lw_arena {
	struct lw_arena_chunk *head; /* current chunk, newest first */
	struct lw_arena_chunk *spare; /* emptied ordinary chunks kept by reset */
	size_t chunk_size;           /* size of ordinary chunks */
	size_t used_bytes;           /* bytes handed out since the last reset */
};

/* chunk_size 0 means 256 KiB. */
void lw_arena_init(struct lw_arena *arena, size_t chunk_size);
/* Frees every chunk. */
void lw_arena_release(struct lw_arena *arena);
/* Forgets all allocations; ordinary chunks are kept for reuse, so a reused
 * arena reaches its steady size once and then allocates nothing. */
void lw_arena_reset(struct lw_arena *arena);
/* Returns len bytes aligned to 8, or NULL when out of memory. Valid until
 * the next reset/release. */
void *lw_arena_alloc(struct lw_arena *arena, size_t len);
/* Copies len bytes (and a NUL after them); returns the copy or NULL. */
char *lw_arena_memdup(struct lw_arena *arena, const void *src, size_t len);

#endif
