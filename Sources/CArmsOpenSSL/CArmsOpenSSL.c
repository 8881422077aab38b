/*
 * CArmsOpenSSL: see include/CArmsOpenSSL.h.
 *
 * Certificate rules reproduced here (libarms 5.33 behaviour, described in
 * protocol/pull.md section 2.3):
 *   - one trust anchor, no system store, SSL_VERIFY_PEER, depth 10;
 *   - "certificate is not yet valid" and "certificate has expired" are
 *     overridden; any other verification error ends the handshake;
 *   - on Location Server connections, every certificate that passes must
 *     have a one-line subject containing "CN=ARMS Root CA" or
 *     "CN=Location Server " (with the space).
 */
#include "CArmsOpenSSL.h"

#include <openssl/core_names.h>
#include <openssl/params.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <time.h>

/* ------------------------------------------------------------------ */
/* verification                                                        */

static const char ls_root_marker[] = "CN=ARMS Root CA";
static const char ls_leaf_marker[] = "CN=Location Server ";

static void
remember_refusal(carms_verify_state *state, int kind, int x509_error,
                 int depth, X509 *cert)
{
    if (state == NULL || state->failure != CARMS_VERIFY_PASSED)
        return;     /* keep the first reason only */
    state->failure = kind;
    state->x509_error = x509_error;
    state->depth = depth;
    state->subject[0] = '\0';
    if (cert != NULL)
        X509_NAME_oneline(X509_get_subject_name(cert), state->subject,
                          (int)sizeof(state->subject));
}

static int
subject_passes_ls_rule(X509 *cert)
{
    char line[CARMS_SUBJECT_MAX];

    if (cert == NULL)
        return 0;
    line[0] = '\0';
    X509_NAME_oneline(X509_get_subject_name(cert), line, (int)sizeof(line));
    return strstr(line, ls_root_marker) != NULL ||
           strstr(line, ls_leaf_marker) != NULL;
}

static int
carms_verify_callback(int preverify_ok, X509_STORE_CTX *store)
{
    SSL *ssl;
    carms_verify_state *state = NULL;
    X509 *cert = X509_STORE_CTX_get_current_cert(store);
    int depth = X509_STORE_CTX_get_error_depth(store);

    ssl = X509_STORE_CTX_get_ex_data(store,
                                     SSL_get_ex_data_X509_STORE_CTX_idx());
    if (ssl != NULL)
        state = SSL_get_app_data(ssl);
    if (state == NULL) {
        /* Without its policy the connection cannot be judged: refuse. */
        return 0;
    }

    if (!preverify_ok) {
        int error = X509_STORE_CTX_get_error(store);

        if (error == X509_V_ERR_CERT_NOT_YET_VALID ||
            error == X509_V_ERR_CERT_HAS_EXPIRED) {
            /* Validity period is not checked: carry on as if it passed. */
            X509_STORE_CTX_set_error(store, X509_V_OK);
            state->ignored_validity++;
        } else {
            remember_refusal(state, CARMS_VERIFY_X509_ERROR, error, depth,
                             cert);
            return 0;
        }
    }

    if (state->location_server_rule && !subject_passes_ls_rule(cert)) {
        remember_refusal(state, CARMS_VERIFY_NAME_RULE,
                         X509_V_ERR_APPLICATION_VERIFICATION, depth, cert);
        X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION);
        return 0;
    }
    return 1;
}

int
carms_ssl_attach_verify_state(SSL *ssl, carms_verify_state *state)
{
    return SSL_set_app_data(ssl, state);
}

/* ------------------------------------------------------------------ */
/* context                                                             */

/*
 * A context for one side: TLS 1.2 to 1.3, partial writes, no session cache,
 * peer certificates checked by carms_verify_callback (a server asks for a
 * client certificate but does not require one).
 */
static SSL_CTX *
carms_ctx_new(const SSL_METHOD *method, uint64_t options)
{
    SSL_CTX *ctx = SSL_CTX_new(method);

    if (ctx == NULL)
        return NULL;
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
        SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
                          SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                          SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_options(ctx, options);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, carms_verify_callback);
    SSL_CTX_set_verify_depth(ctx, CARMS_VERIFY_DEPTH);
    return ctx;
}

SSL_CTX *
carms_client_ctx_new(void)
{
    return carms_ctx_new(TLS_client_method(), SSL_OP_IGNORE_UNEXPECTED_EOF);
}

SSL_CTX *
carms_server_ctx_new(void)
{
    return carms_ctx_new(TLS_server_method(), SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_TICKET);
}

static X509 *
parse_certificate(const char *pem, int pem_len)
{
    BIO *bio;
    X509 *cert;

    if (pem == NULL || pem_len <= 0)
        return NULL;
    bio = BIO_new_mem_buf(pem, pem_len);
    if (bio == NULL)
        return NULL;
    cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    BIO_free(bio);
    return cert;
}

static EVP_PKEY *
parse_private_key(const char *pem, int pem_len)
{
    BIO *bio;
    EVP_PKEY *key;

    if (pem == NULL || pem_len <= 0)
        return NULL;
    bio = BIO_new_mem_buf(pem, pem_len);
    if (bio == NULL)
        return NULL;
    key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    BIO_free(bio);
    return key;
}

int
carms_ctx_trust_ca_pem(SSL_CTX *ctx, const char *pem, int pem_len)
{
    X509 *cert = parse_certificate(pem, pem_len);
    int ok;

    if (cert == NULL)
        return 0;
    ok = X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), cert) == 1;
    X509_free(cert);     /* the store holds its own reference */
    return ok;
}

static int
load_identity(SSL_CTX *ctx, const char *cert_pem, int cert_len,
              const char *key_pem, int key_len)
{
    X509 *cert;
    EVP_PKEY *key;
    int result = CARMS_IDENTITY_OK;

    cert = parse_certificate(cert_pem, cert_len);
    if (cert == NULL)
        return CARMS_IDENTITY_BAD_CERT;
    key = parse_private_key(key_pem, key_len);
    if (key == NULL) {
        X509_free(cert);
        return CARMS_IDENTITY_BAD_KEY;
    }
    if (X509_check_private_key(cert, key) != 1) {
        result = CARMS_IDENTITY_KEY_MISMATCH;
    } else if (ctx != NULL) {
        if (SSL_CTX_use_certificate(ctx, cert) != 1 ||
            SSL_CTX_use_PrivateKey(ctx, key) != 1 ||
            SSL_CTX_check_private_key(ctx) != 1)
            result = CARMS_IDENTITY_REFUSED;
    }
    EVP_PKEY_free(key);
    X509_free(cert);
    return result;
}

int
carms_ctx_use_identity_pem(SSL_CTX *ctx, const char *cert_pem, int cert_len,
                           const char *key_pem, int key_len)
{
    if (ctx == NULL)
        return CARMS_IDENTITY_REFUSED;
    return load_identity(ctx, cert_pem, cert_len, key_pem, key_len);
}

int
carms_check_certificate_pem(const char *pem, int pem_len)
{
    X509 *cert = parse_certificate(pem, pem_len);

    if (cert == NULL)
        return 0;
    X509_free(cert);
    return 1;
}

int
carms_check_identity_pem(const char *cert_pem, int cert_len,
                         const char *key_pem, int key_len)
{
    return load_identity(NULL, cert_pem, cert_len, key_pem, key_len);
}

/* ------------------------------------------------------------------ */
/* connection facts                                                    */

int
carms_ssl_peer_subject(SSL *ssl, char *buf, int buf_len)
{
    X509 *peer;

    if (buf == NULL || buf_len <= 0)
        return 0;
    buf[0] = '\0';
    peer = SSL_get1_peer_certificate(ssl);
    if (peer == NULL)
        return 0;
    X509_NAME_oneline(X509_get_subject_name(peer), buf, buf_len);
    X509_free(peer);
    return 1;
}

const char *
carms_ssl_cipher_name(const SSL *ssl)
{
    const SSL_CIPHER *cipher = SSL_get_current_cipher(ssl);

    return cipher != NULL ? SSL_CIPHER_get_name(cipher) : "";
}

/* ------------------------------------------------------------------ */
/* errors                                                              */

static void
append_text(char *buf, size_t buf_len, size_t *used, const char *text)
{
    size_t n = strlen(text);

    if (buf == NULL || *used + 1 >= buf_len)
        return;
    if (n > buf_len - 1 - *used)
        n = buf_len - 1 - *used;
    memcpy(buf + *used, text, n);
    *used += n;
    buf[*used] = '\0';
}

int
carms_drain_errors(char *buf, size_t buf_len)
{
    unsigned long code;
    const char *data = NULL;
    int flags = 0;
    int count = 0;
    size_t used = 0;

    if (buf != NULL && buf_len > 0)
        buf[0] = '\0';
    else
        buf = NULL;
    while ((code = ERR_get_error_all(NULL, NULL, NULL, &data, &flags)) != 0) {
        char one[256];

        ERR_error_string_n(code, one, sizeof(one));
        if (count > 0)
            append_text(buf, buf_len, &used, "; ");
        append_text(buf, buf_len, &used, one);
        if (data != NULL && (flags & ERR_TXT_STRING) && *data != '\0') {
            append_text(buf, buf_len, &used, " (");
            append_text(buf, buf_len, &used, data);
            append_text(buf, buf_len, &used, ")");
        }
        count++;
    }
    return count;
}

void
carms_clear_errors(void)
{
    ERR_clear_error();
}

/* ------------------------------------------------------------------ */
/* I/O without SIGPIPE                                                 */

typedef struct sigpipe_guard {
    sigset_t saved_mask;
    int blocked;
    int already_pending;
} sigpipe_guard;

static void
sigpipe_only(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGPIPE);
}

static void
sigpipe_guard_enter(sigpipe_guard *guard)
{
    sigset_t pipe_set, pending;

    sigpipe_only(&pipe_set);
    guard->blocked = pthread_sigmask(SIG_BLOCK, &pipe_set, &guard->saved_mask) == 0;
    guard->already_pending = 0;
    if (guard->blocked && sigpending(&pending) == 0)
        guard->already_pending = sigismember(&pending, SIGPIPE) == 1;
}

static void
sigpipe_guard_leave(sigpipe_guard *guard)
{
    sigset_t pipe_set, pending;
    int saved_errno = errno;

    if (!guard->blocked)
        return;
    /* A SIGPIPE that our call raised is pending now: take it off. */
    if (!guard->already_pending && sigpending(&pending) == 0 &&
        sigismember(&pending, SIGPIPE) == 1) {
        struct timespec no_wait = { 0, 0 };

        sigpipe_only(&pipe_set);
        while (sigtimedwait(&pipe_set, NULL, &no_wait) < 0 && errno == EINTR)
            continue;
    }
    pthread_sigmask(SIG_SETMASK, &guard->saved_mask, NULL);
    errno = saved_errno;
}

static int
finish_io(SSL *ssl, int result, int *ssl_error, int *sys_errno)
{
    int saved_errno = errno;

    if (ssl_error != NULL)
        *ssl_error = result > 0 ? SSL_ERROR_NONE : SSL_get_error(ssl, result);
    if (sys_errno != NULL)
        *sys_errno = saved_errno;
    return result;
}

int
carms_ssl_connect(SSL *ssl, int *ssl_error, int *sys_errno)
{
    sigpipe_guard guard;
    int result;

    ERR_clear_error();
    errno = 0;
    sigpipe_guard_enter(&guard);
    result = SSL_connect(ssl);
    sigpipe_guard_leave(&guard);
    return finish_io(ssl, result, ssl_error, sys_errno);
}

int
carms_ssl_accept(SSL *ssl, int *ssl_error, int *sys_errno)
{
    sigpipe_guard guard;
    int result;

    ERR_clear_error();
    errno = 0;
    sigpipe_guard_enter(&guard);
    result = SSL_accept(ssl);
    sigpipe_guard_leave(&guard);
    return finish_io(ssl, result, ssl_error, sys_errno);
}

int
carms_ssl_read(SSL *ssl, void *buf, int len, int *ssl_error, int *sys_errno)
{
    sigpipe_guard guard;
    int result;

    ERR_clear_error();
    errno = 0;
    sigpipe_guard_enter(&guard);
    result = SSL_read(ssl, buf, len);
    sigpipe_guard_leave(&guard);
    return finish_io(ssl, result, ssl_error, sys_errno);
}

int
carms_ssl_write(SSL *ssl, const void *buf, int len, int *ssl_error, int *sys_errno)
{
    sigpipe_guard guard;
    int result;

    ERR_clear_error();
    errno = 0;
    sigpipe_guard_enter(&guard);
    result = SSL_write(ssl, buf, len);
    sigpipe_guard_leave(&guard);
    return finish_io(ssl, result, ssl_error, sys_errno);
}

int
carms_ssl_shutdown(SSL *ssl)
{
    sigpipe_guard guard;
    int result;

    ERR_clear_error();
    sigpipe_guard_enter(&guard);
    result = SSL_shutdown(ssl);
    sigpipe_guard_leave(&guard);
    ERR_clear_error();
    return result;
}

/* ------------------------------------------------------------------ */
/* digests                                                             */

EVP_MAC_CTX *
carms_hmac_sha1_new(const unsigned char *key, size_t key_len)
{
    /* EVP_MAC_init takes a NULL key as "keep the current one"; an empty key
     * must still be set, so it gets a valid pointer. */
    static const unsigned char no_key = 0;
    char digest_name[] = "SHA1";
    OSSL_PARAM params[2];
    EVP_MAC *mac;
    EVP_MAC_CTX *ctx;

    mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (mac == NULL)
        return NULL;
    ctx = EVP_MAC_CTX_new(mac);
    EVP_MAC_free(mac);              /* the context keeps its own reference */
    if (ctx == NULL)
        return NULL;
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0);
    params[1] = OSSL_PARAM_construct_end();
    if (!EVP_MAC_init(ctx, key != NULL ? key : &no_key, key_len, params)) {
        EVP_MAC_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

void
carms_hmac_sha1_free(EVP_MAC_CTX *prepared)
{
    EVP_MAC_CTX_free(prepared);
}

int
carms_hmac_sha1(const EVP_MAC_CTX *prepared, const unsigned char *const *parts,
                const size_t *lengths, size_t count, unsigned char *out)
{
    unsigned char code[EVP_MAX_MD_SIZE];
    size_t code_len = 0;
    size_t i;
    int ok;
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_dup(prepared);

    if (ctx == NULL)
        return 0;
    ok = 1;
    for (i = 0; ok && i < count; i++)
        if (lengths[i] > 0)
            ok = EVP_MAC_update(ctx, parts[i], lengths[i]);
    ok = ok && EVP_MAC_final(ctx, code, &code_len, sizeof code)
            && code_len == CARMS_SHA1_LENGTH;
    EVP_MAC_CTX_free(ctx);
    if (ok)
        memcpy(out, code, CARMS_SHA1_LENGTH);
    return ok;
}

int
carms_md5(const unsigned char *data, size_t len, unsigned char *out)
{
    static const unsigned char nothing = 0;
    unsigned int out_len = 0;

    if (!EVP_Digest(data != NULL ? data : &nothing, len, out, &out_len, EVP_md5(), NULL))
        return 0;
    return out_len == CARMS_MD5_LENGTH;
}
