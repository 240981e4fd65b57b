#!/usr/bin/env python3
"""A full disk (the coordinator's state directory on a small tmpfs the test
mounts, filled up): a new step's row cannot be committed, so its run is
held (dispatched is durable before run is sent) and the failed commit is
logged a few times, not once per loop turn. Once the disk has room again
the commit is retried on the coordinator's own timer, with nothing else to
wake its loop (the heartbeat is set to 10 minutes), and the step runs."""

import os
import subprocess
import sys
import time

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

TMPFS = "4m"


class DiskFull(harness.BoraTestCase):
    AGENTS = ("local",)

    def setUp(self):
        super().setUp()
        if os.geteuid() != 0:
            self.skipTest("needs root to mount a small tmpfs")
        self.mnt = os.path.join(self.tmp, "small")
        os.makedirs(self.mnt)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=" + TMPFS + ",mode=0700",
                        "tmpfs", self.mnt], check=True)
        self.addCleanup(subprocess.run, ["umount", "-l", self.mnt])
        self.start_coordinator(state_dir=os.path.join(self.mnt, "coordinator"),
                               extra=("--heartbeat-s", "600"))
        self.agent = self.start_connected_agent("local")

    def fill(self):
        """Fill the tmpfs; returns the filler's path."""
        path = os.path.join(self.mnt, "filler")
        with open(path, "wb") as f:
            try:
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
            except OSError:
                pass
        return path

    def test_commit_retried_once_there_is_room(self):
        sid, events, res = self.run_step("local", "#!/bin/sh\necho before\n")
        self.assertEqual(res["status"], "success", res)
        filler = self.fill()
        sid = self.api.submit("local", "#!/bin/sh\necho after\n", timeout=60)
        # the commit fails, and is tried again (on the loop's own timer)
        self.coord.wait_log(r"cannot commit reason=", timeout=10, count=3)
        # held: never sent while its row is not on disk
        self.assertEqual(self.coord.count(r"step dispatched step=%s" % sid), 0,
                         self.coord.log_tail())
        fails = self.coord.count(r"cannot commit reason=")
        self.assertLessEqual(fails, 5, self.coord.log_tail())
        os.unlink(filler)
        t0 = time.monotonic()
        # watched from the agent's side: a request to the coordinator would
        # itself wake its loop
        harness.wait_for(lambda: self.agent.count(r"step finished step=%s " % sid) > 0,
                         20, "the held step to run", on_fail=self.all_logs)
        took = time.monotonic() - t0
        res = self.api.wait_done(sid, timeout=20)
        print("step ran %.1f s after the disk had room (%d commit failures logged)"
              % (took, fails))
        self.assertEqual(res["status"], "success", res)
        self.assertLess(took, 15, "ran only %.1f s after the disk had room" % took)


if __name__ == "__main__":
    harness.main()
