#!/bin/sh
# Malformed specs: exit status 1, exactly one error line naming
# file:line:column and the key, and nothing left behind in the output dir.
set -eu
B=${B:-build}
ib=$B/host/image-builder
t=$B/tests/ib-cli
rm -rf "$t"; mkdir -p "$t/out"
fail=0

# expect NAME PATTERN: build $t/NAME.yaml, check error line and no residue.
expect() {
	name=$1 pattern=$2
	if $ib -C . -o "$t/out/$name.img" "$t/$name.yaml" >"$t/$name.out" 2>"$t/$name.err"; then
		echo "FAIL $name: image-builder accepted a bad spec"; fail=1; return
	fi
	lines=$(wc -l <"$t/$name.err")
	if [ "$lines" -ne 1 ] || ! grep -Eq "$pattern" "$t/$name.err"; then
		echo "FAIL $name: expected one line matching '$pattern', got:"; cat "$t/$name.err"
		fail=1; return
	fi
	if [ -n "$(ls -A "$t/out")" ]; then
		echo "FAIL $name: residue left: $(ls -A "$t/out")"; fail=1; return
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

[ $fail -eq 0 ] || exit 1
rm -rf "$t"
echo "PASS image-builder-cli"
