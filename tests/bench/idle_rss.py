#!/usr/bin/env python3
"""idle_rss.py: memory of an idle agent and of the coordinator holding N agents.

A benchmark, not a test: it prints figures. Build without sanitizers first
(cmake -S . -B build && cmake --build build -j2), then:

    BORA_BIN_DIR=build python3 tests/bench/idle_rss.py [N ...]   (default: 1 100)

For each N it starts a coordinator and N real bora-agent processes on
127.0.0.1 (certificates from scripts/make-test-certs.sh), waits until all are
connected and then IDLE_S seconds more, and prints RSS and private memory
(/proc/PID/smaps_rollup) of the coordinator and of one agent, and the
coordinator's cost per agent connection.
"""
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import harness  # noqa: E402

IDLE_S = 5


def mem_kib(pid):
    """(rss, private) in KiB from /proc/PID/smaps_rollup."""
    rss = private = 0
    with open("/proc/%d/smaps_rollup" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k == "Rss":
                rss = int(v.split()[0])
            elif k in ("Private_Clean", "Private_Dirty"):
                private += int(v.split()[0])
    return rss, private


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])   # utime + stime


def run(n, tmp):
    names = ["a%04d" % i for i in range(n)]
    certs = os.path.join(tmp, "certs")
    harness.make_certs(certs, names)
    port = harness.free_port()
    state = os.path.join(tmp, "coordinator")
    os.makedirs(state, mode=0o700)
    sock = os.path.join(state, "api.sock")
    daemons = []
    coord = harness.Daemon("coordinator", [
        harness.binary("bora-coordinator"), "--listen", "127.0.0.1", "--port", str(port),
        "--tls-cert", os.path.join(certs, "server.crt"),
        "--tls-key", os.path.join(certs, "server.key"),
        "--tls-ca", os.path.join(certs, "ca.crt"), "--state-dir", state,
        "--log-level", "warn"], os.path.join(tmp, "coordinator.log"))
    daemons.append(coord)
    api = harness.Api(sock)
    try:
        harness.wait_for(lambda: api.agents() == [], 30, "coordinator")
        base_rss, base_priv = mem_kib(coord.proc.pid)
        for name in names:
            d = os.path.join(tmp, "agent-" + name)
            os.makedirs(d, mode=0o700)
            daemons.append(harness.Daemon(name, [
                harness.binary("bora-agent"), "--url", "wss://127.0.0.1:%d/" % port,
                "--tls-cert", os.path.join(certs, name + ".crt"),
                "--tls-key", os.path.join(certs, name + ".key"),
                "--tls-ca", os.path.join(certs, "ca.crt"), "--state-dir", d,
                "--log-level", "warn"], os.path.join(tmp, name + ".log")))
        harness.wait_for(lambda: len(api.agents()) == n, 120, "%d agents" % n, interval=0.5)
        t0 = {d.proc.pid: cpu_ticks(d.proc.pid) for d in daemons}
        time.sleep(IDLE_S)
        c_rss, c_priv = mem_kib(coord.proc.pid)
        a_rss, a_priv = mem_kib(daemons[1].proc.pid)
        idle_cpu = sum(cpu_ticks(d.proc.pid) - t0[d.proc.pid] for d in daemons)
        print("agents=%d coordinator_rss_kib=%d coordinator_private_kib=%d "
              "per_agent_kib=%.1f agent_rss_kib=%d agent_private_kib=%d "
              "idle_cpu_ticks_%ds=%d" % (
                  n, c_rss, c_priv, (c_priv - base_priv) / n, a_rss, a_priv,
                  IDLE_S, idle_cpu), flush=True)
    finally:
        for d in reversed(daemons):
            d.stop()


def main():
    counts = [int(a) for a in sys.argv[1:]] or [1, 100]
    for n in counts:
        tmp = tempfile.mkdtemp(prefix="bora-bench-")
        try:
            run(n, tmp)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
