/* Error codes and diagnostics shared by every module (prefix lw_err / lw_diag).
 * Functions that can fail return LW_OK or a negative enum lw_err; the human
 * context (file, line, reason, errno) goes into a caller-owned lw_diag. */
#ifndef LW_CORE_ERR_H
#define LW_CORE_ERR_H

#include <stdarg.h>
#include <stddef.h>

enum lw_err {
	LW_OK = 0,
	LW_ENOMEM = -1,    /* allocation failed */
	LW_EINVAL = -2,    /* bad argument, bad config value */
	LW_EIO = -3,       /* a system call failed; diag.sys_errno says which */
	LW_EPARSE = -4,    /* input does not follow its format */
	LW_ECORRUPT = -5,  /* stored data fails a check (chain, header, zstd) */
	LW_ENOTFOUND = -6, /* no such key, file or id */
	LW_EFULL = -7,     /* a bounded resource is full (queue, LMDB map) */
	LW_ESTORE = -8,    /* LMDB reported an error; diag.detail has its text */
	LW_ETOOBIG = -9,   /* input over a configured limit */
	LW_EAGAIN = -10,   /* try again later (nothing is ready yet) */
	LW_ECLOSED = -11,  /* the object was shut down */
	LW_ECOMPRESS = -12 /* zstd reported an error */
};

/* Static text for an enum lw_err value; never NULL. */
const char *lw_strerror(int err);

/* Where and why something failed. Filled by the failing function when the
 * caller passes one (all pointers may be NULL); never allocated. */
struct lw_diag {
	char file[256];
	int line; /* 1-based, 0 when unknown */
	int col;  /* 1-based, 0 when unknown */
	int sys_errno;
	char detail[512];
};

/* Records file:line:col and a printf-style reason in diag (NULL is allowed
 * and ignored). Returns err so callers can write `return lw_diag_fail(...)`. */
int lw_diag_set(struct lw_diag *diag, int err, const char *file, int line,
		int col, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

/* Formats "file:line:col: detail" (parts that are unknown are left out). */
void lw_diag_format(const struct lw_diag *diag, char *out, size_t outlen);

#endif
