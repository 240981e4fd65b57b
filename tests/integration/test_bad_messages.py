#!/usr/bin/env python3
"""Malformed messages from one agent are refused (an error message back, or
the connection closed), logged and counted, and never disturb another agent:
a real agent streams a step the whole time a fake agent misbehaves, and its
output and result come through intact. Hostile values (huge numbers, deep
nesting, invalid UTF-8) in results are refused the same way, and sending
every bad message forty times over does not grow the coordinator's memory."""

import json
import os
import socket
import sys
import threading
import time

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Api, WSClient, WSClosed, status_kib  # noqa: E402

MAX_MSG = 65536

STREAMING = """#!/bin/sh
i=0
while [ $i -lt 40 ]; do
  echo "tick $i"
  echo "tock $i" >&2
  i=$((i+1))
  sleep 0.1
done
exit 0
"""
STREAMING_OUT = "".join("tick %d\n" % i for i in range(40))
STREAMING_ERR = "".join("tock %d\n" % i for i in range(40))


def valid_result(step, status="failed", code=42):
    return {"type": "result", "step": step, "status": status, "exit_code": code,
            "signal": 0, "outputs": {}, "started_ms": 1, "finished_ms": 2,
            "stdout_bytes": 0, "stderr_bytes": 0}


def deep(n):
    return '{"type":"output","step":"x","stream":"stdout","seq":0,"data":' + \
        "[" * n + "]" * n + "}"


def result_text(exit_code="1", outputs="{}"):
    """A result message as text, with raw JSON for two of its values."""
    return ('{"type":"result","step":"s1","status":"failed","exit_code":%s,'
            '"signal":0,"outputs":%s,"started_ms":1,"finished_ms":2,'
            '"stdout_bytes":0,"stderr_bytes":0}' % (exit_code, outputs))


LOG_BURST = 5        # proto/log_gate.h LOG_GATE_BURST: lines per window

# (name, how to send it, may_close). Every bad message gets an error message
# back and a "bad message agent=fake" log (docs/protocol.md: refused with an
# error message and counted). For may_close cases, which libwebsockets itself
# may refuse before the coordinator sees them, closing the connection is an
# acceptable answer too.
BAD = [
    ("invalid JSON", lambda ws: ws.send_text('{"type": "output", "step": '), False),
    ("truncated JSON", lambda ws: ws.send_text('{"type":"accept","step":"s1"'), False),
    ("not an object", lambda ws: ws.send_text('[1,2,3]'), False),
    ("no type", lambda ws: ws.send_json({"step": "s1"}), False),
    ("type not a string", lambda ws: ws.send_json({"type": 7}), False),
    ("unknown type", lambda ws: ws.send_json({"type": "launch_missiles", "step": "s1"}), False),
    ("wrong field types", lambda ws: ws.send_json(
        {"type": "output", "step": 123, "stream": "stdout", "seq": "zero", "data": 5}), False),
    ("bad enum value", lambda ws: ws.send_json(
        {"type": "output", "step": "s1", "stream": "stdpipe", "seq": 0, "data": "x"}), False),
    ("negative seq", lambda ws: ws.send_json(
        {"type": "output", "step": "s1", "stream": "stdout", "seq": -1, "data": "x"}), False),
    ("missing field", lambda ws: ws.send_json({"type": "accept"}), False),
    ("unknown field", lambda ws: ws.send_json(
        {"type": "accept", "step": "s1", "pid": 1, "surprise": True}), False),
    ("coordinator-only type", lambda ws: ws.send_json(
        {"type": "run", "step": "s1", "kind": "script", "spec": {"script": "x"},
         "timeout": 5}), False),
    ("second hello", lambda ws: ws.send_json(
        {"type": "hello", "name": "fake", "version": "x"}), False),
    ("deep nesting", lambda ws: ws.send_text(deep(1000)), False),
    ("bad step id", lambda ws: ws.send_json(
        {"type": "accept", "step": "../../etc/passwd\n", "pid": 1}), False),
    ("unknown step", lambda ws: ws.send_json(
        {"type": "output", "step": "no-such-step", "stream": "stdout", "seq": 0,
         "data": "x"}), False),
    ("oversize", lambda ws: ws.send_text(
        '{"type":"output","step":"s1","stream":"stdout","seq":0,"data":"'
        + "A" * (MAX_MSG + 100) + '"}'), True),
    ("invalid UTF-8", lambda ws: ws.send_text(
        b'{"type":"output","step":"s1","stream":"stdout","seq":0,"data":"\xff\xfe\xc3("}'),
     True),
    ("binary frame", lambda ws: ws.send_binary(b'{"type":"accept","step":"s1","pid":1}'), True),
    ("huge number", lambda ws: ws.send_text(result_text(exit_code="1e400")), False),
    ("huge integer", lambda ws: ws.send_text(
        result_text(exit_code="123456789012345678901234567890")), False),
    ("huge number in outputs", lambda ws: ws.send_text(
        result_text(outputs='{"x": -1e999999}')), False),
    ("huge seq", lambda ws: ws.send_text(
        '{"type":"output","step":"s1","stream":"stdout","seq":1e30,"data":"x"}'), False),
    ("deep nesting in outputs", lambda ws: ws.send_text(
        result_text(outputs='{"x":' + "[" * 10000 + "]" * 10000 + "}")), False),
    ("invalid UTF-8 in outputs", lambda ws: ws.send_text(
        result_text(outputs='{"x":"\xc0\xaf"}').encode("latin-1")), True),
    ("NUL escaped in a step id", lambda ws: ws.send_text(
        '{"type":"accept","step":"s1\\u0000x","pid":1}'), False),
]

# Memory: rounds of every BAD message before measuring, and after; growth
# allowed between the two (KiB). The coordinator gets a small ASan
# quarantine, else freed memory held back by ASan looks like growth.
WARM_ROUNDS = 5
ROUNDS = 40
RSS_GROWTH_KIB = 4 * 1024
QUARANTINE_MB = 4


class BadMessages(harness.BoraTestCase):
    AGENTS = ("local", "fake")

    def setUp(self):
        super().setUp()
        with harness.small_asan_quarantine(QUARANTINE_MB):
            self.start_coordinator(extra=["--max-message-bytes", str(MAX_MSG)])
        self.agent = self.start_agent("local")
        self.wait_agent("local")

    def fake(self):
        ws = WSClient(self.port, ca=self.ca, cert=self.cert("fake"), key=self.key("fake"))
        ws.connect()
        w = ws.hello("fake")
        self.assertEqual(w.get("name"), "fake", w)
        return ws

    def answer(self, ws, timeout=10):
        """('error', msg) for an error message, ('closed', why) when the
        coordinator closed us. Anything else (other than pings) fails."""
        try:
            while True:
                m = ws.recv_json(timeout)
                if m.get("type") == "error":
                    return "error", m
                self.fail("expected an error message, got %r" % (m,))
        except WSClosed as e:
            return "closed", str(e)
        except socket.timeout:
            self.fail("no answer within %d s (neither an error nor a close)" % timeout)

    def misbehave(self, ws, name, send, may_close):
        """Send one bad message; returns the (possibly new) connection."""
        bad_before = self.coord.count(r"bad message .*agent=fake")
        try:
            send(ws)
            kind, what = self.answer(ws)
        except WSClosed as e:
            kind, what = "closed", str(e)
        if kind == "error":
            self.assertIsInstance(what.get("code"), str, what)
            self.assertTrue(what.get("code"), what)
            self.assertIsInstance(what.get("detail"), str, what)
        elif not may_close:
            self.fail("%s: connection closed (%s) instead of an error message" % (name, what))
        # logged, a few per window (proto/log_gate.h: the rest are counted
        # and the next line says how many): the first ones each get a line
        if kind == "error" and bad_before < LOG_BURST:
            harness.wait_for(lambda: self.coord.count(r"bad message .*agent=fake") > bad_before,
                             10, "a 'bad message agent=fake' line for %s (%s)" % (name, kind),
                             on_fail=self.coord.log_tail)
        self.results.append((name, kind, what))
        self.assertTrue(self.coord.running(), "coordinator died on %s\n%s" % (
            name, self.coord.log_tail()))
        if kind == "closed":
            ws.close()
            return self.fake()
        return ws

    def test_bad_messages_do_not_disturb_another_agent(self):
        self.results = []
        sid = self.api.submit("local", STREAMING, timeout=60)
        events, failures = [], []

        def read():
            try:
                self.api.events(sid, 90, on_event=events.append)
            except BaseException as e:     # reported below
                failures.append(e)
        reader = threading.Thread(target=read)
        reader.start()
        try:
            # Wait until the real step is streaming, then misbehave meanwhile.
            harness.wait_for(lambda: any(Api.event_kind(e) == "output" for e in events),
                             20, "the real step to stream", on_fail=self.all_logs)
            ws = self.fake()
            for name, send, may_close in BAD:
                ws = self.misbehave(ws, name, send, may_close)
            # A forged result for the real agent's step: refused, not applied.
            ws.send_json(valid_result(sid, "failed", 42))
            kind, what = self.answer(ws)
            self.results.append(("result for another agent's step", kind, what))
            if kind == "closed":
                ws = self.fake()
            # The same for accept and output of that step.
            for m in ({"type": "accept", "step": sid, "pid": 1},
                      {"type": "output", "step": sid, "stream": "stdout", "seq": 0,
                       "data": "FORGED\n"}):
                ws.send_json(m)
                kind, what = self.answer(ws)
                self.results.append(("%s for another agent's step" % m["type"], kind, what))
                if kind == "closed":
                    ws = self.fake()
            ws.close()
            overlap = not any(Api.event_kind(e) == "result" for e in events)
            sys.stderr.write("fake agent done while the real step %s\n" % (
                "still ran" if overlap else "had already finished"))
        finally:
            reader.join(120)
        self.assertFalse(reader.is_alive(), "event stream did not end")
        self.assertEqual(failures, [])
        res = self.api.wait_done(sid)
        sys.stderr.write("answers:\n" + "".join(
            "  %-32s %s %s\n" % (n, k, json.dumps(w) if isinstance(w, dict) else w)
            for n, k, w in self.results))

        # The real step is intact: its own output, its own result.
        self.assertEqual(res["status"], "success", res)
        self.assertEqual(res["exit_code"], 0, res)
        self.assertEqual(Api.output_of(events, "stdout"), STREAMING_OUT)
        self.assertEqual(Api.output_of(events, "stderr"), STREAMING_ERR)
        self.assertEqual([Api.event_kind(e) for e in events].count("result"), 1)
        # The forged messages for the real step were refused, not applied.
        for name, kind, what in self.results[-3:]:
            self.assertEqual(kind, "error", "%s: %s" % (name, what))

        # Cases that must be answered with an error (the connection may stay).
        for name, kind, what in self.results:
            self.assertIn(kind, ("error", "closed"), name)
        errors = [r for r in self.results if r[1] == "error"]
        self.assertGreaterEqual(len(errors), 10, self.results)

        # The coordinator is alive, lists the real agent, runs a new step.
        self.assertTrue(self.coord.running())
        self.assertIn("local", self.api.agents())
        sid2, ev2, res2 = self.run_step("local", "#!/bin/sh\necho after\n")
        self.assertEqual(res2["status"], "success", res2)
        self.assertEqual(Api.output_of(ev2, "stdout"), "after\n")

    def bad_round(self, ws):
        """Every BAD message once, reconnecting when closed (past 100 bad
        messages a connection is closed whatever it sent); the connection."""
        for name, send, may_close in BAD:
            try:
                send(ws)
                kind, what = self.answer(ws)
            except WSClosed as e:
                kind, what = "closed", str(e)
            if kind == "closed":
                ws.close()
                ws = self.fake()
        return ws

    def test_bad_messages_do_not_grow_memory(self):
        ws = self.fake()
        for _ in range(WARM_ROUNDS):
            ws = self.bad_round(ws)
        before = status_kib(self.coord.pid, "VmRSS")
        for _ in range(ROUNDS):
            ws = self.bad_round(ws)
        grown = status_kib(self.coord.pid, "VmRSS") - before
        ws.close()
        sys.stderr.write("%d rounds of %d bad messages: coordinator VmRSS %d KiB, "
                         "grew %d KiB\n" % (ROUNDS, len(BAD), before, grown))
        self.assertLess(grown, RSS_GROWTH_KIB)
        self.assertTrue(self.coord.running())
        sid, events, res = self.run_step("local", "#!/bin/sh\necho fine\n")
        self.assertEqual(res["status"], "success", res)

    def test_fake_steals_nothing_before_hello(self):
        """Messages before hello are refused; the agent list is unchanged."""
        ws = WSClient(self.port, ca=self.ca, cert=self.cert("fake"), key=self.key("fake"))
        ws.connect()
        try:
            ws.send_json({"type": "accept", "step": "s1", "pid": 1})
            kind, what = self.answer(ws)
            self.assertIn(kind, ("error", "closed"))
        finally:
            ws.close()
        self.assertEqual(self.api.agents(), ["local"])

    def test_flood_of_bad_messages(self):
        """Many bad messages in a burst: answered or closed, nothing stalls."""
        ws = self.fake()
        for i in range(300):
            try:
                ws.send_text('{"type": %d}' % i)
            except WSClosed:
                break
        # Drain whatever comes back; then the coordinator still serves others.
        try:
            while True:
                ws.recv(2)
        except (WSClosed, socket.timeout):
            pass
        ws.close()
        t0 = time.monotonic()
        sid, events, res = self.run_step("local", "#!/bin/sh\necho fine\n")
        self.assertEqual(res["status"], "success")
        self.assertEqual(Api.output_of(events, "stdout"), "fine\n")
        self.assertLess(time.monotonic() - t0, 20)
        self.assertTrue(self.coord.running())

    def test_same_name_twice(self):
        """A second connection with the same certificate replaces the first
        (or is refused); the registry holds one "fake", and the real agent
        is untouched."""
        a = self.fake()
        try:
            b = WSClient(self.port, ca=self.ca, cert=self.cert("fake"), key=self.key("fake"))
            b.connect()
            try:
                b.hello("fake")
            except (WSClosed, AssertionError):
                pass
            time.sleep(0.5)
            names = self.api.agents()
            self.assertEqual(names.count("fake"), 1, names)
            self.assertIn("local", names)
            b.close()
        finally:
            a.close()


if __name__ == "__main__":
    harness.main()
