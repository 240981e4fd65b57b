#!/bin/sh
# run_golden.sh: `bora validate` against the golden files (docs/testing.md, dsl_golden).
#   good/NAME.yaml: exit 0, stdout == good/NAME.expected (canonical JSON)
#   bad/NAME.yaml:  exit 1, stderr == bad/NAME.expected (the errors), no stdout
#   ../../examples/*.yaml: exit 0
# BORA_BIN_DIR is the build directory; --update rewrites the .expected files.
set -u
here=$(cd "$(dirname "$0")" && pwd)
bora=${BORA_BIN_DIR:?set BORA_BIN_DIR to the build directory}/coordinator/bora
update=0
[ "${1:-}" = "--update" ] && update=1
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
fails=0
n=0

check() {   # kind file want_rc stream
	kind=$1 f=$2 want=$3
	exp=${f%.yaml}.expected
	"$bora" validate "$f" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ "$kind" = good ]; then got=$tmp/out; other=$tmp/err
	else got=$tmp/err; other=$tmp/out; fi
	n=$((n + 1))
	if [ "$update" = 1 ]; then
		cp "$got" "$exp"
	fi
	if [ "$rc" != "$want" ]; then
		echo "FAIL $f: exit $rc, expected $want"; cat "$tmp/err"
		fails=$((fails + 1))
	elif [ -s "$other" ]; then
		echo "FAIL $f: unexpected output on the other stream:"
		cat "$other"
		fails=$((fails + 1))
	elif ! diff -u "$exp" "$got"; then
		echo "FAIL $f: differs from $exp"
		fails=$((fails + 1))
	fi
}

cd "$here" || exit 1
for f in good/*.yaml; do check good "$f" 0; done
for f in bad/*.yaml; do check bad "$f" 1; done
for f in "$here"/../../examples/*.yaml; do
	n=$((n + 1))
	if ! "$bora" validate --quiet "$f"; then
		echo "FAIL $f: the example does not validate"
		fails=$((fails + 1))
	fi
done
echo "golden: $n files, $fails failed"
[ "$fails" = 0 ]
