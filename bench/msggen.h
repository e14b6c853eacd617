/* bench/msggen.h - the load generator's message ring (prefix lw_msggen).
 *
 * Every sender thread renders a ring of messages once, up front, into one
 * contiguous buffer, already framed for the transport.  While sending, only
 * two fixed-width fields of each message are rewritten in place: the
 * timestamp (when the clock moves) and the sequence field.  So the hot loop
 * does two small memcpy()s per message and never formats anything.
 *
 *   buf: [frame 0][frame 1] ... [frame n-1]        (no gaps, slot i+1
 *         ^off    ^ts_at ^seq_at                     starts where i ends)
 *   frame (LF):     <PRI>TIMESTAMP HOST APP[PID]: MSG seq=CCCC-NNNNNNNNNNNN\n
 *   frame (octet):  LEN SP <PRI>...                 (RFC 6587, no LF)
 *   frame (dgram):  <PRI>...                        (one datagram, no LF)
 *
 * The sequence field is LW_MSGGEN_SEQ_LEN bytes "CCCC-NNNNNNNNNNNN": the
 * sender connection (4 digits) and that connection's message number (12
 * digits, starting at 1).  RFC 3164 and replayed lines carry it as a
 * " seq=..." suffix of the message text; RFC 5424 carries it as structured
 * data [lwbench@32473 seq="..."] so the MSG part stays a real log line.
 *
 * Threading: a ring and its clock belong to one thread; the replay lines
 * are read-only once loaded and may be shared by all threads.
 */
#ifndef LW_BENCH_MSGGEN_H
#define LW_BENCH_MSGGEN_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"

struct lw_diag;

#define LW_MSGGEN_SEQ_LEN 17       /* "CCCC-NNNNNNNNNNNN" */
#define LW_MSGGEN_CONN_DIGITS 4
#define LW_MSGGEN_MAX_CONNS 10000  /* the connection field has 4 digits */
#define LW_MSGGEN_MAX_MSG 65000    /* fits one UDP datagram with headroom */
#define LW_MSGGEN_TS_MAX 32        /* "2026-11-27T12:30:05.123456+09:00" */
#define LW_MSGGEN_NO_TS UINT32_MAX
#define LW_MSGGEN_NO_SRC UINT32_MAX
#define LW_MSGGEN_NO_SEQ UINT32_MAX
/* --sources: attacker addresses are A.B.C.D with A in 240..255 (the
 * reserved 240.0.0.0/4, never a real host) and B, C, D in 100..255, so
 * every one is 15 characters wide and is patched in place. */
#define LW_MSGGEN_SRC_LEN 15
#define LW_MSGGEN_MAX_SOURCES (16ULL * 156 * 156 * 156)

enum lw_msggen_format {
	LW_MSGGEN_RFC3164 = 0,
	LW_MSGGEN_RFC5424,
};

enum lw_msggen_framing {
	LW_MSGGEN_LF = 0,   /* stream, message + "\n" */
	LW_MSGGEN_OCTET,    /* stream, RFC 6587 octet counting */
	LW_MSGGEN_DGRAM,    /* one message per datagram, no terminator */
};

struct lw_msggen_slot {
	uint32_t off;    /* frame start in buf */
	uint32_t len;    /* frame length, framing included */
	uint32_t ts_at;  /* timestamp offset in buf, or LW_MSGGEN_NO_TS */
	uint32_t seq_at; /* sequence field offset in buf, or LW_MSGGEN_NO_SEQ */
	uint32_t src_at; /* attacker address offset (sources), or LW_MSGGEN_NO_SRC */
};

struct lw_msggen_ring {
	char *buf;                    /* owned */
	size_t bytes;                 /* sum of slot lengths */
	struct lw_msggen_slot *slots; /* owned, n entries */
	size_t n;
	enum lw_msggen_format format;
	enum lw_msggen_framing framing;
	size_t max_frame;             /* longest frame in bytes */
};

/* Lines of a replay file, loaded once and shared read-only. */
struct lw_msggen_lines {
	char *text;        /* owned: all lines, each without its LF */
	size_t *off;       /* owned: start of line i in text */
	uint32_t *len;     /* owned: length of line i */
	size_t n;
};

struct lw_msggen_cfg {
	enum lw_msggen_format format;
	enum lw_msggen_framing framing;
	size_t ring;        /* messages rendered from templates */
	unsigned hosts;     /* distinct host names */
	uint64_t seed;      /* same seed, same ring */
	/* 0: attacker addresses from the RFC 5737 blocks, rendered once.
	 * N: every attacker address is a placeholder the send loop patches
	 * with one of N distinct addresses (lw_msggen_patch_src). */
	uint64_t sources;
	/* replay only: lines sent as they are, no seq field (an appended
	 * " seq=..." defeats patterns anchored at the message's end) */
	int no_seq;
};

/* The timestamp text patched into every message; one per thread. */
struct lw_msggen_clock {
	enum lw_msggen_format format;
	time_t sec;                      /* second text[] was rendered for */
	size_t len;                      /* 15 (RFC 3164) or 32 (RFC 5424) */
	char text[LW_MSGGEN_TS_MAX + 1];
};

/* Reads <path> (one message per line; empty lines are skipped, a trailing
 * CR is dropped).  Fills <out>, which the caller releases with
 * lw_msggen_lines_release().  Returns LW_OK, LW_EIO (cannot read; diag has
 * errno), LW_ETOOBIG (a line over LW_MSGGEN_MAX_MSG, or more than 256 MiB
 * in all), LW_EINVAL (no lines) or LW_ENOMEM. */
int lw_msggen_lines_load(const char *path, struct lw_msggen_lines *out,
			 struct lw_diag *diag);
void lw_msggen_lines_release(struct lw_msggen_lines *lines);

/* Renders a ring into <ring> (caller-allocated, released with
 * lw_msggen_ring_release()).  With <replay> NULL the ring holds cfg->ring
 * messages from the built-in templates; otherwise it holds every replay
 * line once, each with the seq suffix added (none with cfg->no_seq).
 * Timestamps start at <now>.
 * Sequence fields hold placeholders until patched.  Borrows <replay>.
 * Returns LW_OK or LW_ENOMEM / LW_ETOOBIG (ring over 4 GiB). */
int lw_msggen_ring_build(struct lw_msggen_ring *ring,
			 const struct lw_msggen_cfg *cfg,
			 const struct lw_msggen_lines *replay, time_t now);
void lw_msggen_ring_release(struct lw_msggen_ring *ring);

void lw_msggen_clock_init(struct lw_msggen_clock *clk,
			  enum lw_msggen_format format);
/* Refreshes clk->text for <now> (CLOCK_REALTIME).  Cheap when the second
 * has not changed: RFC 3164 text is then left alone and RFC 5424 only gets
 * its six microsecond digits rewritten. */
void lw_msggen_clock_update(struct lw_msggen_clock *clk,
			    const struct timespec *now);

/* Writes "CCCC-NNNNNNNNNNNN" for connection <conn> and message <n> into
 * <seq> (LW_MSGGEN_SEQ_LEN bytes, no NUL). */
void lw_msggen_seq_init(char *seq, unsigned conn, uint64_t n);

/* Advances the message number in <seq> by one, in ASCII.  Returns 0, or -1
 * when the 12 digits would overflow (seq is then unchanged). */
static inline int
lw_msggen_seq_next(char *seq)
{
	char *p = seq + LW_MSGGEN_SEQ_LEN - 1;

	/* Nine times in ten only the last digit changes. */
	while (*p == '9') {
		if (p == seq + LW_MSGGEN_CONN_DIGITS + 1)
			return -1;
		p--;
	}
	for (char *q = p + 1; q < seq + LW_MSGGEN_SEQ_LEN; q++)
		*q = '0';
	(*p)++;
	return 0;
}

/* Stamps slot <i> with the clock's text and <seq>, then advances <seq>.
 * The per-message work of the hot loop; it must stay this small. */
static inline void
lw_msggen_patch(struct lw_msggen_ring *ring, size_t i,
		const struct lw_msggen_clock *clk, char *seq)
{
	const struct lw_msggen_slot *s = &ring->slots[i];

	if (s->ts_at != LW_MSGGEN_NO_TS)
		memcpy(ring->buf + s->ts_at, clk->text, clk->len);
	if (s->seq_at != LW_MSGGEN_NO_SEQ)
		memcpy(ring->buf + s->seq_at, seq, LW_MSGGEN_SEQ_LEN);
	(void)lw_msggen_seq_next(seq);
}

/* Writes source number <n> (< LW_MSGGEN_MAX_SOURCES) into <out>
 * (LW_MSGGEN_SRC_LEN bytes, no NUL): 240.100.100.100, 240.100.100.101 ... */
static inline void
lw_msggen_source(char *out, uint64_t n)
{
	unsigned o[4];

	for (int i = 3; i > 0; i--) {
		o[i] = 100 + (unsigned)(n % 156);
		n /= 156;
	}
	o[0] = 240 + (unsigned)(n % 16);
	for (int i = 0; i < 4; i++) {
		out[4 * i] = (char)('0' + o[i] / 100);
		out[4 * i + 1] = (char)('0' + o[i] / 10 % 10);
		out[4 * i + 2] = (char)('0' + o[i] % 10);
		if (i < 3)
			out[4 * i + 3] = '.';
	}
}

/* Patches slot <i>'s attacker address (if it has one) with source <n>. */
static inline void
lw_msggen_patch_src(struct lw_msggen_ring *ring, size_t i, uint64_t n)
{
	const struct lw_msggen_slot *s = &ring->slots[i];

	if (s->src_at != LW_MSGGEN_NO_SRC)
		lw_msggen_source(ring->buf + s->src_at, n);
}

/* One message of a slow attacker: "Failed password for root from <ip>
 * port <port> ssh2" from sshd on <host>, framed for cfg (format and
 * framing), with placeholders for the timestamp and the sequence field
 * (their offsets in *ts_at, *seq_at), into out (appended). LW_OK or
 * LW_ENOMEM. */
int lw_msggen_render_attempt(struct lw_buf *out, const struct lw_msggen_cfg *cfg,
			     const char *ip, unsigned port, const char *host,
			     size_t *ts_at, size_t *seq_at);

const char *lw_msggen_format_name(enum lw_msggen_format f);
const char *lw_msggen_framing_name(enum lw_msggen_framing f);

#endif
