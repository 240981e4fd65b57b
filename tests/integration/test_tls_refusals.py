#!/usr/bin/env python3
"""Only agents with a certificate from the coordinator's CA get in: a
foreign CA, an expired or not yet valid certificate of the right CA, plain
TCP and a non-TLS websocket upgrade are all refused; a
connection without a client certificate may only enroll (anything else is
refused); none of them disturbs a connected agent. The agent, too,
refuses a coordinator its CA did not sign."""

import os
import re
import socket
import ssl
import subprocess
import sys
import time

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Api, WSClient, WSClosed  # noqa: E402

CA_CNF = """[ca]
default_ca = test
[test]
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
policy = any
unique_subject = no
x509_extensions = client
[any]
commonName = supplied
organizationName = optional
[client]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
"""


class TlsRefusals(harness.BoraTestCase):

    def setUp(self):
        super().setUp()
        self.start_coordinator()
        self.agent = self.start_agent("local")
        self.wait_agent("local")

    def tearDown(self):
        # Whatever was tried, the coordinator is up and the real agent works.
        self.assertTrue(self.coord.running(), self.coord.log_tail())
        self.assertIn("local", self.api.agents())
        sid, events, res = self.run_step("local", "#!/bin/sh\necho still here\n")
        self.assertEqual(res["status"], "success", res)
        self.assertEqual(Api.output_of(events, "stdout"), "still here\n")
        super().tearDown()

    def refusals(self):
        """Refused connections so far: the coordinator may log several
        lines for one connection, so count the distinct peer addresses."""
        addrs = set()
        for line in self.coord.log().splitlines():
            if "refused" in line and "reason=" in line:
                m = re.search(r"addr=(\S+)", line)
                addrs.add(m.group(1) if m else line)
        return len(addrs)

    def assert_ws_refused(self, client):
        """connect() must fail at TLS or get no 101; returns what happened."""
        try:
            client.connect()
        except (WSClosed, ssl.SSLError, ConnectionResetError, BrokenPipeError) as e:
            return str(e)
        except socket.timeout:
            self.fail("the coordinator neither refused nor answered (timeout)")
        finally:
            client.close()
        # The upgrade succeeded: with TLS 1.3 a missing/foreign client
        # certificate may be noticed only at the first read; any message
        # must fail then.
        self.fail("upgrade accepted: %s %r" % (client.status_line, client.headers))

    def test_foreign_ca_refused_at_handshake(self):
        before = self.refusals()
        c = WSClient(self.port, ca=self.ca, cert=self.cert("foreign-agent"),
                     key=self.key("foreign-agent"))
        why = self.assert_ws_refused(c)
        self.assertNotIn("101", why)
        harness.wait_for(lambda: self.refusals() > before, 10,
                         "a refusal line in the coordinator log", on_fail=self.coord.log_tail)

    def dated_cert(self, cn, start, end):
        """A client certificate for cn from the coordinator's own CA, valid
        from start to end (YYYYMMDDHHMMSSZ): `openssl x509` cannot set
        dates, `openssl ca` can."""
        d = os.path.join(self.tmp, "dated-" + cn)
        os.makedirs(d)
        with open(os.path.join(d, "ca.cnf"), "w") as f:
            f.write(CA_CNF)
        open(os.path.join(d, "index.txt"), "w").close()
        with open(os.path.join(d, "serial"), "w") as f:
            f.write("01\n")
        run = lambda *argv: subprocess.run(argv, cwd=d, check=True, capture_output=True,
                                           timeout=30)
        run("openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
            "ec_paramgen_curve:P-256", "-out", "a.key")
        run("openssl", "req", "-new", "-key", "a.key", "-subj", "/O=Bora test/CN=" + cn,
            "-out", "a.csr")
        run("openssl", "ca", "-batch", "-config", "ca.cnf", "-cert", self.ca,
            "-keyfile", os.path.join(os.path.dirname(self.ca), "ca.key"), "-in", "a.csr",
            "-out", "a.crt", "-startdate", start, "-enddate", end, "-notext")
        return os.path.join(d, "a.crt"), os.path.join(d, "a.key")

    def assert_dated_refused(self, cn, start, end, why):
        cert, key = self.dated_cert(cn, start, end)
        c = WSClient(self.port, ca=self.ca, cert=cert, key=key)
        self.assert_ws_refused(c)
        self.coord.wait_log(r"refused connection addr=127\.0\.0\.1:\d+ reason=\""
                            r"certificate verify failed: %s\" depth=0 subject=.*CN=%s"
                            % (why, cn), timeout=10)
        self.assertNotIn(cn, self.api.agents())

    def test_expired_certificate_refused_at_handshake(self):
        self.assert_dated_refused("expired-agent", "20200101000000Z", "20200201000000Z",
                                  "certificate has expired")

    def test_not_yet_valid_certificate_refused_at_handshake(self):
        self.assert_dated_refused("future-agent", "20990101000000Z", "20990201000000Z",
                                  "certificate is not yet valid")

    def test_foreign_agent_keeps_trying_never_listed(self):
        before = self.refusals()
        foreign = self.start_agent("foreign", cert=self.cert("foreign-agent"),
                                   key=self.key("foreign-agent"),
                                   reconnect_min_ms=100, reconnect_max_ms=500)
        # It retries: several refusals in a few seconds.
        harness.wait_for(lambda: self.refusals() >= before + 3, 20,
                         "3 refusals of the foreign agent", on_fail=self.all_logs)
        self.assertTrue(foreign.running(), foreign.log_tail())
        self.assertNotIn("foreign", self.api.agents())
        self.assertEqual(foreign.count("connected to coordinator"), 0, foreign.log_tail())
        self.assertEqual(self.coord.count(r"agent connected .*agent=foreign"), 0)

    def test_no_client_certificate_enroll_only(self):
        """Without a client certificate the TLS handshake succeeds (that is
        how an agent enrolls), but anything except enroll is refused with
        an error and the connection closed, logged; never a welcome."""
        before = self.refusals()
        self.assert_enroll_only(self.ca, "local")
        self.assertEqual(self.api.agents(), ["local"])
        harness.wait_for(lambda: self.refusals() > before, 10,
                         "a refusal line in the coordinator log", on_fail=self.coord.log_tail)

    def test_plain_tcp_refused(self):
        """Bytes that are not a TLS ClientHello get the connection closed
        (maybe after a TLS alert), never an HTTP answer."""
        s = socket.create_connection((harness.HOST, self.port), timeout=5)
        try:
            s.sendall(b"hello, is this a coordinator?\r\n\r\n")
            closed, got = harness.closed_within(s, 10)
        finally:
            s.close()
        self.assertTrue(closed, "connection still open after garbage: %r" % got)
        self.assertNotIn(b"HTTP/1.1 101", got)

    def test_non_tls_websocket_upgrade_refused(self):
        c = WSClient(self.port, ca=None)       # plain TCP, full upgrade request
        c.open_socket()
        try:
            c.sock.sendall(c.upgrade_request())
            closed, got = harness.closed_within(c.sock, 10)
        finally:
            c.sock.close()
        self.assertTrue(closed, "plain upgrade left open: %r" % got)
        self.assertNotIn(b"101", got.split(b"\r\n", 1)[0])
        self.assertNotIn(b"Sec-WebSocket-Accept", got)

    def test_idle_tcp_connection_does_not_block_others(self):
        """A client that connects and says nothing does not stop the loop."""
        s = socket.create_connection((harness.HOST, self.port), timeout=5)
        try:
            sid, events, res = self.run_step("local", "#!/bin/sh\necho meanwhile\n")
            self.assertEqual(res["status"], "success")
            c = WSClient(self.port, ca=self.ca, cert=self.cert("fake"), key=self.key("fake"))
            c.connect()
            w = c.hello("fake")
            self.assertEqual(w.get("name"), "fake", w)
            c.close()
        finally:
            s.close()

    def test_agent_refuses_unknown_coordinator(self):
        """An agent whose CA did not sign the coordinator never connects."""
        distrust = self.start_agent("fake", ca=os.path.join(self.certs, "foreign-ca.crt"),
                                    reconnect_min_ms=100, reconnect_max_ms=500)
        time.sleep(4)
        self.assertTrue(distrust.running(), distrust.log_tail())
        self.assertEqual(distrust.count("connected to coordinator"), 0, distrust.log_tail())
        self.assertNotIn("fake", self.api.agents())

    def test_valid_certificate_name_comes_from_cn(self):
        """A raw client with the right CA is welcomed under its CN, whatever
        name it claims in hello."""
        c = WSClient(self.port, ca=self.ca, cert=self.cert("fake"), key=self.key("fake"))
        c.connect()
        try:
            try:
                w = c.hello("local")            # a lie: its CN is "fake"
            except (WSClosed, AssertionError):
                w = None                        # refusing the lie is fine too
            if w is not None:
                self.assertEqual(w.get("name"), "fake", w)
            # Either way the real "local" is still the one listed and working.
            self.assertIn("local", self.api.agents())
        finally:
            c.close()


if __name__ == "__main__":
    harness.main()
