#!/usr/bin/env python3
"""Workflow executions through the operator API and `bora run`: a workflow
of coordinator actions (std.echo, publish, std.noop, output from the
published value) ends in SUCCESS with its output and an event stream in
order; a workflow with a YAML error is refused with 400 and
file:line:column; a bora.script task waits for its agent, runs when the
agent connects, and streams its output; cancelling an execution whose step
waits for an absent agent cancels the step on the coordinator."""

import json
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import UnixHTTPConnection  # noqa: E402

ECHO_WF = """\
version: '2.0'

greet:
  type: direct
  input:
    - name: world
  output:
    greeting: <% $.said %>
  tasks:
    say:
      action: std.echo output="hello <% $.name %>"
      publish:
        said: <% task().result %>
      on-success:
        - finish
    finish:
      action: std.noop
"""

# Line 8, column 7: the unknown attribute.
BAD_WF = """\
version: '2.0'

greet:
  type: direct
  tasks:
    say:
      action: std.echo output="x"
      bogus: 1
"""

SCRIPT_WF = """\
version: '2.0'

install:
  type: direct
  input:
    - where: local
  output:
    answer: <% $.answer %>
  tasks:
    run_it:
      action: bora.script
      target: <% $.where %>
      input:
        script: |
          #!/bin/sh
          echo out one
          printf 42 > "$heat_outputs_path.answer"
      publish:
        answer: <% task().result.outputs.answer %>
"""

ECHO_ORDER = [
    ("execution", None, "RUNNING"),
    ("task", "say", "RUNNING"),
    ("task", "say", "SUCCESS"),
    ("task", "finish", "RUNNING"),
    ("task", "finish", "SUCCESS"),
    ("execution", None, "SUCCESS"),
]


class Executions(harness.BoraTestCase):
    AGENTS = ("local",)

    def setUp(self):
        super().setUp()
        self.start_coordinator()

    # -- the API
    def start(self, text, **fields):
        body = dict(fields, workflow=text)
        st, doc = self.api.request("POST", "/v1/executions", body)
        return st, doc

    def execution(self, xid):
        return self.api.get("/v1/executions/%s" % xid)

    def events(self, xid, timeout=harness.STEP_TIMEOUT):
        """The execution's NDJSON stream, read to its end."""
        c = UnixHTTPConnection(self.api_socket, timeout)
        try:
            c.request("GET", "/v1/executions/%s/events" % xid,
                      headers={"Connection": "close"})
            r = c.getresponse()
            self.assertEqual(r.status, 200)
            self.assertEqual(r.getheader("content-type"), "application/x-ndjson")
            return [json.loads(l) for l in r.read().decode().splitlines() if l.strip()]
        finally:
            c.close()

    @staticmethod
    def shape(events):
        return [(e["event"], e.get("task"), e.get("state")) for e in events
                if e["event"] in ("execution", "task")]

    def wait_state(self, xid, states, timeout=harness.STEP_TIMEOUT):
        def done():
            x = self.execution(xid)
            return x if x["state"] in states else None
        return harness.wait_for(done, timeout, "execution %s to reach %s" % (xid, states),
                                interval=0.1, on_fail=self.all_logs)

    # -- the tests
    def test_api_echo_publish_output(self):
        st, doc = self.start(ECHO_WF, input={"name": "bora"})
        self.assertEqual(st, 201, doc)
        xid = doc["id"]
        events = self.events(xid)            # ends when the execution does
        self.assertEqual(self.shape(events), ECHO_ORDER)
        self.assertTrue(all(e["exec"] == xid for e in events))
        say = [e for e in events if e.get("task") == "say" and e["state"] == "SUCCESS"]
        self.assertEqual(say[0]["result"], "hello bora")

        x = self.execution(xid)
        self.assertEqual(x["state"], "SUCCESS")
        self.assertEqual(x["output"], {"greeting": "hello bora"})
        self.assertEqual([t["name"] for t in x["tasks"]], ["say", "finish"])
        self.assertEqual(x["tasks"][0]["published"], {"said": "hello bora"})

        # A finished execution: the stream replays and ends; commands say why not.
        self.assertEqual(self.shape(self.events(xid)), ECHO_ORDER)
        st, doc = self.api.request("POST", "/v1/executions/%s/cancel" % xid, {})
        self.assertEqual(st, 409, doc)
        self.assertIn("SUCCESS", doc["detail"])
        st, doc = self.api.request("GET", "/v1/executions/nope")
        self.assertEqual(st, 404, doc)

    def test_yaml_error_is_400_with_position(self):
        st, doc = self.start(BAD_WF, file="bad.yaml")
        self.assertEqual(st, 400, doc)
        self.assertEqual(doc["error"], "invalid_workflow")
        self.assertEqual(doc["errors"], [{"file": "bad.yaml", "line": 8, "column": 7, "message": "unknown task attribute 'bogus'"}])
        self.assertEqual(doc["detail"], "bad.yaml:8:7: unknown task attribute 'bogus'")
        # Broken YAML too, named "workflow" when the client gives no file.
        st, doc = self.start("greet: [1,\n")
        self.assertEqual(st, 400, doc)
        self.assertEqual(doc["errors"][0]["file"], "workflow")
        self.assertGreater(doc["errors"][0]["line"], 0)
        # Request errors are bad_request.
        st, doc = self.start(ECHO_WF, input={"nope": 1})
        self.assertEqual(st, 400, doc)
        self.assertEqual(doc["error"], "bad_request")
        st, doc = self.api.request("POST", "/v1/executions", {"workflow": ECHO_WF, "x": 1})
        self.assertEqual(st, 400, doc)
        self.assertIn("unknown field", doc["detail"])

    def test_cli_run(self):
        path = os.path.join(self.work, "greet.yaml")
        with open(path, "w") as f:
            f.write(ECHO_WF)
        r = self.cli("run", path, "--input", "name=cli")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        lines = r.stdout.splitlines()
        xid = lines[0].split()[1]
        body = [l.split(" ", 1)[1] for l in lines[1:-1]]   # without the clock
        self.assertEqual(body, ["execution RUNNING", "task say RUNNING", "task say SUCCESS",
                                "task finish RUNNING", "task finish SUCCESS",
                                "execution SUCCESS"])
        self.assertRegex(lines[-1], r'^execution SUCCESS \(\d+\.\d s\) output: '
                                    r'\{"greeting":"hello cli"\}$')
        self.assertEqual(self.execution(xid)["output"], {"greeting": "hello cli"})

        # --input-json, --no-follow, and show
        r = self.cli("run", "--no-follow", "--input-json", '{"name": "json"}', path)
        self.assertEqual(r.returncode, 0, r.stderr)
        xid = r.stdout.strip()
        self.wait_state(xid, ("SUCCESS",))
        r = self.cli("execution", "show", "--json", xid)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["output"], {"greeting": "hello json"})

        # A YAML error: each error on stderr, exit 1.
        bad = os.path.join(self.work, "bad.yaml")
        with open(bad, "w") as f:
            f.write(BAD_WF)
        r = self.cli("run", bad)
        self.assertEqual(r.returncode, 1)
        self.assertIn("%s:8:7: unknown task attribute 'bogus'" % bad, r.stderr)

    def test_script_waits_for_its_agent(self):
        path = os.path.join(self.work, "install.yaml")
        with open(path, "w") as f:
            f.write(SCRIPT_WF)
        r = self.cli("run", "--no-follow", path)
        self.assertEqual(r.returncode, 0, r.stderr)
        xid = r.stdout.strip()
        x = self.execution(xid)
        self.assertEqual(x["state"], "RUNNING")
        self.assertEqual(x["tasks"][0]["state"], "RUNNING")
        self.start_agent("local")          # the step goes when it connects
        events = self.events(xid)
        out = [e for e in events if e["event"] == "output"]
        self.assertEqual("".join(e["data"] for e in out if e["stream"] == "stdout"),
                         "out one\n")
        self.assertEqual(out[0]["agent"], "local")
        steps = [e["state"] for e in events if e["event"] == "step"]
        self.assertEqual(steps[0], "started")
        x = self.execution(xid)
        self.assertEqual(x["state"], "SUCCESS", x)
        self.assertEqual(x["output"], {"answer": "42"})

    def test_cancel_waiting_step(self):
        st, doc = self.start(SCRIPT_WF, input={"where": "absent"})
        self.assertEqual(st, 201, doc)
        xid = doc["id"]
        r = self.cli("execution", "cancel", "--reason", "not today", xid)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), "execution %s CANCELLED" % xid)
        events = self.events(xid)
        self.assertEqual(events[-1]["event"], "execution")
        self.assertEqual(events[-1]["state"], "CANCELLED")
        x = self.execution(xid)
        self.assertEqual(x["state"], "CANCELLED")
        step = x["tasks"][0]["actions"][0]["step"]
        # The step never reached an agent: finished on the coordinator.
        res = self.api.step(step)
        self.assertEqual(res["state"], "done")
        self.assertEqual(res["result"]["status"], "cancelled")
        self.coord.wait_log("step finished step=%s exec=%s task=run_it agent=absent "
                            "status=cancelled where=coordinator"
                            % (step.replace(".", r"\."), xid))


if __name__ == "__main__":
    harness.main()
