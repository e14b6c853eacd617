/* logward-bench-incidents: adds N incidents to a store (no daemon may be
 * writing it), for timing the console's incident endpoints at scale
 * (bench/console). Each incident has its own identity (rule x source
 * address), categories and levels rotate over the plan's, a fraction are
 * closed through the same status change the API uses. Commits in batches
 * through lw_store_commit_ex, as the daemon's committer does.
 *
 *   logward-bench-incidents -d DIR [-n 100000] [--closed PERCENT]
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/time.h"
#include "store/incidents.h"
#include "store/store.h"

#define BATCH 1000

static const char *const categories[] = {
	"unauthorized-access", "dos", "anomalous-outbound", "malware", "data-exfiltration",
	"unauthorized-software", "log-tampering", "system-failure"};
static const char *const levels[] = {"critical", "high", "medium", "low", "informational"};
static const char *const zones[] = {"mynumber", "lgwan", "internet"};

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"data-dir", required_argument, NULL, 'd'}, {"count", required_argument, NULL, 'n'},
		{"closed", required_argument, NULL, 'C'}, {NULL, 0, NULL, 0}};
	const char *dir = NULL;
	unsigned long n = 100000, closed_pct = 10;
	struct lw_store *st;
	struct lw_segment_builder *b;
	struct lw_diag d = {0};
	static struct lw_incidents_raise r[BATCH];
	static char groups[BATCH][64], rules[BATCH][32];
	uint64_t first_id = 0;
	int64_t now = lw_time_now_ns(), t0;
	int ch;

	while ((ch = getopt_long(argc, argv, "d:n:", longopts, NULL)) != -1) {
		if (ch == 'd')
			dir = optarg;
		else if (ch == 'n')
			n = strtoul(optarg, NULL, 10);
		else if (ch == 'C')
			closed_pct = strtoul(optarg, NULL, 10);
		else
			return 2;
	}
	if (dir == NULL) {
		fprintf(stderr, "usage: logward-bench-incidents -d DIR [-n N] [--closed PERCENT]\n");
		return 2;
	}
	if (lw_store_open(dir, NULL, &st, &d) != LW_OK || (b = lw_segment_builder_new()) == NULL) {
		fprintf(stderr, "logward-bench-incidents: %s\n", d.detail);
		return 1;
	}
	t0 = lw_time_mono_ns();
	for (unsigned long done = 0; done < n;) {
		size_t k = n - done < BATCH ? n - done : BATCH;
		struct lw_store_commit_extra x = {0};
		uint64_t ids[BATCH];
		struct lw_store_commit_result res = {.ids = ids};

		for (size_t i = 0; i < k; i++) {
			unsigned long j = done + i;

			snprintf(groups[i], sizeof(groups[i]), "{\"source.ip\":\"10.%lu.%lu.%lu\"}",
				 (j >> 16) & 255, (j >> 8) & 255, j & 255);
			snprintf(rules[i], sizeof(rules[i]), "bench-rule-%lu", j % 40);
			r[i] = (struct lw_incidents_raise){
				.rule_id = rules[i], .rule_title = "SSH brute force from one source",
				.rule_level = levels[j % 5], .category = categories[j % 8],
				.level = levels[j % 5],
				.response = "{\"steps\":[\"Acknowledge\",\"Identify\",\"Block\"],\"notify\":[]}",
				.group = groups[i], .host = "mn-web01", .zone = zones[j % 3],
				.first_seen_ns = now - (int64_t)(n - j) * 1000000000ll,
				.last_seen_ns = now - (int64_t)(n - j) * 1000000000ll, .count = 12};
		}
		x.raises = r;
		x.nraises = k;
		if (lw_store_commit_ex(st, b, &x, &res, &d) != LW_OK) {
			fprintf(stderr, "logward-bench-incidents: commit: %s\n", d.detail);
			return 1;
		}
		if (first_id == 0)
			first_id = ids[0];
		done += k;
	}
	/* close a share of them, spread over the ids */
	for (unsigned long j = 0; closed_pct > 0 && j < n; j += 100 / closed_pct)
		if (lw_incidents_set_status(st, first_id + j, LW_INCIDENTS_CLOSED, "bench", NULL, now,
					    NULL, &d) != LW_OK) {
			fprintf(stderr, "logward-bench-incidents: close: %s\n", d.detail);
			return 1;
		}
	printf("{\"incidents\":%lu,\"first_id\":%llu,\"seconds\":%.1f}\n", n,
	       (unsigned long long)first_id, (double)(lw_time_mono_ns() - t0) / 1e9);
	lw_segment_builder_free(b);
	lw_store_close(st);
	return 0;
}
