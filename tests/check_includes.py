#!/usr/bin/env python3
"""The include rules of init/ (issue 11), checked by `make include-check`.

init/ is three programs over a shared lib/; their headers say what each may
know of the others, so the rules are about #include lines:
  1. no file of init/pid1 includes a header of init/provision (parse/ too),
     and no file of init/provision includes one of init/pid1: PID 1 and
     provision talk through files (docs/provisioning.md), never through code;
  2. init/lib includes only init/lib: it is shared by the three programs;
  3. init/wispctl includes, of the repository's headers, only
     init/lib/proto.h (and what that pulls in) and its own; init/update (the
     updater, its own program) and init/initramfs (a netboot's /init) only
     init/lib and their own;
  4. no include cycle among the repository's headers (all of C in git);
  5. each program's header (pid1/pid1.h, provision/provision.h,
     provision/parse/parse.h, update/update.h, initramfs/initramfs.h,
     image-builder/image-builder.h),
     each header of init/lib and each of containerd-lite is under 400 lines;
  6. containerd-lite's folders are layers, runtime/ < net/ < image/ < cli/: a
     file includes, of containerd-lite's headers, containerd-lite.h and those
     of its own folder or a lower one (the runtime knows nothing of images,
     networks or command lines; nothing but cli/ includes cli/'s);
  7. of containerd-lite, init/ includes only containerd-lite.h, its public
     header (provision links the host firewall, cl_host_firewall()).
An include is resolved as the compilers see it: "x.h" next to the including
file first, then in the -I directories of the build (init, image-builder,
containerd-lite); <x.h> only there (else it is a system header). A quoted
include of a file of init/ or containerd-lite that resolves to no file of
the tree is an error too.

Prints one line per violation, `file:line: what: rule`, and exits 1 if
there is any. --root DIR checks another tree (DIR/init...); --self-test
checks small trees made to break each rule once, and the rules' passing
shape, so that the check itself can fail.
"""

import os
import re
import subprocess
import sys
import tempfile

INCLUDE_DIRS = ("init", "image-builder", "containerd-lite")
PROGRAM_HEADERS = ("init/pid1/pid1.h", "init/provision/provision.h",
                   "init/provision/parse/parse.h", "init/update/update.h",
                   "init/initramfs/initramfs.h", "image-builder/image-builder.h")
MAX_LINES = 400  # a program's or lib's header has fewer lines than this
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')

RULE_SPLIT = "PID 1 and provision include none of each other's headers"
RULE_LIB = "init/lib includes only init/lib headers"
RULE_WISPCTL = "wispctl includes only init/lib/proto.h (and what it pulls in) of the repo's headers"
RULE_UPDATE = "init/update includes only init/lib headers and its own"
RULE_INITRAMFS = "init/initramfs includes only init/lib headers and its own"
RULE_CYCLE = "no include cycles among the repo's headers"
RULE_SIZE = "each program's header, each lib header and each of containerd-lite's is under %d lines" % MAX_LINES
RULE_FOUND = "a quoted include names a file of the tree"
RULE_CL = "containerd-lite's folders are layers: runtime/ < net/ < image/ < cli/"
RULE_CL_PUBLIC = "of containerd-lite, init/ includes only containerd-lite.h"
CL_LAYERS = ("runtime", "net", "image", "cli")


def c_files(root):
    """The C sources and headers of the tree: git's list in a checkout, else a walk."""
    try:
        out = subprocess.run(["git", "-C", root, "ls-files", "*.c", "*.h"], check=True,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout
        files = [f for f in out.splitlines() if os.path.exists(os.path.join(root, f))]
        if files:
            return sorted(files)
    except (OSError, subprocess.CalledProcessError):
        pass
    found = []
    for d, _, names in os.walk(root):
        found += [os.path.relpath(os.path.join(d, n), root) for n in names
                  if n.endswith((".c", ".h"))]
    return sorted(found)


def resolve(root, src, kind, name):
    """The tree-relative path an include names, or None (a system header)."""
    cands = [os.path.join(os.path.dirname(src), name)] if kind == '"' else []
    cands += [os.path.join(d, name) for d in INCLUDE_DIRS]
    for c in cands:
        c = os.path.normpath(c)
        if not c.startswith("..") and os.path.isfile(os.path.join(root, c)):
            return c
    return None


def includes(root, files):
    """{file: [(line number, spelled include, resolved path or None, quoted)]}."""
    out = {}
    for f in files:
        with open(os.path.join(root, f), errors="replace") as fh:
            lines = fh.read().splitlines()
        out[f] = [(n, m.group(0).split("include", 1)[1].strip(),
                   resolve(root, f, m.group(1), m.group(2)), m.group(1) == '"')
                  for n, m in ((n, INCLUDE.match(l)) for n, l in enumerate(lines, 1)) if m]
    return out


def under(path, d):
    return path.startswith(d + "/")


def resolved(f, incs, problems):
    """(where, path) of f's includes that name a file of the tree; a quoted one
    that names none is a problem."""
    for n, spelled, to, quoted in incs:
        where = "%s:%d: #include %s" % (f, n, spelled)
        if to is not None:
            yield where, to
        elif quoted:
            problems.append("%s: not found: %s" % (where, RULE_FOUND))


def check_edges(inc, problems):
    """Rules 1 to 3, 7 and unresolved quoted includes, include by include."""
    for f, incs in inc.items():
        if not under(f, "init"):
            continue
        for where, to in resolved(f, incs, problems):
            if under(f, "init/pid1") and under(to, "init/provision"):
                problems.append("%s is a header of init/provision: %s" % (where, RULE_SPLIT))
            if under(f, "init/provision") and under(to, "init/pid1"):
                problems.append("%s is a header of init/pid1: %s" % (where, RULE_SPLIT))
            if under(f, "init/lib") and not under(to, "init/lib"):
                problems.append("%s is %s: %s" % (where, to, RULE_LIB))
            if (under(f, "init/wispctl") and to != "init/lib/proto.h"
                    and not under(to, "init/wispctl") and not pulled_by_proto(inc, to)):
                problems.append("%s is %s: %s" % (where, to, RULE_WISPCTL))
            if under(f, "init/update") and not (under(to, "init/lib") or under(to, "init/update")):
                problems.append("%s is %s: %s" % (where, to, RULE_UPDATE))
            if under(f, "init/initramfs") and not (under(to, "init/lib") or under(to, "init/initramfs")):
                problems.append("%s is %s: %s" % (where, to, RULE_INITRAMFS))
            if under(to, "containerd-lite") and to != "containerd-lite/containerd-lite.h":
                problems.append("%s is %s: %s" % (where, to, RULE_CL_PUBLIC))


def pulled_by_proto(inc, header):
    """Whether init/lib/proto.h includes header, directly or through others."""
    seen, todo = set(), ["init/lib/proto.h"]
    while todo:
        h = todo.pop()
        for _, _, to, _ in inc.get(h, ()):
            if to and to not in seen:
                seen.add(to)
                todo.append(to)
    return header in seen


def cl_layer(path):
    """containerd-lite's layer of path: an index of CL_LAYERS, -1 for a file on top
    (containerd-lite.h), len(CL_LAYERS) for a folder not listed (above them all);
    None outside containerd-lite."""
    parts = path.split("/")
    if parts[0] != "containerd-lite":
        return None
    if len(parts) == 2:
        return -1
    return CL_LAYERS.index(parts[1]) if parts[1] in CL_LAYERS else len(CL_LAYERS)


def check_cl_layers(inc, problems):
    """Rule 6, and unresolved quoted includes in containerd-lite."""
    for f, incs in inc.items():
        mine = cl_layer(f)
        if mine is None:
            continue
        for where, to in resolved(f, incs, problems):
            theirs = cl_layer(to)
            if theirs is not None and theirs > max(mine, 0):
                problems.append("%s is %s: %s" % (where, to, RULE_CL))


def check_cycles(inc, problems):
    """Rule 4: a depth-first walk over header -> header edges; each cycle once."""
    graph = {f: [(n, to) for n, _, to, _ in incs if to and to.endswith(".h")]
             for f, incs in inc.items() if f.endswith(".h")}
    state, stack, reported = {}, [], set()

    def walk(h):
        state[h] = "open"
        stack.append(h)
        for n, to in graph.get(h, ()):
            if state.get(to) == "open":
                cycle = stack[stack.index(to):] + [to]
                key = frozenset(cycle)
                if key not in reported:
                    reported.add(key)
                    problems.append("%s:%d: #include of %s closes the cycle %s: %s"
                                    % (h, n, to, " -> ".join(cycle), RULE_CYCLE))
            elif to not in state:
                walk(to)
        stack.pop()
        state[h] = "done"

    for h in sorted(graph):
        if h not in state:
            walk(h)


def check_sizes(root, files, problems):
    """Rule 5."""
    for f in files:
        if f in PROGRAM_HEADERS or (f.endswith(".h") and (under(f, "init/lib")
                                                          or under(f, "containerd-lite"))):
            with open(os.path.join(root, f), errors="replace") as fh:
                n = len(fh.read().splitlines())
            if n >= MAX_LINES:
                problems.append("%s:%d: %d lines: %s" % (f, MAX_LINES, n, RULE_SIZE))


def check(root):
    """Every violation in the tree at root, one line each."""
    files = c_files(root)
    inc = includes(root, files)
    problems = []
    check_edges(inc, problems)
    check_cycles(inc, problems)
    check_cl_layers(inc, problems)
    check_sizes(root, files, problems)
    return problems


# --- self-test: each rule broken once, in trees made here ----------------------------------

GOOD = {
    "init/lib/base.h": "#include <stdio.h>\n",
    "init/lib/proto.h": '#include "base.h"\n',
    "init/lib/decl.h": '#include "base.h"\n',
    "init/pid1/pid1.h": '#include "../lib/decl.h"\n#include "../lib/proto.h"\n',
    "init/pid1/main.c": '#include "pid1.h"\n',
    "init/provision/parse/parse.h": '#include "../../lib/base.h"\n',
    "init/provision/provision.h": '#include "parse/parse.h"\n#include <lib/decl.h>\n',
    "init/provision/main.c": '#include "provision.h"\n',
    "init/provision/fw.c": '#include "provision.h"\n#include "containerd-lite.h"\n',
    "init/wispctl/wispctl.c": '#include "../lib/proto.h"\n#include "lib/base.h"\n#include <unistd.h>\n',
    "init/update/update.h": '#include "../lib/base.h"\n',
    "init/update/main.c": '#include "update.h"\n',
    "init/initramfs/initramfs.h": '#include "../lib/base.h"\n',
    "init/initramfs/main.c": '#include "initramfs.h"\n',
    "containerd-lite/containerd-lite.h": "#include <stdbool.h>\n",
    "containerd-lite/a.h": '#include "b.h"\n',
    "containerd-lite/b.h": "#include <string.h>\n",
    "containerd-lite/runtime/rt.h": '#include "../a.h"\n',
    "containerd-lite/net/net.h": '#include "../runtime/rt.h"\n',
    "containerd-lite/image/image.h": '#include "../net/net.h"\n',
    "containerd-lite/cli/main.c": '#include "../image/image.h"\n#include "../runtime/rt.h"\n',
}

BROKEN = [  # (change to GOOD, the rule its one problem names, the file:line it names)
    ({"init/pid1/main.c": '#include "pid1.h"\n#include "../provision/provision.h"\n'},
     RULE_SPLIT, "init/pid1/main.c:2:"),
    ({"init/provision/provision.h": '#include "parse/parse.h"\n#include "../pid1/pid1.h"\n'},
     RULE_SPLIT, "init/provision/provision.h:2:"),
    ({"init/provision/parse/parse.h": '#include "../../pid1/pid1.h"\n'},
     RULE_SPLIT, "init/provision/parse/parse.h:1:"),
    ({"init/lib/decl.h": '#include "base.h"\n#include "../provision/parse/parse.h"\n'},
     RULE_LIB, "init/lib/decl.h:2:"),
    ({"init/wispctl/wispctl.c": '#include "../lib/proto.h"\n#include <lib/decl.h>\n'},
     RULE_WISPCTL, "init/wispctl/wispctl.c:2:"),
    ({"init/update/main.c": '#include "update.h"\n#include "../lib/proto.h"\n'
                            '#include "../provision/provision.h"\n'},
     RULE_UPDATE, "init/update/main.c:3:"),
    ({"init/initramfs/main.c": '#include "initramfs.h"\n#include "../update/update.h"\n'},
     RULE_INITRAMFS, "init/initramfs/main.c:2:"),
    ({"containerd-lite/b.h": '#include "a.h"\n'}, RULE_CYCLE, "containerd-lite/b.h:1:"),
    ({"containerd-lite/runtime/x.c": '#include "rt.h"\n#include "../image/image.h"\n'},
     RULE_CL, "containerd-lite/runtime/x.c:2:"),
    ({"containerd-lite/net/x.c": '#include "../cli/cli.h"\n', "containerd-lite/cli/cli.h": ""},
     RULE_CL, "containerd-lite/net/x.c:1:"),
    ({"containerd-lite/image/x.c": '#include "nope.h"\n'}, RULE_FOUND, "containerd-lite/image/x.c:1:"),
    ({"init/lib/base.h": "int x;\n" * MAX_LINES}, RULE_SIZE, "init/lib/base.h:400:"),
    ({"init/pid1/pid1.h": "int x;\n" * (MAX_LINES + 5)}, RULE_SIZE, "init/pid1/pid1.h:400:"),
    ({"containerd-lite/net/net.h": '#include "../runtime/rt.h"\n' + "int x;\n" * MAX_LINES},
     RULE_SIZE, "containerd-lite/net/net.h:400:"),
    ({"init/pid1/main.c": '#include "pid1.h"\n#include "nope.h"\n'},
     RULE_FOUND, "init/pid1/main.c:2:"),
    ({"init/provision/fw.c": '#include "provision.h"\n#include "net/net.h"\n'},
     RULE_CL_PUBLIC, "init/provision/fw.c:2:"),
]


def make_tree(top, files):
    for path, text in files.items():
        os.makedirs(os.path.join(top, os.path.dirname(path)), exist_ok=True)
        with open(os.path.join(top, path), "w") as f:
            f.write(text)


def self_test():
    failures = 0
    for i, (change, rule, where) in enumerate([({}, None, None)] + BROKEN):
        with tempfile.TemporaryDirectory(prefix="check-includes-") as top:
            make_tree(top, dict(GOOD, **change))
            got = check(top)
        ok = (got == []) if rule is None else (
            len(got) == 1 and got[0].startswith(where) and got[0].endswith(rule))
        if not ok:
            failures += 1
            print("check_includes self-test %d: want %s, got %r"
                  % (i, "no problem" if rule is None else "%s ... %s" % (where, rule), got))
    print("check_includes self-test: %d trees, %d failures" % (len(BROKEN) + 1, failures))
    return 1 if failures else 0


def main(argv):
    if argv[1:2] == ["--self-test"]:
        return self_test()
    root = argv[2] if argv[1:2] == ["--root"] and len(argv) > 2 else "."
    problems = check(root)
    for p in problems:
        print(p)
    print("include-check: %d problem%s" % (len(problems), "" if len(problems) == 1 else "s"),
          file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
