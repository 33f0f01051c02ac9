#!/bin/sh
# Malformed specs: exit status 1, exactly one error line naming
# file:line:column and the key, and nothing left behind in the output dir.
# Images baked into STATE (images:): the store in STATE checked with
# debugfs, reproducible and the same unprivileged; a missing and a corrupt
# archive fail naming it. ROOT carries the archives again for the live media.
set -eu
B=${B:-build}
ib=$B/host/image-builder
t=$B/tests/ib-cli
rm -rf "$t"; mkdir -p "$t/out"
fail=0

# expect NAME PATTERN: build $t/NAME.yaml, check error line and no residue.
expect() {
	name=$1 pattern=$2
	if $ib -C . -o "$t/out/$name.img" --tmpdir "$t/tmp-$name" "$t/$name.yaml" \
			>"$t/$name.out" 2>"$t/$name.err"; then
		echo "FAIL $name: image-builder accepted a bad spec"; fail=1; return
	fi
	lines=$(wc -l <"$t/$name.err")
	if [ "$lines" -ne 1 ] || ! grep -Eq "$pattern" "$t/$name.err"; then
		echo "FAIL $name: expected one line matching '$pattern', got:"; cat "$t/$name.err"
		fail=1; return
	fi
	if [ -n "$(ls -A "$t/out" "$t/tmp-$name" 2>/dev/null | grep -v :)" ]; then
		echo "FAIL $name: residue left: $(ls -A "$t/out" "$t/tmp-$name")"; fail=1; return
	fi
	echo "  ok: $name: $(cat "$t/$name.err")"
}

# Start from the real spec and break one thing at a time.
spec=image-builder/wisp.yaml
sed 's/^\(  root_size:\).*/\1 64Mbananas/' $spec >"$t/badsize.yaml"
expect badsize "badsize\.yaml:[0-9]+:[0-9]+: .*disk\.root_size"
{ cat $spec; echo "colour: blue"; } >"$t/unknown.yaml"
expect unknown "unknown\.yaml:[0-9]+:[0-9]+: .*colour"
{ cat $spec; echo "disk: [unclosed"; } >"$t/syntax.yaml"
expect syntax "syntax\.yaml:[0-9]+:[0-9]+: "
sed 's|^\(  image:\).*|\1 build/no-such-kernel|' $spec >"$t/nokernel.yaml"
expect nokernel "nokernel\.yaml:[0-9]+:[0-9]+: .*kernel\.image"

# secure_boot (docs/image-spec.md, "Secure Boot"): all three keys, each one usable;
# from the Secure Boot test image's spec (tests/system/secureboot.mk)
sb=$B/secureboot/wisp.yaml
sed '/^  gpg_key:/d' "$sb" >"$t/sbnogpg.yaml"
expect sbnogpg "sbnogpg\.yaml:[0-9]+:[0-9]+: key \"secure_boot\.gpg_key\": missing"
sed 's|^  gpg_key:.*|  gpg_key: README.md|' "$sb" >"$t/sbnotgpg.yaml"
expect sbnotgpg "secure_boot\.gpg_key README\.md: not an OpenPGP key gpg imports"
sed 's|^  key: \(.*\)db\.key$|  key: \1db.crt|' "$sb" >"$t/sbbadkey.yaml"
expect sbbadkey "secure_boot\.key .*db\.crt, cert .*db\.crt: signing GRUB's EFI image"
if pgrep -af "gpg-agent.*$t"; then echo "FAIL secure_boot: gpg-agent left running"; fail=1
else echo "  ok: secure_boot: no gpg-agent left running by those builds"; fi

# A unit in ROOT's /etc/wisp that init's parser refuses fails the build: its line
# names the file as ROOT has it, with line and column, then one summary; nothing is
# left. --allow-declaration-errors builds it, the same line a warning.
{ cat $spec; echo "  - {name: broken, command: [x], colour: blue}"; } >"$t/baddecl.yaml"
if $ib -C . -o "$t/out/baddecl.img" --tmpdir "$t/tmp-baddecl" "$t/baddecl.yaml" \
		>"$t/baddecl.out" 2>"$t/baddecl.err"; then
	echo "FAIL baddecl: image-builder accepted a unit init refuses"; fail=1
elif [ "$(wc -l <"$t/baddecl.err")" -ne 2 ] ||
	! grep -Eq '^image-builder: /etc/wisp/image\.yaml:[0-9]+:[0-9]+: service "broken": unknown field "colour"' "$t/baddecl.err" ||
	! grep -q '^image-builder: /etc/wisp: 1 declaration error(s) (above); --allow-declaration-errors builds anyway$' "$t/baddecl.err"; then
	echo "FAIL baddecl: expected the declaration's line and the summary, got:"; cat "$t/baddecl.err"; fail=1
elif [ -n "$(ls -A "$t/out" "$t/tmp-baddecl" 2>/dev/null | grep -v :)" ]; then
	echo "FAIL baddecl: residue left: $(ls -A "$t/out" "$t/tmp-baddecl")"; fail=1
else
	echo "  ok: baddecl: $(head -1 "$t/baddecl.err")"
fi
if ! $ib -C . -o "$t/baddecl-allowed.img" --tmpdir "$t/tmp-baddecl2" --allow-declaration-errors \
		"$t/baddecl.yaml" >"$t/baddecl2.out" 2>"$t/baddecl2.err" ||
	! grep -Eq '^image-builder: warning: /etc/wisp/image\.yaml:[0-9]+:[0-9]+: service "broken": unknown field' "$t/baddecl2.err"; then
	echo "FAIL baddecl: --allow-declaration-errors did not build with a warning:"; cat "$t/baddecl2.err"; fail=1
else
	echo "  ok: baddecl: --allow-declaration-errors builds, saying $(cat "$t/baddecl2.err")"
fi
rm -f "$t/baddecl-allowed.img"

# --- images: baked into STATE --------------------------------------------
# A one-layer busybox image made as the build makes its demo image, as an
# OCI tar and as a layout directory, plus the tar once more for import at
# boot; on a spec without the demo's own image (wispvm.without_demo), so
# that STATE holds these blobs only.
check() { if eval "$2"; then echo "  ok: $1"; else echo "FAIL $1"; fail=1; fi; }
oci=$t/oci
python3 image-builder/busybox_image.py -o "$t/bb.tar" --layout "$oci" \
	--busybox "$B/busybox/busybox" --applet sh
man=$(sed 's/.*"digest":"sha256:\([0-9a-f]*\)".*/\1/' "$oci/index.json")
python3 -c 'import sys; sys.path.insert(0, "tests/system"); import wispvm
sys.stdout.write(wispvm.without_demo(sys.stdin.read()))' <$spec >"$t/base.yaml"
images="images:
  - archive: $t/bb.tar
    name: wisp/bb:1
    live: true
  - archive: $oci
    live: true
  - archive: $t/bb.tar
    name: boot/bb:1
    import: boot
    live: true
  - archive: $t/bb.tar
    name: disk/bb:1"
{ cat "$t/base.yaml"; echo "$images"; } >"$t/images.yaml"
if ! $ib -C . -o "$t/images.img" -M "$t/images.d" --tmpdir "$t/tmp1" "$t/images.yaml" \
		>"$t/images.out" 2>"$t/images.err"; then
	echo "FAIL images: build failed: $(cat "$t/images.err")"; exit 1
fi
check "images: the summary names each image and its manifest digest" \
	'[ "$(grep -c "^  image     .* sha256:$man " "$t/images.out")" = 4 ] &&
	 grep -q "^  image     wisp/bb:1 sha256:$man ($t/bb.tar)" "$t/images.out" &&
	 grep -q "imported at boot" "$t/images.out"'
check "images: the depfile lists the archives, the layout's files and containerd-lite" \
	'grep -q "^$t/bb.tar:" "$t/images.d" && grep -q "^$oci/index.json:" "$t/images.d" &&
	 grep -q "^$oci/blobs/sha256/$man:" "$t/images.d" && grep -q "containerd-lite:" "$t/images.d"'

# STATE, cut out of the disk at its GPT offset
part=$(sfdisk -J "$t/images.img" | tr -d ' \n' | sed 's/.*"start":\([0-9]*\),"size":\([0-9]*\),[^}]*"name":"STATE".*/\1 \2/')
dd if="$t/images.img" of="$t/state.ext4" bs=512 skip="${part% *}" count="${part#* }" status=none
dbg() { debugfs -R "$1" "$t/state.ext4" 2>/dev/null; }
key=$(printf %s wisp/bb:1 | sha256sum | cut -d' ' -f1)
check "images: STATE holds the store, with wisp/bb:1's record naming its manifest" \
	'dbg "cat /lib/wisp/images/images/$key" | grep -q "\"manifest\": \"sha256:$man\""'
check "images: every blob of the layout is in the store, none is unpacked (lazy)" \
	'[ "$(dbg "ls /lib/wisp/images/blobs" | tr -s " \n" "\n" | grep -c "^[0-9a-f]\{64\}$")" = \
	   "$(ls "$oci/blobs/sha256" | wc -l)" ] &&
	 ! dbg "ls /lib/wisp/images/layers" | tr -s " \n" "\n" | grep -q "^[0-9a-f]\{64\}$"'
dbg "dump /lib/wisp/images/blobs/$man $t/man.blob"
check "images: a blob dumped from STATE has its digest" \
	'[ "$(sha256sum <"$t/man.blob" | cut -d" " -f1)" = "$man" ]'
check "images: owned by 0:0, dated SOURCE_DATE_EPOCH, blobs 0444, nothing world-writable" \
	'dbg "stat /lib/wisp/images/blobs/$man" | grep -q "Mode:  0444" &&
	 ! dbg "ls -l /lib/wisp/images/blobs" | awk "NR > 2 && (\$4 != 0 || \$5 != 0)" | grep -q . &&
	 dbg "stat /lib/wisp/images" | grep -q "User:     0   Group:     0" &&
	 dbg "stat /lib/wisp/images/blobs/$man" | grep -q "ctime: 0x$(printf %08x "${SOURCE_DATE_EPOCH:-1767225600}")" &&
	 ! dbg "ls -l /lib/wisp/images" | awk "{print \$2}" | grep -q "[2367]$"'
check "images: import: boot put the archive and its .name in /var/lib/wisp/import" \
	'dbg "cat /lib/wisp/import/bb.tar.name" | grep -qx "boot/bb:1" &&
	 dbg "stat /lib/wisp/import/bb.tar" | grep -q "Size: $(stat -c %s "$t/bb.tar")"'
# ROOT carries the archives marked live: true again, for the live media (image-builder/live.c)
fsck.erofs --extract="$t/images.tree" "$t/images.root" >/dev/null 2>&1 || true
lv=$t/images.tree/usr/share/wisp
check "images: ROOT carries each archive for live media, in spec order, with the spec's names" \
	'cmp -s "$lv/images/000-bb.tar" "$t/bb.tar" && [ "$(cat "$lv/images/000-bb.tar.name")" = wisp/bb:1 ] &&
	 cmp -s "$lv/images/001-oci/index.json" "$oci/index.json" && [ ! -e "$lv/images/001-oci.name" ] &&
	 [ "$(ls "$lv/images/001-oci/blobs/sha256")" = "$(ls "$oci/blobs/sha256")" ] &&
	 cmp -s "$lv/images/002-bb.tar" "$t/bb.tar" && [ "$(cat "$lv/images/002-bb.tar.name")" = boot/bb:1 ] &&
	 [ ! -e "$lv/images/003-bb.tar" ] && [ "$(ls "$lv/images" | wc -l)" = 5 ]'
check "images: ROOT carries the live boot's empty ext4 for /var/lib/wisp" \
	'debugfs -R "ls /" "$lv/live-store.ext4" 2>/dev/null | grep -q lost+found'
# the store, copied out, works with the host containerd-lite
mkdir -p "$t/rd" && dbg "rdump /lib/wisp/images $t/rd"
check "images: the baked store unpacks wisp/bb:1 (from its verified blob)" \
	'$B/host/containerd-lite image --store "$t/rd/images" unpack wisp/bb:1 "$t/rootfs" >/dev/null &&
	 cmp -s "$t/rootfs/bin/busybox" "$B/busybox/busybox"'

# reproducible, and the same bytes unprivileged (uid 65534, umask 077)
mkdir -p "$t/nobody" && chmod -R a+rX "$t" && chmod 0777 "$t/nobody"
check "images: a second build, unprivileged (uid 65534, umask 077), succeeds" \
	'setpriv --reuid 65534 --regid 65534 --clear-groups sh -c "umask 077; \
	 $ib -C . -o $t/nobody/images.img --tmpdir $t/nobody/tmp $t/images.yaml" \
	 >/dev/null 2>"$t/nobody.err" || { cat "$t/nobody.err"; false; }'
check "images: a second build, unprivileged, gives the same bytes" \
	'cmp -s "$t/images.img" "$t/nobody/images.img"'

# a missing archive, and one byte flipped in a blob of the tar
sed "s|archive: $t/bb.tar|archive: $t/none.tar|" "$t/images.yaml" >"$t/noarchive.yaml"
expect noarchive "noarchive\.yaml:[0-9]+:[0-9]+: key \"images\[0\]\.archive\": .*none\.tar: No such file"
cp -r "$oci" "$t/bad" && blob=$(ls -S "$t/bad/blobs/sha256" | head -1)
python3 -c 'import sys; p = sys.argv[1]; d = bytearray(open(p, "rb").read()); d[len(d) // 2] ^= 1; open(p, "wb").write(d)' "$t/bad/blobs/sha256/$blob"
tar -C "$t/bad" -cf "$t/bad.tar" .
sed "s|archive: $t/bb.tar|archive: $t/bad.tar|" "$t/images.yaml" >"$t/corrupt.yaml"
expect corrupt "corrupt\.yaml:[0-9]+: images\[0\] .*bad\.tar: .*blob sha256:$blob: sha256 is [0-9a-f]{64}$"

# --- update.key: a key rotation ------------------------------------------
# A bundle signed by the other test key (tests/update/update.mk) in slot B:
# refused by an image that trusts the test key only, taken by one that trusts
# both (a list), whose ROOT holds both where the updater looks.
key='^  key: tests/keys/wisp-test.pub.*'
slotb="  slot_b: $B/v2/other-key.bundle"
sed "s|$key|  key: tests/keys/wisp-test.pub\n$slotb|" $spec >"$t/onekey.yaml"
expect onekey "update\.slot_b: .*other-key\.bundle: signed by key [0-9A-F]{16}, which is not a trusted key"
sed "s|$key|  key: [tests/keys/wisp-test.pub, tests/keys/other-test.pub]\n$slotb|" $spec \
	>"$t/rotate.yaml"
check "update.key: a list of two keys takes a bundle signed by the second" \
	'$ib -C . -o "$t/rotate.img" --tmpdir "$t/tmp-rotate" "$t/rotate.yaml" >/dev/null \
	 2>"$t/rotate.err" || { cat "$t/rotate.err"; false; }'
check "update.key: ROOT holds both keys as /etc/wisp/update-keys/image.pub and image-2.pub" \
	'fsck.erofs --extract="$t/rotate.tree" "$t/rotate.root" >/dev/null 2>&1 &&
	 cmp -s "$t/rotate.tree/etc/wisp/update-keys/image.pub" tests/keys/wisp-test.pub &&
	 cmp -s "$t/rotate.tree/etc/wisp/update-keys/image-2.pub" tests/keys/other-test.pub'

# --- registries: containerd-lite's registry files in ROOT -------------------
# The spec's registries (user-data's wisp.registries schema and checks) rendered
# into ROOT by the renderer provision uses: the settings and a PEM ca 0644, the
# credentials 0600, all 0:0; a path ca must be a file of ROOT; the builder's files
# may not also be in the manifest.
regs='registries:
  ghcr.io: {username: bot, password: s3cret, ca: /etc/ssl/certs/ca-certificates.crt}
  docker.io: {mirrors: [mirror.lan:5000]}
  mirror.lan:5000: {insecure: true}
  registry.corp:5443:
    ca: |
      -----BEGIN CERTIFICATE-----
      MIIB
      -----END CERTIFICATE-----'
{ cat $spec; echo "$regs"; } >"$t/regs.yaml"
check "registries: a spec with registries builds" \
	'$ib -C . -o "$t/regs.img" --tmpdir "$t/tmp-regs" "$t/regs.yaml" >/dev/null \
	 2>"$t/regs.err" || { cat "$t/regs.err"; false; }'
# mode and owner of a path of ROOT, as the erofs records them ("0600 0:0")
inode() { dump.erofs --path="$1" "$t/regs.root" 2>/dev/null |
	sed -n 's/^Uid: \([0-9]*\) *Gid: \([0-9]*\) *Access: \([0-7]*\).*/\3 \1:\2/p'; }
check "registries: registries.json 0644, registry-auth.json 0600, the PEM ca 0644, owned by 0:0" \
	'[ "$(inode /etc/wisp/registries.json)" = "0644 0:0" ] &&
	 [ "$(inode /etc/wisp/registry-auth.json)" = "0600 0:0" ] &&
	 [ "$(inode /etc/wisp/registry-ca/registry.corp:5443.pem)" = "0644 0:0" ]'
printf '%s\n' '{"registries": {' \
	'    "ghcr.io": {"ca": "/etc/ssl/certs/ca-certificates.crt"},' \
	'    "docker.io": {"mirrors": ["mirror.lan:5000"]},' \
	'    "mirror.lan:5000": {"insecure": true},' \
	'    "registry.corp:5443": {"ca": "/etc/wisp/registry-ca/registry.corp:5443.pem"}' \
	'}}' >"$t/want-registries.json"
printf '%s\n' '{"auths": {' '    "ghcr.io": {"auth": "Ym90OnMzY3JldA=="}' '}}' >"$t/want-auth.json"
printf '%s\n' '-----BEGIN CERTIFICATE-----' MIIB '-----END CERTIFICATE-----' >"$t/want-ca.pem"
check "registries: their text is what user-data's wisp.registries would write" \
	'fsck.erofs --extract="$t/regs.tree" "$t/regs.root" >/dev/null 2>&1 &&
	 cmp -s "$t/regs.tree/etc/wisp/registries.json" "$t/want-registries.json" &&
	 cmp -s "$t/regs.tree/etc/wisp/registry-auth.json" "$t/want-auth.json" &&
	 cmp -s "$t/regs.tree/etc/wisp/registry-ca/registry.corp:5443.pem" "$t/want-ca.pem"'
sed 's|ca: /etc/ssl/certs/ca-certificates.crt|ca: /etc/ssl/nothere.pem|' "$t/regs.yaml" >"$t/regca.yaml"
expect regca "regca\.yaml:[0-9]+:[0-9]+: key \"registries\.ghcr\.io\.ca\": /etc/ssl/nothere\.pem: not in ROOT"
sed 's|{insecure: true}|{insecure: yes}|' "$t/regs.yaml" >"$t/reginsecure.yaml"
expect reginsecure "reginsecure\.yaml:[0-9]+:[0-9]+: key \"registries\.mirror\.lan:5000\.insecure\": expected true or false"
printf 'include rootfs/manifest\nfile /etc/wisp/registries.json %s 0644\n' "$t/want-registries.json" \
	>"$t/regs.manifest"
sed "s|^\(  manifest:\).*|\1 $t/regs.manifest|" "$t/regs.yaml" >"$t/regman.yaml"
expect regman "regs\.manifest:2: /etc/wisp/registries\.json: written by the builder from the spec"

# convert: bad input is one line naming it, exit status 1 (2: usage), no output left.
convert() {
	name=$1 want=$2 pattern=$3; shift 3
	mkdir -p "$t/conv"
	$ib convert "$@" >"$t/$name.out" 2>"$t/$name.err" && st=0 || st=$?
	if [ $st -ne "$want" ] || [ "$(wc -l <"$t/$name.err")" -ne 1 ] ||
			! grep -Eq "$pattern" "$t/$name.err" || [ -n "$(ls -A "$t/conv")" ]; then
		echo "FAIL convert $name: status $st (want $want), left: $(ls -A "$t/conv"), said:"
		cat "$t/$name.err"; fail=1; return
	fi
	echo "  ok: convert $name: $(cat "$t/$name.err")"
}
convert format 1 "^image-builder convert: --format vdi: not one of qcow2, vhd, vmdk, gce, iso, pxe\$" \
	--format vdi "$B/wisp.img" "$t/conv/x"
convert notgpt 1 "^image-builder convert: $t/bb\.tar: not a GPT disk image" \
	--format vhd "$t/bb.tar" "$t/conv/x.vhd"
convert missing 1 "^image-builder convert: open $t/none\.img: No such file or directory\$" \
	--format qcow2 "$t/none.img" "$t/conv/x.qcow2"
convert usage 2 "^image-builder convert: --format, IMAGE and OUT are needed" "$B/wisp.img"
truncate -s 1000000 "$t/odd.img"
dd if="$B/wisp.img" of="$t/odd.img" bs=512 count=34 conv=notrunc 2>/dev/null
convert vhdsize 1 "odd\.img: 1000000 bytes, not a whole number of MiB \(vhd needs it\)" \
	--format vhd "$t/odd.img" "$t/conv/x.vhd"
# iso: slot A's files come from the image's ESP and ROOT-A, found by GPT name
convert isoesp 1 "^image-builder convert: $t/odd\.img: the ESP's /A/slot\.cfg: mcopy failed" \
	--format iso "$t/odd.img" "$t/conv/x.iso"
truncate -s 4M "$t/esp-only.img"
printf 'label: gpt\nsize=1MiB, name=ESP\n' | sfdisk -q "$t/esp-only.img" >/dev/null
convert isoroot 1 "^image-builder convert: $t/esp-only\.img: no ROOT-A partition in its GPT\$" \
	--format iso "$t/esp-only.img" "$t/conv/x.iso"

[ $fail -eq 0 ] || exit 1
rm -rf "$t"
echo "PASS image-builder-cli"
