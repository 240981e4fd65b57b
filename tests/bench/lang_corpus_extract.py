#!/usr/bin/env python3
"""lang_corpus_extract.py: lays out the public workflow corpus for lang_corpus.py.

    python3 tests/bench/lang_corpus_extract.py MIRRORS OUT

MIRRORS holds bare git copies named owner+name/repo (openstack+mistral,
openstack+mistral-extra, openstack+tripleo-common); OUT (e.g. /tmp/corpus)
gets one folder per source:

  mistral-resources  mistral/tests/resources/**.yaml (HEAD)
  mistral-rally      rally-jobs/**.yaml with a workflow in it (HEAD)
  mistral-extra      examples/**.yaml (HEAD)
  tripleo-common     workbooks/*.yaml at TRIPLEO_COMMIT, the last commit
                     before workbooks were removed
  mistral-engine     every Python string in mistral/tests/unit/engine/*.py
                     that holds "version:" (HEAD), one file per string,
                     named after the test module and the string's line

Nothing extracted here is committed; the files stay in OUT.
"""
import ast
import os
import subprocess
import sys

TRIPLEO_COMMIT = "cdd6fa1d^"


def git(repo, *args):
    return subprocess.run(["git", "-C", repo] + list(args), check=True,
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout


def files(repo, rev, prefix):
    out = git(repo, "ls-tree", "-r", "--name-only", rev, prefix).decode()
    return [p for p in out.splitlines() if p.endswith((".yaml", ".yml"))]


def write(out, source, name, data):
    d = os.path.join(out, source)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def copy_tree(repo, rev, prefix, out, source, need_workflow=False):
    n = 0
    for path in files(repo, rev, prefix):
        try:
            data = git(repo, "show", "%s:%s" % (rev, path))
        except subprocess.CalledProcessError:
            print("skipped (not in the snapshot): %s" % path, file=sys.stderr)
            continue
        if need_workflow and b"version:" not in data:
            continue
        write(out, source, path[len(prefix):].strip("/").replace("/", "__"), data)
        n += 1
    return n


def engine_strings(repo, out):
    n = 0
    rev = "HEAD"
    listing = git(repo, "ls-tree", "-r", "--name-only", rev,
                  "mistral/tests/unit/engine").decode().splitlines()
    for path in listing:
        if not path.endswith(".py"):
            continue
        src = git(repo, "show", "%s:%s" % (rev, path)).decode()
        try:
            tree = ast.parse(src)
        except SyntaxError:
            continue
        mod = os.path.basename(path)[:-3]
        for node in ast.walk(tree):
            if (isinstance(node, ast.Constant) and isinstance(node.value, str)
                    and "version:" in node.value and "2.0" in node.value):
                write(out, "mistral-engine", "%s_%d.yaml" % (mod, node.lineno),
                      node.value.encode())
                n += 1
    return n


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    mirrors, out = sys.argv[1], sys.argv[2]
    mistral = os.path.join(mirrors, "openstack+mistral", "repo")
    extra = os.path.join(mirrors, "openstack+mistral-extra", "repo")
    tripleo = os.path.join(mirrors, "openstack+tripleo-common", "repo")
    counts = {
        "mistral-resources": copy_tree(mistral, "HEAD", "mistral/tests/resources", out,
                                       "mistral-resources"),
        "mistral-rally": copy_tree(mistral, "HEAD", "rally-jobs", out, "mistral-rally",
                                   need_workflow=True),
        "mistral-extra": copy_tree(extra, "HEAD", "examples", out, "mistral-extra"),
        "tripleo-common": copy_tree(tripleo, TRIPLEO_COMMIT, "workbooks", out,
                                    "tripleo-common"),
        "mistral-engine": engine_strings(mistral, out),
    }
    for k, v in counts.items():
        print("%-18s %d" % (k, v))
    print("%-18s %d" % ("total", sum(counts.values())))


if __name__ == "__main__":
    main()
