#!/bin/sh
# test_packages.sh BUILD_DIR VERSION: the Debian packages of a built tree.
#
# Runs `cpack -G DEB` on BUILD_DIR (a Release build) with its output in a
# scratch directory, then checks each .deb with dpkg-deb alone (nothing is
# installed): the exact file list and modes, the control files (maintainer
# scripts executable, conffiles), the Depends field against the libraries
# the binaries link, the units' ExecStart and the agent's condition, the
# changelog's version; then `lintian --fail-on error` on both.
set -eu

build=${1:?usage: test_packages.sh BUILD_DIR VERSION}
version=${2:?usage: test_packages.sh BUILD_DIR VERSION}
scratch=$(mktemp -d "${TMPDIR:-/tmp}/bora-pkg.XXXXXX")
trap 'rm -rf "$scratch"' EXIT INT TERM
failures=0

fail() {
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
}

for tool in cpack dpkg-deb dpkg-shlibdeps lintian; do
	command -v "$tool" >/dev/null 2>&1 ||
		{ echo "FAIL: $tool not found (scripts/install-deps.sh)" >&2; exit 1; }
done

if ! cpack --config "$build/CPackConfig.cmake" -G DEB -B "$scratch/out" \
    >"$scratch/cpack.log" 2>&1; then
	cat "$scratch/cpack.log" >&2
	echo "FAIL: cpack -G DEB" >&2
	exit 1
fi

# pkg_check PACKAGE "FILES (mode path)..." "DEPENDS..." "NOT DEPENDS..."
pkg_check() {
	pkg=$1 files=$2 deps=$3 nodeps=$4
	deb=$scratch/out/${pkg}_${version}_amd64.deb
	if [ ! -f "$deb" ]; then
		fail "$pkg: no ${pkg}_${version}_amd64.deb"
		return
	fi
	echo "$pkg: $(wc -c <"$deb") bytes"

	# files (directories aside), mode and path, in order
	dpkg-deb -c "$deb" | awk '$1 !~ /^d/ { print $1, $6 }' | sort -k2 \
	    >"$scratch/$pkg.files"
	printf '%s\n' "$files" | sed '/^$/d' | sort -k2 >"$scratch/$pkg.want"
	diff -u "$scratch/$pkg.want" "$scratch/$pkg.files" >&2 ||
		fail "$pkg: file list (- wanted, + in the package)"
	dpkg-deb -c "$deb" | awk '$2 != "root/root" { print $6 }' | grep . &&
		fail "$pkg: files not owned by root"

	[ "$(dpkg-deb -f "$deb" Package)" = "$pkg" ] || fail "$pkg: Package field"
	[ "$(dpkg-deb -f "$deb" Version)" = "$version" ] || fail "$pkg: Version field"
	[ "$(dpkg-deb -f "$deb" Architecture)" = amd64 ] || fail "$pkg: Architecture"

	depends=$(dpkg-deb -f "$deb" Depends | tr ',' '\n' |
	    sed 's/^ *//; s/ .*//')
	echo "$pkg: Depends: $(dpkg-deb -f "$deb" Depends)"
	for d in $deps; do
		printf '%s\n' "$depends" | grep -qx "$d" || fail "$pkg: Depends lacks $d"
	done
	for d in $nodeps; do
		printf '%s\n' "$depends" | grep -qx "$d" && fail "$pkg: Depends has $d"
	done

	ctl=$scratch/$pkg.ctl
	dpkg-deb -e "$deb" "$ctl"
	for s in postinst prerm postrm; do
		if [ ! -f "$ctl/$s" ] || [ ! -x "$ctl/$s" ]; then
			fail "$pkg: $s missing or not executable"
			continue
		fi
		head -n1 "$ctl/$s" | grep -qx '#!/bin/sh' || fail "$pkg: $s: not #!/bin/sh"
		sh -n "$ctl/$s" || fail "$pkg: $s: syntax"
	done

	data=$scratch/$pkg.data
	mkdir "$data"
	dpkg-deb -x "$deb" "$data"
	unit=$data/lib/systemd/system/$pkg.service
	if [ -f "$unit" ]; then
		grep -qx "ExecStart=/usr/bin/$pkg --config /etc/bora/${pkg#bora-}.yaml" \
		    "$unit" || fail "$pkg: ExecStart is not /usr/bin/$pkg"
	fi
	zcat "$data/usr/share/doc/$pkg/changelog.Debian.gz" | head -n1 |
	    grep -q "^bora ($version) " || fail "$pkg: changelog is not at $version"
	grep -q '^Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/' \
	    "$data/usr/share/doc/$pkg/copyright" || fail "$pkg: copyright format"
}

doc() {
	for f in README.md changelog.Debian.gz copyright; do
		echo "-rw-r--r-- ./usr/share/doc/$1/$f"
	done
}

pkg_check bora-agent "
-rwxr-xr-x ./usr/bin/bora-agent
-rw-r--r-- ./lib/systemd/system/bora-agent.service
-rw-r--r-- ./usr/share/doc/bora-agent/examples/agent.yaml
$(doc bora-agent)" \
	"libc6 libwebsockets17 libjansson4 libssl3 libyaml-0-2" "libsqlite3-0"

pkg_check bora-coordinator "
-rwxr-xr-x ./usr/bin/bora-coordinator
-rwxr-xr-x ./usr/bin/bora
-rw-r--r-- ./lib/systemd/system/bora-coordinator.service
-rw-r--r-- ./etc/bora/coordinator.yaml
$(doc bora-coordinator)" \
	"adduser libc6 libwebsockets17 libjansson4 libssl3 libyaml-0-2 libsqlite3-0" ""

# The agent: no configuration shipped in /etc, and a unit that needs one.
agent=$scratch/bora-agent
# /etc/bora is in it, empty: enrollment writes agent.yaml there.
dpkg-deb -c "$scratch/out/bora-agent_${version}_amd64.deb" |
	awk '$1 ~ /^d/ { print $6 }' | grep -qx './etc/bora/' ||
	fail "bora-agent: no /etc/bora directory"
[ -e "$agent.ctl/conffiles" ] && fail "bora-agent: has conffiles"
grep -qx 'ConditionPathExists=/etc/bora/agent.yaml' \
    "$agent.data/lib/systemd/system/bora-agent.service" ||
	fail "bora-agent: unit lacks ConditionPathExists=/etc/bora/agent.yaml"
grep -qx 'KillMode=mixed' "$agent.data/lib/systemd/system/bora-agent.service" ||
	fail "bora-agent: unit lacks KillMode=mixed"
# The coordinator: its one file in /etc is a conffile; it makes its user.
coord=$scratch/bora-coordinator
[ "$(cat "$coord.ctl/conffiles" 2>/dev/null)" = /etc/bora/coordinator.yaml ] ||
	fail "bora-coordinator: conffiles is not /etc/bora/coordinator.yaml"
grep -q 'adduser --system' "$coord.ctl/postinst" ||
	fail "bora-coordinator: postinst makes no system user"
grep -q 'purge)' "$coord.ctl/postrm" ||
	fail "bora-coordinator: postrm does nothing on purge"

# lintian: errors fail, warnings are listed (docs/packaging.md says why each
# is accepted). It refuses nothing as root but says so: that line is dropped.
if ! lintian --fail-on error "$scratch"/out/*.deb >"$scratch/lintian.log" 2>&1; then
	fail "lintian reports errors"
fi
grep -v 'running with root privileges' "$scratch/lintian.log" || true

if [ "$failures" -ne 0 ]; then
	echo "test_packages: $failures failure(s)" >&2
	exit 1
fi
echo "test_packages: ok"
