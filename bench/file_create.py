#!/usr/bin/env python3
"""What creating one empty file costs on a file system (bench/RESULTS.md,
issue 6: why the image store's unpack loses to umoci on the build
machine's ext4 and wins on tmpfs — it creates every file twice).

    python3 bench/file_create.py DIR...     (default: build/bench and /tmp)

In each DIR, a fresh subdirectory gets N empty files (WISP_BENCH_FILES,
default 3000) by open(O_CREAT|O_EXCL) + close in a Python loop; prints
the file system's type and the mean wall time per file, median of 3
rounds. The subdirectory is removed afterwards.
"""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

N = int(os.environ.get("WISP_BENCH_FILES", "3000"))


def one_round(d):
    """Mean ms per created file in a fresh directory under d."""
    w = tempfile.mkdtemp(prefix="wisp-create.", dir=d)
    try:
        t0 = time.monotonic()
        for i in range(N):
            os.close(os.open(os.path.join(w, "f%d" % i), os.O_WRONLY | os.O_CREAT | os.O_EXCL,
                             0o644))
        return (time.monotonic() - t0) * 1e3 / N
    finally:
        shutil.rmtree(w, ignore_errors=True)


def main():
    dirs = sys.argv[1:] or [os.path.join(os.environ.get("B", "build"), "bench"), "/tmp"]
    print("== one empty file created: open(O_CREAT|O_EXCL) + close, %d files, median of 3" % N)
    for d in dirs:
        os.makedirs(d, exist_ok=True)
        fs = subprocess.run(["findmnt", "-n", "-o", "FSTYPE", "--target", d],
                            capture_output=True, text=True).stdout.strip() or "?"
        rounds = [one_round(d) for _ in range(3)]
        print("%-32s %-8s %.3f ms per file  (rounds: %s)"
              % (d, fs, statistics.median(rounds), " ".join("%.3f" % r for r in rounds)))


if __name__ == "__main__":
    main()
