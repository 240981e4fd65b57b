#!/usr/bin/env python3
"""An execution's events as a websocket on the operator API (docs/api.md):
every event in order as a text message, from the start or from=N, then a
close 1000 when the execution has ended; only that execution's events; an
unknown execution or an upgrade without the events protocol refused; a
client that never reads costs the coordinator no memory while a step
prints 40 MiB, and the API goes on answering."""

import json
import os
import sys
import time

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import EventsClient, WSClient, WSClosed, status_kib  # noqa: E402

TWO_WF = """\
version: '2.0'
two:
  type: direct
  tasks:
    first:
      action: bora.script
      target: local
      input:
        script: |
          #!/bin/sh
          echo one
          sleep 0.3
      on-success: [second]
    second:
      action: bora.script
      target: local
      input:
        script: |
          #!/bin/sh
          echo two
"""

LOUD_WF = """\
version: '2.0'
loud:
  type: direct
  tasks:
    shout:
      action: bora.script
      target: local
      timeout: 120
      input:
        script: |
          #!/bin/sh
          head -c 41943040 /dev/zero | tr '\\\\0' 'x' | fold -w 1000
"""

# what a non-reading websocket may add over the same execution unwatched
SLACK_KIB = 8 * 1024
QUARANTINE_MB = 4


class EventsWebsocket(harness.BoraTestCase):
    AGENTS = ("local",)

    def setUp(self):
        super().setUp()
        with harness.small_asan_quarantine(QUARANTINE_MB):
            self.start_coordinator()
        self.start_connected_agent("local")

    def start(self, text):
        st, doc = self.api.request("POST", "/v1/executions", {"workflow": text})
        self.assertEqual(st, 201, doc)
        return doc["id"]

    def wait_ended(self, xid, timeout=120):
        harness.wait_for(lambda: self.api.get("/v1/executions/%s" % xid).get("ended_ms"),
                         timeout, "execution %s to end" % xid)

    def ndjson(self, xid):
        st, raw = self.api.request("GET", "/v1/executions/%s/events" % xid)
        self.assertEqual(st, 200)
        lines = raw if isinstance(raw, list) else [
            json.loads(l) for l in (raw if isinstance(raw, str) else json.dumps(raw)).splitlines() if l]
        return lines

    def test_events_in_order_then_close(self):
        xid = self.start(TWO_WF)
        other = self.start(TWO_WF)            # its events must not come
        c = EventsClient(xid, unix_path=self.api_socket).connect()
        events, code = c.events()
        c.close()
        self.assertEqual(code, 1000)
        kinds = [(e.get("event"), e.get("task"), e.get("state")) for e in events]
        self.assertEqual(kinds[0][0], "execution", kinds)
        self.assertEqual(events[-1].get("event"), "execution", events[-1])
        self.assertEqual(events[-1].get("state"), "SUCCESS", events[-1])
        out = "".join(e.get("data", "") for e in events if e.get("event") == "output")
        self.assertEqual(out, "one\ntwo\n")
        self.assertTrue(all(e.get("exec", xid) == xid for e in events), events)
        self.assertNotIn(other, json.dumps(events))
        # the same story as the NDJSON stream, event for event
        self.wait_ended(other)
        self.assertEqual(events, self.ndjson(xid))
        # from=N: the story from event N on
        c = EventsClient(xid, unix_path=self.api_socket, query="?from=3").connect()
        tail, code = c.events()
        c.close()
        self.assertEqual((code, tail), (1000, events[3:]))

    def test_refusals(self):
        xid = self.start(TWO_WF)
        for bad in ("0123456789ab", "../../etc"):
            c = EventsClient(bad, unix_path=self.api_socket)
            with self.assertRaisesRegex(WSClosed, "upgrade refused: HTTP/1\\.[01] 404"):
                c.connect()
            c.close()
        self.coord.wait_log(r'refused events websocket .*reason="no execution 0123456789ab"')
        c = EventsClient(xid, unix_path=self.api_socket, query="?from=x")
        with self.assertRaisesRegex(WSClosed, "upgrade refused: HTTP/1\\.[01] 400"):
            c.connect()
        c.close()
        # an upgrade for another protocol, or none: no websocket here
        c = EventsClient(xid, unix_path=self.api_socket)
        c.protocol = "bora.v1"
        with self.assertRaises(WSClosed):
            c.connect()
        c.close()
        # plain requests still work
        self.wait_ended(xid)
        self.assertEqual(self.api.get("/v1/executions/%s" % xid)["state"], "SUCCESS")

    def test_client_that_never_reads(self):
        """The coordinator keeps an execution's events (up to its caps)
        whoever watches; a websocket that never reads must add nothing to
        that: the same 40 MiB execution is run without a client, then with
        one that never reads, and the second may not cost more."""
        before = status_kib(self.coord.pid, "VmRSS")
        xid = self.start(LOUD_WF)
        self.wait_ended(xid)
        alone = status_kib(self.coord.pid, "VmRSS") - before
        xid = self.start(LOUD_WF)
        c = EventsClient(xid, unix_path=self.api_socket).connect()
        c.sock.setsockopt(harness.socket.SOL_SOCKET, harness.socket.SO_RCVBUF, 4096)
        base = status_kib(self.coord.pid, "VmRSS")
        # meanwhile the API answers, promptly
        t0 = time.monotonic()
        sid, events, res = self.run_step("local", "#!/bin/sh\necho still here\n")
        self.assertEqual(res["status"], "success", res)
        self.assertLess(time.monotonic() - t0, 20)
        self.wait_ended(xid)
        watched = status_kib(self.coord.pid, "VmRSS") - base
        sys.stderr.write("40 MiB of output: coordinator VmRSS grew %d KiB alone, %d KiB "
                         "with a websocket that never read\n" % (alone, watched))
        self.assertLess(watched, alone + SLACK_KIB)
        # it can still read it all, to the close
        c.sock.settimeout(30)
        events, code = c.events(timeout=120)
        c.close()
        self.assertEqual(code, 1000)
        self.assertEqual(events[-1].get("state"), "SUCCESS")

if __name__ == "__main__":
    harness.main()
