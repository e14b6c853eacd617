/* systemd's readiness protocol (prefix lw_sdnotify), spoken directly:
 * one datagram per state change to the unix socket named by
 * $NOTIFY_SOCKET (a path, or "@name" for the abstract namespace), as
 * sd_notify(3) documents, so logward needs no libsystemd. Without
 * $NOTIFY_SOCKET (not started by systemd with Type=notify) every call
 * is a no-op.
 *
 * What `serve` sends (collector/serve.c): READY=1 once the listeners are
 * bound, the store is open and the event loop runs; WATCHDOG=1 from the
 * event loop every half $WATCHDOG_USEC; RELOADING=1 (with MONOTONIC_USEC)
 * on SIGHUP and READY=1 when the reload was applied or rejected;
 * STOPPING=1 when a stop begins. Each with a STATUS= line for
 * `systemctl status`.
 *
 * Threads: the collector thread only (the socket is not shared). */
#ifndef LW_COLLECTOR_SDNOTIFY_H
#define LW_COLLECTOR_SDNOTIFY_H

#include <stdint.h>

#include "core/err.h"

struct lw_sdnotify;

/* Opens the socket named by $NOTIFY_SOCKET and connects it (before serve
 * drops root, so a root-only socket stays writable). *out is NULL (and LW_OK)
 * when the variable is unset or empty. Errors: LW_EINVAL (a name too
 * long for a unix socket, or not a path nor "@"), LW_EIO (socket(2)),
 * LW_ENOMEM. Close with lw_sdnotify_close (NULL allowed). */
int lw_sdnotify_open(struct lw_sdnotify **out, struct lw_diag *diag);
void lw_sdnotify_close(struct lw_sdnotify *n);

/* Sends state ("READY=1\nSTATUS=..."), one datagram, never blocking.
 * NULL n: LW_OK. LW_EIO when the datagram could not be sent (systemd
 * gone): the daemon goes on. */
int lw_sdnotify_send(struct lw_sdnotify *n, const char *state);

/* The watchdog interval systemd asked for ($WATCHDOG_USEC, when
 * $WATCHDOG_PID is unset or this process), in microseconds; 0 = none. */
uint64_t lw_sdnotify_watchdog_usec(void);

#endif
