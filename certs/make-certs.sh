#!/usr/bin/env bash
# Makes the WarpLinkMock test PKI, following the libarms 5.33 certificate rules
# (docs: protocol/pull.md §2.3, §4.3, §9.2; push.md §2.6, §7.2; tunnel.md §3.1).
# See certs/README.md for what each file is for.
#
# Usage: certs/make-certs.sh [--new-keys]
#
# Writes into the directory this script lives in, whatever the current
# directory is. Needs only the openssl CLI (OpenSSL 3.0 or later).
#
# Idempotent: existing keys are kept, and every certificate is re-issued with
# fixed serials, fixed validity dates and deterministic RSA PKCS#1 v1.5
# signatures, so a second run reproduces byte-identical files. A missing key is
# generated (and everything is re-issued). --new-keys throws all keys away and
# makes a completely new PKI.
#
# All keys are unencrypted RSA 2048 (PKCS#8 PEM): libarms 5.33 speaks TLS 1.0
# with RSA suites (e.g. ECDHE-RSA-AES256-SHA). Test values only.
set -euo pipefail
umask 022

OUT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OPENSSL="${OPENSSL:-openssl}"

NEW_KEYS=no
case "${1:-}" in
    "") ;;
    --new-keys) NEW_KEYS=yes ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "usage: $0 [--new-keys]" >&2; exit 2 ;;
esac

# Validity windows (GeneralizedTime, UTC). libarms ignores validity dates, but
# other TLS stacks do not, so the good certificates are valid until 2125.
GOOD_START=20200101000000Z
GOOD_END=21251231235959Z
EXPIRED_START=20000101000000Z
EXPIRED_END=20010101000000Z
FUTURE_START=21200101000000Z
FUTURE_END=21251231235959Z

SCRATCH="$(mktemp -d "$OUT/.scratch.XXXXXX")"
cleanup() { rm -rf "$SCRATCH"; }
trap cleanup EXIT
trap "exit 130" INT TERM

cat >"$SCRATCH/openssl.cnf" <<'CNF'
# Minimal "openssl ca" configuration; the CA directory comes from $ENV::CADIR.
[ ca ]
default_ca = test_ca

[ test_ca ]
dir             = $ENV::CADIR
database        = $dir/index.txt
serial          = $dir/serial
new_certs_dir   = $dir/new
default_md      = sha256
policy          = policy_cn
unique_subject  = no
email_in_dn     = no
copy_extensions = none
preserve        = yes

[ policy_cn ]
commonName = supplied

[ req ]
distinguished_name = req_dn
prompt             = no

[ req_dn ]
CN = unused

# Root CA: short on purpose (its PEM goes into a < 2048-byte Location-Config).
[ ext_root ]
basicConstraints     = critical, CA:TRUE
keyUsage             = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

# LS / RS server certificates. keyEncipherment for the TLS_RSA_* suites.
[ ext_ls ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature, keyEncipherment
extendedKeyUsage       = serverAuth
subjectAltName         = IP:127.0.0.1, IP:::1
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid

# RS: also the tunnel and push-method-query server; clientAuth because the RS
# may present it to the SA's https-simple listener (push.md §7.2).
[ ext_rs ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature, keyEncipherment
extendedKeyUsage       = serverAuth, clientAuth
subjectAltName         = IP:127.0.0.1, IP:::1
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid

# SA: server cert of the https-simple listener and TLS client cert of the SA.
[ ext_sa ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature, keyEncipherment
extendedKeyUsage       = serverAuth, clientAuth
subjectAltName         = IP:127.0.0.1, IP:::1
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid
CNF
export OPENSSL_CONF="$SCRATCH/openssl.cnf"
export CADIR="$SCRATCH"   # "openssl req" reads the same file; each "ca" call overrides it

# key NAME: make NAME.key (RSA 2048, unencrypted) unless it exists already.
key() {
    local f="$OUT/$1.key"
    if [[ "$NEW_KEYS" == yes || ! -s "$f" ]]; then
        "$OPENSSL" genpkey -quiet -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$f.tmp"
        mv "$f.tmp" "$f"
    fi
    chmod 644 "$f"   # test values, committed on purpose
}

# cadir NAME: fresh "openssl ca" database for the CA NAME.
cadir() {
    local d="$SCRATCH/ca-$1"
    rm -rf "$d"
    mkdir -p "$d/new"
    : >"$d/index.txt"
    echo "$d"
}

# issue CA NAME SERIAL SUBJECT EXT START END
# Issues NAME.pem for NAME.key, signed by CA (root-ca or other-ca), or
# self-signed when CA is "self" (which also starts the database of CA NAME).
issue() {
    local ca="$1" name="$2" serial="$3" subj="$4" ext="$5" start="$6" end="$7"
    local dir
    if [[ "$ca" == self ]]; then dir="$(cadir "$name")"; else dir="$SCRATCH/ca-$ca"; fi
    echo "$serial" >"$dir/serial"
    "$OPENSSL" req -new -key "$OUT/$name.key" -subj "$subj" -sha256 -out "$SCRATCH/$name.csr"
    local signer=(-cert "$OUT/$ca.pem" -keyfile "$OUT/$ca.key")
    [[ "$ca" == self ]] && signer=(-selfsign -keyfile "$OUT/$name.key")
    CADIR="$dir" "$OPENSSL" ca -batch -notext -md sha256 \
        "${signer[@]}" \
        -subj "$subj" -preserveDN \
        -startdate "$start" -enddate "$end" \
        -extensions "$ext" \
        -in "$SCRATCH/$name.csr" -out "$SCRATCH/$name.pem" 2>"$SCRATCH/ca.log" \
        || { cat "$SCRATCH/ca.log" >&2; exit 1; }
    mv "$SCRATCH/$name.pem" "$OUT/$name.pem"
    chmod 644 "$OUT/$name.pem"
}

LS_CN="/CN=Location Server 127.0.0.1"
RS_CN="/CN=Remote Server 127.0.0.1"
SA_CN="/CN=SA 0001-0000-0000-0000-0000-0000-0000-0001"

for k in root-ca ls rs sa other-ca ls-wrong-ca ls-wrong-cn ls-expired ls-not-yet-valid rs-wrong-ca; do
    key "$k"
done

# --- the real PKI -----------------------------------------------------------
# Root CA: the single trust anchor (armsd path-root-ca) and the rs-certificate
# of Location-Config #0.
issue self root-ca 01 "/CN=ARMS Root CA" ext_root "$GOOD_START" "$GOOD_END"

issue root-ca ls               1001 "$LS_CN"                  ext_ls "$GOOD_START"    "$GOOD_END"
issue root-ca rs               1002 "$RS_CN"                  ext_rs "$GOOD_START"    "$GOOD_END"
issue root-ca sa               1003 "$SA_CN"                  ext_sa "$GOOD_START"    "$GOOD_END"
# Faults from the right root:
#  wrong CN: exactly "Location Server" without the trailing space, so the
#  one-line subject "/CN=Location Server" does not contain "CN=Location Server ".
issue root-ca ls-wrong-cn      1004 "/CN=Location Server"     ext_ls "$GOOD_START"    "$GOOD_END"
#  expired and not yet valid: libarms ignores validity, so these are ACCEPTED.
issue root-ca ls-expired       1005 "$LS_CN"                  ext_ls "$EXPIRED_START" "$EXPIRED_END"
issue root-ca ls-not-yet-valid 1006 "$LS_CN"                  ext_ls "$FUTURE_START"  "$FUTURE_END"

# --- the wrong CA: same name "ARMS Root CA", different key --------------------
issue self other-ca 01 "/CN=ARMS Root CA" ext_root "$GOOD_START" "$GOOD_END"
issue other-ca ls-wrong-ca     2001 "$LS_CN"                  ext_ls "$GOOD_START"    "$GOOD_END"
issue other-ca rs-wrong-ca     2002 "$RS_CN"                  ext_rs "$GOOD_START"    "$GOOD_END"

# --- self-check ----------------------------------------------------------------
for c in ls rs sa ls-wrong-cn ls-expired ls-not-yet-valid; do
    "$OPENSSL" verify -no_check_time -CAfile "$OUT/root-ca.pem" "$OUT/$c.pem" >/dev/null
done
for c in ls-wrong-ca rs-wrong-ca; do
    if "$OPENSSL" verify -no_check_time -CAfile "$OUT/root-ca.pem" "$OUT/$c.pem" >/dev/null 2>&1; then
        echo "$c.pem unexpectedly verifies against root-ca.pem" >&2; exit 1
    fi
    "$OPENSSL" verify -no_check_time -CAfile "$OUT/other-ca.pem" "$OUT/$c.pem" >/dev/null
done
for c in root-ca ls rs sa other-ca ls-wrong-ca ls-wrong-cn ls-expired ls-not-yet-valid rs-wrong-ca; do
    a="$("$OPENSSL" x509 -in "$OUT/$c.pem" -noout -pubkey)"
    b="$("$OPENSSL" pkey -in "$OUT/$c.key" -pubout)"
    [[ "$a" == "$b" ]] || { echo "$c.key does not match $c.pem" >&2; exit 1; }
done

echo "certificates written to $OUT"
