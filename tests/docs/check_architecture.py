#!/usr/bin/env python3
"""docs/architecture.md names every .c and .h file of proto/, coordinator/
and agent/, and names no .c or .h file that does not exist: the file-by-file
map cannot drift from the tree unnoticed.

The page is cut into sections at its "## " headings. The section of a top
folder is the one whose heading starts with "proto/", "coordinator/" or
"agent/" ("### " headings inside it do not end it). A file is named when its
section holds its path relative to the top folder (coordinator/agents/
coord_step_table.c as `agents/coord_step_table.c`, proto/msg.c as `msg.c`), or its path
from the repository's root. A name anywhere on the page (a word ending in .c
or .h; one with a * is a pattern, one inside <...> a system header) must be
a file: relative to the top folder of its section, or from the root.

The files are the tracked ones (git ls-files) that exist; without git, every
file found under the root.

usage: check_architecture.py ROOT [ARCHITECTURE_MD]"""

import os
import re
import subprocess
import sys

TOPS = ("proto", "coordinator", "agent")
NAME = re.compile(r"(?<![\w./<*-])([\w][\w./-]*\.[ch])(?![\w*])")


def repo_files(root):
    """Every file of the repository, as paths from root."""
    try:
        out = subprocess.run(["git", "-C", root, "ls-files", "-z"],
                             capture_output=True, check=True).stdout
        files = [f for f in out.decode().split("\0") if f]
        if files:
            return {f for f in files if os.path.isfile(os.path.join(root, f))}
    except (OSError, subprocess.CalledProcessError):
        pass
    found = set()
    for d, dirs, names in os.walk(root):
        dirs[:] = [x for x in dirs if not x.startswith(".") and
                   not (d == root and x.startswith("build"))]
        for n in names:
            found.add(os.path.relpath(os.path.join(d, n), root))
    return found


def sections(md):
    """(top folder or None, heading, [(line number, line)]) per "## "
    section; the text before the first heading is a section of its own."""
    out = [(None, "(top of the page)", [])]
    with open(md) as f:
        for i, line in enumerate(f.read().split("\n"), 1):
            if line.startswith("## "):
                title = line[3:].strip()
                top = next((t for t in TOPS if title.startswith(t + "/")), None)
                out.append((top, title, []))
            else:
                out[-1][2].append((i, line))
    return out


def main():
    root = sys.argv[1]
    md = sys.argv[2] if len(sys.argv) > 2 else os.path.join(
        root, "docs", "architecture.md")
    files = repo_files(root)
    sources = sorted(f for f in files
                     if f.split("/")[0] in TOPS and f.endswith((".c", ".h")))
    problems = []
    named = set()
    seen_tops = set()
    for top, title, lines in sections(md):
        if top is not None:
            if top in seen_tops:
                problems.append("%s: a second section for %s/ (\"## %s\")"
                                % (md, top, title))
            seen_tops.add(top)
        for number, line in lines:
            for m in NAME.finditer(line):
                name = m.group(1)
                if top is not None and top + "/" + name in files:
                    named.add(top + "/" + name)
                elif name in files:
                    if top is not None and name.startswith(top + "/"):
                        named.add(name)     # its own section, from the root
                else:
                    where = ("%s/ or the root" % top) if top else "the root"
                    problems.append("%s:%d: names %s, which is no file "
                                    "(from %s, section \"%s\")"
                                    % (md, number, name, where, title))
    for top in TOPS:
        if top not in seen_tops:
            problems.append("%s: no \"## %s/\" section" % (md, top))
    for f in sources:
        if f not in named:
            problems.append("%s: not named in the \"## %s/\" section of %s"
                            % (f, f.split("/")[0], md))
    if len(sources) < 50:
        problems.append("found only %d source files under %s: is %s the "
                        "repository?" % (len(sources), ", ".join(TOPS), root))
    for p in problems:
        print(p)
    print("%d source files, %d named, %d problems"
          % (len(sources), len(named & set(sources)), len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
