#!/usr/bin/env python3
"""Both daemons read a YAML file (--config), flags override it, relative
paths are relative to the file, and an unknown key or a bad value is an
error naming file:line, before anything starts."""

import json
import os
import subprocess
import sys

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Api  # noqa: E402


class Config(harness.BoraTestCase):

    def write(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def coordinator_yaml(self, port, extra=""):
        # Relative paths: relative to the file's directory (self.tmp).
        return ("listen: 127.0.0.1\n"
                "port: %d\n"
                "tls:\n"
                "  cert: certs/server.crt\n"
                "  key: certs/server.key\n"
                "  ca: certs/ca.crt\n"
                "state_dir: coordinator\n"
                "log:\n"
                "  level: info\n"
                "  format: text\n"
                "max_message_bytes: 65536\n"
                "heartbeat_s: 30\n" % port) + extra

    def agent_yaml(self, port, extra=""):
        return ("url: wss://127.0.0.1:%d/\n"
                "tls:\n"
                "  cert: certs/local.crt\n"
                "  key: certs/local.key\n"
                "  ca: certs/ca.crt\n"
                "state_dir: agent-local\n"
                "labels:\n"
                "  role: web\n"
                "  zone: a\n"
                "log:\n"
                "  level: debug\n"
                "reconnect:\n"
                "  min_ms: 100\n"
                "  max_ms: 1000\n" % port) + extra

    def start_from_files(self, coord_flags=(), agent_flags=()):
        os.makedirs(os.path.join(self.tmp, "coordinator"), mode=0o700, exist_ok=True)
        cfile = self.write("coordinator.yaml", self.coordinator_yaml(self.port))
        afile = self.write("agent.yaml", self.agent_yaml(self.port))
        self.api_socket = os.path.join(self.tmp, "coordinator", "api.sock")
        self.api = Api(self.api_socket)
        self.coord = harness.Daemon("coordinator", [harness.binary("bora-coordinator"),
                                                    "--config", cfile] + list(coord_flags),
                                    self._log_path("coordinator"))
        self.daemons.append(self.coord)
        self.wait_coordinator_up(self.coord, self.port)
        agent = harness.Daemon("agent-local", [harness.binary("bora-agent"),
                                               "--config", afile] + list(agent_flags),
                               self._log_path("agent-local"))
        self.daemons.append(agent)
        return agent

    def run_fails(self, argv, timeout=20):
        r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                           env=harness.child_env(), stdin=subprocess.DEVNULL)
        self.assertIsNone(harness.sanitizer_report(r.stderr), r.stderr)
        self.assertNotEqual(r.returncode, 0, "started with a bad config:\n" + r.stderr)
        self.assertGreater(r.returncode, 0, "crashed:\n" + r.stderr)
        return r.stderr

    def test_files_only(self):
        self.start_from_files()
        self.wait_agent("local")
        agents = self.api.get("/v1/agents")["agents"]
        self.assertEqual(agents[0].get("labels"), {"role": "web", "zone": "a"}, agents)
        sid, events, res = self.run_step("local", "#!/bin/sh\necho configured\n")
        self.assertEqual(res["status"], "success", res)
        self.assertEqual(Api.output_of(events, "stdout"), "configured\n")

    def test_flags_override_file(self):
        # The file names a port nobody listens on; the flag wins.
        wrong = harness.free_port()
        cfile = self.write("c.yaml", self.coordinator_yaml(wrong))
        afile = self.write("a.yaml", self.agent_yaml(wrong))
        os.makedirs(os.path.join(self.tmp, "coordinator"), mode=0o700, exist_ok=True)
        self.api_socket = os.path.join(self.tmp, "coordinator", "api.sock")
        self.api = Api(self.api_socket)
        self.coord = harness.Daemon("coordinator", [
            harness.binary("bora-coordinator"), "--config", cfile,
            "--port", str(self.port), "--log-format", "json"], self._log_path("coordinator"))
        self.daemons.append(self.coord)
        self.wait_coordinator_up(self.coord, self.port)
        self.daemons.append(harness.Daemon("agent-local", [
            harness.binary("bora-agent"), "--config", afile,
            "--url", "wss://127.0.0.1:%d/" % self.port, "--labels", "role=db"],
            self._log_path("agent-local")))
        self.wait_agent("local")
        agents = self.api.get("/v1/agents")["agents"]
        self.assertEqual(agents[0].get("labels"), {"role": "db"}, agents)
        # --log-format json: every line of the coordinator's log is an object.
        lines = [l for l in self.coord.log().splitlines() if l.strip()]
        self.assertTrue(lines)
        for line in lines:
            ev = json.loads(line)
            for k in ("time", "level", "msg"):
                self.assertIn(k, ev, line)
        self.assertTrue(any(json.loads(l).get("agent") == "local" for l in lines), lines)

    def test_unknown_key_names_file_and_line(self):
        cfile = self.write("c.yaml", self.coordinator_yaml(self.port, "porrt: 80\n"))
        err = self.run_fails([harness.binary("bora-coordinator"), "--config", cfile])
        self.assertIn("c.yaml:13:", err)
        self.assertIn("porrt", err)
        afile = self.write("a.yaml", self.agent_yaml(self.port).replace(
            "  max_ms: 1000\n", "  max_ms: 1000\n  jitter: 5\n"))
        err = self.run_fails([harness.binary("bora-agent"), "--config", afile])
        self.assertIn("a.yaml:15:", err)
        self.assertIn("jitter", err)

    def test_bad_values_name_file_and_line(self):
        cfile = self.write("c.yaml", self.coordinator_yaml(self.port).replace(
            "port: %d\n" % self.port, "port: 99999\n"))
        err = self.run_fails([harness.binary("bora-coordinator"), "--config", cfile])
        self.assertIn("c.yaml:2:", err)
        cfile = self.write("d.yaml", self.coordinator_yaml(self.port).replace(
            "heartbeat_s: 30\n", "heartbeat_s: often\n"))
        err = self.run_fails([harness.binary("bora-coordinator"), "--config", cfile])
        self.assertIn("d.yaml:12:", err)
        err = self.run_fails([harness.binary("bora-coordinator"), "--config", cfile + ".missing"])
        self.assertIn("d.yaml.missing", err)
        err = self.run_fails([harness.binary("bora-agent"), "--config",
                              self.write("a.yaml", "url: [1, 2\n")])
        self.assertIn("a.yaml", err)

    def test_bad_flags(self):
        err = self.run_fails([harness.binary("bora-coordinator"), "--no-such-flag", "x"])
        self.assertIn("no-such-flag", err)
        err = self.run_fails([harness.binary("bora-agent"), "--reconnect-min-ms", "soon"])
        self.assertIn("reconnect", err)

    def test_missing_settings_and_stray_arguments(self):
        """Every unset required setting is named with its flag and YAML
        form, in one run, for both daemons; a stray argument is refused."""
        err = self.run_fails([harness.binary("bora-coordinator"),
                              "--tls-cert", self.cert("server"), "stray"])
        self.assertIn("missing setting tls.key (--tls-key or tls: key: in the config file)", err)
        self.assertIn("missing setting tls.ca (--tls-ca or tls: ca: in the config file)", err)
        self.assertNotIn("missing setting tls.cert", err)
        self.assertIn("unexpected argument 'stray'", err)
        err = self.run_fails([harness.binary("bora-agent"), "--log-level", "loud"])
        for key in ("url", "tls.cert", "tls.key", "tls.ca"):
            self.assertIn("bora-agent: missing setting %s " % key, err)
        self.assertIn("log.level: expected error, warn, info or debug, got 'loud'", err)


if __name__ == "__main__":
    harness.main()
