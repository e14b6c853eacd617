/* A fast 64-bit checksum of stored records (prefix lw_checksum): the
 * correlation state's change sets and incident records carry it so that
 * a flipped byte is a clean "corrupt" instead of a plausible wrong value.
 * Not a MAC and not collision-resistant against an attacker: the segment
 * chain (SHA-256) is what proves the log unaltered. Any thread. */
#ifndef LW_CORE_CHECKSUM_H
#define LW_CORE_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

/* The checksum of n bytes at p. Stored values depend on it: it must
 * never change (a new one needs a new record version). */
uint64_t lw_checksum64(const void *p, size_t n);

#endif
