#!/usr/bin/env python3
"""Kind "script" against heat-agents' heat-config-script contract: the
exact result of a script writing to both streams and two outputs, inputs
passed through, a failing script, and a step run as nobody."""

import os
import sys

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

BOTH = """#!/bin/sh
echo "The file /tmp/foo was created"
echo "A warning" >&2
printf 'foo\\n' > "$heat_outputs_path.first"
printf 'bar' > "$heat_outputs_path.second"
"""


class RunnersScript(harness.BoraTestCase):
    def setUp(self):
        super().setUp()
        self.start_coordinator()
        self.agent = self.start_connected_agent("local")

    def run_spec(self, spec, inputs=None, kind="script", timeout=60):
        sid = self.api.submit_spec("local", kind, spec, timeout=timeout,
                                   inputs=inputs)
        return self.api.wait_done(sid)

    def test_exact_result(self):
        res = self.run_spec({"script": BOTH,
                             "outputs": [{"name": "first"}, "second", "absent"]})
        for k in ("step", "started_ms", "finished_ms"):
            res.pop(k)
        self.assertEqual(res, {
            "status": "success", "exit_code": 0,
            "stdout_bytes": 30, "stderr_bytes": 10,
            "outputs": {
                "deploy_stdout": "The file /tmp/foo was created\n",
                "deploy_stderr": "A warning\n",
                "deploy_status_code": 0,
                "first": "foo\n", "second": "bar"}})

    def test_json_looking_string_unchanged(self):
        value = '{"a": [1, 2], "b": "c"}'
        res = self.run_spec({"script": 'printf "%s" "$foo"\n'},
                            inputs={"foo": value, "lst": [1, "x"]})
        self.assertEqual(res["outputs"]["deploy_stdout"], value, res)
        res = self.run_spec({"script": 'printf "%s" "$lst"\n'},
                            inputs={"lst": [1, "x"], "m": {"k": 1}})
        self.assertEqual(res["outputs"]["deploy_stdout"], '[1,"x"]', res)

    def test_exit_1(self):
        res = self.run_spec({"script": "echo failing >&2\nexit 1\n",
                             "outputs": ["result"]})
        self.assertEqual(res["status"], "failed", res)
        self.assertEqual(res["exit_code"], 1, res)
        self.assertEqual(res["outputs"], {"deploy_stdout": "",
                                          "deploy_stderr": "failing\n",
                                          "deploy_status_code": 1}, res)

    def test_truncated_stdout_keeps_the_end(self):
        res = self.run_spec({"script": "head -c 100000 /dev/zero | tr '\\0' a; echo END\n"})
        out = res["outputs"]["deploy_stdout"]
        self.assertTrue(out.startswith("...[truncated %d bytes]\n" % (100004 - 65536)), out[:40])
        self.assertTrue(out.endswith("aaaEND\n"))

    def test_nobody_cannot_write_root_file(self):
        if os.geteuid() != 0:
            self.skipTest("needs root")
        target = os.path.join(self.work, "root-owned")
        with open(target, "w") as f:
            f.write("root\n")
        os.chmod(self.work, 0o755)
        res = self.run_spec({"script": 'id -un\necho x >> "%s"\n' % target,
                             "user": "nobody", "cwd": "/"})
        self.assertEqual(res["status"], "failed", res)
        self.assertEqual(res["outputs"]["deploy_stdout"], "nobody\n", res)
        self.assertIn("Permission denied", res["outputs"]["deploy_stderr"])
        with open(target) as f:
            self.assertEqual(f.read(), "root\n")

    def test_unknown_user_is_an_error(self):
        res = self.run_spec({"script": "true\n", "user": "no-such-user-x"})
        self.assertEqual(res["status"], "error", res)
        self.assertIn("no-such-user-x", res.get("error", ""))


if __name__ == "__main__":
    harness.main()
