"""
harness.py: run the real Bora daemons on 127.0.0.1 for integration tests.

Python 3 standard library only. Each test gets a private temporary directory
with throwaway certificates (scripts/make-test-certs.sh), daemons started on a
free port with their logs in files there, bounded waits, and a teardown that
stops every daemon by pid and checks that each one exited 0 and that no log
holds a sanitizer report. Nothing here talks to any address but 127.0.0.1.

Layout of a test's directory:
    certs/                   ca, server, agents, foreign CA (see make-test-certs.sh)
    coordinator/             the coordinator's state dir (api.sock lives here)
    agent-NAME/              each agent's state dir
    logs/NAME-N.log          stdout+stderr of each daemon started
    work/                    free for the test's own files (pid files, ...)

Where the operator API's field names matter (step ids, results, events), the
access is in the functions of the "API shapes" section below, nowhere else.
"""

import base64
import ctypes
import errno
import hashlib
import http.client
import json
import os
import re
import select
import shutil
import signal
import socket
import ssl
import stat
import struct
import subprocess
import sys
import tempfile
import time
import unittest

HOST = "127.0.0.1"
REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CERT_SCRIPT = os.path.join(REPO, "scripts", "make-test-certs.sh")

# Sanitizer builds are slow; every wait below is bounded by these.
START_TIMEOUT = 30.0      # a daemon is up / an agent connected
STOP_TIMEOUT = 15.0       # SIGTERM to exit, then SIGKILL
STEP_TIMEOUT = 60.0       # a step finishes

SANITIZER_MARKS = ("ERROR: AddressSanitizer", "runtime error:", "LeakSanitizer")

SAN_ENV = {
    "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=1:halt_on_error=1",
    "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1",
}


def bin_dir():
    """The build directory: $BORA_BIN_DIR (set by ctest), else build-asan/
    or build/ in the repository."""
    d = os.environ.get("BORA_BIN_DIR")
    if d:
        return d
    for cand in ("build-asan", "build"):
        p = os.path.join(REPO, cand)
        if os.path.exists(os.path.join(p, "coordinator", "bora-coordinator")):
            return p
    return os.path.join(REPO, "build")


def binary(name):
    """Path of bora-coordinator, bora or bora-agent; fails loudly if absent."""
    sub = "agent" if name == "bora-agent" else "coordinator"
    p = os.path.join(bin_dir(), sub, name)
    if not os.access(p, os.X_OK):
        raise AssertionError("binary not found: %s (set BORA_BIN_DIR to the build directory)" % p)
    return p


_LIVE = {}          # pid -> Daemon, for the emergency exit below
_TMPDIRS = set()    # test directories not yet removed
_PR_SET_PDEATHSIG = 1


def _die_with_parent():
    """In the child, before exec: get SIGKILL when the test process dies
    (ctest's timeout, ^C), so no daemon outlives its test."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _on_sigterm(signum, frame):
    """The test process was told to stop: kill the daemons, remove the
    test directories, exit at once."""
    for d in list(_LIVE.values()):
        try:
            os.kill(d.pid, signal.SIGKILL)
        except OSError:
            pass
    if not os.environ.get("BORA_KEEP_TMP"):
        for t in list(_TMPDIRS):
            shutil.rmtree(t, ignore_errors=True)
    os._exit(128 + signum)


def child_env(extra=None):
    env = dict(os.environ)
    for k, v in SAN_ENV.items():
        env.setdefault(k, v)
    if extra:
        env.update(extra)
    return env


def free_port():
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def wait_for(pred, timeout, what, interval=0.05, on_fail=None):
    """Call pred() until it returns something true (returned), at most
    timeout seconds; then fail naming `what` (plus on_fail() text)."""
    deadline = time.monotonic() + timeout
    last_exc = None
    while True:
        try:
            v = pred()
            if v:
                return v
        except (OSError, ValueError, http.client.HTTPException) as e:
            last_exc = e
        if time.monotonic() >= deadline:
            msg = "timed out after %.1f s waiting for %s" % (timeout, what)
            if last_exc is not None:
                msg += " (last error: %r)" % (last_exc,)
            if on_fail is not None:
                msg += "\n" + on_fail()
            raise AssertionError(msg)
        time.sleep(interval)


def sanitizer_report(text):
    """The first sanitizer mark found in text, or None."""
    for m in SANITIZER_MARKS:
        if m in text:
            return m
    return None


def make_certs(directory, names):
    subprocess.run(["bash", CERT_SCRIPT, directory] + list(names), check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=60)


# ---------------------------------------------------------------------------
# Daemons

class Daemon:
    """One started process with its log file. stop() ends it by pid."""

    def __init__(self, name, argv, log_path, env=None):
        self.name = name
        self.argv = argv
        self.log_path = log_path
        self.expect_exit = 0        # None: any exit is fine (killed on purpose)
        self._log = open(log_path, "ab")
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=subprocess.STDOUT,
                                     env=child_env(env), start_new_session=True,
                                     preexec_fn=_die_with_parent)
        self.pid = self.proc.pid
        _LIVE[self.pid] = self

    def log(self):
        with open(self.log_path, "r", encoding="utf-8", errors="replace") as f:
            return f.read()

    def log_tail(self, n=40):
        lines = self.log().splitlines()
        return "---- %s (pid %d) %s, last %d lines:\n%s" % (
            self.name, self.pid, self.log_path, min(n, len(lines)),
            "\n".join(lines[-n:]))

    def running(self):
        return self.proc.poll() is None

    def count(self, pattern):
        """How many log lines match the regular expression pattern."""
        rx = re.compile(pattern)
        return sum(1 for line in self.log().splitlines() if rx.search(line))

    def wait_log(self, pattern, timeout=START_TIMEOUT, count=1):
        """Wait until at least `count` log lines match pattern (a regex);
        fails early if the daemon exits. Returns the matching lines."""
        rx = re.compile(pattern)

        def check():
            lines = [l for l in self.log().splitlines() if rx.search(l)]
            if len(lines) >= count:
                return lines
            if not self.running():
                raise AssertionError("%s exited (%s) while waiting for /%s/\n%s" % (
                    self.name, self.proc.returncode, pattern, self.log_tail()))
            return None
        return wait_for(check, timeout, "/%s/ x%d in %s" % (pattern, count, self.name),
                        on_fail=self.log_tail)

    def send_signal(self, sig):
        if self.running():
            os.kill(self.pid, sig)

    def stop(self, sig=signal.SIGTERM, timeout=STOP_TIMEOUT):
        """Send sig, wait up to timeout, then SIGKILL. Returns the exit status
        (negative: killed by that signal)."""
        if self.running():
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.proc.wait(10)
                self.stop_timed_out = True
        _LIVE.pop(self.pid, None)
        self._log.close()
        return self.proc.returncode

    def kill(self):
        """SIGKILL on purpose; teardown accepts the result."""
        self.expect_exit = None
        return self.stop(signal.SIGKILL)


class UnixHTTPConnection(http.client.HTTPConnection):
    """http.client over an AF_UNIX socket (the operator API)."""

    def __init__(self, path, timeout=10.0):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        try:
            s.connect(self.unix_path)
        except OSError:
            s.close()
            raise
        self.sock = s


class ApiError(AssertionError):
    def __init__(self, status, body):
        super().__init__("API answered %d: %s" % (status, body[:500]))
        self.status = status
        self.body = body


class Api:
    """The operator API on the coordinator's unix socket."""

    def __init__(self, path):
        self.path = path

    def request(self, method, url, body=None, timeout=10.0):
        """Returns (status, parsed JSON or raw text)."""
        c = UnixHTTPConnection(self.path, timeout)
        try:
            headers = {"Connection": "close"}
            data = None
            if body is not None:
                data = json.dumps(body).encode()
                headers["Content-Type"] = "application/json"
            c.request(method, url, body=data, headers=headers)
            r = c.getresponse()
            raw = r.read().decode("utf-8", "replace")
            try:
                return r.status, json.loads(raw)
            except ValueError:
                return r.status, raw
        finally:
            c.close()

    def get(self, url):
        st, body = self.request("GET", url)
        if st != 200:
            raise ApiError(st, json.dumps(body) if not isinstance(body, str) else body)
        return body

    # ---- API shapes: the only place that knows the field names ----------

    def agents(self):
        """Names of the connected agents (the listing also holds enrolled
        agents that are not connected: "connected": false)."""
        body = self.get("/v1/agents")
        items = body.get("agents", []) if isinstance(body, dict) else body
        return sorted(a["name"] if isinstance(a, dict) else a for a in items
                      if not isinstance(a, dict) or a.get("connected", True))

    def submit(self, agent, script, timeout=60, inputs=None, kind="script"):
        """POST a step; returns its id. Raises ApiError unless 201/200."""
        req = {"agent": agent, "kind": kind, "spec": {"script": script},
               "timeout": timeout}
        if inputs is not None:
            req["inputs"] = inputs
        st, body = self.request("POST", "/v1/steps", req)
        if st not in (200, 201) or not isinstance(body, dict):
            raise ApiError(st, json.dumps(body) if not isinstance(body, str) else body)
        sid = body.get("id", body.get("step"))
        if isinstance(sid, dict):
            sid = sid.get("id")
        if not sid:
            raise AssertionError("no step id in %r" % (body,))
        return sid

    def submit_spec(self, agent, kind, spec, timeout=60, inputs=None):
        """POST a step of any kind with its whole spec; returns its id."""
        req = {"agent": agent, "kind": kind, "spec": spec, "timeout": timeout}
        if inputs is not None:
            req["inputs"] = inputs
        st, body = self.request("POST", "/v1/steps", req)
        if st not in (200, 201) or not isinstance(body, dict):
            raise ApiError(st, json.dumps(body) if not isinstance(body, str) else body)
        return body.get("id", body.get("step"))

    def step(self, sid):
        body = self.get("/v1/steps/%s" % sid)
        if isinstance(body.get("step"), dict):
            return body["step"]
        return body

    @staticmethod
    def step_done(step):
        return step.get("state") == "done"

    @staticmethod
    def result_of(step):
        """The result object of a finished step: status, exit_code, signal, ..."""
        return step.get("result")

    def wait_done(self, sid, timeout=STEP_TIMEOUT):
        """Wait until the step is done; returns its result object."""
        def done():
            s = self.step(sid)
            return s if self.step_done(s) else None
        return self.result_of(wait_for(done, timeout, "step %s to finish" % sid,
                                       interval=0.1))

    def events(self, sid, timeout=STEP_TIMEOUT, on_event=None):
        """Read the step's NDJSON event stream to its end (the coordinator
        closes it after the result). Returns the list of events, each with
        "_t", the monotonic time it arrived. on_event(ev) is called live."""
        deadline = time.monotonic() + timeout
        c = UnixHTTPConnection(self.path, timeout)
        out = []
        try:
            c.request("GET", "/v1/steps/%s/events" % sid, headers={"Connection": "close"})
            sock = c.sock              # getresponse() drops it on "close"
            r = c.getresponse()
            if r.status != 200:
                raise ApiError(r.status, r.read().decode("utf-8", "replace"))
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("event stream of %s still open after %.0f s" % (sid, timeout))
                sock.settimeout(left)
                try:
                    line = r.readline()
                except socket.timeout:
                    raise AssertionError("event stream of %s still open after %.0f s; got %r" % (
                        sid, timeout, out)) from None
                if not line:
                    break
                line = line.strip()
                if not line:
                    continue
                ev = json.loads(line)
                ev["_t"] = time.monotonic()
                out.append(ev)
                if on_event:
                    on_event(ev)
        finally:
            c.close()
        return out

    @staticmethod
    def event_kind(ev):
        return ev.get("event", ev.get("type"))

    @staticmethod
    def output_of(events, stream):
        """All data of one stream ("stdout"/"stderr"), in sequence order."""
        outs = [e for e in events if Api.event_kind(e) == "output" and e.get("stream") == stream]
        if all("seq" in e for e in outs):
            outs.sort(key=lambda e: e["seq"])
        return "".join(e.get("data", "") for e in outs)

    @staticmethod
    def result_event(events):
        for e in events:
            if Api.event_kind(e) == "result":
                return e.get("result", e)
        return None


# ---------------------------------------------------------------------------
# The test case base

class BoraTestCase(unittest.TestCase):
    """setUp: a temporary directory with certificates for AGENTS (plus "fake"
    and the foreign CA). Daemons started through start_coordinator() /
    start_agent() are stopped at cleanup and must have exited 0, with no
    sanitizer report in any log."""

    AGENTS = ("local",)
    COORD_LOG_LEVEL = "info"

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="bora-it-%s-" % self._testMethodName)
        _TMPDIRS.add(self.tmp)
        self.daemons = []
        self._log_dump = ""
        self.addCleanup(self._cleanup)
        self.certs = os.path.join(self.tmp, "certs")
        names = list(dict.fromkeys(list(self.AGENTS) + ["fake"]))
        make_certs(self.certs, names)
        self.work = os.path.join(self.tmp, "work")
        os.makedirs(self.work)
        os.makedirs(os.path.join(self.tmp, "logs"))
        self.coord = None
        self.port = free_port()

    # -- paths
    def cert(self, name):
        return os.path.join(self.certs, name + ".crt")

    def key(self, name):
        return os.path.join(self.certs, name + ".key")

    @property
    def ca(self):
        return os.path.join(self.certs, "ca.crt")

    def _log_path(self, name):
        n = 1
        while True:
            p = os.path.join(self.tmp, "logs", "%s-%d.log" % (name, n))
            if not os.path.exists(p):
                return p
            n += 1

    def coordinator_init(self):
        """`bora-coordinator init` into self.cdir (TMP/coordinator) for HOST
        and localhost; checks it exits 0 and returns the CompletedProcess."""
        self.cdir = os.path.join(self.tmp, "coordinator")
        r = subprocess.run([binary("bora-coordinator"), "init", self.cdir,
                            "--ip", HOST, "--dns", "localhost"],
                           capture_output=True, text=True, timeout=60,
                           env=child_env())
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        return r

    def start_init_coordinator(self, log_level=None):
        """Start a coordinator on the PKI `bora-coordinator init` made in
        self.cdir (coordinator_init()): its own CA, server certificate and
        state, enrollment enabled. Returns the Daemon."""
        self.api_socket = os.path.join(self.cdir, "api.sock")
        argv = [binary("bora-coordinator"),
                "--listen", HOST, "--port", str(self.port),
                "--tls-cert", os.path.join(self.cdir, "server.crt"),
                "--tls-key", os.path.join(self.cdir, "server.key"),
                "--tls-ca", os.path.join(self.cdir, "ca.crt"),
                "--state-dir", self.cdir, "--api-socket", self.api_socket]
        if log_level:
            argv += ["--log-level", log_level]
        d = Daemon("coordinator", argv, self._log_path("coordinator"))
        self.daemons.append(d)
        self.coord = d
        self.api = Api(self.api_socket)
        self.wait_coordinator_up(d, self.port)
        d.wait_log("enrollment enabled")
        return d

    # -- daemons
    def start_coordinator(self, port=None, extra=(), wait=True, state_dir=None,
                          wrap=()):
        """Start bora-coordinator on 127.0.0.1:port (self.port by default)
        and wait until both its agent port and its API answer. wrap: a
        command that execs it (prlimit ...), so the pid stays its own."""
        port = port or self.port
        state = state_dir or os.path.join(self.tmp, "coordinator")
        os.makedirs(state, mode=0o700, exist_ok=True)
        self.api_socket = os.path.join(state, "api.sock")
        argv = list(wrap) + [binary("bora-coordinator"),
                "--listen", HOST, "--port", str(port),
                "--tls-cert", self.cert("server"), "--tls-key", self.key("server"),
                "--tls-ca", self.ca, "--state-dir", state,
                "--api-socket", self.api_socket,
                "--log-level", self.COORD_LOG_LEVEL] + list(extra)
        d = Daemon("coordinator", argv, self._log_path("coordinator"))
        self.daemons.append(d)
        self.coord = d
        self.api = Api(self.api_socket)
        if wait:
            self.wait_coordinator_up(d, port)
        return d

    def wait_coordinator_up(self, d, port):
        # The API answering means the event loop runs, and the agent vhost
        # was made before it. (Probing the agent port would log a refusal.)
        def up():
            if not d.running():
                raise AssertionError("coordinator exited %s at start\n%s" % (
                    d.proc.returncode, d.log_tail()))
            self.api.agents()
            return True
        wait_for(up, START_TIMEOUT, "the coordinator to listen", on_fail=d.log_tail)

    def start_agent(self, name="local", cert=None, key=None, ca=None, port=None,
                    extra=(), reconnect_min_ms=100, reconnect_max_ms=2000,
                    env=None):
        state = os.path.join(self.tmp, "agent-" + name)
        os.makedirs(state, mode=0o700, exist_ok=True)
        argv = [binary("bora-agent"),
                "--url", "wss://%s:%d/" % (HOST, port or self.port),
                "--tls-cert", cert or self.cert(name), "--tls-key", key or self.key(name),
                "--tls-ca", ca or self.ca, "--state-dir", state,
                "--reconnect-min-ms", str(reconnect_min_ms),
                "--reconnect-max-ms", str(reconnect_max_ms),
                "--log-level", "debug"] + list(extra)
        d = Daemon("agent-" + name, argv, self._log_path("agent-" + name), env=env)
        self.daemons.append(d)
        return d

    def start_connected_agent(self, name="local", **kw):
        """Start an agent (start_agent's arguments) and wait until the
        coordinator lists it and it has logged its welcome."""
        d = self.start_agent(name, **kw)
        self.wait_agent(name)
        d.wait_log("connected to coordinator")
        return d

    def wait_agent(self, name="local", timeout=START_TIMEOUT, present=True):
        """Wait until the API lists (or no longer lists) agent `name`."""
        def check():
            names = self.api.agents()
            return (name in names) == present
        wait_for(check, timeout, "agent %s to be %s" % (name, "listed" if present else "gone"),
                 interval=0.1, on_fail=self.all_logs)
        return True

    def all_logs(self):
        return "\n".join(d.log_tail() for d in self.daemons)

    def assert_enroll_only(self, ca, name):
        """Without a client certificate the TLS handshake succeeds, but a
        hello as `name` gets the error enroll_only and the connection closed."""
        c = WSClient(self.port, ca=ca)
        c.connect()
        try:
            c.send_json({"type": "hello", "name": name, "version": "x"})
            m = c.recv_json()
            self.assertEqual(m.get("type"), "error", m)
            self.assertEqual(m.get("code"), "enroll_only", m)
            with self.assertRaises((WSClosed, OSError)):
                c.recv(timeout=10)
        finally:
            c.close()

    # -- the CLI
    def cli(self, *args, input=None, timeout=STEP_TIMEOUT):
        """Run `bora --socket SOCK args...`; returns CompletedProcess (text).
        Fails on a sanitizer report in its stderr."""
        r = subprocess.run([binary("bora"), "--socket", self.api_socket] + list(args),
                           input=input, capture_output=True, text=True,
                           timeout=timeout, env=child_env())
        rep = sanitizer_report(r.stderr)
        if rep:
            self.fail("bora %s: sanitizer report (%s):\n%s" % (" ".join(args), rep, r.stderr))
        return r

    # -- steps
    def run_step(self, agent, script, timeout=60, inputs=None):
        """Submit, read the whole event stream; returns (events, result)."""
        sid = self.api.submit(agent, script, timeout=timeout, inputs=inputs)
        events = self.api.events(sid)
        res = self.api.wait_done(sid)
        return sid, events, res

    def assert_secrets_confined(self, secrets, allowed=()):
        """Walk everything the test's daemons wrote (state directories,
        logs, agents' work): none of secrets (strings) in a log, and a file
        holding one is readable by its owner only. allowed: paths the test
        itself asked a step to write a secret to. Returns the files that
        held one, so a test can also assert where secrets are kept."""
        held = []
        for root, dirs, files in os.walk(self.tmp):
            for fn in files:
                p = os.path.join(root, fn)
                try:
                    st = os.lstat(p)
                    if not stat.S_ISREG(st.st_mode) or p in allowed:
                        continue
                    with open(p, "rb") as f:
                        data = f.read()
                except OSError:
                    continue
                for s in secrets:
                    if s.encode() not in data:
                        continue
                    held.append(p)
                    self.assertFalse(p.endswith(".log"), "secret in log %s" % p)
                    self.assertEqual(st.st_mode & 0o077, 0,
                                     "secret in %s, mode %o" % (p, st.st_mode))
        return held

    # -- teardown
    def _cleanup(self):
        problems = []
        for d in self.daemons:
            code = d.stop()
            if getattr(d, "stop_timed_out", False):
                problems.append("%s (pid %d) did not exit within %.0f s of SIGTERM" % (
                    d.name, d.pid, STOP_TIMEOUT))
            elif d.expect_exit is not None and code != d.expect_exit:
                problems.append("%s (pid %d) exited %s, expected %s" % (
                    d.name, d.pid, code, d.expect_exit))
            rep = sanitizer_report(d.log())
            if rep:
                problems.append("%s (pid %d): sanitizer report %r in %s" % (
                    d.name, d.pid, rep, d.log_path))
        self._log_dump = "\n".join(d.log_tail(200) for d in self.daemons)
        if os.environ.get("BORA_KEEP_TMP"):
            sys.stderr.write("kept %s\n" % self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)
        _TMPDIRS.discard(self.tmp)
        if problems:
            self.fail("teardown:\n  " + "\n  ".join(problems))

    def run(self, result=None):
        """Print the daemons' logs after a failing test (ctest shows them)."""
        before = (len(result.failures) + len(result.errors)) if result is not None else 0
        out = super().run(result)
        if result is not None and len(result.failures) + len(result.errors) > before:
            sys.stderr.write("\n==== daemon logs of %s\n%s\n" % (self.id(), self._log_dump))
        return out


# ---------------------------------------------------------------------------
# A minimal websocket client over TLS, for fake agents (RFC 6455).

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0, 1, 2, 8, 9, 10


class small_asan_quarantine:
    """with small_asan_quarantine(mb): processes started inside get ASan's
    quarantine cut to mb MiB (default 256 MiB of freed memory held back to
    catch use after free), so that their VmRSS follows what they hold:
    memory tests can then run in the sanitizer build too. Children inherit
    this process's environment (child_env); later ASan flags win."""

    def __init__(self, mb):
        self.mb = mb

    def __enter__(self):
        self.old = os.environ.get("ASAN_OPTIONS")
        os.environ["ASAN_OPTIONS"] = "%s:quarantine_size_mb=%d" % (
            self.old or SAN_ENV["ASAN_OPTIONS"], self.mb)
        return self

    def __exit__(self, *exc):
        if self.old is None:
            os.environ.pop("ASAN_OPTIONS", None)
        else:
            os.environ["ASAN_OPTIONS"] = self.old
        return False


def file_lines(path):
    """The non-empty lines of a file a step script appends to; [] while it
    does not exist."""
    try:
        with open(path) as f:
            return [l for l in f.read().splitlines() if l]
    except FileNotFoundError:
        return []


def kill_group(pgid):
    """SIGKILL process group pgid (a step's: it outlives a killed agent);
    nothing if it is gone."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


LOST_ERROR = "the agent restarted while the step ran; not run again"


def status_kib(pid, field):
    """A "kB" field of /proc/PID/status (VmRSS, VmHWM), in KiB."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k == field:
                return int(v.split()[0])
    raise AssertionError("no %s in /proc/%d/status" % (field, pid))


class WSClosed(Exception):
    """The peer closed the connection (close frame, EOF, reset or TLS alert)."""

    def __init__(self, how, code=None, reason=""):
        super().__init__("%s%s" % (how, "" if code is None else " code=%s %s" % (code, reason)))
        self.how = how
        self.code = code
        self.reason = reason


def tls_context(ca, cert=None, key=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(ca)
    ctx.check_hostname = True
    if cert:
        ctx.load_cert_chain(cert, key)
    return ctx


class WSClient:
    """connect() does TLS (or plain TCP with ca=None) and the HTTP upgrade."""

    def __init__(self, port, ca=None, cert=None, key=None, protocol="bora.v1",
                 timeout=10.0):
        self.port = port
        self.ca, self.cert, self.key = ca, cert, key
        self.protocol = protocol
        self.timeout = timeout
        self.sock = None
        self.buf = b""
        self.status_line = None
        self.headers = {}

    # -- connection
    def open_socket(self):
        raw = socket.create_connection((HOST, self.port), timeout=self.timeout)
        if self.ca is None:
            self.sock = raw
            return
        ctx = tls_context(self.ca, self.cert, self.key)
        try:
            self.sock = ctx.wrap_socket(raw, server_hostname=HOST)
        except Exception:
            raw.close()
            raise

    def upgrade_request(self):
        self.ws_key = base64.b64encode(os.urandom(16)).decode()
        lines = ["GET / HTTP/1.1",
                 "Host: %s:%d" % (HOST, self.port),
                 "Upgrade: websocket",
                 "Connection: Upgrade",
                 "Sec-WebSocket-Key: " + self.ws_key,
                 "Sec-WebSocket-Version: 13"]
        if self.protocol:
            lines.append("Sec-WebSocket-Protocol: " + self.protocol)
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    def connect(self):
        """Open and upgrade. Raises WSClosed / ssl.SSLError / OSError when
        refused, AssertionError on a bad 101."""
        self.open_socket()
        self.sock.sendall(self.upgrade_request())
        head = self._read_head()
        lines = head.decode("latin-1").split("\r\n")
        self.status_line = lines[0]
        for l in lines[1:]:
            if ":" in l:
                k, v = l.split(":", 1)
                self.headers[k.strip().lower()] = v.strip()
        if not re.match(r"HTTP/1\.1 101\b", self.status_line):
            raise WSClosed("upgrade refused: " + self.status_line)
        want = base64.b64encode(hashlib.sha1((self.ws_key + WS_GUID).encode()).digest()).decode()
        if self.headers.get("sec-websocket-accept") != want:
            raise AssertionError("bad Sec-WebSocket-Accept: %r" % self.headers)
        if self.protocol and self.headers.get("sec-websocket-protocol") != self.protocol:
            raise AssertionError("subprotocol not agreed: %r" % self.headers)
        return self

    def _read_head(self):
        while b"\r\n\r\n" not in self.buf:
            if len(self.buf) > 16384:
                raise AssertionError("HTTP head too long")
            self._fill()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        return head

    def _fill(self, deadline=None):
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout("timed out")
            self.sock.settimeout(left)
        try:
            chunk = self.sock.recv(65536)
        except ssl.SSLError as e:
            raise WSClosed("tls error: %s" % e) from e
        except (ConnectionResetError, BrokenPipeError) as e:
            raise WSClosed("reset: %s" % e) from e
        finally:
            if deadline is not None:
                self.sock.settimeout(self.timeout)
        if not chunk:
            raise WSClosed("eof")
        self.buf += chunk

    def _take(self, n, deadline):
        while len(self.buf) < n:
            self._fill(deadline)
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    # -- frames
    @staticmethod
    def frame(opcode, payload, fin=True, mask=True, rsv=0):
        """Encode one frame (client frames are masked)."""
        b0 = (0x80 if fin else 0) | (rsv << 4) | opcode
        n = len(payload)
        mbit = 0x80 if mask else 0
        if n < 126:
            head = struct.pack("!BB", b0, mbit | n)
        elif n < 65536:
            head = struct.pack("!BBH", b0, mbit | 126, n)
        else:
            head = struct.pack("!BBQ", b0, mbit | 127, n)
        if not mask:
            return head + payload
        mk = os.urandom(4)
        return head + mk + _xor_mask(payload, mk)

    def send_raw(self, data):
        try:
            self.sock.sendall(data)
        except ssl.SSLError as e:
            raise WSClosed("tls error on send: %s" % e) from e
        except (ConnectionResetError, BrokenPipeError) as e:
            raise WSClosed("reset on send: %s" % e) from e

    def send_frame(self, opcode, payload, fin=True):
        self.send_raw(self.frame(opcode, payload, fin=fin))

    def send_text(self, text):
        """Send a text frame; text may be str or raw bytes (even invalid UTF-8)."""
        self.send_frame(OP_TEXT, text.encode() if isinstance(text, str) else text)

    def send_binary(self, data):
        self.send_frame(OP_BINARY, data)

    def send_json(self, obj):
        self.send_text(json.dumps(obj, separators=(",", ":")))

    def recv_frame(self, deadline):
        b0, b1 = self._take(2, deadline)
        fin, opcode = bool(b0 & 0x80), b0 & 0x0F
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", self._take(2, deadline))[0]
        elif n == 127:
            n = struct.unpack("!Q", self._take(8, deadline))[0]
        if n > 64 * 1024 * 1024:
            raise AssertionError("frame of %d bytes from the coordinator" % n)
        mk = self._take(4, deadline) if b1 & 0x80 else None
        payload = self._take(n, deadline)
        if mk:
            payload = _xor_mask(payload, mk)
        return fin, opcode, payload

    def recv(self, timeout=10.0):
        """Next data message: (opcode, bytes). Answers pings. Raises
        WSClosed on a close frame or a closed connection, socket.timeout."""
        deadline = time.monotonic() + timeout
        parts, op0 = [], None
        while True:
            fin, op, payload = self.recv_frame(deadline)
            if op == OP_PING:
                self.send_frame(OP_PONG, payload)
                continue
            if op == OP_PONG:
                continue
            if op == OP_CLOSE:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                try:
                    self.send_frame(OP_CLOSE, payload[:2])
                except (WSClosed, OSError):
                    pass
                raise WSClosed("close frame", code, payload[2:].decode("utf-8", "replace"))
            if op0 is None:
                op0 = op
            parts.append(payload)
            if fin:
                return op0, b"".join(parts)

    def recv_json(self, timeout=10.0):
        op, data = self.recv(timeout)
        return json.loads(data.decode("utf-8"))

    def hello(self, name, version="test", timeout=10.0, **extra):
        """Send hello; return the welcome (fails on anything else)."""
        m = {"type": "hello", "name": name, "version": version}
        m.update(extra)
        self.send_json(m)
        w = self.recv_json(timeout)
        if w.get("type") != "welcome":
            raise AssertionError("expected welcome, got %r" % (w,))
        return w

    def close(self):
        if self.sock is None:
            return
        try:
            self.send_frame(OP_CLOSE, struct.pack("!H", 1000))
        except (WSClosed, OSError):
            pass
        try:
            self.sock.close()
        except OSError:
            pass
        self.sock = None


class EventsClient(WSClient):
    """The operator API's events websocket (protocol bora-events) for
    execution xid: on the unix socket unix_path, or over HTTPS on port
    with ca and an operator token."""

    def __init__(self, xid, unix_path=None, port=None, ca=None, token=None,
                 query="", timeout=10.0):
        super().__init__(port or 0, ca=ca, protocol="bora-events", timeout=timeout)
        self.unix_path = unix_path
        self.token = token
        self.path = "/v1/executions/%s/events%s" % (xid, query)

    def open_socket(self):
        if self.unix_path is None:
            return super().open_socket()
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        try:
            s.connect(self.unix_path)
        except OSError:
            s.close()
            raise
        self.sock = s

    def upgrade_request(self):
        req = super().upgrade_request().decode()
        req = req.replace("GET / HTTP/1.1", "GET %s HTTP/1.1" % self.path, 1)
        if self.token is not None:
            req = req.replace("\r\n\r\n", "\r\nAuthorization: Bearer %s\r\n\r\n"
                              % self.token, 1)
        return req.encode()

    def events(self, timeout=60.0):
        """Every event until the server closes; (events, close code)."""
        out = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                op, data = self.recv(max(0.1, deadline - time.monotonic()))
            except WSClosed as e:
                return out, e.code
            if op != OP_TEXT:
                raise AssertionError("a non-text message: %r" % op)
            out.append(json.loads(data))
        raise AssertionError("the events websocket did not close within %s s" % timeout)


def _xor_mask(data, mk):
    if not data:
        return b""
    n = len(data)
    key = int.from_bytes((mk * (n // 4 + 1))[:n], "big")
    return (int.from_bytes(data, "big") ^ key).to_bytes(n, "big")


def closed_within(sock, timeout):
    """Read from sock until EOF / reset / TLS error, for at most timeout s.
    Returns (True, bytes read) when the peer closed, (False, bytes) if not."""
    got = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sock.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            break
        except (ssl.SSLError, ConnectionResetError, BrokenPipeError):
            return True, got
        except OSError as e:
            if e.errno in (errno.ECONNRESET, errno.EPIPE, errno.ENOTCONN):
                return True, got
            raise
        if not chunk:
            return True, got
        got += chunk
    return False, got


def read_line(stream, timeout):
    """One line from a subprocess pipe (text mode, unbuffered fd use), at
    most timeout seconds; "" at EOF. Fails on timeout."""
    fd = stream.fileno()
    buf = b""
    deadline = time.monotonic() + timeout
    while not buf.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError("no complete line within %.0f s (got %r)" % (timeout, buf))
        r, _, _ = select.select([fd], [], [], left)
        if not r:
            continue
        b = os.read(fd, 1)
        if not b:
            break
        buf += b
    return buf.decode("utf-8", "replace")


def read_all(stream, timeout):
    """The rest of a subprocess pipe until EOF, at most timeout seconds."""
    fd = stream.fileno()
    buf = b""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError("pipe still open after %.0f s (got %r)" % (timeout, buf))
        r, _, _ = select.select([fd], [], [], left)
        if not r:
            continue
        b = os.read(fd, 65536)
        if not b:
            return buf.decode("utf-8", "replace")
        buf += b


def main():
    signal.signal(signal.SIGTERM, _on_sigterm)
    unittest.main(verbosity=2)
