# TLS helpers for integration tests (sourced after lib.sh): a throwaway CA,
# a server certificate for 127.0.0.1 and a client certificate, made with
# the openssl command line in $LW_TMP/pki.

need openssl

# Sets LW_PKI. Client subject: "CN=web01.example,O=logward test" (RFC 2253).
lw_make_certs() {
	LW_PKI="$LW_TMP/pki"
	mkdir -p "$LW_PKI"
	(
		cd "$LW_PKI"
		openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem \
			-days 2 -subj "/CN=logward test CA"
		openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr \
			-subj "/CN=localhost"
		printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > server.ext
		openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
			-out server.pem -days 2 -extfile server.ext
		openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr \
			-subj "/O=logward test/CN=web01.example"
		openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
			-out client.pem -days 2
		# A second, unrelated key: a certificate/key mismatch for startup errors.
		openssl genrsa -out other.key 2048
	) >"$LW_TMP/pki.log" 2>&1 || fail "openssl could not make the test certificates"
}

# Port of the first listener of type $1 in the ports file.
lw_port_of() {
	awk -v t="$1" '$1 == t {sub(/.*:/, "", $2); print $2; exit}' "$LW_TMP/ports"
}
