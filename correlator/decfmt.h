/* The structured-format stage of decoders (prefix lw_decfmt): a decoder's
 * `format`, `map` and `where` keys (docs/rules.md "Structured formats").
 *
 *   - name: fortigate-traffic
 *     format: kv                      # kv cef leef csv json winevt sd, or a mapping
 *     where: {type: traffic}          # key values the line must have
 *     map:                            # key -> field[|modifier], or a list of them
 *       srcip: source.ip
 *       proto: network.transport|protocol
 *       user: [user.name|nodomain, user.domain|domain]
 *
 * A decoder with a format parses its input (the message, or the capture
 * of one of its pattern's groups named by `format: {input: NAME}`, or the
 * RFC 5424 structured data for `sd`) with the parser of correlator/fmt_*.h
 * and matches when the parse found pairs and every `where` key has one
 * of its values (ASCII case ignored; "*" means present). A `where` key
 * that names an event member (log.syslog.msgid, process.name, host.name
 * ...: core/event.h) tests the event instead of the parse. It then emits
 * each mapped key's value under its field(s), after the modifier:
 *
 *   lower      ASCII lower case ("TCP" -> "tcp")
 *   protocol   IANA protocol number to keyword ("6" -> "tcp", "58" ->
 *              "ipv6-icmp"), names lowered ("TCP" -> "tcp")
 *   nodomain   the name without its domain: after the last '\', before
 *              an '@' ("CORP\bob", "bob@corp.example" -> "bob")
 *   domain     the domain: before the first '\', else after an '@'
 *   host       the address of "host:port[:...]" or "[v6]:port"
 *   port       the port of the same
 *   upto:C     the part before the first C ("tcp/443" with upto:/ -> "tcp")
 *   ip         an address: IPv4-mapped IPv6 ("::ffff:192.0.2.1") as IPv4
 *
 * Values that are empty, "-" or "N/A" (how Windows, proxies, FortiGate and
 * PAN-OS write "none") are not emitted; a value for a field ending in ".ip" that is not an
 * address is emitted as "<prefix>.address". The first occurrence of a key
 * is the one used (the device writes its own keys before the text a
 * client chose, which it quotes or escapes: fmt_*.h say why each format
 * is safe), except in winevt, which reads each key once.
 *
 * Cost: the parse of one input is shared by every decoder with the same
 * format options tried on the event (a one-entry cache), each pair costs
 * one hash probe into the keys the decoders use, and the parse buffers
 * grow to the longest message seen and are then reused: no allocation
 * per event.
 *
 * Threads: a built set is immutable; each thread owns a scratch. */
#ifndef LW_CORRELATOR_DECFMT_H
#define LW_CORRELATOR_DECFMT_H

#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

#include "core/event.h"
#include "correlator/ryaml.h"

struct lw_decfmt_set;
struct lw_decfmt_scratch;

struct lw_decfmt_set *lw_decfmt_set_new(void);
void lw_decfmt_set_free(struct lw_decfmt_set *set);

/* Reads decoder node dec's `format`, `map` and `where` (dec must have
 * `format`). Problems are reported through y; on success *idx is the
 * binding to pass to the other calls. LW_OK, LW_EPARSE or LW_ENOMEM. */
int lw_decfmt_load(struct lw_decfmt_set *set, struct lw_ryaml *y,
		   yaml_node_t *dec, uint32_t *idx);
/* Drops the last binding loaded (its decoder failed to load). */
void lw_decfmt_unload_last(struct lw_decfmt_set *set);
/* After the last load: the key tables. LW_OK or LW_ENOMEM. */
int lw_decfmt_build(struct lw_decfmt_set *set);

/* The most fields one binding emits (its map's targets). */
uint32_t lw_decfmt_max_fields(const struct lw_decfmt_set *set, uint32_t idx);
/* The pattern group whose capture binding idx parses, or NULL (the
 * message). */
const char *lw_decfmt_input_group(const struct lw_decfmt_set *set, uint32_t idx);
/* 1 when binding idx reads the RFC 5424 structured data (format sd). */
int lw_decfmt_reads_sd(const struct lw_decfmt_set *set, uint32_t idx);
/* Calls fn once for each field binding idx can emit. */
void lw_decfmt_keys(const struct lw_decfmt_set *set, uint32_t idx,
		    void (*fn)(const char *key, size_t len, void *arg), void *arg);

/* 1 when p[0..len) is an IPv4 address (dotted quad, no leading zeros)
 * or an IPv6 address inet_pton accepts. */
int lw_decfmt_is_ip(const char *p, size_t len);

/* Parses "field" or "field|modifier" (the modifiers above): *flen is
 * the field's length, *mod and *arg the modifier. LW_OK, LW_EPARSE (an
 * unknown modifier) or LW_EINVAL (the field is not a dotted name). The
 * decoders' `groups` map takes the same spelling. */
int lw_decfmt_field_spec(const char *s, size_t len, size_t *flen, uint8_t *mod,
			 char *arg);

/* Per-thread buffers; NULL on ENOMEM. */
struct lw_decfmt_scratch *lw_decfmt_scratch_new(const struct lw_decfmt_set *set);
void lw_decfmt_scratch_free(struct lw_decfmt_scratch *s);

/* Before the decoders of an event run: room for inputs of up to n bytes
 * (the message and the structured data), and the parse cache emptied.
 * Buffers grow to the largest event seen, then stay. LW_OK or ENOMEM. */
int lw_decfmt_prepare(struct lw_decfmt_scratch *s, size_t n);
/* Modifier mod (arg for upto) applied to v; the result is a view into v,
 * static text, or the scratch (until the next prepare); empty when the
 * modifier finds nothing. */
struct lw_str lw_decfmt_modify(struct lw_decfmt_scratch *s, uint8_t mod, char arg,
			       struct lw_str v);

/* Parses input (or reuses the parse: gen identifies the event; the same
 * gen, options and input bytes mean the same parse) and, when binding idx
 * matches, appends its fields to out[*nout..max). Returns 1 matched, 0
 * not, LW_ENOMEM. Emitted views point into input, the set or the scratch
 * (until the scratch's next parse). */
int lw_decfmt_apply(const struct lw_decfmt_set *set, struct lw_decfmt_scratch *s,
		    uint32_t idx, const struct lw_event *ev, struct lw_str input,
		    uint64_t gen, struct lw_field *out, uint32_t *nout, uint32_t max);

#endif
