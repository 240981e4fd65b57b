#!/usr/bin/env python3
"""Fault: the coordinator is killed with SIGKILL in the middle of a burst of
1,000 results, then restarted with the same state directory and port
(issue 5, "Fault tests": the store passes PRAGMA integrity_check and no
acknowledged result is missing).

The workflow: with-items over 1,000 items on 4 agents, 200 at a time; each
script waits for a gate file and exits 0, so the first 200 end together
when the test creates the gate and the other 800 end as soon as they
start. The seed (printed; BORA_FAULT_SEED repeats it) picks how many acks
the agents log before the kill. Then: the execution ends SUCCESS; after
the coordinator stopped, PRAGMA integrity_check on STATE_DIR/bora.db is
"ok", and every step an agent logged "result acked" for is done in the
store's steps table; no agent started a step twice."""

import os
import random
import re
import sys
import time

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import faultlib  # noqa: E402
from faultlib import say  # noqa: E402

ITEMS = 1000
CONCURRENCY = 200
AGENTS = ("b1", "b2", "b3", "b4")
GATE_WAIT_S = 60           # a script gives up waiting for the gate after this
WAVE_TIMEOUT = 60.0        # the first 200 scripts started
KILL_TIMEOUT = 60.0        # the chosen number of acks logged
END_TIMEOUT = 150.0

WORKFLOW = """version: '2.0'
fault_burst:
  input: [agents, items, gate]
  tasks:
    each:
      action: bora.script
      target: <%% $.agents[$.n mod 4] %%>
      with-items: n in <%% $.items %%>
      concurrency: %d
      input:
        script: |
          #!/bin/sh
          i=0
          while [ ! -e "$gate" ] && [ $i -lt %d ]; do sleep 0.05; i=$((i+1)); done
          true
        inputs: {gate: <%% $.gate %%>}
""" % (CONCURRENCY, GATE_WAIT_S * 20)


class ResultBurst(harness.BoraTestCase):
    AGENTS = AGENTS

    def setUp(self):
        super().setUp()
        self.state = os.path.join(self.tmp, "coordinator")
        self.gate = os.path.join(self.work, "gate")
        self.start_coordinator(state_dir=self.state, port=self.port)
        self.agents = [self.start_connected_agent(n, reconnect_min_ms=50,
                                                  reconnect_max_ms=500)
                       for n in AGENTS]
        # The gate opens at cleanup too, so no script waits out its loop.
        self.addCleanup(self.open_gate)

    def open_gate(self):
        with open(self.gate, "w"):
            pass

    def test_kill_coordinator_in_result_burst(self):
        t_start = time.monotonic()
        seed = faultlib.seeds(1)[0]
        rng = random.Random(seed)
        kill_after_acks = rng.randint(1, 400)
        xid = faultlib.post_execution(self.api, WORKFLOW, {
            "agents": list(AGENTS), "items": list(range(ITEMS)), "gate": self.gate})
        say("execution %s: %d steps over %d agents, concurrency %d; kill after %d acks",
            xid, ITEMS, len(AGENTS), CONCURRENCY, kill_after_acks)

        tails = [faultlib.LogTail(a.log_path) for a in self.agents]
        started_rx = re.compile(faultlib.AGENT_STARTED)
        acked_rx = re.compile(faultlib.AGENT_ACKED)
        counts = {"started": 0, "acked": 0}

        def look():
            for t in tails:
                for line in t.poll():
                    if started_rx.search(line):
                        counts["started"] += 1
                    elif acked_rx.search(line):
                        counts["acked"] += 1
            return counts

        harness.wait_for(lambda: look()["started"] >= CONCURRENCY, WAVE_TIMEOUT,
                         "the first %d scripts to start" % CONCURRENCY, interval=0.05,
                         on_fail=lambda: "started %d\n%s" % (counts["started"], self.all_logs()))
        self.open_gate()
        t_gate = time.monotonic()
        harness.wait_for(lambda: look()["acked"] >= kill_after_acks, KILL_TIMEOUT,
                         "%d results acked" % kill_after_acks, interval=0.005,
                         on_fail=lambda: "acked %d\n%s" % (counts["acked"], self.all_logs()))
        self.coord.kill()
        look()
        say("killed %.0f ms after the gate opened: %d steps started, %d results acked by then",
            (time.monotonic() - t_gate) * 1000, counts["started"], counts["acked"])
        self.start_coordinator(state_dir=self.state, port=self.port)
        for a in AGENTS:
            self.wait_agent(a, timeout=harness.START_TIMEOUT)

        problems = []
        x = None
        try:
            x = faultlib.wait_execution_end(self.api, xid, END_TIMEOUT, interval=0.5,
                                            on_fail=self.all_logs)
            if x["state"] != "SUCCESS":
                problems.append("execution %s ended %s" % (xid, faultlib.summary(x)))
        except AssertionError as e:
            problems.append(str(e))
        code = self.coord.stop()
        if code != 0:
            problems.append("the coordinator exited %s at SIGTERM" % code)

        acked = set(faultlib.step_ids(self.agents, faultlib.AGENT_ACKED))
        started = faultlib.step_ids(self.agents, faultlib.AGENT_STARTED)
        started_twice = sorted({s for s in started if started.count(s) > 1})
        if started_twice:
            problems.append("%d steps started twice: %s" % (len(started_twice),
                                                            started_twice[:10]))
        try:
            problems.extend(self.check_store(xid, acked))
        except AssertionError as e:
            problems.append("store: %s" % e)
        say("steps started %d (%d twice), results acked %d; %.1f s",
            len(started), len(started_twice), len(acked), time.monotonic() - t_start)
        if problems:
            self.fail("\n  ".join(["%d problem(s):" % len(problems)] + problems))

    def check_store(self, xid, acked):
        problems = []
        db = faultlib.open_store(self.state)
        try:
            check = faultlib.integrity(db)
            states = dict(db.execute("SELECT id, state FROM steps WHERE exec_id = ? "
                                     "OR id LIKE ? || '.%'", (xid, xid)).fetchall())
            # An acked step of whatever execution: look each one up by id.
            acked_states = {}
            for sid in acked:
                r = db.execute("SELECT state FROM steps WHERE id = ?", (sid,)).fetchone()
                acked_states[sid] = r[0] if r else None
        finally:
            db.close()
        missing = sorted(s for s, st in acked_states.items() if st is None)
        not_done = sorted(s for s, st in acked_states.items() if st not in (None, "done"))
        done = sum(1 for st in states.values() if st == "done")
        say("store: integrity_check %r; %d acked results checked: %d absent, %d not done; "
            "%d steps of %s in the store, %d done", check, len(acked), len(missing),
            len(not_done), len(states), xid, done)
        if check != "ok":
            problems.append("PRAGMA integrity_check: %s" % check[:2000])
        if missing:
            problems.append("%d acked results have no step in the store: %s" % (
                len(missing), missing[:10]))
        if not_done:
            problems.append("%d acked results are not done in the store: %s" % (
                len(not_done), [(s, acked_states[s]) for s in not_done[:10]]))
        if done < ITEMS:
            problems.append("%d of %d steps of %s are done in the store" % (done, ITEMS, xid))
        return problems


if __name__ == "__main__":
    harness.main()
