#!/usr/bin/env python3
"""The operators' read routes: GET /v1/executions (filters, paging, newest
first), GET /v1/executions/ID/tasks, GET /v1/steps/ID/output from the
store (also after a restart, with offset paging), GET /v1/agents/NAME with
its running steps; errors as {error, detail} with the right status.
GET /v1/agents and /v1/agents/NAME also cover enrolled agents that are not
connected (connected=false) and revoked ones (revoked=true), and `bora
agents` says which in its STATE column."""

import json
import os
import re
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

ECHO_WF = """\
version: '2.0'

greet:
  type: direct
  tasks:
    say:
      action: std.echo output="hi"
"""

FAIL_WF = """\
version: '2.0'

breaks:
  type: direct
  tasks:
    boom:
      action: std.fail
"""

SCRIPT_WF = """\
version: '2.0'

talk:
  type: direct
  input:
    - script
  tasks:
    speak:
      action: bora.script
      target: local
      input:
        script: <% $.script %>
"""

LINES_SCRIPT = "#!/bin/sh\nfor i in 1 2 3 4 5; do echo line $i; sleep 0.05; done\n"


class OperatorsApi(harness.BoraTestCase):
    AGENTS = ("local",)

    def setUp(self):
        super().setUp()
        self.start_coordinator()

    def start(self, text, **fields):
        st, doc = self.api.request("POST", "/v1/executions", dict(fields, workflow=text))
        self.assertEqual(st, 201, doc)
        return doc["id"]

    def wait_end(self, xid):
        def done():
            x = self.api.get("/v1/executions/%s" % xid)
            return x if x["state"] in ("SUCCESS", "ERROR", "CANCELLED") else None
        return harness.wait_for(done, harness.STEP_TIMEOUT, "execution %s to end" % xid,
                                interval=0.05, on_fail=self.all_logs)

    def assert_error(self, url, status, code):
        st, doc = self.api.request("GET", url)
        self.assertEqual(st, status, doc)
        self.assertEqual(doc["error"], code, doc)
        self.assertTrue(doc["detail"], doc)
        return doc

    def test_list_filter_page(self):
        ids = []
        for wf in (ECHO_WF, FAIL_WF, ECHO_WF):
            ids.append(self.start(wf))
            self.wait_end(ids[-1])
            time.sleep(0.01)          # distinct start times
        doc = self.api.get("/v1/executions")
        self.assertEqual(doc["total"], 3)
        self.assertEqual([x["id"] for x in doc["executions"]], ids[::-1])
        x = doc["executions"][0]
        self.assertEqual(x["workflow"], "greet")
        self.assertEqual(x["state"], "SUCCESS")
        self.assertEqual(x["task_states"], {"SUCCESS": 1})
        self.assertNotIn("tasks", x)

        doc = self.api.get("/v1/executions?state=ERROR")
        self.assertEqual([x["id"] for x in doc["executions"]], [ids[1]])
        doc = self.api.get("/v1/executions?state=success&workflow=greet")
        self.assertEqual([x["id"] for x in doc["executions"]], [ids[2], ids[0]])
        doc = self.api.get("/v1/executions?workflow=nope")
        self.assertEqual(doc["executions"], [])
        doc = self.api.get("/v1/executions?limit=1&offset=1")
        self.assertEqual([x["id"] for x in doc["executions"]], [ids[1]])
        self.assertEqual((doc["total"], doc["limit"], doc["offset"]), (3, 1, 1))

        self.assert_error("/v1/executions?state=DONE", 400, "bad_request")
        self.assert_error("/v1/executions?limit=0", 400, "bad_request")
        self.assert_error("/v1/executions?limit=x", 400, "bad_request")
        d = self.assert_error("/v1/executions?stat=ERROR", 400, "bad_request")
        self.assertIn("stat", d["detail"])

        # tasks
        doc = self.api.get("/v1/executions/%s/tasks" % ids[1])
        self.assertEqual(doc["exec"], ids[1])
        self.assertEqual(doc["state"], "ERROR")
        self.assertEqual([(t["name"], t["state"]) for t in doc["tasks"]], [("boom", "ERROR")])
        self.assert_error("/v1/executions/nope/tasks", 404, "not_found")

    def test_output_agent_restart(self):
        self.start_connected_agent("local")
        self.assert_error("/v1/agents/absent", 404, "not_found")
        # An agent with a running step lists it.
        xid = self.start(SCRIPT_WF, input={"script": "#!/bin/sh\necho started\nsleep 30\n"})

        def running_step():
            a = self.api.get("/v1/agents/local")
            return a if a["steps"] and a["steps"][0]["state"] == "running" else None
        a = harness.wait_for(running_step, harness.STEP_TIMEOUT, "a running step",
                             on_fail=self.all_logs)
        self.assertEqual(a["name"], "local")
        for k in ("addr", "labels", "facts", "connected_since"):
            self.assertIn(k, a)
        sid = a["steps"][0]["id"]
        self.assertTrue(sid.startswith(xid), sid)
        st, _ = self.api.request("POST", "/v1/executions/%s/cancel" % xid, {})
        self.assertEqual(st, 200)
        self.wait_end(xid)
        harness.wait_for(lambda: not self.api.get("/v1/agents/local")["steps"], 10,
                         "the agent's steps to end", on_fail=self.all_logs)

        xid = self.start(SCRIPT_WF, input={"script": LINES_SCRIPT})
        x = self.wait_end(xid)
        self.assertEqual(x["state"], "SUCCESS", x)
        sid = x["tasks"][0]["actions"][0]["step"]

        def read_all(sid, limit):
            data, off, pages = "", 0, 0
            while True:
                doc = self.api.get("/v1/steps/%s/output?offset=%d&limit=%d" % (sid, off, limit))
                self.assertEqual(doc["offset"], off)
                data += "".join(c["data"] for c in doc["chunks"] if c["stream"] == "stdout")
                off = doc["next_offset"]
                pages += 1
                if not doc["more"]:
                    return doc, data, pages

        want = "".join("line %d\n" % i for i in range(1, 6))
        doc, data, _ = harness.wait_for(
            lambda: (lambda r: r if r[1] == want else None)(read_all(sid, 100)),
            10, "the output in the store", on_fail=self.all_logs)
        self.assertEqual(doc["step"], sid)
        self.assertEqual(doc["agent"], "local")
        self.assertEqual(doc["exec"], xid)
        total = doc["chunks_total"]
        self.assertGreaterEqual(total, 1)
        _, data1, pages = read_all(sid, 1)
        self.assertEqual(data1, want)
        self.assertEqual(pages, total)
        self.assert_error("/v1/steps/%s/output?offset=-1" % sid, 400, "bad_request")
        self.assert_error("/v1/steps/step-nope-1/output", 404, "not_found")

        # After a restart the store still answers.
        self.coord.stop()
        self.start_coordinator()
        doc, data, _ = read_all(sid, 100)
        self.assertEqual(data, want)
        doc = self.api.get("/v1/executions?state=SUCCESS")
        self.assertIn(xid, [x["id"] for x in doc["executions"]])


class EnrolledAgents(harness.BoraTestCase):
    """Agents enrolled by the coordinator's CA (bora-coordinator init, bora
    token create, bora-agent enroll), then disconnected or revoked."""
    AGENTS = ()

    def setUp(self):
        super().setUp()
        self.coordinator_init()
        self.start_init_coordinator()

    def enrolled_agent(self, name, labels):
        r = self.cli("token", "create", "--json", "--name", name, "--labels", labels)
        self.assertEqual(r.returncode, 0, r.stderr)
        token = json.loads(r.stdout)["token"]
        state = os.path.join(self.tmp, "agent-" + name)
        r = subprocess.run([harness.binary("bora-agent"), "enroll",
                            "--url", "wss://%s:%d/" % (harness.HOST, self.port),
                            "--token", token, "--state-dir", state,
                            "--ca-file", os.path.join(self.cdir, "ca.crt")],
                           capture_output=True, text=True, timeout=60,
                           env=harness.child_env())
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        d = harness.Daemon("agent-" + name,
                           [harness.binary("bora-agent"), "--config",
                            os.path.join(state, "agent.yaml"),
                            "--reconnect-min-ms", "100", "--reconnect-max-ms", "500"],
                           self._log_path("agent-" + name))
        self.daemons.append(d)
        self.wait_agent(name)
        return d

    def agent(self, name):
        return self.api.get("/v1/agents/%s" % name)

    def test_disconnected_and_revoked(self):
        web1 = self.enrolled_agent("web-1", "role=web")
        self.enrolled_agent("web-2", "role=web,zone=b")
        enrolled = {a["name"]: a for a in self.api.get("/v1/enrolled")["agents"]}

        listing = self.api.get("/v1/agents")["agents"]
        self.assertEqual([a["name"] for a in listing], ["web-1", "web-2"])
        for a in listing:
            self.assertEqual((a["connected"], a["state"], a["enrolled"], a["revoked"]),
                             (True, "connected", True, False), a)
            self.assertEqual(a["serial"], enrolled[a["name"]]["serial"])
            self.assertEqual(a["fingerprint"], enrolled[a["name"]]["fingerprint"])
            self.assertRegex(a["enrolled_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
            self.assertRegex(a["addr"], r"^127\.0\.0\.1:\d+$")
            self.assertIsInstance(a["facts"], dict)
            self.assertIsNone(a["revoked_at"])
            self.assertEqual((a["running_steps"], a["steps"]), (0, []))

        # web-1 goes away: still listed, from its enrollment
        self.assertEqual(web1.stop(), 0)
        self.wait_agent("web-1", present=False)
        a = self.agent("web-1")
        self.assertEqual((a["connected"], a["state"], a["revoked"]),
                         (False, "disconnected", False), a)
        self.assertIsNone(a["addr"])
        self.assertIsNone(a["connected_since"])
        self.assertIsNone(a["facts"])
        self.assertEqual(a["labels"], {"role": "web"})
        self.assertEqual(a["serial"], enrolled["web-1"]["serial"])
        # a step for it waits, and shows
        sid = self.api.submit("web-1", "#!/bin/sh\necho later\n")
        a = self.agent("web-1")
        self.assertEqual(a["running_steps"], 1, a)
        self.assertEqual([(s["id"], s["state"]) for s in a["steps"]], [(sid, "waiting")])

        # web-2 revoked: revoked=true, and its connection closed
        r = self.cli("agent", "revoke", "web-2")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.wait_agent("web-2", present=False)
        a = self.agent("web-2")
        self.assertEqual((a["revoked"], a["state"], a["connected"]),
                         (True, "revoked", False), a)
        self.assertRegex(a["revoked_at"], r"^\d{4}-\d\d-\d\dT")

        # the CLI: a STATE column, and --json as the API says
        r = self.cli("agents")
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        self.assertEqual(lines[0].split()[:3], ["NAME", "STATE", "ADDRESS"])
        rows = {l.split()[0]: l.split() for l in lines[1:]}
        self.assertEqual(rows["web-1"][1:5], ["disconnected", "-", "-", "-"])
        self.assertEqual(rows["web-1"][5], "role=web")
        self.assertEqual(rows["web-2"][1], "revoked")
        r = self.cli("agents", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        doc = json.loads(r.stdout)
        self.assertEqual({a["name"]: a["state"] for a in doc["agents"]},
                         {"web-1": "disconnected", "web-2": "revoked"})

        # unknown names are still 404; after a restart the enrolled stay listed
        st, doc = self.api.request("GET", "/v1/agents/web-3")
        self.assertEqual((st, doc["error"]), (404, "not_found"), doc)
        self.assertIn("enrolled or connected", doc["detail"])
        self.coord.stop()
        self.start_init_coordinator()
        states = {a["name"]: (a["state"], a["revoked"])
                  for a in self.api.get("/v1/agents")["agents"]}
        self.assertEqual(states, {"web-1": ("disconnected", False),
                                  "web-2": ("revoked", True)})
        self.assertTrue(re.match(r"^[0-9a-f]+$", self.agent("web-2")["serial"]))


if __name__ == "__main__":
    harness.main()
