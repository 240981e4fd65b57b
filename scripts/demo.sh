#!/usr/bin/env bash
# demo.sh: set up and run.
#
# Installs missing dependencies, builds Bora in build/, makes throwaway
# certificates in a temporary directory, starts a coordinator with two local
# agents, db-1 and web-1, on 127.0.0.1, and runs the example workflow
# examples/mysql_webapp.yaml with `bora run`: the database host makes a
# password, the web host's config receives it; the execution shows live.
# Then it stops the daemons and removes the temporary directory. Exits with
# the execution's status.
set -euo pipefail

cd "$(dirname "$0")/.."
repo=$PWD

say() { printf '==> %s\n' "$*" >&2; }

./scripts/install-deps.sh
say "building in build/"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc 2>/dev/null || echo 2)" >/dev/null

coordinator=$repo/build/coordinator/bora-coordinator
agent=$repo/build/agent/bora-agent
bora=$repo/build/coordinator/bora

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bora-demo.XXXXXX")
coord_pid=
agent_pids=()
agent_names=(db-1 web-1)

stop() {  # stop NAME PID: SIGTERM, then wait for it (SIGKILL after 10 s)
	local name=$1 pid=$2 i=0 rc=0
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if kill -0 "$pid" 2>/dev/null; then
		say "$name did not stop within 10 s; killing it"
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || rc=$?
	if [ "$rc" -eq 0 ]; then
		say "$name stopped cleanly"
	else
		say "$name exited with status $rc; its log:"
		tail -n 20 "$tmp/$name.log" >&2 || true
	fi
}

cleanup() {
	local i
	for i in "${!agent_pids[@]}"; do
		stop "${agent_names[$i]}" "${agent_pids[$i]}"
	done
	stop coordinator "$coord_pid"
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

show_logs() {
	for f in "$tmp"/*.log; do
		[ -f "$f" ] || continue
		printf -- '---- %s\n' "${f##*/}" >&2
		tail -n 20 "$f" >&2
	done
}

say "throwaway certificates in $tmp/certs"
./scripts/make-test-certs.sh "$tmp/certs" "${agent_names[@]}"
certs=$tmp/certs
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
sock=$tmp/coordinator/api.sock
mkdir -m 700 "$tmp/coordinator"

say "starting bora-coordinator on 127.0.0.1:$port"
"$coordinator" --listen 127.0.0.1 --port "$port" \
	--tls-cert "$certs/server.crt" --tls-key "$certs/server.key" \
	--tls-ca "$certs/ca.crt" --state-dir "$tmp/coordinator" \
	--api-socket "$sock" 2>"$tmp/coordinator.log" &
coord_pid=$!

for name in "${agent_names[@]}"; do
	say "starting bora-agent \"$name\""
	mkdir -m 700 "$tmp/$name"
	"$agent" --url "wss://127.0.0.1:$port/" \
		--tls-cert "$certs/$name.crt" --tls-key "$certs/$name.key" \
		--tls-ca "$certs/ca.crt" --state-dir "$tmp/$name" \
		--reconnect-min-ms 100 --reconnect-max-ms 1000 2>"$tmp/$name.log" &
	agent_pids+=($!)
done

say "waiting for the agents to connect"
connected=0
for _ in $(seq 1 150); do  # 30 s
	if ! kill -0 "$coord_pid" 2>/dev/null; then
		break
	fi
	list=$("$bora" --socket "$sock" agents --json 2>/dev/null || true)
	if grep -q '"name" *: *"db-1"' <<<"$list" &&
		grep -q '"name" *: *"web-1"' <<<"$list"; then
		connected=1
		break
	fi
	sleep 0.2
done
if [ $connected -ne 1 ]; then
	say "the agents did not connect within 30 s"
	show_logs
	exit 1
fi
"$bora" --socket "$sock" agents

say "running examples/mysql_webapp.yaml (the execution shows live)"
status=0
"$bora" --socket "$sock" run examples/mysql_webapp.yaml \
	--input "dir=$tmp/demo" || status=$?
if [ $status -ne 0 ]; then
	say "the execution ended with status $status"
	show_logs
else
	say "web-1's config, written with the password db-1 generated:"
	cat "$tmp/demo/web/app.conf"
fi
exit "$status"
