/* The compiled rule pack (prefix lw_ruleset): decoders + Sigma detection
 * rules + zone stamping + correlation rules + the response plan, loaded
 * from rule directories into one immutable object that any number of
 * threads apply to events (window state lives in struct lw_correlation,
 * correlator/correlation.h, one per writer thread).
 *
 * A rule directory has the layout of rules/ (docs/rules.md):
 *   <dir>/decoders/   ** / *.yml|*.yaml   decoders (correlator/decoder.h)
 *   <dir>/detection/  ** / *.yml|*.yaml   Sigma rules (correlator/sigma.h)
 *   <dir>/correlation/ ** / *.yml|*.yaml  correlation rules (correlation.h)
 *   <dir>/response.yml                    the response plan (response.h)
 *   <dir>/lists/      ** / *.yml|*.yaml   lookup list declarations
 *                                         (correlator/lookup.h), loaded for
 *                                         every directory before any rule
 * Files are read in byte order of their paths, subdirectories included,
 * so decoder precedence does not depend on readdir order. A missing
 * subdirectory is not an error; a ruleset loaded from directories needs
 * a response.yml in at least one of them, defining every category.
 *
 * Per event (lw_ruleset_apply): the decoders for the event's program run
 * first and their fields are appended to the event; then source.zone and
 * destination.zone are added from the config's zones map when source.ip /
 * destination.ip exist; then the detection rules run on the result. While
 * they run, an event flagged LW_EVENT_CLOCK_SKEW carries the pseudo-field
 * logward.flags = "clock_skew" (removed again afterwards: the name is how
 * lw_event_to_json shows flags), so Sigma rules can match the flag.
 *
 * Threads: build once, share the const pointer; each thread owns one
 * lw_ruleset_scratch (pcre2 match data, per-event caches, match list). */
#ifndef LW_CORRELATOR_RULESET_H
#define LW_CORRELATOR_RULESET_H

#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/config.h"
#include "core/event.h"
#include "correlator/decoder.h"
#include "correlator/diags.h"
#include "correlator/sigma.h"

struct lw_ruleset;
struct lw_ruleset_scratch;
struct lw_correlation_rules;
struct lw_response;
struct lw_lookup_set;

/* The pseudo-field carrying event flags rules can match on (space
 * separated names; today only "clock_skew"). */
#define LW_RULESET_FLAGS_FIELD "logward.flags"

/* What lw_ruleset_apply found for one event. `rules` points into the
 * scratch and is valid until its next apply. */
struct lw_ruleset_matches {
	uint32_t decoder;      /* index of the decoder that matched, or UINT32_MAX */
	uint32_t count;
	const uint32_t *rules; /* ascending rule indices (lw_ruleset_rule) */
};

/* An empty ruleset under construction. cfg (borrowed during the call, may
 * be NULL) supplies the zones map, which is copied. NULL on ENOMEM. */
struct lw_ruleset *lw_ruleset_new(const struct lw_config *cfg);
/* NULL is a no-op. */
void lw_ruleset_free(struct lw_ruleset *rs);

/* Loads <dir>/lists (lookup list declarations and the lists they name).
 * Call it for every directory before lw_ruleset_load_dir, so rules can use
 * the lists of any directory. Returns LW_OK or the first error. */
int lw_ruleset_load_lists_dir(struct lw_ruleset *rs, const char *dir,
			      struct lw_diags *diags);
int lw_ruleset_load_lists(struct lw_ruleset *rs, const char *path,
			  struct lw_diags *diags);
int lw_ruleset_load_lists_string(struct lw_ruleset *rs, const char *name,
				 const char *yaml, size_t len,
				 struct lw_diags *diags);
/* The lookup lists (owned by rs; they live and are replaced with it, so
 * a reload swaps lists and rules together). */
const struct lw_lookup_set *lw_ruleset_lists(const struct lw_ruleset *rs);

/* Loads <dir>/decoders, <dir>/detection, <dir>/correlation and
 * <dir>/response.yml (not <dir>/lists: lw_ruleset_load_lists_dir). Every
 * problem goes to diags; returns LW_OK or the first error (a missing dir
 * is LW_EIO). */
int lw_ruleset_load_dir(struct lw_ruleset *rs, const char *dir,
			struct lw_diags *diags);
/* Single files / in-memory text, for tests and `rules test -r FILE`. */
int lw_ruleset_load_decoders(struct lw_ruleset *rs, const char *path,
			     struct lw_diags *diags);
int lw_ruleset_load_detection(struct lw_ruleset *rs, const char *path,
			      struct lw_diags *diags);
int lw_ruleset_load_decoders_string(struct lw_ruleset *rs, const char *name,
				    const char *yaml, size_t len,
				    struct lw_diags *diags);
int lw_ruleset_load_detection_string(struct lw_ruleset *rs, const char *name,
				     const char *yaml, size_t len,
				     struct lw_diags *diags);
int lw_ruleset_load_correlation(struct lw_ruleset *rs, const char *path,
				struct lw_diags *diags);
int lw_ruleset_load_correlation_string(struct lw_ruleset *rs, const char *name,
				       const char *yaml, size_t len,
				       struct lw_diags *diags);
int lw_ruleset_load_response(struct lw_ruleset *rs, const char *path,
			     struct lw_diags *diags);
int lw_ruleset_load_response_string(struct lw_ruleset *rs, const char *name,
				    const char *yaml, size_t len,
				    struct lw_diags *diags);
/* Freezes the ruleset (program hashes, constant folding of selections on
 * fields no decoder produces, with warnings). After this the ruleset is
 * immutable. Then resolves correlation references and checks the
 * response plan (errors to diags: LW_EPARSE). LW_OK, LW_EPARSE or
 * LW_ENOMEM. */
int lw_ruleset_build(struct lw_ruleset *rs, struct lw_diags *diags);

/* All of the above for cfg->rule_dirs-like lists: new + load every dir +
 * build. Returns LW_OK with *out set, or (when diags holds any error, or
 * on ENOMEM) the first error with *out = NULL. */
int lw_ruleset_load(const char *const *dirs, size_t ndirs,
		    const struct lw_config *cfg, struct lw_ruleset **out,
		    struct lw_diags *diags);

uint32_t lw_ruleset_rule_count(const struct lw_ruleset *rs);
/* id, title, level, category, tags of rule i; NULL when out of range. */
const struct lw_sigma_rule_info *lw_ruleset_rule(const struct lw_ruleset *rs,
						 uint32_t i);
/* Index of the rule with this id or Sigma name, or -1. */
int64_t lw_ruleset_find(const struct lw_ruleset *rs, const char *id_or_name);
/* The correlation rules and the response plan (owned by rs). */
const struct lw_correlation_rules *
lw_ruleset_correlations(const struct lw_ruleset *rs);
const struct lw_response *lw_ruleset_response(const struct lw_ruleset *rs);
uint32_t lw_ruleset_decoder_count(const struct lw_ruleset *rs);
const char *lw_ruleset_decoder_name(const struct lw_ruleset *rs, uint32_t i);
/* The first program decoder i applies to, or NULL (every program). */
const char *lw_ruleset_decoder_program(const struct lw_ruleset *rs, uint32_t i);

/* Per-thread state; NULL on ENOMEM. Only after lw_ruleset_build. */
struct lw_ruleset_scratch *lw_ruleset_scratch_new(const struct lw_ruleset *rs);
void lw_ruleset_scratch_free(struct lw_ruleset_scratch *s);
/* What the decoders' join table of this scratch did so far. */
void lw_ruleset_scratch_join_stats(const struct lw_ruleset_scratch *s,
				   struct lw_decoder_join_stats *out);
/* Makes lw_ruleset_apply on s return LW_RULESET_DEFERRED, ev unchanged,
 * for an event whose decoder joins sessions (lw_decoder_scratch_defer_joins):
 * for threads that see events out of arrival order. */
#define LW_RULESET_DEFERRED 1
void lw_ruleset_scratch_defer_joins(struct lw_ruleset_scratch *s);

/* Calls fn for every regular expression of the rules: decoder patterns
 * (rule = the decoder's name) and Sigma `re` values (the rule's name, else
 * its id). For `rules check`'s cost probe (core/recost.h). */
void lw_ruleset_each_regex(const struct lw_ruleset *rs,
			   void (*fn)(const char *rule, const char *pattern, size_t len,
				      unsigned flags, void *arg),
			   void *arg);

/* Probes every regular expression of the rules (core/recost.h) with
 * inputs of about n and 2n bytes, and adds a warning to diags for each
 * one whose cost grows faster than its input (it backtracks: a crafted
 * message costs far more than an ordinary one of the same size). Returns
 * how many were reported; LW_ENOMEM stops it early (counted as none). */
size_t lw_ruleset_check_costs(const struct lw_ruleset *rs, size_t n,
			      struct lw_diags *diags);

/* Calls fn for each rule whose patterns hit the match limit
 * (LW_REGEX_RULE_LIMIT: the match was taken as none) since the last call
 * with this scratch, with how many times, and zeroes those counts. The
 * writer publishes them as counters (regex_limit_hits, per rule). */
void lw_ruleset_scratch_take_hits(const struct lw_ruleset *rs,
				  struct lw_ruleset_scratch *s,
				  void (*fn)(const char *rule, uint64_t hits, void *arg),
				  void *arg);

/* Decodes, stamps zones and detects on ev. New fields are appended to
 * ev->fields: the array, the keys and constant values are allocated in
 * arena (the batch's), extracted values are views into ev->message; so
 * the event stays valid as long as its batch, independent of rs. out is
 * filled (see struct lw_ruleset_matches). Returns LW_OK or LW_ENOMEM (ev
 * is then unchanged), or LW_RULESET_DEFERRED (above). */
int lw_ruleset_apply(const struct lw_ruleset *rs, struct lw_ruleset_scratch *s,
		     struct lw_event *ev, struct lw_arena *arena,
		     struct lw_ruleset_matches *out);

#endif
