/* lw_regex: pcre2 (8-bit) behind a small API; pcre2 codes are translated
 * to enum lw_err here and nowhere else. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "core/regex.h"

#include <pcre2.h>
#include <stdlib.h>

struct lw_regex {
	pcre2_code *code;
	pcre2_match_data *md;
	pcre2_match_context *mctx; /* NULL: pcre2's default limits */
	int costed;                /* LW_REGEX_COSTED */
	uint32_t ngroups;
	uint32_t nnames;
	uint32_t name_entry_size;
	PCRE2_SPTR name_table;
	int matched; /* groups are valid */
	uint32_t nvalid; /* ovector pairs set by the last match */
};

int lw_regex_compile(const char *pattern, size_t len, unsigned flags,
		     struct lw_regex **out, struct lw_diag *diag)
{
	uint32_t opts = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF;
	PCRE2_SIZE erroff = 0;
	struct lw_regex *re;
	PCRE2_UCHAR msg[160];
	int errcode = 0;
	int rc;

	*out = NULL;
	if (flags & LW_REGEX_CASELESS)
		opts |= PCRE2_CASELESS;
	if (flags & LW_REGEX_LITERAL)
		opts |= PCRE2_LITERAL;
	if (flags & LW_REGEX_COSTED)
		opts |= PCRE2_AUTO_CALLOUT;
	re = calloc(1, sizeof(*re));
	if (re == NULL)
		return LW_ENOMEM;
	re->code = pcre2_compile((PCRE2_SPTR)pattern, len, opts, &errcode,
				 &erroff, NULL);
	if (re->code == NULL) {
		if (pcre2_get_error_message(errcode, msg, sizeof(msg)) < 0)
			msg[0] = '\0';
		rc = lw_diag_set(diag, LW_EPARSE, NULL, 0, (int)erroff + 1,
				 "pcre2: %s at offset %zu", (const char *)msg,
				 (size_t)erroff);
		if (errcode == PCRE2_ERROR_NOMEMORY)
			rc = LW_ENOMEM;
		goto fail;
	}
	/* A JIT failure (no JIT on this CPU, or no executable memory) is not
	 * an error: pcre2_match() then interprets, with the same results. */
	re->costed = (flags & LW_REGEX_COSTED) != 0;
	if (!re->costed)
		(void)pcre2_jit_compile(re->code, PCRE2_JIT_COMPLETE);
	re->md = pcre2_match_data_create_from_pattern(re->code, NULL);
	if (re->md == NULL) {
		rc = LW_ENOMEM;
		goto fail;
	}
	pcre2_pattern_info(re->code, PCRE2_INFO_CAPTURECOUNT, &re->ngroups);
	pcre2_pattern_info(re->code, PCRE2_INFO_NAMECOUNT, &re->nnames);
	pcre2_pattern_info(re->code, PCRE2_INFO_NAMEENTRYSIZE,
			   &re->name_entry_size);
	pcre2_pattern_info(re->code, PCRE2_INFO_NAMETABLE, &re->name_table);
	*out = re;
	return LW_OK;

fail:
	lw_regex_free(re);
	return rc;
}

void lw_regex_free(struct lw_regex *re)
{
	if (re == NULL)
		return;
	pcre2_match_data_free(re->md);
	pcre2_match_context_free(re->mctx);
	pcre2_code_free(re->code);
	free(re);
}

int lw_regex_set_match_limit(struct lw_regex *re, uint32_t limit)
{
	if (re->mctx == NULL) {
		re->mctx = pcre2_match_context_create(NULL);
		if (re->mctx == NULL)
			return LW_ENOMEM;
	}
	pcre2_set_match_limit(re->mctx, limit);
	return LW_OK;
}

struct cost {
	uint64_t total, limit;
	PCRE2_SIZE last; /* subject offset at the previous callout */
};

/* Called before every pattern item: one step, plus the bytes the
 * matcher moved over since the previous item (a new start position
 * measures from where it starts). Returning a negative value abandons
 * the whole search. */
static int count_step(pcre2_callout_block *cb, void *arg)
{
	struct cost *c = arg;
	PCRE2_SIZE from = (cb->callout_flags & PCRE2_CALLOUT_STARTMATCH) ?
		cb->start_match : c->last;
	PCRE2_SIZE pos = cb->current_position;

	c->total += 1 + (pos > from ? pos - from : from - pos);
	c->last = pos;
	return c->total > c->limit ? PCRE2_ERROR_CALLOUT : 0;
}

int lw_regex_cost(struct lw_regex *re, const char *subject, size_t len,
		  uint64_t limit, uint64_t *cost)
{
	struct cost c = {0, limit, 0};
	pcre2_match_context *mc;
	int rc;

	*cost = 0;
	if (!re->costed)
		return LW_EINVAL;
	mc = pcre2_match_context_create(NULL);
	if (mc == NULL)
		return LW_ENOMEM;
	/* Only the callout bounds the work here, not pcre2's own limits. */
	pcre2_set_match_limit(mc, UINT32_MAX);
	pcre2_set_callout(mc, count_step, &c);
	rc = pcre2_match(re->code, (PCRE2_SPTR)(subject ? subject : ""), len, 0, 0,
			 re->md, mc);
	pcre2_match_context_free(mc);
	if (rc == PCRE2_ERROR_CALLOUT) {
		*cost = limit;
		return LW_EFULL;
	}
	if (rc == PCRE2_ERROR_NOMEMORY)
		return LW_ENOMEM;
	*cost = c.total;
	return LW_OK;
}

int lw_regex_match(struct lw_regex *re, const char *subject, size_t len)
{
	int rc;

	re->matched = 0;
	/* pcre2 reads nothing through a NULL subject of length 0, but it
	 * rejects the NULL pointer itself. */
	if (subject == NULL)
		subject = "";
	rc = pcre2_match(re->code, (PCRE2_SPTR)subject, len, 0, 0, re->md,
			 re->mctx);
	if (rc > 0) {
		re->matched = 1;
		re->nvalid = (uint32_t)rc;
		return 1;
	}
	if (rc == 0) { /* ovector too small: cannot happen (from pattern) */
		re->matched = 1;
		re->nvalid = pcre2_get_ovector_count(re->md);
		return 1;
	}
	switch (rc) {
	case PCRE2_ERROR_NOMATCH:
	case PCRE2_ERROR_PARTIAL:
		return 0;
	case PCRE2_ERROR_NOMEMORY:
		return LW_ENOMEM;
	default:
		/* match/depth/heap limits, JIT stack exhaustion */
		return LW_EFULL;
	}
}

int lw_regex_group(const struct lw_regex *re, uint32_t i, size_t *start,
		   size_t *len)
{
	PCRE2_SIZE *ov;

	if (!re->matched || i >= re->nvalid)
		return LW_ENOTFOUND;
	ov = pcre2_get_ovector_pointer(re->md);
	if (ov[2 * i] == PCRE2_UNSET || ov[2 * i + 1] < ov[2 * i])
		return LW_ENOTFOUND;
	*start = ov[2 * i];
	*len = ov[2 * i + 1] - ov[2 * i];
	return LW_OK;
}

uint32_t lw_regex_group_count(const struct lw_regex *re)
{
	return re->ngroups;
}

uint32_t lw_regex_name_count(const struct lw_regex *re)
{
	return re->nnames;
}

const char *lw_regex_name(const struct lw_regex *re, uint32_t i,
			  uint32_t *group)
{
	PCRE2_SPTR entry;

	if (i >= re->nnames)
		return NULL;
	/* Name table entry: 2-byte big-endian group number, then the name
	 * and its NUL (pcre2api "Information about a pattern"). */
	entry = re->name_table + (size_t)i * re->name_entry_size;
	if (group != NULL)
		*group = ((uint32_t)entry[0] << 8) | entry[1];
	return (const char *)(entry + 2);
}
