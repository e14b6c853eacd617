/* libFuzzer target for the default decoder pack: every format decoders
 * read (syslog lines of the services and devices of rules/decoders, files
 * imported without a header).
 * The input is up to 64 lines; each is parsed with lw_syslog_parse and
 * decoded with one scratch, in order, so joins see sessions across lines.
 * Invariants: the decoder index is in range; no capture is emitted empty;
 * a field whose name ends in ".ip" holds an address (names go to
 * ".address"). Nothing may crash, leak or trip a sanitizer.
 *
 * The pack is read once from LW_FUZZ_RULES, else from the source tree
 * this target was built from. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collector/syslog.h"
#include "core/arena.h"
#include "core/err.h"
#include "core/event.h"
#include "correlator/decoder.h"
#include "correlator/diags.h"
#include "correlator/ruleset.h"

#ifndef LW_SOURCE_DIR
#define LW_SOURCE_DIR "."
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct lw_ruleset *pack;

static void load_pack(void)
{
	static char dir[4096];
	const char *env = getenv("LW_FUZZ_RULES");
	const char *dirs[1] = {dir};
	struct lw_diags diags;

	strncpy(dir, env ? env : LW_SOURCE_DIR "/rules", sizeof(dir) - 1);
	lw_diags_init(&diags);
	if (lw_ruleset_load(dirs, 1, NULL, &pack, &diags) != LW_OK)
		abort(); /* the default pack must load */
	lw_diags_release(&diags);
}

static int is_ip(struct lw_str v)
{
	char tmp[64];
	unsigned char buf[16];

	if (v.len == 0 || v.len >= sizeof(tmp))
		return 0;
	memcpy(tmp, v.ptr, v.len);
	tmp[v.len] = '\0';
	return inet_pton(strchr(tmp, ':') ? AF_INET6 : AF_INET, tmp, buf) == 1;
}

static void check(const struct lw_event *ev, const struct lw_ruleset_matches *m,
		  const char *line, size_t len)
{
	if (m->decoder != UINT32_MAX && m->decoder >= lw_ruleset_decoder_count(pack))
		abort();
	for (uint32_t i = 0; i < ev->nfields; i++) {
		const struct lw_field *f = &ev->fields[i];

		if (f->key.len == 0)
			abort();
		if (f->value.len == 0 && f->value.ptr != NULL &&
		    f->value.ptr >= line && f->value.ptr < line + len)
			abort(); /* empty captures are not emitted */
		if (f->key.len > 3 && memcmp(f->key.ptr + f->key.len - 3, ".ip", 3) == 0 &&
		    !is_ip(f->value))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lw_ruleset_scratch *s;
	struct lw_arena arena;
	const char *p = (const char *)data, *end = p + size;
	char *copy;

	if (pack == NULL)
		load_pack();
	s = lw_ruleset_scratch_new(pack);
	copy = malloc(size ? size : 1);
	if (s == NULL || copy == NULL)
		abort();
	memcpy(copy, data, size);
	p = copy;
	end = copy + size;
	lw_arena_init(&arena, 4096);
	for (int n = 0; n < 64 && p < end; n++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = (size_t)((nl ? nl : end) - p);
		struct lw_parse_opts opts = {.now_ns = 1780358400000000000LL};
		struct lw_ruleset_matches m;
		struct lw_event ev;

		memset(&ev, 0, sizeof(ev));
		lw_syslog_parse(p, len, &opts, &ev);
		ev.timestamp_ns = opts.now_ns + (int64_t)n * 1000000000LL;
		if (lw_ruleset_apply(pack, s, &ev, &arena, &m) == LW_OK)
			check(&ev, &m, p, len);
		lw_arena_reset(&arena);
		p = nl ? nl + 1 : end;
	}
	lw_arena_release(&arena);
	lw_ruleset_scratch_free(s);
	free(copy);
	return 0;
}
