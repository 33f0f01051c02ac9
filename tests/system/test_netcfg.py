"""Network configuration from the datasource (issue 5): docs/network.md.

Two boots under QEMU user networking (guest NIC 52:54:00:12:34:56, host
10.0.2.2, DNS 10.0.2.3):
  1. an OpenStack config drive (genisoimage -V config-2) whose
     network_data.json gives a static address, a default route, a second
     route, a DNS service and an IPv6 network: all visible in the guest,
     and no DHCP unit;
  2. a NoCloud seed by Debian's `cloud-localds -N` (vfat, second virtio
     disk) with a version 2 network-config that matches the NIC by its MAC
     and renames it: the static address on the new name. The guest then
     rewrites the seed's network-config with an unsupported (bond) v1
     entry and reboots: one warning naming file:line:col, and DHCP.
And one boot as an EC2 instance (SMBIOS vendor "Amazon EC2", so DMI says
EC2; wisp.imds= points init at a metadata service in this script that
answers only with an IMDSv2 token): instance-id, host name, the SSH key
and the user-data all arrive, and runcmd runs only once DHCP's lease is
there (cloud-final waits for it); then, in the same guest, the helper falls
back to IMDSv1 when the service gives no token.
And one boot as a GCE instance (SMBIOS "Google"/"Google Compute Engine";
wisp.imds= points at a metadata server here that refuses requests without
Metadata-Flavor: Google): instance id, the host name's first label, the
SSH keys cloud-init would take (user "cloudinit" or the first user; none
for others, none expired, no project keys when the instance blocks them)
and base64 user-data; then, in the same guest, an answer without the
response header Metadata-Flavor: Google is not taken as GCE's.
And one boot as an Azure VM (SMBIOS chassis asset tag 7783-7084-3265-9085-
8269-3286-77, Azure's; wisp.imds= and wisp.wireserver= point at a server
here that is both IMDS, refusing requests without Metadata: true, and the
wire server): host name, the admin user made with IMDS's SSH key, base64
user-data applied (write_files, runcmd), and the ready report: the goal
state fetched with x-ms-version, then the health report POSTed with the
goal state's incarnation, container and instance ids and Ready; then, in
the same guest, an IMDS answer that is not a JSON object is refused with
one line, and a wire server that refuses the report is one line naming it.
And one Azure boot from its provisioning media alone: a CD (UDF, genisoimage
-udf) holding ovf-env.xml, IMDS unreachable: the host name, the user and its
key from ovf-env.xml, CustomData applied as the user-data (write_files,
runcmd), the CD's file system unmounted, and the ready report still sent.
"""

import base64

import http.server
import json
import os
import re
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(__file__))
from wispvm import BANNER, BOOT_TIMEOUT, VM, check, direct_vm, run_test, wait_sh  # noqa: E402

IMAGE = os.path.join(os.environ.get("B", "build"), "wisp.img")
MAC = "52:54:00:12:34:56"
NIC = "user,mac=" + MAC
PROVISIONED = r"cloud-init: (applied .*|no datasource)"


def oneshot_done(vm, name):
    """Wait until the network one-shot NAME has run and succeeded (a check)."""
    wait_sh(vm, "wispctl status " + name, lambda rc, o: re.search(r"(?m)^state:\s+done$", o),
            "the one-shot %s ran and succeeded" % name)


def dhcp_address(vm):
    """Wait until eth0 has an IPv4 address (a check): udhcpc's lease arrived."""
    wait_sh(vm, "ip -4 addr show dev eth0", lambda rc, o: "inet " in o,
            "eth0 has an IPv4 address (DHCP lease)")


def config_drive(tmp):
    root = os.path.join(tmp, "cd")
    os.makedirs(os.path.join(root, "openstack", "latest"))
    net = {
        "links": [{"id": "tap-a", "type": "ovs", "ethernet_mac_address": MAC, "mtu": 1500}],
        "networks": [{"id": "net0", "type": "ipv4", "link": "tap-a",
                      "ip_address": "10.0.2.50", "netmask": "255.255.255.0",
                      "routes": [{"network": "0.0.0.0", "netmask": "0.0.0.0",
                                  "gateway": "10.0.2.2"},
                                 {"network": "192.168.77.0", "netmask": "255.255.255.0",
                                  "gateway": "10.0.2.3"}]},
                     {"id": "net1", "type": "ipv6", "link": "tap-a", "ip_address": "fec0::50",
                      "netmask": "ffff:ffff:ffff:ffff::",
                      "routes": [{"network": "::", "netmask": "::", "gateway": "fec0::2"}]}],
        "services": [{"type": "dns", "address": "10.0.2.3"}],
    }
    latest = os.path.join(root, "openstack", "latest")
    with open(os.path.join(latest, "network_data.json"), "w") as f:
        json.dump(net, f, indent=1)
    with open(os.path.join(latest, "meta_data.json"), "w") as f:
        f.write('{"uuid": "0c8a2a36-netcfg", "hostname": "netdrive"}')
    iso = os.path.join(tmp, "config2.iso")
    subprocess.run(["genisoimage", "-quiet", "-o", iso, "-V", "config-2", "-J", "-R", root],
                   check=True)
    with VM(IMAGE, name="netcfg-config-drive", nic=NIC, extra=["-cdrom", iso]) as vm:
        vm.boot(PROVISIONED)
        oneshot_done(vm, "net-eth0")
        _, out = vm.sh("ip -4 addr show dev eth0")
        check("inet 10.0.2.50/24" in out, "network_data.json: static 10.0.2.50/24 on eth0")
        _, out = vm.sh("ip route")
        check(re.search(r"default via 10\.0\.2\.2 dev eth0", out)
              and re.search(r"192\.168\.77\.0/24 via 10\.0\.2\.3 dev eth0", out),
              "network_data.json: default route and 192.168.77.0/24 via 10.0.2.3")
        _, out = vm.sh("ip -6 addr show dev eth0; ip -6 route")
        check("inet6 fec0::50/64" in out and re.search(r"default via fec0::2 dev eth0", out),
              "network_data.json: an ipv6 network (netmask ffff:ffff:ffff:ffff::) and its route")
        _, out = vm.sh("cat /etc/resolv.conf; wispctl ps")
        check("nameserver 10.0.2.3" in out, "network_data.json: dns service in resolv.conf")
        check("dhcp-" not in out and re.search(r"(?m)^net-eth0\s+oneshot\s+done", out),
              "no DHCP unit: the datasource's configuration replaced it")


V2 = """\
network:
  version: 2
  ethernets:
    nic0:
      match:
        macaddress: "%s"
      set-name: lan0
      addresses: [10.0.2.60/24]
      gateway4: 10.0.2.2
      nameservers:
        addresses: [10.0.2.3]
        search: [netcfg.test]
""" % MAC.upper()


def nocloud(tmp):
    paths = {}
    for name, text in (("user-data", "#cloud-config\nhostname: netseed\n"),
                       ("meta-data", "instance-id: iid-netcfg\n"), ("network-config", V2)):
        paths[name] = os.path.join(tmp, name)
        with open(paths[name], "w") as f:
            f.write(text)
    seed = os.path.join(tmp, "seed.vfat")
    subprocess.run(["cloud-localds", "-f", "vfat", "-N", paths["network-config"], seed,
                    paths["user-data"], paths["meta-data"]], check=True)
    with VM(IMAGE, name="netcfg-nocloud", nic=NIC,
            extra=["-drive", "file=%s,format=raw,if=virtio" % seed]) as vm:
        vm.boot(PROVISIONED)
        oneshot_done(vm, "net-lan0")
        _, out = vm.sh("ip -4 addr show dev lan0; ip route; cat /etc/resolv.conf")
        check("inet 10.0.2.60/24" in out,
              "v2 network-config: NIC matched by MAC, renamed lan0, 10.0.2.60/24")
        check(re.search(r"default via 10\.0\.2\.2 dev lan0", out)
              and "search netcfg.test" in out and "nameserver 10.0.2.3" in out,
              "v2 network-config: gateway4 and nameservers")
        # An unsupported entry on the same seed: the next boot warns and uses DHCP.
        _, out = vm.sh("mkdir -p /run/seed && mount -t vfat /dev/vdb /run/seed &&"
                       " printf 'version: 1\\nconfig:\\n  - type: bond\\n    name: bond0\\n'"
                       " > /run/seed/network-config && umount /run/seed && sync && echo rewrote")
        check("rewrote" in out, "seed's network-config rewritten from the guest")
        vm.send("wispctl reboot\n")
        vm.expect(BANNER, BOOT_TIMEOUT)
        vm.expect(r"cloud-init: applied", 60)  # the network is set up after provisioning
        vm.expect(r"network-config:3:11: network: entry type not supported by Wisp \"bond\"",
                  60)
        vm.expect(r"cloud-init: /run/wisp/cidata/network-config: invalid network "
                  r"configuration \(above\); DHCP on every NIC instead", 60)
        print("  ok: invalid network-config: file:line:col, then one warning", flush=True)
        vm.boot(banner=False)
        dhcp_address(vm)
        _, out = vm.sh("wispctl ps; ip -4 addr show dev eth0")
        check(re.search(r"(?m)^dhcp-eth0\s+service\s+running", out)
              and "inet 10.0.2.15/24" in out,
              "invalid network-config: DHCP on eth0 instead (10.0.2.15)")


KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIImdsKeyForWisp imds@test: #not-a-comment"
TOKEN = "AQAEAImdsTokenForTheWispTest=="


class Imds(http.server.BaseHTTPRequestHandler):
    """EC2's metadata service as far as Wisp uses it; IMDSv2 only unless v1 is set."""
    v1 = False
    log = []
    data = {
        "/latest/meta-data/instance-id": "i-0abc1234def567890",
        "/latest/meta-data/local-hostname": "ip-10-0-2-15.ec2.internal",
        "/latest/meta-data/public-keys/0/openssh-key": KEY + "\n",
        "/latest/user-data": "#cloud-config\nusers: [{name: ec2-user}]\n"
                             "bootcmd: [echo from-imds > /run/imds-boot]\n"
                             # what runcmd finds: the lease's routes (cloud-final waits)
                             "runcmd: [ip -4 route show dev eth0 > /run/runcmd-routes]\n",
    }

    def log_message(self, *args):
        pass

    def reply(self, code, body=b""):
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_PUT(self):
        ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds")
        Imds.log.append(("PUT", self.path, ttl))
        if Imds.v1 or self.path != "/latest/api/token" or not ttl:
            return self.reply(403)
        self.reply(200, TOKEN.encode())

    def do_GET(self):
        token = self.headers.get("X-aws-ec2-metadata-token")
        Imds.log.append(("GET", self.path, token))
        if not Imds.v1 and token != TOKEN:
            return self.reply(401)
        body = Imds.data.get(self.path)
        self.reply(200, body.encode()) if body is not None else self.reply(404)


def serve(handler, boot, *args):
    """BOOT(*ARGS, ENDPOINT) while HANDLER's fixture server runs on the host's loopback,
    which the guest reaches at 10.0.2.2 (QEMU's user network)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        boot(*args, "10.0.2.2:%d" % server.server_address[1])
    finally:
        server.shutdown()


def cloud_vm(name, args, extra):
    """The build's kernel booted directly with slot A's command line and ARGS (the
    metadata endpoints), EXTRA telling QEMU which cloud it plays (DMI)."""
    return direct_vm(IMAGE, " " + args, name=name, nic=NIC, extra=extra)


def ec2():
    serve(Imds, ec2_boot)


def ec2_boot(ep):
    with cloud_vm("netcfg-ec2", "wisp.imds=" + ep,
                  ["-smbios", "type=1,manufacturer=Amazon EC2"]) as vm:
        vm.expect(BANNER, BOOT_TIMEOUT)
        vm.expect(r"ec2-imds: IMDSv2 at " + re.escape(ep), 60)
        vm.expect(r"cloud-init: datasource EC2 \(metadata service at %s\), instance-id "
                  r"i-0abc1234def567890 \(new instance\)" % re.escape(ep), 60)
        print("  ok: DMI says EC2: IMDSv2 datasource found, instance-id", flush=True)
        vm.boot(PROVISIONED, banner=False)
        gets = [e for e in Imds.log if e[0] == "GET"]
        check(Imds.log[0] == ("PUT", "/latest/api/token", "21600") and gets
              and all(e[2] == TOKEN for e in gets),
              "IMDSv2: a token by PUT (with its TTL), then every GET with it")
        _, out = vm.sh("hostname; cat /run/imds-boot; cat /home/ec2-user/.ssh/authorized_keys")
        check(re.search(r"(?m)^ip-10-0-2-15$", out), "local-hostname gives the host name")
        check("from-imds" in out and KEY in out,
              "user-data applied (bootcmd); public-keys/0 in ec2-user's authorized_keys")
        # cloud-init's final stage comes after network-online: runcmd finds the lease
        wait_sh(vm, "wispctl status cloud-final", lambda rc, o: re.search(
            r"(?m)^state:\s+done$", o), "cloud-final ran (runcmd)", 120)
        _, out = vm.sh("cat /run/runcmd-routes")
        check("default via 10.0.2.2" in out and "10.0.2.0/24" in out,
              "runcmd ran once eth0 had its DHCP lease (its routes): %r" % out.strip())
        dhcp_address(vm)
        _, out = vm.sh("ip -4 addr show dev eth0 | grep -c 'inet '; wispctl ps")
        check(re.search(r"(?m)^1$", out) and re.search(r"(?m)^dhcp-eth0\s+service\s+running", out),
              "EC2 gives no network configuration: eth0 is dhcp-eth0's")
        Imds.v1, Imds.log[:] = True, []
        _, out = vm.sh("/usr/libexec/wisp/ec2-imds %s /run && grep -A1 instance-id "
                       "/run/meta-data; ip -4 addr show dev eth0" % ep)
        check("trying IMDSv1" in out and "i-0abc1234def567890" in out
              and all(e[2] is None for e in Imds.log if e[0] == "GET"),
              "no token from the service: IMDSv1 GETs without one")
        check("inet 10.0.2.15/24" in out, "run by hand, the helper leaves eth0's address")
        _, out = vm.sh("ip -4 addr flush dev eth0; rm /run/meta-data; /usr/libexec/wisp/ec2-imds"
                       " %s /run; echo rc=$? addrs=$(ip -4 addr show dev eth0 | grep -c 'inet ')"
                       % ep)
        check("rc=0 addrs=0" in out, "on a bare NIC: a lease to fetch with, dropped on exit")


GCE_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGceInstanceKeyForWisp gceuser"
GCE_PROJECT_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGceProjectKeyForWisp cloudinit-key"
GCE_OTHER_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGceOtherUsersKeyForWisp other"
GCE_EXPIRED_KEY = ('ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGceExpiredKeyForWisp google-ssh '
                   '{"userName":"gceuser@example.com","expireOn":"2018-01-01T00:00:00+0000"}')
GCE_USER_DATA = ("#cloud-config\nusers: [{name: gceuser}]\n"
                 "write_files: [{path: /etc/gce.txt, content: from-gce-metadata}]\n")


class GceMd(http.server.BaseHTTPRequestHandler):
    """GCE's metadata server as far as Wisp uses it: like the real one, it refuses a
    request without Metadata-Flavor: Google, and marks its answers with it (unless
    flavorless is set: a server that only looks like it)."""
    flavorless = False
    log = []
    base = "/computeMetadata/v1/"
    data = {
        "instance/id": "4567890123456789012",
        "instance/hostname": "wisp-gce-1.c.wisp-test.internal",
        "instance/attributes/ssh-keys": "gceuser:%s\nother:%s\ngceuser:%s\n"
                                        % (GCE_KEY, GCE_OTHER_KEY, GCE_EXPIRED_KEY),
        "project/attributes/ssh-keys": "cloudinit:%s\n" % GCE_PROJECT_KEY,
        "instance/attributes/user-data": base64.b64encode(GCE_USER_DATA.encode()).decode(),
        "instance/attributes/user-data-encoding": "base64",
    }

    def log_message(self, *args):
        pass

    def reply(self, code, body=b""):
        self.send_response(code)
        if not GceMd.flavorless:
            self.send_header("Metadata-Flavor", "Google")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        flavor = self.headers.get("Metadata-Flavor")
        GceMd.log.append((self.path, flavor))
        if flavor != "Google":
            return self.reply(403)
        body = GceMd.data.get(self.path[len(GceMd.base):]) if self.path.startswith(
            GceMd.base) else None
        self.reply(200, body.encode()) if body is not None else self.reply(404)


def gce():
    serve(GceMd, gce_boot)


def gce_boot(ep):
    with cloud_vm("netcfg-gce", "wisp.imds=" + ep,
                  ["-smbios", "type=1,manufacturer=Google,product=Google Compute Engine"]) as vm:
        vm.expect(BANNER, BOOT_TIMEOUT)
        vm.expect(r"cloud-init: datasource GCE \(metadata server at %s\), instance-id "
                  r"4567890123456789012 \(new instance\)" % re.escape(ep), 60)
        print("  ok: DMI says GCE: metadata server datasource found, instance-id", flush=True)
        vm.boot(PROVISIONED, banner=False)
        check(GceMd.log and all(e[1] == "Google" for e in GceMd.log),
              "every request carries Metadata-Flavor: Google")
        _, out = vm.sh("hostname; cat /etc/gce.txt; echo; cat /home/gceuser/.ssh/authorized_keys")
        check(re.search(r"(?m)^wisp-gce-1$", out), "host name: the first label of instance/hostname")
        check("from-gce-metadata" in out, "base64 user-data decoded and applied (write_files)")
        check(GCE_KEY in out and GCE_PROJECT_KEY in out and "GceOther" not in out
              and "GceExpired" not in out,
              "ssh-keys: the first user's and cloudinit's, instance and project; not another "
              "user's, not an expired one")
        GceMd.data["instance/attributes/block-project-ssh-keys"] = "true"
        _, out = vm.sh("/usr/libexec/wisp/gce-metadata %s /run; echo rc=$?; cat /run/meta-data"
                       % ep)
        check("rc=0" in out and GCE_KEY in out and "GceProject" not in out,
              "block-project-ssh-keys: true: the project's keys are left out")
        GceMd.flavorless = True
        _, out = vm.sh("rm /run/meta-data; /usr/libexec/wisp/gce-metadata %s /run; echo rc=$?; "
                       "ls /run/meta-data" % ep)
        check("rc=1" in out and "not GCE's metadata server" in out and "No such file" in out,
              "an answer without the response header Metadata-Flavor: Google is not GCE's")


AZ_VMID = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
AZ_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAzureAdminKeyForWispTests azureuser"
AZ_USER_DATA = ("#cloud-config\nwrite_files: [{path: /etc/azure.txt, content: from-azure-imds}]\n"
                "runcmd: [[touch, /run/azure-runcmd]]\n")
AZ_CONTAINER = "5b8a3c1d-2e4f-4a6b-8c9d-0e1f2a3b4c5d"
AZ_INSTANCE = "0f1e2d3c4b5a69788796a5b4c3d2e1f0.wisp-az-1"
AZ_GOALSTATE = """<?xml version="1.0" encoding="utf-8"?>
<GoalState xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <Version>2012-11-30</Version>
  <Incarnation>7</Incarnation>
  <Machine><ExpectedState>Started</ExpectedState></Machine>
  <Container>
    <ContainerId>%s</ContainerId>
    <RoleInstanceList>
      <RoleInstance>
        <InstanceId>%s</InstanceId>
        <State>Started</State>
        <Configuration><ConfigName>a.0.b.0.wisp-az-1.1.xml</ConfigName></Configuration>
      </RoleInstance>
    </RoleInstanceList>
  </Container>
</GoalState>
""" % (AZ_CONTAINER, AZ_INSTANCE)


class AzureMd(http.server.BaseHTTPRequestHandler):
    """Azure's IMDS and wire server in one: IMDS refuses a request without Metadata:
    true, as the real one does (400); the wire server records the health report."""
    log = []
    reports = []
    not_json = False
    refuse_report = False
    imds = {"compute": {
        "vmId": AZ_VMID, "name": "wisp-az-1", "osType": "Linux",
        "osProfile": {"adminUsername": "azureuser", "computerName": "wisp-az-1",
                      "disablePasswordAuthentication": "true"},
        "publicKeys": [{"keyData": AZ_KEY, "path": "/home/azureuser/.ssh/authorized_keys"}]}}

    def log_message(self, *args):
        pass

    def reply(self, code, body=b"", ctype="text/plain"):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        AzureMd.log.append(("GET", self.path, dict(self.headers)))
        if self.path.startswith("/metadata/"):
            if self.headers.get("Metadata") != "true":
                return self.reply(400, b'{"error": "Required metadata header not specified"}')
            if self.path == "/metadata/instance?api-version=2021-08-01":
                body = ("<html>a captive portal</html>" if AzureMd.not_json
                        else json.dumps(AzureMd.imds))
                return self.reply(200, body.encode(), "application/json")
            if self.path == ("/metadata/instance/compute/userData?api-version=2021-01-01"
                             "&format=text"):
                return self.reply(200, base64.b64encode(AZ_USER_DATA.encode()))
        elif self.path == "/machine/?comp=goalstate":
            if self.headers.get("x-ms-version") != "2012-11-30":
                return self.reply(400)
            return self.reply(200, AZ_GOALSTATE.encode(), "text/xml")
        self.reply(404)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
        AzureMd.log.append(("POST", self.path, dict(self.headers)))
        if self.path != "/machine?comp=health":
            return self.reply(404)
        AzureMd.reports.append((dict(self.headers), body))
        self.reply(500 if AzureMd.refuse_report else 200)


def azure():
    serve(AzureMd, azure_boot)


def health_ok(report):
    """The health report names the goal state's incarnation and ids, and Ready."""
    headers, body = report
    want = ["<GoalStateIncarnation>7</GoalStateIncarnation>",
            "<ContainerId>%s</ContainerId>" % AZ_CONTAINER,
            "<InstanceId>%s</InstanceId>" % AZ_INSTANCE, "<State>Ready</State>"]
    return (all(w in body for w in want) and headers.get("x-ms-version") == "2012-11-30"
            and headers.get("Content-Type") == "text/xml; charset=utf-8"
            and headers.get("x-ms-agent-name"))


def azure_boot(ep):
    with cloud_vm("netcfg-azure", "wisp.imds=%s wisp.wireserver=%s" % (ep, ep),
                  ["-smbios", "type=3,asset=7783-7084-3265-9085-8269-3286-77"]) as vm:
        vm.expect(BANNER, BOOT_TIMEOUT)
        vm.expect(r"cloud-init: datasource Azure \(IMDS at %s\), instance-id %s "
                  r"\(new instance\)" % (re.escape(ep), AZ_VMID), 60)
        print("  ok: DMI's chassis asset tag says Azure: IMDS datasource found, vmId", flush=True)
        vm.boot(PROVISIONED, banner=False)
        vm.seen_since_banner(re.compile(r"cloud-init: Azure: reported ready to the wire server "
                                        r"at %s \(incarnation 7\)" % re.escape(ep)), 60)
        imds = [e for e in AzureMd.log if e[1].startswith("/metadata/")]
        check(imds and all(e[2].get("Metadata") == "true" for e in imds),
              "every IMDS request carries Metadata: true")
        gs = [e for e in AzureMd.log if e[1] == "/machine/?comp=goalstate"]
        check(len(gs) == 1 and gs[0][2].get("x-ms-version") == "2012-11-30"
              and gs[0][2].get("x-ms-agent-name"),
              "the goal state: one GET with x-ms-version: 2012-11-30 and x-ms-agent-name")
        check(len(AzureMd.reports) == 1 and health_ok(AzureMd.reports[0]),
              "ready: one health report POSTed, with the goal state's incarnation, "
              "ContainerId, InstanceId and <State>Ready</State>, as text/xml")
        _, out = vm.sh("hostname; cat /etc/azure.txt; echo; cat /home/azureuser/.ssh/"
                       "authorized_keys; grep ^azureuser: /etc/passwd")
        check(re.search(r"(?m)^wisp-az-1$", out), "host name: compute.osProfile.computerName")
        check("from-azure-imds" in out, "base64 userData decoded and applied (write_files)")
        check(AZ_KEY in out and re.search(r"(?m)^azureuser:x:\d+:", out),
              "the admin user (adminUsername) made, with compute.publicKeys' key")
        wait_sh(vm, "wispctl status cloud-final", lambda rc, o: re.search(
            r"(?m)^state:\s+done$", o), "cloud-final ran (runcmd)", 120)
        rc, _ = vm.sh("test -e /run/azure-runcmd")
        check(rc == 0, "userData's runcmd ran")
        rc, out = vm.sh("wget -q -O - 'http://%s/metadata/instance?api-version=2021-08-01'" % ep)
        check(rc != 0, "the fixture refuses IMDS requests without Metadata: true: %r"
              % out.strip())
        AzureMd.not_json = True
        _, out = vm.sh("mkdir -p /run/az; /usr/libexec/wisp/azure-imds %s /run/az %s; "
                       "echo rc=$?; ls /run/az" % (ep, ep))
        check("rc=1" in out and "something other than a JSON object" in out
              and "azure-imds.json" not in out,
              "an IMDS answer that is not a JSON object is refused, nothing kept: %r"
              % out.strip())
        AzureMd.refuse_report = True
        _, out = vm.sh("/usr/libexec/wisp/azure-ready %s /run/wisp/azure-health.xml; echo rc=$?"
                       % ep)
        check("rc=1" in out and re.search(r"(?m)^server returned error: HTTP/1\.\d 500", out),
              "a wire server refusing the report: one line saying why: %r" % out.strip())


AZ_MEDIA_UUID = "6A1B2C3D-4E5F-4071-8293-A4B5C6D7E8F9"  # -uuid: the VM's DMI product_uuid
AZ_MEDIA_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMediaKeyOfTheProvisioningCD ovfuser"
AZ_PASSWORD = "Wisp-Media-Secret-7"  # not used (keys only), and kept nowhere
AZ_CUSTOM_DATA = ("#cloud-config\nwrite_files: [{path: /etc/ovf.txt, content: from-custom-data}]\n"
                  "runcmd: [[touch, /run/customdata-runcmd]]\n")
AZ_OVF = """<?xml version="1.0" encoding="utf-8"?>
<ns0:Environment xmlns="http://schemas.dmtf.org/ovf/environment/1"
 xmlns:ns0="http://schemas.dmtf.org/ovf/environment/1"
 xmlns:ns1="http://schemas.microsoft.com/windowsazure"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<ns1:ProvisioningSection><ns1:Version>1.0</ns1:Version>
<ns1:LinuxProvisioningConfigurationSet>
<ns1:ConfigurationSetType>LinuxProvisioningConfiguration</ns1:ConfigurationSetType>
<ns1:HostName>wisp-ovf-1</ns1:HostName>
<ns1:UserName>ovfuser</ns1:UserName>
<ns1:UserPassword>%s</ns1:UserPassword>
<ns1:CustomData>%s</ns1:CustomData>
<ns1:DisableSshPasswordAuthentication>true</ns1:DisableSshPasswordAuthentication>
<ns1:SSH><ns1:PublicKeys>
<ns1:PublicKey><ns1:Fingerprint>6BE7A7C3C8A8F4B123CCA5D0C2F1BE4CA7B63ED7</ns1:Fingerprint>
<ns1:Path>/home/ovfuser/.ssh/authorized_keys</ns1:Path><ns1:Value>%s</ns1:Value></ns1:PublicKey>
</ns1:PublicKeys></ns1:SSH>
</ns1:LinuxProvisioningConfigurationSet></ns1:ProvisioningSection>
<ns1:PlatformSettingsSection><ns1:Version>1.0</ns1:Version><ns1:PlatformSettings>
<ns1:ProvisionGuestAgent>false</ns1:ProvisionGuestAgent>
<ns1:GuestAgentPackageName xsi:nil="true" /></ns1:PlatformSettings></ns1:PlatformSettingsSection>
</ns0:Environment>
""" % (AZ_PASSWORD, base64.encodebytes(AZ_CUSTOM_DATA.encode()).decode(), AZ_MEDIA_KEY)


def azure_media(tmp):
    """Azure's provisioning CD (UDF, as genisoimage -udf writes it) with IMDS unreachable:
    provisioned from the media alone, reported ready to the wire server."""
    root = os.path.join(tmp, "ovf")
    os.makedirs(root)
    with open(os.path.join(root, "ovf-env.xml"), "w") as f:
        f.write(AZ_OVF)
    iso = os.path.join(tmp, "ovf.iso")
    subprocess.run(["genisoimage", "-quiet", "-udf", "-o", iso, "-V", "rd_rdfe_stable", root],
                   check=True)
    AzureMd.log, AzureMd.reports, AzureMd.refuse_report = [], [], False
    serve(AzureMd, azure_media_boot, iso)


def azure_media_boot(iso, ws):
    # IMDS: a port nothing listens on
    with cloud_vm("netcfg-azure-media", "wisp.imds=10.0.2.2:9 wisp.wireserver=%s" % ws,
                  ["-smbios", "type=3,asset=7783-7084-3265-9085-8269-3286-77",
                   "-uuid", AZ_MEDIA_UUID, "-cdrom", iso]) as vm:
        vm.expect(BANNER, BOOT_TIMEOUT)
        vm.expect(r"cloud-init: datasource Azure \(provisioning media /dev/sr0, udf\), "
                  r"instance-id %s \(new instance\)" % AZ_MEDIA_UUID.lower(), 60)
        print("  ok: the provisioning CD found and mounted as UDF; IMDS unreachable; "
              "instance id: DMI's uuid", flush=True)
        vm.boot(PROVISIONED, banner=False)
        vm.seen_since_banner(re.compile(r"cloud-init: Azure: reported ready to the wire server "
                                        r"at %s \(incarnation 7\)" % re.escape(ws)), 60)
        check(len(AzureMd.reports) == 1 and health_ok(AzureMd.reports[0]),
              "ready reported without IMDS: the goal state's ids and Ready")
        _, out = vm.sh("hostname; cat /etc/ovf.txt; echo; cat /home/ovfuser/.ssh/"
                       "authorized_keys; grep ^ovfuser: /etc/passwd; grep -c ' udf ' /proc/mounts;"
                       " grep -c ds-mnt /proc/mounts")
        check(re.search(r"(?m)^wisp-ovf-1$", out), "host name: ovf-env.xml's HostName")
        check("from-custom-data" in out, "CustomData decoded and applied (write_files)")
        check(AZ_MEDIA_KEY in out and re.search(r"(?m)^ovfuser:x:\d+:", out),
              "ovf-env.xml's UserName made, with its PublicKey's Value")
        check(re.search(r"(?m)^0\n0$", out), "the media's file system unmounted: %r"
              % out.strip())
        wait_sh(vm, "wispctl status cloud-final", lambda rc, o: re.search(
            r"(?m)^state:\s+done$", o), "cloud-final ran (runcmd)", 120)
        rc, _ = vm.sh("test -e /run/customdata-runcmd")
        check(rc == 0, "CustomData's runcmd ran")
        # split, so that the typed line (a shell's history) does not hold it
        # regular files only (grep -r would open the control socket); the control line
        # proves the search reads what it is given; errors are dropped because a
        # restarting container's files vanish between find's readdir and grep's open
        rc, out = vm.sh("p=%s; echo \"$p%s\" > /tmp/control; find /run /var /etc /tmp "
                        "-type f -exec grep -slF \"$p%s\" {} + 2>/dev/null"
                        % ((AZ_PASSWORD[:10],) + (AZ_PASSWORD[10:],) * 2))
        check(out.split() == ["/tmp/control"],
              "the media's UserPassword kept in no file: %r" % out.strip())


def main(case=None):
    if case == "gce":  # the GCE boot alone
        return gce()
    if case == "azure":  # the Azure boot alone
        return azure()
    with tempfile.TemporaryDirectory(prefix="wisp-netcfg-", ignore_cleanup_errors=True) as tmp:
        if case == "azure-media":  # the Azure boot from its provisioning CD alone
            return azure_media(tmp)
        ec2()
        gce()
        azure()
        azure_media(tmp)
        config_drive(tmp)
        nocloud(tmp)


if __name__ == "__main__":
    sys.exit(run_test("netcfg", lambda: main(*sys.argv[1:2])))
