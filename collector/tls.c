/* lw_tls: OpenSSL server context and peer names for the tls listener. */
#include "collector/tls.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>

const char *lw_tls_error(char *buf, size_t len)
{
	unsigned long e = ERR_get_error();

	if (e == 0)
		snprintf(buf, len, "unknown TLS error");
	else
		ERR_error_string_n(e, buf, len);
	ERR_clear_error();
	return buf;
}

/* The file must at least be readable: "No such file" beats OpenSSL's
 * "system lib" as a startup message. */
static int check_readable(const char *what, const char *path,
			  struct lw_diag *diag)
{
	FILE *f = fopen(path, "r");
	char ebuf[128];

	if (f != NULL) {
		fclose(f);
		return LW_OK;
	}
	return lw_diag_set(diag, LW_EINVAL, path, 0, 0, "cannot read TLS %s '%s': %s",
			   what, path, strerror_r(errno, ebuf, sizeof(ebuf)));
}

static int ossl_fail(struct lw_diag *diag, const char *what, const char *path)
{
	char ebuf[256];

	return lw_diag_set(diag, LW_EINVAL, path, 0, 0, "cannot load TLS %s '%s': %s",
			   what, path, lw_tls_error(ebuf, sizeof(ebuf)));
}

static void key_mismatch(const struct lw_listener_config *lc,
			 struct lw_diag *diag)
{
	ERR_clear_error();
	lw_diag_set(diag, LW_EINVAL, lc->key, 0, 0,
		    "TLS key '%s' does not match certificate '%s'", lc->key, lc->cert);
}

/* Ciphers, suites and groups of Mozilla's "intermediate" profile
 * (server-side TLS guidelines, version 5.7) without its DHE suites:
 * ECDHE key exchange and AEAD only. Static RSA key exchange, CBC and
 * SHA-1 MACs (OpenSSL 3's defaults still allowed AES128-SHA) are out. */
static const char default_ciphers[] =
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
static const char default_suites[] =
	"TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";
static const char default_groups[] = "X25519:P-256:P-384";

/* The listener's `ciphers` (TLS 1.2) and `ciphersuites` (TLS 1.3), or the
 * defaults above. A list OpenSSL cannot use at all is the operator's
 * typo: it stops the start instead of silently allowing less or more. */
static int set_policy(SSL_CTX *ctx, const struct lw_listener_config *lc,
		      struct lw_diag *diag)
{
	const char *ciphers = lc->ciphers[0] ? lc->ciphers : default_ciphers;
	const char *suites = lc->ciphersuites[0] ? lc->ciphersuites : default_suites;
	char ebuf[256];

	if (SSL_CTX_set_cipher_list(ctx, ciphers) != 1)
		return lw_diag_set(diag, LW_EINVAL, NULL, 0, 0,
				   "listener %s: TLS ciphers '%s' select no cipher: %s",
				   lc->address, ciphers, lw_tls_error(ebuf, sizeof(ebuf)));
	if (SSL_CTX_set_ciphersuites(ctx, suites) != 1)
		return lw_diag_set(diag, LW_EINVAL, NULL, 0, 0,
				   "listener %s: TLS ciphersuites '%s' are not valid: %s",
				   lc->address, suites, lw_tls_error(ebuf, sizeof(ebuf)));
	if (SSL_CTX_set1_groups_list(ctx, default_groups) != 1)
		return lw_diag_set(diag, LW_EINVAL, NULL, 0, 0, "cannot set TLS groups '%s': %s",
				   default_groups, lw_tls_error(ebuf, sizeof(ebuf)));
	return LW_OK;
}

int lw_tls_ctx_new(const struct lw_listener_config *lc, SSL_CTX **out,
		   struct lw_diag *diag)
{
	SSL_CTX *ctx;
	int rc;

	*out = NULL;
	ERR_clear_error();
	if ((rc = check_readable("certificate", lc->cert, diag)) != LW_OK ||
	    (rc = check_readable("key", lc->key, diag)) != LW_OK ||
	    (lc->ca[0] && (rc = check_readable("CA", lc->ca, diag)) != LW_OK))
		return rc;
	ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL)
		return lw_diag_set(diag, LW_ENOMEM, NULL, 0, 0, "TLS: out of memory");
	rc = LW_EINVAL;
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
		ossl_fail(diag, "minimum version for", lc->cert);
		goto fail;
	}
	if (set_policy(ctx, lc, diag) != LW_OK)
		goto fail;
	/* Syslog senders reconnect rarely; renegotiation is only an attack
	 * surface here. No server preference (Mozilla intermediate): every
	 * allowed suite is strong, and a client without AES instructions
	 * picks ChaCha20. */
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
	/* No TLS 1.3 session tickets: they are the only bytes we would send
	 * after the handshake, and a sender that never reads them and
	 * closes makes its kernel answer with RST, which throws away
	 * whatever of its messages our receive buffer still held. */
	SSL_CTX_set_num_tickets(ctx, 0);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	if (SSL_CTX_use_certificate_chain_file(ctx, lc->cert) != 1) {
		ossl_fail(diag, "certificate", lc->cert);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, lc->key, SSL_FILETYPE_PEM) != 1) {
		/* OpenSSL 3 already checks the pair while loading. */
		unsigned long e = ERR_peek_last_error();

		if (ERR_GET_LIB(e) == ERR_LIB_X509 &&
		    ERR_GET_REASON(e) == X509_R_KEY_VALUES_MISMATCH)
			key_mismatch(lc, diag);
		else
			ossl_fail(diag, "key", lc->key);
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		key_mismatch(lc, diag);
		goto fail;
	}
	if (lc->ca[0]) {
		STACK_OF(X509_NAME) *names;

		if (SSL_CTX_load_verify_locations(ctx, lc->ca, NULL) != 1) {
			ossl_fail(diag, "CA", lc->ca);
			goto fail;
		}
		/* Tell clients which CA we accept (the CertificateRequest
		 * list), so one with several certificates picks the right one. */
		names = SSL_load_client_CA_file(lc->ca);
		if (names != NULL)
			SSL_CTX_set_client_CA_list(ctx, names);
	}
	if (lc->verify_client)
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
				   NULL);
	else
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	ERR_clear_error();
	*out = ctx;
	return LW_OK;

fail:
	SSL_CTX_free(ctx);
	return rc;
}

void lw_tls_ctx_free(SSL_CTX *ctx)
{
	SSL_CTX_free(ctx);
}

SSL *lw_tls_new_ssl(SSL_CTX *ctx)
{
	return SSL_new(ctx);
}

static void name_text(X509_NAME *name, char *out, size_t len)
{
	BIO *bio = BIO_new(BIO_s_mem());
	int n;

	out[0] = '\0';
	if (bio == NULL)
		return;
	/* RFC 2253 with UTF-8 kept as is (not \XX-escaped). */
	if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
		n = BIO_read(bio, out, (int)(len - 1));
		out[n > 0 ? n : 0] = '\0';
	}
	BIO_free(bio);
}

int lw_tls_peer_names(SSL *ssl, char *subject, size_t subject_len,
		      char *issuer, size_t issuer_len)
{
	X509 *cert = SSL_get1_peer_certificate(ssl);

	subject[0] = issuer[0] = '\0';
	if (cert == NULL)
		return 0;
	name_text(X509_get_subject_name(cert), subject, subject_len);
	name_text(X509_get_issuer_name(cert), issuer, issuer_len);
	X509_free(cert);
	return 1;
}
