#!/usr/bin/env python3
"""The operator API's event streams: a client that hangs up on a stream that
is waiting for news must not make the coordinator spin (lws 4.1 leaves such
a connection readable forever unless we stop polling it for input), and the
stream still delivers when the news comes."""

import os
import socket
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Api  # noqa: E402


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


class ApiStreams(harness.BoraTestCase):
    AGENTS = ("late",)

    def setUp(self):
        super().setUp()
        self.start_coordinator()

    def open_stream(self, sid):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        s.connect(self.api_socket)
        s.sendall(("GET /v1/steps/%s/events HTTP/1.1\r\nHost: bora\r\n\r\n" % sid).encode())
        data = b""
        while b"queued" not in data:
            chunk = s.recv(4096)
            self.assertTrue(chunk, "stream closed early: %r" % data)
            data += chunk
        return s

    def test_hung_up_idle_stream_does_not_spin(self):
        sid = self.api.submit("late", "#!/bin/sh\necho news\n", timeout=60)
        for _ in range(5):
            self.open_stream(sid).close()
        time.sleep(0.5)
        pid = self.coord.pid
        before = cpu_ticks(pid)
        time.sleep(2.0)
        used = cpu_ticks(pid) - before
        # A spinning loop burns ~200 ticks in 2 s; an idle one next to none.
        self.assertLess(used, 40, "coordinator used %d CPU ticks in 2 s while idle" % used)

        # A live stream opened now still gets the step's news and its end.
        live = self.open_stream(sid)
        self.start_agent("late")
        self.wait_agent("late")
        data = b""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            chunk = live.recv(65536)
            if not chunk:
                break
            data += chunk
        live.close()
        self.assertIn(b'"event":"result"', data)
        self.assertIn(b"news", data)
        self.assertEqual(Api.result_of(self.api.step(sid))["status"], "success")


if __name__ == "__main__":
    harness.main()
