#!/usr/bin/env python3
"""`bora watch ID`: under a real pseudo-terminal it draws the execution in
place (tasks, states, agents, the last output line) and ends with the
final state and its exit status; on a pipe it appends plain lines (checked
against a golden text with times and ids masked)."""

import errno
import fcntl
import os
import pty
import re
import struct
import sys
import termios
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

TWO_WF = """\
version: '2.0'

roll:
  type: direct
  tasks:
    fetch:
      action: bora.script
      target: local
      input:
        script: |
          #!/bin/sh
          echo fetching
          sleep 0.4
          echo fetched all
      on-success:
        - apply
    apply:
      action: bora.script
      target: local
      input:
        script: |
          #!/bin/sh
          echo applying
          sleep 0.4
          echo applied 3 changes
"""

QUIET_WF = """\
version: '2.0'

quiet:
  type: direct
  tasks:
    wait:
      action: bora.script
      target: local
      input:
        script: |
          #!/bin/sh
          echo started
          sleep 3.5
          echo done
"""

FAIL_WF = """\
version: '2.0'

breaks:
  type: direct
  tasks:
    first:
      action: bora.script
      target: local
      input:
        script: "echo ok"
      on-success:
        - second
    second:
      action: bora.script
      target: local
      input:
        script: |
          echo no room >&2
          exit 4
"""

GOLDEN_FAIL = """\
<time> execution RUNNING
<time> task first RUNNING
<time>   step first on local started
<time>   step first on local success
<time> task first SUCCESS (<dur>)
<time> task second RUNNING
<time>   step second on local started
<time>   step second on local failed
<time> task second ERROR (<dur>): step <id>.2.0.1 on local: failed (exit 4; stderr: no room)
<time> execution ERROR: <info>
execution ERROR (<dur>): <info>
"""


def mask(text):
    text = re.sub(r"\b[0-9a-f]{12}\b", "<id>", text)
    text = re.sub(r"\d\d:\d\d:\d\d", "<time>", text)
    text = re.sub(r"\b\d+(\.\d+)?s\b|\b\d+m\d+s\b", "<dur>", text)
    text = re.sub(r"(execution ERROR.*?): .*", r"\1: <info>", text)
    return text


def render(data, rows=40):
    """A small terminal: what the screen shows after data (the escapes
    bora watch uses: CUU, CR, LF, ED, EL)."""
    screen = [""] * rows
    row = col = 0
    i = 0
    while i < len(data):
        ch = data[i]
        if ch == "\x1b":
            m = re.match(r"\x1b\[(\d*)([A-Za-z])", data[i:])
            n = int(m.group(1) or "1")
            if m.group(2) == "A":
                row = max(0, row - n)
            elif m.group(2) == "J":
                screen[row] = screen[row][:col]
                for r in range(row + 1, rows):
                    screen[r] = ""
            elif m.group(2) == "K":
                screen[row] = screen[row][:col]
            i += len(m.group(0))
            continue
        if ch == "\r":
            col = 0
        elif ch == "\n":
            row += 1
            col = 0
            if row == rows:
                screen = screen[1:] + [""]
                row = rows - 1
        else:
            line = screen[row].ljust(col)
            screen[row] = line[:col] + ch + line[col + 1:]
            col += 1
        i += 1
    return [l.rstrip() for l in screen if l.strip()]


class Watch(harness.BoraTestCase):
    AGENTS = ("local",)

    def setUp(self):
        super().setUp()
        self.start_coordinator()
        self.start_connected_agent("local")

    def start(self, text):
        st, doc = self.api.request("POST", "/v1/executions", {"workflow": text})
        self.assertEqual(st, 201, doc)
        return doc["id"]

    def watch_pty(self, xid, cols=100, rows=30, timeout=harness.STEP_TIMEOUT):
        argv = [harness.binary("bora"), "--socket", self.api_socket, "watch", xid]
        env = dict(harness.child_env(), TERM="xterm")
        pid, fd = pty.fork()
        if pid == 0:
            fcntl.ioctl(1, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
            os.execve(argv[0], argv, env)
        out = b""
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                chunk = os.read(fd, 65536)
            except OSError as e:
                if e.errno != errno.EIO:
                    raise
                break
            if not chunk:
                break
            out += chunk
        os.close(fd)
        _, status = os.waitpid(pid, 0)
        return os.waitstatus_to_exitcode(status), out.decode("utf-8", "replace")

    def test_terminal_view(self):
        xid = self.start(TWO_WF)
        code, raw = self.watch_pty(xid)
        self.assertEqual(code, 0, raw)
        self.assertNotIn("AddressSanitizer", raw)
        self.assertNotIn("runtime error", raw)
        self.assertIn("\x1b[J", raw)
        redraws = len(re.findall(r"\x1b\[\d+A", raw))
        self.assertGreaterEqual(redraws, 2, raw)      # updated in place
        screen = render(raw)
        text = "\n".join(screen)
        # One drawing on the screen, not one per update.
        self.assertEqual(sum(1 for l in screen if l.startswith("TASK")), 1, text)
        self.assertRegex(screen[0], r"^execution %s  roll  SUCCESS  \d" % xid)
        rows = {l.split()[0]: l.split(None, 4) for l in screen[2:] if l.split()[0] in ("fetch", "apply")}
        self.assertEqual(rows["fetch"][1:3], ["SUCCESS", "local"], text)
        self.assertEqual(rows["apply"][1:3], ["SUCCESS", "local"], text)
        self.assertEqual(rows["fetch"][4], "fetched all", text)
        self.assertEqual(rows["apply"][4], "applied 3 changes", text)
        self.assertRegex(screen[-1], r"^execution SUCCESS \(\d")
        self.assertTrue(all(len(l) < 100 for l in screen), text)

        # A narrow terminal: rows are cut, never wrapped.
        code, raw = self.watch_pty(xid, cols=40)
        self.assertEqual(code, 0, raw)
        screen = render(raw)
        self.assertTrue(all(len(l) < 40 for l in screen[:-1]), "\n".join(screen))

    def test_durations_count_without_events(self):
        """A task that prints nothing for 3.5 s: the view is redrawn all the
        same (every second), so its duration goes on counting."""
        xid = self.start(QUIET_WF)
        code, raw = self.watch_pty(xid)
        self.assertEqual(code, 0, raw)
        shown = re.findall(r"wait\s+RUNNING\s+local\s+(\S+)", raw)
        self.assertGreaterEqual(len(set(shown)), 3, shown)

    def test_plain_lines_and_exit_status(self):
        xid = self.start(FAIL_WF)
        r = self.cli("watch", xid)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertEqual(mask(r.stdout), GOLDEN_FAIL)
        self.assertNotIn("\x1b", r.stdout)

        r = self.cli("watch", "0123456789ab")
        self.assertEqual(r.returncode, 1)
        self.assertIn("no execution 0123456789ab", r.stderr)


if __name__ == "__main__":
    harness.main()
