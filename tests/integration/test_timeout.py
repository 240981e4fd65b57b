#!/usr/bin/env python3
"""A step that runs past its timeout is killed with its whole process group
(children included) and reported as timed out."""

import os
import sys
import time

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Api  # noqa: E402


def proc_alive(pid):
    """True while /proc/PID is a live process (a zombie counts as gone: it
    has exited and only waits for a parent that may be this container's
    PID 1 to reap it)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return False
    state = stat[stat.rindex(")") + 2:].split()[0]
    return state not in ("Z", "X")


def proc_cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


class Timeout(harness.BoraTestCase):

    def setUp(self):
        super().setUp()
        self.start_coordinator()
        self.agent = self.start_agent("local")
        self.wait_agent("local")

    def read_pid(self, path):
        def read():
            try:
                with open(path) as f:
                    text = f.read()
            except FileNotFoundError:
                return None
            return text.strip() if text.endswith("\n") else None
        return int(harness.wait_for(read, 20, "pid file " + path, on_fail=self.all_logs))

    def test_timeout_kills_script_and_children(self):
        child_pidfile = os.path.join(self.work, "child.pid")
        script_pidfile = os.path.join(self.work, "script.pid")
        script = ("#!/bin/sh\n"
                  "echo $$ > %s\n"
                  "sleep 1000 &\n"
                  "echo $! > %s\n"
                  "echo started\n"
                  "sleep 1000\n"
                  "echo never\n") % (script_pidfile, child_pidfile)
        t0 = time.monotonic()
        sid = self.api.submit("local", script, timeout=2)
        script_pid = self.read_pid(script_pidfile)
        child_pid = self.read_pid(child_pidfile)
        self.assertTrue(proc_alive(script_pid))
        self.assertTrue(proc_alive(child_pid))
        self.assertIn("sleep", proc_cmdline(child_pid))

        events = self.api.events(sid, timeout=60)
        res = self.api.wait_done(sid)
        took = time.monotonic() - t0
        self.assertEqual(res["status"], "timeout", res)
        self.assertIsNone(res.get("exit_code"), res)
        self.assertGreaterEqual(took, 1.9, "ended before its timeout")
        self.assertLess(took, 20, "timeout enforced far too late")
        self.assertEqual(Api.output_of(events, "stdout"), "started\n")

        harness.wait_for(lambda: not proc_alive(script_pid), 10,
                         "script pid %d to be gone" % script_pid)
        harness.wait_for(lambda: not proc_alive(child_pid), 10,
                         "background child pid %d to be gone" % child_pid)

        # The agent is still fine afterwards.
        sid, events, res = self.run_step("local", "#!/bin/sh\necho ok\n")
        self.assertEqual(res["status"], "success", res)
        self.assertEqual(Api.output_of(events, "stdout"), "ok\n")

    def test_grandchild_in_group_killed(self):
        """A grandchild that stays in the step's process group dies too."""
        pidfile = os.path.join(self.work, "grandchild.pid")
        script = ("#!/bin/sh\n"
                  "sh -c 'sleep 1000 & echo $! > %s; wait' &\n"
                  "wait\n") % pidfile
        sid = self.api.submit("local", script, timeout=2)
        gc = self.read_pid(pidfile)
        res = self.api.wait_done(sid, timeout=60)
        self.assertEqual(res["status"], "timeout", res)
        harness.wait_for(lambda: not proc_alive(gc), 10, "grandchild %d to be gone" % gc)

    def test_cli_exit_124_on_timeout(self):
        t0 = time.monotonic()
        r = self.cli("step", "run", "--agent", "local", "--timeout", "1", "-",
                     input="#!/bin/sh\necho waiting\nsleep 60\n")
        self.assertEqual(r.returncode, 124, "stdout=%r stderr=%r" % (r.stdout, r.stderr))
        self.assertEqual(r.stdout, "waiting\n")
        self.assertRegex(r.stderr, r"(?m)^step \S+: timeout\b")
        self.assertLess(time.monotonic() - t0, 30)

    def test_agent_stop_kills_running_step(self):
        """SIGTERM to the agent ends it cleanly and kills its steps' groups."""
        pidfile = os.path.join(self.work, "long.pid")
        self.api.submit("local", "#!/bin/sh\nsleep 1000 &\necho $! > %s\nwait\n" % pidfile,
                        timeout=600)
        child = self.read_pid(pidfile)
        self.assertEqual(self.agent.stop(), 0, self.agent.log_tail())
        harness.wait_for(lambda: not proc_alive(child), 10, "step child %d to be gone" % child)


if __name__ == "__main__":
    harness.main()
