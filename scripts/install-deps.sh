#!/usr/bin/env bash
# install-deps.sh: install the Debian 12 packages Bora needs to build and test,
# only those missing. Safe to run again: with everything present it does nothing.
set -euo pipefail

pkgs=(
	build-essential cmake pkg-config
	libwebsockets-dev libjansson-dev libssl-dev libyaml-dev libsqlite3-dev
	libcmocka-dev
	openssl python3 python3-yaml iproute2 procps util-linux
	dpkg-dev lintian
	puppet
	qemu-system-x86 debootstrap genisoimage e2fsprogs
)

missing=()
for p in "${pkgs[@]}"; do
	status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	if [ "$status" != installed ]; then
		missing+=("$p")
	fi
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps: all ${#pkgs[@]} packages present"
	exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
	if ! command -v sudo >/dev/null 2>&1; then
		echo "install-deps: need root or sudo to install: ${missing[*]}" >&2
		exit 1
	fi
	sudo=(sudo)
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	--no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
