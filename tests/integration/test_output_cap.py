#!/usr/bin/env python3
"""Output past max_output_bytes is counted and dropped, never buffered, and
the result says so: the stream carries exactly the cap, the result counts
every byte the step wrote and names what was dropped."""

import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Api  # noqa: E402

CAP = 4096
WRITTEN = 100000


class OutputCap(harness.BoraTestCase):
    def setUp(self):
        super().setUp()
        self.start_coordinator()
        self.start_agent("local", extra=("--max-output-bytes", str(CAP)))
        self.wait_agent("local")

    def test_cap_counted_dropped_and_reported(self):
        sid = self.api.submit("local", "#!/bin/sh\nhead -c %d /dev/zero | tr '\\0' x\n" % WRITTEN)
        events = self.api.events(sid)
        res = self.api.wait_done(sid)
        self.assertEqual(res["status"], "success", res)
        self.assertEqual(Api.output_of(events, "stdout"), "x" * CAP)
        self.assertEqual(res.get("stdout_bytes"), WRITTEN, res)
        self.assertIn("stdout passed max_output_bytes (%d): %d of %d bytes not streamed"
                      % (CAP, WRITTEN - CAP, WRITTEN), res.get("error", ""), res)

    def test_cap_reached_exactly_then_passed(self):
        # the first read ends exactly at the cap; what follows is dropped
        # and must still be reported (a read past the cap, not across it)
        sid = self.api.submit("local", "#!/bin/sh\nhead -c %d /dev/zero | tr '\\0' y\n"
                              "sleep 0.5\necho more\n" % CAP)
        events = self.api.events(sid)
        res = self.api.wait_done(sid)
        self.assertEqual(Api.output_of(events, "stdout"), "y" * CAP)
        self.assertEqual(res.get("stdout_bytes"), CAP + 5, res)
        self.assertIn("stdout passed max_output_bytes (%d): 5 of %d bytes not streamed"
                      % (CAP, CAP + 5), res.get("error", ""), res)


if __name__ == "__main__":
    harness.main()
