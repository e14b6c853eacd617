/* bench/sys.c - small OS helpers for the bench modules (prefix lw_sys).
 * Thread-safe; no state. */
#include "bench/sys.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t
lw_sys_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

const char *
lw_sys_strerror(int errnum, char *buf, size_t len)
{
	/* _GNU_SOURCE (CMakeLists.txt) selects the GNU strerror_r, which may
	 * return a static string instead of filling buf. */
	const char *s = strerror_r(errnum, buf, len);

	if (s != buf)
		snprintf(buf, len, "%s", s);
	return buf;
}

void
lw_sys_sleep_ns(int64_t ns)
{
	struct timespec ts = { .tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000 };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}
