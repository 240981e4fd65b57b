#!/usr/bin/env python3
"""The operators' CLI against a live coordinator, output checked in
non-terminal mode with times and ids masked: bora executions (table and
--json), show (summary and --json), logs (from the store, one task,
--follow), the cancel/pause/resume aliases, `bora run` exiting 1 when the
execution fails, the coordinator's log telling a failed execution's story
(grep exec=ID), the error that says what to do when the coordinator is
not there, and bora agents' STATE column (enrolled agents that are
disconnected or revoked: test_operators_api.py)."""

import json
import os
import re
import socket
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

DEPLOY_WF = """\
version: '2.0'

deploy:
  type: direct
  tasks:
    prepare:
      action: bora.script
      target: local
      input:
        script: |
          #!/bin/sh
          echo preparing
          echo twice >&2
          printf 'no newline'
      on-success:
        - install
    install:
      action: bora.script
      target: local
      input:
        script: |
          #!/bin/sh
          echo installing
          echo disk full >&2
          exit 3
"""

SLOW_WF = """\
version: '2.0'

slow:
  type: direct
  tasks:
    wait:
      action: bora.script
      target: local
      input:
        script: |
          #!/bin/sh
          echo tick
          sleep 0.5
          echo tock
"""

NOAGENT_WF = """\
version: '2.0'

stuck:
  type: direct
  tasks:
    waits:
      action: bora.script
      target: absent
      input:
        script: "echo never"
"""

NESTED_WF = """\
version: '2.0'
name: nested
workflows:
  outer:
    type: direct
    tasks:
      first:
        action: bora.script
        target: local
        input:
          script: "echo outer first"
        on-success: [sub]
      sub:
        workflow: inner
  inner:
    type: direct
    tasks:
      deep:
        action: bora.script
        target: local
        input:
          script: "echo inner deep"
"""


def mask(text):
    """Times, durations and ids out of CLI output."""
    text = re.sub(r"\b[0-9a-f]{12}\b", "<id>", text)
    text = re.sub(r"\b\d+(\.\d+)?s\b|\b\d+m\d+s\b", "<dur>", text)
    text = re.sub(r"\d\d:\d\d:\d\d", "<time>", text)
    return text


class OperatorsCli(harness.BoraTestCase):
    AGENTS = ("local",)

    def setUp(self):
        super().setUp()
        self.start_coordinator(extra=["--log-step-output"])

    def write(self, name, text):
        path = os.path.join(self.work, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def run_deploy(self):
        self.start_connected_agent("local")
        r = self.cli("run", self.write("deploy.yaml", DEPLOY_WF))
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)  # it failed: non-zero
        xid = r.stdout.splitlines()[0].split()[1]
        self.assertRegex(r.stdout.splitlines()[-1], r"^execution ERROR \(")
        # it followed the execution's events over the websocket
        self.assertEqual(self.coord.count(r"events websocket exec=%s from=0" % xid), 1)
        return xid

    def test_agents_state_column(self):
        r = self.cli("agents")
        self.assertEqual((r.returncode, r.stdout, r.stderr),
                         (0, "", "no agents enrolled or connected\n"))
        self.start_connected_agent("local")
        r = self.cli("agents")
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        self.assertEqual(re.split(r"\s+", lines[0].strip()),
                         ["NAME", "STATE", "ADDRESS", "VERSION", "CONNECTED", "LABELS"])
        row = re.split(r"\s+", lines[1].strip())
        self.assertEqual(row[:2], ["local", "connected"])
        self.assertRegex(row[2], r"^127\.0\.0\.1:\d+$")
        r = self.cli("agents", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        a = json.loads(r.stdout)["agents"]
        self.assertEqual([(x["name"], x["state"], x["connected"], x["enrolled"])
                          for x in a], [("local", "connected", True, False)])
        # a certificate made outside the coordinator's CA: not enrolled, and
        # gone from the listing once disconnected
        self.daemons[-1].stop()
        self.wait_agent("local", present=False)
        r = self.cli("agents")
        self.assertEqual((r.returncode, r.stdout), (0, ""), r.stderr)

    def test_listing_show_logs(self):
        xid = self.run_deploy()

        r = self.cli("executions")
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = mask(r.stdout).splitlines()
        self.assertEqual(re.split(r"\s+", lines[0].strip()),
                         ["ID", "WORKFLOW", "STATE", "TASKS", "STARTED", "DURATION"])
        self.assertEqual(re.split(r"\s+", lines[1].strip()),
                         ["<id>", "deploy", "ERROR", "2/2", "<dur>", "ago", "<dur>"])
        self.assertTrue(all(len(l) <= 80 for l in r.stdout.splitlines()), r.stdout)
        r = self.cli("executions", "--json", "--state", "error", "--workflow", "deploy")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual([x["id"] for x in json.loads(r.stdout)["executions"]], [xid])
        r = self.cli("executions", "--state", "SUCCESS")
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, "", "no executions match\n"))
        r = self.cli("executions", "--state", "DONE")
        self.assertEqual(r.returncode, 1)
        self.assertIn("state: ", r.stderr)

        r = self.cli("show", xid)
        self.assertEqual(r.returncode, 0, r.stderr)
        got = mask(r.stdout)
        self.assertIn("execution  <id>\nworkflow   deploy\nstate      ERROR\n", got)
        rows = [re.split(r"\s{2,}", l.strip(), maxsplit=4) for l in got.splitlines()
                if l.startswith(("TASK", "prepare", "install"))]
        self.assertEqual(rows[0], ["TASK", "STATE", "AGENTS", "DURATION", "INFO"])
        self.assertEqual(rows[1], ["prepare", "SUCCESS", "local", "<dur>"])
        self.assertEqual(rows[2][:4], ["install", "ERROR", "local", "<dur>"])
        self.assertIn("exit 3", rows[2][4])
        self.assertIn("disk full", rows[2][4])
        r = self.cli("show", "--json", xid)
        self.assertEqual(json.loads(r.stdout)["state"], "ERROR")
        r = self.cli("execution", "show", xid)
        self.assertIn("state      ERROR", r.stdout)

        r = self.cli("logs", xid)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.splitlines(), [
            "[local prepare stdout] preparing",
            "[local prepare stderr] twice",
            "[local prepare stdout] no newline",
            "[local install stdout] installing",
            "[local install stderr] disk full",
        ])
        r = self.cli("logs", xid, "install")
        self.assertEqual(r.stdout.splitlines(), [
            "[local install stdout] installing",
            "[local install stderr] disk full",
        ])
        r = self.cli("logs", "--json", xid, "install")
        docs = [json.loads(l) for l in r.stdout.splitlines()]
        self.assertEqual(docs[0]["task"], "install")
        self.assertEqual("".join(d["data"] for d in docs), "installing\ndisk full\n")
        r = self.cli("logs", xid, "nope")
        self.assertEqual(r.returncode, 1)
        self.assertIn("has no task nope", r.stderr)
        # an ended execution: --follow prints the stored output and ends
        r = self.cli("logs", "--follow", xid, "prepare")
        self.assertEqual(len(r.stdout.splitlines()), 3, r.stdout)

        # The coordinator's log tells the story: grep exec=ID.
        story = [l for l in self.coord.log().splitlines() if "exec=%s" % xid in l]
        text = "\n".join(story)
        self.assertRegex(text, r"execution RUNNING exec=%s workflow=deploy" % xid)
        for task in ("prepare", "install"):
            self.assertRegex(text, r"task RUNNING exec=%s task=%s" % (xid, task))
        self.assertRegex(text, r"task SUCCESS exec=%s task=prepare" % xid)
        self.assertRegex(text, r'task ERROR exec=%s task=install .*exit 3.*stderr: .*disk full' % xid)
        self.assertRegex(text, r"execution ERROR exec=%s workflow=deploy .*duration=\d+ms" % xid)
        self.assertRegex(story[-1], r"execution ERROR exec=%s" % xid)
        self.assertRegex(text, r'steps: output step=%s\.\d+\.0\.1 exec=%s task=install '
                               r'agent=local stream=stderr line="disk full"' % (xid, xid))
        self.assertRegex(self.coord.log(), r"agent connected agent=local addr=\S+")

    def test_logs_descend_into_sub_workflows(self):
        self.start_connected_agent("local")
        r = self.cli("run", "--workflow", "outer", self.write("nested.yaml", NESTED_WF))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        xid = r.stdout.splitlines()[0].split()[1]
        r = self.cli("logs", xid)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.splitlines(), [
            "[local first stdout] outer first",
            "[local sub/deep stdout] inner deep",
        ])
        r = self.cli("logs", xid, "sub")
        self.assertEqual(r.stdout.splitlines(), ["[local sub/deep stdout] inner deep"])
        # the API names the sub-workflow's execution on the task's action
        tasks = self.api.get("/v1/executions/%s" % xid)["tasks"]
        child = [a.get("execution") for t in tasks if t["name"] == "sub" for a in t["actions"]]
        self.assertEqual(len(child), 1, tasks)
        self.assertEqual(self.api.get("/v1/executions/%s" % child[0])["workflow"], "inner")

    def test_follow_and_aliases(self):
        self.start_connected_agent("local")
        r = self.cli("run", "--no-follow", self.write("slow.yaml", SLOW_WF))
        xid = r.stdout.strip()
        r = self.cli("logs", "--follow", xid)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.splitlines(), ["[local wait stdout] tick",
                                                 "[local wait stdout] tock"])

        r = self.cli("run", "--no-follow", self.write("stuck.yaml", NOAGENT_WF))
        xid = r.stdout.strip()
        r = self.cli("pause", xid)
        self.assertEqual((r.returncode, r.stdout), (0, "execution %s PAUSED\n" % xid), r.stderr)
        r = self.cli("pause", xid)
        self.assertEqual(r.returncode, 1)
        self.assertIn("not RUNNING", r.stderr)
        r = self.cli("resume", xid)
        self.assertEqual(r.stdout, "execution %s RUNNING\n" % xid, r.stderr)
        r = self.cli("cancel", "--reason", "enough", xid)
        self.assertEqual(r.stdout, "execution %s CANCELLED\n" % xid, r.stderr)
        r = self.cli("show", xid)
        self.assertIn("state      CANCELLED\ninfo       enough\n", r.stdout)

    def test_unreachable_says_what_to_do(self):
        sock = os.path.join(self.tmp, "nobody.sock")
        stale = os.path.join(self.tmp, "stale.sock")
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(stale)                  # a socket file nobody listens on
        self.addCleanup(s.close)
        cases = [(sock, "No such file or directory", ["executions"]),
                 (sock, "No such file or directory", ["show", "0123456789ab"]),
                 (stale, "Connection refused", ["logs", "0123456789ab"])]
        for path, why, args in cases:
            r = harness.subprocess.run([harness.binary("bora"), "--socket", path] + args,
                                       capture_output=True, text=True, env=harness.child_env())
            self.assertEqual(r.returncode, 1)
            self.assertEqual(r.stderr,
                             "bora: cannot reach coordinator at %s: %s; is it running? "
                             "(bora-coordinator --api-socket %s)\n" % (path, why, path))
        # Without --socket or BORA_SOCKET: also how to point bora elsewhere.
        env = dict(harness.child_env())
        env.pop("BORA_SOCKET", None)
        r = harness.subprocess.run([harness.binary("bora"), "executions"],
                                   capture_output=True, text=True, env=env)
        self.assertEqual(r.returncode, 1)
        self.assertIn("; or give bora its socket: --socket PATH or BORA_SOCKET\n", r.stderr)


if __name__ == "__main__":
    harness.main()
