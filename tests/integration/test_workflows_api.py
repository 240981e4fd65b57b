#!/usr/bin/env python3
"""Stored workflows: POST /v1/workflows (a YAML body, or JSON {"yaml"}),
list, get (YAML and canonical), delete; a file that does not validate is
refused with every error's file, line, column and message as JSON; the
workflows survive a restart (the store's workflows table); POST
/v1/executions {"workflow_name", "input"} runs one, and so does `bora run
NAME` (a file of that name wins). The CLI: bora workflow create | list |
show | delete."""

import http.client
import json
import os
import socket
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

HELLO_WF = """\
version: '2.0'

hello:
  type: direct
  input:
    - who: world
  tasks:
    greet:
      action: bora.script
      target: local
      input:
        script: |
          #!/bin/sh
          echo "hello $WHO"
        inputs:
          WHO: <% $.who %>
"""

BAD_WF = """\
version: '2.0'

broken:
  type: direct
  tasks:
    one:
      action: no.such.action
      bogus: 1
"""


class WorkflowsApi(harness.BoraTestCase):
    AGENTS = ("local",)

    def setUp(self):
        super().setUp()
        self.state = os.path.join(self.tmp, "coordinator")
        self.start_coordinator(state_dir=self.state)

    def post_raw(self, path, body, ctype):
        c = harness.UnixHTTPConnection(self.api_socket)
        try:
            c.request("POST", path, body=body.encode(),
                      headers={"Content-Type": ctype, "Connection": "close"})
            r = c.getresponse()
            return r.status, json.loads(r.read())
        finally:
            c.close()

    def write(self, name, text):
        path = os.path.join(self.work, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_crud_round_trip(self):
        st, doc = self.post_raw("/v1/workflows", HELLO_WF, "text/yaml")
        self.assertEqual(st, 201, doc)
        self.assertEqual(doc["name"], "hello")
        self.assertEqual(doc["workflows"], ["hello"])
        # the same name again: 409 unless replace
        st, doc = self.api.request("POST", "/v1/workflows", {"yaml": HELLO_WF})
        self.assertEqual(st, 409, doc)
        self.assertEqual(doc["error"], "conflict")
        st, doc = self.api.request("POST", "/v1/workflows",
                                   {"yaml": HELLO_WF, "replace": True})
        self.assertEqual(st, 200, doc)
        self.assertTrue(doc["replaced"])

        # YAML errors: every one with file, line, column, message
        st, doc = self.api.request("POST", "/v1/workflows",
                                   {"yaml": BAD_WF, "file": "bad.yaml"})
        self.assertEqual(st, 400, doc)
        self.assertEqual(doc["error"], "invalid_workflow")
        errs = doc["errors"]
        self.assertGreaterEqual(len(errs), 2, errs)
        self.assertEqual(errs[0]["file"], "bad.yaml")
        self.assertEqual((errs[0]["line"], errs[0]["column"]), (7, 15), errs)
        self.assertIn("no.such.action", errs[0]["message"])
        self.assertEqual((errs[1]["line"], errs[1]["column"]), (8, 7), errs)
        self.assertIn("bogus", errs[1]["message"])
        st, doc = self.post_raw("/v1/workflows", "version: '2.0'\nx: [1,\n", "text/yaml")
        self.assertEqual(st, 400, doc)
        self.assertIsInstance(doc["errors"][0]["line"], int)
        self.assertGreater(doc["errors"][0]["line"], 0)
        st, doc = self.post_raw("/v1/workflows", HELLO_WF, "image/png")
        self.assertEqual(st, 415, doc)

        wl = self.api.get("/v1/workflows")["workflows"]
        self.assertEqual([w["name"] for w in wl], ["hello"])
        self.assertIsInstance(wl[0]["created_ms"], int)
        w = self.api.get("/v1/workflows/hello")
        self.assertEqual(w["yaml"], HELLO_WF)
        self.assertIn("hello", w["canonical"]["workflows"])

        # it survives a restart
        self.coord.stop()
        self.start_coordinator(state_dir=self.state)
        self.assertEqual(self.api.get("/v1/workflows/hello")["yaml"], HELLO_WF)

        st, doc = self.api.request("DELETE", "/v1/workflows/hello")
        self.assertEqual(st, 200, doc)
        st, doc = self.api.request("GET", "/v1/workflows/hello")
        self.assertEqual(st, 404, doc)
        st, doc = self.api.request("DELETE", "/v1/workflows/hello")
        self.assertEqual(st, 404, doc)
        self.assertEqual(self.api.get("/v1/workflows")["workflows"], [])
        self.coord.stop()
        self.start_coordinator(state_dir=self.state)
        self.assertEqual(self.api.get("/v1/workflows")["workflows"], [])

    def test_run_stored_workflow(self):
        self.start_connected_agent("local")
        r = self.cli("workflow", "create", self.write("hello.yaml", HELLO_WF))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "workflow hello stored\n")
        r = self.cli("workflow", "list")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"^NAME +CREATED\nhello +\d{4}-\d\d-\d\d ")
        r = self.cli("workflow", "show", "hello")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("echo \"hello $WHO\"", r.stdout)

        # the API: by name, with input
        st, doc = self.api.request("POST", "/v1/executions",
                                   {"workflow_name": "hello", "input": {"who": "api"}})
        self.assertEqual(st, 201, doc)
        st, doc = self.api.request("POST", "/v1/executions", {"workflow_name": "nope"})
        self.assertEqual(st, 400, doc)
        self.assertIn("no stored workflow", doc["detail"])

        # the CLI: a NAME that is not a file runs the stored workflow
        os.chdir(self.work)
        r = self.cli("run", "--input", "who=cli", "hello")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("hello cli", r.stdout)
        self.assertRegex(r.stdout.splitlines()[-1], r"^execution SUCCESS \(")

        # a bad file through the CLI: every error, file:line:column
        r = self.cli("workflow", "create", self.write("bad.yaml", BAD_WF))
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("bad.yaml:7:15: ", r.stderr)
        self.assertIn("bad.yaml:8:7: ", r.stderr)

        r = self.cli("workflow", "delete", "hello")
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.cli("run", "hello")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("no stored workflow hello", r.stderr)


if __name__ == "__main__":
    harness.main()
