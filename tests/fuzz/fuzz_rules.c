/* libFuzzer target for the rule loaders: decoder YAML, Sigma detection
 * YAML and correlation YAML through the real lw_ruleset loaders and build,
 * then the built ruleset applied to a few events. The input holds up to
 * three YAML texts separated by NUL bytes: decoders, detection,
 * correlation (a missing part is empty). Any text must load or fail with a
 * recorded diagnostic; nothing may crash, leak or trip a sanitizer, and a
 * ruleset that builds must decode and detect without error. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/err.h"
#include "core/event.h"
#include "correlator/diags.h"
#include "correlator/ruleset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const messages[] = {
	"Failed password for invalid user admin from 10.0.0.7 port 52211 ssh2",
	"Accepted publickey for root from 192.0.2.1 port 22 ssh2: RSA SHA256:x",
	"  alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/bin/sh",
	"blk_update_request: I/O error, dev sda, sector 1234",
	"",
};
static const char *const apps[] = {"sshd", "sshd", "sudo", "kernel", ""};

/* Next NUL-terminated part of [*p, end), or the rest. */
static const char *next_part(const char **p, const char *end, size_t *len)
{
	const char *start = *p;
	const char *nul = memchr(start, '\0', (size_t)(end - start));

	*len = (size_t)((nul ? nul : end) - start);
	*p = nul ? nul + 1 : end;
	return start;
}

static void apply_all(const struct lw_ruleset *rs)
{
	struct lw_ruleset_scratch *s = lw_ruleset_scratch_new(rs);
	struct lw_arena arena;

	if (s == NULL)
		return;
	lw_arena_init(&arena, 4096);
	for (size_t i = 0; i < sizeof(messages) / sizeof(messages[0]); i++) {
		struct lw_event ev;
		struct lw_ruleset_matches m;

		memset(&ev, 0, sizeof(ev));
		ev.timestamp_ns = ev.created_ns = 1700000000000000000LL;
		ev.host = (struct lw_str){"web1", 4};
		ev.app = (struct lw_str){apps[i], strlen(apps[i])};
		ev.message = (struct lw_str){messages[i], strlen(messages[i])};
		ev.facility = 4;
		ev.severity = 5;
		if (lw_ruleset_apply(rs, s, &ev, &arena, &m) == LW_OK &&
		    m.decoder != UINT32_MAX && m.decoder >= lw_ruleset_decoder_count(rs))
			abort();
		for (uint32_t j = 0; j < m.count; j++)
			if (m.rules[j] >= lw_ruleset_rule_count(rs))
				abort();
	}
	lw_arena_release(&arena);
	lw_ruleset_scratch_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	struct lw_ruleset *rs = lw_ruleset_new(NULL);
	struct lw_diags diags;
	const char *dec, *det, *cor;
	size_t dlen, tlen, clen;
	int rc = LW_OK, r;

	if (rs == NULL)
		return 0;
	lw_diags_init(&diags);
	dec = next_part(&p, end, &dlen);
	det = next_part(&p, end, &tlen);
	cor = next_part(&p, end, &clen);
	r = lw_ruleset_load_decoders_string(rs, "fuzz-decoders.yml", dec, dlen, &diags);
	rc = rc != LW_OK ? rc : r;
	r = lw_ruleset_load_detection_string(rs, "fuzz-detection.yml", det, tlen, &diags);
	rc = rc != LW_OK ? rc : r;
	r = lw_ruleset_load_correlation_string(rs, "fuzz-correlation.yml", cor, clen, &diags);
	rc = rc != LW_OK ? rc : r;
	if (rc != LW_OK && rc != LW_ENOMEM && diags.nerrors == 0)
		abort(); /* every failure must say why */
	if (rc == LW_OK && lw_ruleset_build(rs, &diags) == LW_OK)
		apply_all(rs);
	lw_ruleset_free(rs);
	lw_diags_release(&diags);
	return 0;
}
