/* collector/tls.h - the server side of RFC 5425 TLS (prefix lw_tls):
 * an OpenSSL context built from a `tls` listener's config, and the peer
 * certificate's names. Collector thread; the context is shared by every
 * connection of one listener and freed with it.
 *
 * Policy: TLS 1.2 or later, Mozilla's "intermediate" profile by default
 * (TLS 1.2 with ECDHE and AEAD ciphers only, TLS 1.3; `ciphers` and
 * `ciphersuites` replace the lists); certificate chain and key from `cert`/`key`
 * (PEM), checked against each other at startup; with `verify_client`, a
 * client must present a certificate that chains to `ca` or the handshake
 * fails. Without it no client certificate is asked for.
 */
#ifndef LW_COLLECTOR_TLS_H
#define LW_COLLECTOR_TLS_H

#include <stddef.h>

#include "core/config.h"
#include "core/err.h"

struct ssl_ctx_st; /* SSL_CTX */
struct ssl_st;     /* SSL */

/* Builds the context for lc (type tls). Errors: LW_EINVAL with diag
 * naming the file and OpenSSL's reason (unreadable or bad cert, key, CA;
 * key not matching the certificate), LW_ENOMEM. */
int lw_tls_ctx_new(const struct lw_listener_config *lc,
		   struct ssl_ctx_st **out, struct lw_diag *diag);

/* NULL is a no-op. */
void lw_tls_ctx_free(struct ssl_ctx_st *ctx);

/* A new server-side SSL for one accepted connection, or NULL. */
struct ssl_st *lw_tls_new_ssl(struct ssl_ctx_st *ctx);

/* The peer certificate's subject and issuer as RFC 2253 strings
 * ("CN=host1,O=Example"), NUL-terminated and cut to fit. Returns 1 when
 * the peer presented a certificate, else 0 (both set to ""). */
int lw_tls_peer_names(struct ssl_st *ssl, char *subject, size_t subject_len,
		      char *issuer, size_t issuer_len);

/* The oldest queued OpenSSL error of this thread as text (the queue is
 * then cleared), or "unknown TLS error". */
const char *lw_tls_error(char *buf, size_t len);

#endif
