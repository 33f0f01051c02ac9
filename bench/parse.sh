#!/bin/sh
# What loading a declaration file costs, natively, with init's own build
# flags (musl, -Os, static, the sysroot's libyaml): a file like the image's
# /etc/wisp/image.yaml in bench/init_numbers.py (a console, a oneshot and
# 50 services). Under TCG the same work is some 30 times slower; it sat on
# the boot's critical path (the early units' load) until PID 1 read only
# compiled declarations (docs/declarations.md); provision still parses its own. Several trees (each
# built with `make`) are measured in one run, interleaved, for a ratio:
#   sh bench/parse.sh [TREE...]       default: this tree
set -eu
RUNS=${WISP_BENCH_PARSE_RUNS:-500}
B=${B:-build}
mkdir -p "$B/bench"
file=$B/bench/units52.yaml
{
	echo "services:"
	echo "  - {name: console, command: [/bin/sh, -l], tty: console, restart: always, early: true}"
	echo "  - {name: first, kind: oneshot, command: [cat, /proc/uptime], early: true}"
	i=0
	while [ $i -lt 50 ]; do
		printf "  - {name: s%02d, command: [sleep, '100000'], restart: always}\n" $i
		i=$((i + 1))
	done
} >"$file"
[ $# -gt 0 ] || set -- .
n=0
for tree in "$@"; do
	n=$((n + 1))
	# shellcheck disable=SC2046
	musl-gcc -std=c11 -Os -Wall -Wextra -Werror -D_GNU_SOURCE -isystem "$tree/build/sysroot/include" \
		-I"$tree/init" -o "$B/bench/parse_decl.$n" bench/parse_decl.c \
		$(for f in decl declset yamltree parse users deps err util; do
			[ ! -f "$tree/init/lib/$f.c" ] || echo "$tree/init/lib/$f.c"; done) \
		-static -L"$tree/build/sysroot/lib" -lyaml
done
for _ in 1 2 3; do
	n=0
	for tree in "$@"; do
		n=$((n + 1))
		echo "$tree $("$B/bench/parse_decl.$n" "$file" "$RUNS")" >>"$B/bench/parse.$$"
	done
done
for tree in "$@"; do
	ms=$(awk -v t="$tree" '$1 == t {print $2}' "$B/bench/parse.$$" | sort -n | sed -n 2p)
	echo "$tree: decl_load_ms $ms (52 units, median of 3 medians of 7 x $RUNS loads)"
	[ -n "${first:-}" ] || first=$ms
done
[ $# -lt 2 ] || echo "decl_load ratio $tree/$1: $(echo "scale=2; $ms / $first" | bc)"
rm -f "$B/bench/parse.$$"
