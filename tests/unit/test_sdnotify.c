/* systemd's notify protocol (collector/sdnotify.h) against a real unix
 * datagram socket: path and abstract names, the no-op without
 * NOTIFY_SOCKET, bad names, and the watchdog interval. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "collector/sdnotify.h"
#include "core/err.h"

static int listen_at(const char *name, size_t len)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

	cr_assert(fd >= 0);
	memcpy(a.sun_path, name, len);
	cr_assert_eq(bind(fd, (struct sockaddr *)&a,
			  (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)), 0);
	return fd;
}

static void expect_datagram(int fd, const char *want)
{
	char buf[256];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	cr_assert(n > 0, "no datagram");
	buf[n] = '\0';
	cr_expect_str_eq(buf, want);
}

Test(sdnotify, sends_each_state_as_one_datagram_to_a_path)
{
	char path[64];
	struct lw_sdnotify *n;
	int fd;

	snprintf(path, sizeof(path), "/tmp/lw-sdnotify-%d", (int)getpid());
	unlink(path);
	fd = listen_at(path, strlen(path) + 1);
	setenv("NOTIFY_SOCKET", path, 1);
	cr_assert_eq(lw_sdnotify_open(&n, NULL), LW_OK);
	cr_assert_not_null(n);
	cr_expect_eq(lw_sdnotify_send(n, "READY=1\nSTATUS=receiving"), LW_OK);
	cr_expect_eq(lw_sdnotify_send(n, "WATCHDOG=1"), LW_OK);
	expect_datagram(fd, "READY=1\nSTATUS=receiving");
	expect_datagram(fd, "WATCHDOG=1");
	lw_sdnotify_close(n);
	close(fd);
	unlink(path);
}

Test(sdnotify, abstract_names_start_with_an_at)
{
	char name[64];
	struct lw_sdnotify *n;
	int fd;

	snprintf(name, sizeof(name), "@lw-sdnotify-%d", (int)getpid());
	name[0] = '\0';
	fd = listen_at(name, strlen(name + 1) + 1);
	name[0] = '@';
	setenv("NOTIFY_SOCKET", name, 1);
	cr_assert_eq(lw_sdnotify_open(&n, NULL), LW_OK);
	cr_expect_eq(lw_sdnotify_send(n, "STOPPING=1"), LW_OK);
	expect_datagram(fd, "STOPPING=1");
	lw_sdnotify_close(n);
	close(fd);
}

Test(sdnotify, without_notify_socket_nothing_is_sent)
{
	struct lw_sdnotify *n = (struct lw_sdnotify *)1;

	unsetenv("NOTIFY_SOCKET");
	cr_assert_eq(lw_sdnotify_open(&n, NULL), LW_OK);
	cr_expect_null(n);
	cr_expect_eq(lw_sdnotify_send(NULL, "READY=1"), LW_OK);
	lw_sdnotify_close(NULL);
}

Test(sdnotify, bad_names_are_refused_and_a_vanished_socket_is_an_error)
{
	struct lw_sdnotify *n;
	struct lw_diag d = {0};

	setenv("NOTIFY_SOCKET", "relative/path", 1);
	cr_expect_eq(lw_sdnotify_open(&n, &d), LW_EINVAL);
	cr_expect_not_null(strstr(d.detail, "relative/path"));
	setenv("NOTIFY_SOCKET", "/tmp/lw-sdnotify-nobody-listens-here", 1);
	cr_assert_eq(lw_sdnotify_open(&n, NULL), LW_OK);
	cr_expect_eq(lw_sdnotify_send(n, "READY=1"), LW_EIO);
	lw_sdnotify_close(n);
}

Test(sdnotify, watchdog_interval_only_for_this_process)
{
	char pid[32];

	unsetenv("WATCHDOG_PID");
	unsetenv("WATCHDOG_USEC");
	cr_expect_eq(lw_sdnotify_watchdog_usec(), 0);
	setenv("WATCHDOG_USEC", "30000000", 1);
	cr_expect_eq(lw_sdnotify_watchdog_usec(), 30000000);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	setenv("WATCHDOG_PID", pid, 1);
	cr_expect_eq(lw_sdnotify_watchdog_usec(), 30000000);
	setenv("WATCHDOG_PID", "1", 1);
	cr_expect_eq(lw_sdnotify_watchdog_usec(), 0, "meant for another process");
	unsetenv("WATCHDOG_PID");
	setenv("WATCHDOG_USEC", "12x", 1);
	cr_expect_eq(lw_sdnotify_watchdog_usec(), 0);
	unsetenv("WATCHDOG_USEC");
}
