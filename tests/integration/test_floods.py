#!/usr/bin/env python3
"""Floods (docs/security.md, inbound rate cap): a fake agent that sends
output for an unknown step as fast as it can is refused (each counted and
logged) and then dropped past --max-rx-messages, with agent= and addr= in
the log, while a real agent's step on the same coordinator completes
normally and promptly."""

import json
import os
import sys
import threading
import time

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Api, WSClient  # noqa: E402


class Floods(harness.BoraTestCase):
    AGENTS = ("local",)

    def setUp(self):
        super().setUp()
        self.start_coordinator(extra=("--max-rx-messages", "200"))
        self.start_connected_agent("local")

    def test_flooding_agent_is_dropped_others_unaffected(self):
        ws = WSClient(self.port, ca=self.ca, cert=self.cert("fake"), key=self.key("fake"))
        ws.connect()
        ws.hello("fake")
        # output for an unknown step: refused with an error, and counted
        ws.send_json({"type": "output", "step": "no-such-step", "stream": "stdout",
                      "seq": 0, "data": "x"})
        ans = ws.recv_json()
        self.assertEqual(ans.get("type"), "error", ans)
        self.assertIn("unknown step", ans.get("detail", ""), ans)
        # then well-formed messages, as fast as it can (refused ones would
        # be cut off by the bad message count first)
        msg = json.dumps({"type": "error", "code": "flood", "detail": "x" * 100})
        burst = WSClient.frame(0x1, msg.encode()) * 200
        sent = [0]
        stop = threading.Event()

        def flood():
            try:
                while not stop.is_set():
                    ws.send_raw(burst)
                    sent[0] += 200
            except Exception:   # closed, reset or blocked: stopped
                pass

        th = threading.Thread(target=flood, daemon=True)
        th.start()
        t0 = time.monotonic()
        sid, events, res = self.run_step("local", "#!/bin/sh\necho still here\n")
        took = time.monotonic() - t0
        self.assertEqual(res["status"], "success", res)
        self.assertEqual(Api.output_of(events, "stdout"), "still here\n")
        self.assertLess(took, 15, "the real step took %.1f s" % took)
        self.coord.wait_log(r"dropping agent agent=fake addr=127\.0\.0\.1:\d+ "
                            r"reason=\"inbound rate over the cap\"", timeout=20)
        th.join(20)
        stop.set()
        self.assertFalse(th.is_alive(), "the flooding connection was not closed")
        # output for an unknown step: refused and counted
        self.assertGreaterEqual(self.coord.count(
            r"bad message agent=fake .*unknown step no-such-step.* count=1"), 1)
        print("flood: %d messages sent before the close" % sent[0])
        ws.close()
        # the coordinator still serves
        sid, events, res = self.run_step("local", "#!/bin/sh\necho after\n")
        self.assertEqual(res["status"], "success", res)


class PingFlood(harness.BoraTestCase):
    """Websocket pings count against the inbound byte cap like any other
    bytes (libwebsockets answers them itself, without telling us per
    frame): an agent that only pings, as fast as it can, is dropped."""
    AGENTS = ("local",)

    def setUp(self):
        super().setUp()
        self.start_coordinator(extra=("--max-rx-bytes", "1048576"))
        self.start_connected_agent("local")

    def test_ping_flood_is_dropped(self):
        ws = WSClient(self.port, ca=self.ca, cert=self.cert("fake"), key=self.key("fake"))
        ws.connect()
        ws.hello("fake")
        burst = WSClient.frame(0x9, b"p" * 125) * 500     # 65 KB of pings
        sent = [0]
        stop = threading.Event()

        def flood():
            try:
                while not stop.is_set() and sent[0] < 2000 * 500:
                    ws.send_raw(burst)
                    sent[0] += 500
            except Exception:   # closed, reset or blocked: stopped
                pass

        th = threading.Thread(target=flood, daemon=True)
        th.start()
        try:
            self.coord.wait_log(r"dropping agent agent=fake addr=127\.0\.0\.1:\d+ "
                                r"reason=\"inbound rate over the cap\"", timeout=20)
            th.join(20)
            self.assertFalse(th.is_alive(), "the pinging connection was not closed")
        finally:
            stop.set()
            ws.close()
        print("ping flood: %d pings sent before the close" % sent[0])
        self.assertNotIn("fake", self.api.agents())
        sid, events, res = self.run_step("local", "#!/bin/sh\necho after\n")
        self.assertEqual(res["status"], "success", res)


if __name__ == "__main__":
    harness.main()
