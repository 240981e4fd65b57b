#!/usr/bin/env python3
"""Fault: the agent is killed with SIGKILL while a step runs (issue 14,
"Steps that outlive the agent"; docs/protocol.md, "Steps never run twice,
results are never lost").

The step's process group outlives the agent. The next agent process finds
the step's started-only journal entry with its process group and boot id
(agent/step_orphan.c): in the same boot it kills the group, and only then
reports the step `lost`, so a rerun can never overlap the first copy. After
a reboot (simulated: the boot id file named by BORA_BOOT_ID_FILE changed) it
kills nothing, since the number may be another process's now, and reports
`lost`.

The script writes a marker with its pid, starts a background child in its
own group and sleeps; every wait is on a log line, the API or /proc.

With `safe-rerun: true` (a workflow) the lost step runs again: the second
copy finds no live process of the first (it checks /proc itself), ends, and
the execution ends SUCCESS; the first copy never finished.

SIGTERM (systemctl stop) ends the agent's steps: the agent exits 0 and no
process of the step's group is left."""

import json
import os
import re
import signal
import sys

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import faultlib  # noqa: E402

from harness import LOST_ERROR, kill_group  # noqa: E402
from harness import file_lines as read_lines  # noqa: E402


def group_members(pgid):
    """Pids of the live (not zombie) processes of process group pgid."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                stat = f.read()
        except OSError:
            continue
        # pid (comm) state ppid pgrp ...: comm may hold spaces and ')'
        fields = stat[stat.rindex(")") + 2:].split()
        if fields[0] != "Z" and int(fields[2]) == pgid:
            out.append(int(d))
    return out

# The first copy sleeps; the rerun writes whether a process of the first
# copy is alive (not a zombie), then ends.
RERUN_WORKFLOW = """version: '2.0'
rerun:
  tasks:
    s:
      action: bora.script
      target: local
      safe-rerun: true
      input:
        timeout: 120
        script: |
          #!/bin/sh
          m=%s
          if [ -s $m ]; then
            first=$(head -n 1 $m | cut -d' ' -f2)
            if [ -e /proc/$first/stat ] && [ "$(cut -d' ' -f3 /proc/$first/stat)" != Z ]; then
              echo "overlap $first" >> $m
            fi
            echo "rerun $$" >> $m
            exit 0
          fi
          echo "ran $$" >> $m
          sleep 60
          echo finished >> $m
"""


class AgentKill(harness.BoraTestCase):

    def setUp(self):
        super().setUp()
        self.boot = os.path.join(self.tmp, "boot_id")
        self.set_boot("11111111-1111-4111-8111-111111111111")
        self.start_coordinator()
        self.agent = self.start_connected_agent(
            "local", env={"BORA_BOOT_ID_FILE": self.boot})
        self.state = os.path.join(self.tmp, "agent-local")
        self.groups = []
        self.addCleanup(self.kill_groups)

    def kill_groups(self):
        for pgid in self.groups:
            kill_group(pgid)

    def set_boot(self, boot_id):
        with open(self.boot, "w") as f:
            f.write(boot_id + "\n")

    def wait_journaled_pgid(self, sid):
        """The step's journal entry once it holds the process group."""
        entry = os.path.join(self.state, "journal", "step." + sid)

        def journaled():
            with open(entry) as f:
                e = json.load(f)
            return e if "pgid" in e else None
        return harness.wait_for(journaled, 15, "pgid in %s" % entry,
                                on_fail=self.all_logs)

    def start_sleeper(self):
        """A step that runs 60 s with a background child; its pgid once
        it runs and the journal holds it."""
        self.marker = os.path.join(self.work, "marker")
        script = ("#!/bin/sh\n"
                  "sleep 60 &\n"
                  "echo \"ran $$\" >> %s\n"
                  "sleep 60\n"
                  "echo finished >> %s\n" % (self.marker, self.marker))
        sid = self.api.submit("local", script, timeout=120)
        lines = harness.wait_for(lambda: read_lines(self.marker),
                                 harness.STEP_TIMEOUT, "marker %s" % self.marker,
                                 on_fail=self.all_logs)
        pgid = int(lines[0].split()[1])
        self.groups.append(pgid)
        e = self.wait_journaled_pgid(sid)
        self.assertEqual(e["pgid"], pgid, e)
        self.assertEqual(e["boot_id"], "11111111-1111-4111-8111-111111111111", e)
        harness.wait_for(lambda: len(group_members(pgid)) >= 2, 15,
                         "the step and its child in group %d" % pgid)
        return sid, pgid

    def restart_agent(self):
        self.agent = self.start_connected_agent(
            "local", env={"BORA_BOOT_ID_FILE": self.boot})

    def assert_lost_once(self, sid):
        res = self.api.wait_done(sid)
        self.assertEqual(res["status"], "lost", res)
        self.assertEqual(res.get("error"), LOST_ERROR)
        self.assertEqual(read_lines(self.marker)[1:], [], "the step ran again or finished")
        esc = sid.replace(".", r"\.")
        self.assertEqual(self.agent.count(r"step started step=%s " % esc), 0)

    def test_killed_agent_kills_the_left_group_before_lost(self):
        sid, pgid = self.start_sleeper()
        self.agent.kill()
        # The step outlives the agent ...
        self.assertGreaterEqual(len(group_members(pgid)), 2)
        self.restart_agent()
        esc = sid.replace(".", r"\.")
        # ... until the next agent kills it, before "lost" is recorded.
        kill_line = r"killing the process group an earlier agent left step=%s pgid=%d" % (
            esc, pgid)
        self.agent.wait_log(kill_line)
        self.agent.wait_log(r"step started by an earlier agent process is lost step=%s" % esc)
        log = self.agent.log().splitlines()
        first_kill = min(i for i, l in enumerate(log) if "process group an earlier" in l)
        first_lost = min(i for i, l in enumerate(log) if "is lost step=" in l)
        self.assertLess(first_kill, first_lost, "lost recorded before the kill")
        harness.wait_for(lambda: group_members(pgid) == [], 15,
                         "no process left in group %d" % pgid)
        self.assert_lost_once(sid)

        # The next step runs normally.
        _, _, res2 = self.run_step("local", "#!/bin/sh\necho next\n")
        self.assertEqual(res2["status"], "success", res2)

    def test_after_a_reboot_nothing_is_killed(self):
        sid, pgid = self.start_sleeper()
        self.agent.kill()
        # A reboot: a new boot id. The group still standing stands for a
        # process that got the same number in the new boot: not the
        # step's, so it must not be killed.
        self.set_boot("22222222-2222-4222-8222-222222222222")
        self.restart_agent()
        esc = sid.replace(".", r"\.")
        self.agent.wait_log(r"the machine restarted since the step started, nothing "
                            r"of it is left step=%s pgid=%d" % (esc, pgid))
        self.assert_lost_once(sid)
        self.assertEqual(self.agent.count(r"killing the process group"), 0)
        self.assertGreaterEqual(len(group_members(pgid)), 2,
                                "the agent killed a group of another boot")


    def test_sigterm_ends_the_steps(self):
        # What `systemctl stop` does with KillMode=mixed (docs/packaging.md):
        # SIGTERM to the agent alone, which ends its steps itself.
        sid, pgid = self.start_sleeper()
        self.assertEqual(self.agent.stop(signal.SIGTERM), 0, self.agent.log_tail())
        self.assertEqual(group_members(pgid), [], "a step's process outlived the agent")
        self.restart_agent()
        self.assert_lost_once(sid)
        self.assertEqual(self.agent.count(r"killing the process group"), 0)

    def test_safe_rerun_never_overlaps_the_first_copy(self):
        marker = os.path.join(self.work, "marker")
        xid = faultlib.post_execution(self.api, RERUN_WORKFLOW % marker, {})
        lines = harness.wait_for(lambda: read_lines(marker), harness.STEP_TIMEOUT,
                                 "marker %s" % marker, on_fail=self.all_logs)
        first = int(lines[0].split()[1])
        self.groups.append(first)
        line = self.agent.wait_log(r"step started step=\S+ ")[0]
        sid = re.search(r"step started step=(\S+) ", line).group(1)
        self.wait_journaled_pgid(sid)
        self.agent.kill()
        self.restart_agent()
        x = faultlib.wait_execution_end(self.api, xid, 60, on_fail=self.all_logs)
        self.assertEqual(x["state"], "SUCCESS", x)
        got = read_lines(marker)
        self.assertEqual([l.split()[0] for l in got], ["ran", "rerun"], got)
        self.assertEqual(group_members(first), [])
        self.agent.wait_log(r"killing the process group an earlier agent left step=%s "
                            % sid.replace(".", r"\."))


if __name__ == "__main__":
    harness.main()
