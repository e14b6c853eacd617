/* collector/journal.h - systemd journal streams (prefix lw_journal): the
 * Journal Export Format and journal JSON (`journalctl -o json`), parsed as
 * a stream fed in chunks of any size, and the mapping of one journal entry
 * to an lw_event in a batch. Formats, mapping and limits: docs/journald.md.
 *
 * Export format (systemd docs/JOURNAL_EXPORT_FORMATS.md): an entry is a
 * list of fields ended by an empty line. A text field is "NAME=value\n"; a
 * binary field is "NAME\n", a 64-bit little-endian length, that many bytes
 * and "\n". Binary values may hold newlines and blank lines: the parser
 * goes by length, never by blank line. Field names are 1..64 of [A-Z0-9_],
 * not starting with a digit (systemd's rule). Blank lines between entries
 * are skipped.
 *
 * JSON: a sequence of objects separated by white space (one per line, as
 * journalctl writes them, or pretty-printed). A value is a string, an
 * array of numbers 0..255 (bytes: the field is binary), an array of such
 * values (a repeated field: one field per element), or null (journalctl's
 * "too large, not shown": no field is made). Numbers, true and false are
 * kept as their text.
 *
 * Memory: entries that arrive whole in one chunk are parsed in place; an
 * entry cut by a chunk boundary is assembled in a parser buffer bounded by
 * max_entry_bytes. Every byte is scanned once (field names at most twice),
 * whatever the chunking.
 *
 * Errors are sticky: after LW_EPARSE or LW_ETOOBIG the parser refuses
 * further input until lw_journal_reset; the entries before the fault were
 * delivered, the faulty one and everything after it were not.
 *
 * Threading: one parser per stream, used by one thread.
 */
#ifndef LW_COLLECTOR_JOURNAL_H
#define LW_COLLECTOR_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "collector/listener.h"
#include "core/event.h"

/* systemd's own limit on fields per entry (ENTRY_FIELD_COUNT_MAX). */
#define LW_JOURNAL_MAX_FIELDS 1024
/* The longest field name systemd accepts. */
#define LW_JOURNAL_MAX_NAME 64
/* Extra fields are stored under this prefix: "journald._SYSTEMD_UNIT". */
#define LW_JOURNAL_PREFIX "journald."

enum lw_journal_format {
	LW_JOURNAL_EXPORT,
	LW_JOURNAL_JSON
};

/* One field of an entry: views valid only during the entry callback.
 * value holds the decoded bytes (JSON escapes and byte arrays resolved). */
struct lw_journal_field {
	const char *name;
	uint32_t name_len;
	const char *value;
	uint32_t value_len;
};

struct lw_journal_entry {
	const struct lw_journal_field *fields; /* in stream order */
	uint32_t nfields;
	uint32_t bytes; /* size of the entry in the stream */
};

/* Called once per complete entry. Returns LW_OK, or LW_EFULL to refuse it:
 * lw_journal_feed then stops and reports how much it consumed; the entry
 * is delivered again by the next feed. */
typedef int (*lw_journal_entry_fn)(void *arg, const struct lw_journal_entry *e);

struct lw_journal;

/* max_entry_bytes: the largest entry (as it appears in the stream); 0
 * means 1 MiB. max_fields: fields per entry; 0 means LW_JOURNAL_MAX_FIELDS.
 * Returns NULL when out of memory. */
struct lw_journal *lw_journal_new(enum lw_journal_format fmt,
				  size_t max_entry_bytes, uint32_t max_fields);
/* NULL is a no-op. */
void lw_journal_free(struct lw_journal *j);
/* Forgets any partial entry and any error: ready for a new stream. */
void lw_journal_reset(struct lw_journal *j);

/* Feeds buf[0..len) (borrowed for the call). Returns:
 *   LW_OK       all of buf consumed (*consumed = len);
 *   LW_EFULL    the callback refused an entry: buf[*consumed..len) was not
 *               read and must be fed again (after the refusal cleared);
 *   LW_EPARSE   malformed input; LW_ETOOBIG an entry over a limit: the
 *               parser is failed, lw_journal_error says what and where;
 *   LW_ENOMEM   the assembly buffer could not grow (parser failed too).
 * consumed may be NULL when the callback never refuses. */
int lw_journal_feed(struct lw_journal *j, const uint8_t *buf, size_t len,
		    size_t *consumed, lw_journal_entry_fn cb, void *arg);

/* End of stream. LW_OK when no entry was left open; LW_EFULL when a held
 * entry was refused again (call again later); LW_EPARSE when an entry was
 * cut off (it is not delivered; lw_journal_error says how many bytes were
 * lost), or the earlier error when the parser had failed. */
int lw_journal_finish(struct lw_journal *j, lw_journal_entry_fn cb, void *arg);

/* 1 while an entry is partly assembled (bytes that finish would lose). */
int lw_journal_partial(const struct lw_journal *j);

/* Why the parser failed ("binary field 'MESSAGE' is not followed by a
 * newline (byte 1234)"), or "" when it has not. Valid until the next
 * call on j. */
const char *lw_journal_error(const struct lw_journal *j);

/* Bytes consumed since new/reset (entries delivered plus skipped blanks). */
uint64_t lw_journal_offset(const struct lw_journal *j);

/* Entry -> event, appended to b. Copies every field into the batch arena
 * once (plus src->addr). Mapping: __REALTIME_TIMESTAMP (else
 * _SOURCE_REALTIME_TIMESTAMP) -> @timestamp (else now_ns, flagged
 * LW_EVENT_NO_TIMESTAMP), _HOSTNAME -> host.name, SYSLOG_IDENTIFIER (else
 * _COMM) -> process.name, _PID -> procid, PRIORITY -> severity,
 * SYSLOG_FACILITY -> facility, MESSAGE -> message (LW_EVENT_BAD_UTF8 when
 * not UTF-8). Every other field, and a mapped one that is repeated or whose
 * value does not fit (PRIORITY=x), becomes the extra field
 * "journald.NAME". Returns LW_OK, LW_EFULL (batch full: nothing added) or
 * LW_ENOMEM. */
int lw_journal_add_entry(struct lw_batch *b, const struct lw_journal_entry *e,
			 const struct lw_listener_src *src, int64_t now_ns,
			 struct lw_listener_counts *cnt);

#endif
