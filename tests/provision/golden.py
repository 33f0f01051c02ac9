#!/usr/bin/env python3
"""Golden trees of provision (docs/provisioning.md, "Testing"), as Talos tests its
cloud parsers: for every case in DIR (golden/CASE/), copy CASE/root (the tree
before: /etc, a fake /sys, maybe none) to a temporary directory, run

    PROVISION --root TMP --seed CASE/seed    (or --safe, when CASE/safe exists)

and compare what it leaves with the case's expectation:
  CASE/tree.txt     every path of the tree after the run, its type and mode
                    (and a symlink's target)
  CASE/expected/    the content of every regular file of that tree
  CASE/console.txt  what provision printed
A case with boot2/ (boot2/seed, maybe boot2/etc) boots twice against the same STATE:
after the first run /run is emptied and /etc made again from CASE/root/etc (from
boot2/etc when there is one: an image update), as PID 1 does at every boot, /var
stays; then provision runs with boot2/seed. The expectation is the tree after
the second run, the console both runs'.
Run-dependent text is normalised first: the temporary root and the seed's path
become $ROOT and $SEED, "(12 ms)" becomes "(N ms)", a semaphore's "pid: ms" becomes
"PID: MS". Any difference (or an exit status other than 0) fails, with a diff.
WISP_GOLDEN_UPDATE=1 rewrites the expectations instead (review them in git diff).

  python3 tests/provision/golden.py build/host/provision tests/provision/golden
"""

import difflib
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile


def normalise(text, root, *seeds):
    text = text.replace(root, "$ROOT")
    for seed in seeds:
        text = text.replace(seed, "$SEED")
    text = re.sub(r"\(\d+ ms\)", "(N ms)", text)
    text = re.sub(r"(?m)^VERSION=.*$", "VERSION=*", text)
    return text


def snapshot(root, *seeds):
    """{relpath: (line of tree.txt, normalised content or None)} of the tree under root."""
    out = {}
    for dirpath, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(dirs + files):
            p = os.path.join(dirpath, name)
            rel = os.path.relpath(p, root)
            st = os.lstat(p)
            mode = "%04o" % stat.S_IMODE(st.st_mode)
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("l %s %s -> %s" % (mode, rel, os.readlink(p)), None)
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("d %s %s" % (mode, rel), None)
            else:
                with open(p, "rb") as f:
                    text = f.read().decode("utf-8", "backslashreplace")
                if "/sem/" in "/" + rel:
                    text = re.sub(r"^\d+: \d+$", "PID: MS", text.strip()) + "\n"
                out[rel] = ("f %s %s" % (mode, rel), normalise(text, root, *seeds))
    return out


def copy_tree(src, dst):
    shutil.copytree(src, dst, symlinks=True)
    # a checkout's modes follow its umask: the tree before starts from fixed ones
    for dirpath, dirs, files in os.walk(dst):
        for d in dirs:
            os.chmod(os.path.join(dirpath, d), 0o755)
        for f in files:
            os.chmod(os.path.join(dirpath, f), 0o644)


def run_case(prog, case, tmp):
    root = os.path.join(tmp, "root")
    seed = os.path.abspath(os.path.join(case, "seed"))
    if os.path.isdir(os.path.join(case, "root")):
        copy_tree(os.path.join(case, "root"), root)
    else:
        os.mkdir(root)
    mode = ["--safe"] if os.path.exists(os.path.join(case, "safe")) else ["--seed", seed]
    seeds = [seed]
    out, err = run(prog, root, mode)
    if err is None and os.path.isdir(os.path.join(case, "boot2")):
        reboot(case, root)
        seeds.append(os.path.abspath(os.path.join(case, "boot2", "seed")))
        out2, err = run(prog, root, ["--seed", seeds[-1]])
        out += out2 or ""
    if err is not None:
        return None, err
    return snapshot(root, *seeds), normalise(out, root, *seeds)


def run(prog, root, mode):
    """provision's stdout, and None or why the run failed."""
    r = subprocess.run([os.path.abspath(prog), "--root", root] + mode,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        return None, "exit status %d\n%s%s" % (r.returncode, r.stdout, r.stderr)
    if r.stderr:
        return None, "stderr (sanitizers?):\n" + r.stderr
    return r.stdout, None


def reboot(case, root):
    """What a reboot leaves of root: /run is a tmpfs again, /etc is ROOT's (boot2/etc,
    the image updated, else root/etc), /var (STATE) stays."""
    etc = os.path.join(case, "boot2", "etc")
    if not os.path.isdir(etc):
        etc = os.path.join(case, "root", "etc")
    for d in ("run", "etc"):
        shutil.rmtree(os.path.join(root, d), ignore_errors=True)
    copy_tree(etc, os.path.join(root, "etc"))


def expectation(case):
    exp = {}
    with open(os.path.join(case, "tree.txt")) as f:
        tree = f.read()
    for line in tree.splitlines():
        kind, _, rest = line.split(" ", 2)
        rel = rest.split(" -> ")[0]
        content = None
        if kind == "f":
            # newline="": a compiled file's length byte 13 is "\r", not a line's end
            with open(os.path.join(case, "expected", rel), encoding="utf-8", newline="") as f:
                content = f.read()
        exp[rel] = (line, content)
    with open(os.path.join(case, "console.txt")) as f:
        console = f.read()
    return exp, console


def write_expectation(case, got, console):
    shutil.rmtree(os.path.join(case, "expected"), ignore_errors=True)
    with open(os.path.join(case, "tree.txt"), "w") as f:
        f.write("".join(line + "\n" for line, _ in got.values()))
    for rel, (line, content) in got.items():
        if content is not None:
            p = os.path.join(case, "expected", rel)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, "w", encoding="utf-8", newline="") as f:
                f.write(content)
    with open(os.path.join(case, "console.txt"), "w") as f:
        f.write(console)


def diff(name, a, b):
    return "".join(difflib.unified_diff(a.splitlines(True), b.splitlines(True),
                                        "expected/" + name, "got/" + name))


def compare(case, got, console):
    exp, exp_console = expectation(case)
    out = diff("tree.txt", "".join(l + "\n" for l, _ in exp.values()),
               "".join(l + "\n" for l, _ in got.values()))
    for rel in sorted(set(exp) & set(got)):
        if exp[rel][1] != got[rel][1]:
            out += diff(rel, exp[rel][1] or "", got[rel][1] or "")
    return out + diff("console.txt", exp_console, console)


# argv the contract refuses (exit status 2, nothing done): a seed without a fake root
# would probe nothing yet write the host's tree; --root needs a datasource or --safe.
BAD_ARGS = [["--seed", "/nonexistent"], ["--root", "rel", "--seed", "/x"], ["--root", "/x"],
            ["--root", "/x", "--seed", "/y", "--safe"], ["--bogus"], ["--root"]]


def bad_args(prog):
    failed = 0
    for args in BAD_ARGS:
        r = subprocess.run([os.path.abspath(prog)] + args, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
        if r.returncode != 2 or "usage:" not in r.stderr:
            print("FAIL argv %s: status %d, %r" % (args, r.returncode, r.stderr))
            failed += 1
    return failed


def main():
    prog, top = sys.argv[1], sys.argv[2]
    update = os.environ.get("WISP_GOLDEN_UPDATE") == "1"
    cases = sorted(d for d in os.listdir(top) if os.path.isdir(os.path.join(top, d, "seed"))
                   or os.path.exists(os.path.join(top, d, "safe")))
    if not cases:
        print("provision-golden: no case in %s" % top, file=sys.stderr)
        return 1
    failed = bad_args(prog)
    for name in cases:
        case = os.path.join(top, name)
        with tempfile.TemporaryDirectory() as tmp:
            got, console = run_case(prog, case, tmp)
        if got is None:
            print("FAIL %s: %s" % (name, console))
            failed += 1
        elif update:
            write_expectation(case, got, console)
            print("updated %s" % name)
        elif not os.path.exists(os.path.join(case, "tree.txt")):
            print("FAIL %s: no expectation (WISP_GOLDEN_UPDATE=1 writes one)" % name)
            failed += 1
        else:
            d = compare(case, got, console)
            print("%s %s" % ("FAIL" if d else "ok  ", name))
            if d:
                print(d)
                failed += 1
    print("provision-golden: %d case%s, %d failed" % (len(cases), "" if len(cases) == 1 else "s",
                                                     failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
