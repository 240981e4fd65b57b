#!/usr/bin/env python3
"""Fault: the agent of a running step stays away (issue 14). The coordinator
does not wait for it until the task timeout: past the step's bound (its
timeout plus 3 heartbeats, coordinator/agents/coord_step_away.c) the step is
`lost`, finished by the coordinator.

The coordinator runs with --heartbeat-s 1 and the step with a 3 s timeout:
its bound is 6 s.
- The agent is killed with SIGKILL mid-step and not restarted: the step is
  `lost` with the coordinator's sentence, no sooner than the bound after
  the agent's disconnection.
- The link is blackholed (faultlib.TcpProxy) while a step runs, for longer
  than the hangup and the bound: the agent ends the step by its timeout,
  the coordinator calls it `lost`; when the link is back the agent's late
  result is only acked and the step stays `lost`."""

import os
import sys
import time

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import faultlib  # noqa: E402
from faultlib import esc, say  # noqa: E402
from harness import file_lines, kill_group  # noqa: E402

HEARTBEAT_S = 1
STEP_TIMEOUT_S = 3
BOUND_S = STEP_TIMEOUT_S + 3 * HEARTBEAT_S
AWAY_ERROR = "agent local was away longer than %d s while the step ran" % BOUND_S


class AgentAway(harness.BoraTestCase):

    def setUp(self):
        super().setUp()
        self.proxy, self.agent = faultlib.start_behind_proxy(self, HEARTBEAT_S, 500)
        self.groups = []
        self.addCleanup(lambda: [kill_group(g) for g in self.groups])

    def start_sleeper(self, sleep_s):
        marker = os.path.join(self.work, "marker")
        script = ("#!/bin/sh\n"
                  "echo \"ran $$\" >> %s\n"
                  "sleep %d\n"
                  "echo finished >> %s\n" % (marker, sleep_s, marker))
        sid = self.api.submit("local", script, timeout=STEP_TIMEOUT_S)
        lines = harness.wait_for(lambda: file_lines(marker), harness.STEP_TIMEOUT,
                                 "marker %s" % marker, on_fail=self.all_logs)
        pgid = int(lines[0].split()[1])
        self.groups.append(pgid)
        return sid, pgid, marker

    def test_agent_killed_and_not_back_is_lost_after_the_bound(self):
        # The script outlives its timeout: only the agent would end it.
        sid, pgid, _ = self.start_sleeper(60)
        self.agent.kill()
        t_kill = time.monotonic()
        self.coord.wait_log(r"agent disconnected agent=local")
        res = self.api.wait_done(sid, timeout=BOUND_S + 30)
        took = time.monotonic() - t_kill
        say("lost %.1f s after the agent was killed (bound %d s)", took, BOUND_S)
        self.assertEqual(res["status"], "lost", res)
        self.assertEqual(res.get("error"), AWAY_ERROR, res)
        self.assertGreaterEqual(took, BOUND_S - 0.5)
        self.coord.wait_log(r"step finished step=%s agent=local status=lost "
                            r"where=coordinator" % esc(sid))

    def test_partitioned_agent_late_result_is_only_acked(self):
        sid, pgid, marker = self.start_sleeper(30)
        self.proxy.blackhole()
        self.coord.wait_log(r"agent disconnected agent=local", timeout=30)
        # The agent, cut off but alive, ends the step by its timeout ...
        self.agent.wait_log(r"step timed out, killing its process group step=%s " % esc(sid),
                            timeout=30)
        # ... and the coordinator, which cannot know, calls it lost.
        res = self.api.wait_done(sid, timeout=BOUND_S + 30)
        self.assertEqual(res["status"], "lost", res)
        self.assertEqual(res.get("error"), AWAY_ERROR, res)

        self.proxy.forward()
        self.agent.wait_log(r"result acked step=%s$" % esc(sid), timeout=60)
        self.assertEqual(self.api.wait_done(sid)["status"], "lost")
        self.assertEqual(file_lines(marker)[1:], [], "the step ran on")

if __name__ == "__main__":
    harness.main()
