#!/bin/sh
# symbolize.sh [SYSTEM_MAP] < console.log
#
# The kernel has no symbol table (no KALLSYMS, to fit its size budget), so
# oopses print bare addresses. This annotates them from System.map (default
# build/kernel/System.map), undoing KASLR with the "Kernel Offset:" line the
# kernel prints when it panics:
#   [ 1.48] ? 0xffffffff850c10bc   ->   [ 1.48] ? 0xffffffff850c10bc mount_root+0x8c
# Without an offset line the addresses are taken as unrelocated.
set -eu

main() {
	map=${1:-build/kernel/System.map}
	[ -r "$map" ] || { echo "symbolize: cannot read $map" >&2; exit 2; }
	# stdin is read twice (offset first, then annotate): keep a copy
	log=$(mktemp)
	trap 'rm -f "$log"' EXIT
	cat > "$log"
	off=$(sed -n 's/.*Kernel Offset: 0x\([0-9a-f]*\) from.*/\1/p' "$log" | tail -n 1)
	awk -v off="${off:-0}" '
	# Kernel text lives in 0xffffffff80000000-0xffffffffbfffffff: the low
	# 32 bits identify an address, and fit awk doubles exactly.
	function hex(s,    i, n) {
		s = tolower(s); n = 0
		for (i = 1; i <= length(s); i++)
			n = n * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
		return n
	}
	function lookup(a,    lo, hi, mid) {
		if (n == 0 || a < addr[1]) return ""
		lo = 1; hi = n
		while (lo < hi) {
			mid = int((lo + hi + 1) / 2)
			if (addr[mid] <= a) lo = mid; else hi = mid - 1
		}
		# no function is 64 KiB long: past that it is not a text address
		if (a - addr[lo] >= 65536) return ""
		return sprintf("%s+0x%x", name[lo], a - addr[lo])
	}
	FNR == NR {
		if ($2 ~ /^[tTwW]$/ && $1 ~ /^ffffffff/) {
			addr[++n] = hex(substr($1, 9)); name[n] = $3
		}
		next
	}
	/Kernel Offset:/ { print; next }
	{
		line = $0; out = ""
		while (match(line, /0xffffffff[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]/)) {
			s = lookup(hex(substr(line, RSTART + 10, 8)) - hex(off))
			out = out substr(line, 1, RSTART + RLENGTH - 1) (s == "" ? "" : " " s)
			line = substr(line, RSTART + RLENGTH)
		}
		print out line
	}
	' "$map" "$log"
}

main "$@"
