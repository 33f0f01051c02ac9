#!/usr/bin/env python3
"""The default seccomp profile of `containerd-lite spec` against moby's
(make cl-test), as root.

1. Syscall by syscall: moby's profiles/seccomp/default.json, from the
   docker.io source package Debian 12 ships (pinned in
   rootfs/toolchain/sources.pin, fetched with fetch-source.sh --file, with
   Debian's patches), is evaluated as dockerd does (profiles/seccomp/
   seccomp_linux.go, setupSeccomp) for amd64, Docker's 14 default
   capabilities and Wisp's kernel; every syscall's rules (allow, allow on
   argument conditions, errno) must be the same in `spec`'s profile, but
   for the differences listed in INTENDED (each with its reason), which
   docs/containerd-lite.md's seccomp table must list too. An INTENDED
   entry that no longer matches fails as well.
2. For real: a static probe (seccomp_probe.c) runs as the only program of
   a container of `spec`'s bundle and calls io_uring, keyrings, bpf, perf,
   namespaces, mount, ptrace, AF_VSOCK/AF_ALG sockets...: each must fail
   with EPERM, and with EDOM when only defaultErrnoRet is changed to 33
   (so the filter refused it, not a missing capability); clone3 gets
   ENOSYS; the ordinary calls work.

Prints ok/FAIL per check; exits 1 on any failure. A missing prerequisite
(the source package, gcc's static libc) is a failure.
"""
import copy
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
sys.path.append(os.path.join(HERE, "..", "system"))  # after HERE: tests/system has a run.py too
import run as cl  # noqa: E402  (check, sh, Runtime, make_bundle, CL)
from harness import remove_work  # noqa: E402
from hostroot import main_as_root  # noqa: E402

B = os.path.abspath(os.environ.get("B", os.path.join(ROOT, "build")))
MOBY_FILE = "engine/profiles/seccomp/default.json"
DOC = os.path.join(ROOT, "docs", "containerd-lite.md")

# Docker's default capability set (moby oci/caps/defaults.go), the one the
# includes/excludes of default.json are evaluated against.
DOCKER_CAPS = ["CAP_" + c for c in (
    "CHOWN DAC_OVERRIDE FSETID FOWNER MKNOD NET_RAW SETGID SETUID SETFCAP SETPCAP "
    "NET_BIND_SERVICE SYS_CHROOT KILL AUDIT_WRITE").split()]
ARCH = "amd64"  # dockerd's goToNative[runtime.GOARCH]
EPERM, ENOSYS, EDOM = 1, 38, 33

# Every difference between moby's profile (as evaluated above) and Wisp's,
# by syscall: (moby's rules, Wisp's rules, why). The rules are written as
# by_syscall() writes them ("deny": no rule, the default EPERM).
INTENDED = {
    # moby#46762 (moby 25.0) and containerd (a48ddf4a) took them out: io_uring is
    # a second syscall interface the filter cannot see into, and the source
    # of a run of kernel escapes (Google turned it off on ChromeOS, Android
    # and its servers). Debian 12's moby 20.10 still allows them.
    "io_uring_setup": ("allow", "deny", "io_uring: a syscall interface seccomp cannot filter; "
                       "many kernel escapes; moby denies it since 25.0 (moby#46762)"),
    "io_uring_enter": ("allow", "deny", "as io_uring_setup"),
    "io_uring_register": ("allow", "deny", "as io_uring_setup"),
    # moby allows ptrace on kernels >= 4.8 (where seccomp rechecks after a
    # tracer changed a syscall). Wisp runs services, not debug sessions; a
    # process tracing its siblings is a lateral move, and ptrace has a
    # record of local root bugs (CVE-2019-13272). A container that needs
    # strace or gdb gets a profile of its own.
    "ptrace": ("allow", "deny", "services need no tracer; ptrace's record of local root bugs "
               "(CVE-2019-13272); a debugging container brings its own profile"),
    # moby 24.0 (moby#44562) denied AF_VSOCK, moby 29 (moby#52494) AF_ALG
    # too: Wisp has today's moby rules.
    "socket": ("allow", "allow if arg0 < 38 or allow if arg0 == 39 or allow if arg0 > 40",
               "AF_VSOCK (40) reaches the hypervisor, as moby >= 24.0; AF_ALG (38) is the "
               "kernel crypto API of CVE-2026-31431 (page-cache write), as moby since 2026"),
    # moby 25.0 allows it (moby#45837): it only names a file by a handle;
    # open_by_handle_at, which opens one, needs CAP_DAC_READ_SEARCH and
    # stays denied.
    "name_to_handle_at": ("deny", "allow", "allowed by moby >= 25.0: it only reads a handle; "
                          "open_by_handle_at stays denied"),
    # moby 24.0 allows them (moby#43490): memory protection keys of the
    # caller's own memory.
    "pkey_alloc": ("deny", "allow", "allowed by moby >= 24.0: protection keys of the "
                   "process's own memory"),
    "pkey_free": ("deny", "allow", "as pkey_alloc"),
    "pkey_mprotect": ("deny", "allow", "as pkey_alloc"),
}

# Denied by Wisp whatever moby does (issue 10's escape list): a change of
# defspec.c that lets one through fails here before any comparison.
MUST_DENY = ["io_uring_setup", "io_uring_enter", "io_uring_register", "keyctl", "add_key",
             "request_key", "bpf", "perf_event_open", "userfaultfd", "unshare", "setns",
             "mount", "umount2", "pivot_root", "ptrace", "kexec_load", "init_module",
             "finit_module", "open_by_handle_at", "fsopen", "move_mount", "open_tree"]


# --- the two profiles ----------------------------------------------------------


def fetch_moby():
    """Path of moby's default.json; fetch-source.sh downloads it once."""
    r = subprocess.run([os.path.join(ROOT, "rootfs", "toolchain", "fetch-source.sh"),
                        "--file", MOBY_FILE, "docker.io"],
                       env=dict(os.environ, B=B), capture_output=True, text=True, timeout=600)
    path = r.stdout.strip().splitlines()[-1] if r.stdout.strip() else ""
    if not cl.check("moby's default.json fetched (docker.io source package)",
                    r.returncode == 0 and os.path.isfile(path), r.stderr.strip()):
        return None
    return path


def wisp_kernel():
    """(major, minor) of the kernel Wisp builds: kernel-config/kernel.mk's
    linux-source-X.Y package. minKernel conditions are evaluated for it."""
    with open(os.path.join(ROOT, "kernel-config", "kernel.mk")) as f:
        m = re.search(r"^KERNEL_PKG\s*:=\s*linux-source-(\d+)\.(\d+)\s*$", f.read(), re.M)
    return (int(m.group(1)), int(m.group(2))) if m else None


def kver(text):
    return tuple(int(x) for x in text.split(".")[:2])


def moby_applies(call, kernel):
    """setupSeccomp's filter of one syscalls[] entry, in its order."""
    inc, exc = call.get("includes") or {}, call.get("excludes") or {}
    if ARCH in (exc.get("arches") or []):
        return False
    if any(c in DOCKER_CAPS for c in exc.get("caps") or []):
        return False
    if exc.get("minKernel") and kernel >= kver(exc["minKernel"]):
        return False
    if inc.get("arches") and ARCH not in inc["arches"]:
        return False
    if any(c not in DOCKER_CAPS for c in inc.get("caps") or []):
        return False
    if inc.get("minKernel") and kernel < kver(inc["minKernel"]):
        return False
    return True


def moby_profile(doc, kernel):
    """The OCI linux.seccomp dockerd would hand runc for amd64."""
    arches = []
    for a in doc.get("archMap") or []:
        if a["architecture"] == "SCMP_ARCH_X86_64":
            arches = [a["architecture"]] + a.get("subArchitectures", [])
    calls = []
    for call in doc["syscalls"]:
        if moby_applies(call, kernel):
            c = {k: v for k, v in call.items() if k in ("names", "action", "errnoRet", "args")}
            if "name" in call:
                c["names"] = [call["name"]]
            calls.append(c)
    return {"defaultAction": doc["defaultAction"], "defaultErrnoRet": doc.get("defaultErrnoRet"),
            "architectures": arches, "syscalls": calls}


OPS = {"SCMP_CMP_EQ": "==", "SCMP_CMP_NE": "!=", "SCMP_CMP_LT": "<", "SCMP_CMP_LE": "<=",
       "SCMP_CMP_GT": ">", "SCMP_CMP_GE": ">="}


def render_arg(a):
    if a["op"] == "SCMP_CMP_MASKED_EQ":
        return f"arg{a['index']} & {a['value']:#x} == {a.get('valueTwo', 0):#x}"
    return f"arg{a['index']} {OPS.get(a['op'], a['op'])} {a['value']}"


def render_rule(rule):
    """One rule as text. An ERRNO without errnoRet is EPERM (runc and
    libseccomp's default), so both spellings compare equal."""
    act = rule["action"]
    if act == "SCMP_ACT_ALLOW":
        text = "allow"
    elif act == "SCMP_ACT_ERRNO":
        text = f"errno {rule.get('errnoRet') or EPERM}"
    else:
        text = act
    args = rule.get("args") or []
    return text + (" if " + " and ".join(render_arg(a) for a in args) if args else "")


def by_syscall(profile):
    """syscall -> its rules as one text; syscalls without a rule get the
    default action, written "deny" when it is ERRNO EPERM."""
    rules = {}
    for r in profile["syscalls"]:
        for n in r["names"]:
            rules.setdefault(n, set()).add(render_rule(r))
    return {n: " or ".join(sorted(v)) for n, v in rules.items()}


def rules_of(table, name):
    return table.get(name, "deny")


def doc_names():
    """Syscalls named in the first column of docs/containerd-lite.md's
    seccomp difference table (rows starting with | `name` |)."""
    with open(DOC) as f:
        text = f.read()
    m = re.search(r"^## Seccomp profile\n(.*?)(?=^## )", text, re.M | re.S)
    if not m:
        return None
    names = set()
    for line in m.group(1).splitlines():
        row = re.match(r"^\|\s*`([a-z0-9_]+)`\s*\|", line)
        if row:
            names.add(row.group(1))
    return names


def compare(wisp, moby):
    """Check 1: the profiles, syscall by syscall."""
    check = cl.check
    check("seccomp vs moby: default action", (wisp["defaultAction"], wisp.get("defaultErrnoRet") or EPERM)
          == (moby["defaultAction"], moby.get("defaultErrnoRet") or EPERM),
          f"{wisp['defaultAction']}/{wisp.get('defaultErrnoRet')} vs "
          f"{moby['defaultAction']}/{moby.get('defaultErrnoRet')}")
    check("seccomp vs moby: architectures (amd64 and its sub-architectures)",
          sorted(wisp.get("architectures", [])) == sorted(moby["architectures"]),
          f"{wisp.get('architectures')} vs {moby['architectures']}")
    w, m = by_syscall(wisp), by_syscall(moby)
    check("seccomp vs moby: moby's profile evaluated (over 300 syscalls allowed)",
          sum(1 for v in m.values() if v == "allow") > 300, len(m))
    unlisted, stale = [], []
    for name in sorted(set(w) | set(m)):
        pair = (rules_of(m, name), rules_of(w, name))
        want = INTENDED.get(name)
        if pair[0] != pair[1] and (not want or want[:2] != pair):
            unlisted.append(f"{name}: moby {pair[0]!r}, Wisp {pair[1]!r}")
    for name, want in INTENDED.items():
        if (rules_of(m, name), rules_of(w, name)) != want[:2]:
            stale.append(f"{name}: listed as moby {want[0]!r}, Wisp {want[1]!r}; "
                         f"now moby {rules_of(m, name)!r}, Wisp {rules_of(w, name)!r}")
    check(f"seccomp vs moby: no difference but the {len(INTENDED)} intended ones",
          not unlisted, "; ".join(unlisted))
    check("seccomp vs moby: every intended difference is still one", not stale, "; ".join(stale))
    allowed = [n for n in MUST_DENY if rules_of(w, n) != "deny"]
    check("seccomp: io_uring, keyrings, bpf, perf, namespaces, mount, ptrace... denied",
          not allowed, allowed)
    listed = doc_names()
    check("docs/containerd-lite.md: the seccomp table lists exactly the intended differences",
          listed == set(INTENDED), listed if listed is None else
          f"missing {sorted(set(INTENDED) - listed)}, extra {sorted(listed - set(INTENDED))}")


# --- the profile at work ---------------------------------------------------------

# What the probe must print per call: "ok", "denied" (the filter's errno),
# "allowed" (any answer but the filter's errno: the kernel's own refusal of
# a bad argument is fine), or an exact "errno N".
EXPECT = {
    "getpid": "ok", "fork": "ok", "socket_inet": "ok", "socket_unix": "ok",
    "personality_query": "ok", "name_to_handle_at": "allowed", "pkey_alloc": "allowed",
    "io_uring_setup": "denied", "io_uring_enter": "denied", "io_uring_register": "denied",
    "keyctl": "denied", "add_key": "denied", "bpf": "denied", "perf_event_open": "denied",
    "userfaultfd": "denied", "unshare_user": "denied", "unshare_mount": "denied",
    "setns": "denied", "clone_newuser": "denied", "clone3": f"errno {ENOSYS}",
    "mount": "denied", "umount2": "denied", "pivot_root": "denied", "ptrace": "denied",
    "socket_vsock": "denied", "socket_alg": "denied", "personality_rie": "denied",
    "init_module": "denied", "open_by_handle_at": "denied",
}


def build_probe(top):
    """The probe, static, alone in a rootfs with the directories the
    default mounts need."""
    rootfs = os.path.join(top, "rootfs")
    for d in ("proc", "sys", "dev", "tmp", "mnt"):
        os.makedirs(os.path.join(rootfs, d))
    out = os.path.join(rootfs, "probe")
    r = cl.sh("gcc", "-static", "-O2", "-Wall", "-Wextra", "-Werror", "-o", out,
              os.path.join(HERE, "seccomp_probe.c"))
    cl.check("seccomp probe: built static (gcc -static)", r.returncode == 0, r.stderr.strip())
    return r.returncode == 0


def run_probe(rt, top, base, label, errno_ret):
    c = copy.deepcopy(base)
    c["process"]["args"] = ["/probe"]
    c["root"]["path"] = os.path.join(top, "rootfs")
    c["linux"]["seccomp"]["defaultErrnoRet"] = errno_ret
    name = f"probe-{errno_ret}"
    r = rt("run", "--bundle", cl.make_bundle(top, name, c), name)
    cl.check(f"seccomp at work ({label}): the probe ran to its end", r.returncode == 0,
             (r.stdout + r.stderr).strip())
    seen = dict(line.split(" ", 1) for line in r.stdout.splitlines() if " " in line)
    for call, want in EXPECT.items():
        got = seen.get(call)
        if want == "denied":
            ok = got == f"errno {errno_ret}"
        elif want == "allowed":
            ok = got is not None and got != "crashed" and got != f"errno {errno_ret}"
        else:
            ok = got == want
        cl.check(f"seccomp at work ({label}): {call}: {want}", ok, got)


def behaviour(base, top):
    """Check 2: the default profile, loaded by containerd-lite."""
    if not build_probe(top):
        return
    rt = cl.Runtime("containerd-lite", cl.CL, os.path.join(top, "cl-root"))
    run_probe(rt, top, base, "spec's profile: EPERM", EPERM)
    run_probe(rt, top, base, "spec's profile with defaultErrnoRet EDOM", EDOM)


# --- main -------------------------------------------------------------------------


def inner():
    if cl.sh("stat", "-f", "-c", "%T", "/sys/fs/cgroup").stdout.strip() != "cgroup2fs":
        r = cl.sh("mount", "-t", "cgroup2", "none", "/sys/fs/cgroup")
        if not cl.check("private cgroup2 on /sys/fs/cgroup", r.returncode == 0, r.stderr.strip()):
            return 1
    top = tempfile.mkdtemp(prefix="cl-seccomp.")
    try:
        r = cl.sh(cl.CL, "spec", "--bundle", top)
        if cl.check("spec: writes config.json", r.returncode == 0, r.stderr.strip()):
            with open(os.path.join(top, "config.json")) as f:
                base = json.load(f)
            os.unlink(os.path.join(top, "config.json"))
            cl.check("spec: Docker's default capabilities (moby's profile is evaluated for them)",
                     sorted(base["process"]["capabilities"]["bounding"]) == sorted(DOCKER_CAPS))
            path, kernel = fetch_moby(), wisp_kernel()
            cl.check("Wisp's kernel version (kernel-config/kernel.mk)", kernel is not None)
            if path and kernel:
                with open(path) as f:
                    compare(base["linux"]["seccomp"], moby_profile(json.load(f), kernel))
            behaviour(base, top)
    finally:
        remove_work(top)
    return cl.check.status("cl-test seccomp")


if __name__ == "__main__":
    sys.exit(main_as_root("cl-test seccomp", inner, needs=(cl.CL,), hint="make containerd-lite"))
