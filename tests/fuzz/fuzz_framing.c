/* tests/fuzz/fuzz_framing.c - lw_framing under libFuzzer. The first byte
 * picks the mode, the limit and a split position; the rest is the stream.
 * Invariants: the same frames whatever the split, no frame longer than
 * the limit, every refused frame delivered later, no leak. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collector/framing.h"
#include "core/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct acc {
	uint64_t hash, n;
	size_t max;
	unsigned refuse_every;
};

static int take(void *arg, const uint8_t *msg, size_t len, unsigned flags)
{
	struct acc *a = arg;

	if (len > a->max)
		abort();
	if (a->refuse_every && (a->n + a->hash) % a->refuse_every == 0) {
		a->refuse_every = 0; /* once */
		return LW_EFULL;
	}
	for (size_t i = 0; i < len; i++)
		a->hash = a->hash * 31 + msg[i];
	a->hash = a->hash * 31 + len + flags;
	a->n++;
	return LW_OK;
}

static void run(const uint8_t *d, size_t n, enum lw_framing_mode mode,
		size_t max, size_t cut, unsigned refuse, struct acc *a)
{
	struct lw_framing *f = lw_framing_new(mode, max);
	int rc;

	memset(a, 0, sizeof(*a));
	a->max = max;
	a->refuse_every = refuse;
	if (f == NULL)
		return;
	if (cut > n)
		cut = n;
	/* A feed after LW_EFULL is allowed: the framer queues behind. */
	lw_framing_feed(f, d, cut, take, a);
	rc = lw_framing_feed(f, d + cut, n - cut, take, a);
	while (rc == LW_EFULL)
		rc = lw_framing_feed(f, NULL, 0, take, a);
	rc = lw_framing_finish(f, take, a);
	while (rc == LW_EFULL)
		rc = lw_framing_finish(f, take, a);
	lw_framing_free(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct acc whole, split, refused;
	enum lw_framing_mode mode;
	size_t max;

	if (size < 2)
		return 0;
	mode = (enum lw_framing_mode)(data[0] % 3);
	max = 1 + (data[0] >> 2) * 4; /* 1..253: tiny limits find edge cases */
	run(data + 2, size - 2, mode, max, size, 0, &whole);
	run(data + 2, size - 2, mode, max, data[1], 0, &split);
	run(data + 2, size - 2, mode, max, data[1], 3, &refused);
	if (whole.n != split.n || whole.hash != split.hash)
		abort();
	if (whole.n != refused.n || whole.hash != refused.hash)
		abort();
	return 0;
}
