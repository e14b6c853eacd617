/* collector/sdnotify.c - see collector/sdnotify.h. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "collector/sdnotify.h"

struct lw_sdnotify {
	int fd;
	int connected;
	struct sockaddr_un addr;
	socklen_t addr_len;
};

int lw_sdnotify_open(struct lw_sdnotify **out, struct lw_diag *diag)
{
	const char *name = getenv("NOTIFY_SOCKET");
	struct lw_sdnotify *n;
	size_t len;

	*out = NULL;
	if (name == NULL || name[0] == '\0')
		return LW_OK;
	len = strlen(name);
	if ((name[0] != '/' && name[0] != '@') || len >= sizeof(n->addr.sun_path))
		return lw_diag_set(diag, LW_EINVAL, NULL, 0, 0,
				   "NOTIFY_SOCKET is neither a socket path nor @name: '%s'", name);
	n = calloc(1, sizeof(*n));
	if (n == NULL)
		return LW_ENOMEM;
	n->addr.sun_family = AF_UNIX;
	memcpy(n->addr.sun_path, name, len);
	if (name[0] == '@') /* abstract: a leading NUL, no terminator counted */
		n->addr.sun_path[0] = '\0';
	n->addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len +
				  (name[0] == '/' ? 1 : 0));
	n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (n->fd < 0) {
		int e = errno;

		free(n);
		diag->sys_errno = e;
		return lw_diag_set(diag, LW_EIO, NULL, 0, 0, "socket for NOTIFY_SOCKET: %s",
				   strerror(e));
	}
	/* Connected now, while serve may still be root: a socket only root
	 * may write to stays usable after the drop to the service user
	 * (the permission is checked at connect). When it fails (nobody
	 * listens yet), each send names the address again. */
	n->connected = connect(n->fd, (const struct sockaddr *)&n->addr, n->addr_len) == 0;
	*out = n;
	return LW_OK;
}

void lw_sdnotify_close(struct lw_sdnotify *n)
{
	if (n == NULL)
		return;
	close(n->fd);
	free(n);
}

int lw_sdnotify_send(struct lw_sdnotify *n, const char *state)
{
	ssize_t r;

	if (n == NULL)
		return LW_OK;
	if (n->connected)
		r = send(n->fd, state, strlen(state), MSG_NOSIGNAL);
	else
		r = sendto(n->fd, state, strlen(state), MSG_NOSIGNAL,
			   (const struct sockaddr *)&n->addr, n->addr_len);
	return r == (ssize_t)strlen(state) ? LW_OK : LW_EIO;
}

uint64_t lw_sdnotify_watchdog_usec(void)
{
	const char *usec = getenv("WATCHDOG_USEC"), *pid = getenv("WATCHDOG_PID");
	char *end;
	unsigned long long v;

	if (usec == NULL || usec[0] == '\0')
		return 0;
	if (pid != NULL && pid[0] != '\0' && strtol(pid, NULL, 10) != (long)getpid())
		return 0;
	errno = 0;
	v = strtoull(usec, &end, 10);
	return errno == 0 && *end == '\0' ? v : 0;
}
