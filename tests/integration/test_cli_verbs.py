#!/usr/bin/env python3
"""Every verb `bora help` lists, run through the built binary against a
live coordinator (made by `bora-coordinator init`, so enrollment works) and
an agent enrolled with a token the CLI made: real output and exit codes.

The verb list comes from the binary's own help, never from this file: a verb
help lists without a case here fails test_every_help_verb_has_a_case (and so
does a case for a verb help no longer lists). The cases run in the order
they are defined, each as a subTest, on one coordinator: later ones use what
earlier ones made (the agent, a step, executions).

Also here, the bugs of issue 12: a group word (`bora token`, `bora agent`)
answers with its subcommands; `step run --input` parses values as `run
--input` does; the input limit says so and names the input."""

import json
import os
import re
import subprocess
import sys
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

AGENT = "web-1"

HELLO_WF = """\
version: '2.0'

hello:
  type: direct
  input:
    - who: world
  tasks:
    greet:
      action: bora.script
      target: web-1
      input:
        script: |
          #!/bin/sh
          echo "hello $WHO"
        inputs:
          WHO: <% $.who %>
"""

FAIL_WF = """\
version: '2.0'

failing:
  type: direct
  tasks:
    breaks:
      action: bora.script
      target: web-1
      input:
        script: |
          #!/bin/sh
          echo "about to fail" >&2
          exit 4
"""

# No agent is called "absent": the execution stays RUNNING, waiting.
STUCK_WF = """\
version: '2.0'

stuck:
  type: direct
  tasks:
    waits:
      action: bora.script
      target: absent
      input:
        script: "echo never"
"""

BAD_WF = """\
version: '2.0'

broken:
  type: direct
  tasks:
    one:
      action: no.such.action
"""


def help_verbs():
    """The verbs of `bora help`: the lowercase words (one or two) that start
    each line of its command list."""
    r = subprocess.run([harness.binary("bora"), "help"], capture_output=True,
                       text=True, timeout=30, env=harness.child_env())
    if r.returncode != 0 or "\ncommands:\n" not in r.stdout:
        raise AssertionError("bora help: exit %d\n%s%s" % (
            r.returncode, r.stdout, r.stderr))
    listing = r.stdout.split("\ncommands:\n", 1)[1].split("\n\n", 1)[0]
    verbs = []
    for line in listing.splitlines():
        if not line.startswith("  ") or line.startswith("   "):
            continue           # the help text of a long usage, on its own line
        usage = re.split(r"\s{2,}", line.strip())[0]
        words = []
        for w in usage.split()[:2]:
            if not re.fullmatch(r"[a-z]+", w):
                break
            words.append(w)
        if not words:
            raise AssertionError("no verb in help line %r" % line)
        verbs.append(" ".join(words))
    return verbs


CASES = []          # (verb, function), in the order they run


def case(verb):
    def register(fn):
        CASES.append((verb, fn))
        return fn
    return register


def mask(text):
    """Durations and times ago out of CLI output ("0.4s ago", "3m04s")."""
    return re.sub(r"\b\d+(\.\d+)?s\b|\b\d+m\d+s\b|\b\d+h\d+m\b", "<dur>", text)


def columns(line):
    return re.split(r"\s+", line.strip())


class HelpCoverage(unittest.TestCase):
    """No daemons: the help listing against the cases of this file."""

    def test_every_help_verb_has_a_case(self):
        verbs = help_verbs()
        self.assertGreater(len(verbs), 20, verbs)
        self.assertEqual(len(verbs), len(set(verbs)), verbs)
        cased = [v for v, _ in CASES]
        self.assertEqual(sorted(set(verbs) - set(cased)), [],
                         "verbs bora help lists without a case in %s" % __file__)
        self.assertEqual(sorted(set(cased) - set(verbs)), [],
                         "cases for verbs bora help does not list")
        self.assertEqual(len(cased), len(set(cased)), cased)

    def test_help_of_each_verb(self):
        for verb in help_verbs():
            r = subprocess.run([harness.binary("bora"), "help"] + verb.split(),
                               capture_output=True, text=True, timeout=30,
                               env=harness.child_env())
            self.assertEqual(r.returncode, 0, (verb, r.stderr))
            self.assertTrue(r.stdout.startswith("usage: bora %s" % verb), r.stdout)
            self.assertEqual(len(r.stdout.splitlines()), 2, r.stdout)


class CliVerbs(harness.BoraTestCase):
    AGENTS = ()

    def setUp(self):
        super().setUp()
        self.coordinator_init()
        self.start_init_coordinator()

    # -- helpers
    def write(self, name, text):
        path = os.path.join(self.work, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def ok(self, *args, input=None):
        """bora args: exit 0; its CompletedProcess."""
        r = self.cli(*args, input=input)
        self.assertEqual(r.returncode, 0, "bora %s:\n%s%s" % (
            " ".join(args), r.stdout, r.stderr))
        return r

    def fails(self, code, *args, input=None):
        r = self.cli(*args, input=input)
        self.assertEqual(r.returncode, code, "bora %s:\n%s%s" % (
            " ".join(args), r.stdout, r.stderr))
        return r

    def enroll(self, name, token, expect=0):
        state = os.path.join(self.tmp, "agent-" + name)
        r = subprocess.run([harness.binary("bora-agent"), "enroll",
                            "--url", "wss://%s:%d/" % (harness.HOST, self.port),
                            "--token", token, "--state-dir", state,
                            "--ca-file", os.path.join(self.cdir, "ca.crt")],
                           capture_output=True, text=True, timeout=60,
                           env=harness.child_env())
        self.assertIsNone(harness.sanitizer_report(r.stderr), r.stderr)
        self.assertEqual(r.returncode, expect, r.stdout + r.stderr)
        return state, r.stdout + r.stderr

    def stuck_execution(self):
        r = self.ok("run", "--no-follow", self.write("stuck.yaml", STUCK_WF))
        xid = r.stdout.strip()
        self.assertRegex(xid, r"^[0-9a-f]{12}$")
        return xid

    def test_every_verb(self):
        verbs = set(help_verbs())
        for verb, fn in CASES:
            self.assertIn(verb, verbs)
            with self.subTest(verb=verb):
                fn(self)

    # -- the cases, in the order they run

    @case("version")
    def c_version(self):
        r = self.ok("version")
        self.assertRegex(r.stdout, r"^bora \d+\.\d+\.\d+\S*\n$")
        self.assertEqual(self.ok("--version").stdout, r.stdout)

    @case("help")
    def c_help(self):
        r = self.ok("help")
        self.assertIn("\ncommands:\n", r.stdout)
        self.assertIn("exits with the script's exit code", r.stdout)
        r = self.ok("help", "token")
        self.assertEqual([columns(l)[:3] for l in r.stdout.splitlines()],
                         [["bora", "token", "create"], ["bora", "token", "list"],
                          ["bora", "token", "revoke"]])
        self.assertEqual(self.ok("help", "step", "run").stdout.splitlines()[1],
                         "run a script on an agent and follow its output")
        r = self.fails(2, "help", "nope")
        self.assertIn("no command nope", r.stderr)
        # a group word answers with what help lists for it (issue 12: it was
        # "unknown command")
        for group, subs in (("token", ["create", "list", "revoke"]),
                            ("agent", ["revoke"]),
                            ("workflow", ["create", "list", "show", "delete"])):
            r = self.fails(2, group)
            lines = r.stderr.splitlines()
            self.assertEqual(lines[0], "bora: %s needs a subcommand:" % group)
            self.assertEqual([columns(l)[2] for l in lines[1:]], subs)
            self.assertEqual(lines[1:], self.ok("help", group).stdout.splitlines())
        r = self.fails(2, "token", "bogus")
        self.assertEqual(r.stderr.splitlines()[0],
                         "bora: token has no subcommand bogus; it has:")
        r = self.fails(2, "bogus")
        self.assertIn("unknown command bogus", r.stderr)

    @case("validate")
    def c_validate(self):
        good = self.write("hello.yaml", HELLO_WF)
        r = self.ok("validate", good)
        spec = json.loads(r.stdout)
        self.assertIn("hello", json.dumps(spec))
        self.assertEqual(self.ok("validate", "--quiet", good).stdout, "")
        self.assertEqual(json.loads(self.ok("validate", "-", input=HELLO_WF).stdout),
                         spec)
        bad = self.write("bad.yaml", BAD_WF)
        r = self.fails(1, "validate", good, bad)
        self.assertRegex(r.stderr, r"(?m)^%s:\d+:\d+: " % re.escape(bad))
        self.assertIn("no.such.action", r.stderr)

    @case("token create")
    def c_token_create(self):
        r = self.ok("token", "create", "--name", AGENT, "--labels", "role=web",
                    "--ttl", "1h", "--uses", "1")
        got = dict(re.findall(r"(?m)^(\w+):\s+(.*)$", r.stdout))
        self.assertEqual((got["name"], got["uses"], got["ttl"]), (AGENT, "1", "3600s"))
        self.assertEqual(len(got["token"]), 43, r.stdout)
        self.assertIn("shown only now", r.stdout)
        self.token_id = got["id"]
        # the token is real: the agent enrolls with it and connects
        state, _ = self.enroll(AGENT, got["token"])
        d = harness.Daemon("agent-" + AGENT,
                           [harness.binary("bora-agent"), "--config",
                            os.path.join(state, "agent.yaml"),
                            "--reconnect-min-ms", "100", "--reconnect-max-ms", "500"],
                           self._log_path("agent-" + AGENT))
        self.daemons.append(d)
        self.wait_agent(AGENT)
        d.wait_log("connected to coordinator")
        # and one more, in JSON, to be revoked below
        t = json.loads(self.ok("token", "create", "--json", "--name", "spare").stdout)
        self.assertEqual(len(t["token"]), 43, t)
        self.spare = t

    @case("token list")
    def c_token_list(self):
        r = self.ok("token", "list")
        lines = r.stdout.splitlines()
        self.assertEqual(columns(lines[0]), ["ID", "STATE", "USES", "EXPIRES", "NAME", "LABELS"])
        rows = {columns(l)[0]: columns(l) for l in lines[1:]}
        self.assertEqual(rows[self.token_id][1:3], ["used", "0"])
        self.assertEqual(rows[self.token_id][-2:], [AGENT, "role=web"])
        self.assertEqual(rows[self.spare["id"]][1], "valid")
        r = self.ok("token", "list", "--json")
        listed = {t["id"]: t["state"] for t in json.loads(r.stdout)}
        self.assertEqual(listed, {self.token_id: "used", self.spare["id"]: "valid"})
        self.assertNotIn(self.spare["token"], r.stdout)

    @case("token revoke")
    def c_token_revoke(self):
        r = self.ok("token", "revoke", self.spare["id"])
        self.assertEqual(r.stdout, "token %s revoked\n" % self.spare["id"])
        _, out = self.enroll("spare", self.spare["token"], expect=1)
        self.assertIn("unknown token", out)
        self.fails(2, "token", "revoke")

    @case("agents")
    def c_agents(self):
        lines = self.ok("agents").stdout.splitlines()
        self.assertEqual(columns(lines[0]),
                         ["NAME", "STATE", "ADDRESS", "VERSION", "CONNECTED", "LABELS"])
        row = columns(lines[1])
        self.assertEqual(row[:2], [AGENT, "connected"])
        self.assertRegex(row[2], r"^127\.0\.0\.1:\d+$")
        self.assertEqual(row[-1], "role=web")
        a = json.loads(self.ok("agents", "--json").stdout)["agents"]
        self.assertEqual([(x["name"], x["state"], x["enrolled"]) for x in a],
                         [(AGENT, "connected", True)])

    @case("step run")
    def c_step_run(self):
        # --input values as `bora run --input` takes them: JSON when JSON
        r = self.ok("step", "run", "--agent", AGENT, "--input", "GREETING=hello",
                    "--input", "N=3", "--input", 'L=[1,"a"]', "--input", 'Q="x y"', "-",
                    input='#!/bin/sh\necho "$GREETING $N $L $Q"\n')
        self.assertEqual(r.stdout, 'hello 3 [1,"a"] x y\n')
        self.assertRegex(r.stderr, r"step \S+: success exit=0")
        # the script's exit code, its stdout and stderr apart
        r = self.fails(3, "step", "run", "--agent", AGENT,
                       self.write("fail.sh", "#!/bin/sh\necho out\necho err >&2\nexit 3\n"))
        self.assertEqual(r.stdout, "out\n")
        self.assertTrue(r.stderr.startswith("err\n"), r.stderr)
        m = re.search(r"step (\S+): failed exit=3", r.stderr)
        self.assertIsNotNone(m, r.stderr)
        self.failed_step = m.group(1)
        # a timeout: 124, as timeout(1)
        r = self.fails(124, "step", "run", "--agent", AGENT, "--timeout", "1", "-",
                       input="#!/bin/sh\nsleep 30\n")
        self.assertIn("timeout after 1 s", r.stderr)
        # --json: the final step, no live output
        r = self.ok("step", "run", "--agent", AGENT, "--json", "-",
                    input="#!/bin/sh\necho quiet\n")
        doc = json.loads(r.stdout)
        self.assertEqual((doc["agent"], doc["result"]["status"]), (AGENT, "success"))
        # the limit of inputs says so, and which input (issue 12: it said
        # "the value must be UTF-8 text")
        many = []
        for i in range(1025):
            many += ["--input", "K%d=v" % i]
        r = self.fails(2, "step", "run", "--agent", AGENT, *many, "-", input="true\n")
        self.assertEqual(r.stderr.splitlines()[0],
                         "bora: --input K1024: over the limit of 1024 inputs")
        r = self.fails(2, "step", "run", "--agent", AGENT, "--input", "NOEQUALS", "-",
                       input="true\n")
        self.assertIn('expected NAME=VALUE, got "NOEQUALS"', r.stderr)
        self.fails(2, "step", "run", "-", input="true\n")      # no --agent

    @case("step show")
    def c_step_show(self):
        r = self.ok("step", "show", self.failed_step)
        fields = dict(re.findall(r"(?m)^(\w+)\s+(.*)$", r.stdout))
        self.assertEqual((fields["step"], fields["agent"], fields["kind"]),
                         (self.failed_step, AGENT, "script"))
        self.assertEqual((fields["status"], fields["exit"]), ("failed", "3"))
        self.assertIn("(output: bora step events %s)" % self.failed_step, r.stdout)
        doc = json.loads(self.ok("step", "show", "--json", self.failed_step).stdout)
        self.assertEqual((doc["id"], doc["result"]["exit_code"]), (self.failed_step, 3))
        r = self.fails(1, "step", "show", "step-00000000-9")
        self.assertIn("no step step-00000000-9", r.stderr)
        r = self.fails(2, "step", "show", "not/a step")
        self.assertIn("is not a step id", r.stderr)

    @case("step events")
    def c_step_events(self):
        r = self.ok("step", "events", self.failed_step)
        events = [json.loads(l) for l in r.stdout.splitlines()]
        out = "".join(e["data"] for e in events
                      if e.get("event") == "output" and e.get("stream") == "stdout")
        self.assertEqual(out, "out\n")
        results = [e for e in events if e.get("event") == "result"]
        self.assertEqual(len(results), 1, events)
        self.assertEqual(results[0]["result"]["exit_code"], 3)
        self.fails(2, "step", "events", "--json", self.failed_step)

    @case("workflow create")
    def c_workflow_create(self):
        path = self.write("hello.yaml", HELLO_WF)
        self.assertEqual(self.ok("workflow", "create", path).stdout, "workflow hello stored\n")
        r = self.fails(1, "workflow", "create", path)
        self.assertIn("already", r.stderr)
        self.assertEqual(self.ok("workflow", "create", "--replace", path).stdout,
                         "workflow hello replaced\n")
        r = self.fails(1, "workflow", "create", self.write("bad.yaml", BAD_WF))
        self.assertIn("no.such.action", r.stderr)

    @case("workflow list")
    def c_workflow_list(self):
        lines = self.ok("workflow", "list").stdout.splitlines()
        self.assertEqual(columns(lines[0]), ["NAME", "CREATED"])
        self.assertEqual([columns(l)[0] for l in lines[1:]], ["hello"])
        doc = json.loads(self.ok("workflow", "list", "--json").stdout)
        self.assertIn("hello", json.dumps(doc))

    @case("workflow show")
    def c_workflow_show(self):
        r = self.ok("workflow", "show", "hello")
        first, rest = r.stdout.split("\n", 1)
        self.assertTrue(first.startswith("# workflow hello, stored "), first)
        self.assertEqual(rest, HELLO_WF)
        doc = json.loads(self.ok("workflow", "show", "--json", "hello").stdout)
        self.assertEqual(doc["yaml"], HELLO_WF)
        self.fails(1, "workflow", "show", "nope")

    @case("run")
    def c_run(self):
        r = self.ok("run", "hello", "--input", "who=bora")      # the stored one
        lines = r.stdout.splitlines()
        m = re.fullmatch(r"execution ([0-9a-f]{12}) started", lines[0])
        self.assertIsNotNone(m, r.stdout)
        self.xid_ok = m.group(1)
        self.assertIn("  [%s greet stdout] hello bora" % AGENT, lines)
        self.assertTrue(lines[-1].startswith("execution SUCCESS ("), r.stdout)
        r = self.fails(1, "run", self.write("failing.yaml", FAIL_WF))
        self.xid_fail = r.stdout.splitlines()[0].split()[1]
        self.assertTrue(r.stdout.splitlines()[-1].startswith("execution ERROR"), r.stdout)
        r = self.fails(2, "run", "hello", "--input", "=x")
        self.assertIn("expected NAME=VALUE", r.stderr)

    @case("executions")
    def c_executions(self):
        lines = self.ok("executions").stdout.splitlines()
        self.assertEqual(columns(lines[0]),
                         ["ID", "WORKFLOW", "STATE", "TASKS", "STARTED", "DURATION"])
        rows = {columns(l)[0]: columns(l) for l in lines[1:]}
        self.assertEqual(rows[self.xid_ok][1:4], ["hello", "SUCCESS", "1/1"])
        self.assertEqual(rows[self.xid_fail][1:3], ["failing", "ERROR"])
        doc = json.loads(self.ok("executions", "--json", "--state", "SUCCESS").stdout)
        self.assertEqual([x["id"] for x in doc["executions"]], [self.xid_ok])
        self.fails(1, "executions", "--state", "DONE")

    @case("show")
    def c_show(self):
        r = self.ok("show", self.xid_ok)
        self.assertIn("execution  %s\nworkflow   hello\nstate      SUCCESS\n" % self.xid_ok,
                      r.stdout)
        self.assertRegex(r.stdout, r"(?m)^greet\s+SUCCESS\s+%s\s" % AGENT)
        self.assertEqual(json.loads(self.ok("show", "--json", self.xid_fail).stdout)["state"],
                         "ERROR")
        self.fails(2, "show", "not an id")

    @case("execution show")
    def c_execution_show(self):
        self.assertEqual(mask(self.ok("execution", "show", self.xid_ok).stdout),
                         mask(self.ok("show", self.xid_ok).stdout))
        self.assertIn("state      SUCCESS\n", self.ok("execution", "show", self.xid_ok).stdout)

    @case("logs")
    def c_logs(self):
        self.assertEqual(self.ok("logs", self.xid_ok).stdout.splitlines(),
                         ["[%s greet stdout] hello bora" % AGENT])
        self.assertEqual(self.ok("logs", self.xid_fail, "breaks").stdout.splitlines(),
                         ["[%s breaks stderr] about to fail" % AGENT])
        r = self.fails(1, "logs", self.xid_ok, "nope")
        self.assertIn("has no task nope", r.stderr)

    @case("watch")
    def c_watch(self):
        r = self.ok("watch", self.xid_ok)               # ended: replayed, then 0
        self.assertRegex(r.stdout, r"(?m)^\S+ task greet SUCCESS")
        self.assertTrue(r.stdout.splitlines()[-1].startswith("execution SUCCESS"), r.stdout)
        self.assertNotIn("\x1b", r.stdout)
        r = self.fails(1, "watch", self.xid_fail)
        self.assertTrue(r.stdout.splitlines()[-1].startswith("execution ERROR"), r.stdout)

    def assert_state_verb(self, words, xid, state):
        r = self.ok(*words, xid)
        self.assertEqual(r.stdout, "execution %s %s\n" % (xid, state))

    @case("pause")
    def c_pause(self):
        self.xid_stuck = self.stuck_execution()
        self.assert_state_verb(["pause"], self.xid_stuck, "PAUSED")
        r = self.fails(1, "pause", self.xid_stuck)
        self.assertIn("not RUNNING", r.stderr)

    @case("resume")
    def c_resume(self):
        self.assert_state_verb(["resume"], self.xid_stuck, "RUNNING")

    @case("cancel")
    def c_cancel(self):
        self.assert_state_verb(["cancel", "--reason", "enough"], self.xid_stuck, "CANCELLED")
        self.assertIn("state      CANCELLED\ninfo       enough\n",
                      self.ok("show", self.xid_stuck).stdout)

    @case("execution pause")
    def c_execution_pause(self):
        self.xid_stuck2 = self.stuck_execution()
        self.assert_state_verb(["execution", "pause"], self.xid_stuck2, "PAUSED")

    @case("execution resume")
    def c_execution_resume(self):
        self.assert_state_verb(["execution", "resume"], self.xid_stuck2, "RUNNING")

    @case("execution cancel")
    def c_execution_cancel(self):
        self.assert_state_verb(["execution", "cancel"], self.xid_stuck2, "CANCELLED")
        self.fails(1, "execution", "cancel", self.xid_stuck2)

    @case("workflow delete")
    def c_workflow_delete(self):
        self.assertEqual(self.ok("workflow", "delete", "hello").stdout,
                         "workflow hello deleted\n")
        self.assertEqual(self.ok("workflow", "list").stdout.splitlines()[1:], [])
        self.fails(1, "workflow", "delete", "hello")
        self.fails(1, "run", "hello")

    @case("agent revoke")
    def c_agent_revoke(self):
        r = self.ok("agent", "revoke", AGENT)
        self.assertRegex(r.stdout, r"^agent %s revoked \(serial \S+\); its connection "
                                   r"was closed\n$" % AGENT)
        self.wait_agent(AGENT, present=False)
        row = columns(self.ok("agents").stdout.splitlines()[1])
        self.assertEqual(row[:2], [AGENT, "revoked"])
        self.fails(1, "agent", "revoke", "nobody")


if __name__ == "__main__":
    harness.main()
