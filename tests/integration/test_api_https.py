#!/usr/bin/env python3
"""The operator API over HTTPS (api.listen / api.port): the same routes as
the unix socket, but every request needs "Authorization: Bearer" with the
operator token of `bora-coordinator init`. The CLI reaches it with --url,
--token-file and --ca (or BORA_URL, BORA_TOKEN, BORA_CA, the config file):
a listing, and a workflow run with live follow (an NDJSON stream over TLS).
Refusals: a missing or wrong token (401, said clearly by the CLI, logged
with addr= and never the token), a CA that did not sign the server's
certificate, plain HTTP on the HTTPS port (both logged with addr=). Wrong
or missing tokens are rate limited per address (429 with Retry-After).
`bora-coordinator operator-token rotate` replaces the token: the running
coordinator takes the new one and refuses the old one (SIGHUP), also after
a restart. The unix socket keeps working without a token."""

import http.client
import json
import os
import socket
import ssl
import subprocess
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

HELLO_WF = """\
version: '2.0'

hello:
  type: direct
  tasks:
    greet:
      action: bora.script
      target: local
      input:
        script: |
          #!/bin/sh
          echo hello over https
          sleep 0.3
          echo done
"""


class ApiHttps(harness.BoraTestCase):
    AGENTS = ("local",)

    def setUp(self):
        super().setUp()
        self.coordinator_init()
        self.token_file = os.path.join(self.cdir, "operator.token")
        with open(self.token_file) as f:
            self.token = f.read().strip()
        self.api_port = harness.free_port()
        self.url = "https://%s:%d" % (harness.HOST, self.api_port)
        self.start_coordinator(state_dir=self.cdir, extra=[
            "--api-listen", harness.HOST, "--api-port", str(self.api_port)])
        self.coord.wait_log("listening for the HTTPS api")

    def tearDown(self):
        # The token never reaches a log.
        for d in self.daemons:
            self.assertNotIn(self.token, d.log(), d.name)
        super().tearDown()

    # -- helpers
    def https(self, method, path, token=None, body=None, ca=None):
        ctx = ssl.create_default_context(cafile=ca or self.ca)
        c = http.client.HTTPSConnection(harness.HOST, self.api_port,
                                         context=ctx, timeout=10)
        headers = {}
        if token is not None:
            headers["Authorization"] = "Bearer " + token
        if body is not None:
            headers["Content-Type"] = "application/json"
        c.request(method, path, body=body, headers=headers)
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, data

    def bora(self, *args, token_file=None, ca=None, env=None, timeout=60):
        argv = [harness.binary("bora"), "--url", self.url,
                "--token-file", token_file or self.token_file,
                "--ca", ca or self.ca] + list(args)
        r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                           env=harness.child_env(env))
        rep = harness.sanitizer_report(r.stderr)
        self.assertIsNone(rep, r.stderr)
        self.assertNotIn(self.token, r.stdout + r.stderr)
        return r

    def write(self, name, text):
        path = os.path.join(self.work, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    # -- tests
    def test_listing_and_run_with_follow(self):
        self.start_connected_agent("local")
        status, data = self.https("GET", "/v1/agents", token=self.token)
        self.assertEqual(status, 200, data)
        self.assertEqual([a["name"] for a in json.loads(data)["agents"]], ["local"])

        r = self.bora("agents")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("local", r.stdout)

        r = self.bora("run", self.write("hello.yaml", HELLO_WF))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("hello over https", r.stdout)
        self.assertRegex(r.stdout.splitlines()[-1], r"^execution SUCCESS \(")

        # A stored workflow, run by name, over HTTPS too.
        r = self.bora("workflow", "create", self.write("stored.yaml", HELLO_WF))
        self.assertEqual(r.returncode, 0, r.stderr)
        os.chdir(self.work)
        os.unlink("stored.yaml")
        r = self.bora("run", "hello")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("hello over https", r.stdout)

        # The environment works as the flags do.
        env = {"BORA_URL": self.url, "BORA_TOKEN": self.token, "BORA_CA": self.ca}
        r = subprocess.run([harness.binary("bora"), "executions", "--json"],
                           capture_output=True, text=True, timeout=60,
                           env=harness.child_env(env))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(json.loads(r.stdout)["executions"]), 2)

        # And the config file.
        home = os.path.join(self.tmp, "home")
        os.makedirs(os.path.join(home, ".config", "bora"))
        with open(os.path.join(home, ".config", "bora", "config"), "w") as f:
            f.write("# bora\nurl: %s\ntoken_file = \"%s\"\nca: %s\n" % (
                self.url, self.token_file, self.ca))
        r = subprocess.run([harness.binary("bora"), "agents", "--json"],
                           capture_output=True, text=True, timeout=60,
                           env=harness.child_env({"HOME": home,
                                                  "XDG_CONFIG_HOME": ""}))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["agents"][0]["name"], "local")

    def test_events_websocket_needs_the_token(self):
        self.start_connected_agent("local")
        st, doc = self.api.request("POST", "/v1/executions", {"workflow": HELLO_WF})
        self.assertEqual(st, 201, doc)
        xid = doc["id"]
        for token in (None, "not-the-token"):
            c = harness.EventsClient(xid, port=self.api_port, ca=self.ca, token=token)
            with self.assertRaisesRegex(harness.WSClosed, "upgrade refused: HTTP/1\\.[01] 401"):
                c.connect()
            c.close()
        self.coord.wait_log(r'refused request addr=127\.0\.0\.1 method=GET '
                            r'path=/v1/executions/%s/events reason="no Authorization header"' % xid)
        c = harness.EventsClient(xid, port=self.api_port, ca=self.ca, token=self.token).connect()
        events, code = c.events()
        c.close()
        self.assertEqual(code, 1000)
        self.assertEqual(events[-1].get("state"), "SUCCESS", events[-1])

    def test_missing_and_wrong_token(self):
        # five refusals in all: the sixth would be rate limited
        # (test_wrong_tokens_rate_limited)
        for token, why in ((None, "no Authorization header"),
                           (self.token + "x", "wrong operator token")):
            status, data = self.https("GET", "/v1/executions", token=token)
            self.assertEqual(status, 401, data)
            doc = json.loads(data)
            self.assertEqual(doc["error"], "unauthorized")
            self.assertIn(why, doc["detail"])
        # a POST is refused before its body is looked at
        status, data = self.https("POST", "/v1/executions", token="nope",
                                  body=json.dumps({"workflow": HELLO_WF}))
        self.assertEqual(status, 401, data)
        self.coord.wait_log(r'refused request addr=\S*127\.0\.0\.1 method=GET '
                            r'path=/v1/executions reason="no Authorization header"')
        self.coord.wait_log('reason="wrong operator token"', count=2)

        bad = self.write("bad.token", "not-the-token\n")
        r = self.bora("agents", token_file=bad)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("refused the operator token (HTTP 401", r.stderr)
        self.assertIn("--token-file", r.stderr)
        r = subprocess.run([harness.binary("bora"), "--url", self.url, "--ca",
                            self.ca, "agents"], capture_output=True, text=True,
                           timeout=60, env=harness.child_env())
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("no Authorization header", r.stderr)

        # the unix socket needs no token: its mode 0600 decides
        self.assertEqual(self.api.agents(), [])
        r = self.cli("agents")
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_wrong_ca_and_plain_http(self):
        other = os.path.join(self.cdir, "ca.crt")   # init's CA: not the server's
        r = self.bora("agents", ca=other)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("certificate was not accepted", r.stderr)
        self.assertIn("--ca", r.stderr)
        # the coordinator logs the failed handshake with the client's address
        self.coord.wait_log(r'api: refused connection addr=127\.0\.0\.1:\d+ '
                            r'reason="tls handshake failed: .*(unknown ca|alert)')

        # plain HTTP to the HTTPS port gets no HTTP answer
        s = socket.create_connection((harness.HOST, self.api_port), timeout=10)
        try:
            s.sendall(b"GET /v1/agents HTTP/1.1\r\nHost: x\r\n\r\n")
            data = b""
            try:
                while True:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    data += chunk
            except (ConnectionResetError, socket.timeout):
                pass
        finally:
            s.close()
        self.assertNotIn(b"HTTP/1.1 200", data)
        self.assertNotIn(b"agents", data)
        self.coord.wait_log(r'api: refused connection addr=127\.0\.0\.1:\d+ '
                            r'reason="tls handshake failed: http request"')
        # and the API still serves
        status, data = self.https("GET", "/v1/agents", token=self.token)
        self.assertEqual(status, 200, data)

    def test_wrong_tokens_rate_limited(self):
        for i in range(5):
            status, data = self.https("GET", "/v1/agents", token="guess-%d-%s" % (i, "y" * 30))
            self.assertEqual(status, 401, data)
        self.coord.wait_log(r"rate limiting operator token addr=127\.0\.0\.1 failures=5 "
                            r"window_s=60 blocked_s=60")
        # now even the right token is refused from this address, with Retry-After
        ctx = ssl.create_default_context(cafile=self.ca)
        c = http.client.HTTPSConnection(harness.HOST, self.api_port, context=ctx, timeout=10)
        c.request("GET", "/v1/agents", headers={"Authorization": "Bearer " + self.token})
        r = c.getresponse()
        doc = json.loads(r.read())
        c.close()
        self.assertEqual(r.status, 429, doc)
        self.assertEqual(doc["error"], "rate_limited")
        self.assertTrue(1 <= int(r.getheader("Retry-After")) <= 60, r.getheaders())
        self.coord.wait_log(r'refused request addr=127\.0\.0\.1 method=GET path=/v1/agents '
                            r'reason="rate limited: too many refused operator tokens" '
                            r'retry_after_s=\d+')
        r = self.bora("agents")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("429", r.stderr)
        # every refusal was logged, none with a token in it (tearDown)
        self.assertEqual(self.coord.count(r"api: refused request addr=127\.0\.0\.1 "), 7)
        for i in range(5):
            self.assertNotIn("guess-%d" % i, self.coord.log())
        # the unix socket is not limited
        self.assertEqual(self.api.agents(), [])

    def test_rotate_operator_token(self):
        old = self.token
        status, data = self.https("GET", "/v1/agents", token=old)
        self.assertEqual(status, 200, data)
        r = subprocess.run([harness.binary("bora-coordinator"), "operator-token",
                            "rotate", self.cdir], capture_output=True, text=True,
                           timeout=60, env=harness.child_env())
        self.assertIsNone(harness.sanitizer_report(r.stderr), r.stderr)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("coordinator pid %d" % self.coord.pid, r.stdout)
        self.assertEqual(os.stat(self.token_file).st_mode & 0o777, 0o600)
        self.assertFalse(os.path.exists(self.token_file + ".new"))
        with open(self.token_file) as f:
            new = f.read().strip()
        self.assertEqual(len(new), 43)
        self.assertNotEqual(new, old)
        self.assertNotIn(new, r.stdout + r.stderr)

        # the running coordinator takes the new token and refuses the old one
        status, data = self.https("GET", "/v1/agents", token=new)
        self.assertEqual(status, 200, data)
        self.coord.wait_log("operator token reloaded changed=yes present=yes")
        status, data = self.https("GET", "/v1/agents", token=old)
        self.assertEqual(status, 401, data)
        self.assertIn("wrong operator token", json.loads(data)["detail"])
        r = self.bora("agents")                  # --token-file: the new file
        self.assertEqual(r.returncode, 0, r.stderr)

        # and so does it after a restart
        self.coord.stop()
        self.start_coordinator(state_dir=self.cdir, extra=[
            "--api-listen", harness.HOST, "--api-port", str(self.api_port)])
        self.coord.wait_log("listening for the HTTPS api")
        self.assertEqual(self.https("GET", "/v1/agents", token=new)[0], 200)
        self.assertEqual(self.https("GET", "/v1/agents", token=old)[0], 401)
        for d in self.daemons:
            self.assertNotIn(new, d.log(), d.name)

        # no coordinator on the socket: the store and the file still change
        self.coord.stop()
        r = subprocess.run([harness.binary("bora-coordinator"), "operator-token",
                            "rotate", self.cdir], capture_output=True, text=True,
                           timeout=60, env=harness.child_env())
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("no coordinator answers", r.stdout)
        with open(self.token_file) as f:
            third = f.read().strip()
        self.start_coordinator(state_dir=self.cdir, extra=[
            "--api-listen", harness.HOST, "--api-port", str(self.api_port)])
        self.coord.wait_log("listening for the HTTPS api")
        self.assertEqual(self.https("GET", "/v1/agents", token=third)[0], 200)
        self.assertEqual(self.https("GET", "/v1/agents", token=new)[0], 401)

        # a directory that is no coordinator's is refused
        r = subprocess.run([harness.binary("bora-coordinator"), "operator-token",
                            "rotate", self.work], capture_output=True, text=True,
                           timeout=60, env=harness.child_env())
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("has no store", r.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.work, "operator.token")))


if __name__ == "__main__":
    harness.main()
