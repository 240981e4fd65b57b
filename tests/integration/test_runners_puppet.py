#!/usr/bin/env python3
"""Kind "puppet" with Debian's real puppet (heat-config-puppet contract):
changes (2), no changes (0), a failing resource (4/6), a syntax error,
FACTER_ inputs and hiera data."""

import os
import shutil
import sys

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


class RunnersPuppet(harness.BoraTestCase):
    def setUp(self):
        if shutil.which("puppet", path="/usr/local/bin:/usr/bin:/bin") is None:
            self.skipTest("puppet is not installed (scripts/install-deps.sh)")
        super().setUp()
        self.start_coordinator()
        self.agent = self.start_connected_agent("local")

    def run_spec(self, spec, inputs=None):
        sid = self.api.submit_spec("local", "puppet", spec, timeout=120,
                                   inputs=inputs)
        return self.api.wait_done(sid, timeout=150)

    def test_apply_twice_then_fail_then_syntax(self):
        path = os.path.join(self.work, "made-by-puppet")
        manifest = ('file { "%s": ensure => file, content => "v=${::greeting}\\n" }\n'
                    % path)
        res = self.run_spec({"manifest": manifest}, inputs={"greeting": "hi"})
        self.assertEqual(res["status"], "success", res)
        self.assertEqual(res["exit_code"], 2, res)
        self.assertIs(res["outputs"]["changed"], True, res)
        # Heat's rule (heat-config-puppet maps 2 to 0): changes made is a
        # deployment that succeeded; the process's own code stays in exit_code
        self.assertEqual(res["outputs"]["deploy_status_code"], 0, res)
        with open(path) as f:
            self.assertEqual(f.read(), "v=hi\n")

        res = self.run_spec({"manifest": manifest}, inputs={"greeting": "hi"})
        self.assertEqual(res["status"], "success", res)
        self.assertEqual(res["exit_code"], 0, res)
        self.assertIs(res["outputs"]["changed"], False, res)

        res = self.run_spec({"manifest": 'exec { "fails": command => "/bin/false" }\n'})
        self.assertEqual(res["status"], "failed", res)
        self.assertIn(res["exit_code"], (4, 6), res)
        self.assertNotIn("changed", res["outputs"])

        res = self.run_spec({"manifest": 'file { "/tmp/x": ensure => \n'})
        self.assertEqual(res["status"], "failed", res)
        self.assertIn("Syntax error", res["outputs"]["deploy_stderr"], res)

    def test_hiera_from_inputs(self):
        path = os.path.join(self.work, "from-hiera")
        manifest = ('file { "%s": ensure => file, content => lookup("motd") }\n' % path)
        res = self.run_spec({"manifest": manifest, "hiera": True},
                            inputs={"motd": "hello hiera\n"})
        self.assertEqual(res["status"], "success", res)
        with open(path) as f:
            self.assertEqual(f.read(), "hello hiera\n")


if __name__ == "__main__":
    harness.main()
