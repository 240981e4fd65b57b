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
  result is only acked and the step stays `lost`.
- A workflow task with `agent-timeout: 3` and a step timeout of 60 s, the
  link blackholed: the step is `lost` 3 s after the disconnection, the
  execution ends ERROR (no safe-rerun); when the link is back the agent,
  which still runs the step, is told to cancel it and does, and its late
  result is only acked."""

import os
import re
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
WORKFLOW = """version: '2.0'
away:
  tasks:
    s:
      action: bora.script
      target: local
      agent-timeout: 3
      input:
        timeout: 60
        script: |
          #!/bin/sh
          echo "ran $$" >> %s
          sleep 30
          echo finished >> %s
"""


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

    def test_task_agent_timeout_then_cancel_on_return(self):
        marker = os.path.join(self.work, "marker")
        xid = faultlib.post_execution(self.api, WORKFLOW % (marker, marker), {})
        line = self.agent.wait_log(r"step started step=\S+ ", timeout=harness.STEP_TIMEOUT)[0]
        sid = re.search(r"step started step=(\S+) ", line).group(1)
        lines = harness.wait_for(lambda: file_lines(marker), harness.STEP_TIMEOUT,
                                 "marker %s" % marker, on_fail=self.all_logs)
        self.groups.append(int(lines[0].split()[1]))
        self.proxy.blackhole()
        self.coord.wait_log(r"agent disconnected agent=local", timeout=30)
        t_gone = time.monotonic()
        self.coord.wait_log(r"step finished step=%s .*status=lost where=coordinator "
                            r"reason=\"agent away longer than 3 s\"" % esc(sid), timeout=30)
        say("lost %.1f s after the coordinator dropped the agent (agent-timeout 3 s)",
            time.monotonic() - t_gone)
        x = faultlib.wait_execution_end(self.api, xid, 30, on_fail=self.all_logs)
        self.assertEqual(x["state"], "ERROR", x)
        self.assertEqual(self.api.step(sid)["result"]["error"],
                         "agent local was away longer than 3 s while the step ran")

        self.proxy.forward()
        self.coord.wait_log(r"step cancel sent step=%s .*reason=\"finished here while the "
                            r"agent was away\"" % esc(sid), timeout=60)
        self.agent.wait_log(r"cancelling step, killing its process group step=%s " % esc(sid))
        self.agent.wait_log(r"result acked step=%s$" % esc(sid), timeout=30)
        self.assertEqual(self.api.step(sid)["result"]["status"], "lost")
        self.assertEqual(faultlib.execution(self.api, xid)["state"], "ERROR")
        self.assertEqual(file_lines(marker)[1:], [], "the step ran on")


if __name__ == "__main__":
    harness.main()
