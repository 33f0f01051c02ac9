"""The SSH server that provisioning starts when it writes authorized keys.

A NoCloud seed (Debian's `cloud-localds`) gives user alice an ed25519 key
made by the host's ssh-keygen; QEMU's user network forwards a host port to
the guest's port 22, and the host's OpenSSH client logs in. Checks: alice
runs `id` over SSH (with a locked password) and gets a pty, a password-only
attempt is refused, root is refused even with an authorized key, init
restarts a killed dropbear, the host key is kept in /var/lib/wisp/ssh and is
the same after a reboot (ssh-keyscan before and after); users' planted
links change nothing at the next boot's key writing (bob's ~/.ssh made a
symlink to /var/lib/cloud: refused with a warning; carol's authorized_keys
a hard link to a root file: replaced, the root file intact) and
fs.protected_hardlinks stops carol making such a link herself; a boot whose
user-data has a user but no key has no sshd unit and nothing listening on
port 22, and the host firewall (issue 13 point 5) keeps port 22 closed: a
listener started there by hand answers the guest, not the outside, while
2222, which its user-data opens (wisp.firewall.allow), does; its user-data
sets the containers' bridge subnet (wisp.bridge.subnet: /run/wisp/bridge). Three boots in
all.
"""

import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from wispvm import VM, check, free_port, host_port_text, poll, run_test, wait_sh  # noqa: E402

IMAGE = os.path.join(os.environ.get("B", "build"), "wisp.img")
PROVISIONED = r"cloud-init: applied"
SSH_READY = 120  # from the shell's answer to sshd's port open: DHCP under TCG
SSH_RUN = 60  # one ssh run: its connection (ConnectTimeout 20), the host key made, the command

USER_DATA = """\
#cloud-config
users:
  - name: alice
    shell: /bin/sh
    ssh_authorized_keys:
      - %(key)s
  - name: bob
    ssh_authorized_keys: [%(key)s]
  - name: carol
    ssh_authorized_keys: [%(key)s]
"""

NO_KEYS = """\
#cloud-config
users:
  - name: eve
wisp:
  firewall:
    allow: [2222]
  bridge:
    subnet: 10.66.0.0/24
"""


def seed(tmp, name, user_data):
    ud = os.path.join(tmp, name + ".user-data")
    md = os.path.join(tmp, name + ".meta-data")
    with open(ud, "w") as f:
        f.write(user_data)
    with open(md, "w") as f:
        f.write("instance-id: iid-%s\nlocal-hostname: %s\n" % (name, name))
    out = os.path.join(tmp, name + ".iso")
    subprocess.run(["cloud-localds", out, ud, md], check=True)
    return out


def ssh_vm(name, iso, port, port2222=None):
    """A VM of the seed ISO whose port 22 is the host's PORT (and 2222 PORT2222)."""
    nic = "user,hostfwd=tcp:127.0.0.1:%d-:22" % port
    if port2222:
        nic += ",hostfwd=tcp:127.0.0.1:%d-:2222" % port2222
    return VM(IMAGE, name=name, extra=["-cdrom", iso], nic=nic)


class Client:
    """The host's OpenSSH client against one forwarded port."""

    def __init__(self, tmp, port):
        self.port = port
        self.key = os.path.join(tmp, "id_ed25519")
        self.known = os.path.join(tmp, "known_hosts")
        if not os.path.exists(self.key):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "wisp-test",
                            "-f", self.key], check=True)

    def pubkey(self):
        with open(self.key + ".pub") as f:
            return f.read().strip()

    def ssh(self, user, cmd, *opts):
        args = ["ssh", "-p", str(self.port), "-o", "BatchMode=yes",
                "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=" + self.known,
                "-o", "ConnectTimeout=20", "-o", "IdentitiesOnly=yes", "-o", "LogLevel=ERROR"]
        args += list(opts) or ["-i", self.key]
        try:
            p = subprocess.run(args + ["%s@127.0.0.1" % user, cmd], stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               timeout=SSH_RUN)
        except subprocess.TimeoutExpired:  # the check that called it fails, naming this
            return None, "ssh %s@: no end within %d s" % (user, SSH_RUN)
        return p.returncode, p.stdout.decode(errors="replace")

    def host_key(self):
        """The guest's ed25519 host key as ssh-keyscan sees it ("" if none)."""
        p = subprocess.run(["ssh-keyscan", "-p", str(self.port), "-t", "ed25519", "-T", "20",
                            "127.0.0.1"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                           timeout=60)
        m = re.search(r"ssh-ed25519 (\S+)", p.stdout.decode())
        return m.group(1) if m else ""


def listeners_22(text):
    """Sockets in LISTEN (0A) on local port 22 (0x0016), from /proc/net/tcp or tcp6 lines."""
    return [line for line in text.splitlines()
            if re.match(r"\s*\d+: [0-9A-F]+:0016 [0-9A-F]+:[0-9A-F]+ 0A ", line)]


def listening_on_22(vm):
    """Sockets in LISTEN on port 22, from /proc/net/tcp and tcp6."""
    return listeners_22(vm.sh("cat /proc/net/tcp /proc/net/tcp6")[1])


def ssh_ready(vm, what, restarts=0):
    """Wait (a check) until the host's ssh can get in: the service sshd
    running (after RESTARTS restarts), listening on port 22, and eth0 has
    its DHCP address (QEMU's user network forwards the host's port to
    10.0.2.15). Then one ssh run answers or the test fails."""
    state = r"(?m)^kind:\s+service\nstate:\s+running$"
    count = r"(?m)^restarts: %d$" % restarts
    wait_sh(vm, "wispctl status sshd; ip -4 addr show dev eth0; cat /proc/net/tcp",
            lambda rc, o: re.search(state, o) and re.search(count, o)
            and "inet 10.0.2.15/" in o and listeners_22(o), what, SSH_READY)


def with_keys(tmp):
    port = free_port()
    client = Client(tmp, port)
    with ssh_vm("ssh-keys", seed(tmp, "keys", USER_DATA % {"key": client.pubkey()}), port) as vm:
        vm.boot(PROVISIONED)
        # the unit may still be starting when the shell answers: waited for
        ssh_ready(vm, "sshd unit running, listening on port 22; eth0 has 10.0.2.15")
        rc, out = client.ssh("alice", "id; echo PATH=$PATH")
        check(rc == 0 and re.search(r"uid=1000\(alice\) gid=1000\(alice\)", out),
              "alice logs in with her key and runs id: %s" % (out.splitlines() or [""])[0])
        check("PATH=/usr/sbin:/usr/bin:/sbin:/bin" in out, "her PATH is the units' PATH")
        check(listening_on_22(vm), "the guest listens on port 22 (/proc/net/tcp)")
        # init's -999 stays the host services'; a login is the OOM killer's like any process
        rc, out = client.ssh("alice", "cat /proc/self/oom_score_adj; "
                             "echo -999 >/proc/self/oom_score_adj || echo refused")
        check(rc == 0 and out.split()[:1] == ["0"] and "refused" in out,
              "a login's oom_score_adj is 0 and it cannot lower it: %r" % out.strip())
        rc, out = vm.sh("grep ^alice: /etc/shadow")
        check(re.search(r"(?m)^alice:!", out), "... although her password is locked")
        rc, out = client.ssh("alice", "id", "-o", "PubkeyAuthentication=no",
                             "-o", "PreferredAuthentications=password,keyboard-interactive")
        check(rc != 0 and "Permission denied (publickey)" in out,
              "password-only attempt refused; only publickey offered")
        # /root is read-only on ROOT: a tmpfs over it gives root alice's key
        vm.sh("mount -t tmpfs -o mode=0700 root /root && mkdir -m 700 /root/.ssh && "
              "cp /home/alice/.ssh/authorized_keys /root/.ssh/")
        rc, out = client.ssh("root", "id")
        check(rc != 0 and "uid=0" not in out, "root refused even with an authorized key")
        vm.sh("umount /root")
        rc, out = vm.sh("cat /var/log/wisp/sshd.log")
        check("Pubkey auth succeeded for 'alice'" in out and "root login rejected" in out.lower(),
              "dropbear logs to its unit log")
        first = client.host_key()
        check(first, "host key scanned: ssh-ed25519 ...%s" % first[-16:])
        rc, out = vm.sh("ls /var/lib/wisp/ssh")
        check("dropbear_ed25519_host_key" in out, "host key kept in /var/lib/wisp/ssh")
        rc, out = client.ssh("alice", "readlink /proc/self/fd/0", "-tt", "-i", client.key)
        check(rc == 0 and "/dev/pts/" in out, "a terminal session gets a pty: %s" % out.strip())
        # supervised: killed, it is restarted and takes logins again
        vm.sh("kill $(cat /run/dropbear.pid)")
        ssh_ready(vm, "dropbear killed: init restarted it (restarts 1), port 22 open again",
                  restarts=1)
        rc, out = client.ssh("alice", "echo back")
        check(rc == 0 and "back" in out, "dropbear killed: init restarts it, logins work")
        rc, out = vm.sh("wispctl ps")
        check(re.search(r"(?m)^sshd\s+service\s+running\s+\d+\s+\S+\s+1\s", out),
              "wispctl ps counts one restart of sshd")
        before = plant(vm, client)
        vm.send("wispctl reboot\n")
        vm.boot(PROVISIONED)
        ssh_ready(vm, "after the reboot: sshd listens on port 22, eth0 has 10.0.2.15")
        rc, out = client.ssh("alice", "echo again")
        check(rc == 0 and "again" in out, "alice logs in after a reboot")
        check(client.host_key() == first, "same host key after the reboot")
        planted_unchanged(vm, client, before)


# Root's directory and file that bob and carol aim init's key writing at.
TARGETS = "stat -c '%n %u:%g %a %i' /var/lib/cloud /var/wisp-secret; md5sum /var/wisp-secret"


def plant(vm, client):
    """Users (and, for the link a user can no longer make, root) plant links for init.

    Hard links are made through /var/home: /home is a bind mount of it, and
    link(2) does not cross mount points even on one file system."""
    rc, out = client.ssh("bob", "rm -rf ~/.ssh && ln -s /var/lib/cloud ~/.ssh && echo planted")
    check(rc == 0 and "planted" in out, "bob replaced his ~/.ssh by a symlink to /var/lib/cloud")
    rc, out = client.ssh("carol", "ln /var/lib/cloud/data/instance-id /var/home/carol/.ssh/x; echo rc=$?")
    check("Operation not permitted" in out and "rc=1" in out,
          "fs.protected_hardlinks: carol cannot hard-link a file of root's: %r" % out.strip())
    vm.sh("printf 'root only\\n' > /var/wisp-secret && chmod 600 /var/wisp-secret && "
          "ln -f /var/wisp-secret /var/home/carol/.ssh/authorized_keys")
    rc, out = vm.sh("stat -c %h /var/wisp-secret; " + TARGETS)
    check(re.search(r"(?m)^2$", out), "carol's authorized_keys is a hard link to /var/wisp-secret")
    return re.findall(r"(?m)^(/var/\S+ \d+:\d+ \d+ \d+|[0-9a-f]{32} .*)$", out)


def planted_unchanged(vm, client, before):
    """At the next boot init rewrote the keys: nothing of root's changed; bob was refused."""
    rc, out = vm.sh(TARGETS + "; ls /var/lib/cloud")
    after = re.findall(r"(?m)^(/var/\S+ \d+:\d+ \d+ \d+|[0-9a-f]{32} .*)$", out)
    check(len(before) == 3 and after == before,
          "/var/lib/cloud and /var/wisp-secret: owner, mode, inode, content unchanged: %r" % after)
    check("authorized_keys" not in out, "no authorized_keys written into /var/lib/cloud")
    check(re.search(r"cloud-config: user bob: keys not written: \.ssh: a symlink or not a "
                    r"directory", vm.buf), "a warning names bob and his symlink")
    rc, out = client.ssh("carol", "stat -c '%U %a %h' ~/.ssh/authorized_keys")
    check(rc == 0 and "carol 600 1" in out,
          "carol's link was replaced by her own file (she logs in): %r" % out.strip())


def without_keys(tmp):
    port, port2222 = free_port(), free_port()
    with ssh_vm("ssh-none", seed(tmp, "none", NO_KEYS), port, port2222) as vm:
        vm.boot(PROVISIONED)
        rc, out = vm.sh("grep -c ^eve: /etc/passwd; wispctl ps")
        check(re.search(r"(?m)^1$", out) and not re.search(r"(?m)^sshd\s", out),
              "user without keys: no sshd unit")
        check(not listening_on_22(vm), "nothing listens on port 22")
        rc, out = vm.sh("pidof dropbear; echo pids=$?")
        check("pids=1" in out, "no dropbear process")
        # The host firewall opens 22 only with an sshd: a listener started by
        # hand answers the guest itself, never the outside (dropped).
        vm.sh("(while true; do echo hello-22 | nc -l -p 22; done) >/dev/null 2>&1 & true")
        wait_sh(vm, "echo | nc 127.0.0.1 22", lambda rc, o: "hello-22" in o,
                "a listener on 22 answers inside the guest", 60)
        got = host_port_text(port)
        check("hello-22" not in got, "but not from outside: no sshd, no open port 22 (%r)" % got)
        # user-data's wisp.firewall.allow opens 2222: a listener there answers the outside
        vm.sh("(while true; do echo hello-2222 | nc -l -p 2222; done) >/dev/null 2>&1 & true")
        poll(lambda: host_port_text(port2222), lambda got: "hello-2222" in got,
             "2222, opened by user-data's wisp.firewall.allow, answering from outside", 60)
        print("  ok: 2222, opened by user-data's wisp.firewall.allow, answers from outside",
              flush=True)
        rc, out = vm.sh("wispctl config | grep firewall")
        check("firewall: closed but for 2222/tcp" in out and "22/tcp," not in out,
              "wispctl config: %r" % out.strip())
        # user-data's wisp.bridge.subnet: this boot's, for containerd-lite network (net.py
        # shows the runtime taking it)
        rc, out = vm.sh("cat /run/wisp/bridge")
        check(out.strip() == "subnet 10.66.0.0/24", "/run/wisp/bridge from user-data: %r" % out)


def main():
    with tempfile.TemporaryDirectory(prefix="wisp-ssh-", ignore_cleanup_errors=True) as tmp:
        with_keys(tmp)
        without_keys(tmp)


if __name__ == "__main__":
    sys.exit(run_test("ssh", main))
