/* Decoders (prefix lw_decoder): pcre2 patterns that turn a message into
 * ECS fields, loaded from the YAML files in rules/decoders/ (format:
 * docs/rules.md).
 *
 *   decoders:
 *     - name: sshd-failed-password
 *       match: {process.name: [sshd, sshd-session]}
 *       prefilter: "Failed "                # optional, every literal must occur
 *       patterns:
 *         - '^Failed (?<event__reason>password|publickey) for ...(?<source__ip>\S+) port (?<source__port>\d+)'
 *       fields: {event.category: authentication, event.outcome: failure}
 *
 * Group names cannot contain '.', so "__" in a group name stands for '.'
 * (source__ip -> source.ip); a single '_' stays ('process.command_line' is
 * process__command_line). pcre2 limits names to 32 bytes, so a decoder may
 * also map group names to fields explicitly: `groups: {in_if:
 * observer.ingress.interface.name}`. A group whose key ends in ".ip" but whose text is
 * not an IP address (sshd prints host names when UseDNS is on) is emitted
 * as "<prefix>.address" instead, the way ECS separates the two. Empty
 * captures are not emitted.
 *
 * Selection: decoders are filed by process.name in a hash (lw_progmap).
 * An event whose program is filed runs that program's decoders; one
 * whose whole name is not filed but whose family is ("postfix/smtpd" ->
 * "postfix", "sshd(pam_unix)" -> "sshd") runs the family's. Any other
 * event (a tag the operator chose, a line imported without a syslog
 * header) runs the decoders whose anchor literal occurs in its message,
 * found in one pass (lw_litscan): a decoder's anchor is its first
 * `prefilter` literal, else the longest literal each of its patterns
 * requires (LW_LITSCAN_MIN bytes or more; a decoder with neither is
 * tried only for its programs). Decoders without `match` apply to every program and are
 * tried after those. Within that order the first decoder whose pattern
 * matches wins and nothing else is tried. Before pcre2 runs, an anchored
 * pattern's literal prefix is compared with memcmp and `prefilter`
 * literals are searched, so a line that cannot match costs no regex.
 *
 * Patterns see the message without two wrappers that other software adds
 * in front of the daemon's text: Solaris' message id ("[ID 800047
 * auth.info] ") and rsyslog's "message repeated N times: [ ... ]" (the
 * closing bracket included), nor trailing blanks, so one pattern serves
 * every platform. Captured values still point into the message.
 *
 * Joins: some lines name the remote party only on an earlier line of the
 * same session (sshd "Connection from H port P" before "Disconnecting:
 * Too many authentication failures"; slapd "conn=N ... ACCEPT from IP=H"
 * before "conn=N op=0 RESULT ... err=49"). A decoder's `join` names the
 * session key (process.pid, or a field its patterns capture) and the
 * fields it `save`s for later lines or `load`s (fills when its own line
 * lacks them) or both; `forget` drops the session. The table belongs to
 * the scratch, so it follows the order in which one thread applies
 * events (the writer thread, in arrival order; the pipeline's workers
 * defer join lines to it: lw_decoder_scratch_defer_joins); it is keyed by (host.name,
 * process.name, key), holds LW_DECODER_JOIN_ENTRIES sessions of at most
 * LW_DECODER_JOIN_FIELDS values of LW_DECODER_JOIN_VALUE_MAX - 1 bytes
 * (a longer value is not kept), expires a session `ttl` after its last
 * save in event time (default 10m), and when a bucket is full replaces its
 * oldest session, counted as evicted (lw_decoder_scratch_join_stats). A
 * new scratch (a rule reload) starts with an empty table.
 *
 * Threads: a loaded set is immutable and shared. pcre2 match data and the
 * join table are per thread: each thread creates its own
 * lw_decoder_scratch. */
#ifndef LW_CORRELATOR_DECODER_H
#define LW_CORRELATOR_DECODER_H

#include <stddef.h>
#include <stdint.h>

#include "core/event.h"
#include "correlator/diags.h"

#define LW_DECODER_MAX_FIELDS 32
#define LW_DECODER_JOIN_FIELDS 3
#define LW_DECODER_JOIN_VALUE_MAX 96
#define LW_DECODER_JOIN_ENTRIES 4096

struct lw_decoder_set;
struct lw_decoder_scratch;

/* Fields one decoder produced for one event. Keys and constant values are
 * owned by the set; extracted values are views into ev->message; values
 * filled from the join table live in the scratch until its next apply.
 * Copy them (as lw_ruleset_apply does) to keep them longer. */
struct lw_decoder_out {
	uint32_t decoder; /* index, see lw_decoder_name */
	uint32_t nfields;
	struct lw_field fields[LW_DECODER_MAX_FIELDS];
};

/* Returns an empty set or NULL on ENOMEM. */
struct lw_decoder_set *lw_decoder_set_new(void);
/* NULL is a no-op. */
void lw_decoder_set_free(struct lw_decoder_set *set);

/* Adds every decoder of one YAML file. Each problem is recorded in diags
 * (file:line: reason) and loading continues with the next decoder; the
 * return value is LW_OK when the file had no error, else the first error
 * (LW_EPARSE, LW_EIO, LW_ENOMEM). Decoders with errors are left out. */
int lw_decoder_set_load_file(struct lw_decoder_set *set, const char *path,
			     struct lw_diags *diags);
/* Same from memory; name is used in messages. */
int lw_decoder_set_load_string(struct lw_decoder_set *set, const char *name,
			       const char *yaml, size_t len,
			       struct lw_diags *diags);
/* Freezes the set (builds the program hash). Must be called once, after
 * the last load and before any scratch/apply. LW_OK or LW_ENOMEM. */
int lw_decoder_set_build(struct lw_decoder_set *set);

uint32_t lw_decoder_count(const struct lw_decoder_set *set);
const char *lw_decoder_name(const struct lw_decoder_set *set, uint32_t i);
/* The first program of decoder i's `match`, or NULL (every program). */
const char *lw_decoder_program(const struct lw_decoder_set *set, uint32_t i);
/* Every field key the set can produce (for "no decoder produces field X"
 * warnings): calls fn once per distinct key. */
void lw_decoder_set_keys(const struct lw_decoder_set *set,
			 void (*fn)(const char *key, size_t len, void *arg),
			 void *arg);

/* Per-thread matching state (compiled copies of every pattern). Returns
 * NULL on ENOMEM or when a pattern failed to compile again. */
struct lw_decoder_scratch *lw_decoder_scratch_new(const struct lw_decoder_set *set);
void lw_decoder_scratch_free(struct lw_decoder_scratch *s);

/* Runs the decoders that apply to ev. Returns 1 with out filled when one
 * matched, 0 when none did, or LW_ENOMEM; with a scratch that defers
 * joins, LW_DECODER_DEFERRED when the decoder that matched has a `join`
 * (out and the table untouched). A pattern that hits pcre2's match limit
 * counts as not matching (and is counted in the scratch). */
int lw_decoder_apply(const struct lw_decoder_set *set,
		     struct lw_decoder_scratch *s, const struct lw_event *ev,
		     struct lw_decoder_out *out);

/* Patterns that hit a pcre2 limit in this scratch so far. */
uint64_t lw_decoder_scratch_limit_hits(const struct lw_decoder_scratch *s);

/* Calls fn for every pattern of the set: its decoder's name, the
 * pattern and its length (for `rules check`'s cost probe). */
void lw_decoder_set_each_pattern(const struct lw_decoder_set *set,
				 void (*fn)(const char *decoder, const char *pattern,
					    size_t len, unsigned flags, void *arg),
				 void *arg);

/* Calls fn for each decoder whose patterns hit the match limit since
 * the last call, with how many times, and zeroes those counts. */
void lw_decoder_scratch_take_hits(const struct lw_decoder_set *set,
				  struct lw_decoder_scratch *s,
				  void (*fn)(const char *decoder, uint64_t hits, void *arg),
				  void *arg);

/* Makes lw_decoder_apply on s stop at a decoder with a `join`, before
 * the join table: a thread that decodes events out of their arrival
 * order (a worker of the pipeline) leaves those lines to the thread that
 * applies them in order, so sessions see their lines in the order sent. */
#define LW_DECODER_DEFERRED 2
void lw_decoder_scratch_defer_joins(struct lw_decoder_scratch *s);

/* What the join table of a scratch did so far. */
struct lw_decoder_join_stats {
	uint64_t saved;   /* lines that saved fields of their session */
	uint64_t joined;  /* lines that got at least one field from a session */
	uint64_t evicted; /* live sessions replaced because their bucket was full */
	uint64_t too_long; /* values not kept: LW_DECODER_JOIN_VALUE_MAX or longer */
};
void lw_decoder_scratch_join_stats(const struct lw_decoder_scratch *s,
				   struct lw_decoder_join_stats *out);

#endif
