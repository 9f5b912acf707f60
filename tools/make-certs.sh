#!/bin/sh
# Development and test certificates into DIR (never committed): a local CA and a
# server certificate for localhost and 127.0.0.1 (ECDSA P-256), plus for the tests an
# RSA server certificate, an expired one, one for another host, a client certificate,
# and a second CA that signed nothing else here, with a server certificate of its own.
# Usage: tools/make-certs.sh DIR   (makes DIR/ca.pem first; trust it to browse the dev server)
set -eu
dir=${1:?usage: $0 DIR}
mkdir -p "$dir"
cd "$dir"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ec_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
ca() {  # name subject
  ec_key "$1.key"
  openssl req -x509 -new -key "$1.key" -subj "/CN=$2" -days 3650 -sha256 \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign -out "$1.pem"
}
# name ca subject san [extra x509 options...]: a certificate signed by ca
leaf() {
  name=$1 signer=$2 subject=$3 san=$4
  shift 4
  openssl req -new -key "$name.key" -subj "/CN=$subject" -out "$tmp/$name.csr"
  printf 'basicConstraints=CA:FALSE\nsubjectAltName=%s\nextendedKeyUsage=serverAuth,clientAuth\n' "$san" >"$tmp/$name.ext"
  openssl x509 -req -in "$tmp/$name.csr" -CA "$signer.pem" -CAkey "$signer.key" -CAcreateserial -sha256 \
    -extfile "$tmp/$name.ext" "$@" -out "$name.pem" 2>/dev/null
}

ca ca "Meerkat development CA"
ca other-ca "Another CA"
ec_key server.key && leaf server ca localhost "DNS:localhost,IP:127.0.0.1" -days 365
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out server-rsa.key 2>/dev/null
leaf server-rsa ca localhost "DNS:localhost,IP:127.0.0.1" -days 365
ec_key other-host.key && leaf other-host ca other.example "DNS:other.example,IP:127.0.0.2" -days 365
ec_key untrusted.key && leaf untrusted other-ca localhost "DNS:localhost,IP:127.0.0.1" -days 365
ec_key client.key && leaf client ca "meerkat test client" "DNS:client.example" -days 365

# Expired: valid through 2021 only. openssl x509 -req cannot backdate, openssl ca can
ec_key expired.key
openssl req -new -key expired.key -subj /CN=localhost -out "$tmp/expired.csr"
: >"$tmp/index.txt"
cat >"$tmp/ca.cnf" <<CNF
[ca]
default_ca = dev
[dev]
database = $tmp/index.txt
new_certs_dir = $tmp
serial = $tmp/serial
default_md = sha256
policy = any
copy_extensions = none
x509_extensions = leaf
[any]
commonName = supplied
[leaf]
basicConstraints = CA:FALSE
subjectAltName = DNS:localhost,IP:127.0.0.1
CNF
echo 01 >"$tmp/serial"
openssl ca -batch -config "$tmp/ca.cnf" -cert ca.pem -keyfile ca.key -in "$tmp/expired.csr" \
  -startdate 20200101000000Z -enddate 20211231000000Z -out expired.pem 2>/dev/null
rm -f ./*.srl
echo "certificates in $dir: ca.pem, server.pem/server.key (localhost, 127.0.0.1) and test ones"
