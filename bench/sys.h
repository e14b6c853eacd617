/* bench/sys.h - small OS helpers shared by the bench modules (prefix
 * lw_sys).  Thread-safe; no state. */
#ifndef LW_BENCH_SYS_H
#define LW_BENCH_SYS_H

#include <stddef.h>
#include <stdint.h>

/* CLOCK_MONOTONIC in ns (vDSO: cheap enough to call once per batch). */
int64_t lw_sys_mono_ns(void);

/* The text of <errnum> in <buf> (strerror_r; never NULL, never a shared
 * static buffer).  Returns buf. */
const char *lw_sys_strerror(int errnum, char *buf, size_t len);

/* Sleeps <ns> nanoseconds, resuming after signals. */
void lw_sys_sleep_ns(int64_t ns);

#endif
