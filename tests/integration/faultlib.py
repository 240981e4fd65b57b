"""
faultlib.py: what the fault tests (tests/integration/fault_*.py) share.

Not a test itself (tests/CMakeLists.txt registers test_*.py and fault_*.py).
Python 3 standard library only, like harness.py. Every wait is bounded and
fails naming what it waited for.

- seeds():        the seeds of the random rounds, from $BORA_FAULT_SEED or
                  the clock, printed so that a failing run can be repeated.
- post_execution(), execution(), wait_execution_end(): the executions API.
- LogTail:        new lines of a daemon's log since the last look (the logs
                  of 1,000 steps are read many times a second).
- open_store():   STATE_DIR/bora.db opened read-only with sqlite3, after
                  checking that the tables and columns the tests read exist.
- TcpProxy:       a loopback TCP proxy the test controls (forward, blackhole,
                  drop every connection); start_behind_proxy(): coordinator
                  and agent "local" through one.
- esc():          a step id as a regular expression.
"""

import json
import os
import re
import selectors
import socket
import sqlite3
import sys
import threading
import time

import harness

STORE_FILE = "bora.db"

# What the fault tests read from the store (coordinator/store/store_schema.c).
STORE_COLUMNS = {
    "executions": ("id", "state"),
    "steps": ("id", "exec_id", "agent", "state"),
    "step_output": ("step_id", "seq", "stream", "data"),
}

FINAL_STATES = ("SUCCESS", "ERROR", "CANCELLED")


def say(fmt, *args):
    """A figure or a seed for the reader of the test's output (ctest -V)."""
    sys.stderr.write(("[fault] " + fmt + "\n") % args)
    sys.stderr.flush()


def esc(sid):
    """A step id as a regular expression matching it exactly."""
    return sid.replace(".", r"\.")


def start_behind_proxy(test, heartbeat_s, reconnect_max_ms):
    """A coordinator on test.port with --heartbeat-s heartbeat_s and agent
    "local" connected to it through a TcpProxy (closed at cleanup).
    Returns (proxy, agent)."""
    test.start_coordinator(port=test.port,
                           extra=("--heartbeat-s", str(heartbeat_s)))
    proxy = TcpProxy(test.port)
    test.addCleanup(proxy.close)
    agent = test.start_connected_agent("local", port=proxy.port,
                                       reconnect_min_ms=100,
                                       reconnect_max_ms=reconnect_max_ms)
    return proxy, agent


def seeds(n):
    """n seeds: BORA_FAULT_SEED (a base) or the clock; printed."""
    env = os.environ.get("BORA_FAULT_SEED")
    base = int(env) if env else int(time.time() * 1000) % 1000000007
    say("base seed %d (repeat with BORA_FAULT_SEED=%d)", base, base)
    return [base + i for i in range(n)]


# ---------------------------------------------------------------------------
# Executions

def post_execution(api, text, inputs):
    """POST /v1/executions; returns the execution's id."""
    st, body = api.request("POST", "/v1/executions", {"workflow": text, "input": inputs},
                           timeout=30.0)
    if st != 201 or not isinstance(body, dict) or "id" not in body:
        raise AssertionError("POST /v1/executions answered %s: %s" % (st, body))
    return body["id"]


def execution(api, xid):
    """GET /v1/executions/ID: the document, or None when the coordinator
    does not know the execution (404). Other answers fail."""
    st, body = api.request("GET", "/v1/executions/%s" % xid, timeout=30.0)
    if st == 404:
        return None
    if st != 200 or not isinstance(body, dict):
        raise harness.ApiError(st, json.dumps(body) if not isinstance(body, str) else body)
    return body


def wait_execution_end(api, xid, timeout, on_fail=None, interval=0.25):
    """Poll until the execution reaches a final state; returns its
    document. Fails at once if the coordinator does not know it (after a
    restart: not rebuilt from the store), or after timeout seconds."""
    last = {}

    def ended():
        x = execution(api, xid)
        if x is None:
            raise AssertionError(
                "the coordinator does not know execution %s (404): it was not "
                "rebuilt from the store after the restart" % xid)
        last["x"] = x
        return x if x.get("state") in FINAL_STATES else None

    def why():
        x = last.get("x")
        text = "last state: %s" % (summary(x) if x else "none read")
        if on_fail:
            text += "\n" + on_fail()
        return text
    return harness.wait_for(ended, timeout, "execution %s to end" % xid,
                            interval=interval, on_fail=why)


def actions(x):
    """Every action of every task of an execution document."""
    out = []
    for t in x.get("tasks") or []:
        out.extend(t.get("actions") or [])
    return out


def summary(x):
    """One line about an execution document: state and action counts."""
    counts = {}
    for a in actions(x):
        counts[a.get("state")] = counts.get(a.get("state"), 0) + 1
    return "state=%s state_info=%r actions=%s" % (x.get("state"), x.get("state_info"),
                                                  json.dumps(counts, sort_keys=True))


# ---------------------------------------------------------------------------
# Logs

class LogTail:
    """The complete lines a file gained since the last poll()."""

    def __init__(self, path):
        self.path = path
        self.offset = 0
        self.partial = b""

    def poll(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                data = f.read()
        except FileNotFoundError:
            return []
        self.offset += len(data)
        data = self.partial + data
        lines = data.split(b"\n")
        self.partial = lines.pop()
        return [l.decode("utf-8", "replace") for l in lines]


def step_ids(daemons, pattern):
    """Every step id the logs of daemons hold in lines matching pattern,
    a regular expression whose group 1 is the id. Returns a list (one
    entry per line, duplicates kept)."""
    rx = re.compile(pattern)
    out = []
    for d in daemons:
        for line in d.log().splitlines():
            m = rx.search(line)
            if m:
                out.append(m.group(1))
    return out


# Agent log lines (agent/step_launch.c, step_result.c, step_journal.c; the
# harness runs agents at debug level).
AGENT_STARTED = r"step started step=(\S+) "
AGENT_FINISHED = r"step finished step=(\S+) "
AGENT_ACKED = r"result acked step=(\S+)"


# ---------------------------------------------------------------------------
# The store

def open_store(state_dir):
    """STATE_DIR/bora.db, read-only, after checking the tables and columns
    of STORE_COLUMNS. Fails with what is there when they are not."""
    path = os.path.join(state_dir, STORE_FILE)
    if not os.path.exists(path):
        raise AssertionError(
            "no store at %s (the coordinator keeps no SQLite store yet?); the state "
            "directory holds: %s" % (path, sorted(os.listdir(state_dir))))
    db = sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=10.0)
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    for table, cols in STORE_COLUMNS.items():
        if table not in tables:
            db.close()
            raise AssertionError("the store has no table %s; its tables: %s" % (
                table, sorted(tables)))
        have = {r[1] for r in db.execute("PRAGMA table_info(%s)" % table)}
        missing = [c for c in cols if c not in have]
        if missing:
            db.close()
            raise AssertionError("store table %s lacks columns %s; it has %s" % (
                table, missing, sorted(have)))
    return db


def integrity(db):
    """PRAGMA integrity_check's answer, rows joined ("ok" when sound)."""
    return "; ".join(r[0] for r in db.execute("PRAGMA integrity_check"))


# ---------------------------------------------------------------------------
# A loopback TCP proxy the test controls

class TcpProxy:
    """Listens on 127.0.0.1:port (chosen free) and forwards each connection
    to 127.0.0.1:upstream, in a thread of its own.

    blackhole(): keep every socket open but move no byte either way and
    accept no new connection (the kernel queues them), as a cut cable does:
    what either side sends waits in the socket buffers; a side that hangs up
    meanwhile is not seen by the other.
    forward(): move bytes again; a connection one side closed during the
    blackhole is then closed on the other side too (as the peer's RST would
    after the cable is back).
    drop_all(): close every connection at once.
    close(): stop the thread and close every socket (idempotent).
    """

    CHUNK = 65536

    def __init__(self, upstream_port, host=harness.HOST):
        self.host = host
        self.upstream = upstream_port
        self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind((host, 0))
        self.lsock.listen(16)
        self.lsock.setblocking(False)
        self.port = self.lsock.getsockname()[1]
        self.lock = threading.Lock()
        self.mode = "forward"
        self.pairs = []             # [client, upstream] socket pairs
        self.out = {}               # socket -> bytes waiting to be written to it
        self.peer = {}              # socket -> the other socket of its pair
        self.accepted = 0
        self.closed_pairs = 0
        self.bytes = 0
        self.stop = False
        self.drop_requested = False
        self.wake_r, self.wake_w = socket.socketpair()
        self.wake_r.setblocking(False)
        self.thread = threading.Thread(target=self._loop, name="tcp-proxy", daemon=True)
        self.thread.start()

    # -- control (any thread)
    def _poke(self):
        try:
            self.wake_w.send(b"x")
        except OSError:
            pass

    def blackhole(self):
        with self.lock:
            self.mode = "blackhole"
        self._poke()

    def forward(self):
        with self.lock:
            self.mode = "forward"
        self._poke()

    def drop_all(self):
        with self.lock:
            self.drop_requested = True
        self._poke()
        harness.wait_for(lambda: not self.drop_requested, 10,
                         "the proxy to drop its connections")

    def connections(self):
        with self.lock:
            return len(self.pairs)

    def close(self):
        if self.stop:
            return
        self.stop = True
        self._poke()
        self.thread.join(10)
        for s in [self.lsock, self.wake_r, self.wake_w] + [x for p in self.pairs for x in p]:
            try:
                s.close()
            except OSError:
                pass
        self.pairs = []

    # -- the thread
    def _close_pair(self, pair):
        for s in pair:
            try:
                s.close()
            except OSError:
                pass
            self.out.pop(s, None)
            self.peer.pop(s, None)
        if pair in self.pairs:
            with self.lock:
                self.pairs.remove(pair)
            self.closed_pairs += 1

    def _pair_of(self, s):
        for p in self.pairs:
            if s in p:
                return p
        return None

    def _accept(self):
        try:
            c, _ = self.lsock.accept()
        except (BlockingIOError, InterruptedError):
            return
        try:
            u = socket.create_connection((self.host, self.upstream), timeout=5)
        except OSError:
            c.close()               # nobody upstream: as a refused connect
            return
        for s in (c, u):
            s.setblocking(False)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.out[s] = b""
        self.peer[c], self.peer[u] = u, c
        with self.lock:
            self.pairs.append([c, u])
        self.accepted += 1

    def _loop(self):
        sel = selectors.DefaultSelector()
        try:
            while not self.stop:
                with self.lock:
                    mode = self.mode
                    drop = self.drop_requested
                if drop:
                    for p in list(self.pairs):
                        self._close_pair(p)
                    with self.lock:
                        self.drop_requested = False
                    continue
                # Which sockets to watch, for what, this turn.
                want = {self.wake_r: selectors.EVENT_READ}
                if mode == "forward":
                    want[self.lsock] = selectors.EVENT_READ
                    for p in self.pairs:
                        for s in p:
                            ev = selectors.EVENT_READ
                            if self.out.get(s):
                                ev |= selectors.EVENT_WRITE
                            want[s] = ev
                for s, ev in want.items():
                    sel.register(s, ev)
                try:
                    ready = sel.select(0.2)
                finally:
                    for s in want:
                        sel.unregister(s)
                for key, ev in ready:
                    s = key.fileobj
                    if s is self.wake_r:
                        try:
                            while self.wake_r.recv(64):
                                pass
                        except (BlockingIOError, InterruptedError):
                            pass
                        continue
                    if s is self.lsock:
                        self._accept()
                        continue
                    pair = self._pair_of(s)
                    if pair is None:
                        continue        # closed earlier this turn
                    if ev & selectors.EVENT_WRITE:
                        try:
                            n = s.send(self.out[s])
                            self.out[s] = self.out[s][n:]
                            self.bytes += n
                        except (BlockingIOError, InterruptedError):
                            pass
                        except OSError:
                            self._close_pair(pair)
                            continue
                    if ev & selectors.EVENT_READ:
                        try:
                            data = s.recv(self.CHUNK)
                        except (BlockingIOError, InterruptedError):
                            continue
                        except OSError:
                            data = b""
                        if not data:
                            # One side hung up (or reset): so does the other,
                            # after what was already read for it.
                            other = self.peer[s]
                            try:
                                other.setblocking(True)
                                other.settimeout(1.0)
                                if self.out.get(other):
                                    other.sendall(self.out[other])
                            except OSError:
                                pass
                            self._close_pair(pair)
                            continue
                        other = self.peer[s]
                        self.out[other] += data
        finally:
            sel.close()
