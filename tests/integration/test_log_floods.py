#!/usr/bin/env python3
"""Log floods (proto/log_gate.h): a repeated log event is rate limited per
kind and source. An enrolled agent that sends thousands of `error` messages,
and a client that opens hundreds of refused connections, each leave a few
lines per window, not one per packet; the next line after the window says
how many were left out (suppressed=N). The coordinator keeps serving."""

import json
import os
import socket
import ssl
import sys
import time

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import WSClient  # noqa: E402

BURST = 5            # LOG_GATE_BURST
WINDOW_S = 10        # LOG_GATE_WINDOW_MS / 1000
ERRORS = 2000


class LogFloods(harness.BoraTestCase):
    AGENTS = ("local",)

    def setUp(self):
        super().setUp()
        self.start_coordinator()
        self.start_connected_agent("local")

    def sync(self, ws):
        """A refused message answered: every message before it is handled."""
        ws.send_json({"type": "accept", "step": "no-such-step", "pid": 1})
        while True:
            m = ws.recv_json(10)
            if m.get("type") == "error":
                return

    def test_agent_error_messages(self):
        ws = WSClient(self.port, ca=self.ca, cert=self.cert("fake"), key=self.key("fake"))
        ws.connect()
        ws.hello("fake")
        msg = json.dumps({"type": "error", "code": "flood", "detail": "x"})
        t0 = time.monotonic()
        ws.send_raw(WSClient.frame(0x1, msg.encode()) * ERRORS)
        self.sync(ws)
        took = time.monotonic() - t0
        self.assertLess(took, WINDOW_S, "the burst took %.1f s" % took)
        pattern = r"agent reports error agent=fake code=flood"
        self.assertEqual(self.coord.count(pattern), BURST, self.coord.log_tail())
        # past the window, the next one says how many were left out
        time.sleep(WINDOW_S + 0.5)
        ws.send_json({"type": "error", "code": "flood", "detail": "again"})
        self.coord.wait_log(pattern + r" suppressed=%d" % (ERRORS - BURST), timeout=10)
        ws.close()
        sid, events, res = self.run_step("local", "#!/bin/sh\necho fine\n")
        self.assertEqual(res["status"], "success", res)

    def test_refused_connections(self):
        """300 refused connections (HTTP requests over TLS, and TLS with a
        certificate of another CA, on the agent port): a few lines."""
        n = 300
        plain = ssl.create_default_context(cafile=self.ca)
        foreign = ssl.create_default_context(cafile=self.ca)
        foreign.load_cert_chain(self.cert("foreign-agent"), self.key("foreign-agent"))
        t0 = time.monotonic()
        for i in range(n):
            s = socket.create_connection((harness.HOST, self.port), timeout=5)
            try:
                s = (foreign if i % 2 else plain).wrap_socket(
                    s, server_hostname="localhost")
                s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                harness.closed_within(s, 5)
            except (OSError, ssl.SSLError):
                pass
            finally:
                s.close()
        took = time.monotonic() - t0
        # the coordinator still serves, then count the lines
        sid, events, res = self.run_step("local", "#!/bin/sh\necho fine\n")
        self.assertEqual(res["status"], "success", res)
        lines = self.coord.count(r"refused connection addr=127\.0\.0\.1:")
        self.assertGreaterEqual(lines, 1, self.coord.log_tail())
        # a burst for each window the loop above touched, no more
        windows = int(took / WINDOW_S) + 2
        print("%d refused connections in %.1f s: %d lines" % (n, took, lines))
        self.assertLessEqual(lines, BURST * windows,
                             "%d lines in %.1f s" % (lines, took))


if __name__ == "__main__":
    harness.main()
