#!/usr/bin/env python3
"""The image and Heat path booted for real (label vm).

A Debian 12 disk with the bora-agent .deb this build made (vm_image.py)
boots under qemu (TCG) inside a network namespace made here, holding only
`lo`. qemu's user network maps the guest's 10.0.2.2 to that namespace's
127.0.0.1, where the test's coordinator listens (server certificate for
127.0.0.1 and 10.0.2.2). The NoCloud seed's user-data is what
images/heat/bora-agent-server.yaml gives OS::Heat::CloudConfig, evaluated
by the same code as tests/images/test_user_data.py, and equal to
render_user_data.render()'s.

In the VM the agent enrolls with its one-time token and connects with
mutual TLS as db-1; a local agent in the namespace plays web-1; the seed
workflow examples/mysql_webapp.yaml runs across both and its output
reaches the coordinator. The token is not left on the VM's disk nor in
cloud-init's logs. Then the VM powers off and boots again: the agent
reconnects without enrolling again, and the token replayed is refused.

Needs root (debootstrap, chroot, ip netns) and qemu-system-x86. Prints the
timings (cold or warm base, boot to hello) and the agent's RSS in the VM.
"""

import json
import os
import re
import signal
import subprocess
import sys
import time
import unittest

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, 'tests', 'integration'))
sys.path.insert(0, HERE)
import harness  # noqa: E402
from harness import Daemon  # noqa: E402
import test_user_data as tud  # noqa: E402
import vm_image  # noqa: E402

BOOT_TIMEOUT = 600.0      # TCG boot, cloud-init, enrollment
GUEST_HOST = '10.0.2.2'   # qemu user networking: the namespace's 127.0.0.1


def figure(text):
    print('vm figure: ' + text, flush=True)


def remove_stale_namespaces():
    """Namespaces of earlier runs killed before their cleanup (the pid in
    the name is gone)."""
    out = subprocess.run(['ip', 'netns', 'list'], capture_output=True,
                         text=True).stdout
    for line in out.splitlines():
        m = re.match(r'bora-vm-(\d+)\b', line)
        if m and not os.path.exists('/proc/%s' % m.group(1)):
            subprocess.run(['ip', 'netns', 'del', m.group(0)])


class VmBoot(harness.BoraTestCase):
    AGENTS = ()

    def setUp(self):
        super().setUp()
        remove_stale_namespaces()
        self.ns = 'bora-vm-%d' % os.getpid()
        subprocess.run(['ip', 'netns', 'add', self.ns], check=True)
        self.addCleanup(subprocess.run, ['ip', 'netns', 'del', self.ns])
        subprocess.run(['ip', '-n', self.ns, 'link', 'set', 'lo', 'up'],
                       check=True)
        self.in_ns = ['ip', 'netns', 'exec', self.ns]
        self.qemu = None
        self.addCleanup(self.stop_qemu)

    # -- pieces
    def build_deb(self):
        build = os.environ['BORA_BUILD_DIR']
        out = os.path.join(self.tmp, 'debs')
        subprocess.run(['cpack', '--config',
                        os.path.join(build, 'CPackConfig.cmake'),
                        '-G', 'DEB', '-B', out], check=True,
                       stdout=subprocess.DEVNULL)
        debs = [f for f in os.listdir(out) if f.startswith('bora-agent_')
                and f.endswith('.deb')]
        self.assertEqual(len(debs), 1, os.listdir(out))
        return os.path.join(out, debs[0])

    def start_coordinator_in_ns(self):
        self.cdir = os.path.join(self.tmp, 'coordinator')
        r = subprocess.run([harness.binary('bora-coordinator'), 'init',
                            self.cdir, '--ip', harness.HOST, '--ip',
                            GUEST_HOST, '--dns', 'localhost'],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        m = re.search(r'CA fingerprint \(sha256\): ([0-9A-F:]{95})', r.stdout)
        self.assertIsNotNone(m, r.stdout)
        self.fp = m.group(1)
        self.api_socket = os.path.join(self.cdir, 'api.sock')
        argv = self.in_ns + [
            harness.binary('bora-coordinator'), '--listen', '0.0.0.0',
            '--port', str(self.port),
            '--tls-cert', os.path.join(self.cdir, 'server.crt'),
            '--tls-key', os.path.join(self.cdir, 'server.key'),
            '--tls-ca', os.path.join(self.cdir, 'ca.crt'),
            '--state-dir', self.cdir, '--api-socket', self.api_socket,
            '--log-step-output']
        d = Daemon('coordinator', argv, self._log_path('coordinator'))
        self.daemons.append(d)
        self.coord = d
        self.api = harness.Api(self.api_socket)
        self.wait_coordinator_up(d, self.port)
        d.wait_log('enrollment enabled')

    def token(self, name, labels):
        r = self.cli('token', 'create', '--name', name, '--labels', labels,
                     '--ttl', '1h', '--json')
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)['token']

    def user_data(self, token, name, labels):
        """What Heat's OS::Heat::CloudConfig makes of the server template:
        '#cloud-config' and the evaluated cloud_config as YAML."""
        url = 'wss://%s:%d/' % (GUEST_HOST, self.port)
        t = tud.load_hot('bora-agent-server.yaml')
        params = {'coordinator_url': url, 'ca_sha256': self.fp,
                  'enroll_token': token, 'name': name, 'labels': labels}
        for k, v in t['parameters'].items():
            params.setdefault(k, v.get('default', ''))
        doc = tud.hot_eval(t['resources']['enroll_config']['properties']
                           ['cloud_config'], params)
        self.assertEqual(doc, yaml.safe_load(
            tud.rud.render(url, self.fp, token, name, labels)))
        return '#cloud-config\n' + yaml.safe_dump(doc, default_flow_style=False)

    def seed_iso(self, user_data, name):
        d = os.path.join(self.tmp, 'seed')
        os.makedirs(d, mode=0o700)
        with open(os.path.join(d, 'user-data'), 'w') as f:
            f.write(user_data)
        with open(os.path.join(d, 'meta-data'), 'w') as f:
            f.write('instance-id: bora-vm-1\nlocal-hostname: %s\n' % name)
        iso = os.path.join(self.tmp, 'seed.iso')
        subprocess.run(['genisoimage', '-quiet', '-output', iso, '-volid',
                        'cidata', '-joliet', '-rock',
                        os.path.join(d, 'user-data'),
                        os.path.join(d, 'meta-data')], check=True)
        return iso

    def start_qemu(self, img, iso):
        self.console = self._log_path('vm-console')
        argv = self.in_ns + [
            'qemu-system-x86_64', '-machine', 'q35', '-accel', 'tcg',
            '-m', '1024', '-smp', '1', '-display', 'none',
            '-serial', 'file:' + self.console, '-monitor', 'none',
            '-kernel', img['kernel'], '-initrd', img['initrd'],
            '-append', 'root=/dev/vda rw console=ttyS0 ds=nocloud '
                       'systemd.show_status=0',
            '-drive', 'file=%s,if=virtio,format=raw' % img['image'],
            '-drive', 'file=%s,if=virtio,format=raw,readonly=on' % iso,
            '-netdev', 'user,id=n0', '-device', 'virtio-net-pci,netdev=n0']
        log = open(self._log_path('qemu'), 'wb')
        # Killed with the test process (ctest's timeout, ^C) like the
        # harness's daemons.
        self.qemu = subprocess.Popen(argv, stdout=log, stderr=log,
                                     stdin=subprocess.DEVNULL,
                                     preexec_fn=harness._die_with_parent)
        log.close()
        return time.monotonic()

    def stop_qemu(self):
        if self.qemu is None or self.qemu.poll() is not None:
            return
        self.qemu.kill()
        self.qemu.wait(timeout=30)

    def console_tail(self):
        try:
            with open(self.console, errors='replace') as f:
                return f.read()[-4000:]
        except OSError:
            return ''

    def wait_connected(self, name, count):
        def up():
            if self.qemu.poll() is not None:
                raise AssertionError('qemu exited %s\n%s' % (
                    self.qemu.returncode, self.console_tail()))
            return self.coord.count(r'agent connected agent=%s ' % name) >= count
        harness.wait_for(up, BOOT_TIMEOUT, '%s to connect' % name,
                         interval=0.5, on_fail=self.console_tail)

    def enroll_in_ns(self, token, state, *extra):
        """`bora-agent enroll` from the namespace with token (through a
        0600 file, never argv); the CompletedProcess."""
        tok_file = os.path.join(self.tmp, 'enroll.token')
        fd = os.open(tok_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.write(fd, token.encode())
        os.close(fd)
        try:
            return subprocess.run(self.in_ns + [
                harness.binary('bora-agent'), 'enroll',
                '--url', 'wss://127.0.0.1:%d/' % self.port,
                '--token-file', tok_file, '--ca-sha256', self.fp,
                '--state-dir', state] + list(extra),
                capture_output=True, text=True, timeout=60)
        finally:
            os.unlink(tok_file)

    def vm_step(self, script, inputs=None):
        sid = self.api.submit('db-1', script, timeout=120, inputs=inputs)
        events = self.api.events(sid, timeout=180)
        res = harness.Api.result_event(events)
        return res, harness.Api.output_of(events, 'stdout')

    # -- the test
    def test_boot_enroll_workflow_reboot(self):
        t_all = time.monotonic()
        deb = self.build_deb()
        img = vm_image.build(deb, self.tmp, log=figure)
        figure('image (%s base) built in %.1f s' % (
            'cold' if img['cold'] else 'warm', img['seconds']))
        self.start_coordinator_in_ns()
        token = self.token('db-1', 'role=db')
        iso = self.seed_iso(self.user_data(token, 'db-1', 'role=db'), 'db-1')

        t0 = self.start_qemu(img, iso)
        self.wait_connected('db-1', 1)
        figure('boot to agent hello %.1f s' % (time.monotonic() - t0))
        self.assertEqual(self.coord.count(r'agent enrolled agent=db-1 '), 1)
        db = [a for a in self.api.get('/v1/agents')['agents']
              if a['name'] == 'db-1']
        self.assertEqual(db[0]['labels'], {'role': 'db'})
        self.assertTrue(db[0]['enrolled'])
        self.assertEqual(db[0]['facts']['hostname'], 'db-1')

        # The token: gone from the disk, never in cloud-init's logs.
        res, out = self.vm_step(
            '#!/bin/sh\n'
            'test ! -e /run/bora/enroll.token && echo token-file-gone\n'
            'grep -rqF "$tok" /var/log/cloud-init.log '
            '/var/log/cloud-init-output.log || echo token-not-logged\n'
            # Read every command line first, then search: a grep running
            # meanwhile would find the token in its own.
            'c=$(mktemp)\n'
            'for p in /proc/[0-9]*/cmdline; do '
            'tr "\\0" " " < $p 2>/dev/null; echo; done > "$c"\n'
            'grep -qF "$tok" "$c" || echo token-not-in-proc\n'
            'rm -f "$c"\n'
            'pid=$(systemctl show -p MainPID --value bora-agent)\n'
            'grep VmRSS /proc/$pid/status\n'
            'systemctl is-active bora-agent\n',
            inputs={'tok': token})
        self.assertEqual(res['status'], 'success', (res, out))
        for word in ('token-file-gone', 'token-not-logged',
                     'token-not-in-proc', '\nactive'):
            self.assertIn(word, out)
        figure('agent in the VM: %s' % re.search(r'VmRSS:\s*(\d+ kB)',
                                                  out).group(1))

        # web-1: a local agent in the namespace, enrolled the same way.
        web_token = self.token('web-1', 'role=web')
        web_state = os.path.join(self.tmp, 'agent-web-1')
        r = self.enroll_in_ns(web_token, web_state)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        web = Daemon('agent-web-1', self.in_ns + [
            harness.binary('bora-agent'), '--config',
            os.path.join(web_state, 'agent.yaml')],
            self._log_path('agent-web-1'))
        self.daemons.append(web)
        self.wait_agent('web-1')

        # The seed workflow across the VM and the local agent.
        demo = os.path.join(self.tmp, 'demo')
        r = self.cli('run', '--input', 'db_host=db-1', '--input',
                     'web_host=web-1', '--input', 'dir=' + demo,
                     os.path.join(ROOT, 'examples', 'mysql_webapp.yaml'),
                     timeout=300)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        with open(os.path.join(demo, 'web', 'app.conf')) as f:
            conf = f.read()
        m = re.search(r'password = (\S+)', conf)
        self.assertIsNotNone(m, conf)
        self.assertGreaterEqual(len(m.group(1)), 20)
        # The db host's step ran in the VM: its file is there, not here.
        self.assertFalse(os.path.exists(os.path.join(demo, 'db')))
        res, out = self.vm_step('#!/bin/sh\ncat "$d/db/installed"\n',
                                inputs={'d': demo})
        self.assertEqual(res['status'], 'success', (res, out))
        self.assertEqual(out, 'mysql-server installed (demo)\n')

        # Power off from inside (a clean systemd shutdown, the agent
        # stopped by its unit), boot again: reconnects with its certificate.
        res, out = self.vm_step('#!/bin/sh\nsystemctl poweroff --no-block\n')
        self.assertEqual(res['status'], 'success', (res, out))
        try:
            self.qemu.wait(timeout=180)
        except subprocess.TimeoutExpired:
            self.fail('the VM did not power off\n' + self.console_tail())
        t0 = self.start_qemu(img, iso)
        self.wait_connected('db-1', 2)
        figure('second boot to agent hello %.1f s' % (time.monotonic() - t0))
        self.assertEqual(self.coord.count(r'agent enrolled agent=db-1 '), 1)
        res, out = self.vm_step('#!/bin/sh\necho again\n')
        self.assertEqual(out, 'again\n')

        # The spent token replayed is refused.
        r = self.enroll_in_ns(token, os.path.join(self.tmp, 'replay'),
                              '--name', 'db-1')
        self.assertNotEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(self.coord.count(r'agent enrolled agent=db-1 '), 1)

        figure('whole test %.1f s' % (time.monotonic() - t_all))


if __name__ == '__main__':
    signal.signal(signal.SIGTERM, harness._on_sigterm)
    unittest.main()
