#!/usr/bin/env bash
# demo.sh: set up and run.
#
# Installs missing dependencies, builds Bora in build/, makes throwaway
# certificates in a temporary directory, starts a coordinator and one local
# agent ("local") on 127.0.0.1, runs an example script step with `bora step
# run` (its output shows live), then stops both daemons and removes the
# temporary directory. Exits with the step's status.
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
agent_pid=

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
	stop agent "$agent_pid"
	stop coordinator "$coord_pid"
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

show_logs() {
	for f in "$tmp"/coordinator.log "$tmp"/agent.log; do
		[ -f "$f" ] || continue
		printf -- '---- %s\n' "${f##*/}" >&2
		tail -n 20 "$f" >&2
	done
}

say "throwaway certificates in $tmp/certs"
./scripts/make-test-certs.sh "$tmp/certs" local
certs=$tmp/certs
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
sock=$tmp/coordinator/api.sock
mkdir -m 700 "$tmp/coordinator" "$tmp/agent"

say "starting bora-coordinator on 127.0.0.1:$port"
"$coordinator" --listen 127.0.0.1 --port "$port" \
	--tls-cert "$certs/server.crt" --tls-key "$certs/server.key" \
	--tls-ca "$certs/ca.crt" --state-dir "$tmp/coordinator" \
	--api-socket "$sock" 2>"$tmp/coordinator.log" &
coord_pid=$!

say "starting bora-agent \"local\""
"$agent" --url "wss://127.0.0.1:$port/" \
	--tls-cert "$certs/local.crt" --tls-key "$certs/local.key" \
	--tls-ca "$certs/ca.crt" --state-dir "$tmp/agent" \
	--reconnect-min-ms 100 --reconnect-max-ms 1000 2>"$tmp/agent.log" &
agent_pid=$!

say "waiting for the agent to connect"
connected=0
for _ in $(seq 1 150); do  # 30 s
	if ! kill -0 "$coord_pid" 2>/dev/null || ! kill -0 "$agent_pid" 2>/dev/null; then
		break
	fi
	if "$bora" --socket "$sock" agents --json 2>/dev/null |
		grep -q '"name" *: *"local"'; then
		connected=1
		break
	fi
	sleep 0.2
done
if [ $connected -ne 1 ]; then
	say "the agent did not connect within 30 s"
	show_logs
	exit 1
fi
"$bora" --socket "$sock" agents

script=$tmp/example.sh
cat >"$script" <<'SCRIPT'
#!/bin/sh
echo "hello from a Bora step on $(hostname), as $(id -un)"
for i in 1 2 3 4 5; do
	echo "working... $i/5"
	sleep 0.5
done
echo "a line on stderr" >&2
echo "done"
SCRIPT

say "running an example step on agent local (output streams live)"
status=0
"$bora" --socket "$sock" step run --agent local --timeout 60 "$script" || status=$?
if [ $status -ne 0 ]; then
	say "the step ended with status $status"
	show_logs
fi
exit "$status"
