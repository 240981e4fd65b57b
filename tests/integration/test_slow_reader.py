#!/usr/bin/env python3
"""A non-reading agent (docs/security.md, outbound cap): a fake agent says
hello and then never reads, with a tiny receive buffer, while steps with
large scripts are sent to it. The coordinator's per-agent send queue
(--max-queue-bytes) fills, and the agent is dropped with a log line that
says why, once per connection. Its steps are not lost: the ones whose run
did not go out stay waiting for it, and go out again when it comes back
(and is dropped again, five rounds). Meanwhile a real agent's steps run,
and the coordinator's memory does not grow from round to round."""

import os
import re
import socket
import sys
import time

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Api, WSClient, status_kib  # noqa: E402

QUEUE_CAP = 65536
SCRIPT_BYTES = 64 * 1024
# More than the socket buffers on both sides of a loopback connection
# (tcp_wmem max 4 MiB) plus the queue: the queue must overflow.
STEPS = 160
ROUNDS = 5
# VmRSS growth allowed from the end of round 1 to the end of the last one:
# a coordinator that kept each round's queue (64 KiB plus what the socket
# took, ~2 MiB a round) or its runs would pass it; allocator noise does
# not. The coordinator gets a small ASan quarantine (as in
# test_output_memory.py), else freed buffers held back by ASan look like
# growth.
RSS_GROWTH_KIB = 8 * 1024
QUARANTINE_MB = 4


class TinyWindowClient(WSClient):
    """A WSClient whose socket takes almost nothing before it is read."""

    def open_socket(self):
        raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        raw.settimeout(self.timeout)
        raw.connect((harness.HOST, self.port))
        ctx = harness.tls_context(self.ca, self.cert, self.key)
        self.sock = ctx.wrap_socket(raw, server_hostname=harness.HOST)


class SlowReader(harness.BoraTestCase):
    AGENTS = ("local", "slow")

    def setUp(self):
        super().setUp()
        with harness.small_asan_quarantine(QUARANTINE_MB):
            self.start_coordinator(extra=("--max-queue-bytes", str(QUEUE_CAP)))
        self.start_connected_agent("local")

    def slow_agent(self, read_welcome=True):
        """Connect as "slow" and say hello; read the welcome only when
        asked (once the runs follow it at once, the close that drops the
        agent may reset the connection before the test reads anything)."""
        ws = TinyWindowClient(self.port, ca=self.ca, cert=self.cert("slow"),
                              key=self.key("slow"))
        ws.connect()
        if read_welcome:
            ws.hello("slow")
        else:
            ws.send_json({"type": "hello", "name": "slow", "version": "test"})
        return ws

    def wait_dropped(self, n):
        self.coord.wait_log(r"dropping agent agent=slow addr=127\.0\.0\.1:\d+ "
                            r"reason=\"send queue full: the agent is not "
                            r"reading\" queued=\d+ cap=%d" % QUEUE_CAP,
                            timeout=30, count=n)
        self.coord.wait_log(r"agent disconnected agent=slow ", timeout=30, count=n)

    def test_non_reading_agent_is_dropped_others_unaffected(self):
        ws = self.slow_agent()
        self.wait_agent("slow")
        # never read again; push large runs at it
        filler = "#" * SCRIPT_BYTES
        sids = []
        for i in range(STEPS):
            sids.append(self.api.submit("slow", "#!/bin/sh\n%s\necho %d\n" % (filler, i)))
            if self.coord.count(r"dropping agent agent=slow ") > 0:
                break
        self.wait_dropped(1)
        self.assertEqual(self.coord.count(r"dropping agent agent=slow "), 1)
        queued = [int(q) for q in re.findall(r"dropping agent agent=slow .* queued=(\d+) ",
                                             self.coord.log())]
        # the cap bounds the backlog; an empty queue takes one message whole
        self.assertLessEqual(queued[0], QUEUE_CAP + SCRIPT_BYTES + 1024)
        ws.close()
        # the other agent works, promptly
        t0 = time.monotonic()
        sid, events, res = self.run_step("local", "#!/bin/sh\necho still here\n")
        self.assertEqual(res["status"], "success", res)
        self.assertEqual(Api.output_of(events, "stdout"), "still here\n")
        self.assertLess(time.monotonic() - t0, 15)
        # nothing lost: the last run could not go out, so it still waits
        last = self.api.step(sids[-1])
        self.assertFalse(Api.step_done(last), last)
        self.assertIn(last.get("state"), ("waiting", "dispatched"), last)
        # it comes back, still not reading: its waiting runs go out again
        # and it is dropped again; memory does not grow round to round
        after_first = status_kib(self.coord.pid, "VmRSS")
        for n in range(2, ROUNDS + 1):
            ws = self.slow_agent(read_welcome=False)
            self.wait_dropped(n)
            ws.close()
        grown = status_kib(self.coord.pid, "VmRSS") - after_first
        print("slow reader: dropped after %d steps of %d KiB, %d rounds; "
              "coordinator VmRSS after round 1 %d KiB, grew %d KiB since"
              % (len(sids), SCRIPT_BYTES // 1024, ROUNDS, after_first, grown))
        self.assertLess(grown, RSS_GROWTH_KIB)
        self.assertFalse(Api.step_done(self.api.step(sids[-1])))
        # the coordinator still serves
        sid, events, res = self.run_step("local", "#!/bin/sh\necho after\n")
        self.assertEqual(res["status"], "success", res)


if __name__ == "__main__":
    harness.main()
