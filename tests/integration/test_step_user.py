#!/usr/bin/env python3
"""A script step with spec user "nobody" runs as nobody: `id -u` is
nobody's uid, HOME is nobody's home from the passwd database, USER and
LOGNAME name it, the environment holds only what agent/runners.c puts
there (nothing of the agent's own, such as BORA_TEST_LEAK=1 set in the
agent's environment for this test), and it cannot append to a root-owned
file (0644) in a root-owned 0755 directory, which it can read."""

import os
import pwd
import shutil
import sys
import tempfile

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Api  # noqa: E402

LEAK = "BORA_TEST_LEAK"
# agent/runners.c: PATH, LANG, HOME, USER, LOGNAME (named user), heat_outputs_path.
STEP_ENV = {"PATH", "LANG", "HOME", "USER", "LOGNAME", "heat_outputs_path"}
# What /bin/sh itself may export to `env`.
SHELL_ENV = {"PWD", "OLDPWD", "SHLVL", "_"}


class StepUser(harness.BoraTestCase):
    def setUp(self):
        super().setUp()
        if os.geteuid() != 0:
            self.skipTest("needs root (to drop to nobody)")
        try:
            self.nobody = pwd.getpwnam("nobody")
        except KeyError:
            self.skipTest("no user nobody")
        self.start_coordinator()
        # start_agent takes no env: the agent inherits this process's
        # environment (harness.child_env), so set the marker here.
        old = os.environ.get(LEAK)
        os.environ[LEAK] = "1"
        try:
            self.agent = self.start_agent("local")
        finally:
            if old is None:
                os.environ.pop(LEAK, None)
            else:
                os.environ[LEAK] = old
        self.wait_agent("local")

    def run_as_nobody(self, script):
        sid = self.api.submit_spec("local", "script",
                                   {"script": script, "user": "nobody"})
        events = self.api.events(sid)
        res = self.api.wait_done(sid)
        return (res, Api.output_of(events, "stdout"),
                Api.output_of(events, "stderr"))

    def test_identity_home_and_environment(self):
        with open("/proc/%d/environ" % self.agent.pid, "rb") as f:
            agent_env = dict(kv.split(b"=", 1) for kv in f.read().split(b"\0") if b"=" in kv)
        self.assertEqual(agent_env.get(LEAK.encode()), b"1", "marker not in the agent's environment")

        res, out, err = self.run_as_nobody("#!/bin/sh\nid -u\nenv\n")
        self.assertEqual(res["status"], "success", (res, err))
        lines = out.splitlines()
        self.assertEqual(lines[0], str(self.nobody.pw_uid), out)
        env = dict(l.split("=", 1) for l in lines[1:] if "=" in l)
        self.assertEqual(env.get("HOME"), self.nobody.pw_dir, env)
        self.assertEqual(env.get("USER"), "nobody", env)
        self.assertEqual(env.get("LOGNAME"), "nobody", env)
        self.assertNotIn(LEAK, env)
        names = set(env)
        self.assertTrue(STEP_ENV <= names, "missing: %s" % sorted(STEP_ENV - names))
        self.assertEqual(names - STEP_ENV - SHELL_ENV, set(),
                         "unexpected variables in the step's environment: %r" % env)
        # nothing of the agent's own environment (ASAN_OPTIONS, the test
        # runner's variables, ...) other than names the step sets itself
        leaked = (set(k.decode() for k in agent_env) & names) - STEP_ENV - SHELL_ENV
        self.assertEqual(leaked, set())

    def test_cannot_append_to_root_file(self):
        d = tempfile.mkdtemp(prefix="bora-user-")
        self.addCleanup(shutil.rmtree, d, True)
        os.chmod(d, 0o755)
        target = os.path.join(d, "root-owned")
        with open(target, "w") as f:
            f.write("root\n")
        os.chmod(target, 0o644)
        st = os.stat(d)
        self.assertEqual((st.st_uid, st.st_mode & 0o777), (0, 0o755))

        # reading works (the path is reachable), appending does not
        res, out, err = self.run_as_nobody('#!/bin/sh\ncat "%s"\necho x >> "%s"\n'
                                           % (target, target))
        self.assertEqual(res["status"], "failed", (res, err))
        self.assertIsNotNone(res.get("exit_code"), res)
        self.assertNotEqual(res["exit_code"], 0, res)
        self.assertEqual(out, "root\n")
        self.assertIn("Permission denied", err)
        with open(target) as f:
            self.assertEqual(f.read(), "root\n")


if __name__ == "__main__":
    harness.main()
