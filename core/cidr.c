/* lw_cidr: address ranges for zones and allow lists. IPv4-mapped IPv6
 * peers (::ffff:a.b.c.d) match IPv4 ranges, since a dual-stack socket
 * reports IPv4 senders that way. */
#include "core/cidr.h"
#include "core/err.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

static void mask_host_bits(uint8_t *addr, int bytes, int prefix)
{
	for (int i = 0; i < bytes; i++) {
		int bits = prefix - i * 8;
		if (bits >= 8)
			continue;
		addr[i] &= bits <= 0 ? 0 : (uint8_t)(0xff << (8 - bits));
	}
}

int lw_cidr_parse(const char *s, struct lw_cidr *out)
{
	char host[64];
	const char *slash = strchr(s, '/');
	size_t hlen = slash ? (size_t)(slash - s) : strlen(s);
	long prefix;
	int max;

	if (hlen == 0 || hlen >= sizeof(host))
		return LW_EINVAL;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, host, out->addr) == 1) {
		out->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, host, out->addr) == 1) {
		out->family = AF_INET6;
		max = 128;
	} else {
		return LW_EINVAL;
	}
	prefix = max;
	if (slash) {
		char *end;
		if (slash[1] < '0' || slash[1] > '9')
			return LW_EINVAL;
		prefix = strtol(slash + 1, &end, 10);
		if (*end != '\0' || prefix < 0 || prefix > max)
			return LW_EINVAL;
	}
	out->prefix = (uint8_t)prefix;
	mask_host_bits(out->addr, max / 8, (int)prefix);
	return LW_OK;
}

static int match_bytes(const struct lw_cidr *c, const uint8_t *addr, int family)
{
	int bytes = family == AF_INET ? 4 : 16;
	uint8_t tmp[16];

	if (family != c->family)
		return 0;
	memcpy(tmp, addr, (size_t)bytes);
	mask_host_bits(tmp, bytes, c->prefix);
	return memcmp(tmp, c->addr, (size_t)bytes) == 0;
}

static const uint8_t v4_mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

int lw_cidr_contains(const struct lw_cidr *c, const struct sockaddr *sa)
{
	if (sa == NULL)
		return 0;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
		return match_bytes(c, (const uint8_t *)&in->sin_addr, AF_INET);
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
		const uint8_t *a = in6->sin6_addr.s6_addr;
		if (c->family == AF_INET && memcmp(a, v4_mapped_prefix, 12) == 0)
			return match_bytes(c, a + 12, AF_INET);
		return match_bytes(c, a, AF_INET6);
	}
	return 0;
}

int lw_cidr_list_contains(const struct lw_cidr_list *list, const struct sockaddr *sa)
{
	for (size_t i = 0; i < list->count; i++)
		if (lw_cidr_contains(&list->items[i], sa))
			return 1;
	return 0;
}

int lw_cidr_list_equal(const struct lw_cidr_list *a, const struct lw_cidr_list *b)
{
	if (a->count != b->count)
		return 0;
	for (size_t i = 0; i < a->count; i++)
		if (a->items[i].family != b->items[i].family ||
		    a->items[i].prefix != b->items[i].prefix ||
		    memcmp(a->items[i].addr, b->items[i].addr, sizeof(a->items[i].addr)) != 0)
			return 0;
	return 1;
}

int lw_cidr_list_contains_ip(const struct lw_cidr_list *list, const char *ip, size_t len)
{
	char tmp[64];
	struct sockaddr_in6 in6;
	struct sockaddr_in in;

	if (len == 0 || len >= sizeof(tmp))
		return 0;
	memcpy(tmp, ip, len);
	tmp[len] = '\0';
	memset(&in, 0, sizeof(in));
	memset(&in6, 0, sizeof(in6));
	if (inet_pton(AF_INET, tmp, &in.sin_addr) == 1) {
		in.sin_family = AF_INET;
		return lw_cidr_list_contains(list, (const struct sockaddr *)&in);
	}
	if (inet_pton(AF_INET6, tmp, &in6.sin6_addr) == 1) {
		in6.sin6_family = AF_INET6;
		return lw_cidr_list_contains(list, (const struct sockaddr *)&in6);
	}
	return 0;
}
