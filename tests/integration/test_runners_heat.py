#!/usr/bin/env python3
"""Kind "heat_config": a real hook placed in a temporary hook directory is
found by group, gets Heat's hook JSON on stdin and its JSON result becomes
the step's outputs; an unknown group fails at once naming the directories
searched; output that is not JSON fails with Heat's fallback signal."""

import json
import os
import sys
import tempfile

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

# A hook in the shape of heat-agents' hooks: reads the config from stdin,
# keeps a copy of it, prints one JSON object.
ECHO_HOOK = """#!/usr/bin/env python3
import json, os, sys
c = json.load(sys.stdin)
with open(os.path.join(os.environ["HEAT_TEST_DIR"], "stdin.json"), "w") as f:
    json.dump(c, f)
with open(os.path.join(os.environ["HEAT_TEST_DIR"], "env.json"), "w") as f:
    json.dump(dict(os.environ), f)
inputs = {i["name"]: i["value"] for i in c["inputs"]}
print("hook log line", file=sys.stderr)
out = {"deploy_stdout": "ran " + c["config"], "deploy_stderr": "",
       "deploy_status_code": inputs.get("code", 0)}
for o in c["outputs"]:
    out[o["name"]] = inputs.get(o["name"], "")
json.dump(out, sys.stdout)
"""

QUIET_HOOK = """#!/bin/sh
cat >/dev/null
echo "configured" >&2
exit 0
"""

NOT_JSON_HOOK = """#!/bin/sh
cat >/dev/null
echo "Traceback (most recent call last):"
echo "boom" >&2
exit 3
"""


class RunnersHeat(harness.BoraTestCase):
    def setUp(self):
        super().setUp()
        self.hooks = tempfile.mkdtemp(prefix="bora-hooks-")
        self.work = tempfile.mkdtemp(prefix="bora-hookwork-")
        self.addCleanup(self._rm, self.hooks)
        self.addCleanup(self._rm, self.work)
        for name, text in (("echo", ECHO_HOOK), ("notjson", NOT_JSON_HOOK),
                           ("quiet", QUIET_HOOK)):
            p = os.path.join(self.hooks, name)
            with open(p, "w") as f:
                f.write(text)
            os.chmod(p, 0o755)
        self.start_coordinator()
        self.agent = self.start_connected_agent("local", env={
            "HEAT_CONFIG_HOOKS": self.hooks, "HEAT_TEST_DIR": self.work,
            "NOT_HEAT_VAR": "leak"})

    @staticmethod
    def _rm(d):
        for f in os.listdir(d):
            os.unlink(os.path.join(d, f))
        os.rmdir(d)

    def run_heat(self, spec, inputs=None):
        sid = self.api.submit_spec("local", "heat_config", spec, inputs=inputs)
        return sid, self.api.wait_done(sid)

    def test_hook_found_and_result_returned(self):
        sid, res = self.run_heat(
            {"group": "echo", "config": "the config", "name": "cfg-1",
             "options": {"o": 1}, "outputs": ["result", {"name": "other"}]},
            inputs={"result": "42", "n": 5, "flag": True, "m": {"k": [1]}})
        self.assertEqual(res["status"], "success", res)
        self.assertEqual(res["exit_code"], 0, res)
        self.assertEqual(res["outputs"], {
            "deploy_stdout": "ran the config", "deploy_stderr": "",
            "deploy_status_code": 0, "result": "42", "other": ""}, res)
        with open(os.path.join(self.work, "stdin.json")) as f:
            c = json.load(f)
        self.assertEqual(c["id"], sid)
        self.assertEqual(c["name"], "cfg-1")
        self.assertEqual(c["group"], "echo")
        self.assertEqual(c["config"], "the config")
        self.assertEqual(c["options"], {"o": 1})
        self.assertEqual(c["outputs"], [{"name": "result"}, {"name": "other"}])
        self.assertIn("creation_time", c)
        with open(os.path.join(self.work, "env.json")) as f:
            env = json.load(f)
        # the agent's HEAT_* pass through; nothing else of its environment
        self.assertEqual(env["HEAT_CONFIG_HOOKS"], self.hooks)
        self.assertNotIn("NOT_HEAT_VAR", env)
        self.assertEqual(env["PATH"], "/usr/local/sbin:/usr/local/bin:"
                         "/usr/sbin:/usr/bin:/sbin:/bin")
        by_name = {i["name"]: i for i in c["inputs"]}
        # Heat passes undeclared inputs as strings; maps as Json
        self.assertEqual(by_name["result"]["value"], "42")
        self.assertEqual(by_name["n"]["value"], "5")
        self.assertEqual(by_name["flag"]["value"], "True")
        self.assertEqual(by_name["m"], {"name": "m", "value": {"k": [1]},
                                        "type": "Json", "description": ""})

    def test_name_and_creation_time_always_sent(self):
        """Heat always sends both (hook-puppet passes the name to re.sub):
        without them in the spec, the step's id and its start time."""
        sid, res = self.run_heat({"group": "echo", "config": "x"})
        self.assertEqual(res["status"], "success", res)
        with open(os.path.join(self.work, "stdin.json")) as f:
            c = json.load(f)
        self.assertEqual(c["name"], sid)
        self.assertRegex(c["creation_time"] or "",
                         r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")

    def test_status_code_fails_step(self):
        _, res = self.run_heat({"group": "echo", "config": "x"},
                               inputs={"code": "2"})
        self.assertEqual(res["status"], "failed", res)
        self.assertEqual(res["outputs"]["deploy_status_code"], "2", res)
        self.assertIn("deploy_status_code 2", res["error"])

    def test_unknown_group_fails_fast(self):
        _, res = self.run_heat({"group": "ansible", "config": "x"})
        self.assertEqual(res["status"], "error", res)
        self.assertEqual(
            res["error"],
            "no heat-config hook for group 'ansible' (searched: %s, "
            "/usr/libexec/heat-config/hooks, /var/lib/heat-config/hooks)"
            % self.hooks)

    def test_not_json_is_heats_fallback(self):
        _, res = self.run_heat({"group": "notjson", "config": "x"})
        self.assertEqual(res["status"], "failed", res)
        self.assertEqual(res["exit_code"], 3, res)
        self.assertEqual(res["outputs"], {
            "deploy_stdout": "Traceback (most recent call last):\n",
            "deploy_stderr": "boom\n", "deploy_status_code": 3}, res)
        self.assertIn("hook printed no JSON result", res["error"])

    def test_no_json_but_exit_0_completes(self):
        """55-heat-config: a hook that exits 0 printing no JSON result
        completes the deployment with its fallback signal (code 0)."""
        _, res = self.run_heat({"group": "quiet", "config": "x"})
        self.assertEqual(res["status"], "success", res)
        self.assertEqual(res["outputs"], {
            "deploy_stdout": "", "deploy_stderr": "configured\n",
            "deploy_status_code": 0}, res)
        self.assertIsNone(res.get("error"), res)
        self.agent.wait_log(r"hook printed no JSON result dir=\S+ stdout_bytes=0; "
                            r"completed as Heat does")


if __name__ == "__main__":
    harness.main()
