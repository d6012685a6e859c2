"""redflag.spark.screen in Spark's local mode against the redflag command on the same
Parquet file: time, peak memory (of the whole process tree: driver JVM, Python workers,
as the sum of their proportional set sizes, so that pages they share count once),
and whether alerts.csv is the same, byte for byte. Documented in docs/spark.md ("What it costs").

    python benches/spark_compare.py FILE [--shards N] [--master local[2]] [--bin PATH]

Needs the package and pyspark installed (scripts/test-python's virtual environment has
both) and a release build of the command (default target/release/redflag under
$CARGO_TARGET_DIR).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import List


def proportional_kb(pid: int) -> int:
    """A process's proportional set size (Pss, KB): its resident memory, each page shared
    with other processes counted in part, so that the sum over processes that fork from
    one another (Spark's Python workers) counts a shared page once."""
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            if line.startswith("Pss:"):
                return int(line.split()[1])
    raise ValueError("no Pss")


def tree_rss_kb(root: int) -> int:
    """The memory of a process and all its descendants (the sum of their Pss), in KB."""
    children: dict[int, List[int]] = {}
    rss: dict[int, int] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                parts = f.read().rsplit(")", 1)[1].split()
            ppid = int(parts[1])
            rss[int(d)] = proportional_kb(int(d))
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(d))
    total, stack = 0, [root]
    while stack:
        p = stack.pop()
        total += rss.get(p, 0)
        stack.extend(children.get(p, []))
    return total


class Peak:
    """Samples the process tree's memory (Pss) every 0.2 s."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, tree_rss_kb(os.getpid()))
            time.sleep(0.2)

    def __enter__(self) -> "Peak":
        self._t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._t.join()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--shards", type=int, default=4)
    ap.add_argument("--master", default="local[2]")
    target = Path(os.environ.get("CARGO_TARGET_DIR", "target"))
    ap.add_argument("--bin", default=str(target / "release" / "redflag"))
    args = ap.parse_args()

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    import redflag.spark

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.time()
        out = subprocess.run(
            ["/usr/bin/time", "-f", "%M", args.bin, "screen", args.file, "--out", tmp, "--quiet"],
            capture_output=True,
            text=True,
            check=True,
        )
        cli_time = time.time() - t0
        cli_peak = int(out.stderr.strip().splitlines()[-1])
        cli_alerts = (Path(tmp) / "alerts.csv").read_bytes()

    spark = (
        SparkSession.builder.master(args.master)
        .appName("redflag-bench")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", "8g")
        .getOrCreate()
    )
    with Peak() as peak:
        t0 = time.time()
        res = redflag.spark.screen(spark.read.parquet(args.file), shards=args.shards)
        spark_time = time.time() - t0
    spark.stop()
    with tempfile.TemporaryDirectory() as tmp:
        res.result.write(tmp, ("csv",))
        same = (Path(tmp) / "alerts.csv").read_bytes() == cli_alerts
    print(f"redflag screen          {cli_time:7.1f} s  peak {cli_peak / 1e6:5.2f} GB")
    print(f"redflag.spark.screen    {spark_time:7.1f} s  peak {peak.peak / 1e6:5.2f} GB (driver, JVM and workers)")
    print(f"ratio                   {spark_time / cli_time:7.2f}x")
    rows = cli_alerts.count(b"\n") - 1
    print(f"alerts.csv identical: {same} ({rows} alert rows)")


if __name__ == "__main__":
    main()
