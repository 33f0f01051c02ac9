#!/bin/bash
# Fuzz one target until it has used CPU_SECONDS of CPU time (user + system,
# measured by the kernel for the fuzzer process alone, not the compiler),
# in rounds of FUZZ_ROUND seconds. The total is kept in $B/fuzz/NAME.cpu,
# so a campaign stopped half-way resumes where it was (the corpus too).
#   bench/fuzz_cpu.sh NAME [CPU_SECONDS]     (default 3600: one CPU-hour)
# Prints one line per round and a summary: CPU seconds, runs, corpus, crashes.
# Wall time depends on the load (run it at nice 19 beside other work);
# CPU time is what issue 12 asks to record. A crash stops the target and fails.
set -eu
name=${1:?usage: bench/fuzz_cpu.sh NAME [CPU_SECONDS]}
want=${2:-3600}
B=${B:-build}
FUZZ_ROUND=${FUZZ_ROUND:-600}
bin=$B/fuzz/fuzz_$name corpus=$B/fuzz/corpus-$name acct=$B/fuzz/$name.cpu
# fuzz.sh builds the target, seeds the corpus and refuses an unknown name.
B=$B FUZZ_SECONDS=1 sh "$(dirname "$0")/fuzz.sh" "$name" >/dev/null

# CPU ticks of this shell's waited-for children (stat fields 16, 17) into
# $ticks: read in this shell, a $(...) subshell would read its own.
child_ticks() {
	local s
	read -r s </proc/$$/stat
	s=${s##*) }
	set -- $s
	ticks=$((${14} + ${15}))
}
hz=$(getconf CLK_TCK)
used=$(cat "$acct" 2>/dev/null || echo 0)
runs_all=0
while [ "$used" -lt "$want" ]; do
	child_ticks
	before=$ticks
	log=$B/fuzz/$name.log
	if ! "$bin" -max_total_time="$FUZZ_ROUND" -timeout=10 -rss_limit_mb=1024 \
		-artifact_prefix="$B/fuzz/crash-$name-" "$corpus" >"$log" 2>&1; then
		# libFuzzer's -timeout is wall time: at nice 19 on a busy machine an
		# input can wait 10 s for the CPU. A timeout that does not come back
		# when the input runs alone is the load's, not the target's.
		t=$(ls -t "$B/fuzz/crash-$name-timeout-"* 2>/dev/null | head -n 1)
		if [ -n "$t" ] && grep -q 'SUMMARY: libFuzzer: timeout' "$log" &&
			"$bin" -timeout=10 -rss_limit_mb=1024 "$t" >"$log.rerun" 2>&1; then
			echo "fuzz_$name: timeout under load, not one alone ($t, moved to $t.load)"
			mv "$t" "$t.load"
		else
			echo "fuzz_$name FAILED after $used CPU s (see $log):"
			tail -n 20 "$log"
			exit 1
		fi
	fi
	child_ticks
	after=$ticks
	used=$((used + (after - before) / hz))
	echo "$used" >"$acct"
	runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)
	[ -n "$runs" ] || runs=$(grep -Eo '#[0-9]+' "$log" | tail -1 | tr -d '#')
	runs_all=$((runs_all + ${runs:-0}))
	echo "fuzz_$name round: $(((after - before) / hz)) CPU s, ${runs:-?} runs; total $used CPU s"
done
# libFuzzer's slow-unit files and timeouts that ran fine alone (.load) are the
# load's (a fuzzer stopped with SIGSTOP during a bench leaves some): not crashes.
crashes=$(ls "$B/fuzz" | grep "^crash-$name-" | grep -v -e "^crash-$name-slow-unit-" -e '\.load$' | wc -l)
slow=$(ls "$B/fuzz" | grep -c -e "^crash-$name-slow-unit-" -e "^crash-$name-.*\.load$" || true)
echo "fuzz_$name: $used CPU s in all, $runs_all runs in this invocation, corpus $(ls "$corpus" | wc -l), crashes $crashes (slow or timed out under load only: $slow)"
