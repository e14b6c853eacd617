/* report/report.h - the audit report for the security committee (prefix
 * lw_report): the facts of a period (report/facts.h) worded in Japanese
 * or English as a document (report/doc.h) with its findings (検出事項)
 * and recommendations (改善提言) derived from the numbers, for the
 * auditor to edit. Sections and the rules behind each finding:
 * docs/report.md. */
#ifndef LW_REPORT_REPORT_H
#define LW_REPORT_REPORT_H

#include <limits.h>
#include <stdint.h>

#include "core/config.h"
#include "report/doc.h"
#include "report/facts.h"

struct lw_report_opts {
	int english;             /* 0 = Japanese */
	const struct lw_config *cfg; /* listeners, zones, retention, rule pack */
	const char *tz_name;     /* the zone days are counted in, for the text */
	uint64_t fp_threshold;   /* false-positive closures that flag a rule; 0 = 3 */
	int64_t generated_ns;    /* shown as the report's date */
};

/* Builds the document from f. *out is the caller's (lw_doc_free).
 * LW_OK, LW_ENOMEM. Reads the rule pack's files (cfg->rule_dirs) to name
 * its SHA-256 and the files changed in the period. */
int lw_report_build(const struct lw_facts *f, const struct lw_report_opts *o,
		    struct lw_doc **out);

/* SHA-256 over the rule pack: every regular file under dirs, in byte
 * order of its path relative to its directory, hashed as path, NUL,
 * length (8 bytes LE), content. hex gets 65 bytes. *nfiles counts them;
 * *changed (may be NULL) gets "dir/path" of each file modified in
 * [from_ns, to_ns), comma-separated. LW_OK, LW_ENOMEM, LW_EIO. */
int lw_report_pack_hash(const char (*dirs)[PATH_MAX], size_t ndirs, int64_t from_ns,
			int64_t to_ns, char *hex, size_t *nfiles, struct lw_buf *changed);

#endif
