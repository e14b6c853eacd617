/* The emergency response plan (prefix lw_response): rules/response.yml,
 * which gives every incident category (enum lw_category) a level, the
 * steps an operator follows and the notification targets.
 *
 *   categories:
 *     unauthorized-access:
 *       title: Unauthorized access          # optional, for people
 *       level: high
 *       steps:
 *         - Confirm the source address ...
 *       notify: [soc-oncall, information-security-officer]
 *
 * Every category id must appear (a missing one is a load error naming
 * file:line), every step and target is a non-empty string, and unknown
 * category ids or keys are errors. When several rule directories each have
 * a response.yml, a later file replaces the categories it defines, so a
 * site directory can override the pack's plan category by category.
 *
 * Each category's {"steps":[...],"notify":[...]} JSON is rendered once at
 * load time (struct lw_incident_fire.response_json borrows it).
 *
 * Threads: loaded single-threaded, then immutable and shared. */
#ifndef LW_CORRELATOR_RESPONSE_H
#define LW_CORRELATOR_RESPONSE_H

#include <stddef.h>
#include <stdint.h>

#include "correlator/diags.h"
#include "correlator/sigma.h"

struct lw_response;

/* An empty plan, or NULL on ENOMEM. */
struct lw_response *lw_response_new(void);
/* NULL is a no-op. */
void lw_response_free(struct lw_response *r);

/* Reads one response.yml. Every problem goes to diags (file:line: reason)
 * and loading continues; returns LW_OK when the file had no error, else
 * the first error (LW_EPARSE, LW_EIO, LW_ENOMEM). Categories of a file
 * with errors are still taken when they are themselves valid. */
int lw_response_load_file(struct lw_response *r, const char *path,
			  struct lw_diags *diags);
/* Same from memory; name is used in messages. */
int lw_response_load_string(struct lw_response *r, const char *name,
			    const char *yaml, size_t len, struct lw_diags *diags);

/* Finishes the plan. With require set, a category no file defined is an
 * error (file:line of the last file's `categories:`, or "no response.yml"
 * when none was loaded); without it, missing categories get empty steps
 * and targets silently (unit tests that load rules from strings). LW_OK,
 * LW_EPARSE or LW_ENOMEM. */
int lw_response_finish(struct lw_response *r, int require,
		       struct lw_diags *diags);

/* Number of files loaded so far. */
uint32_t lw_response_files(const struct lw_response *r);

/* The category's pre-rendered {"steps":[...],"notify":[...]} (never NULL
 * after lw_response_finish: at worst {"steps":[],"notify":[]}). Owned by
 * r. */
const char *lw_response_json(const struct lw_response *r, enum lw_category cat);
/* The plan's level for the category (LW_LEVEL_MEDIUM when undefined). */
enum lw_sigma_level lw_response_level(const struct lw_response *r,
				      enum lw_category cat);
/* The category's steps / targets, *n of them; owned by r. */
const char *const *lw_response_steps(const struct lw_response *r,
				     enum lw_category cat, uint32_t *n);
const char *const *lw_response_notify(const struct lw_response *r,
				      enum lw_category cat, uint32_t *n);

#endif
