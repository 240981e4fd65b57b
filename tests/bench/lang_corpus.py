#!/usr/bin/env python3
"""lang_corpus.py: how much of a corpus of workflow files `bora validate` loads.

A benchmark, not a test: it prints figures. Lay out the corpus first
(tests/bench/lang_corpus_extract.py, see docs/benchmarks.md), then:

    python3 tests/bench/lang_corpus.py [--bora build-asan/coordinator/bora]
        [--list] CORPUS

CORPUS holds one folder per source of *.yaml files. Each file goes through
`bora validate --quiet`; a file is accepted (exit 0) or refused. A refused
file counts once, under its first error: `unsupported: FEATURE` by feature,
any other by its message with names in quotes replaced by '…'. It prints
per source accepted / refused, then the refusals by feature and by message,
most files first (--list names the files of each). --blockers also
counts, for each kind of error, the files in which it is the only kind:
the files that fixing it alone would let through.
"""
import argparse
import collections
import os
import re
import subprocess
import sys

LOC = re.compile(r"^.*?:\d+:\d+: ")
QUOTED = re.compile(r"'[^']*'")


def first_error(stderr):
    for line in stderr.splitlines():
        if LOC.match(line):
            return LOC.sub("", line, count=1)
    return stderr.strip().splitlines()[0] if stderr.strip() else "refused, no message"


NAMED = re.compile(r"(unknown (?:action|function|method|name) '[^']*')")


def key(msg):
    """The group of a message: unsupported features and unknown names are
    kept apart by name, other names become '…'."""
    m = re.search(r"unsupported: (.*)$", msg)
    if m:
        return "unsupported", QUOTED.sub("'…'", m.group(1))
    m = NAMED.search(msg)
    if m:
        return "error", m.group(1)
    return "error", QUOTED.sub("'…'", msg)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bora", default=os.path.join("build-asan", "coordinator", "bora"))
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--blockers", action="store_true")
    ap.add_argument("corpus")
    a = ap.parse_args()
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:halt_on_error=1")
    per_source = collections.OrderedDict()
    sole = collections.defaultdict(list)
    groups = {"unsupported": collections.defaultdict(list),
              "error": collections.defaultdict(list)}
    for source in sorted(os.listdir(a.corpus)):
        d = os.path.join(a.corpus, source)
        if not os.path.isdir(d):
            continue
        ok = bad = 0
        for name in sorted(os.listdir(d)):
            path = os.path.join(d, name)
            r = subprocess.run([a.bora, "validate", "--quiet", path], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            err = r.stderr.decode(errors="replace")
            if r.returncode == 0:
                ok += 1
                continue
            bad += 1
            if r.returncode != 1 or "ERROR: AddressSanitizer" in err or "runtime error" in err:
                groups["error"]["CRASH (exit %d)" % r.returncode].append(path)
                continue
            kind, k = key(first_error(err))
            groups[kind][k].append(path)
            kinds = {key(LOC.sub("", line, count=1))[1]
                     for line in err.splitlines() if LOC.match(line)}
            if len(kinds) == 1:
                sole[kinds.pop()].append(path)
        per_source[source] = (ok, bad)
    tot_ok = sum(v[0] for v in per_source.values())
    tot = sum(v[0] + v[1] for v in per_source.values())
    print("%-20s %8s %8s %8s" % ("source", "files", "accepted", "refused"))
    for s, (ok, bad) in per_source.items():
        print("%-20s %8d %8d %8d" % (s, ok + bad, ok, bad))
    print("%-20s %8d %8d %8d" % ("total", tot, tot_ok, tot - tot_ok))
    for kind, title in (("unsupported", "unsupported, by feature"),
                        ("error", "other errors, by message")):
        g = groups[kind]
        print("\n%s (%d files):" % (title, sum(len(v) for v in g.values())))
        for k, paths in sorted(g.items(), key=lambda kv: (-len(kv[1]), kv[0])):
            print("%5d  %s" % (len(paths), k))
            if a.list:
                for p in paths:
                    print("         %s" % os.path.relpath(p, a.corpus))
    if a.blockers:
        print("\nthe only kind of error in (%d files):" % sum(len(v) for v in sole.values()))
        for k, paths in sorted(sole.items(), key=lambda kv: (-len(kv[1]), kv[0])):
            print("%5d  %s" % (len(paths), k))
            if a.list:
                for p in paths:
                    print("         %s" % os.path.relpath(p, a.corpus))
    return 0


if __name__ == "__main__":
    sys.exit(main())
