# Certificates made by a test itself (sourced; not a test). openssl (Debian) only; every
# key is an unencrypted PKCS#8 PEM (what Kafka's PEM keystore, librdkafka, GnuTLS and
# curl all read), every certificate lives 2 days: nothing here is a secret worth keeping.
#   make_ca DIR NAME                   DIR/NAME.crt + DIR/NAME.key: a self-signed test CA
#   make_cert DIR CA NAME [SAN]        DIR/NAME.crt + DIR/NAME.key signed by DIR/CA.*, for
#                                      SAN (default "DNS:localhost,IP:127.0.0.1"); also
#                                      DIR/NAME.pem = key + certificate (Kafka's PEM keystore)
# Invariant: nothing outside DIR is written; failures print openssl's text and return 1.
make_ca() {
  local d=$1 n=$2
  mkdir -p "$d"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=choreoscope test CA $n" \
    -keyout "$d/$n.key" -out "$d/$n.crt" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    >"$d/$n.log" 2>&1 || { cat "$d/$n.log" >&2; return 1; }
}
make_cert() {
  local d=$1 ca=$2 n=$3 san=${4:-DNS:localhost,IP:127.0.0.1}
  openssl req -newkey rsa:2048 -nodes -subj "/CN=$n" -keyout "$d/$n.key" -out "$d/$n.csr" \
    >"$d/$n.log" 2>&1 || { cat "$d/$n.log" >&2; return 1; }
  printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\n' \
    "$san" >"$d/$n.ext"
  openssl x509 -req -in "$d/$n.csr" -CA "$d/$ca.crt" -CAkey "$d/$ca.key" -CAcreateserial \
    -days 2 -extfile "$d/$n.ext" -out "$d/$n.crt" >>"$d/$n.log" 2>&1 ||
    { cat "$d/$n.log" >&2; return 1; }
  cat "$d/$n.key" "$d/$n.crt" >"$d/$n.pem"
}
