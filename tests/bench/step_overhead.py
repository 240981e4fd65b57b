#!/usr/bin/env python3
"""step_overhead.py: what running a trivial step through Bora costs.

A benchmark, not a test: it prints figures. Build without sanitizers first
(cmake -S . -B build && cmake --build build -j2), then:

    BORA_BIN_DIR=build python3 tests/bench/step_overhead.py [N]   (default: 100)

It starts a coordinator and one bora-agent on 127.0.0.1 (certificates from
scripts/make-test-certs.sh, log level warn) and submits N script steps
"#!/bin/sh\\ntrue\\n" one after another, each after the previous one's result.
For each step it measures:

  (a) end to end: from just before POST /v1/steps until the "result" event
      arrives on the step's events stream (GET /v1/steps/ID/events, opened
      right after the POST), i.e. the result is available through the API;
  (b) the agent's view: the result's finished_ms - started_ms (ms resolution);

and, as a baseline, (c) Python running `/bin/sh FILE` (FILE holding the same
script) N times with subprocess.run, wall time of each run. It prints the
median and p90 (nearest rank) of each, then the overhead the agent adds to
running the process, median(b) - median(c), and the whole path's,
median(a) - median(c).
"""
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import harness  # noqa: E402

SCRIPT = "#!/bin/sh\ntrue\n"


def p90(xs):
    s = sorted(xs)
    return s[max(0, math.ceil(0.9 * len(s)) - 1)]


def line(label, xs):
    print("%-44s median %8.2f ms   p90 %8.2f ms" % (label, statistics.median(xs), p90(xs)),
          flush=True)


def start(tmp):
    certs = os.path.join(tmp, "certs")
    harness.make_certs(certs, ["local"])
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
    d = os.path.join(tmp, "agent-local")
    os.makedirs(d, mode=0o700)
    daemons.append(harness.Daemon("agent-local", [
        harness.binary("bora-agent"), "--url", "wss://127.0.0.1:%d/" % port,
        "--tls-cert", os.path.join(certs, "local.crt"),
        "--tls-key", os.path.join(certs, "local.key"),
        "--tls-ca", os.path.join(certs, "ca.crt"), "--state-dir", d,
        "--log-level", "warn"], os.path.join(tmp, "agent-local.log")))
    harness.wait_for(lambda: api.agents() == ["local"], 30, "the agent")
    return api, daemons


def bora_steps(api, n):
    e2e, agent = [], []
    for _ in range(n):
        got = {}

        def on_event(ev):
            if harness.Api.event_kind(ev) == "result":
                got["t"] = ev["_t"]
        t0 = time.monotonic()
        sid = api.submit("local", SCRIPT, timeout=60)
        api.events(sid, on_event=on_event)
        if "t" not in got:
            raise AssertionError("no result event for %s" % sid)
        res = api.wait_done(sid)
        if res.get("status") != "success":
            raise AssertionError("step %s: %r" % (sid, res))
        e2e.append((got["t"] - t0) * 1000.0)
        agent.append(float(res["finished_ms"] - res["started_ms"]))
    return e2e, agent


def direct(tmp, n):
    path = os.path.join(tmp, "script")
    with open(path, "w") as f:
        f.write(SCRIPT)
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        subprocess.run(["/bin/sh", path], check=True, stdin=subprocess.DEVNULL)
        out.append((time.perf_counter() - t0) * 1000.0)
    return out


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    tmp = tempfile.mkdtemp(prefix="bora-bench-")
    daemons = []
    try:
        api, daemons = start(tmp)
        e2e, agent = bora_steps(api, n)
        base = direct(tmp, n)
        print("steps=%d script=%r" % (n, SCRIPT))
        line("(a) submit -> result event via the API", e2e)
        line("(b) agent finished_ms - started_ms", agent)
        line("(c) direct: subprocess /bin/sh FILE", base)
        print("agent overhead   median(b) - median(c) = %.2f ms" % (
            statistics.median(agent) - statistics.median(base)))
        print("end-to-end overhead median(a) - median(c) = %.2f ms" % (
            statistics.median(e2e) - statistics.median(base)), flush=True)
    finally:
        for d in reversed(daemons):
            d.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
