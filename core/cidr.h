/* CIDR lists (prefix lw_cidr): "10.10.0.0/16", "::1/128", "127.0.0.1". */
#ifndef LW_CORE_CIDR_H
#define LW_CORE_CIDR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define LW_CIDR_MAX 64

struct lw_cidr {
	int family;          /* AF_INET or AF_INET6 */
	uint8_t prefix;      /* bits */
	uint8_t addr[16];    /* network byte order, host bits zeroed */
};

struct lw_cidr_list {
	size_t count;
	struct lw_cidr items[LW_CIDR_MAX];
};

/* Parses one CIDR (a plain address means /32 or /128). LW_OK or LW_EINVAL. */
int lw_cidr_parse(const char *s, struct lw_cidr *out);
/* 1 when sa (AF_INET/AF_INET6, v4-mapped v6 handled) is inside c. */
int lw_cidr_contains(const struct lw_cidr *c, const struct sockaddr *sa);
/* 1 when any entry contains sa. */
int lw_cidr_list_contains(const struct lw_cidr_list *list, const struct sockaddr *sa);
/* 1 when a and b hold the same ranges in the same order. */
int lw_cidr_list_equal(const struct lw_cidr_list *a, const struct lw_cidr_list *b);
/* Same, for a textual IP address ("10.1.2.3", "2001:db8::1"). */
int lw_cidr_list_contains_ip(const struct lw_cidr_list *list, const char *ip, size_t len);

#endif
