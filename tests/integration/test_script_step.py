#!/usr/bin/env python3
"""A script step end to end: coordinator + agent over mutual TLS, the step's
stdout and stderr streamed live, its exit code and status in the result,
through the operator API and through `bora step run`."""

import json
import os
import re
import subprocess
import sys
import time

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Api  # noqa: E402

FAILING = """#!/bin/sh
echo "out 1"
echo "err 1" >&2
echo "out 2"
printf 'err 2 no newline' >&2
exit 3
"""

OK = """#!/bin/sh
echo "hello from step"
exit 0
"""


class ScriptStep(harness.BoraTestCase):
    AGENTS = ("local", "later")

    def setUp(self):
        super().setUp()
        self.start_coordinator()
        self.agent = self.start_connected_agent("local")

    def test_agents_listed(self):
        self.assertEqual(self.api.agents(), ["local"])
        r = self.cli("agents", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        body = json.loads(r.stdout)
        items = body.get("agents", []) if isinstance(body, dict) else body
        self.assertEqual([a["name"] for a in items], ["local"])
        self.assertEqual(self.coord.count(r"agent connected .*agent=local"), 1)

    def test_exit_3_with_both_streams_via_api(self):
        sid, events, res = self.run_step("local", FAILING)
        self.assertEqual(Api.output_of(events, "stdout"), "out 1\nout 2\n")
        self.assertEqual(Api.output_of(events, "stderr"), "err 1\nerr 2 no newline")
        self.assertEqual(res["status"], "failed", res)
        self.assertEqual(res["exit_code"], 3, res)
        self.assertIn(res.get("signal", 0) or 0, (0,), res)
        # The stream ends with the result, and it is the same result.
        self.assertEqual(Api.event_kind(events[-1]), "result", events[-1])
        rev = Api.result_event(events)
        self.assertEqual(rev["status"], "failed")
        self.assertEqual(rev["exit_code"], 3)
        # The events are in order: output sequence numbers per stream from 0.
        for stream in ("stdout", "stderr"):
            seqs = [e["seq"] for e in events
                    if Api.event_kind(e) == "output" and e.get("stream") == stream and "seq" in e]
            self.assertEqual(seqs, list(range(len(seqs))), stream)

    def test_exit_3_via_cli(self):
        r = self.cli("step", "run", "--agent", "local", "-", input=FAILING)
        self.assertEqual(r.returncode, 3, "stdout=%r stderr=%r" % (r.stdout, r.stderr))
        self.assertEqual(r.stdout, "out 1\nout 2\n", "stderr=%r" % r.stderr)
        self.assertIn("err 1\n", r.stderr)
        self.assertIn("err 2 no newline", r.stderr)
        self.assertRegex(r.stderr, r"(?m)^step \S+: failed\b")
        # The step's own stderr comes before the summary line.
        self.assertLess(r.stderr.index("err 1"), r.stderr.index("failed"))

    def test_cli_script_file_and_show(self):
        path = os.path.join(self.work, "ok.sh")
        with open(path, "w") as f:
            f.write(OK)
        r = self.cli("step", "run", "--agent", "local", path)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "hello from step\n")
        m = re.search(r"(?m)^step (\S+): success\b", r.stderr)
        self.assertTrue(m, r.stderr)
        sid = m.group(1)
        show = self.cli("step", "show", sid, "--json")
        self.assertEqual(show.returncode, 0, show.stderr)
        st = json.loads(show.stdout)
        st = st.get("step", st) if isinstance(st.get("step"), dict) else st
        self.assertEqual(st["state"], "done")
        self.assertEqual(st["result"]["status"], "success")
        self.assertEqual(st["result"]["exit_code"], 0)

    def test_success(self):
        sid, events, res = self.run_step("local", OK)
        self.assertEqual(res["status"], "success", res)
        self.assertEqual(res["exit_code"], 0)
        self.assertEqual(Api.output_of(events, "stdout"), "hello from step\n")
        self.assertEqual(Api.output_of(events, "stderr"), "")
        kinds = [Api.event_kind(e) for e in events]
        self.assertEqual(kinds[-1], "result")
        self.assertEqual(kinds.count("result"), 1)

    def test_killed_by_signal(self):
        sid, events, res = self.run_step("local", "#!/bin/sh\necho before\nkill -TERM $$\necho after\n")
        self.assertEqual(res["status"], "failed", res)
        self.assertEqual(res.get("signal"), 15, res)
        self.assertEqual(Api.output_of(events, "stdout"), "before\n")

    def test_output_streams_live(self):
        """The first line reaches the API and the CLI while the step still runs."""
        script = "#!/bin/sh\necho first\nsleep 3\necho second\n"
        sid = self.api.submit("local", script, timeout=30)
        events = self.api.events(sid)
        outs = [e for e in events if Api.event_kind(e) == "output"]
        res = [e for e in events if Api.event_kind(e) == "result"]
        self.assertTrue(outs and res, events)
        self.assertGreater(res[0]["_t"] - outs[0]["_t"], 1.5,
                           "first output arrived with the result, not live")
        self.assertEqual(Api.output_of(events, "stdout"), "first\nsecond\n")

        p = subprocess.Popen([harness.binary("bora"), "--socket", self.api_socket,
                              "step", "run", "--agent", "local", "-"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=harness.child_env())
        try:
            p.stdin.write(script.encode())
            p.stdin.close()
            first = harness.read_line(p.stdout, 20)
            self.assertEqual(first, "first\n")
            self.assertIsNone(p.poll(), "bora exited before the step ended")
            rest = harness.read_all(p.stdout, 30)
            err = harness.read_all(p.stderr, 10)
            self.assertEqual(p.wait(10), 0, err)
            self.assertEqual(rest, "second\n")
            self.assertIsNone(harness.sanitizer_report(err), err)
        finally:
            if p.poll() is None:
                p.kill()
            p.wait()
            p.stdout.close()
            p.stderr.close()

    def test_many_lines_in_order(self):
        script = "#!/bin/sh\ni=0\nwhile [ $i -lt 2000 ]; do echo \"line $i\"; i=$((i+1)); done\n"
        sid, events, res = self.run_step("local", script)
        self.assertEqual(res["status"], "success", res)
        want = "".join("line %d\n" % i for i in range(2000))
        self.assertEqual(Api.output_of(events, "stdout"), want)

    def test_inputs_as_environment(self):
        """Inputs reach the script as environment variables (lists and maps
        JSON-encoded)."""
        script = ('#!/bin/sh\nprintf "%s\\n" "$greeting"\nprintf "%s\\n" "$numbers"\n'
                  'printf "%s\\n" "$settings"\n')
        inputs = {"greeting": "hi there", "numbers": [1, 2], "settings": {"a": {"b": True}}}
        sid, events, res = self.run_step("local", script, timeout=30, inputs=inputs)
        self.assertEqual(res["status"], "success", res)
        lines = Api.output_of(events, "stdout").split("\n")
        self.assertEqual(lines[0], "hi there")
        self.assertEqual(json.loads(lines[1]), [1, 2])
        self.assertEqual(json.loads(lines[2]), {"a": {"b": True}})

    def test_heat_outputs(self):
        """$heat_outputs_path.NAME files become the result's outputs (Heat's
        hook convention), beside deploy_stdout, deploy_stderr and
        deploy_status_code; a trailing newline is kept."""
        script = ('#!/bin/sh\n[ -n "$heat_outputs_path" ] || { echo UNSET; exit 9; }\n'
                  'echo "to stdout"\necho "to stderr" >&2\n'
                  'printf "%s" "result-value" > "$heat_outputs_path.answer"\n'
                  'printf "two\\n" > "$heat_outputs_path.second"\n')
        sid, events, res = self.run_step("local", script)
        self.assertEqual(Api.output_of(events, "stdout"), "to stdout\n", res)
        self.assertEqual(res["status"], "success", res)
        self.assertEqual(res.get("outputs"), {
            "answer": "result-value", "second": "two\n",
            "deploy_stdout": "to stdout\n", "deploy_stderr": "to stderr\n",
            "deploy_status_code": 0}, res)
        # The result event of the stream carries the same outputs.
        self.assertEqual(Api.result_event(events).get("outputs"), res["outputs"])

    def test_heat_outputs_of_a_failed_script(self):
        """Outputs are read whatever the exit code, as heat-config-script
        does; deploy_status_code is the exit code."""
        script = ('#!/bin/sh\nprintf "partial" > "$heat_outputs_path.answer"\n'
                  'echo "broke" >&2\nexit 3\n')
        sid, events, res = self.run_step("local", script)
        self.assertEqual(res["status"], "failed", res)
        self.assertEqual(res["exit_code"], 3, res)
        self.assertEqual(res.get("outputs"), {
            "answer": "partial", "deploy_stdout": "",
            "deploy_stderr": "broke\n", "deploy_status_code": 3}, res)

    def test_bad_agent_name_refused(self):
        with self.assertRaises(harness.ApiError) as cm:
            self.api.submit("no such agent!", OK)
        self.assertEqual(cm.exception.status, 400)
        # A bad request does not hurt the next one.
        sid, events, res = self.run_step("local", OK)
        self.assertEqual(res["status"], "success")

    def test_step_waits_for_its_agent(self):
        """A step for an agent that is not connected is sent when it connects."""
        sid = self.api.submit("later", OK, timeout=30)
        time.sleep(0.5)
        self.assertNotEqual(self.api.step(sid).get("state"), "done")
        self.start_agent("later")
        self.wait_agent("later")
        events = self.api.events(sid)
        res = self.api.wait_done(sid)
        self.assertEqual(res["status"], "success", res)
        self.assertEqual(Api.output_of(events, "stdout"), "hello from step\n")

if __name__ == "__main__":
    harness.main()
