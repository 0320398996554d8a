#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# mkca.sh DIR -- make a throw-away test PKI for the MobileID simulator (EC P-256).
#
#   ca.pem / ca.key                 test CA
#   server.pem / server.key         signed by the CA, SAN IP:127.0.0.1, IP:::1, DNS:localhost
#   wrongname.pem / wrongname.key   signed by the CA, SAN DNS:wrong.example only
#   untrusted.pem / untrusted.key   self-signed, SAN IP:127.0.0.1, DNS:localhost (not from the CA)
set -euo pipefail

if [ $# -ne 1 ]; then
	echo "usage: $0 DIR" >&2
	exit 2
fi
dir=$1
mkdir -p "$dir"
cd "$dir"
umask 077

ossl() { openssl "$@" 2>/dev/null || { echo "mkca.sh: openssl $1 failed" >&2; openssl "$@"; }; }
newkey() { ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"; }

# leaf NAME SAN: CA-signed leaf certificate with the given subjectAltName
leaf() {
	newkey "$1.key"
	ossl req -new -key "$1.key" -subj "/CN=$1 (mobileid test)" -out "$1.csr"
	cat >"$1.ext" <<EOF
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=$2
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
EOF
	ossl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial \
		-days 825 -sha256 -extfile "$1.ext" -out "$1.pem"
	rm -f "$1.csr" "$1.ext"
}

newkey ca.key
ossl req -x509 -new -key ca.key -sha256 -days 3650 -subj "/CN=mobileid test CA" \
	-addext "basicConstraints=critical,CA:TRUE" \
	-addext "keyUsage=critical,keyCertSign,cRLSign" \
	-addext "subjectKeyIdentifier=hash" -out ca.pem

leaf server "IP:127.0.0.1,IP:::1,DNS:localhost"
leaf wrongname "DNS:wrong.example"

newkey untrusted.key
ossl req -x509 -new -key untrusted.key -sha256 -days 825 -subj "/CN=untrusted (mobileid test)" \
	-addext "basicConstraints=critical,CA:FALSE" \
	-addext "extendedKeyUsage=serverAuth" \
	-addext "subjectAltName=IP:127.0.0.1,DNS:localhost" -out untrusted.pem

rm -f ca.srl
chmod 644 ./*.pem
echo "mkca.sh: test PKI written to $dir"
