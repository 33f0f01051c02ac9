"""Provisioning from cloud-init style user-data (issue 5).

Seeds are made by Debian's real `cloud-localds` (iso9660 on an IDE CD-ROM,
and `-f vfat` on a second virtio disk); a config drive by genisoimage
-V config-2. Checks: host name, a user with its authorized key in its
home, write_files (plain, base64, both permission forms, owner), bootcmd
at every boot, runcmd once per instance (not again after a reboot, again
for a new instance-id), a service declared under `wisp:` running, the
config drive's uuid and hostname (and its WISP-IMAGES/ noted for
image-import, whose bad archive fails the unit), a MIME multipart seed (write-mime-multipart),
a malformed user_data that still boots, and a boot without any datasource
that does not wait for one. The first instance's user-data is a gzip-compressed
MIME multipart with per-boot and per-once scripts, a gzip+base64 file, ntp,
timezone (America/New_York, from ROOT's table), final_message and mounts entries for two ext4 disks made here
(one in alice's home, which she turns into a symlink to a directory of root's: the
next boot mounts nothing there and says why); the
config drive's power_state powers the last VM off. The wisp: units are
0600 in a 0700 /run/wisp/units. A seed whose user-data is one byte over
1 MiB and whose instance-id is ".." gets both refused with a warning.
"""

import base64
import gzip
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from wispvm import BANNER, BOOT_TIMEOUT, VM, check, run_test, wait_sh  # noqa: E402

IMAGE = os.path.join(os.environ.get("B", "build"), "wisp.img")
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTheWispTest test@host"

USER_DATA = """\
#cloud-config
hostname: seeded
users:
  - name: alice
    gecos: Alice Example
    groups: [wheel, tty]
    shell: /bin/sh
    ssh_authorized_keys:
      - %(key)s
write_files:
  - path: /var/lib/demo/plain.txt
    content: |
      plain text
    permissions: '0640'
    owner: alice:alice
    defer: true
  - path: /var/lib/demo/tool
    content: |
      #!/bin/sh
    permissions: '2755'
    owner: alice:alice
    defer: true
  - path: /etc/demo/b64.txt
    encoding: b64
    content: %(b64)s
    permissions: 0600
  - path: /var/lib/demo/gz.txt
    encoding: gzip+base64
    content: %(gz)s
bootcmd:
  - echo "boot $INSTANCE_ID" >> /var/bootcmd.log
runcmd:
  - [sh, -c, 'echo "run $(cat /var/lib/cloud/data/instance-id)" >> /var/runcmd.log']
  - echo second >> /var/runcmd2.log
wisp:
  services:
    - name: ud-ticker
      command: 'while :; do sleep 5; done'
      restart: always
    - name: hello
      command: 'echo replaced > /run/hello-ud'
""" % {"key": KEY, "b64": base64.b64encode(b"decoded from base64\n").decode(),
       "gz": base64.b64encode(gzip.compress(b"unpacked by busybox\n", mtime=0)).decode()}

# The first instance only (the second one's user-data ends before "wisp:").
ISSUE5_TAIL = """\
final_message: "wisp-final up $UPTIME s, ds ${DATASOURCE}, v. $VERSION"
timezone: America/New_York
ntp:
  servers: [10.0.2.2]
mounts:
  - [LABEL=wispdata, /mnt/data]
  - [LABEL=alicedata, /home/alice/data]
"""
PER_BOOT = '#!/bin/sh\necho "boot $TZ $(date +%Z)" >> /var/per-boot.log\n'
PER_ONCE = "#!/bin/sh\necho once >> /var/per-once.log\n"


def seed(tmp, name, iid, host, fmt, user_data=USER_DATA, scripts=(), gz=False):
    ud = os.path.join(tmp, "user-data")
    md = os.path.join(tmp, "meta-data-" + name)
    with open(ud, "w") as f:
        f.write(user_data)
    if scripts:  # MIME multipart by cloud-image-utils' write-mime-multipart
        cc = os.path.join(tmp, "cc.txt")
        shutil.copyfile(ud, cc)
        args = [cc + ":text/cloud-config"]
        for i, (text, ctype) in enumerate(scripts):
            sc = os.path.join(tmp, "script%d.sh" % i)
            with open(sc, "w") as f:
                f.write(text)
            args.append(sc + ":" + ctype)
        subprocess.run(["write-mime-multipart", "-o", ud] + args, check=True)
    if gz:  # cloud-init tells gzip by its magic, not by a name
        with open(ud, "rb") as f:
            data = gzip.compress(f.read(), mtime=0)
        with open(ud, "wb") as f:
            f.write(data)
    with open(md, "w") as f:
        f.write("instance-id: %s\nlocal-hostname: %s\n" % (iid, host))
    out = os.path.join(tmp, name)
    subprocess.run(["cloud-localds", "-f", fmt, out, ud, md], check=True)
    return out


def boot(vm, banner=True):
    # to the "(N ms)" that ends the line: the console may deliver half of it first
    return vm.boot(r"cloud-init: (applied [^\n]*\(\d+ ms\)|no datasource \((\d+) ms\))",
                   banner=banner)


def count(vm, path):
    rc, out = vm.sh("echo lines=$(cat %s 2>/dev/null | wc -l)" % path)
    # init's own console lines may interleave with the output: find ours
    return int(re.search(r"lines=(\d+)", out).group(1))


# cloud-final runs late: runcmd and its final_message come after the shell answers.
FINAL_TIMEOUT = 120


def data_disk(tmp, label="wispdata"):
    """A small ext4 disk labelled LABEL, for mounts:."""
    root = os.path.join(tmp, label + "-root")
    os.makedirs(root)
    with open(os.path.join(root, "hello.txt"), "w") as f:
        f.write("from the data disk %s\n" % label)
    img = os.path.join(tmp, label + ".img")
    subprocess.run(["truncate", "-s", "8M", img], check=True)
    subprocess.run(["mkfs.ext4", "-q", "-F", "-L", label, "-d", root, img], check=True)
    return img


FINAL_RE = r"wisp-final up [\d.]+ s, ds NoCloud.*?, v\. \d"


def first_instance(tmp):
    iso = seed(tmp, "seed.iso", "iid-one", "meta-name", "iso9660", USER_DATA + ISSUE5_TAIL,
               scripts=[(PER_BOOT, "text/x-shellscript-per-boot"),
                        (PER_ONCE, "text/x-shellscript-per-once")], gz=True)
    extra = ["-cdrom", iso]
    for label in ("wispdata", "alicedata"):
        extra += ["-drive", "file=%s,format=raw,if=virtio" % data_disk(tmp, label)]
    with VM(IMAGE, name="cloudinit-iso", extra=extra) as vm:
        m = boot(vm)
        check("applied 3 parts" in m.group(1), "gzip-compressed MIME user-data: 3 parts applied")
        rc, out = vm.sh("hostname")
        check(re.search(r"(?m)^seeded$", out), "iso9660 seed: hostname from user-data")
        rc, out = vm.sh("grep ^alice: /etc/passwd; cat /home/alice/.ssh/authorized_keys;"
                        " stat -c '%U %a' /home/alice/.ssh/authorized_keys")
        check("Alice Example" in out and KEY in out and "alice 600" in out,
              "user alice with her key in /home/alice/.ssh")
        rc, out = vm.sh("grep -E '^(wheel|tty):' /etc/group")
        check(re.search(r"wheel:x:\d+:alice", out) and re.search(r"tty:x:5:.*alice", out),
              "alice in wheel (created) and tty")
        rc, out = vm.sh("stat -c '%a %U:%G' /var/lib/demo/plain.txt; cat /var/lib/demo/plain.txt")
        check("640 alice:alice" in out and "plain text" in out,
              "write_files: plain content, '0640', owner alice:alice")
        rc, out = vm.sh("stat -c '%a %U:%G' /var/lib/demo/tool")
        check(out.strip() == "2755 alice:alice",
              "write_files: '2755' with owner alice:alice keeps its set-group-id bit (the "
              "chown before the mode): %r" % out.strip())
        rc, out = vm.sh("stat -c %a /etc/demo/b64.txt; cat /etc/demo/b64.txt")
        check("600" in out and "decoded from base64" in out,
              "write_files: b64 encoding, integer permissions 0600")
        wait_sh(vm, "test -s /var/runcmd2.log", lambda rc, o: rc == 0,
                "runcmd's last command has run (/var/runcmd2.log written)", FINAL_TIMEOUT)
        rc, out = vm.sh("cat /var/bootcmd.log")
        check(out.count("boot iid-one") == 1, "bootcmd ran at the first boot, INSTANCE_ID set")
        rc, out = vm.sh("cat /var/runcmd.log")
        check(out.count("run iid-one") == 1, "runcmd ran once (list form)")
        check(count(vm, "/var/runcmd2.log") == 1, "runcmd string form ran")
        check(vm.seen_times(FINAL_RE, 1, FINAL_TIMEOUT) == 1, "final_message on the console")
        rc, out = vm.sh("cat /var/lib/demo/gz.txt; cat /var/per-once.log /var/per-boot.log")
        check("unpacked by busybox" in out, "write_files: gzip+base64 encoding")
        check("once" in out and re.search(r"boot EST5EDT,M3\.2\.0,M11\.1\.0 E[SD]T", out),
              "per-once and per-boot scripts ran, with America/New_York's rule as TZ")
        rc, out = vm.sh("cat /etc/TZ; grep ' /mnt/data ' /proc/mounts; cat /mnt/data/hello.txt")
        check(re.search(r"(?m)^EST5EDT,M3\.2\.0,M11\.1\.0$", out) and " /mnt/data ext4 " in out
              and "from the data disk" in out,
              "timezone in /etc/TZ; mounts: LABEL=wispdata on /mnt/data (fstype auto)")
        rc, out = vm.sh("grep ' /home/alice/data ' /proc/mounts; cat /home/alice/data/hello.txt")
        check(" /home/alice/data ext4 " in out and "from the data disk alicedata" in out,
              "mounts: LABEL=alicedata on /home/alice/data, in her home")
        # A boot without her disk left the mountpoint a plain directory in her home
        # (here: unmounted): alice makes it her symlink to a directory of root's.
        rc, out = vm.sh("umount /home/alice/data && rmdir /home/alice/data &&"
                        " ln -s /var/lib/demo /home/alice/data &&"
                        " chown -h alice:alice /home/alice/data && echo planted")
        check(rc == 0 and "planted" in out, "alice's symlink /home/alice/data -> /var/lib/demo")
        rc, out = vm.sh("wispctl ps; ps | grep '[n]tpd -n'")
        check(re.search(r"(?m)^ntpd\s+service", out) and "ntpd -n -p 10.0.2.2" in out,
              "ntp: an ntpd unit, busybox ntpd -n -p 10.0.2.2")
        rc, out = vm.sh("wispctl ps")
        check(re.search(r"(?m)^ud-ticker\s+service\s+running", out),
              "service declared under wisp: is running")
        rc, out = vm.sh("cat /run/hello-ud; ls /run/hello")
        check("replaced" in out and "ran" not in out,
              "a wisp: service replaces the baked unit of the same name")
        rc, out = vm.sh("stat -c '%n %a %U' /run/wisp/units /run/wisp/units/*")
        check(re.search(r"(?m)^/run/wisp/units 700 root$", out)
              and re.search(r"(?m)^/run/wisp/units/01-user-data\.yaml 600 root$", out),
              "the wisp: units (env secrets) are root's alone: dir 0700, file 0600")
        rc, out = vm.sh("readlink /var/lib/cloud/instance; ls /var/lib/cloud/instance/sem")
        check("instances/iid-one" in out and "config_per_instance" in out,
              "/var/lib/cloud/instance -> instances/iid-one with its sem file")
        vm.send("wispctl reboot\n")
        boot(vm)
        check(count(vm, "/var/bootcmd.log") == 2, "bootcmd ran again at the second boot")
        rc, out = vm.sh("cat /home/alice/.ssh/authorized_keys; dmesg | grep -c 'cloud-init: cloud-config'")
        check(KEY in out and re.search(r"(?m)^0$", out),
              "second boot: alice's key still in her home, no warning")
        check(vm.seen_times(FINAL_RE, 2, FINAL_TIMEOUT) == 2,
              "final_message again at the second boot")
        check(count(vm, "/var/runcmd.log") == 1, "runcmd did not run again (same instance-id)")
        rc, out = vm.sh("grep -c ' /var/lib/demo ' /proc/mounts; cat /var/lib/demo/plain.txt;"
                        " wispctl config | grep alicedata")
        check(re.search(r"(?m)^0$", out) and "plain text" in out
              and "mounts: LABEL=alicedata on /home/alice/data: not mounted: /home/alice/data:"
              " symlink data of uid " in out,
              "alice's symlink not followed: nothing mounted on /var/lib/demo, a warning: %r"
              % out[-300:])
        check(count(vm, "/var/per-boot.log") == 2 and count(vm, "/var/per-once.log") == 1,
              "per-boot script ran at both boots, per-once script once")
        vm.sh("sync")
        vm.send("wispctl poweroff\n")
        vm.exits_0(60, "wispctl poweroff")
        disk = os.path.join(tmp, "disk.qcow2")
        shutil.copyfile(vm.overlay, disk)
        return disk


def second_instance(tmp, disk):
    # the same user-data without its wisp: key
    fat = seed(tmp, "seed.vfat", "iid-two", "fatname", "vfat", USER_DATA.split("wisp:")[0],
               scripts=[("#!/bin/sh\necho part-script >> /var/part-script.log\n",
                         "text/x-shellscript")])
    with VM(IMAGE, name="cloudinit-vfat", overlay=disk,
            extra=["-drive", "file=%s,format=raw,if=virtio,readonly=on" % fat]) as vm:
        m = boot(vm)
        check("applied 2 parts" in m.group(1), "vfat seed on a second virtio disk found")
        wait_sh(vm, "echo lines=$(wc -l < /var/runcmd.log)",
                lambda rc, o: int(re.search(r"lines=(\d+)", o).group(1)) >= 2,
                "runcmd has run for the new instance (a second line in /var/runcmd.log)",
                FINAL_TIMEOUT)
        rc, out = vm.sh("cat /var/runcmd.log; cat /var/lib/cloud/data/previous-instance-id")
        check("run iid-two" in out and out.count("run iid-one") == 1,
              "new instance-id: runcmd ran again")
        check("iid-one" in out.split("run iid-two")[-1], "previous-instance-id kept")
        rc, out = vm.sh("cat /var/part-script.log; hostname")
        check("part-script" in out and re.search(r"(?m)^seeded$", out),
              "MIME multipart: cloud-config part applied, x-shellscript part ran")
        check(count(vm, "/var/bootcmd.log") == 3, "bootcmd ran at the third boot")
        rc, out = vm.sh("wispctl ps")
        check("ud-ticker" not in out and re.search(r"(?m)^hello\s+service\s+done", out),
              "wisp: service removed from user-data is gone; the baked hello is back")


def config_drive(tmp):
    root = os.path.join(tmp, "cd")
    os.makedirs(os.path.join(root, "openstack", "latest"))
    with open(os.path.join(root, "openstack", "latest", "meta_data.json"), "w") as f:
        f.write('{"uuid": "83679162-1378-4288-a2d4-70e13ec132aa", "hostname": "drive-host",'
                ' "public_keys": {"mykey": "%s"}}' % KEY)
    with open(os.path.join(root, "openstack", "latest", "user_data"), "w") as f:
        # one bad key and a YAML error at the end: the rest still applies
        f.write("#cloud-config\nusers: [bob]\nbootcmd: [echo cd-boot > /run/cd-boot]\n"
                "write_files: 5\n"
                "power_state: {mode: poweroff, message: wisp-bye,"
                " condition: 'while [ ! -e /run/go-off ]; do sleep 1; done'}\n"
                "runcmd: [\n")
    # an image archive that is not one, under the seed directory in another case
    os.makedirs(os.path.join(root, "WISP-IMAGES"))
    with open(os.path.join(root, "WISP-IMAGES", "bad.tar"), "w") as f:
        f.write("not a tar\n")
    iso = os.path.join(tmp, "config2.iso")
    subprocess.run(["genisoimage", "-quiet", "-o", iso, "-V", "config-2", "-J", "-R", root],
                   check=True)
    with VM(IMAGE, name="cloudinit-config-drive", extra=["-cdrom", iso]) as vm:
        vm.expect(BANNER, BOOT_TIMEOUT)
        vm.expect(r"user-data:\d+:\d+: .*\(what came before it still applies\)", 60)
        vm.expect(r"user-data:4:14: write_files: expected a list", 60)
        print("  ok: malformed user_data: one line per problem, with file:line:col", flush=True)
        boot(vm, banner=False)
        rc, out = vm.sh("hostname; cat /var/lib/cloud/data/instance-id; cat /run/cd-boot;"
                        " cat /home/bob/.ssh/authorized_keys")
        check("drive-host" in out and "83679162-1378-4288-a2d4-70e13ec132aa" in out,
              "config drive: hostname and uuid as instance-id")
        check("cd-boot" in out and KEY in out,
              "config drive: user_data applied, public_keys given to the first user")
        rc, out = vm.sh("wispctl config")
        check(rc == 0 and "datasource: ConfigDrive" in out
              and "instance-id: 83679162-1378-4288-a2d4-70e13ec132aa" in out
              and re.search(r"(?m)^warning: .*user-data:4:14: write_files: expected a list$", out)
              and re.search(r"(?m)^applied: 1 part, [1-9]\d* warnings?$", out),
              "wispctl config: datasource, instance-id and the warnings")
        # the unit runs beside the boot: wait for its end, then check how it ended
        wait_sh(vm, "wispctl status image-import", lambda rc, o: re.search(
            r"(?m)^state:\s+(done|failed)$", o), "image-import has ended")
        rc, out = vm.sh("cat /run/wisp/seed-images; wispctl ps | grep image-import;"
                        " cat /var/log/wisp/image-import.log")
        check(re.search(r"(?m)^/dev/sr0 iso9660 WISP-IMAGES$", out)
              and re.search(r"(?m)^image-import\s+oneshot\s+failed\b", out)
              and re.search(r"(?m) bad\.tar: failed: image import /run/wisp/seed-images\.mnt/"
                            r"WISP-IMAGES/bad\.tar: ", out),
              "config drive: its WISP-IMAGES/ noted, image-import failed naming bad.tar: %r"
              % out[-300:])
        vm.send("touch /run/go-off\n")
        vm.expect("wisp-bye", 60)
        vm.exits_0(120, "power_state: poweroff once its condition holds")


def no_datasource():
    with VM(IMAGE, name="cloudinit-none") as vm:
        m = boot(vm)
        # A bound that catches a wait for a datasource that is not there
        # (a probe's retries, a network timeout), not a performance claim:
        # bench/provision.py measures this step (no_datasource).
        check(m.group(2) is not None and int(m.group(2)) < 5000,
              "no datasource: boot goes on after %s ms, without waiting" % m.group(2))


def refused_seed(tmp):
    """User-data one byte over 1 MiB is refused whole; an instance-id of ".." too."""
    big = "#cloud-config\nhostname: cut-short\n"
    big += "#" * (1024 * 1024 + 1 - len(big))
    iso = seed(tmp, "big.iso", "..", "meta-only", "iso9660", user_data=big)
    with VM(IMAGE, name="cloudinit-refused", extra=["-cdrom", iso]) as vm:
        m = boot(vm)
        check("applied 0 parts" in m.group(1), "nothing of the user-data applied")
        check(re.search(r"datasource: \S+/user-data: 1048577 bytes, over the limit of 1048576",
                        vm.buf), "user-data over 1 MiB refused whole, with its size")
        check(re.search(r'instance-id "\.\.": not a directory name .*; using '
                        r"iid-datasource-none", vm.buf), 'instance-id ".." refused')
        rc, out = vm.sh("hostname; readlink /var/lib/cloud/instance; ls /var/lib/cloud/sem")
        check(re.search(r"(?m)^meta-only$", out),
              "the host name is the meta-data's, not the cut user-data's")
        # with ".." as its directory, the instance's sem/ would be /var/lib/cloud/sem
        check("instances/iid-datasource-none" in out and "config_per_instance" not in out,
              "state kept under instances/iid-datasource-none, none in /var/lib/cloud itself")


def main():
    with tempfile.TemporaryDirectory(prefix="wisp-cloudinit-", ignore_cleanup_errors=True) as tmp:
        no_datasource()
        refused_seed(tmp)
        disk = first_instance(tmp)
        second_instance(tmp, disk)
        config_drive(tmp)


if __name__ == "__main__":
    sys.exit(run_test("cloudinit", main))
