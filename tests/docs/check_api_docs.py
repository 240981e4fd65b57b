#!/usr/bin/env python3
"""docs/api.md has a curl example for every route of the coordinator's route
table (coordinator/api/api_routes.c), and every curl example names a route that
exists: the API reference cannot drift from the code unnoticed.

usage: check_api_docs.py API_C API_MD"""

import re
import sys

ROUTE = re.compile(r'\{\s*"(GET|POST|PUT|DELETE)",\s*"(/v1/[^"]*)"')
URL = re.compile(r"https?://[^/\s'\"]+(/v1/[^\s'\"?]*)")


def routes(api_c):
    """(method, regex of the path) for each row of api_routes[]."""
    with open(api_c) as f:
        text = f.read()
    table = text[text.index("api_routes[] = {"):]
    table = table[:table.index("};")]
    out = []
    for method, path in ROUTE.findall(table):
        rx = "^" + re.escape(path).replace(r"\*", "[^/]+") + "$"
        out.append((method, path, re.compile(rx)))
    return out


def curl_examples(api_md):
    """(method, path, line number) of each curl command, with its
    backslash-continued lines joined."""
    with open(api_md) as f:
        lines = f.read().split("\n")
    out = []
    i = 0
    while i < len(lines):
        start = i
        cmd = lines[i]
        while cmd.endswith("\\") and i + 1 < len(lines):
            i += 1
            cmd = cmd[:-1] + " " + lines[i]
        i += 1
        if "curl " not in cmd:
            continue
        cmd = cmd[cmd.index("curl "):]
        m = re.search(r"-X\s+(GET|POST|PUT|DELETE)\b", cmd)
        if m:
            method = m.group(1)
        elif re.search(r"\s(-d|--data\S*)\s", cmd):
            method = "POST"
        else:
            method = "GET"
        for path in URL.findall(cmd):
            out.append((method, path, start + 1))
    return out


def main():
    api_c, api_md = sys.argv[1], sys.argv[2]
    table = routes(api_c)
    examples = curl_examples(api_md)
    problems = []
    if len(table) < 10 or len(examples) < 10:
        problems.append("read %d routes and %d examples: the parser is broken"
                        % (len(table), len(examples)))
    for method, path, rx in table:
        if not any(m == method and rx.match(p) for m, p, _ in examples):
            problems.append("%s %s: no curl example in %s" % (method, path, api_md))
    for method, path, line in examples:
        if not any(m == method and rx.match(path) for m, _, rx in table):
            problems.append("%s:%d: %s %s is not a route of %s"
                            % (api_md, line, method, path, api_c))
    for p in problems:
        print(p)
    print("%d routes, %d curl examples, %d problems"
          % (len(table), len(examples), len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
