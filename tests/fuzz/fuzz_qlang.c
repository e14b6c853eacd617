/* libFuzzer target for the query language (store/qlang) with the event
 * fields (store/qfield). Any text must parse or fail cleanly (no crash,
 * leak, sanitizer report or unbounded recursion), and:
 *   - a failure names a position inside the text (line >= 1, col >= 1)
 *     or is a limit (LW_ETOOBIG) or out of memory;
 *   - the canonical form of a parsed expression parses again, to the
 *     same canonical form (the printer and the parser agree);
 *   - a bound expression answers 1, 0 or LW_EFULL on an event, and the
 *     metadata verdict callback runs to completion. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "store/qfield.h"
#include "store/qlang.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW 1764579600000000000LL

static struct lw_str S(const char *s)
{
	return (struct lw_str){s, (uint32_t)strlen(s)};
}

static enum lw_qlang_tri some(struct lw_qlang_term *t, void *arg)
{
	struct lw_qlang_value v = {.kind = LW_QLANG_V_STR, .str = {"mn-web01", 8}};

	(void)arg;
	return lw_qlang_term_test(t, &v) == 1 ? LW_QLANG_EVERY : LW_QLANG_SOME;
}

static void check_match(struct lw_qlang *q)
{
	struct lw_field f[2] = {{S("source.ip"), S("10.20.3.4")}, {S("user.name"), S("root")}};
	struct lw_event ev = {
		.timestamp_ns = NOW, .created_ns = NOW, .host = S("mn-web01"), .app = S("sshd"),
		.procid = S("42"), .zone = S("mynumber"), .source_address = S("10.10.0.7:514"),
		.message = S("Failed password for root from 10.20.3.4 port 22 ssh2"),
		.facility = 4, .severity = 3, .flags = 1, .fields = f, .nfields = 2,
	};
	int rc = lw_qlang_match(q, &ev);

	if (rc != 0 && rc != 1 && rc != LW_EFULL)
		abort();
	(void)lw_qlang_tri(q, some, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lw_qlang *q = NULL, *again = NULL;
	struct lw_diag d = {0};
	struct lw_buf one, two;
	int rc = lw_qlang_parse((const char *)data, size, &q, &d);

	if (rc != LW_OK) {
		if (rc == LW_EPARSE && (d.line < 1 || d.col < 1))
			abort();
		if (rc != LW_EPARSE && rc != LW_ETOOBIG && rc != LW_ENOMEM)
			abort();
		return 0;
	}
	lw_buf_init(&one);
	lw_buf_init(&two);
	lw_qlang_format(q, &one);
	if (lw_qlang_parse(one.data ? one.data : "", one.len, &again, &d) != LW_OK)
		abort();
	lw_qlang_format(again, &two);
	if (one.len != two.len || (one.len && memcmp(one.data, two.data, one.len) != 0))
		abort();
	if (lw_qlang_bind(q, &lw_qfield_schema, NOW, &d) == LW_OK)
		check_match(q);
	lw_buf_release(&one);
	lw_buf_release(&two);
	lw_qlang_free(again);
	lw_qlang_free(q);
	return 0;
}
