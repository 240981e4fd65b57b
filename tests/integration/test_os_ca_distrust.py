#!/usr/bin/env python3
"""Trust exactly the configured CA: a CA added to the operating system's
store (update-ca-certificates) is not trusted by the agent, by `bora --ca`
or by `bora-agent enroll --ca-file`. A coordinator whose server certificate
comes from that CA (right name, right address) is refused by each, while
with the system store alone the same certificate would pass. The CA is
removed from the system store again at the end."""

import os
import shutil
import socket
import ssl
import subprocess
import sys

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

SERVER_EXT = """basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,DNS:localhost
"""
SYSTEM_DIR = "/usr/local/share/ca-certificates"


def run(*argv, cwd=None):
    subprocess.run(argv, cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


class OsCaDistrust(harness.BoraTestCase):

    def setUp(self):
        super().setUp()
        if os.geteuid() != 0 or shutil.which("update-ca-certificates") is None:
            self.skipTest("needs root and update-ca-certificates to change "
                          "the system's CA store")
        # a server certificate for 127.0.0.1 from the foreign CA
        d = os.path.join(self.tmp, "os-ca")
        os.makedirs(d)
        with open(os.path.join(d, "server.ext"), "w") as f:
            f.write(SERVER_EXT)
        run("openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
            "ec_paramgen_curve:P-256", "-out", "server.key", cwd=d)
        run("openssl", "req", "-new", "-key", "server.key", "-subj",
            "/O=Bora test/CN=127.0.0.1", "-out", "server.csr", cwd=d)
        run("openssl", "x509", "-req", "-sha256", "-days", "2", "-in", "server.csr",
            "-CA", self.cert("foreign-ca"), "-CAkey", self.key("foreign-ca"),
            "-CAcreateserial", "-CAserial", "serial", "-extfile", "server.ext",
            "-out", "server.crt", cwd=d)
        self.os_cert = os.path.join(d, "server.crt")
        self.os_key = os.path.join(d, "server.key")
        # the foreign CA into the system store, and out again at the end
        self.installed = os.path.join(SYSTEM_DIR, "bora-test-%d.crt" % os.getpid())
        os.makedirs(SYSTEM_DIR, exist_ok=True)
        shutil.copyfile(self.cert("foreign-ca"), self.installed)
        self.addCleanup(run, "update-ca-certificates")
        self.addCleanup(os.unlink, self.installed)
        run("update-ca-certificates")
        self.api_port = harness.free_port()
        self.start_coordinator(extra=("--tls-cert", self.os_cert, "--tls-key", self.os_key,
                                      "--api-listen", harness.HOST,
                                      "--api-port", str(self.api_port)))
        self.coord.wait_log("listening for the HTTPS api")

    def test_system_store_alone_trusts_it(self):
        """The premise: the system's store now trusts the coordinator's
        certificate, so each refusal below is the program's own choice."""
        ctx = ssl.create_default_context()      # the system's CAs only
        with socket.create_connection((harness.HOST, self.port), timeout=10) as s:
            with ctx.wrap_socket(s, server_hostname="127.0.0.1") as t:
                self.assertTrue(t.getpeercert())

    def test_agent_refuses(self):
        agent = self.start_agent("local")
        agent.wait_log(r"coordinator certificate refused|cannot connect to "
                       r"coordinator", timeout=15)
        agent.wait_log(r"reconnecting in", timeout=15)
        self.assertEqual(agent.count("connected to coordinator url"), 0, agent.log_tail())
        self.assertEqual(self.api.agents(), [])

    def test_cli_ca_refuses(self):
        url = "https://%s:%d" % (harness.HOST, self.api_port)
        argv = [harness.binary("bora"), "--url", url, "--token", "x" * 43]
        r = subprocess.run(argv + ["--ca", self.ca, "agents"], capture_output=True,
                           text=True, timeout=30, env=harness.child_env())
        self.assertNotEqual(r.returncode, 0, r.stdout)
        self.assertRegex(r.stderr, r"certificate|verify", r.stderr)
        # with the system's store the handshake passes: the token is what
        # is refused then
        r = subprocess.run(argv + ["agents"], capture_output=True, text=True,
                           timeout=30, env=harness.child_env())
        self.assertNotEqual(r.returncode, 0, r.stdout)
        self.assertNotRegex(r.stderr, r"certificate verify", r.stderr)

    def test_enroll_ca_file_refuses(self):
        tok = os.path.join(self.tmp, "token")
        with open(tok, "w") as f:
            f.write("t" * 43 + "\n")
        os.chmod(tok, 0o600)
        r = subprocess.run([harness.binary("bora-agent"), "enroll",
                            "--url", "wss://%s:%d/" % (harness.HOST, self.port),
                            "--state-dir", os.path.join(self.tmp, "enroll-state"),
                            "--token-file", tok, "--ca-file", self.ca],
                           capture_output=True, text=True, timeout=60,
                           env=harness.child_env())
        self.assertNotEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertRegex(r.stdout + r.stderr, r"certificate|verify")


if __name__ == "__main__":
    harness.main()
