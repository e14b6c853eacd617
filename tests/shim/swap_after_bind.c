/* tests/shim/swap_after_bind.c - an LD_PRELOAD library for
 * tests/integration/test_hostile_files.sh: right after a successful
 * bind(2) of a unix socket, replaces the socket file with a symbolic
 * link to $LW_SHIM_SYMLINK_TARGET, as someone who can write the socket's
 * directory could between bind and the chmod that follows it. Makes that
 * race deterministic; never linked into logward. */
#include <dlfcn.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int bind(int fd, const struct sockaddr *sa, socklen_t len);

int bind(int fd, const struct sockaddr *sa, socklen_t len)
{
	int (*real)(int, const struct sockaddr *, socklen_t);
	const char *target = getenv("LW_SHIM_SYMLINK_TARGET");
	int rc;

	*(void **)&real = dlsym(RTLD_NEXT, "bind");
	rc = real(fd, sa, len);
	if (rc == 0 && target != NULL && sa->sa_family == AF_UNIX) {
		const struct sockaddr_un *sun = (const struct sockaddr_un *)(const void *)sa;

		if (sun->sun_path[0] != '\0' && unlink(sun->sun_path) == 0 &&
		    symlink(target, sun->sun_path) != 0)
			abort();
	}
	return rc;
}
