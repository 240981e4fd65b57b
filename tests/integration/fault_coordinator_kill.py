#!/usr/bin/env python3
"""Fault: the coordinator is killed with SIGKILL at random moments while a
workflow of 200 script steps over 4 agents runs, at least 10 times, and
restarted each time with the same state directory and port (docs/protocol.md,
"Steps never run twice, results are never lost"; issue 5, "Fault tests").

The workflow: with-items over 200 items, each item's step on agent
agents[n mod 4], 16 at a time; each script appends its item to its agent's
ledger file, prints a line and sleeps 1 s plus 0-100 ms. Each round has a seed of its
own (printed; BORA_FAULT_SEED repeats a run): it picks how many more items
to let through after the agents are back, and a delay after that, then
kills. Then: the execution ends SUCCESS; every item is in the ledgers
exactly once (duplicates and missing counted, both 0); every step of the
execution is done in the store and has its output there (STATE_DIR/bora.db
read with sqlite3 after the coordinator stopped)."""

import os
import re
import random
import sys
import time

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import faultlib  # noqa: E402
from faultlib import say  # noqa: E402

ITEMS = 200
AGENTS = ("a1", "a2", "a3", "a4")
KILLS = 10                 # rounds, one seed each
MAX_STEP_BATCH = 10        # items let through before a kill: 0..this
# A step takes STEP_BASE_S plus 0-100 ms (random, per item). The base keeps
# the workflow running through 10 restarts: a restart and the agents'
# reconnection take about half a second in a sanitizer build, and 200
# steps of 0-100 ms alone end within 3 rounds.
STEP_BASE_S = 1.0
ROUND_PROGRESS_TIMEOUT = 30.0
END_TIMEOUT = 90.0

WORKFLOW = """version: '2.0'
fault_kill:
  input: [agents, items, delays, ledgers]
  tasks:
    each:
      action: bora.script
      target: <% $.agents[$.n mod 4] %>
      with-items:
        - n in <% $.items %>
        - d in <% $.delays %>
      concurrency: 16
      input:
        script: |
          #!/bin/sh
          echo "$n" >> "$ledgers/$agent"
          echo "item $n on $agent"
          sleep "$d"
        inputs:
          n: <% $.n %>
          d: <% $.d %>
          agent: <% $.agents[$.n mod 4] %>
          ledgers: <% $.ledgers %>
"""


class CoordinatorKill(harness.BoraTestCase):
    AGENTS = AGENTS

    def setUp(self):
        super().setUp()
        self.state = os.path.join(self.tmp, "coordinator")
        self.ledgers = os.path.join(self.work, "ledgers")
        os.makedirs(self.ledgers)
        self.start_coordinator(state_dir=self.state, port=self.port)
        self.agents = {}
        for name in AGENTS:
            self.agents[name] = self.start_connected_agent(
                name, reconnect_min_ms=50, reconnect_max_ms=500)

    # -- the ledgers
    def ledger_items(self):
        """{agent: [item, ...]} as the scripts wrote them."""
        out = {}
        for name in AGENTS:
            try:
                with open(os.path.join(self.ledgers, name)) as f:
                    out[name] = [l.strip() for l in f if l.strip()]
            except FileNotFoundError:
                out[name] = []
        return out

    def ledger_count(self):
        return sum(len(v) for v in self.ledger_items().values())

    # -- a round
    def restart(self):
        self.coord.kill()
        self.start_coordinator(state_dir=self.state, port=self.port)
        for name in AGENTS:
            self.wait_agent(name, timeout=harness.START_TIMEOUT)

    def progress_to(self, target, xid):
        """Wait until the ledgers hold `target` lines (or the execution
        ended); fails naming where it stuck."""
        def why():
            x = faultlib.execution(self.api, xid)
            return "ledger lines %d of %d; execution: %s" % (
                self.ledger_count(), target,
                "unknown to the coordinator (404)" if x is None else faultlib.summary(x))

        def moved():
            if self.ledger_count() >= target:
                return True
            x = faultlib.execution(self.api, xid)
            if x is None:
                raise AssertionError(
                    "after the restart the coordinator does not know execution %s "
                    "(404): not rebuilt from the store; ledger lines %d of %d" % (
                        xid, self.ledger_count(), ITEMS))
            return x.get("state") in faultlib.FINAL_STATES
        harness.wait_for(moved, ROUND_PROGRESS_TIMEOUT,
                         "the ledgers to reach %d lines" % target, interval=0.01,
                         on_fail=why)

    def test_kill_coordinator_while_workflow_runs(self):
        t_start = time.monotonic()
        seeds = faultlib.seeds(KILLS + 1)
        base = random.Random(seeds[0])
        delays = ["%.3f" % (STEP_BASE_S + base.uniform(0, 0.1)) for _ in range(ITEMS)]
        xid = faultlib.post_execution(self.api, WORKFLOW, {
            "agents": list(AGENTS), "items": list(range(ITEMS)), "delays": delays,
            "ledgers": self.ledgers})
        say("execution %s: %d items over %d agents", xid, ITEMS, len(AGENTS))

        problems = []
        kills = 0
        for i, seed in enumerate(seeds[1:]):
            rng = random.Random(seed)
            more = rng.randint(0, MAX_STEP_BATCH)
            pause = rng.uniform(0, 0.1)
            try:
                self.progress_to(self.ledger_count() + more, xid)
            except AssertionError as e:
                problems.append("round %d (seed %d): %s" % (i + 1, seed, e))
                break
            x = faultlib.execution(self.api, xid)
            if x is not None and x.get("state") in faultlib.FINAL_STATES:
                problems.append("round %d (seed %d): the execution ended (%s) before all "
                                "%d kills" % (i + 1, seed, x["state"], KILLS))
                break
            time.sleep(pause)           # the random moment within the round
            at = self.ledger_count()
            self.restart()
            kills += 1
            say("round %d seed %d: killed after %d more items + %.0f ms (ledger lines %d), "
                "restarted, agents back", i + 1, seed, more, pause * 1000, at)

        x = None
        if not problems:
            try:
                x = faultlib.wait_execution_end(self.api, xid, END_TIMEOUT,
                                                on_fail=self.all_logs)
                if x["state"] != "SUCCESS":
                    problems.append("execution %s ended %s" % (xid, faultlib.summary(x)))
            except AssertionError as e:
                problems.append(str(e))

        # Exactly once: every item in the ledgers once, on its own agent.
        led = self.ledger_items()
        seen = {}
        wrong_agent = []
        for name, items in led.items():
            for it in items:
                seen[it] = seen.get(it, 0) + 1
                if int(it) % 4 != AGENTS.index(name):
                    wrong_agent.append((it, name))
        duplicates = {k: v for k, v in seen.items() if v > 1}
        missing = [n for n in range(ITEMS) if str(n) not in seen]
        dup_count = sum(v - 1 for v in duplicates.values())
        started = faultlib.step_ids(self.agents.values(), faultlib.AGENT_STARTED)
        started_twice = sorted({s for s in started if started.count(s) > 1})
        say("kills survived %d of %d; ledger lines %d; items missing %d; duplicate runs %d "
            "(agent logs: %d step ids started more than once); %.1f s",
            kills, KILLS, sum(len(v) for v in led.values()), len(missing), dup_count,
            len(started_twice), time.monotonic() - t_start)
        if dup_count:
            problems.append("%d items ran more than once: %s" % (
                dup_count, sorted(duplicates.items(), key=lambda kv: int(kv[0]))[:20]))
        if started_twice:
            problems.append("agents started these steps twice: %s" % started_twice[:20])
        if wrong_agent:
            problems.append("items ran on the wrong agent: %s" % wrong_agent[:20])
        if x is not None and x.get("state") == "SUCCESS" and missing:
            problems.append("%d items never ran: %s" % (len(missing), missing[:20]))

        # Every step's output is in the store.
        api_steps = []
        if x is not None:
            acts = faultlib.actions(x)
            api_steps = [a.get("step") for a in acts if a.get("step")]
            bad = [a for a in acts if a.get("state") != "SUCCESS"]
            if len(acts) != ITEMS or bad:
                problems.append("the execution has %d actions (want %d), %d not SUCCESS: %s" % (
                    len(acts), ITEMS, len(bad), bad[:5]))
        code = self.coord.stop()
        if code != 0:
            problems.append("the coordinator exited %s at SIGTERM" % code)
        try:
            problems.extend(self.check_store(xid, api_steps))
        except AssertionError as e:
            problems.append("store: %s" % e)
        if problems:
            self.fail("\n  ".join(["%d problem(s):" % len(problems)] + problems))

    def check_store(self, xid, api_steps):
        """Every step of the execution done in the store, with at least one
        step_output row; the steps the API names are all there."""
        problems = []
        db = faultlib.open_store(self.state)
        try:
            rows = db.execute("SELECT id, state FROM steps WHERE exec_id = ? "
                              "OR id LIKE ? || '.%'", (xid, xid)).fetchall()
            states = {r[0]: r[1] for r in rows}
            with_output = {r[0] for r in db.execute(
                "SELECT DISTINCT o.step_id FROM step_output o JOIN steps s ON s.id = o.step_id "
                "WHERE s.exec_id = ? OR s.id LIKE ? || '.%'", (xid, xid))}
            ex = db.execute("SELECT state FROM executions WHERE id = ?", (xid,)).fetchone()
            stdout = {}
            for sid, data in db.execute(
                    "SELECT o.step_id, o.data FROM step_output o JOIN steps s "
                    "ON s.id = o.step_id WHERE (s.exec_id = ? OR s.id LIKE ? || '.%') "
                    "AND o.stream = 'stdout' ORDER BY o.step_id, o.seq", (xid, xid)):
                stdout[sid] = stdout.get(sid, b"") + (data if isinstance(data, bytes)
                                                      else str(data).encode())
            results = dict(db.execute("SELECT id, result FROM steps WHERE exec_id = ? "
                                      "OR id LIKE ? || '.%'", (xid, xid)).fetchall())
        finally:
            db.close()
        not_done = sorted(s for s, st in states.items() if st != "done")
        no_output = sorted(s for s in states if s not in with_output)
        absent = sorted(s for s in api_steps if s not in states)
        # The stored stdout of a step is its script's one line, once; or,
        # for a step whose line reached a coordinator that was killed before
        # committing it, the coordinator's note and then the line (from the
        # step's result), never a line twice or a line missing.
        wrong = []
        filled = 0
        note = re.compile(r"\[bora: the coordinator restarted while this step ran; "
                          r"\d+ bytes of its output were not received; the end of "
                          r"its stdout follows\]\n")
        for sid, data in stdout.items():
            item = int(sid.split(".")[-2])
            want = "item %d on %s\n" % (item, AGENTS[item % 4])
            text = data.decode("utf-8", "replace")
            m = note.match(text)
            if m and text[m.end():] == want:
                filled += 1
            elif text != want:
                wrong.append((sid, data[:80]))
        say("store: %d steps had their lost output filled from the result" % filled)
        in_result_only = sum(1 for s in no_output if s in (results.get(s) or "") and
                             "item " in (results.get(s) or ""))
        say("store: %d steps of %s checked, %d not done, %d without step_output rows (%d of "
            "them with their stdout in steps.result only), %d with wrong stored stdout, "
            "%d named by the API but absent; execution row %s", len(states), xid,
            len(not_done), len(no_output), in_result_only, len(wrong), len(absent), ex)
        if wrong:
            problems.append("%d steps' stored stdout is not their line once: %s" % (
                len(wrong), wrong[:5]))
        if len(states) < ITEMS:
            problems.append("the store holds %d steps of %s, want at least %d" % (
                len(states), xid, ITEMS))
        if not_done:
            problems.append("%d steps not done in the store: %s" % (len(not_done), not_done[:10]))
        if no_output:
            problems.append("%d steps have no step_output row: %s" % (
                len(no_output), no_output[:10]))
        if absent:
            problems.append("%d steps the API names are not in the store: %s" % (
                len(absent), absent[:10]))
        if ex is None or ex[0] != "SUCCESS":
            problems.append("the store's executions row of %s is %r, want SUCCESS" % (xid, ex))
        return problems


if __name__ == "__main__":
    harness.main()
