/* bench/benchtls.c - OpenSSL behind lw_benchtls_ for the bench's sender
 * and sink.  Contexts are built in main and shared read-only; each
 * connection (SSL object) stays on one thread.  OpenSSL's error queue is
 * per thread, so errors are translated right where they happen. */
#include "bench/benchtls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "core/err.h"

struct lw_benchtls {
	SSL_CTX *ctx;
	int verify;
	char servername[256];
};

struct lw_benchtls_conn {
	SSL *ssl;
};

static int
ossl_fail(struct lw_diag *diag, int err, const char *what)
{
	unsigned long e = ERR_get_error();
	char reason[256] = "no further detail";

	if (e != 0)
		ERR_error_string_n(e, reason, sizeof(reason));
	ERR_clear_error();
	return lw_diag_set(diag, err, NULL, 0, 0, "%s: %s", what, reason);
}

static struct lw_benchtls *
ctx_new(const SSL_METHOD *method)
{
	struct lw_benchtls *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->ctx = SSL_CTX_new(method);
	if (t->ctx == NULL) {
		free(t);
		return NULL;
	}
	SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION);
	return t;
}

static int
use_cert_files(struct lw_benchtls *t, const struct lw_benchtls_opts *o,
	       struct lw_diag *diag)
{
	if (o->cert && SSL_CTX_use_certificate_chain_file(t->ctx, o->cert) != 1)
		return ossl_fail(diag, LW_EINVAL, "cannot load TLS certificate");
	if (o->key && SSL_CTX_use_PrivateKey_file(t->ctx, o->key, SSL_FILETYPE_PEM) != 1)
		return ossl_fail(diag, LW_EINVAL, "cannot load TLS key");
	if (o->cert && o->key && SSL_CTX_check_private_key(t->ctx) != 1)
		return ossl_fail(diag, LW_EINVAL, "TLS key does not match certificate");
	return LW_OK;
}

int
lw_benchtls_client_new(const struct lw_benchtls_opts *o, struct lw_benchtls **out,
		       struct lw_diag *diag)
{
	struct lw_benchtls *t;
	int rc;

	*out = NULL;
	t = ctx_new(TLS_client_method());
	if (t == NULL)
		return LW_ENOMEM;
	t->verify = !o->insecure;
	if (o->servername)
		snprintf(t->servername, sizeof(t->servername), "%s", o->servername);
	if (t->verify) {
		SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER, NULL);
		if (o->ca ? SSL_CTX_load_verify_locations(t->ctx, o->ca, NULL) != 1
			  : SSL_CTX_set_default_verify_paths(t->ctx) != 1) {
			rc = ossl_fail(diag, LW_EINVAL, "cannot load TLS CA");
			goto fail;
		}
	} else {
		SSL_CTX_set_verify(t->ctx, SSL_VERIFY_NONE, NULL);
	}
	rc = use_cert_files(t, o, diag);
	if (rc != LW_OK)
		goto fail;
	*out = t;
	return LW_OK;

fail:
	lw_benchtls_free(t);
	return rc;
}

/* A throwaway certificate so that `sink --tls` needs no files; the sender
 * then runs with --tls-insecure (or --tls-ca with a real one). */
static int
use_ephemeral_cert(struct lw_benchtls *t, struct lw_diag *diag)
{
	EVP_PKEY *pkey = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *name;
	int rc = LW_OK;

	if (pkey == NULL || x == NULL) {
		rc = ossl_fail(diag, LW_ENOMEM, "cannot generate TLS key");
		goto out;
	}
	name = X509_get_subject_name(x);
	if (X509_set_version(x, 2) != 1
	    || ASN1_INTEGER_set(X509_get_serialNumber(x), 1) != 1
	    || X509_gmtime_adj(X509_getm_notBefore(x), -3600) == NULL
	    || X509_gmtime_adj(X509_getm_notAfter(x), 7 * 86400) == NULL
	    || X509_set_pubkey(x, pkey) != 1
	    || X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
					  (const unsigned char *)"localhost", -1, -1, 0) != 1
	    || X509_set_issuer_name(x, name) != 1
	    || X509_sign(x, pkey, EVP_sha256()) == 0
	    || SSL_CTX_use_certificate(t->ctx, x) != 1
	    || SSL_CTX_use_PrivateKey(t->ctx, pkey) != 1)
		rc = ossl_fail(diag, LW_EINVAL, "cannot build self-signed certificate");
out:
	X509_free(x);
	EVP_PKEY_free(pkey);
	return rc;
}

int
lw_benchtls_server_new(const struct lw_benchtls_opts *o, struct lw_benchtls **out,
		       struct lw_diag *diag)
{
	struct lw_benchtls *t;
	int rc;

	*out = NULL;
	t = ctx_new(TLS_server_method());
	if (t == NULL)
		return LW_ENOMEM;
	/* A sender that closes without close_notify has still delivered
	 * everything it wrote; count its data instead of failing the read. */
	SSL_CTX_set_options(t->ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	if (o->cert || o->key)
		rc = use_cert_files(t, o, diag);
	else
		rc = use_ephemeral_cert(t, diag);
	if (rc != LW_OK)
		goto fail;
	*out = t;
	return LW_OK;

fail:
	lw_benchtls_free(t);
	return rc;
}

void
lw_benchtls_free(struct lw_benchtls *t)
{
	if (t == NULL)
		return;
	SSL_CTX_free(t->ctx);
	free(t);
}

static int
conn_new(struct lw_benchtls *t, int fd, struct lw_benchtls_conn **out,
	 struct lw_diag *diag)
{
	struct lw_benchtls_conn *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return LW_ENOMEM;
	c->ssl = SSL_new(t->ctx);
	if (c->ssl == NULL || SSL_set_fd(c->ssl, fd) != 1) {
		SSL_free(c->ssl);
		free(c);
		return ossl_fail(diag, LW_ENOMEM, "cannot create TLS connection");
	}
	*out = c;
	return LW_OK;
}

int
lw_benchtls_connect(struct lw_benchtls *t, int fd, struct lw_benchtls_conn **out,
		    struct lw_diag *diag)
{
	struct lw_benchtls_conn *c = NULL;
	int rc;

	*out = NULL;
	rc = conn_new(t, fd, &c, diag);
	if (rc != LW_OK)
		return rc;
	if (t->servername[0]) {
		if (SSL_set_tlsext_host_name(c->ssl, t->servername) != 1
		    || (t->verify && SSL_set1_host(c->ssl, t->servername) != 1)) {
			rc = ossl_fail(diag, LW_EINVAL, "cannot set TLS server name");
			goto fail;
		}
	}
	if (SSL_connect(c->ssl) != 1) {
		rc = ossl_fail(diag, LW_EIO, "TLS handshake failed");
		goto fail;
	}
	*out = c;
	return LW_OK;

fail:
	SSL_free(c->ssl);
	free(c);
	return rc;
}

int
lw_benchtls_accept(struct lw_benchtls *t, int fd, struct lw_benchtls_conn **out,
		   struct lw_diag *diag)
{
	struct lw_benchtls_conn *c = NULL;
	int rc;

	*out = NULL;
	rc = conn_new(t, fd, &c, diag);
	if (rc != LW_OK)
		return rc;
	if (SSL_accept(c->ssl) != 1) {
		rc = ossl_fail(diag, LW_EIO, "TLS handshake failed");
		SSL_free(c->ssl);
		free(c);
		return rc;
	}
	*out = c;
	return LW_OK;
}

int
lw_benchtls_write(struct lw_benchtls_conn *c, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		size_t w = 0;

		if (SSL_write_ex(c->ssl, p, len, &w) != 1) {
			ERR_clear_error();
			return LW_EIO;
		}
		p += w;
		len -= w;
	}
	return LW_OK;
}

int
lw_benchtls_read(struct lw_benchtls_conn *c, void *buf, size_t len, size_t *got)
{
	int e;

	*got = 0;
	if (SSL_read_ex(c->ssl, buf, len, got) == 1)
		return LW_OK;
	e = SSL_get_error(c->ssl, 0);
	ERR_clear_error();
	return e == SSL_ERROR_ZERO_RETURN ? LW_ECLOSED : LW_EIO;
}

void
lw_benchtls_conn_free(struct lw_benchtls_conn *c)
{
	if (c == NULL)
		return;
	(void)SSL_shutdown(c->ssl);
	ERR_clear_error();
	SSL_free(c->ssl);
	free(c);
}
