#!/usr/bin/env python3
"""Kernel start to first result: JVM start + JJava, DJL native load (first NDArray), first cell.

Prints a Markdown table (median, min, max of several runs) and appends it to target/bench/benchmark.md
and its rows to target/bench/benchmark.csv.
"""
import statistics
import sys
import time
from pathlib import Path

from jupyter_client.manager import start_new_kernel


def run_once():
    t0 = time.perf_counter()
    km, kc = start_new_kernel(kernel_name="lesson8-java")
    try:
        t_ready = time.perf_counter()
        reply = kc.execute_interactive("1 + 1", timeout=120, output_hook=lambda m: None)
        assert reply["content"]["status"] == "ok", reply
        t_first = time.perf_counter()
        code = ("var m = ai.djl.ndarray.NDManager.newBaseManager();"
                "System.out.println(m.ones(new ai.djl.ndarray.types.Shape(2, 2)).sum().getFloat());")
        reply = kc.execute_interactive(code, timeout=120, output_hook=lambda m: None)
        assert reply["content"]["status"] == "ok", reply
        t_djl = time.perf_counter()
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    return t_ready - t0, t_first - t0, t_djl - t0


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    res = [run_once() for _ in range(runs)]
    names = ["kernel ready (JVM + JJava start)", "first cell result (`1 + 1`)", "first DJL result (native library loaded)"]
    lines = ["", "## Kernel start to first result", "", "| step (seconds from kernel start) | median | min | max |", "|---|---:|---:|---:|"]
    for i, n in enumerate(names):
        v = [r[i] for r in res]
        lines.append(f"| {n} | {statistics.median(v):.2f} | {min(v):.2f} | {max(v):.2f} |")
    text = "\n".join(lines) + "\n"
    print(text)
    out = Path("target/bench/benchmark.md")
    if out.exists():
        with out.open("a") as f:
            f.write(text)
    rows = Path("target/bench/benchmark.csv")
    if rows.exists():
        with rows.open("a") as f:
            for i, n in enumerate(names):
                v = [r[i] for r in res]
                f.write(f'"kernel start: {n}",s,{statistics.median(v):.3f},{min(v):.3f},{max(v):.3f},""\n')


if __name__ == "__main__":
    main()
