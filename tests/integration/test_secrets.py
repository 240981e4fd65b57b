#!/usr/bin/env python3
"""Secret inputs (docs/security.md): a workflow input listed in
secret-inputs, and a step input listed in POST /v1/steps secret_inputs,
reaches the step unmasked (it writes it to a file the test reads) but is
"******" everywhere it is shown: the API's execution and step documents,
the event streams, the stored output, the coordinator's log (with
--log-step-output), the agent's log and `bora show/logs/watch`."""

import json
import os
import subprocess
import sys
import time

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Api  # noqa: E402

SECRET = "s3cr3t-Pa55w0rd-7f1c"
STEP_SECRET = "st3p-secret-91ab"

WORKFLOW = """version: '2.0'
secretive:
  input: [password, dest]
  secret-inputs: [password]
  tasks:
    use_it:
      action: bora.script
      target: local
      input:
        script: |
          #!/bin/sh
          printf '%s' "$password" > "$dest"
          echo "the password is $password"
          echo "stderr too: $password" >&2
          printf 'split: %s' "$password"
        inputs: {password: <% $.password %>, dest: <% $.dest %>}
      publish:
        pw_copy: <% $.password %>
      on-success: [echo_it]
    echo_it:
      action: std.echo output=<% $.password %>
"""


class Secrets(harness.BoraTestCase):
    AGENTS = ("local",)

    def setUp(self):
        super().setUp()
        self.start_coordinator(extra=("--log-step-output",))
        self.start_connected_agent("local")

    def everything_shown(self, texts):
        for t in texts:
            self.assertNotIn(SECRET, t)
            self.assertNotIn(STEP_SECRET, t)
        logs = os.path.join(self.tmp, "logs")
        for name in os.listdir(logs):
            with open(os.path.join(logs, name), errors="replace") as f:
                data = f.read()
            self.assertNotIn(SECRET, data, name)
            self.assertNotIn(STEP_SECRET, data, name)

    def test_workflow_secret_input_is_masked(self):
        dest = os.path.join(self.work, "got-password")
        st, body = self.api.request("POST", "/v1/executions", {
            "workflow": WORKFLOW, "input": {"password": SECRET, "dest": dest}})
        self.assertEqual(st, 201, body)
        shown = [json.dumps(body)]
        xid = body["id"]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            x = self.api.get("/v1/executions/%s" % xid)
            if x["state"] in ("SUCCESS", "ERROR", "CANCELLED"):
                break
            time.sleep(0.05)
        self.assertEqual(x["state"], "SUCCESS", json.dumps(x, indent=1))
        # the step had it
        with open(dest) as f:
            self.assertEqual(f.read(), SECRET)
        doc = json.dumps(x)
        shown.append(doc)
        self.assertEqual(x["input"]["password"], "******")
        self.assertIn("the password is ******", doc)
        # the event stream, the task list, the step documents and output
        st, raw = self.api.request("GET", "/v1/executions/%s/events" % xid)
        shown.append(raw if isinstance(raw, str) else json.dumps(raw))
        self.assertIn("******", shown[-1])
        st, raw = self.api.request("GET", "/v1/executions/%s/tasks" % xid)
        shown.append(raw if isinstance(raw, str) else json.dumps(raw))
        for t in x["tasks"]:
            for a in t.get("actions", []):
                sid = a.get("step")
                if not sid:
                    continue
                shown.append(json.dumps(self.api.get("/v1/steps/%s" % sid)))
                st, raw = self.api.request("GET", "/v1/steps/%s/events" % sid)
                shown.append(raw if isinstance(raw, str) else json.dumps(raw))
                st, raw = self.api.request("GET", "/v1/steps/%s/output" % sid)
                shown.append(raw if isinstance(raw, str) else json.dumps(raw))
        # the CLI
        for args in (("show", xid), ("show", xid, "--json"), ("logs", xid),
                     ("logs", xid, "--json"), ("watch", xid)):
            r = self.cli(*args)
            self.assertEqual(r.returncode, 0, (args, r.stderr))
            shown.append(r.stdout + r.stderr)
        self.assertIn("the password is ******", shown[-3])
        self.everything_shown(shown)
        # state directories: the store keeps the input (to run the step
        # after a restart) but readable by the coordinator's user only
        held = self.assert_secrets_confined([SECRET], allowed=(dest,))
        coord = os.path.join(self.tmp, "coordinator")
        self.assertTrue(any(p.startswith(coord) for p in held), held)
        # the coordinator logged the output, masked
        self.assertGreaterEqual(self.coord.count(r"line=.*the password is \*\*\*\*\*\*"), 1)

    def test_step_secret_inputs_are_masked(self):
        dest = os.path.join(self.work, "got-step-secret")
        st, body = self.api.request("POST", "/v1/steps", {
            "agent": "local", "kind": "script", "timeout": 60,
            "spec": {"script": "#!/bin/sh\nprintf '%s' \"$token\" > \"$dest\"\n"
                               "echo \"token=$token\"\n"},
            "inputs": {"token": STEP_SECRET, "dest": dest},
            "secret_inputs": ["token"]})
        self.assertEqual(st, 201, body)
        sid = body["id"]
        events = self.api.events(sid)
        res = self.api.wait_done(sid)
        self.assertEqual(res["status"], "success", res)
        with open(dest) as f:
            self.assertEqual(f.read(), STEP_SECRET)
        self.assertEqual(Api.output_of(events, "stdout"), "token=******\n")
        shown = [json.dumps(events), json.dumps(self.api.get("/v1/steps/%s" % sid))]
        r = self.cli("step", "show", sid, "--json")
        shown.append(r.stdout + r.stderr)
        r = self.cli("step", "events", sid)
        shown.append(r.stdout + r.stderr)
        self.everything_shown(shown)
        self.assert_secrets_confined([STEP_SECRET], allowed=(dest,))

    def test_secret_inputs_must_name_inputs(self):
        st, body = self.api.request("POST", "/v1/steps", {
            "agent": "local", "kind": "script", "spec": {"script": "true"},
            "inputs": {"a": "1"}, "secret_inputs": ["b"]})
        self.assertEqual(st, 400, body)
        self.assertIn("secret_inputs[0]", json.dumps(body))

    def test_validate_unknown_secret_input(self):
        path = os.path.join(self.work, "bad.yaml")
        with open(path, "w") as f:
            f.write("version: '2.0'\nwf:\n  input: [a]\n  secret-inputs: [a, nope]\n"
                    "  tasks:\n    t:\n      action: std.noop\n")
        r = subprocess.run([harness.binary("bora"), "validate", path],
                           capture_output=True, text=True, env=harness.child_env())
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("bad.yaml:4:", r.stderr)
        self.assertIn("'nope' is not an input", r.stderr)


if __name__ == "__main__":
    harness.main()
