/* collector/listener.c - frame -> event, counts, addresses (prefix
 * lw_listener). See listener.h. */
#include "collector/listener.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "collector/framing.h"

/* ---- frame -> event ------------------------------------------------- */

void lw_listener_counts_flush(struct lw_listener_counts *cnt,
			      struct lw_counters *c)
{
	if (cnt->received)
		lw_counters_add(c, LW_CTR_RECEIVED, cnt->received);
	if (cnt->bytes)
		lw_counters_add(c, LW_CTR_BYTES_RECEIVED, cnt->bytes);
	if (cnt->parsed)
		lw_counters_add(c, LW_CTR_PARSED, cnt->parsed);
	if (cnt->malformed)
		lw_counters_add(c, LW_CTR_MALFORMED, cnt->malformed);
	if (cnt->truncated)
		lw_counters_add(c, LW_CTR_TRUNCATED, cnt->truncated);
	if (cnt->framing_errors)
		lw_counters_add(c, LW_CTR_FRAMING_ERRORS, cnt->framing_errors);
	memset(cnt, 0, sizeof(*cnt));
}

int lw_listener_add_frame(struct lw_batch *b, const uint8_t *msg, size_t len,
			  unsigned flags, const struct lw_listener_src *src,
			  const struct lw_parse_opts *po,
			  lw_listener_parse_fn parse,
			  struct lw_listener_counts *cnt)
{
	struct lw_event *ev;
	struct lw_field *fields = NULL;
	size_t extra_len = 0;
	char *copy, *p;

	if (len > UINT32_MAX)
		len = UINT32_MAX;
	if (lw_batch_full(b))
		return LW_EFULL;
	for (uint32_t i = 0; i < src->nextra; i++)
		extra_len += src->extra[i].value.len;
	/* One allocation for the frame, the source address and the extra
	 * values; the frame is parsed in place, so every event string is a
	 * view into this copy. The field array (8-aligned) goes first. */
	copy = lw_arena_alloc(&b->arena, src->nextra * sizeof(*fields) +
					 len + src->addr_len + 1 + extra_len);
	if (copy == NULL)
		return LW_ENOMEM;
	if (src->nextra > 0) {
		fields = (struct lw_field *)(void *)copy;
		copy += src->nextra * sizeof(*fields);
	}
	memcpy(copy, msg, len);
	copy[len] = '\0';
	memcpy(copy + len + 1, src->addr, src->addr_len);
	p = copy + len + 1 + src->addr_len;
	for (uint32_t i = 0; i < src->nextra; i++) {
		fields[i].key = src->extra[i].key;
		fields[i].value.ptr = p;
		fields[i].value.len = src->extra[i].value.len;
		memcpy(p, src->extra[i].value.ptr, src->extra[i].value.len);
		p += src->extra[i].value.len;
	}
	ev = lw_batch_push(b);
	(parse != NULL ? parse : lw_syslog_parse)(copy, len, po, ev);
	ev->zone.ptr = src->zone;
	ev->zone.len = src->zone_len;
	ev->source_address.ptr = copy + len + 1;
	ev->source_address.len = src->addr_len;
	if (src->nextra > 0) {
		ev->fields = fields;
		ev->nfields = src->nextra;
	}
	if (flags & (LW_MSG_TRUNCATED | LW_MSG_PARTIAL)) {
		ev->flags |= LW_EVENT_TRUNCATED;
		cnt->truncated++;
	}
	if (ev->flags & LW_EVENT_PARSE_ERROR)
		cnt->malformed++;
	else
		cnt->parsed++;
	cnt->received++;
	cnt->bytes += len;
	b->raw_bytes += len;
	return LW_OK;
}

/* ---- addresses ---------------------------------------------------------- */

void lw_listener_format_peer(const struct sockaddr *sa, char *out, size_t outlen)
{
	char ip[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip));
		snprintf(out, outlen, "%s:%u", ip, ntohs(in->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip));
		snprintf(out, outlen, "[%s]:%u", ip, ntohs(in6->sin6_port));
	} else {
		snprintf(out, outlen, "?");
	}
}

int lw_listener_resolve(const char *address, int socktype,
			struct sockaddr_storage *ss, socklen_t *sl,
			struct lw_diag *diag)
{
	char host[128], *colon;
	const char *port;
	struct addrinfo hints, *res = NULL;
	int rc;

	snprintf(host, sizeof(host), "%s", address);
	colon = strrchr(host, ':');
	if (colon == NULL)
		return lw_diag_set(diag, LW_EINVAL, NULL, 0, 0,
				   "address '%s' needs a port (host:port)", address);
	*colon = '\0';
	port = colon + 1;
	if (host[0] == '[') {
		size_t n = strlen(host);
		if (n < 2 || host[n - 1] != ']')
			return lw_diag_set(diag, LW_EINVAL, NULL, 0, 0,
					   "bad IPv6 address '%s'", address);
		host[n - 1] = '\0';
		memmove(host, host + 1, n - 1);
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = socktype;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	rc = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
	if (rc != 0)
		return lw_diag_set(diag, LW_EINVAL, NULL, 0, 0,
				   "cannot resolve '%s': %s", address, gai_strerror(rc));
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*sl = res->ai_addrlen;
	freeaddrinfo(res);
	return LW_OK;
}
