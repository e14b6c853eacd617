/* bench/netaddr.h - transports and their addresses for logward-bench
 * (prefix lw_netaddr).  "HOST:PORT" or "[V6]:PORT" for tcp, udp and tls;
 * a filesystem path for unix and unix-dgram.  No state; thread-safe. */
#ifndef LW_BENCH_NETADDR_H
#define LW_BENCH_NETADDR_H

#include <stddef.h>
#include <sys/socket.h>

struct lw_diag;

enum lw_transport {
	LW_TR_TCP = 0,
	LW_TR_UDP,
	LW_TR_UNIX,        /* SOCK_STREAM */
	LW_TR_UNIX_DGRAM,  /* SOCK_DGRAM */
	LW_TR_TLS,         /* TCP + TLS */
};

struct lw_netaddr {
	enum lw_transport transport;
	struct sockaddr_storage ss;
	socklen_t len;
};

/* Resolves <spec> for <transport> into <out>.  Host names go through
 * getaddrinfo(3) (first result); a port of 0 is allowed for listeners.
 * Returns LW_OK or LW_EINVAL with the reason in <diag>. */
int lw_netaddr_parse(enum lw_transport transport, const char *spec,
		     struct lw_netaddr *out, struct lw_diag *diag);

/* "127.0.0.1:5514", "[::1]:5514" or the socket path, into <buf>. */
void lw_netaddr_format(const struct lw_netaddr *a, char *buf, size_t len);

/* SOCK_STREAM or SOCK_DGRAM for the transport. */
int lw_netaddr_socktype(enum lw_transport transport);

const char *lw_netaddr_transport_name(enum lw_transport transport);

#endif
