/* bench/netaddr.c - parses and prints logward-bench addresses (prefix
 * lw_netaddr).  No state; thread-safe. */
#include "bench/netaddr.h"

#include <netdb.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>

#include "core/err.h"

int
lw_netaddr_socktype(enum lw_transport transport)
{
	return transport == LW_TR_UDP || transport == LW_TR_UNIX_DGRAM
		? SOCK_DGRAM : SOCK_STREAM;
}

const char *
lw_netaddr_transport_name(enum lw_transport transport)
{
	switch (transport) {
	case LW_TR_TCP: return "tcp";
	case LW_TR_UDP: return "udp";
	case LW_TR_UNIX: return "unix";
	case LW_TR_UNIX_DGRAM: return "unix-dgram";
	case LW_TR_TLS: return "tls";
	}
	return "?";
}

static int
parse_unix(const char *spec, struct lw_netaddr *out, struct lw_diag *diag)
{
	struct sockaddr_un *sun = (struct sockaddr_un *)&out->ss;
	size_t n = strlen(spec);

	if (n == 0 || n >= sizeof(sun->sun_path))
		return lw_diag_set(diag, LW_EINVAL, NULL, 0, 0,
				   "unix socket path '%s' is empty or longer than %zu bytes",
				   spec, sizeof(sun->sun_path) - 1);
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, spec, n + 1);
	out->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
	return LW_OK;
}

int
lw_netaddr_parse(enum lw_transport transport, const char *spec,
		 struct lw_netaddr *out, struct lw_diag *diag)
{
	struct addrinfo hints, *res = NULL;
	char host[256];
	const char *port, *colon;
	size_t hlen;
	int rc;

	memset(out, 0, sizeof(*out));
	out->transport = transport;
	if (transport == LW_TR_UNIX || transport == LW_TR_UNIX_DGRAM)
		return parse_unix(spec, out, diag);

	if (spec[0] == '[') {
		const char *close = strchr(spec, ']');

		if (close == NULL || close[1] != ':')
			goto bad;
		hlen = (size_t)(close - spec - 1);
		spec++;
		port = close + 2;
	} else {
		colon = strrchr(spec, ':');
		if (colon == NULL)
			goto bad;
		hlen = (size_t)(colon - spec);
		port = colon + 1;
	}
	if (hlen == 0 || hlen >= sizeof(host) || *port == '\0')
		goto bad;
	memcpy(host, spec, hlen);
	host[hlen] = '\0';

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = lw_netaddr_socktype(transport);
	hints.ai_flags = AI_NUMERICSERV;
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0)
		return lw_diag_set(diag, LW_EINVAL, NULL, 0, 0,
				   "cannot resolve '%s' port '%s': %s", host, port,
				   gai_strerror(rc));
	memcpy(&out->ss, res->ai_addr, res->ai_addrlen);
	out->len = res->ai_addrlen;
	freeaddrinfo(res);
	return LW_OK;

bad:
	return lw_diag_set(diag, LW_EINVAL, NULL, 0, 0,
			   "address '%s' is not HOST:PORT or [V6]:PORT", spec);
}

void
lw_netaddr_format(const struct lw_netaddr *a, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];

	switch (a->ss.ss_family) {
	case AF_INET: {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)&a->ss;

		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		snprintf(buf, len, "%s:%u", host, ntohs(sin->sin_port));
		break;
	}
	case AF_INET6: {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&a->ss;

		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		snprintf(buf, len, "[%s]:%u", host, ntohs(sin6->sin6_port));
		break;
	}
	case AF_UNIX:
		snprintf(buf, len, "%s", ((const struct sockaddr_un *)&a->ss)->sun_path);
		break;
	default:
		snprintf(buf, len, "?");
		break;
	}
}
