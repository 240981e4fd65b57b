#!/usr/bin/env python3
"""Enrollment and revocation, end to end with the real binaries:
`bora-coordinator init` makes the CA, `bora token create` a one-time token,
`bora-agent enroll` pins the CA by fingerprint, makes its key and gets a
certificate, and the agent then runs with mutual TLS. Refusals: reused,
expired and wrong tokens (rate limited), a wrong fingerprint, a name already
enrolled, a connection without a certificate sending anything but enroll.
Revocation closes the live agent and refuses its reconnects at the
handshake while another agent keeps working. No token ever reaches a log
or a world-readable file."""

import json
import os
import re
import subprocess
import sys
import time

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Api, Daemon, WSClient  # noqa: E402


class Enrollment(harness.BoraTestCase):

    def setUp(self):
        super().setUp()
        self.tokens = []            # every plain token seen, for the leak check
        r = self.coordinator_init()
        self.assertIsNone(harness.sanitizer_report(r.stderr), r.stderr)
        m = re.search(r"CA fingerprint \(sha256\): ([0-9A-F:]{95})", r.stdout)
        self.assertIsNotNone(m, r.stdout)
        self.fp = m.group(1)
        with open(os.path.join(self.cdir, "operator.token")) as f:
            self.tokens.append(f.read().strip())
        self.start_init_coordinator()

    def tearDown(self):
        self.assert_no_token_leak()
        super().tearDown()

    # -- helpers
    def start_init_coordinator(self):
        return super().start_init_coordinator(log_level="debug")

    def token(self, *args):
        r = self.cli("token", "create", "--json", *args)
        self.assertEqual(r.returncode, 0, r.stderr)
        t = json.loads(r.stdout)
        self.tokens.append(t["token"])
        self.assertEqual(len(t["token"]), 43, t)
        return t

    def enroll(self, name, token, *extra, fp=None, expect=0):
        """token None: the caller gives --token-file in extra."""
        state = os.path.join(self.tmp, "agent-" + name)
        argv = [harness.binary("bora-agent"), "enroll",
                "--url", "wss://%s:%d/" % (harness.HOST, self.port),
                "--state-dir", state]
        if token is not None:
            argv += ["--token", token]
        if fp is not False:
            argv += ["--ca-sha256", fp or self.fp]
        argv += list(extra)
        log = self._log_path("enroll-" + name)
        with open(log, "wb") as f:
            r = subprocess.run(argv, stdout=f, stderr=subprocess.STDOUT,
                               timeout=60, env=harness.child_env())
        with open(log, encoding="utf-8", errors="replace") as f:
            out = f.read()
        self.assertIsNone(harness.sanitizer_report(out), out)
        if expect is not None:
            self.assertEqual(r.returncode, expect, out)
        return out, state

    def start_enrolled(self, name):
        state = os.path.join(self.tmp, "agent-" + name)
        d = Daemon("agent-" + name,
                   [harness.binary("bora-agent"), "--config",
                    os.path.join(state, "agent.yaml"),
                    "--reconnect-min-ms", "100", "--reconnect-max-ms", "500",
                    "--log-level", "debug"],
                   self._log_path("agent-" + name))
        self.daemons.append(d)
        return d

    def enrolled_agent(self, name, *token_args):
        t = self.token("--name", name, *token_args)
        self.enroll(name, t["token"])
        d = self.start_enrolled(name)
        self.wait_agent(name)
        return d

    def assert_step_works(self, name):
        sid, events, res = self.run_step(name, "#!/bin/sh\necho hi from $(hostname) >/dev/null; echo ok\n")
        self.assertEqual(res["status"], "success", res)
        self.assertEqual(Api.output_of(events, "stdout"), "ok\n")

    def assert_no_token_leak(self):
        """No token in any log; none in a file anyone may read."""
        self.assert_secrets_confined(self.tokens)

    # -- tests
    def test_init_files(self):
        for f, mode in (("ca.key", 0o600), ("server.key", 0o600),
                        ("operator.token", 0o600)):
            self.assertEqual(os.stat(os.path.join(self.cdir, f)).st_mode & 0o777, mode, f)
        self.assertEqual(os.stat(self.cdir).st_mode & 0o777, 0o700)
        out = subprocess.run(["openssl", "x509", "-noout", "-fingerprint", "-sha256",
                              "-in", os.path.join(self.cdir, "ca.crt")],
                             capture_output=True, text=True, check=True).stdout
        self.assertIn(self.fp, out)
        r = subprocess.run([harness.binary("bora-coordinator"), "init", self.cdir],
                           capture_output=True, text=True, timeout=60,
                           env=harness.child_env())
        self.assertEqual(r.returncode, 1)
        self.assertIn("already holds a CA", r.stderr)

    def test_enroll_then_mutual_tls_step(self):
        t = self.token("--labels", "role=web,zone=a", "--ttl", "10m")
        out, state = self.enroll("web-1", t["token"], "--name", "web-1")
        self.assertIn("enrolled as web-1", out)
        self.assertEqual(os.stat(os.path.join(state, "agent.key")).st_mode & 0o777, 0o600)
        with open(os.path.join(state, "agent.yaml")) as f:
            cfg = f.read()
        self.assertIn("role: \"web\"", cfg)
        # the key never left: the certificate holds our public key
        pub_key = subprocess.run(["openssl", "pkey", "-pubout", "-in",
                                  os.path.join(state, "agent.key")],
                                 capture_output=True, text=True, check=True).stdout
        pub_crt = subprocess.run(["openssl", "x509", "-noout", "-pubkey", "-in",
                                  os.path.join(state, "agent.crt")],
                                 capture_output=True, text=True, check=True).stdout
        self.assertEqual(pub_key, pub_crt)
        self.coord.wait_log(r"agent enrolled agent=web-1 .*token_id=%s" % t["id"])
        self.start_enrolled("web-1")
        self.wait_agent("web-1")
        self.assert_step_works("web-1")
        # enrolling again does nothing without --force
        out, _ = self.enroll("web-1", "whatever-token")
        self.assertIn("already enrolled as web-1", out)
        # the token is used up; the listing shows it, without the secret
        r = self.cli("token", "list", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        lst = json.loads(r.stdout)
        self.assertEqual([x["state"] for x in lst if x["id"] == t["id"]], ["used"])
        self.assertNotIn(t["token"], r.stdout)
        # a second agent with --ca-file instead of the fingerprint
        t2 = self.token("--name", "web-2")
        self.enroll("web-2", t2["token"], "--ca-file",
                    os.path.join(self.cdir, "ca.crt"), fp=False)
        self.start_enrolled("web-2")
        self.wait_agent("web-2")
        self.assert_step_works("web-2")

    def test_enrolled_labels_win_over_hello(self):
        """Targets choose agents by label: an enrolled agent whose config
        (so its hello) claims other labels than its token bound is known by
        the bound ones, and the coordinator logs what it ignored."""
        t = self.token("--name", "lab-1", "--labels", "role=web")
        _, state = self.enroll("lab-1", t["token"])
        cfg_path = os.path.join(state, "agent.yaml")
        with open(cfg_path) as f:
            cfg = f.read()
        self.assertIn('role: "web"', cfg)
        with open(cfg_path, "w") as f:
            f.write(cfg.replace('role: "web"', 'role: "db"'))
        self.start_enrolled("lab-1")
        self.wait_agent("lab-1")
        self.coord.wait_log(r'hello labels ignored agent=lab-1 addr=127\.0\.0\.1:\d+ '
                            r'labels=.*db.* reason="the labels it enrolled with apply"')
        a = self.api.get("/v1/agents/lab-1")
        self.assertEqual(a["labels"], {"role": "web"}, a)
        self.assert_step_works("lab-1")

    def test_token_file(self):
        """--token-file keeps the token off the command line; a file others
        may read still works but is warned about; bad files are refused."""
        t = self.token("--name", "tf-1")
        path = os.path.join(self.work, "token")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(fd, (t["token"] + "\n").encode())
        os.close(fd)
        out, _ = self.enroll("tf-1", None, "--token-file", path)
        self.assertIn("enrolled as tf-1", out)
        self.assertNotIn("warning", out)
        self.assertNotIn(t["token"], out)
        self.start_enrolled("tf-1")
        self.wait_agent("tf-1")
        self.assert_step_works("tf-1")
        # world-readable: works, with a warning
        t2 = self.token("--name", "tf-2")
        with open(path, "w") as f:
            f.write(t2["token"])
        os.chmod(path, 0o644)
        out, _ = self.enroll("tf-2", None, "--token-file", path)
        self.assertIn("enrolled as tf-2", out)
        self.assertRegex(out, r"warning: .*token may be read by others \(mode 644\)")
        # refused before any connection: both forms, an empty or missing file
        out, _ = self.enroll("tf-3", "x", "--token-file", path, expect=2)
        self.assertIn("not both", out)
        with open(path, "w") as f:
            f.write("\n")
        out, _ = self.enroll("tf-3", None, "--token-file", path, expect=2)
        self.assertIn("expected one line with the token", out)
        out, _ = self.enroll("tf-3", None, "--token-file", path + ".nope", expect=2)
        self.assertIn("No such file", out)
        self.assert_no_token_leak()

    def test_config_out_unwritable_keeps_token(self):
        """A --config-out whose directory does not exist (the first boot
        of an image without /etc/bora, found by the VM boot test) is
        refused before anything is sent: no key made, no enrollment at the
        coordinator, and the same one-time token enrolls afterwards."""
        t = self.token("--name", "co-1")
        missing = os.path.join(self.work, "no-such-dir", "agent.yaml")
        out, state = self.enroll("co-1", t["token"], "--config-out",
                                 missing, expect=1)
        self.assertIn("--config-out %s" % missing, out)
        self.assertIn("the token is not spent", out)
        self.assertFalse(os.path.exists(os.path.join(state, "agent.key")))
        self.assertEqual(self.coord.count(r"agent enrolled agent=co-1 "), 0)
        os.makedirs(os.path.dirname(missing))
        out, _ = self.enroll("co-1", t["token"], "--config-out", missing)
        self.assertIn("enrolled as co-1", out)
        self.assertTrue(os.path.exists(missing))

    def test_reused_token_refused(self):
        t = self.token()
        self.enroll("a1", t["token"], "--name", "a1")
        out, state = self.enroll("a2", t["token"], "--name", "a2", expect=1)
        self.assertIn("bad_token", out)
        self.assertIn("no uses left", out)
        self.assertFalse(os.path.exists(os.path.join(state, "agent.crt")))
        self.coord.wait_log(r"enrollment refused .*code=bad_token .*no uses left")

    def test_token_uses_and_revoke(self):
        t = self.token("--uses", "2")
        self.enroll("u1", t["token"], "--name", "u1")
        r = self.cli("token", "revoke", t["id"])
        self.assertEqual(r.returncode, 0, r.stderr)
        out, _ = self.enroll("u2", t["token"], "--name", "u2", expect=1)
        self.assertIn("unknown token", out)

    def test_expired_token_refused(self):
        st, body = self.api.request("POST", "/v1/tokens", {"ttl_s": 1, "name": "late"})
        self.assertEqual(st, 201, body)
        self.tokens.append(body["token"])
        time.sleep(1.5)
        out, _ = self.enroll("late", body["token"], expect=1)
        self.assertIn("expired", out)

    def test_wrong_token_rate_limited(self):
        good = self.token("--name", "patient")
        for i in range(harness_fails()):
            out, _ = self.enroll("guess%d" % i, "wrong-token-%d" % i, "--name", "g%d" % i,
                                 expect=1)
            self.assertIn("unknown token", out)
        self.coord.wait_log(r"rate limiting enrollment addr=127\.0\.0\.1 failures=5")
        # now even a good token from that address is refused for a while
        out, _ = self.enroll("patient", good["token"], expect=1)
        self.assertIn("rate_limited", out)
        # the token was not used up by the refusal
        lst = json.loads(self.cli("token", "list", "--json").stdout)
        self.assertEqual([x["uses_left"] for x in lst if x["id"] == good["id"]], [1])

    def test_wrong_fingerprint_refused_by_agent(self):
        t = self.token()
        bad = "AA:" + self.fp[3:]
        out, state = self.enroll("pin", t["token"], "--name", "pin", fp=bad, expect=1)
        self.assertIn("not the pinned one", out)
        self.assertFalse(os.path.exists(os.path.join(state, "agent.crt")))
        # nothing reached the coordinator: the token is still usable
        self.assertEqual(self.coord.count("enrollment refused"), 0)
        self.enroll("pin", t["token"], "--name", "pin")

    def test_name_already_enrolled_refused(self):
        self.enrolled_agent("dup")
        t = self.token()
        out, _ = self.enroll("dup2", t["token"], "--name", "dup", expect=1)
        self.assertIn("name_taken", out)
        t = self.token("--name", "dup")
        out, _ = self.enroll("dup3", t["token"], expect=1)
        self.assertIn("name_taken", out)

    def test_no_certificate_only_enroll(self):
        self.enrolled_agent("ok")
        self.assert_enroll_only(os.path.join(self.cdir, "ca.crt"), "ok")
        self.coord.wait_log(r"enrollment refused .*code=enroll_only")
        self.assertEqual(self.api.agents(), ["ok"])
        # a foreign CA's certificate is still refused at the handshake
        c = WSClient(self.port, ca=os.path.join(self.cdir, "ca.crt"),
                     cert=self.cert("foreign-agent"), key=self.key("foreign-agent"))
        with self.assertRaises(Exception):
            c.connect()
            c.send_json({"type": "hello", "name": "foreign", "version": "x"})
            c.recv_json()
        c.close()
        self.assert_step_works("ok")

    def test_revoke_disconnects_and_refuses(self):
        bad = self.enrolled_agent("bad")
        self.enrolled_agent("good")
        r = self.cli("agent", "revoke", "bad")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("connection was closed", r.stdout)
        self.wait_agent("bad", present=False)
        self.coord.wait_log(r"agent revoked agent=bad serial=")
        self.coord.wait_log(r"refused connection .*certificate revoked", count=2)
        time.sleep(1.5)
        self.assertNotIn("bad", self.api.agents())
        self.assertTrue(bad.running())
        self.assert_step_works("good")
        # the revocation survives a restart
        self.coord.stop()
        self.start_init_coordinator()
        self.wait_agent("good")
        self.coord.wait_log(r"refused connection .*certificate revoked")
        self.assertNotIn("bad", self.api.agents())
        self.assert_step_works("good")


def harness_fails():
    return 5


if __name__ == "__main__":
    harness.main()
