/* tests/fuzz/fuzz_jhttp.c - the journal-http request state machine
 * (collector/journal_http.c) under libFuzzer, driven through a socketpair
 * and a private event_base: the input is what a client sends, after three
 * control bytes (limits; how the bytes are cut into writes; how often, and
 * how many times in a row, the sink refuses an entry).
 *
 * Each input runs twice: written at once with a sink that takes every
 * entry, and written in pieces with a sink that refuses some (backpressure:
 * stall, pause, resume as the serve does). Invariants: no crash, leak or
 * hang; every entry within the limits; both runs deliver the same entries
 * and the client reads the same answers, each a well-formed HTTP/1.1
 * status line. */
#include <event2/event.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "collector/source.h"
#include "collector/stream.h"

#define ANSWER_MAX (256 * 1024)
#define STEPS_MAX 1000000

struct fz {
	uint32_t max_entry;
	unsigned refuse;   /* refuse offers in runs of refuse_run every refuse (0 = never) */
	unsigned refuse_run;
	uint64_t offered, entries, hash;
	int stalled;
	char *answer;      /* what the client read */
	size_t answer_len;
};

static void fz_hash(struct fz *z, const void *p, size_t n)
{
	const unsigned char *u = p;

	for (size_t i = 0; i < n; i++)
		z->hash = (z->hash ^ u[i]) * 1099511628211ULL;
}

static int fz_entry(void *arg, const struct lw_journal_entry *e,
		    const struct lw_listener_src *src, int64_t now_ns)
{
	struct fz *z = arg;

	(void)now_ns;
	if (z->refuse && ++z->offered % z->refuse < z->refuse_run)
		return LW_EFULL;
	if (e->nfields == 0 || e->nfields > LW_JOURNAL_MAX_FIELDS ||
	    e->bytes > z->max_entry || src->zone_len != 4 ||
	    memcmp(src->zone, "fuzz", 4) != 0)
		abort();
	for (uint32_t i = 0; i < e->nfields; i++) {
		const struct lw_journal_field *f = &e->fields[i];

		fz_hash(z, &f->name_len, sizeof(f->name_len));
		fz_hash(z, f->name, f->name_len);
		fz_hash(z, &f->value_len, sizeof(f->value_len));
		if (f->value_len)
			fz_hash(z, f->value, f->value_len);
	}
	z->entries++;
	return LW_OK;
}

static void fz_stalled(void *arg)
{
	((struct fz *)arg)->stalled = 1;
}

static void fz_read_answers(struct fz *z, int fd)
{
	for (;;) {
		ssize_t n;

		if (z->answer_len == ANSWER_MAX)
			abort(); /* answers are small; this many is a loop */
		n = read(fd, z->answer + z->answer_len, ANSWER_MAX - z->answer_len);
		if (n <= 0)
			return;
		z->answer_len += (size_t)n;
	}
}

/* Runs one connection to its end. Returns 0, or -1 when the harness
 * itself could not be set up (not a finding). */
static int fz_run(const uint8_t *d, size_t n, size_t piece, struct fz *z,
		  struct lw_listener_config *lc)
{
	struct lw_config cfg;
	struct event_base *base = event_base_new();
	struct lw_counters *counters = calloc(1, sizeof(*counters));
	struct lw_source *h = NULL;
	struct sockaddr_in peer = {.sin_family = AF_INET,
				   .sin_port = htons(9),
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int sv[2] = {-1, -1}, rc = -1, shut = 0;
	size_t pos = 0;

	memset(&cfg, 0, sizeof(cfg));
	if (base == NULL || counters == NULL)
		goto out;
	{
		struct lw_source_env env = {.base = base, .cfg = &cfg, .lc = lc,
					    .log = NULL, .counters = counters,
					    .sink = {.entry = fz_entry, .stalled = fz_stalled,
						     .arg = z}};

		if (lw_source_open(&env, &h, NULL) != LW_OK)
			goto out;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0)
		goto out;
	lw_stream_adopt(h, sv[1], (const struct sockaddr *)&peer);
	sv[1] = -1;
	for (long step = 0;; step++) {
		if (step == STEPS_MAX)
			abort(); /* the connection neither progressed nor ended */
		if (pos < n) {
			size_t want = n - pos < piece ? n - pos : piece;
			ssize_t w = write(sv[0], d + pos, want);

			if (w > 0)
				pos += (size_t)w;
		} else if (!shut) {
			shutdown(sv[0], SHUT_WR);
			shut = 1;
		}
		event_base_loop(base, EVLOOP_NONBLOCK);
		fz_read_answers(z, sv[0]);
		if (z->stalled) {
			/* What the serve does when a sink refuses. */
			z->stalled = 0;
			lw_source_pause(h);
			while (lw_source_resume(h) == LW_EFULL)
				;
			continue;
		}
		if (shut && event_base_get_num_events(base, EVENT_BASE_COUNT_ADDED) == 0)
			break; /* the connection is gone */
	}
	fz_read_answers(z, sv[0]);
	rc = 0;
out:
	if (sv[0] != -1)
		close(sv[0]);
	if (sv[1] != -1)
		close(sv[1]);
	lw_source_close(h);
	free(counters);
	if (base != NULL)
		event_base_free(base);
	return rc;
}

/* Every answer is "HTTP/1.1 NNN ...\r\n", then headers, then (but for
 * 100) a body of exactly Content-Length bytes. */
static void fz_check_answers(const char *a, size_t n)
{
	while (n > 0) {
		const char *end, *cl;
		size_t head, body = 0;

		if (n < 13 || memcmp(a, "HTTP/1.1 ", 9) != 0 ||
		    a[9] < '1' || a[9] > '5')
			abort();
		end = memmem(a, n, "\r\n\r\n", 4);
		if (end == NULL)
			abort();
		head = (size_t)(end - a) + 4;
		cl = memmem(a, head, "Content-Length: ", 16);
		if (cl != NULL)
			body = strtoul(cl + 16, NULL, 10);
		else if (memcmp(a + 9, "100 ", 4) != 0)
			abort();
		if (body > n - head)
			abort();
		a += head + body;
		n -= head + body;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char answer_a[ANSWER_MAX], answer_b[ANSWER_MAX];
	struct lw_listener_config lc;
	struct fz whole = {0}, pieces = {0};
	size_t piece;

	if (size < 3)
		return 0;
	memset(&lc, 0, sizeof(lc));
	lc.type = LW_LISTENER_JOURNAL_HTTP;
	strcpy(lc.address, "127.0.0.1:0");
	strcpy(lc.zone, "fuzz");
	lc.max_message_bytes = 64 + (uint32_t)(data[0] & 0x0f) * 256; /* 64..3904 */
	lc.max_connections = 4;
	lc.max_connections_per_source = 4;
	lc.max_body_bytes = (data[0] & 0x10) ? 512 + (uint64_t)(data[0] >> 5) * 512 : 0;
	whole.max_entry = pieces.max_entry = lc.max_message_bytes;
	whole.answer = answer_a;
	pieces.answer = answer_b;
	piece = 1 + (size_t)data[1]; /* 1..256 bytes a write */
	if (!(data[2] & 0x80)) {
		pieces.refuse = 3 + data[2] % 4;           /* 3..6 */
		pieces.refuse_run = 1 + (data[2] >> 2) % 2; /* 1..2: resume refused too */
	}
	data += 3;
	size -= 3;
	if (fz_run(data, size, size ? size : 1, &whole, &lc) != 0 ||
	    fz_run(data, size, piece, &pieces, &lc) != 0)
		return 0;
	fz_check_answers(whole.answer, whole.answer_len);
	if (whole.entries != pieces.entries || whole.hash != pieces.hash ||
	    whole.answer_len != pieces.answer_len ||
	    memcmp(whole.answer, pieces.answer, whole.answer_len) != 0)
		abort();
	return 0;
}
