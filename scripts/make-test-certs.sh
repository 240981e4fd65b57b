#!/usr/bin/env bash
# make-test-certs.sh DIR [AGENT...]: throwaway certificates for tests and the demo.
#
# Makes, with the openssl CLI (EC P-256 keys, mode 0600):
#   DIR/ca.crt, ca.key                 the CA agents and coordinator trust
#   DIR/server.crt, server.key         coordinator, CN 127.0.0.1,
#                                      SAN IP:127.0.0.1, DNS:localhost (serverAuth)
#   DIR/NAME.crt, NAME.key             one per agent, CN=NAME (clientAuth)
#   DIR/foreign-ca.crt, foreign-ca.key a second CA nobody trusts
#   DIR/foreign-agent.crt, .key        an agent cert (CN=foreign) from that CA
# With no AGENT names, one agent "local" is made. Never for production use.
set -euo pipefail

if [ $# -lt 1 ]; then
	echo "usage: $0 DIR [AGENT...]" >&2
	exit 2
fi
dir=$1
shift
if [ $# -eq 0 ]; then
	set -- local
fi
for name in "$@"; do
	case $name in
	[A-Za-z0-9]*) ;;
	*) echo "$0: bad agent name: $name" >&2; exit 2 ;;
	esac
	case $name in
	*[!A-Za-z0-9._-]*) echo "$0: bad agent name: $name" >&2; exit 2 ;;
	ca | server | foreign-ca | foreign-agent)
		echo "$0: reserved file name: $name" >&2; exit 2 ;;
	esac
done

mkdir -p "$dir"
umask 077
days=30

newkey() {  # newkey FILE
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
	    -out "$1" 2>/dev/null
	chmod 600 "$1"
}

# make_ca NAME CN
make_ca() {
	newkey "$dir/$1.key"
	openssl req -new -x509 -sha256 -days "$days" -key "$dir/$1.key" \
	    -subj "/O=Bora test/CN=$2" \
	    -addext "basicConstraints=critical,CA:TRUE" \
	    -addext "keyUsage=critical,keyCertSign,cRLSign" \
	    -out "$dir/$1.crt" 2>/dev/null
}

# sign CA OUT CN EXTFILE
sign() {
	newkey "$dir/$2.key"
	openssl req -new -sha256 -key "$dir/$2.key" -subj "/O=Bora test/CN=$3" \
	    -out "$dir/$2.csr" 2>/dev/null
	openssl x509 -req -sha256 -days "$days" -in "$dir/$2.csr" \
	    -CA "$dir/$1.crt" -CAkey "$dir/$1.key" -CAcreateserial \
	    -CAserial "$dir/$1.srl" \
	    -extfile "$4" -out "$dir/$2.crt" 2>/dev/null
	rm -f "$dir/$2.csr"
}

server_ext="$dir/.server.ext"
client_ext="$dir/.client.ext"
cat >"$server_ext" <<'EXT'
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,DNS:localhost
EXT
cat >"$client_ext" <<'EXT'
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth
EXT

make_ca ca "Bora test CA"
sign ca server 127.0.0.1 "$server_ext"
for name in "$@"; do
	sign ca "$name" "$name" "$client_ext"
done

make_ca foreign-ca "Foreign test CA"
sign foreign-ca foreign-agent foreign "$client_ext"

rm -f "$server_ext" "$client_ext" "$dir"/*.srl
chmod 644 "$dir"/*.crt
