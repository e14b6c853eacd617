/* libFuzzer target for the correlation state decoder
 * (lw_correlation_restore, correlator/correlation_state.c), whose input
 * is read back from the store after a crash or a disk fault: windows of
 * every type (the anomaly types' term tables, baselines and intervals
 * included). The input is a saved blob without its 8-byte checksum
 * trailer; the target appends the right one for the version it names
 * (lw_correlation_state_checksum), so mutations reach the decoder
 * instead of stopping at the checksum. Any input must restore or
 * be rejected with LW_ECORRUPT (the windows then empty); a restored state
 * must then take events, save, and restore again. Seeds in
 * tests/fuzz/corpus/correlation_state/ are saves of the rules below. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/event.h"
#include "correlator/correlation.h"
#include "correlator/correlation_state.h"
#include "correlator/diags.h"
#include "correlator/ruleset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char decoders[] =
	"decoders:\n  - name: action\n    pattern: '^(?<event__action>\\S+)'\n";
static const char detection[] =
	"title: A\nid: 00000000-0000-4000-8000-00000000000a\nname: rule_a\n"
	"level: informational\ntags: [logward.anomalous-outbound]\n"
	"logsource: {category: firewall}\n"
	"detection: {sel: {event.action: a}, condition: sel}\n";
static const char correlations[] =
	"title: nt\nid: 30000000-0000-4000-8000-000000000001\nname: nt\nlevel: high\n"
	"correlation: {type: new_terms, rules: [rule_a], group-by: [source.ip],"
	" timespan: 2d, condition: {field: destination.ip}, learn: 1h, terms: 8}\n"
	"logward: {suppress: 1h}\n"
	"---\n"
	"title: vs\nid: 30000000-0000-4000-8000-000000000002\nname: vs\nlevel: high\n"
	"correlation: {type: value_sum, rules: [rule_a], group-by: [source.ip],"
	" timespan: 10m, condition: {field: source.bytes, gte: 100},"
	" baseline: {factor: 2, learn: 2}}\n"
	"---\n"
	"title: bc\nid: 30000000-0000-4000-8000-000000000003\nname: bc\nlevel: high\n"
	"correlation: {type: beaconing, rules: [rule_a],"
	" group-by: [source.ip, destination.ip], timespan: 1h, condition: {gte: 6}}\n"
	"---\n"
	"title: ec\nid: 30000000-0000-4000-8000-000000000004\nname: ec\nlevel: high\n"
	"correlation: {type: event_count, rules: [rule_a], group-by: [source.ip],"
	" timespan: 5m, condition: {gte: 5}}\n"
	"logward: {suppress: 10m}\n";

static struct lw_ruleset *rs;

static void setup(void)
{
	struct lw_diags d;

	if (rs != NULL)
		return;
	lw_diags_init(&d);
	rs = lw_ruleset_new(NULL);
	if (rs == NULL ||
	    lw_ruleset_load_decoders_string(rs, "d.yml", decoders, sizeof(decoders) - 1, &d) != LW_OK ||
	    lw_ruleset_load_detection_string(rs, "s.yml", detection, sizeof(detection) - 1, &d) != LW_OK ||
	    lw_ruleset_load_correlation_string(rs, "c.yml", correlations,
					       sizeof(correlations) - 1, &d) != LW_OK ||
	    lw_ruleset_build(rs, &d) != LW_OK)
		abort();
	lw_diags_release(&d);
}

static void ignore(const struct lw_incident_fire *f, void *arg)
{
	(void)f;
	(void)arg;
}

/* A few connections between a few addresses, 70 s apart from t0. */
static void feed_some(struct lw_correlation *c, int64_t t0, uint64_t seq0, int n)
{
	static const char *const src[] = {"10.0.0.1", "10.0.0.2", "10.0.0.3"};
	static const char *const dst[] = {"192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"};
	static const char *const bytes[] = {"10", "250", "7", "90000"};
	uint32_t m = (uint32_t)lw_ruleset_find(rs, "rule_a");

	for (int i = 0; i < n; i++) {
		struct lw_field f[3];
		struct lw_event ev;
		const char *s = src[i % 3], *d = dst[(i / 2) % 4], *b = bytes[i % 4];

		memset(&ev, 0, sizeof(ev));
		ev.timestamp_ns = ev.created_ns = t0 + (int64_t)i * 70000000000LL;
		ev.host = LW_STR_LIT("fw");
		ev.facility = ev.severity = LW_SYSLOG_NONE;
		f[0] = (struct lw_field){LW_STR_LIT("source.ip"), {s, (uint32_t)strlen(s)}};
		f[1] = (struct lw_field){LW_STR_LIT("destination.ip"), {d, (uint32_t)strlen(d)}};
		f[2] = (struct lw_field){LW_STR_LIT("source.bytes"), {b, (uint32_t)strlen(b)}};
		ev.fields = f;
		ev.nfields = 3;
		lw_correlation_process(c, &ev, seq0 + (uint64_t)i, &m, 1, ignore, NULL);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lw_correlation *c, *c2;
	struct lw_buf in, out;
	uint64_t h;
	unsigned char t[8];
	int rc;

	setup();
	c = lw_correlation_new(rs);
	c2 = lw_correlation_new(rs);
	if (c == NULL || c2 == NULL)
		abort();
	lw_correlation_set_memory(c, LW_CORRELATION_MIN_MEMORY);
	lw_buf_init(&in);
	lw_buf_init(&out);
	h = lw_correlation_state_checksum(data, size);
	for (int i = 0; i < 8; i++)
		t[i] = (unsigned char)(h >> (8 * i));
	lw_buf_append(&in, data, size);
	lw_buf_append(&in, t, 8);
	rc = lw_correlation_restore(c, in.data, in.len, NULL);
	if (rc != LW_OK && rc != LW_ECORRUPT && rc != LW_ENOMEM)
		abort();
	/* Restored or emptied, the windows go on working. */
	feed_some(c, 1795000000LL * 1000000000LL, 1000, 24);
	if (lw_correlation_save(c, &out) != LW_OK)
		abort();
	if (lw_correlation_restore(c2, out.data, out.len, NULL) != LW_OK)
		abort(); /* what we save, we read */
	lw_buf_release(&in);
	lw_buf_release(&out);
	lw_correlation_free(c);
	lw_correlation_free(c2);
	return 0;
}
