#!/usr/bin/env python3
"""Kind "file": atomic write with mode, owner and group; relative paths,
symlinked parents owned by others and a user without the rights are
refused, and the target is left as it was."""

import os
import pwd
import stat
import sys
import tempfile

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


class RunnersFile(harness.BoraTestCase):
    def setUp(self):
        super().setUp()
        self.start_coordinator()
        self.agent = self.start_connected_agent("local")
        self.root = tempfile.mkdtemp(prefix="bora-file-")
        os.chmod(self.root, 0o755)
        self.addCleanup(self._rm_root)

    def _rm_root(self):
        for d, dirs, files in os.walk(self.root, topdown=False):
            for f in files + dirs:
                p = os.path.join(d, f)
                if os.path.islink(p) or not os.path.isdir(p):
                    os.unlink(p)
                else:
                    os.rmdir(p)
        os.rmdir(self.root)

    def run_file(self, spec):
        sid = self.api.submit_spec("local", "file", spec)
        return self.api.wait_done(sid)

    def test_write_mode_owner_group(self):
        path = os.path.join(self.root, "app.conf")
        with open(path, "w") as f:
            f.write("old\n")
        nobody = pwd.getpwnam("nobody")
        res = self.run_file({"path": path, "content": "password=s3cret\n",
                             "mode": "0640", "owner": "nobody",
                             "group": "root"})
        self.assertEqual(res["status"], "success", res)
        self.assertEqual(res["outputs"], {"path": path, "bytes": 16,
                                          "mode": "0640"}, res)
        with open(path) as f:
            self.assertEqual(f.read(), "password=s3cret\n")
        sb = os.lstat(path)
        self.assertEqual(stat.S_IMODE(sb.st_mode), 0o640)
        self.assertEqual(sb.st_uid, nobody.pw_uid)
        self.assertEqual(sb.st_gid, 0)
        # nothing left behind: no temporary files in the directory
        self.assertEqual(os.listdir(self.root), ["app.conf"])
        # the content (a secret) is not in the agent's log
        self.assertNotIn("s3cret", self.agent.log())

    def test_refusals_leave_target_alone(self):
        res = self.run_file({"path": "relative/x", "content": "x"})
        self.assertEqual(res["status"], "error", res)
        self.assertIn("spec.path: expected an absolute path", res["error"])

        res = self.run_file({"path": "/tmp/x", "content": "x", "mode": "999"})
        self.assertEqual(res["status"], "error", res)
        self.assertIn("spec.mode", res["error"])

        res = self.run_file({"path": "/tmp/x", "content": "x", "colour": 1})
        self.assertEqual(res["status"], "error", res)
        self.assertIn("spec.colour: unknown field", res["error"])

        # a symlinked parent owned by another user is refused
        real = os.path.join(self.root, "real")
        os.mkdir(real)
        target = os.path.join(real, "t")
        with open(target, "w") as f:
            f.write("keep\n")
        link = os.path.join(self.root, "link")
        os.symlink(real, link)
        nobody = pwd.getpwnam("nobody")
        os.lchown(link, nobody.pw_uid, nobody.pw_gid)
        res = self.run_file({"path": os.path.join(link, "t"), "content": "x"})
        self.assertEqual(res["status"], "failed", res)
        self.assertIn("symlink", res["error"])
        self.assertIn("uid %d" % nobody.pw_uid, res["error"])
        with open(target) as f:
            self.assertEqual(f.read(), "keep\n")

        # an unknown owner names it
        res = self.run_file({"path": target, "content": "x",
                             "owner": "no-such-user-here"})
        self.assertEqual(res["status"], "failed", res)
        self.assertIn("no-such-user-here", res["error"])
        with open(target) as f:
            self.assertEqual(f.read(), "keep\n")

    def test_nobody_cannot_write_root_file(self):
        path = os.path.join(self.root, "root-owned")
        with open(path, "w") as f:
            f.write("root's\n")
        os.chmod(path, 0o644)
        res = self.run_file({"path": path, "content": "mine\n",
                             "user": "nobody"})
        self.assertEqual(res["status"], "failed", res)
        self.assertEqual(res["exit_code"], 1, res)
        self.assertIn("Permission denied", res["error"])
        with open(path) as f:
            self.assertEqual(f.read(), "root's\n")
        self.assertEqual(os.listdir(self.root), ["root-owned"])

    def test_nobody_writes_its_own_directory(self):
        mine = os.path.join(self.root, "mine")
        os.mkdir(mine)
        nobody = pwd.getpwnam("nobody")
        os.chown(mine, nobody.pw_uid, nobody.pw_gid)
        path = os.path.join(mine, "f")
        res = self.run_file({"path": path, "content": "hello\n",
                             "user": "nobody", "mode": "0600"})
        self.assertEqual(res["status"], "success", res)
        sb = os.lstat(path)
        self.assertEqual(sb.st_uid, nobody.pw_uid)
        self.assertEqual(stat.S_IMODE(sb.st_mode), 0o600)


if __name__ == "__main__":
    harness.main()
