#!/usr/bin/env python3
"""workflow_bench.py: tasks per second through a real coordinator.

A benchmark, not a test: it prints figures. Build without sanitizers first
(cmake -S . -B build && cmake --build build -j2), then:

    BORA_BIN_DIR=build python3 tests/bench/workflow_bench.py [N] [AGENTS]

(defaults 1000 and 4). It starts a coordinator (log level warn) and AGENTS
real agents on 127.0.0.1, then submits through the API, one at a time:

  chain     N std.noop tasks, each the on-success of the one before;
  fan-out   N parallel std.noop tasks joined by one task (join: all);
  steps     one task with-items over N items, a `true` script on each
            agent in turn (target chosen per item), concurrency 4*AGENTS:
            real steps pushed to agents, run and reported.

For each it prints the time from POST /v1/executions to the execution's
SUCCESS (polled every 10 ms) and tasks (or steps) per second. The engine
alone, without the API and the event loop, is bench_engine.
"""
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import harness  # noqa: E402


def start(tmp, nagents):
    names = ["a%d" % i for i in range(nagents)]
    certs = os.path.join(tmp, "certs")
    harness.make_certs(certs, names)
    port = harness.free_port()
    state = os.path.join(tmp, "coordinator")
    os.makedirs(state, mode=0o700)
    daemons = [harness.Daemon("coordinator", [
        harness.binary("bora-coordinator"), "--listen", "127.0.0.1", "--port", str(port),
        "--tls-cert", os.path.join(certs, "server.crt"),
        "--tls-key", os.path.join(certs, "server.key"),
        "--tls-ca", os.path.join(certs, "ca.crt"), "--state-dir", state,
        "--log-level", "warn"], os.path.join(tmp, "coordinator.log"))]
    api = harness.Api(os.path.join(state, "api.sock"))
    harness.wait_for(lambda: api.agents() == [], 30, "coordinator")
    for name in names:
        d = os.path.join(tmp, "agent-" + name)
        os.makedirs(d, mode=0o700)
        daemons.append(harness.Daemon("agent-" + name, [
            harness.binary("bora-agent"), "--url", "wss://127.0.0.1:%d/" % port,
            "--tls-cert", os.path.join(certs, name + ".crt"),
            "--tls-key", os.path.join(certs, name + ".key"),
            "--tls-ca", os.path.join(certs, "ca.crt"), "--state-dir", d,
            "--log-level", "warn"], os.path.join(tmp, "agent-%s.log" % name)))
    harness.wait_for(lambda: api.agents() == sorted(names), 30, "the agents")
    return api, daemons, names


def chain(n):
    lines = ["version: '2.0'", "chain:", "  tasks:"]
    for i in range(n):
        nxt = ", on-success: [t%d]" % (i + 1) if i + 1 < n else ""
        lines.append("    t%d: {action: std.noop%s}" % (i, nxt))
    return "\n".join(lines) + "\n"


def fanout(n):
    lines = ["version: '2.0'", "fanout:", "  tasks:"]
    for i in range(n):
        lines.append("    t%d: {action: std.noop, on-success: [done]}" % i)
    lines.append("    done: {action: std.noop, join: all}")
    return "\n".join(lines) + "\n"


def steps(n, names):
    return """version: '2.0'
steps:
  input: [agents]
  tasks:
    each:
      action: bora.script
      with-items: i in <%% range_list %%>
      target: <%% $.agents[$.i mod len($.agents)] %%>
      concurrency: %d
      input: {script: "true"}
""".replace("<%% range_list %%>", str(list(range(n)))) % (4 * len(names))


def run(api, what, text, count, inputs=None):
    t0 = time.monotonic()
    st, body = api.request("POST", "/v1/executions",
                           {"workflow": text, "input": inputs or {}}, timeout=120)
    if st != 201:
        raise SystemExit("%s: %s %s" % (what, st, body))
    xid = body["id"]
    while True:
        x = api.get("/v1/executions/%s" % xid)
        if x["state"] not in ("RUNNING", "PAUSED"):
            break
        time.sleep(0.01)
    dt = time.monotonic() - t0
    if x["state"] != "SUCCESS":
        raise SystemExit("%s: %s %s" % (what, x["state"], x.get("state_info")))
    print("%-8s %6d  %8.2f s  %9.0f per second" % (what, count, dt, count / dt), flush=True)


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    nagents = int(sys.argv[2]) if len(sys.argv) > 2 else 4
    tmp = tempfile.mkdtemp(prefix="bora-wfbench-")
    daemons = []
    try:
        api, daemons, names = start(tmp, nagents)
        print("%d tasks, %d agents (release build: %s)" % (n, nagents, harness.bin_dir()))
        run(api, "chain", chain(n), n)
        run(api, "fan-out", fanout(n), n + 1)
        run(api, "steps", steps(n, names), n, {"agents": names})
    finally:
        for d in reversed(daemons):
            d.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
