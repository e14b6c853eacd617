/* bench/benchtls.h - TLS for logward-bench's sender and sink (prefix
 * lw_benchtls).  The only bench file that sees OpenSSL.
 *
 * A context (struct lw_benchtls) is built once in main and shared
 * read-only by all threads (SSL_CTX is thread-safe once configured); each
 * connection has its own struct lw_benchtls_conn, used by one thread. */
#ifndef LW_BENCH_BENCHTLS_H
#define LW_BENCH_BENCHTLS_H

#include <stddef.h>

struct lw_diag;
struct lw_benchtls;
struct lw_benchtls_conn;

struct lw_benchtls_opts {
	const char *ca;          /* client: CA file to verify the server */
	const char *cert, *key;  /* client cert, or the sink's certificate */
	const char *servername;  /* client: SNI and name to verify */
	int insecure;            /* client: no verification at all */
};

/* Client context.  Without <ca> and without <insecure>, the system's
 * default CA paths are used.  Returns LW_OK or LW_EINVAL (bad files, with
 * OpenSSL's reason in diag) / LW_ENOMEM. */
int lw_benchtls_client_new(const struct lw_benchtls_opts *o,
			   struct lw_benchtls **out, struct lw_diag *diag);

/* Server (sink) context.  Without cert/key, a throwaway self-signed P-256
 * certificate for CN=localhost is generated in memory. */
int lw_benchtls_server_new(const struct lw_benchtls_opts *o,
			   struct lw_benchtls **out, struct lw_diag *diag);

void lw_benchtls_free(struct lw_benchtls *t);

/* Handshakes on the connected/accepted blocking socket <fd> (borrowed:
 * the caller still closes it after lw_benchtls_conn_free()).  Returns
 * LW_OK or LW_EIO with the reason in diag. */
int lw_benchtls_connect(struct lw_benchtls *t, int fd,
			struct lw_benchtls_conn **out, struct lw_diag *diag);
int lw_benchtls_accept(struct lw_benchtls *t, int fd,
		       struct lw_benchtls_conn **out, struct lw_diag *diag);

/* Writes all <len> bytes.  Returns LW_OK or LW_EIO. */
int lw_benchtls_write(struct lw_benchtls_conn *c, const void *buf, size_t len);

/* Reads up to <len> bytes into <buf>; *got is set on LW_OK.  Returns
 * LW_OK, LW_ECLOSED (peer closed) or LW_EIO. */
int lw_benchtls_read(struct lw_benchtls_conn *c, void *buf, size_t len,
		     size_t *got);

/* Sends close_notify (best effort) and frees.  NULL is a no-op. */
void lw_benchtls_conn_free(struct lw_benchtls_conn *c);

#endif
