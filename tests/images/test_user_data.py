#!/usr/bin/env python3
"""The first-boot user-data (images/cloud-init/) and the HOT templates
(images/heat/) that carry it: rendered, parsed and compared, nothing booted.

- the renderer's output is #cloud-config YAML with locale C.UTF-8; the token
  is only the content of a 0600 root file under /run; runcmd enrolls with
  --token-file, removes the file whatever the outcome, then enables the unit;
- the runcmd script, run by sh with a fake bora-agent and systemctl, does
  that (success and failure), and no command line holds the token;
- bad parameters are refused with a sentence naming the parameter, and the
  CLI exits 2 without printing the token;
- each HOT template parses, declares enroll_token hidden, and the server
  template's cloud-config, with its functions evaluated, equals the
  renderer's output for the same values; its allowed_patterns are the
  renderer's checks under Heat's matching rule.
"""

import os
import re
import stat
import subprocess
import sys
import tempfile
import unittest

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
CLOUD_INIT = os.path.join(ROOT, 'images', 'cloud-init')
HEAT = os.path.join(ROOT, 'images', 'heat')
sys.path.insert(0, CLOUD_INIT)
import render_user_data as rud  # noqa: E402

RENDERER = os.path.join(CLOUD_INIT, 'render_user_data.py')
TOKEN = 'Zm9vYmFyYmF6cXV4LXRoaXMtaXMtYS10ZXN0LXRva2U'   # 43 base64url
FP = ':'.join(['3F'] * 32)
GOOD = dict(url='wss://coord.example:7443/', ca_sha256=FP, token=TOKEN,
            name='db-1', labels='role=db,zone=a')
TOKEN_PATH = '/run/bora/enroll.token'


def load_hot(name):
    with open(os.path.join(HEAT, name), encoding='utf-8') as f:
        return yaml.safe_load(f)


def hot_eval(node, params):
    """The functions the templates use: get_param, str_replace, list_join."""
    if isinstance(node, list):
        return [hot_eval(x, params) for x in node]
    if not isinstance(node, dict):
        return node
    if len(node) == 1:
        (fn, arg), = node.items()
        if fn == 'get_param':
            return params[arg]
        if fn == 'str_replace':
            text = hot_eval(arg['template'], params)
            reps = {k: hot_eval(v, params) for k, v in arg['params'].items()}
            # Heat replaces longer keys first; ours do not overlap anyway.
            for k in sorted(reps, key=len, reverse=True):
                text = text.replace(k, str(reps[k]))
            return text
        if fn == 'list_join':
            sep, items = arg
            return sep.join(hot_eval(items, params))
        assert not fn.startswith('get_') and fn not in ('if', 'yaql'), fn
    return {k: hot_eval(v, params) for k, v in node.items()}


def heat_allows(pattern, value):
    """Heat's AllowedPattern: re.match and the match ends at the end."""
    m = re.match(pattern, value)
    return m is not None and m.end() == len(value)


class Rendered(unittest.TestCase):
    def setUp(self):
        self.text = rud.render(**GOOD)
        self.doc = yaml.safe_load(self.text)

    def test_cloud_config_yaml(self):
        self.assertTrue(self.text.startswith('#cloud-config\n'))
        self.assertIsInstance(self.doc, dict)
        self.assertEqual(self.doc['locale'], 'C.UTF-8')

    def test_token_only_in_write_files(self):
        self.assertEqual(self.text.count(TOKEN), 1)
        files = [f for f in self.doc['write_files'] if f['content'] == TOKEN]
        self.assertEqual(len(files), 1)
        f = files[0]
        self.assertEqual(f['path'], TOKEN_PATH)
        self.assertTrue(f['path'].startswith('/run/'))
        self.assertEqual(f['permissions'], '0600')
        self.assertEqual(f['owner'], 'root:root')
        rest = dict(self.doc)
        del rest['write_files']
        self.assertNotIn(TOKEN, yaml.safe_dump(rest))
        self.assertNotIn(TOKEN, ''.join(self.doc['runcmd']))

    def test_runcmd(self):
        script = '\n'.join(self.doc['runcmd'])
        self.assertIn('--token-file "$token"', script)
        self.assertIn('token=%s' % TOKEN_PATH, script)
        self.assertNotIn('--token ', script)
        self.assertIn('--config-out /etc/bora/agent.yaml', script)
        enroll = script.index('bora-agent enroll')
        shred = script.index('shred -u "$token"')
        enable = script.index('systemctl enable --now bora-agent')
        self.assertLess(enroll, shred)
        self.assertLess(shred, enable)
        # the removal is not behind the enrollment's success
        self.assertIn('|| rc=$?', script[enroll:shred])

    def test_name_and_labels_optional(self):
        doc = yaml.safe_load(rud.render(GOOD['url'], FP, TOKEN))
        self.assertIn("name=''", doc['runcmd'][0])
        self.assertIn("labels=''", doc['runcmd'][0])

    def test_fingerprint_without_colons(self):
        rud.render(GOOD['url'], FP.replace(':', '').lower(), TOKEN)


class RuncmdRuns(unittest.TestCase):
    """The runcmd script under sh, with bora-agent and systemctl faked."""

    def run_script(self, enroll_rc):
        with tempfile.TemporaryDirectory() as d:
            token = os.path.join(d, 'enroll.token')
            with open(token, 'w') as f:
                f.write(TOKEN + '\n')
            os.chmod(token, 0o600)
            bindir = os.path.join(d, 'bin')
            os.mkdir(bindir)
            log = os.path.join(d, 'calls')
            for prog, rc in (('bora-agent', enroll_rc), ('systemctl', 0)):
                p = os.path.join(bindir, prog)
                with open(p, 'w') as f:
                    f.write('#!/bin/sh\necho "%s $*" >> %s\n'
                            'if [ "$1" = enroll ]; then\n'
                            '  while [ $# -gt 0 ]; do\n'
                            '    [ "$1" = --token-file ] && cat "$2" >> %s.tok\n'
                            '    shift\n'
                            '  done\n'
                            'fi\nexit %d\n' % (prog, log, log, rc))
                os.chmod(p, 0o755)
            doc = yaml.safe_load(rud.render(**GOOD))
            script = '\n'.join(doc['runcmd']).replace(TOKEN_PATH, token)
            env = dict(os.environ, PATH=bindir + ':' + os.environ['PATH'])
            r = subprocess.run(['sh', '-c', script], env=env,
                               capture_output=True, text=True, timeout=30)
            with open(log) as f:
                calls = f.read().splitlines()
            with open(log + '.tok') as f:
                seen = f.read().strip()
            return r, calls, seen, os.path.exists(token)

    def test_success(self):
        r, calls, seen, left = self.run_script(0)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertFalse(left, 'token file left on disk')
        self.assertEqual(seen, TOKEN)
        self.assertEqual(calls[0].split(), [
            'bora-agent', 'enroll', '--url', GOOD['url'], '--token-file',
            calls[0].split()[5], '--ca-sha256', FP, '--name', 'db-1',
            '--labels', 'role=db,zone=a', '--config-out',
            '/etc/bora/agent.yaml'])
        self.assertEqual(calls[1], 'systemctl enable --now bora-agent')
        self.assertNotIn(TOKEN, '\n'.join(calls))

    def test_failure(self):
        r, calls, _, left = self.run_script(3)
        self.assertEqual(r.returncode, 3)
        self.assertFalse(left, 'token file left on disk after a failure')
        self.assertEqual(len(calls), 1, calls)
        self.assertIn('enrollment failed', r.stderr)


class Refused(unittest.TestCase):
    BAD = [
        ('url', 'ws://coord.example:7443/'), ('url', 'wss://coord.example/'),
        ('url', 'wss://coord.example:0/'), ('url', 'wss://coord.example:70000/'),
        ('url', 'wss://coord.example:7443/x'), ('url', "wss://a'b:1/"),
        ('url', 'wss://a:1/\n'), ('ca_sha256', 'AB' * 31),
        ('ca_sha256', 'AB:' * 31 + 'ZZ'), ('ca_sha256', 'AB' * 32 + ':'),
        ('token', TOKEN[:-1]), ('token', TOKEN + 'A'),
        ('token', TOKEN[:-1] + '+'), ('token', TOKEN[:-1] + "'"),
        ('name', '-db'), ('name', 'db 1'), ('name', 'x' * 65),
        ('name', "db'1"), ('labels', 'role'), ('labels', '=web'),
        ('labels', 'role=web,'), ('labels', 'role=a,role=b'),
        ('labels', "role=it's"), ('labels', 'role=a b'),
        ('labels', 'role=$(id)'),
        ('labels', ','.join('k%d=v' % i for i in range(65))),
    ]

    def test_refused(self):
        for key, value in self.BAD:
            args = dict(GOOD, **{key: value})
            with self.subTest(key=key, value=value):
                with self.assertRaises(rud.UserDataError) as cm:
                    rud.render(**args)
                self.assertTrue(str(cm.exception).startswith(key + ':'),
                                str(cm.exception))
                self.assertNotIn(TOKEN[:-1], str(cm.exception))

    def test_cli(self):
        with tempfile.TemporaryDirectory() as d:
            tok = os.path.join(d, 't')
            with open(tok, 'w') as f:
                f.write(TOKEN + 'X\n')
            r = subprocess.run([sys.executable, RENDERER, '--url', GOOD['url'],
                                '--ca-sha256', FP, '--token-file', tok],
                               capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 2)
            self.assertIn('token: expected 43 base64url', r.stderr)
            self.assertNotIn(TOKEN, r.stdout + r.stderr)
            with open(tok, 'w') as f:
                f.write(TOKEN + '\n')
            out = os.path.join(d, 'user-data')
            r = subprocess.run([sys.executable, RENDERER, '--url', GOOD['url'],
                                '--ca-sha256', FP, '--token-file', tok,
                                '--name', 'db-1', '--labels',
                                'role=db,zone=a', '-o', out],
                               capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(stat.S_IMODE(os.stat(out).st_mode), 0o600)
            with open(out) as f:
                self.assertEqual(f.read(), rud.render(**GOOD))


class Hot(unittest.TestCase):
    FILES = ['bora-agent-server.yaml', 'bora-agent-group.yaml',
             'bora-seed.yaml']

    def test_parse_and_hidden(self):
        for name in self.FILES:
            with self.subTest(template=name):
                t = load_hot(name)
                self.assertGreaterEqual(str(t['heat_template_version']),
                                        '2018-08-31')
                self.assertIs(t['parameters']['enroll_token']['hidden'], True)
                self.assertNotIn('default', t['parameters']['enroll_token'])

    def test_same_cloud_config(self):
        t = load_hot('bora-agent-server.yaml')
        res = t['resources']
        self.assertEqual(res['enroll_config']['type'], 'OS::Heat::CloudConfig')
        srv = res['server']['properties']
        self.assertEqual(res['server']['type'], 'OS::Nova::Server')
        self.assertEqual(srv['user_data_format'], 'SOFTWARE_CONFIG')
        self.assertEqual(srv['user_data'], {'get_resource': 'enroll_config'})
        for labels, name in (('role=db,zone=a', 'db-1'), ('', 'web-7')):
            params = dict(coordinator_url=GOOD['url'], ca_sha256=FP,
                          enroll_token=TOKEN, name=name, labels=labels)
            got = hot_eval(res['enroll_config']['properties']['cloud_config'],
                           params)
            want = yaml.safe_load(rud.render(GOOD['url'], FP, TOKEN, name,
                                             labels))
            self.assertEqual(got, want)

    def test_patterns_match_renderer(self):
        t = load_hot('bora-agent-server.yaml')['parameters']
        pairs = {'coordinator_url': (rud.URL_RE, rud.check_url),
                 'ca_sha256': (rud.FP_RE, rud.check_ca_sha256),
                 'name': (rud.NAME_RE, rud.check_name),
                 'labels': (rud.LABELS_RE, None)}
        samples = [v for _, v in Refused.BAD] + list(GOOD.values()) + [
            'wss://10.0.0.1:65535', 'wss://[fd00::1]:7443/', 'a', '',
            'role=web', FP.replace(':', '')]
        for param, (rx, _) in pairs.items():
            pattern = t[param]['constraints'][0]['allowed_pattern']
            self.assertEqual(pattern, rud.heat_pattern(rx))
            for v in samples:
                with self.subTest(param=param, value=v):
                    self.assertEqual(heat_allows(pattern, v),
                                     rx.fullmatch(v) is not None)
        self.assertEqual(t['enroll_token']['constraints'][0]['length'],
                         {'min': 43, 'max': 43})

    def test_group_and_seed_use_the_server(self):
        g = load_hot('bora-agent-group.yaml')
        rg = g['resources']['agents']
        self.assertEqual(rg['type'], 'OS::Heat::ResourceGroup')
        rdef = rg['properties']['resource_def']
        self.assertEqual(rdef['type'], 'bora-agent-server.yaml')
        self.assertIn('%index%', hot_eval(rdef['properties']['name'],
                                          {'name_prefix': 'web'}))
        s = load_hot('bora-seed.yaml')
        server_params = set(load_hot('bora-agent-server.yaml')['parameters'])
        for res in ('db', 'web'):
            props = s['resources'][res]['properties']
            self.assertEqual(s['resources'][res]['type'],
                             'bora-agent-server.yaml')
            self.assertEqual(set(props), server_params)
        self.assertEqual(set(rdef['properties']), server_params)
        run = s['outputs']['run_workflow']['value']['str_replace']['template']
        self.assertIn('examples/mysql_webapp.yaml', run)
        self.assertTrue(os.path.exists(os.path.join(
            ROOT, 'examples', 'mysql_webapp.yaml')))
        with open(os.path.join(ROOT, 'examples', 'mysql_webapp.yaml')) as f:
            self.assertIn('bora.wait_agents', f.read())


if __name__ == '__main__':
    unittest.main(verbosity=2)
