/* Program name -> rule indices (prefix lw_progmap).
 *
 * Decoders and detection rules say which programs (process.name) they
 * apply to; at run time the event's program is hashed once and only the
 * rules filed under it are tried, instead of every rule on every event.
 * Built once at load time, then read-only (safe to share across threads).
 * Names are compared byte-exact (case-sensitive: "CRON" and "cron" are two
 * programs; rule authors list both when they mean both). Sigma's gate
 * maps (correlator/sigma_int.h) use the same map from a field's exact
 * values to the rules they open. */
#ifndef LW_CORRELATOR_PROGMAP_H
#define LW_CORRELATOR_PROGMAP_H

#include <stddef.h>
#include <stdint.h>

struct lw_progmap_pair;
struct lw_progmap_slot;

struct lw_progmap {
	struct lw_progmap_pair *pairs; /* while building */
	size_t npairs, cap;
	struct lw_progmap_slot *slots; /* after build: open addressing */
	uint32_t mask;
	uint32_t *values;              /* runs of values, one per name */
};

void lw_progmap_init(struct lw_progmap *m);
void lw_progmap_release(struct lw_progmap *m);
/* Files value under name (copied). Values of one name keep insertion
 * order. LW_OK or LW_ENOMEM. Only before lw_progmap_build. */
int lw_progmap_add(struct lw_progmap *m, const char *name, size_t len,
		   uint32_t value);
/* Freezes the map. LW_OK or LW_ENOMEM. */
int lw_progmap_build(struct lw_progmap *m);
/* The values filed under name, *count of them, or NULL/0. */
const uint32_t *lw_progmap_find(const struct lw_progmap *m, const char *name,
				size_t len, uint32_t *count);
/* The same by slot, for callers that keep data per filed name: the slot
 * of name (below lw_progmap_nslots), or -1; a slot's values, or NULL/0
 * for an empty slot. Only after lw_progmap_build. */
int64_t lw_progmap_slot(const struct lw_progmap *m, const char *name,
			size_t len);
uint32_t lw_progmap_nslots(const struct lw_progmap *m);
const uint32_t *lw_progmap_slot_values(const struct lw_progmap *m, uint32_t slot,
				       uint32_t *count);
/* The family of a program name: the bytes before its first '/' or '('
 * ("postfix/smtpd" and "postfix/submission/smtpd" -> "postfix", old
 * Linux-PAM's "sshd(pam_unix)" -> "sshd"). Returns that length, or 0 when
 * the name has no such separator (or starts with one): callers look the
 * family up when the whole name is not filed. */
size_t lw_progmap_family_len(const char *name, size_t len);
/* FNV-1a, exposed for tests and for callers that cache the hash. */
uint64_t lw_progmap_hash(const char *s, size_t len);

#endif
