#!/usr/bin/env python3
"""render_user_data.py: the user-data that enrolls bora-agent at first boot.

    render_user_data.py --url wss://HOST:PORT/ --ca-sha256 FP \\
        --token-file FILE [--name N] [--labels k=v,...] [-o OUT]

Fills bora-agent.cloud-config.in (next to this file) with checked values
and writes it to OUT (mode 0600, it holds the token) or to stdout. The
token is read from FILE ('-': stdin), never from the command line, so it
does not show in ps. Python 3, standard library only; the tests
(tests/images/test_user_data.py) and the VM boot test import render().

The checks are stricter than bora-agent enroll's, because each value lands
in a single-quoted shell word inside a YAML block: nothing that could end
the quote, the word or the line gets through. Exit status 0, 1 (a file
could not be read or written) or 2 (a bad parameter, said on stderr).
"""

import argparse
import os
import re
import sys

TEMPLATE = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        'bora-agent.cloud-config.in')

# The patterns are full matches (re.fullmatch here; Heat's allowed_pattern
# must match the whole value too). images/heat/bora-agent-server.yaml uses
# the same strings; the test checks they are equal.
# wss://HOST:PORT/ with HOST a DNS name, an IPv4 address or [IPv6].
_DNS = (r'[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?'
        r'(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*')
_V6 = r'\[[0-9A-Fa-f:.]{2,45}\]'
_PORT = (r'(?:[1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}'
         r'|655[0-2][0-9]|6553[0-5])')
URL_RE = re.compile(r'wss://(?:%s|%s):%s/?' % (_DNS, _V6, _PORT))
FP_RE = re.compile(r'(?:[0-9A-Fa-f]{64}|[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){31})')
TOKEN_RE = re.compile(r'[A-Za-z0-9_-]{43}')        # 256 bits, base64url
NAME_RE = re.compile(r'[A-Za-z0-9][A-Za-z0-9._-]{0,63}')  # proto/msg.h
LABEL_VALUE_RE = re.compile(r'[A-Za-z0-9._:/@+-]{0,256}')
_PAIR = '%s=%s' % (NAME_RE.pattern, LABEL_VALUE_RE.pattern)
LABELS_RE = re.compile(r'(?:%s(?:,%s)*)?' % (_PAIR, _PAIR))
LABELS_MAX = 64                                     # proto/labels.h


def heat_pattern(rx):
    """rx as a Heat allowed_pattern: Heat takes re.match(p, v) and wants
    match.end() == len(v), which does not backtrack into a longer
    alternative by itself; the '$' makes it."""
    return '(?:%s)$' % rx.pattern


class UserDataError(ValueError):
    """A parameter that is refused; str() is one sentence naming it."""


def check_url(url):
    if URL_RE.fullmatch(url) is None:
        raise UserDataError('url: expected wss://HOST:PORT/ (a DNS name, '
                            'an IPv4 address or [IPv6], port 1-65535), '
                            'got %r' % url)
    return url


def check_ca_sha256(fp):
    if FP_RE.fullmatch(fp) is None:
        raise UserDataError('ca_sha256: expected the CA fingerprint as 64 '
                            'hex digits, with or without colons (AB:CD:...), '
                            'as bora-coordinator init prints it')
    return fp


def check_token(token):
    # Never echo the token: a wrong one may still be a real one.
    if TOKEN_RE.fullmatch(token) is None:
        raise UserDataError('token: expected 43 base64url characters '
                            '(A-Z a-z 0-9 - _), as bora token create prints '
                            'it; got %d characters' % len(token))
    return token


def check_name(name):
    if name != '' and NAME_RE.fullmatch(name) is None:
        raise UserDataError('name: %r is not an agent name (1 to 64 of '
                            'A-Z a-z 0-9 . _ -, first a letter or digit)'
                            % name)
    return name


def check_labels(labels):
    """'k=v,k2=v2' (or '') checked as proto/labels.c does, values narrower."""
    if labels == '':
        return labels
    seen = set()
    for pair in labels.split(','):
        key, eq, value = pair.partition('=')
        if not eq or key == '':
            raise UserDataError('labels: expected name=value pairs separated '
                                'by commas, got %r' % pair)
        if NAME_RE.fullmatch(key) is None:
            raise UserDataError('labels: %r is not a label name (1 to 64 of '
                                'A-Z a-z 0-9 . _ -, first a letter or digit)'
                                % key)
        if LABEL_VALUE_RE.fullmatch(value) is None:
            raise UserDataError('labels: the value of %r must be at most 256 '
                                'of A-Z a-z 0-9 . _ : / @ + -' % key)
        if key in seen:
            raise UserDataError('labels: duplicate name %r' % key)
        seen.add(key)
    if len(seen) > LABELS_MAX:
        raise UserDataError('labels: more than %d labels' % LABELS_MAX)
    return labels


def render(url, ca_sha256, token, name='', labels='', template=TEMPLATE):
    """The user-data text for these values, after checking each one.

    Raises UserDataError for a refused value. Placeholders are @URL@,
    @CA_SHA256@, @TOKEN@, @NAME@ and @LABELS@; the same keys are
    str_replace's params in images/heat/bora-agent-server.yaml.
    """
    values = {
        '@URL@': check_url(url),
        '@CA_SHA256@': check_ca_sha256(ca_sha256),
        '@TOKEN@': check_token(token),
        '@NAME@': check_name(name),
        '@LABELS@': check_labels(labels),
    }
    with open(template, encoding='utf-8') as f:
        text = f.read()
    found = set(re.findall(r'@[A-Z0-9_]+@', text))
    if found != set(values):
        raise UserDataError('template %s: placeholders %s, expected %s' % (
            template, sorted(found), sorted(values)))
    # One pass, so a value is never itself searched for placeholders.
    text = re.sub(r'@[A-Z0-9_]+@', lambda m: values[m.group(0)], text)
    return text


def _read_token(path):
    f = sys.stdin if path == '-' else open(path, encoding='ascii')
    try:
        data = f.read(256)
    finally:
        if f is not sys.stdin:
            f.close()
    return data.strip()


def main(argv=None):
    p = argparse.ArgumentParser(
        prog='render_user_data.py',
        description='user-data (#cloud-config) that enrolls bora-agent')
    p.add_argument('--url', required=True, help='wss://HOST:PORT/')
    p.add_argument('--ca-sha256', required=True,
                   help='the CA fingerprint bora-coordinator init prints')
    p.add_argument('--token-file', required=True,
                   help="a file holding the enrollment token ('-': stdin)")
    p.add_argument('--name', default='', help='agent name')
    p.add_argument('--labels', default='', help='k=v,k2=v2')
    p.add_argument('-o', '--output', help='write here (mode 0600)')
    a = p.parse_args(argv)
    try:
        token = _read_token(a.token_file)
    except (OSError, UnicodeDecodeError) as e:
        print('render_user_data.py: --token-file %s: %s' % (a.token_file, e),
              file=sys.stderr)
        return 1
    try:
        text = render(a.url, a.ca_sha256, token, a.name, a.labels)
    except UserDataError as e:
        print('render_user_data.py: %s' % e, file=sys.stderr)
        return 2
    if a.output is None:
        sys.stdout.write(text)
        return 0
    try:
        fd = os.open(a.output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, 'w', encoding='utf-8') as f:
            f.write(text)
    except OSError as e:
        print('render_user_data.py: %s: %s' % (a.output, e), file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
