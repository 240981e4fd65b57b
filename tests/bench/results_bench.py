#!/usr/bin/env python3
"""results_bench.py: durable results per second through a real coordinator.

A benchmark, not a test: it prints figures. Build without sanitizers first
(cmake -S . -B build && cmake --build build -j2), then:

    BORA_BIN_DIR=build python3 tests/bench/results_bench.py [N] [options]

N (default 1000) is the number of results per agent in the 10-agent runs; the
1-agent runs send the same total (10*N) from one agent. Options:

    --agents LIST    agent counts to run, comma separated (default 10,1)
    --stores LIST    tmpfs,disk (default both): the coordinator's state dir
                     (its SQLite store) under /dev/shm (tmpfs) or /var/tmp
    --windows LIST   0,1 (default both): 0 = every run answered at once (a
                     burst); W > 0 = each agent keeps at most W results
                     unacked (an agent that waits for its ack)
    --no-strace      skip the second, fsync-counting pass of each case

For each case it starts a coordinator (release build, log level warn, its
store in a fresh state dir), submits the 10*N standalone steps through the
API (POST /v1/steps, a `true` script) while no agent is connected, so that
every step is stored and waiting before the clock starts. Then the fake
agents (tests/integration/harness.py WSClient: TLS with a certificate from
make_certs, hello, welcome) connect; the coordinator sends them the runs and
they answer each run with accept + result (status success) from one
selector loop, counting the acks. The coordinator acks a result only once
its row is committed (group commit: one transaction, one WAL fsync, per
event-loop turn; docs/store.md).

It prints results sent, acks received, the wall time from the first result
sent to the last ack, durable results (acks) per second, the CPU the
coordinator and this Python process used meanwhile (so that one can see the
coordinator, not Python, is the bottleneck), and, from a second pass with
the coordinator run under `strace -f --seccomp-bpf -c -e
trace=fsync,fdatasync` (only those two syscalls stop), the number of
fsync/fdatasync calls: one per flush (the WAL at commit) plus a few per
WAL checkpoint, so results per fsync is about the group commit's batch.
After each run the coordinator is stopped and the steps table is read back
to check that every acked step is stored done.
"""
import collections
import json
import os
import re
import select
import selectors
import shutil
import socket
import sqlite3
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import harness  # noqa: E402
from harness import WSClient, OP_TEXT, OP_PING, OP_PONG, OP_CLOSE  # noqa: E402

STORE_ROOTS = {"tmpfs": "/dev/shm", "disk": "/var/tmp"}
SUBMIT_THREADS = 4
IDLE_TIMEOUT = 60.0     # no ack for this long: give up and report what is missing


def fs_type(path):
    r = subprocess.run(["stat", "-f", "-c", "%T", path], capture_output=True, text=True)
    return r.stdout.strip() or "?"


def cpu_ticks(pid):
    """utime + stime of pid (clock ticks), or None."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, IndexError, ValueError):
        return None


def child_pid(pid):
    """The first child of pid (the coordinator under strace)."""
    try:
        for t in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/children" % (pid, t)) as f:
                kids = f.read().split()
            if kids:
                return int(kids[0])
    except OSError:
        pass
    return None


class Coordinator:
    def __init__(self, tmp, certs, state, strace_out=None):
        self.port = harness.free_port()
        self.state = state
        argv = [harness.binary("bora-coordinator"), "--listen", "127.0.0.1",
                "--port", str(self.port),
                "--tls-cert", os.path.join(certs, "server.crt"),
                "--tls-key", os.path.join(certs, "server.key"),
                "--tls-ca", os.path.join(certs, "ca.crt"), "--state-dir", state,
                "--api-socket", os.path.join(state, "api.sock"),
                "--log-level", "warn"]
        if strace_out:
            argv = ["strace", "-f", "--seccomp-bpf", "-ttt", "-o", strace_out,
                    "-e", "trace=fsync,fdatasync"] + argv
        self.strace_out = strace_out
        self.d = harness.Daemon("coordinator", argv,
                                os.path.join(tmp, "coordinator-%d.log" % self.port))
        self.api = harness.Api(os.path.join(state, "api.sock"))
        harness.wait_for(lambda: self.api.agents() == [], 30, "the coordinator",
                         on_fail=self.d.log_tail)
        self.pid = child_pid(self.d.pid) if strace_out else self.d.pid
        if self.pid is None:
            raise SystemExit("cannot find the coordinator's pid under strace")

    def stop(self):
        """SIGTERM the coordinator itself (strace then exits and writes its
        summary). Returns the coordinator's exit status as seen here."""
        if self.strace_out:
            try:
                os.kill(self.pid, 15)
            except ProcessLookupError:
                pass
            try:
                self.d.proc.wait(30)
            except subprocess.TimeoutExpired:
                pass
        return self.d.stop()

    def fsyncs(self, t0, t1):
        """(fsync, fdatasync) calls that returned between the wall-clock
        times t0 and t1, from strace's -ttt log."""
        counts = {"fsync": 0, "fdatasync": 0}
        rx = re.compile(r"^(?:\d+\s+)?(\d+\.\d+) (fsync|fdatasync)\(")
        try:
            with open(self.strace_out) as f:
                for line in f:
                    m = rx.match(line)
                    if m and t0 <= float(m.group(1)) <= t1:
                        counts[m.group(2)] += 1
        except OSError:
            return None
        return counts["fsync"], counts["fdatasync"]


def submit_all(api_path, plan):
    """POST /v1/steps for each (agent) in plan, SUBMIT_THREADS keep-alive
    connections in parallel. Returns the step ids per agent."""
    ids = collections.defaultdict(list)
    lock = threading.Lock()
    errors = []

    def worker(part):
        c = harness.UnixHTTPConnection(api_path, 30)
        try:
            for agent in part:
                body = json.dumps({"agent": agent, "kind": "script",
                                   "spec": {"script": "true"}, "timeout": 600}).encode()
                c.request("POST", "/v1/steps", body=body,
                          headers={"Content-Type": "application/json"})
                r = c.getresponse()
                raw = r.read()
                if r.status != 201:
                    raise RuntimeError("POST /v1/steps: %d %s" % (r.status, raw[:300]))
                with lock:
                    ids[agent].append(json.loads(raw)["id"])
        except Exception as e:  # noqa: BLE001 (reported below)
            errors.append(e)
        finally:
            c.close()

    parts = [plan[i::SUBMIT_THREADS] for i in range(SUBMIT_THREADS)]
    ts = [threading.Thread(target=worker, args=(p,)) for p in parts]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errors:
        raise SystemExit("submitting failed: %s" % errors[0])
    return ids


def text_frame(payload):
    """A masked text frame with the all-zero masking key (legal, and the
    payload is then sent as is: no per-byte work in Python)."""
    n = len(payload)
    if n < 126:
        return struct.pack("!BB4x", 0x81, 0x80 | n) + payload
    return struct.pack("!BBH4x", 0x81, 0x80 | 126, n) + payload


RUN_RX = re.compile(rb'^\{"type":"run","step":"([^"]+)"')
ACK_RX = re.compile(rb'^\{"type":"ack","step":"([^"]+)"\}$')


class FakeAgent:
    """One connected fake agent in the selector loop: parses the
    coordinator's (unmasked) frames, answers runs with accept + result."""

    def __init__(self, name, ws, window):
        self.name = name
        self.ws = ws
        self.sock = ws.sock
        self.buf = ws.buf           # whatever arrived with the welcome
        ws.buf = b""
        self.window = window
        self.todo = collections.deque()     # runs not answered yet
        self.unacked = set()
        self.runs = self.sent = self.acks = 0
        self.errors = []

    def frames(self):
        """Complete frames in self.buf: (opcode, payload) (no fragments
        expected from lws for these small messages)."""
        out = []
        b = self.buf
        i = 0
        while True:
            if len(b) - i < 2:
                break
            b0, b1 = b[i], b[i + 1]
            n = b1 & 0x7F
            j = i + 2
            if n == 126:
                if len(b) - j < 2:
                    break
                n = struct.unpack_from("!H", b, j)[0]
                j += 2
            elif n == 127:
                if len(b) - j < 8:
                    break
                n = struct.unpack_from("!Q", b, j)[0]
                j += 8
            if b1 & 0x80:
                raise AssertionError("masked frame from the coordinator")
            if len(b) - j < n:
                break
            if not b0 & 0x80:
                raise AssertionError("fragmented frame from the coordinator")
            out.append((b0 & 0x0F, b[j:j + n]))
            i = j + n
        self.buf = b[i:]
        return out

    def answers(self, now_ms):
        """Frames for the runs that may be answered now (window)."""
        out = []
        while self.todo and (self.window == 0 or len(self.unacked) < self.window):
            sid = self.todo.popleft()
            out.append(text_frame(b'{"type":"accept","step":"%s","pid":0}' % sid))
            out.append(text_frame(
                b'{"type":"result","step":"%s","status":"success","exit_code":0,'
                b'"started_ms":%d,"finished_ms":%d}' % (sid, now_ms, now_ms)))
            self.unacked.add(sid)
            self.sent += 1
        return out


def send_all(sock, data):
    """sendall on a non-blocking TLS socket."""
    view = memoryview(data)
    while view:
        try:
            view = view[sock.send(view):]
        except (ssl.SSLWantWriteError, ssl.SSLWantReadError, BlockingIOError):
            select.select([], [sock], [], 0.1)


def drive(agents, total, stats, coord_pid):
    """The selector loop: until every result is acked (or nothing moves for
    IDLE_TIMEOUT). Fills stats with t_first, t_last, cpu."""
    sel = selectors.DefaultSelector()
    for a in agents:
        a.sock.setblocking(False)
        sel.register(a.sock, selectors.EVENT_READ, a)
    acked = 0
    t_first = t_last = None
    last_progress = time.monotonic()
    cpu0 = time.process_time()
    pending_io = list(agents)       # agents whose buffer may hold frames already
    while acked < total:
        if pending_io:
            ready = [(None, a) for a in pending_io]
            pending_io = []
        else:
            ev = sel.select(1.0)
            ready = [(k, k.data) for k, _ in ev]
            if not ready:
                if time.monotonic() - last_progress > IDLE_TIMEOUT:
                    break
                continue
        for key, a in ready:
            if key is not None:
                chunk = b""
                try:
                    while True:
                        got = a.sock.recv(262144)
                        if not got:
                            raise SystemExit("agent %s: the coordinator closed the connection"
                                             % a.name)
                        chunk += got
                except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError):
                    pass
                except (ssl.SSLError, OSError) as e:
                    raise SystemExit("agent %s: connection lost: %s" % (a.name, e))
                a.buf += chunk
            out = []
            for op, payload in a.frames():
                if op == OP_PING:
                    out.append(WSClient.frame(OP_PONG, payload))
                    continue
                if op == OP_CLOSE:
                    raise SystemExit("agent %s: the coordinator closed the connection: %r"
                                     % (a.name, payload))
                if op != OP_TEXT:
                    continue
                # the coordinator's encoder puts "type" first, then "step"
                m = RUN_RX.match(payload)
                if m:
                    a.runs += 1
                    a.todo.append(m.group(1))
                    continue
                m = ACK_RX.match(payload)
                if m:
                    sid = m.group(1)
                    if sid in a.unacked:
                        a.unacked.discard(sid)
                        a.acks += 1
                        acked += 1
                        t_last = time.monotonic()
                        stats["wall_last"] = time.time()
                        last_progress = t_last
                    else:
                        a.errors.append("ack for a step not pending: %s" % sid)
                    continue
                a.errors.append("unexpected message: %r" % (payload[:300],))
            out += a.answers(int(time.time() * 1000))
            if out:
                if t_first is None:
                    t_first = time.monotonic()
                    stats["wall_first"] = time.time()
                    stats["cpu_first"] = time.process_time()
                    stats["coord_first"] = cpu_ticks(coord_pid)
                send_all(a.sock, b"".join(out))
                last_progress = time.monotonic()
    stats["t_first"], stats["t_last"] = t_first, t_last
    stats["py_cpu"] = time.process_time() - stats.get("cpu_first", cpu0)
    stats["coord_last"] = cpu_ticks(coord_pid)
    sel.close()


def read_back(db):
    """(steps in the table, steps stored done)."""
    c = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    try:
        n = c.execute("SELECT count(*) FROM steps").fetchone()[0]
        done = c.execute("SELECT count(*) FROM steps WHERE state = 'done'").fetchone()[0]
        return n, done
    finally:
        c.close()


def one_case(store, nagents, total, window, certs, use_strace):
    root = tempfile.mkdtemp(prefix="bora-rbench-", dir=STORE_ROOTS[store])
    tmp = tempfile.mkdtemp(prefix="bora-rbench-")
    harness._TMPDIRS.add(root)
    harness._TMPDIRS.add(tmp)
    state = os.path.join(root, "coordinator")
    os.makedirs(state, mode=0o700)
    names = ["a%d" % i for i in range(nagents)]
    plan = [names[i % nagents] for i in range(total)]
    coord = Coordinator(tmp, certs, state,
                        os.path.join(tmp, "strace.txt") if use_strace else None)
    res = {"store": store, "agents": nagents, "window": window, "strace": use_strace}
    agents = []
    stats = {}
    try:
        ids = submit_all(os.path.join(state, "api.sock"), plan)
        assert sum(len(v) for v in ids.values()) == total
        for name in names:
            ws = WSClient(coord.port, ca=os.path.join(certs, "ca.crt"),
                          cert=os.path.join(certs, name + ".crt"),
                          key=os.path.join(certs, name + ".key"), timeout=30)
            ws.connect()
            ws.hello(name)
            agents.append(FakeAgent(name, ws, window))
        drive(agents, total, stats, coord.pid)
        c0, c1 = stats.get("coord_first"), stats.get("coord_last")
        res["sent"] = sum(a.sent for a in agents)
        res["runs"] = sum(a.runs for a in agents)
        res["acks"] = sum(a.acks for a in agents)
        res["errors"] = [e for a in agents for e in a.errors][:5]
        res["unacked"] = sorted(s for a in agents for s in a.unacked)[:5] + \
            sorted(s for a in agents for s in a.todo)[:5]
        wall = (stats["t_last"] - stats["t_first"]) if stats["t_first"] and stats["t_last"] else float("nan")
        res["wall"] = wall
        res["py_cpu"] = stats["py_cpu"]
        hz = os.sysconf("SC_CLK_TCK")
        res["coord_cpu"] = (c1 - c0) / hz if c0 is not None and c1 is not None else float("nan")
    finally:
        for a in agents:
            a.ws.close()
        code = coord.stop()
        res["exit"] = code
        log = coord.d.log()
        res["sanitizer"] = harness.sanitizer_report(log)
        res["log_lines"] = [l for l in log.splitlines() if l.strip()][:5]
        if use_strace:
            if "wall_first" in stats and "wall_last" in stats:
                res["fsyncs"] = coord.fsyncs(stats["wall_first"], stats["wall_last"])
        try:
            res["stored"] = read_back(os.path.join(state, "bora.db"))
        except sqlite3.Error as e:
            res["stored"] = ("?", str(e))
        for d in (root, tmp):
            if not os.environ.get("BORA_KEEP_TMP"):
                shutil.rmtree(d, ignore_errors=True)
            harness._TMPDIRS.discard(d)
    return res


def report(r, total):
    rate = r["acks"] / r["wall"] if r["wall"] and r["wall"] == r["wall"] else float("nan")
    mode = "burst" if r["window"] == 0 else "window %d" % r["window"]
    line = ("%-5s %2d agent%s %-9s %s sent %6d  acks %6d  wall %7.3f s  %8.0f durable results/s"
            "  coordinator CPU %6.2f s (%3.0f%%)  python CPU %5.2f s (%3.0f%%)" % (
                r["store"], r["agents"], "s" if r["agents"] > 1 else " ", mode,
                "strace" if r["strace"] else "plain ", r["sent"], r["acks"], r["wall"], rate,
                r["coord_cpu"], 100 * r["coord_cpu"] / r["wall"],
                r["py_cpu"], 100 * r["py_cpu"] / r["wall"]))
    if r["strace"] and r.get("fsyncs"):
        fs, fds = r["fsyncs"]
        n = fs + fds
        line += "  fsync %d fdatasync %d (%.1f results per call)" % (fs, fds, r["acks"] / n if n else 0)
    print(line, flush=True)
    problems = []
    if r["acks"] != total or r["sent"] != total or r["runs"] != total:
        problems.append("runs %d, results sent %d, acks %d of %d; first unacked/unanswered: %s" % (
            r["runs"], r["sent"], r["acks"], total, r["unacked"]))
    if r["errors"]:
        problems.append("agent side: %s" % r["errors"])
    if r["exit"] not in (0, None):
        problems.append("coordinator exited %s" % r["exit"])
    if r["sanitizer"]:
        problems.append("sanitizer report %r in the coordinator log" % r["sanitizer"])
    if r["stored"] != (total, r["acks"]) or r["acks"] != total:
        problems.append("store read back (steps, done) = %s, expected (%d, %d)" % (
            r["stored"], total, total))
    if r["log_lines"]:
        problems.append("coordinator log (warn): %s" % r["log_lines"])
    for p in problems:
        print("      !! " + p, flush=True)


def main():
    args = sys.argv[1:]
    n = 1000
    agent_counts, stores, windows, use_strace = [10, 1], ["tmpfs", "disk"], [0, 1], True
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--agents":
            agent_counts = [int(x) for x in args[i + 1].split(",")]
            i += 1
        elif a == "--stores":
            stores = args[i + 1].split(",")
            i += 1
        elif a == "--windows":
            windows = [int(x) for x in args[i + 1].split(",")]
            i += 1
        elif a == "--no-strace":
            use_strace = False
        elif re.fullmatch(r"\d+", a):
            n = int(a)
        else:
            raise SystemExit(__doc__)
        i += 1
    if use_strace and shutil.which("strace") is None:
        print("strace not installed: no fsync counts")
        use_strace = False
    total = 10 * n
    print("%d results per case (N = %d per agent for 10 agents), coordinator %s" % (
        total, n, harness.binary("bora-coordinator")))
    for s in stores:
        print("store %-5s under %s: %s" % (s, STORE_ROOTS[s], fs_type(STORE_ROOTS[s])))
    print("%d CPUs, load average %s" % (os.cpu_count(), open("/proc/loadavg").read().split()[:3]),
          flush=True)
    certs_tmp = tempfile.mkdtemp(prefix="bora-rbench-certs-")
    harness._TMPDIRS.add(certs_tmp)
    try:
        harness.make_certs(certs_tmp, ["a%d" % i for i in range(max(agent_counts))])
        for window in windows:
            for s in stores:
                for na in agent_counts:
                    for traced in ([False, True] if use_strace else [False]):
                        report(one_case(s, na, total, window, certs_tmp, traced), total)
    finally:
        shutil.rmtree(certs_tmp, ignore_errors=True)


if __name__ == "__main__":
    import signal
    signal.signal(signal.SIGTERM, harness._on_sigterm)
    main()
