#!/usr/bin/env python3
"""The agent's journal (agent/journal.c) survives the agent: a step whose
agent is killed mid-run is reported lost and never run again, and a result
finished while the coordinator was away survives an agent restart and
arrives once when the coordinator is back (docs/protocol.md, "Steps never run
twice, results are never lost")."""

import base64
import hashlib
import json
import os
import socket
import ssl
import sys
import time

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Api  # noqa: E402
from harness import LOST_ERROR, kill_group  # noqa: E402
from harness import file_lines as read_lines  # noqa: E402


class ServerWS(harness.WSClient):
    """The coordinator's end of one websocket: server frames are not
    masked (RFC 6455), the agent's are."""

    def send_frame(self, opcode, payload, fin=True):
        self.send_raw(self.frame(opcode, payload, fin=fin, mask=False))


class FakeCoordinator:
    """Just enough of a coordinator on 127.0.0.1:port to see what an agent
    says after it connects: TLS with the test's server certificate, the
    agent's certificate required, the bora.v1 upgrade, then JSON messages."""

    def __init__(self, test, port):
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(test.cert("server"), test.key("server"))
        self.ctx.load_verify_locations(test.ca)
        self.ctx.verify_mode = ssl.CERT_REQUIRED
        self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind((harness.HOST, port))
        self.lsock.listen(4)
        self.ws = None

    def accept(self, timeout):
        """The next agent connection, upgraded; returns its hello."""
        self.lsock.settimeout(timeout)
        raw, _ = self.lsock.accept()
        raw.settimeout(10)
        sock = self.ctx.wrap_socket(raw, server_side=True)
        ws = ServerWS(0)
        ws.sock = sock
        head = ws._read_head().decode("latin-1").split("\r\n")
        hdr = {}
        for l in head[1:]:
            if ":" in l:
                k, v = l.split(":", 1)
                hdr[k.strip().lower()] = v.strip()
        accept = base64.b64encode(hashlib.sha1(
            (hdr["sec-websocket-key"] + harness.WS_GUID).encode()).digest()).decode()
        sock.sendall(("HTTP/1.1 101 Switching Protocols\r\n"
                      "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                      "Sec-WebSocket-Accept: %s\r\n"
                      "Sec-WebSocket-Protocol: bora.v1\r\n\r\n" % accept).encode())
        self.ws = ws
        return ws.recv_json(10)

    def welcome(self, name):
        self.ws.send_json({"type": "welcome", "name": name, "version": "fake",
                           "heartbeat": 30, "max_message": 1048576})

    def messages(self, seconds):
        """Every message the agent sends within `seconds`."""
        out = []
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return out
            try:
                out.append(self.ws.recv_json(left))
            except socket.timeout:
                return out

    def close(self):
        if self.ws is not None:
            self.ws.close()
        self.lsock.close()


class AgentJournal(harness.BoraTestCase):

    def setUp(self):
        super().setUp()
        self.start_coordinator()
        self.agent = self.start_connected_agent("local")
        self.state = os.path.join(self.tmp, "agent-local")
        self.addCleanup(self.kill_scripts)
        self.script_pids = []

    def kill_scripts(self):
        # A step's process group outlives a SIGKILLed agent.
        for pid in self.script_pids:
            kill_group(pid)

    def entry(self, sid):
        return os.path.join(self.state, "journal", "step." + sid)

    def wait_marker(self, path, n=1):
        return harness.wait_for(lambda: len(read_lines(path)) >= n and read_lines(path),
                                harness.STEP_TIMEOUT, "marker %s" % path,
                                on_fail=self.all_logs)

    def test_killed_agent_reports_lost_and_never_reruns(self):
        marker = os.path.join(self.work, "marker")
        script = ("#!/bin/sh\n"
                  "echo \"ran $$\" >> %s\n"
                  "sleep 30\n"
                  "echo finished >> %s\n" % (marker, marker))
        sid = self.api.submit("local", script, timeout=120)
        lines = self.wait_marker(marker)
        pid = int(lines[0].split()[1])
        self.script_pids.append(pid)
        self.assertTrue(os.path.exists(self.entry(sid)), "no journal entry for %s" % sid)
        with open(self.entry(sid)) as f:
            started = json.load(f)
        self.assertEqual(started["step"], sid)
        self.assertNotIn("result", started)

        self.agent.kill()
        kill_group(pid)            # it would outlive the agent otherwise
        self.agent = self.start_connected_agent("local")
        self.agent.wait_log(r"step started by an earlier agent process is lost step=%s"
                            % sid.replace(".", r"\."))

        res = self.api.wait_done(sid)
        self.assertEqual(res["status"], "lost", res)
        self.assertEqual(res.get("error"), LOST_ERROR)
        self.assertIsNone(res.get("exit_code"), res)
        # acked: the entry goes
        harness.wait_for(lambda: not os.path.exists(self.entry(sid)), 15,
                         "journal entry of %s removed after ack" % sid, on_fail=self.all_logs)
        time.sleep(1)
        self.assertEqual(read_lines(marker), lines[:1], "the step ran again")
        self.assertEqual(self.agent.count(r"step started step=%s " % sid.replace(".", r"\.")), 0)

        # Nothing else is affected: the next step runs normally.
        sid2, events, res2 = self.run_step("local", "#!/bin/sh\necho next\n")
        self.assertEqual(res2["status"], "success", res2)
        self.assertEqual(Api.output_of(events, "stdout"), "next\n")
        harness.wait_for(lambda: not os.path.exists(self.entry(sid2)), 15,
                         "journal entry of %s removed after ack" % sid2, on_fail=self.all_logs)

    def test_result_survives_agent_restart_while_coordinator_is_away(self):
        marker = os.path.join(self.work, "marker")
        go = os.path.join(self.work, "go")
        script = ("#!/bin/sh\n"
                  "echo \"ran $$\" >> %s\n"
                  "i=0\n"
                  "while [ ! -e %s ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done\n"
                  "echo output-of-the-step\n"
                  "echo finished >> %s\n" % (marker, go, marker))
        sid = self.api.submit("local", script, timeout=120)
        lines = self.wait_marker(marker)
        self.script_pids.append(int(lines[0].split()[1]))

        # The coordinator dies while the step runs; the step ends meanwhile.
        self.coord.kill()
        open(go, "w").close()
        esc = sid.replace(".", r"\.")
        self.agent.wait_log(r"step finished step=%s .*status=success" % esc,
                            timeout=harness.STEP_TIMEOUT)
        with open(self.entry(sid)) as f:
            entry = json.load(f)
        self.assertEqual(entry["result"]["status"], "success", entry)

        # The agent dies too, and comes back before the coordinator does.
        self.agent.kill()
        self.agent = self.start_agent("local")
        self.agent.wait_log(r"journaled result waits for its ack step=%s .*status=success" % esc)
        self.agent.wait_log(r"reconnecting in")

        # The coordinator returns (a fake one, which sees every message).
        fake = FakeCoordinator(self, self.port)
        try:
            hello = fake.accept(harness.START_TIMEOUT)
            self.assertEqual(hello["type"], "hello", hello)
            self.assertEqual(hello.get("running", []), [], hello)
            results = [r for r in hello.get("results", []) if r["step"] == sid]
            self.assertEqual(len(results), 1, hello)
            self.assertEqual(len(hello["results"]), 1, hello)
            r = results[0]
            self.assertEqual(r["status"], "success", r)
            self.assertEqual(r["exit_code"], 0, r)
            self.assertEqual(r["outputs"]["deploy_stdout"], "output-of-the-step\n", r)
            self.assertEqual(r, entry["result"])
            fake.welcome("local")
            # After the welcome the agent sends it once more as a result
            # message (the coordinator applies a result once, by step id).
            after = fake.messages(2.0)
            resent = [m for m in after if m.get("type") == "result"]
            self.assertEqual([m["step"] for m in resent], [sid], after)
            self.assertEqual({k: v for k, v in resent[0].items() if k != "type"}, r)
            # A run for it now (the coordinator lost track) gets the stored
            # result, never a second run.
            fake.ws.send_json({"type": "run", "step": sid, "kind": "script",
                               "spec": {"script": script}, "timeout": 60})
            again = [m for m in fake.messages(2.0) if m.get("step") == sid]
            self.assertEqual([m["type"] for m in again], ["result"], again)
            self.assertEqual(again[0]["status"], "success", again)
            fake.ws.send_json({"type": "ack", "step": sid})
            harness.wait_for(lambda: not os.path.exists(self.entry(sid)), 15,
                             "journal entry of %s removed after ack" % sid,
                             on_fail=self.all_logs)
            self.assertFalse(os.path.exists(os.path.join(self.state, "steps", sid)))
        finally:
            fake.close()
        self.assertEqual(read_lines(marker), [lines[0], "finished"], "the step ran again")

        # A real coordinator is back; the agent has nothing pending and
        # runs the next step normally. (A fresh one: the first one's store
        # still holds the step as dispatched, since the fake coordinator,
        # not it, took the result; it would send the run again, and the
        # agent, which forgot the step on the fake's ack, would run it.)
        self.start_coordinator(state_dir=os.path.join(self.tmp, "coordinator-2"))
        self.wait_agent("local", timeout=30)
        self.agent.wait_log("connected to coordinator")
        sid2, events, res2 = self.run_step("local", "#!/bin/sh\necho next\n")
        self.assertEqual(res2["status"], "success", res2)
        self.assertEqual(Api.output_of(events, "stdout"), "next\n")
        self.assertEqual(read_lines(marker), [lines[0], "finished"])


if __name__ == "__main__":
    harness.main()
