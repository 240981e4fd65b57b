#!/usr/bin/env python3
"""The agent reconnects by itself, with backoff, forever: after the
coordinator stops cleanly, after it is killed with SIGKILL, and when it
starts after the agent."""

import os
import signal
import sys
import time

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Api  # noqa: E402

RECONNECT_BOUND = 20.0    # seconds, with --reconnect-max-ms 2000


class Reconnect(harness.BoraTestCase):
    AGENTS = ("local", "other")

    def setUp(self):
        super().setUp()
        self.start_coordinator()
        self.agent = self.start_agent("local", reconnect_min_ms=100, reconnect_max_ms=2000)
        self.wait_agent("local")

    def step_works(self):
        sid, events, res = self.run_step("local", "#!/bin/sh\necho alive\n")
        self.assertEqual(res["status"], "success", res)
        self.assertEqual(Api.output_of(events, "stdout"), "alive\n")

    def restart(self, how):
        old = self.coord
        if how == "kill":
            old.kill()
        else:
            self.assertEqual(old.stop(signal.SIGTERM), 0, old.log_tail())
        # Leave the agent without a coordinator for a while, so that it
        # fails a few attempts and backs off.
        time.sleep(3)
        self.assertTrue(self.agent.running(), self.agent.log_tail())
        self.start_coordinator()
        t0 = time.monotonic()
        self.wait_agent("local", timeout=RECONNECT_BOUND)
        return time.monotonic() - t0

    def test_after_sigterm(self):
        self.step_works()
        self.restart("term")
        self.agent.wait_log("connected to coordinator", count=2)
        self.step_works()

    def test_after_sigkill(self):
        self.step_works()
        self.restart("kill")
        self.step_works()

    def test_several_restarts(self):
        for i in range(3):
            self.restart("kill" if i % 2 else "term")
            self.step_works()
        self.agent.wait_log("connected to coordinator", count=4)

    def test_coordinator_starts_after_agent(self):
        # A fresh agent that has never seen a coordinator.
        self.coord.stop()
        late = harness.free_port()
        agent2 = self.start_agent("other", port=late, reconnect_min_ms=100,
                                  reconnect_max_ms=1000)
        time.sleep(3)
        self.assertTrue(agent2.running(), agent2.log_tail())
        self.start_coordinator(port=late)
        self.wait_agent("other", timeout=RECONNECT_BOUND)
        sid, events, res = self.run_step("other", "#!/bin/sh\necho late\n")
        self.assertEqual(res["status"], "success", res)
        self.assertEqual(Api.output_of(events, "stdout"), "late\n")

    def test_agent_restart_is_seen(self):
        """An agent that goes away is dropped from the registry; when it comes
        back it is listed once."""
        self.assertEqual(self.agent.stop(), 0, self.agent.log_tail())
        self.wait_agent("local", present=False, timeout=15)
        self.coord.wait_log(r"agent disconnected .*agent=local")
        self.agent = self.start_agent("local")
        self.wait_agent("local")
        self.assertEqual(self.api.agents().count("local"), 1)
        self.step_works()


if __name__ == "__main__":
    harness.main()
