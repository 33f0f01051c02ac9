#!/bin/sh
# /bin/demo of the default image's demo container (image-builder/wisp.yaml):
# says where it runs, then a line every 10 s; each line also refreshes
# /tmp/tick, which the declaration's health check reads.
# PID 1 of its namespace ignores a signal it has no handler for: without
# this trap, stopping it (poweroff) would wait for stop_timeout's SIGKILL.
trap 'echo "demo: stopping"; exit 0' TERM INT
echo "demo: started in a container from image wisp/demo:1, pid $$ in its own namespace"
echo "demo: its root is host uid $(awk '$1 == 0 { print $2 }' /proc/self/uid_map) (user namespace)"
n=0
while :; do
	n=$((n + 1))
	date >/tmp/tick
	echo "demo: tick $n, $(cat /tmp/tick)"
	# in the background, so that the trap runs at once, not after the sleep
	sleep 10 &
	wait $!
done
