/* collector/framing.h - split a byte stream into syslog messages
 * (prefix lw_framing). Collector thread; one framer per connection.
 *
 * Framing is decided PER FRAME: in LW_FRAMING_AUTO a frame that starts with
 * a digit is RFC 6587 octet-counted ("LEN SP MSG"), anything else is
 * LF-terminated (a trailing CR is stripped). LW_FRAMING_LF never looks at
 * counts; LW_FRAMING_OCTET expects counts but recovers like AUTO when one is
 * missing. Bare LFs between frames and empty lines are skipped.
 *
 * Limits and recovery (docs/collector.md has the table):
 *  - A line longer than max_msg is cut at max_msg and delivered with
 *    LW_MSG_TRUNCATED; the rest of it is discarded up to its LF and
 *    counted in discarded_bytes.
 *  - A count that lies (more than 10 digits, 0, larger than max_msg, or
 *    no SP after the digits in OCTET mode) is counted in bad_octet_count
 *    and the frame is re-read, from its first byte, as LF-framed with
 *    LW_MSG_BAD_COUNT: nothing is lost and the stream resynchronises at
 *    the next LF (rsyslog's imtcp does the same: "frame too large ...
 *    change to octet stuffing"). A count over max_msg is never taken at
 *    its word, so it cannot swallow the lines that follow it on a shared
 *    stream. In AUTO mode, digits followed by something other than SP or
 *    a digit are just text ("2026-01-01 ...") and are not an error.
 *
 * Memory: frames are delivered as views into the fed buffer whenever they
 * are complete inside it; only a frame split across feeds is copied (into a
 * carry buffer that grows up to max_msg + 2). When the callback refuses a
 * frame with LW_EFULL, that frame and the unread rest of the input are
 * kept (at most one fed buffer more) until the next feed.
 */
#ifndef LW_COLLECTOR_FRAMING_H
#define LW_COLLECTOR_FRAMING_H

#include <stddef.h>
#include <stdint.h>

#include "core/config.h" /* enum lw_framing_mode */

struct lw_framing;

enum lw_msg_flags {
	LW_MSG_TRUNCATED = 1u << 0, /* cut at max_msg */
	LW_MSG_PARTIAL = 1u << 1,   /* stream ended mid-frame (from finish) */
	LW_MSG_BAD_COUNT = 1u << 2  /* a lying octet count, re-read as LF */
};

/* Plain counters; lw_framing_take_stats adds them to the caller's copy. */
struct lw_framing_stats {
	uint64_t messages;        /* frames delivered (accepted by the callback) */
	uint64_t bytes;           /* bytes fed */
	uint64_t truncated;       /* frames cut at max_msg */
	uint64_t discarded_bytes; /* bytes of oversized messages thrown away */
	uint64_t bad_octet_count; /* lying counts */
	uint64_t partial;         /* frames cut short by the end of the stream */
};

/* Called once per frame. @msg is valid only during the call (it may point
 * into the fed buffer or into the framer). flags: enum lw_msg_flags.
 * Return LW_OK to continue, or LW_EFULL to stop: the framer keeps this
 * frame and every unread byte, and the next feed/finish delivers them
 * first. Any other negative value stops the feed and is returned as is;
 * the frame counts as delivered. */
typedef int (*lw_framing_cb)(void *arg, const uint8_t *msg, size_t len,
			     unsigned flags);

/* Returns a new framer, or NULL when out of memory. max_msg == 0 means
 * 64 KiB. Free with lw_framing_free. */
struct lw_framing *lw_framing_new(enum lw_framing_mode mode, size_t max_msg);
/* NULL is a no-op. */
void lw_framing_free(struct lw_framing *f);

/* Frames buf[0..len) (borrowed for the call; len 0 and buf NULL are
 * allowed and just deliver what an earlier LW_EFULL held back).
 * Returns LW_OK, LW_EFULL (the callback stopped; all input is kept),
 * LW_ENOMEM (a held-back copy failed: the bytes concerned are lost and
 * counted in partial), or the callback's own error. O(len). */
int lw_framing_feed(struct lw_framing *f, const uint8_t *buf, size_t len,
		    lw_framing_cb cb, void *arg);

/* End of stream: delivers what was held back, then the partial frame if
 * any, flagged LW_MSG_PARTIAL (and counted in partial). The framer is then
 * empty and may be reused. Returns like lw_framing_feed; after LW_EFULL,
 * call it again. */
int lw_framing_finish(struct lw_framing *f, lw_framing_cb cb, void *arg);

/* 1 when bytes refused with LW_EFULL are waiting for the next feed.
 * A caller that feeds more input while this is 1 makes the framer hold
 * that input too: stream readers stop reading until it is 0 again, so a
 * connection holds at most one read buffer. */
int lw_framing_pending(const struct lw_framing *f);

/* 1 when a frame has begun and is not complete yet (the slowloris
 * check: how long a connection has been in the middle of one frame). */
int lw_framing_in_frame(const struct lw_framing *f);

/* Heap bytes the framer holds (carry and held-back input, capacities):
 * at most max_msg + 2 rounded up, plus the held input while pending; the
 * held-input buffer is freed once it has been delivered. O(1). */
size_t lw_framing_held_bytes(const struct lw_framing *f);

/* Adds the counters since the last call to *out and zeroes them. */
void lw_framing_take_stats(struct lw_framing *f, struct lw_framing_stats *out);

#endif
