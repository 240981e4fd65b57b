#!/usr/bin/env python3
"""The store: a coordinator killed (SIGKILL) in the middle of a workflow
and started again on the same state directory carries the execution on:
the step running on the agent is not run again, its result is applied
once, the next task starts, and the execution ends SUCCESS with the data
published before the kill."""

import json
import re
import sqlite3
import os
import stat
import sys
import time

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

WORKFLOW = """version: '2.0'
restart:
  input: [ledger, go]
  output: {first: <% $.first %>, second: <% $.second %>}
  tasks:
    first:
      action: bora.script
      target: local
      input:
        script: |
          #!/bin/sh
          echo first >> "$ledger"
          i=0
          while [ ! -e "$go" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done
          printf one > "$heat_outputs_path.value"
        inputs: {ledger: <% $.ledger %>, go: <% $.go %>}
        outputs: [value]
      publish: {first: <% task().result.outputs.value %>}
      on-success: [second]
    second:
      action: bora.script
      target: local
      input:
        script: |
          #!/bin/sh
          echo second >> "$ledger"
          printf two > "$heat_outputs_path.value"
        inputs: {ledger: <% $.ledger %>}
        outputs: [value]
      publish: {second: <% task().result.outputs.value %>}
"""


class CoordinatorRestart(harness.BoraTestCase):
    def setUp(self):
        super().setUp()
        self.state = os.path.join(self.tmp, "coordinator")
        self.start_coordinator(state_dir=self.state)
        self.start_connected_agent("local")

    def wait_state(self, xid, states, timeout=60):
        deadline = time.monotonic() + timeout
        x = None
        while time.monotonic() < deadline:
            try:
                x = self.api.get("/v1/executions/%s" % xid)
                if x["state"] in states:
                    return x
            except (OSError, AssertionError):
                pass        # the coordinator is starting
            time.sleep(0.05)
        self.fail("execution %s not in %s: %s" % (xid, states, json.dumps(x)))

    def test_kill_mid_workflow(self):
        ledger = os.path.join(self.work, "ledger")
        go = os.path.join(self.work, "go")
        st, body = self.api.request("POST", "/v1/executions", {
            "workflow": WORKFLOW, "input": {"ledger": ledger, "go": go}})
        self.assertEqual(st, 201, body)
        xid = body["id"]
        harness.wait_for(lambda: os.path.exists(ledger), 30, "the first step")
        # the store records the step as running once its agent accepted it
        db = os.path.join(self.state, "bora.db")

        def running():
            c = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=10.0)
            try:
                return [r[0] for r in c.execute(
                    "SELECT state FROM steps WHERE exec_id = ?", (xid,))] == ["running"]
            finally:
                c.close()
        harness.wait_for(running, 10, "the step's row to say running")

        self.coord.kill()                   # SIGKILL: no goodbye, no flush
        open(go, "w").close()               # the step ends while it is down
        self.start_coordinator(state_dir=self.state)
        x = self.wait_state(xid, ("SUCCESS", "ERROR", "CANCELLED"))
        self.assertEqual(x["state"], "SUCCESS", json.dumps(x, indent=1))
        self.assertEqual(x["output"], {"first": "one", "second": "two"})
        with open(ledger) as f:
            self.assertEqual(f.read().split(), ["first", "second"])
        self.assertIn("execution resumed after restart exec=%s" % xid,
                      self.coord.log())
        # the restored step is labelled as the engine's steps are, so that
        # grep exec=ID still tells the whole story
        self.assertRegex(self.coord.log(),
                         r"info  steps: step restored step=%s\.\d+\.0\.1 exec=%s task=first "
                         r"agent=local kind=script state=running\n"
                         % (xid, xid))
        self.assertRegex(self.coord.log(),
                         r"info  steps: step finished step=%s\.\d+\.0\.1 exec=%s task=first "
                         r"agent=local status=success " % (xid, xid))

        # the store is the coordinator's alone
        self.assertEqual(stat.S_IMODE(os.stat(db).st_mode), 0o600)
        self.assertEqual(stat.S_IMODE(os.stat(self.state).st_mode), 0o700)

        # and a clean restart keeps the finished execution, and its steps
        # are served from the store
        sid = re.search(r"step finished step=(%s\.\d+\.0\.1) " % xid,
                        self.coord.log()).group(1)
        self.coord.stop()
        self.start_coordinator(state_dir=self.state)
        self.assertEqual(self.api.get("/v1/executions/%s" % xid)["state"],
                         "SUCCESS")
        step = self.api.step(sid)
        self.assertEqual(step.get("state"), "done", step)
        self.assertIs(step.get("stored"), True, step)
        self.assertEqual(step["result"]["status"], "success", step)
        self.assertEqual(step["result"]["outputs"]["value"], "one", step)


if __name__ == "__main__":
    harness.main()
