#!/usr/bin/env python3
"""Fault: the connection between coordinator and agent is cut for longer
than the heartbeat while a step runs (issue 5, "Fault tests"): the step
finishes, its result arrives after the link is back, exactly once.

The cut is a loopback TCP proxy in the test (faultlib.TcpProxy) between the
agent (--url at the proxy) and the coordinator (--heartbeat-s 2: it pings an
agent silent for 2 s and hangs up after 6 s, coordinator/agents/agent_server.c). The
step sleeps 3 heartbeats and prints; the link is blackholed (sockets open,
no byte moved) from the step's start for more than 3 heartbeats, until the
coordinator has logged the agent's disconnection and the agent has logged
the step's end; then restored. The step's event stream has one result
event, success; the agent started the step once and finished it once; the
result is acked; a second step runs normally."""

import os
import sys
import threading
import time

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import faultlib  # noqa: E402
from faultlib import esc, say  # noqa: E402
from harness import Api  # noqa: E402

HEARTBEAT_S = 2
STEP_SLEEP_S = 3 * HEARTBEAT_S
CUT_MIN_S = 3 * HEARTBEAT_S + 2         # longer than the coordinator's hangup
CUT_MAX_S = CUT_MIN_S + 30              # bound on waiting for both ends to notice
RECOVER_TIMEOUT = 60.0


class Partition(harness.BoraTestCase):

    def setUp(self):
        super().setUp()
        self.proxy, self.agent = faultlib.start_behind_proxy(self, HEARTBEAT_S, 1000)

    def stream_in_thread(self, sid, timeout):
        """Read the step's event stream in a thread; returns (thread, box):
        box["events"] or box["error"] once the thread ended."""
        box = {}

        def run():
            try:
                box["events"] = self.api.events(sid, timeout=timeout)
            except BaseException as e:       # reported by the test
                box["error"] = e
        t = threading.Thread(target=run, name="events-" + sid, daemon=True)
        t.start()
        return t, box

    def test_cut_link_longer_than_heartbeat(self):
        marker = os.path.join(self.work, "ran")
        script = ("#!/bin/sh\n"
                  "echo \"ran $$\" >> %s\n"
                  "sleep %d\n"
                  "echo after-the-cut\n" % (marker, STEP_SLEEP_S))
        sid = self.api.submit("local", script, timeout=120)
        reader, box = self.stream_in_thread(sid, CUT_MAX_S + RECOVER_TIMEOUT + 30)
        self.agent.wait_log(r"step started step=%s " % esc(sid))

        # Cut.
        self.proxy.blackhole()
        t_cut = time.monotonic()
        disc = self.coord.wait_log(r"agent disconnected agent=local", timeout=CUT_MAX_S)
        t_coord = time.monotonic() - t_cut
        self.agent.wait_log(r"step finished step=%s .*status=success" % esc(sid),
                            timeout=CUT_MAX_S)
        left = CUT_MIN_S - (time.monotonic() - t_cut)
        if left > 0:
            time.sleep(left)      # the cut's length, not a wait for an event
        agent_noticed = self.agent.count(r"disconnected from coordinator") > 0
        t_restore = time.monotonic() - t_cut
        say("cut for %.1f s (heartbeat %d s): the coordinator dropped the agent after %.1f s "
            "(%s); the agent noticed during the cut: %s", t_restore, HEARTBEAT_S, t_coord,
            disc[0].split(" server: ")[-1], agent_noticed)
        self.assertTrue(self.agent.running(), self.agent.log_tail())

        # Restore: the half-open connection is closed, the agent reconnects
        # and sends the result it kept.
        self.proxy.forward()
        t_back = time.monotonic()
        self.agent.wait_log(r"disconnected from coordinator", timeout=RECOVER_TIMEOUT)
        self.wait_agent("local", timeout=RECOVER_TIMEOUT)
        reader.join(RECOVER_TIMEOUT)
        self.assertFalse(reader.is_alive(), "the step's event stream did not end within "
                         "%.0f s of the link coming back\n%s" % (RECOVER_TIMEOUT, self.all_logs()))
        if "error" in box:
            raise box["error"]
        events = box["events"]
        t_result = time.monotonic() - t_back
        self.agent.wait_log(r"result acked step=%s$" % esc(sid), timeout=RECOVER_TIMEOUT)

        results = [e for e in events if Api.event_kind(e) == "result"]
        res = Api.result_event(events)
        self.assertEqual(len(results), 1, "result events in the live stream: %r" % events)
        self.assertEqual(res["status"], "success", res)
        self.assertEqual(res.get("exit_code"), 0, res)
        # The line was printed during the cut: its output message went into
        # the dead connection (streamed output is not resent), so it is
        # checked in the result, which carries the tail of stdout.
        streamed = Api.output_of(events, "stdout")
        self.assertEqual((res.get("outputs") or {}).get("deploy_stdout"), "after-the-cut\n", res)
        # Replayed after the agent's resends (hello, then a result message)
        # were applied: still one result.
        again = self.api.events(sid, timeout=30)
        results_again = [e for e in again if Api.event_kind(e) == "result"]
        self.assertEqual(len(results_again), 1, "result events replayed: %r" % again)
        self.assertEqual(self.api.wait_done(sid, timeout=30)["status"], "success")
        with open(marker) as f:
            ran = f.read().splitlines()
        started = self.agent.count(r"step started step=%s " % esc(sid))
        finished = self.agent.count(r"step finished step=%s " % esc(sid))
        say("result arrived %.1f s after the link came back; result events %d (replay %d); "
            "stdout streamed %r; the script ran %d time(s); agent log: started %d, finished %d; "
            "proxy: %d connections accepted, %d closed", t_result, len(results),
            len(results_again), streamed,
            len(ran), started, finished, self.proxy.accepted, self.proxy.closed_pairs)
        self.assertEqual(len(ran), 1, "the script ran %d times: %r" % (len(ran), ran))
        self.assertEqual(started, 1, self.agent.log_tail())
        self.assertEqual(finished, 1, self.agent.log_tail())

        # Nothing else is affected: the next step runs over the same proxy.
        sid2, events2, res2 = self.run_step("local", "#!/bin/sh\necho next\n")
        self.assertEqual(res2["status"], "success", res2)
        self.assertEqual(Api.output_of(events2, "stdout"), "next\n")

    def test_dropped_connections_mid_step(self):
        """The proxy drops every connection (both ends see it at once) while
        a step runs: the step ends, its result arrives once."""
        sid = self.api.submit("local", "#!/bin/sh\nsleep 2\necho done\n", timeout=60)
        reader, box = self.stream_in_thread(sid, 90)
        self.agent.wait_log(r"step started step=%s " % esc(sid))
        self.proxy.drop_all()
        self.coord.wait_log(r"agent disconnected agent=local", timeout=15)
        self.agent.wait_log(r"disconnected from coordinator", timeout=15)
        reader.join(60)
        self.assertFalse(reader.is_alive(), "the step's event stream did not end\n" +
                         self.all_logs())
        if "error" in box:
            raise box["error"]
        results = [e for e in box["events"] if Api.event_kind(e) == "result"]
        self.assertEqual(len(results), 1, box["events"])
        self.assertEqual(results[0].get("result", results[0])["status"], "success", results)
        self.agent.wait_log(r"result acked step=%s$" % esc(sid), timeout=30)
        self.assertEqual(self.agent.count(r"step started step=%s " % esc(sid)), 1)
        say("dropped: result events %d, agent connections %d", len(results),
            self.agent.count(r"connected to coordinator url="))


if __name__ == "__main__":
    harness.main()
