/* collector/framing.c - RFC 6587 octet counting and LF framing, detected
 * per frame (prefix lw_framing). Collector thread.
 *
 * States of one frame:
 *
 *   START --digit--> COUNT --SP, 0 < count <= max--> DATA --done--> START
 *     |                |
 *     |                \--lie (> max, 0, too long; counted)--+
 *     \--other byte--------------------> LF --LF--> START
 *                                         \--over max--> SKIP_LF --LF--> START
 *
 * A frame being read is either "direct" (it started in the buffer now
 * being fed: it is delivered as a view, no copy) or lives in f->carry (it
 * started in an earlier feed). Only the tail of a feed is ever copied.
 */
#include "collector/framing.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "core/err.h"

#define COUNT_DIGITS_MAX 10 /* 9,999,999,999: far above any sane count */
#define DEFAULT_MAX_MSG (64 * 1024)
#define CARRY_MIN 4096
/* Carry buffers from this size on come straight from mmap and go back
 * with munmap when the connection closes. From malloc they did not: 4,096
 * partial 60 KB frames raised the daemon's RSS from 5 to 253 MB, and it
 * stayed at 91-157 MB after they closed (glibc keeps freed heap
 * chunks; its mmap threshold rises after the first large free). */
#define BIG_BUF (64 * 1024)

/* ST_SKIP_N only follows a frame whose carry could not grow (ENOMEM):
 * its counted remainder is skipped. */
enum fstate { ST_START, ST_COUNT, ST_LF, ST_DATA, ST_SKIP_LF, ST_SKIP_N };

struct lw_framing {
	enum lw_framing_mode mode;
	size_t max_msg;
	enum fstate st;
	uint64_t count;   /* COUNT: value so far */
	size_t keep;      /* DATA: bytes of the message kept (<= max_msg) */
	uint64_t skip;    /* DATA: bytes to drop after keep; SKIP_N: left */
	unsigned fflags;  /* flags of the frame being read */
	uint8_t hdr[COUNT_DIGITS_MAX];
	size_t hdr_len;
	uint8_t *carry; /* partial frame, or a refused complete frame */
	size_t carry_len, carry_cap;
	int ready;            /* carry holds a complete frame the cb refused */
	unsigned ready_flags;
	uint8_t *pend; /* unread input behind a refused frame */
	size_t pend_len, pend_cap;
	struct lw_framing_stats stats;
};

/* The cursor over one fed buffer. */
struct cursor {
	const uint8_t *p;
	size_t len;
	size_t i;      /* next byte to look at */
	size_t fs;     /* direct frame: index of its first content byte */
	int direct;    /* the frame in progress started in this buffer */
	lw_framing_cb cb;
	void *arg;
};

/* mapped: the buffer may come from mmap (the carry buffer). */
static void buf_free(uint8_t *buf, size_t cap, int mapped)
{
	if (mapped && cap >= BIG_BUF)
		munmap(buf, cap);
	else
		free(buf);
}

struct lw_framing *lw_framing_new(enum lw_framing_mode mode, size_t max_msg)
{
	struct lw_framing *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return NULL;
	f->mode = mode;
	f->max_msg = max_msg ? max_msg : DEFAULT_MAX_MSG;
	f->st = ST_START;
	return f;
}

void lw_framing_free(struct lw_framing *f)
{
	if (f == NULL)
		return;
	buf_free(f->carry, f->carry_cap, 1);
	buf_free(f->pend, f->pend_cap, 0);
	free(f);
}

int lw_framing_pending(const struct lw_framing *f)
{
	return f->ready || f->pend_len > 0;
}

int lw_framing_in_frame(const struct lw_framing *f)
{
	return f->st != ST_START;
}

size_t lw_framing_held_bytes(const struct lw_framing *f)
{
	return f->carry_cap + f->pend_cap;
}

void lw_framing_take_stats(struct lw_framing *f, struct lw_framing_stats *out)
{
	out->messages += f->stats.messages;
	out->bytes += f->stats.bytes;
	out->truncated += f->stats.truncated;
	out->discarded_bytes += f->stats.discarded_bytes;
	out->bad_octet_count += f->stats.bad_octet_count;
	out->partial += f->stats.partial;
	memset(&f->stats, 0, sizeof(f->stats));
}

/* Grows *buf to hold need bytes. Only a mapped one (the carry: a
 * partial frame a connection may hold for as long as it lives) goes to
 * mmap from BIG_BUF on; the held input of a stalled connection is freed
 * as soon as it is delivered and comes back at the next stall, so malloc,
 * which keeps it at hand, serves it faster (an mmap, its page faults and
 * a munmap per stall slowed ingestion under backpressure). */
static int grow(uint8_t **buf, size_t *cap, size_t need, int mapped)
{
	size_t ncap = *cap ? *cap : CARRY_MIN;
	uint8_t *nb;

	if (need <= *cap)
		return LW_OK;
	while (ncap < need)
		ncap *= 2;
	if (!mapped || ncap < BIG_BUF) {
		nb = realloc(*buf, ncap);
		if (nb == NULL)
			return LW_ENOMEM;
	} else if (*cap >= BIG_BUF) {
		nb = mremap(*buf, *cap, ncap, MREMAP_MAYMOVE);
		if (nb == MAP_FAILED)
			return LW_ENOMEM;
	} else {
		nb = mmap(NULL, ncap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (nb == MAP_FAILED)
			return LW_ENOMEM;
		if (*cap > 0)
			memcpy(nb, *buf, *cap);
		free(*buf);
	}
	*buf = nb;
	*cap = ncap;
	return LW_OK;
}

static int carry_append(struct lw_framing *f, const uint8_t *p, size_t n)
{
	if (n == 0)
		return LW_OK;
	if (grow(&f->carry, &f->carry_cap, f->carry_len + n, 1) != LW_OK)
		return LW_ENOMEM;
	memcpy(f->carry + f->carry_len, p, n);
	f->carry_len += n;
	return LW_OK;
}

/* Delivers one frame. A refused direct frame is copied into carry so the
 * caller's buffer may go away; a refused carry frame just stays. */
static int emit(struct lw_framing *f, struct cursor *c, const uint8_t *msg,
		size_t len, unsigned flags)
{
	int from_carry = (msg == f->carry && f->carry != NULL);
	int rc;

	if (len == 0 && flags == 0) { /* blank line: nothing to store */
		if (from_carry)
			f->carry_len = 0;
		return LW_OK;
	}
	rc = c->cb(c->arg, msg, len, flags);
	if (rc == LW_EFULL) {
		if (!from_carry) {
			f->carry_len = 0;
			if (carry_append(f, msg, len) != LW_OK) {
				f->stats.partial++;
				return LW_ENOMEM;
			}
		} else {
			f->carry_len = len;
		}
		f->ready = 1;
		f->ready_flags = flags;
		return LW_EFULL;
	}
	f->stats.messages++;
	if (flags & LW_MSG_TRUNCATED)
		f->stats.truncated++;
	if (flags & LW_MSG_PARTIAL)
		f->stats.partial++;
	f->carry_len = 0;
	return rc;
}

static void strip_eol(const uint8_t *msg, size_t *len)
{
	if (*len > 0 && msg[*len - 1] == '\n')
		(*len)--;
	if (*len > 0 && msg[*len - 1] == '\r')
		(*len)--;
}

static int is_digit(uint8_t ch)
{
	return ch >= '0' && ch <= '9';
}

static void step_start(struct lw_framing *f, struct cursor *c)
{
	uint8_t ch = c->p[c->i];

	if (ch == '\n') { /* bare LF between frames */
		c->i++;
		return;
	}
	c->direct = 1;
	c->fs = c->i;
	f->fflags = 0;
	f->carry_len = 0;
	if (f->mode != LW_FRAMING_LF && is_digit(ch)) {
		f->st = ST_COUNT;
		f->count = 0;
		f->hdr_len = 0;
		return;
	}
	if (f->mode == LW_FRAMING_OCTET) {
		f->stats.bad_octet_count++;
		f->fflags = LW_MSG_BAD_COUNT;
	}
	f->st = ST_LF;
}

/* The count turned out not to be one: read the frame from its first digit
 * as an LF frame. The digits are in f->hdr (and, when direct, in c->p). */
static int count_to_lf(struct lw_framing *f, struct cursor *c, int is_error)
{
	if (is_error) {
		f->stats.bad_octet_count++;
		f->fflags |= LW_MSG_BAD_COUNT;
	}
	f->st = ST_LF;
	if (c->direct)
		return LW_OK; /* c->fs still points at the first digit */
	f->carry_len = 0;
	return carry_append(f, f->hdr, f->hdr_len);
}

static int step_count(struct lw_framing *f, struct cursor *c)
{
	uint8_t ch = c->p[c->i];

	if (is_digit(ch)) {
		if (f->hdr_len == COUNT_DIGITS_MAX)
			return count_to_lf(f, c, 1);
		f->hdr[f->hdr_len++] = ch;
		f->count = f->count * 10 + (uint64_t)(ch - '0');
		c->i++;
		return LW_OK;
	}
	if (ch != ' ')
		return count_to_lf(f, c, f->mode == LW_FRAMING_OCTET);
	/* A count over max_msg is a lie or an error, never honoured: taken
	 * at its word, "1000000 x" would swallow the next MiB of a shared
	 * stream (every line after it) into one truncated event. Read as an
	 * LF line instead, the lines after it stay their own events. */
	if (f->count == 0 || f->count > f->max_msg)
		return count_to_lf(f, c, 1);
	c->i++; /* the SP */
	f->keep = (size_t)f->count;
	f->skip = 0;
	f->st = ST_DATA;
	c->direct = 1;
	c->fs = c->i;
	f->carry_len = 0;
	return LW_OK;
}

static int step_lf(struct lw_framing *f, struct cursor *c)
{
	/* max_msg + 2: a line of exactly max_msg bytes may still be followed
	 * by CR LF, so only max_msg + 2 bytes without LF prove it too long. */
	size_t limit = f->max_msg + 2;
	size_t have = c->direct ? c->i - c->fs : f->carry_len;
	size_t avail = c->len - c->i;
	size_t room = have < limit ? limit - have : 0;
	size_t scan = avail < room ? avail : room;
	const uint8_t *nl = memchr(c->p + c->i, '\n', scan);
	const uint8_t *msg;
	size_t mlen;
	unsigned flags = f->fflags;

	if (nl != NULL) {
		size_t end = (size_t)(nl - c->p);
		if (c->direct) {
			msg = c->p + c->fs;
			mlen = end - c->fs;
		} else {
			if (carry_append(f, c->p + c->i, end - c->i) != LW_OK)
				return LW_ENOMEM;
			msg = f->carry;
			mlen = f->carry_len;
		}
		c->i = end + 1;
		f->st = ST_START;
		strip_eol(msg, &mlen);
		if (mlen > f->max_msg) { /* only from tiny limits vs hdr */
			f->stats.discarded_bytes += mlen - f->max_msg;
			mlen = f->max_msg;
			flags |= LW_MSG_TRUNCATED;
		}
		return emit(f, c, msg, mlen, flags);
	}
	if (have + scan >= limit) {
		if (c->direct) {
			msg = c->p + c->fs;
		} else {
			size_t need = f->carry_len < f->max_msg ?
				f->max_msg - f->carry_len : 0;
			if (carry_append(f, c->p + c->i, need) != LW_OK)
				return LW_ENOMEM;
			msg = f->carry;
		}
		f->stats.discarded_bytes += have + scan - f->max_msg;
		c->i += scan;
		f->st = ST_SKIP_LF;
		return emit(f, c, msg, f->max_msg, flags | LW_MSG_TRUNCATED);
	}
	if (!c->direct && carry_append(f, c->p + c->i, avail) != LW_OK)
		return LW_ENOMEM;
	c->i = c->len;
	return LW_OK;
}

static int step_data(struct lw_framing *f, struct cursor *c)
{
	size_t have = c->direct ? c->i - c->fs : f->carry_len;
	size_t avail = c->len - c->i;
	size_t take = f->keep - have < avail ? f->keep - have : avail;
	const uint8_t *msg;
	size_t mlen = f->keep;

	if (!c->direct && carry_append(f, c->p + c->i, take) != LW_OK)
		return LW_ENOMEM;
	c->i += take;
	if (have + take < f->keep)
		return LW_OK;
	msg = c->direct ? c->p + c->fs : f->carry;
	f->st = f->skip > 0 ? ST_SKIP_N : ST_START;
	f->stats.discarded_bytes += f->skip;
	/* Senders that count a trailing LF would otherwise store it. */
	strip_eol(msg, &mlen);
	return emit(f, c, msg, mlen, f->fflags);
}

static void step_skip(struct lw_framing *f, struct cursor *c)
{
	size_t avail = c->len - c->i;

	if (f->st == ST_SKIP_LF) {
		const uint8_t *nl = memchr(c->p + c->i, '\n', avail);
		if (nl == NULL) {
			f->stats.discarded_bytes += avail;
			c->i = c->len;
			return;
		}
		f->stats.discarded_bytes += (size_t)(nl - (c->p + c->i));
		c->i = (size_t)(nl - c->p) + 1;
		f->st = ST_START;
		return;
	}
	if (f->skip > avail) {
		f->skip -= avail;
		c->i = c->len;
		return;
	}
	c->i += (size_t)f->skip;
	f->skip = 0;
	f->st = ST_START;
}

/* Frames c->p from c->i. On return c->i is how far input was consumed:
 * all of it unless the callback refused a frame (LW_EFULL) or failed. */
static int run(struct lw_framing *f, struct cursor *c)
{
	int rc = LW_OK;

	c->direct = 0;
	while (c->i < c->len && rc == LW_OK) {
		switch (f->st) {
		case ST_START:
			step_start(f, c);
			break;
		case ST_COUNT:
			rc = step_count(f, c);
			break;
		case ST_LF:
			rc = step_lf(f, c);
			break;
		case ST_DATA:
			rc = step_data(f, c);
			break;
		case ST_SKIP_LF:
		case ST_SKIP_N:
			step_skip(f, c);
			break;
		}
	}
	if (rc != LW_OK || !c->direct)
		return rc;
	/* A direct frame is unfinished: keep its bytes (COUNT keeps its
	 * digits in hdr already). */
	if (f->st == ST_LF || f->st == ST_DATA) {
		f->carry_len = 0;
		if (carry_append(f, c->p + c->fs, c->len - c->fs) != LW_OK) {
			f->stats.partial++;
			f->st = f->st == ST_LF ? ST_SKIP_LF : ST_SKIP_N;
			if (f->st == ST_SKIP_N)
				f->skip = f->keep - (c->len - c->fs) + f->skip;
			return LW_ENOMEM;
		}
	}
	return LW_OK;
}

static int pend_store(struct lw_framing *f, const uint8_t *p, size_t n)
{
	if (n == 0)
		return LW_OK;
	if (grow(&f->pend, &f->pend_cap, f->pend_len + n, 0) != LW_OK) {
		f->stats.partial++;
		return LW_ENOMEM;
	}
	memcpy(f->pend + f->pend_len, p, n);
	f->pend_len += n;
	return LW_OK;
}

/* Delivers what an earlier LW_EFULL held back: the refused frame, then the
 * unread bytes behind it. */
static int drain(struct lw_framing *f, lw_framing_cb cb, void *arg)
{
	struct cursor c = {.cb = cb, .arg = arg};
	int rc;

	if (f->ready) {
		f->ready = 0;
		c.p = f->carry;
		rc = emit(f, &c, f->carry, f->carry_len, f->ready_flags);
		if (rc != LW_OK)
			return rc;
	}
	if (f->pend_len == 0)
		return LW_OK;
	c.p = f->pend;
	c.len = f->pend_len;
	c.i = 0;
	rc = run(f, &c);
	memmove(f->pend, f->pend + c.i, f->pend_len - c.i);
	f->pend_len -= c.i;
	if (f->pend_len == 0) {
		/* Held input is up to one read (256 KiB): give it back, so
		 * a connection that once stalled does not keep it idle. */
		buf_free(f->pend, f->pend_cap, 0);
		f->pend = NULL;
		f->pend_cap = 0;
	}
	return rc;
}

int lw_framing_feed(struct lw_framing *f, const uint8_t *buf, size_t len,
		    lw_framing_cb cb, void *arg)
{
	struct cursor c = {.p = buf, .len = len, .cb = cb, .arg = arg};
	int rc;

	f->stats.bytes += len;
	rc = drain(f, cb, arg);
	if (rc == LW_EFULL)
		return pend_store(f, buf, len) == LW_OK ? LW_EFULL : LW_ENOMEM;
	if (rc != LW_OK || len == 0)
		return rc;
	rc = run(f, &c);
	if (rc == LW_EFULL && pend_store(f, buf + c.i, len - c.i) != LW_OK)
		return LW_ENOMEM;
	return rc;
}

int lw_framing_finish(struct lw_framing *f, lw_framing_cb cb, void *arg)
{
	struct cursor c = {.cb = cb, .arg = arg};
	size_t mlen;
	int rc;

	rc = drain(f, cb, arg);
	if (rc != LW_OK)
		return rc;
	switch (f->st) {
	case ST_COUNT:
		f->carry_len = 0;
		if (carry_append(f, f->hdr, f->hdr_len) != LW_OK)
			return LW_ENOMEM;
		break;
	case ST_LF:
	case ST_DATA:
		break;
	default:
		f->st = ST_START;
		return LW_OK;
	}
	f->st = ST_START;
	mlen = f->carry_len;
	strip_eol(f->carry, &mlen);
	c.p = f->carry;
	if (mlen == 0) {
		f->carry_len = 0;
		return LW_OK;
	}
	/* The LF lookahead (max_msg + 2) may hold a byte or two over. */
	if (mlen > f->max_msg) {
		f->stats.discarded_bytes += mlen - f->max_msg;
		mlen = f->max_msg;
		f->fflags |= LW_MSG_TRUNCATED;
	}
	return emit(f, &c, f->carry, mlen, f->fflags | LW_MSG_PARTIAL);
}
