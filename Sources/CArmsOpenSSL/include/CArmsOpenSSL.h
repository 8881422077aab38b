/*
 * CArmsOpenSSL: the small C layer between the Swift agent and the system
 * OpenSSL (3.0).  It exposes OpenSSL's own API to Swift (the headers below)
 * and adds functions for what Swift cannot import or express:
 *
 *   - function-like macros (protocol bounds, modes, app data, peer certificate),
 *   - the certificate verification callback with the libarms 5.33 rules,
 *   - PEM parsing into the context (exactly one trust anchor, client identity),
 *   - draining OpenSSL's error queue into one line of text,
 *   - SSL_connect/read/write/shutdown that cannot raise SIGPIPE,
 *   - the two digests of the protocol (HMAC-SHA1 through EVP_MAC, MD5 through
 *     EVP_Digest) in the shape ARMSProtocol's ARMSDigests asks for.
 */
#ifndef CARMS_OPENSSL_H
#define CARMS_OPENSSL_H

#include <stddef.h>
#include <openssl/ssl.h>
#include <openssl/evp.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Maximum chain depth, as libarms (SSL_VERIFY_DEPTH). */
#define CARMS_VERIFY_DEPTH 10

/* carms_verify_state.failure */
#define CARMS_VERIFY_PASSED     0  /* nothing refused (yet)                 */
#define CARMS_VERIFY_X509_ERROR 1  /* OpenSSL reported a fatal X509 error   */
#define CARMS_VERIFY_NAME_RULE  2  /* LS name rule refused a chain member   */

/* Size of the one-line subject buffer, as libarms (char subject[256]). */
#define CARMS_SUBJECT_MAX 256

/*
 * Per-connection verification state.  The Swift side owns the memory and
 * keeps it alive for as long as the SSL object exists; the callback reads
 * `location_server_rule` and records the first refusal.
 */
typedef struct carms_verify_state {
    int location_server_rule;   /* in: 1 = LS name rule applies            */
    int failure;                /* out: CARMS_VERIFY_*                     */
    int x509_error;             /* out: X509_V_ERR_* of the refusal        */
    int depth;                  /* out: chain depth of the refusal         */
    int ignored_validity;       /* out: validity-period errors overridden  */
    char subject[CARMS_SUBJECT_MAX]; /* out: one-line subject of refused cert */
} carms_verify_state;

/*
 * A client context: TLS 1.2 and 1.3 only, SSL_VERIFY_PEER with the libarms
 * callback, depth 10, an empty trust store (no system CAs), partial writes,
 * moving write buffers, released idle buffers, unexpected EOF read as EOF.
 * NULL on failure.
 */
SSL_CTX *carms_client_ctx_new(void);

/*
 * A server context for the https-simple listener (push.md section 7.2):
 * TLS 1.2-1.3 like the client, the peer is asked for a certificate; one it
 * presents must verify against the trusted CA (validity dates ignored, depth
 * 10), none at all is accepted.  Add the trust anchor with
 * carms_ctx_trust_ca_pem and the SA identity with carms_ctx_use_identity_pem.
 */
SSL_CTX *carms_server_ctx_new(void);

/*
 * Put the first certificate of a PEM text into the context's (empty) trust
 * store.  Returns 1 on success, 0 when no certificate could be parsed or the
 * store refused it.
 */
int carms_ctx_trust_ca_pem(SSL_CTX *ctx, const char *pem, int pem_len);

/* carms_ctx_use_identity_pem / carms_check_identity_pem results */
#define CARMS_IDENTITY_OK            0
#define CARMS_IDENTITY_BAD_CERT      1
#define CARMS_IDENTITY_BAD_KEY       2
#define CARMS_IDENTITY_KEY_MISMATCH  3
#define CARMS_IDENTITY_REFUSED       4

/*
 * Load a client certificate and its private key (PEM) into the context.  The
 * certificate is sent only when a server asks for one.  Returns
 * CARMS_IDENTITY_*.
 */
int carms_ctx_use_identity_pem(SSL_CTX *ctx,
                               const char *cert_pem, int cert_len,
                               const char *key_pem, int key_len);

/* Parse checks without a connection: 1 = a certificate parses. */
int carms_check_certificate_pem(const char *pem, int pem_len);
/* CARMS_IDENTITY_* for a certificate/key pair. */
int carms_check_identity_pem(const char *cert_pem, int cert_len,
                             const char *key_pem, int key_len);

/* Attach the verification state to an SSL object (before SSL_connect). */
int carms_ssl_attach_verify_state(SSL *ssl, carms_verify_state *state);

/*
 * One-line subject (X509_NAME_oneline form, "/CN=...") of the server
 * certificate, into buf.  Returns 1 when there is a peer certificate.
 */
int carms_ssl_peer_subject(SSL *ssl, char *buf, int buf_len);

/* Name of the negotiated cipher suite ("" before the handshake). */
const char *carms_ssl_cipher_name(const SSL *ssl);

/*
 * Move OpenSSL's thread error queue into buf as one line, entries separated
 * by "; " (each in ERR_error_string_n form, plus its data text if any).
 * Returns the number of entries; buf is always NUL-terminated.
 */
int carms_drain_errors(char *buf, size_t buf_len);

/* Discard OpenSSL's thread error queue. */
void carms_clear_errors(void);

/*
 * SSL_connect / SSL_read / SSL_write / SSL_shutdown without SIGPIPE.
 *
 * OpenSSL writes to the socket with write(2), which raises SIGPIPE when the
 * peer has gone.  These wrappers block SIGPIPE in the calling thread around
 * the call and consume a SIGPIPE the call itself raised, leaving the process'
 * signal dispositions alone (so programs the agent starts inherit nothing).
 * Each clears the error queue first and returns what the OpenSSL function
 * returned; when that is <= 0, *ssl_error receives SSL_get_error() and
 * *sys_errno the errno the call left.
 */
int carms_ssl_connect(SSL *ssl, int *ssl_error, int *sys_errno);
int carms_ssl_accept(SSL *ssl, int *ssl_error, int *sys_errno);
int carms_ssl_read(SSL *ssl, void *buf, int len, int *ssl_error, int *sys_errno);
int carms_ssl_write(SSL *ssl, const void *buf, int len, int *ssl_error, int *sys_errno);
int carms_ssl_shutdown(SSL *ssl);

/* Digest lengths of HMAC-SHA1 and MD5. */
#define CARMS_SHA1_LENGTH 20
#define CARMS_MD5_LENGTH  16

/*
 * An HMAC-SHA1 context holding `key` (key_len bytes, 0 allowed), ready for
 * carms_hmac_sha1; never updated itself, so several threads may use it at
 * once.  NULL on failure.  Free with carms_hmac_sha1_free.
 */
EVP_MAC_CTX *carms_hmac_sha1_new(const unsigned char *key, size_t key_len);
void carms_hmac_sha1_free(EVP_MAC_CTX *prepared);

/*
 * HMAC-SHA1 under the prepared key over the concatenation of `count` parts
 * (parts[i], lengths[i] bytes); writes CARMS_SHA1_LENGTH bytes to `out`.
 * Works on a copy of `prepared`.  Returns 1, or 0 on failure (out untouched).
 */
int carms_hmac_sha1(const EVP_MAC_CTX *prepared, const unsigned char *const *parts,
                    const size_t *lengths, size_t count, unsigned char *out);

/* MD5 of data (len bytes) into out (CARMS_MD5_LENGTH bytes).  Returns 1, or 0 on failure. */
int carms_md5(const unsigned char *data, size_t len, unsigned char *out);

#ifdef __cplusplus
}
#endif

#endif /* CARMS_OPENSSL_H */
