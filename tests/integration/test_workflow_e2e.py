#!/usr/bin/env python3
"""End to end: examples/mysql_webapp.yaml across two real agents, db-1
and web-1; a failing branch that takes its on-error path and ends the
execution in ERROR naming the task; with-items over three items with
concurrency 2 never runs more than two at once."""

import json
import os
import re
import stat
import sys
import time

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLE = os.path.join(ROOT, "examples", "mysql_webapp.yaml")

FAILING_BRANCH = """version: '2.0'
branches:
  tasks:
    start:
      action: std.noop
      on-success: [good, bad]
    good:
      action: bora.script
      target: web-1
      input: {script: "echo fine"}
    bad:
      action: bora.script
      target: db-1
      input: {script: "echo 'disk full' >&2; exit 3"}
      on-error: [report]
    report:
      action: std.echo output="cleaning up"
      on-success:
        - fail msg="bad branch failed"
"""

ITEMS = """version: '2.0'
items:
  input: [ledger]
  tasks:
    each:
      action: bora.script
      target: web-1
      with-items: n in [1, 2, 3]
      concurrency: 2
      input:
        script: |
          #!/bin/sh
          echo "start $n $(date +%s.%N)" >> "$ledger"
          sleep 0.5
          echo "end $n $(date +%s.%N)" >> "$ledger"
        inputs: {n: <% $.n %>, ledger: <% $.ledger %>}
"""


class WorkflowE2E(harness.BoraTestCase):
    AGENTS = ("db-1", "web-1")

    def setUp(self):
        super().setUp()
        self.start_coordinator()
        self.start_connected_agent("db-1", extra=("--labels", "role=db"))
        self.start_connected_agent("web-1", extra=("--labels", "role=web"))

    def run_workflow(self, text, inputs=None, timeout=60):
        st, body = self.api.request("POST", "/v1/executions",
                                    {"workflow": text, "input": inputs or {}})
        self.assertEqual(st, 201, body)
        xid = body["id"]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            x = self.api.get("/v1/executions/%s" % xid)
            if x["state"] in ("SUCCESS", "ERROR", "CANCELLED"):
                return x
            time.sleep(0.05)
        self.fail("execution %s did not end: %s" % (xid, json.dumps(x)))

    @staticmethod
    def task(x, name):
        found = [t for t in x["tasks"] if t["name"] == name]
        return found[-1] if found else None

    def test_mysql_webapp(self):
        demo = os.path.join(self.work, "demo")
        with open(EXAMPLE) as f:
            text = f.read()
        x = self.run_workflow(text, {"dir": demo})
        self.assertEqual(x["state"], "SUCCESS", json.dumps(x, indent=1))
        with open(os.path.join(demo, "db", "create_user.sql")) as f:
            sql = f.read()
        password = re.search(r"IDENTIFIED BY '([^']+)'", sql).group(1)
        self.assertGreaterEqual(len(password), 16)
        conf = os.path.join(demo, "web", "app.conf")
        with open(conf) as f:
            self.assertIn("password = %s\n" % password, f.read())
        self.assertEqual(stat.S_IMODE(os.stat(conf).st_mode), 0o600)
        self.assertEqual(x["output"], {"web_config": conf})
        # each step ran on the host its task names
        self.assertEqual(self.task(x, "create_db_user")["actions"][0]["agent"], "db-1")
        self.assertEqual(self.task(x, "configure_web")["actions"][0]["agent"], "web-1")
        # the coordinator's log tells the execution's story by its id
        log = self.coord.log()
        lines = [ln for ln in log.splitlines() if "exec=%s" % x["id"] in ln]
        self.assertTrue(any("execution SUCCESS" in ln for ln in lines), lines)
        self.assertTrue(any("task=configure_web" in ln for ln in lines), lines)
        # its steps' lines too: each names the execution and the task
        xid = re.escape(x["id"])
        text = "\n".join(lines)
        self.assertRegex(text, r"info  steps: step queued step=%s\.\d+\.0\.1 exec=%s "
                               r"task=configure_web agent=web-1 kind=file " % (xid, xid))
        self.assertRegex(text, r"info  steps: step dispatched step=%s\.\d+\.0\.1 exec=%s "
                               r"task=create_db_user agent=db-1 " % (xid, xid))
        self.assertRegex(text, r"info  steps: step finished step=%s\.\d+\.0\.1 exec=%s "
                               r"task=configure_web agent=web-1 status=success " % (xid, xid))
        step_lines = [ln for ln in log.splitlines()
                      if re.search(r"steps: .*step=%s\." % xid, ln)]
        self.assertGreater(len(step_lines), 0)
        for ln in step_lines:
            self.assertRegex(ln, r"step=%s\.\S+ exec=%s task=\w+ agent=" % (xid, xid))
        # the generated password is not in any log
        self.assertNotIn(password, self.all_logs())

    def test_failing_branch_takes_on_error(self):
        x = self.run_workflow(FAILING_BRANCH)
        self.assertEqual(x["state"], "ERROR", json.dumps(x, indent=1))
        self.assertEqual(self.task(x, "bad")["state"], "ERROR")
        self.assertIn("exit 3", self.task(x, "bad")["state_info"])
        self.assertIn("disk full", self.task(x, "bad")["state_info"])
        self.assertEqual(self.task(x, "report")["state"], "SUCCESS")
        # fail ends the execution at once: a branch still running is
        # cancelled (its step killed), one already done stays SUCCESS
        self.assertIn(self.task(x, "good")["state"], ("SUCCESS", "CANCELLED"))
        self.assertEqual(x["state_info"], "task report: fail: bad branch failed")
        # what failed is logged at warn: the step, its task, the execution
        xid = re.escape(x["id"])
        log = self.coord.log()
        self.assertRegex(log, r"Z warn  steps: step finished step=%s\.\d+\.0\.1 exec=%s "
                              r"task=bad agent=db-1 status=failed exit=3 " % (xid, xid))
        self.assertRegex(log, r"Z warn  engine: task ERROR exec=%s task=bad " % xid)
        self.assertRegex(log, r"Z warn  engine: execution ERROR exec=%s workflow=branches "
                              % xid)
        self.assertRegex(log, r"Z info  engine: task SUCCESS exec=%s task=report" % xid)
        self.assertNotRegex(log, r"Z info  engine: (task|execution) ERROR exec=%s" % xid)

    def test_with_items_concurrency_two(self):
        ledger = os.path.join(self.work, "ledger")
        x = self.run_workflow(ITEMS, {"ledger": ledger})
        self.assertEqual(x["state"], "SUCCESS", json.dumps(x, indent=1))
        events = []
        with open(ledger) as f:
            for line in f:
                what, n, t = line.split()
                events.append((float(t), 1 if what == "start" else -1, n))
        self.assertEqual(sorted(e[2] for e in events if e[1] == 1), ["1", "2", "3"])
        running = peak = 0
        for _, delta, _ in sorted(events):
            running += delta
            peak = max(peak, running)
        self.assertEqual(peak, 2, events)
        self.assertEqual(len(self.task(x, "each")["result"]), 3)


if __name__ == "__main__":
    harness.main()
