#!/usr/bin/env python3
"""Execute course notebooks on the lesson8-java kernel and check them.

    run_notebooks.py [--mode fast|default|full] [--solutions] [--out DIR] [--runs N] NOTEBOOK...

Each notebook runs in a fresh kernel with LESSON8_MODE=<mode> and
LESSON8_METRICS_DIR=<dir>. It fails if a cell raises or times out, if any output is an
error, if any printed text contains the failed-check mark, or if the metrics file
<dir>/<stem>.json is missing or misses the floors in floors.json (next to the notebook)
for this mode, or if it shows fewer figures (image outputs) than figures.json (next to the
notebook) expects ({"NN_name": N} for every mode, or {"NN_name": {"fast": N, "default": N,
"full": N}}). Prints one line per notebook, then "N passed, N failed"; exits 1 on failure.

With --runs N every notebook runs N times (all notebooks once, then again, ...), the CSV
target/test-logs/notebooks-<mode>.csv has one row per run, and a table of the median, min and
max of the wall time and of the kernel's peak RSS per notebook is printed (and written to
--summary FILE as Markdown, with FILE.csv beside it).
"""
import argparse
import csv
import json
import math
import os
import re
import statistics
import sys
import threading
import time
from pathlib import Path

import nbformat
import psutil
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
KERNEL = "lesson8-java"
FAIL_MARK = "\u274c"
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class PeakRss(threading.Thread):
    """Polls the resident memory of a process tree and keeps the peak."""

    def __init__(self, pid, interval=0.2):
        super().__init__(daemon=True)
        self.proc = psutil.Process(pid)
        self.interval = interval
        self.peak = 0
        self.peak_procs = []  # (name, pid, MB) of each process counted at the peak
        self.done = threading.Event()

    def run(self):
        while not self.done.is_set():
            try:
                procs = [self.proc] + self.proc.children(recursive=True)
                rss, seen = 0, []
                for p in procs:
                    try:
                        r = p.memory_info().rss
                        rss += r
                        seen.append((p.name(), p.pid, round(r / 2**20)))
                    except psutil.Error:
                        pass
                if rss > self.peak:
                    self.peak, self.peak_procs = rss, seen
            except psutil.Error:
                return
            self.done.wait(self.interval)

    def stop(self):
        self.done.set()
        self.join(timeout=2)
        return self.peak


class MeasuredClient(NotebookClient):
    """A NotebookClient that starts a PeakRss monitor on its kernel process."""

    monitor = None

    async def async_start_new_kernel(self, **kwargs):
        await super().async_start_new_kernel(**kwargs)
        pid = getattr(getattr(self.km, "provisioner", None), "pid", None)
        if pid:
            self.monitor = PeakRss(pid)
            self.monitor.start()


def rel(path):
    return path.relative_to(ROOT) if path.is_relative_to(ROOT) else path


def apply_solutions(nb):
    for cell in nb.cells:
        if cell.cell_type != "code" or "exercise" not in cell.metadata.get("tags", []):
            continue
        solution = cell.metadata.get("solution")
        if isinstance(solution, list):
            solution = "".join(solution)
        if isinstance(solution, str):
            cell.source = solution


def output_text(out):
    if out.get("output_type") == "stream":
        text = out.get("text", "")
    else:
        data = out.get("data", {})
        text = [v for k, v in data.items() if k.startswith("text/")]
    if isinstance(text, list):
        text = "".join(t if isinstance(t, str) else "".join(t) for t in text)
    return text


def scan_outputs(nb):
    """Returns (first error output or None, first line with the failed-check mark or None)."""
    error, marked = None, None
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error" and error is None:
                error = out
            if marked is None and FAIL_MARK in output_text(out):
                marked = next(line for line in output_text(out).splitlines() if FAIL_MARK in line).strip()
    return error, marked


IMAGE_MIME = "image/"


def count_images(nb):
    """Number of figures a notebook shows: display_data and execute_result outputs with an image/* type
    (image/png, image/svg+xml, ...). A display updated in place (update_display_data) stays one figure."""
    return sum(1 for cell in nb.cells for out in cell.get("outputs", [])
               if out.get("output_type") in ("display_data", "execute_result")
               and any(k.startswith(IMAGE_MIME) for k in out.get("data", {})))


def display_fallbacks(nb):
    """Lines printed by the library's display path outside a kernel ("[display] image 28x28", ...)."""
    return [line.strip() for cell in nb.cells for out in cell.get("outputs", [])
            for line in output_text(out).splitlines() if line.startswith("[display]")]


def check_figures(expected, stem, mode, nb):
    """Returns (problems, count): the notebook must show at least expected[stem] figures (a number for every
    mode, or {"fast": N, "default": N, "full": N})."""
    count = count_images(nb)
    minimum = expected.get(stem)
    if isinstance(minimum, dict):
        minimum = minimum.get(mode)
    if not isinstance(minimum, int) or isinstance(minimum, bool):
        return [f"no figure minimum declared for {stem} in mode {mode} (figures.json next to the notebook; "
                f"this run showed {count})"], count
    if count < minimum:
        hint = display_fallbacks(nb)
        return [f"{stem} shows {count} figures (image outputs), expected at least {minimum} in mode {mode} (figures.json)"
                + (f"; text printed instead of a figure: {hint[0]!r}" + (f" and {len(hint) - 1} more" if len(hint) > 1 else "")
                   if hint else "")], count
    return [], count


def describe_error(out, lines=6):
    head = f"{out.get('ename', '?')}: {out.get('evalue', '')}".strip()
    tb = [ANSI.sub("", line) for entry in out.get("traceback", []) for line in entry.splitlines()]
    tb = [line for line in tb if line.strip() and line.strip() != head][:lines]
    return "\n".join([head] + ["      " + line for line in tb])


def check_floors(floors, stem, mode, metrics_file):
    """Returns (problems, summary) for the metrics of one notebook."""
    declared = floors.get(stem, {}).get(mode)
    if not declared:
        return ["no floors declared" + (f" for mode {mode}" if stem in floors else "")], ""
    if not metrics_file.is_file():
        return [f"metrics file {rel(metrics_file)} missing"], ""
    try:
        metrics = json.loads(metrics_file.read_text())
    except ValueError as e:
        return [f"metrics file {rel(metrics_file)} is not JSON: {e}"], ""
    problems, shown = [], []
    for name, bound in declared.items():
        value = metrics.get(name)
        if not isinstance(value, (int, float)) or isinstance(value, bool) or math.isnan(value):
            problems.append(f"metric {name} missing or not a number ({value!r})")
            continue
        limits = []
        if "min" in bound:
            limits.append(f"min {bound['min']:g}")
            if value < bound["min"]:
                problems.append(f"{name}={value:.4g} below min {bound['min']:g}")
        if "max" in bound:
            limits.append(f"max {bound['max']:g}")
            if value > bound["max"]:
                problems.append(f"{name}={value:.4g} above max {bound['max']:g}")
        shown.append(f"{name}={value:.4g} ({', '.join(limits)})")
    return problems, "   ".join(shown)


def run_one(path, args, floors, figures, metrics_dir, log_dir):
    stem = path.stem
    nb = nbformat.read(path, as_version=4)
    if args.solutions:
        apply_solutions(nb)
    metrics_file = metrics_dir / f"{stem}.json"
    metrics_file.unlink(missing_ok=True)
    env = dict(os.environ, LESSON8_MODE=args.mode, LESSON8_METRICS_DIR=str(metrics_dir))
    client = MeasuredClient(nb, timeout=args.timeout, kernel_name=KERNEL,
                            resources={"metadata": {"path": str(path.parent)}})
    problems = []
    start = time.monotonic()
    kernel_log = log_dir / f"kernel-{stem}-{args.mode}.log"
    try:
        with open(kernel_log, "w") as stderr:
            client.execute(env=env, stderr=stderr)
    except Exception as e:  # CellExecutionError, CellTimeoutError, DeadKernelError, startup errors
        if not hasattr(e, "ename"):  # CellExecutionError is reported through its error output below
            first = (str(e).strip().splitlines() or [""])[0]
            problems.append(f"{type(e).__name__}: {first} (kernel log: {rel(kernel_log)})")
    seconds = time.monotonic() - start
    peak = client.monitor.stop() if client.monitor else 0
    if client.monitor and len(client.monitor.peak_procs) > 1:  # a child process at the peak: say which (shared pages count twice)
        print(f"      note: {stem}'s peak RSS sums " + ", ".join(f"{n} {pid} {mb} MB" for n, pid, mb in client.monitor.peak_procs))
    args.out.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, args.out / path.name)

    error, marked = scan_outputs(nb)
    if error is not None:
        problems.insert(0, describe_error(error))
    if marked:
        problems.append(f"failed check: {marked}")
    crashed = bool(problems)
    floor_problems, summary = check_floors(floors, stem, args.mode, metrics_file)
    if not crashed or any(p.startswith("no floors") for p in floor_problems):
        problems += floor_problems  # after a crash a missing metrics file is no news
    figure_problems, figure_count = check_figures(figures, stem, args.mode, nb)
    if not crashed or any(p.startswith("no figure") for p in figure_problems):
        problems += figure_problems  # nor are missing figures
    summary = f"figures={figure_count}" + (f"   {summary}" if summary else "")
    return stem, (not problems), seconds, peak / 2**20, summary, problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("notebooks", nargs="+", type=Path)
    ap.add_argument("--mode", choices=["fast", "default", "full"], default="default")
    ap.add_argument("--solutions", action="store_true", help="run the solutions of exercise cells")
    ap.add_argument("--out", type=Path, help="where executed copies go (default target/executed/<mode>)")
    ap.add_argument("--timeout", type=int, default=900, help="seconds per cell (default 900)")
    ap.add_argument("--runs", type=int, default=1, help="run every notebook this many times (default 1)")
    ap.add_argument("--summary", type=Path, help="write the median/min/max table here (Markdown; CSV beside it)")
    args = ap.parse_args()
    if args.runs < 1:
        ap.error("--runs must be at least 1")
    sys.stdout.reconfigure(line_buffering=True)
    args.out = (args.out or ROOT / "target" / "executed" / args.mode).resolve()
    metrics_dir = ROOT / "target" / "metrics" / args.mode
    log_dir = ROOT / "target" / "test-logs"
    metrics_dir.mkdir(parents=True, exist_ok=True)
    log_dir.mkdir(parents=True, exist_ok=True)

    rows, width = [], max(len(p.stem) for p in args.notebooks)
    floors_of, figures_of = {}, {}
    for path in args.notebooks:
        floors = {}
        for floors_file in sorted(path.resolve().parent.glob("floors*.json")):  # floors.json, floors-02_image_gpt.json, ...
            for k, v in json.loads(floors_file.read_text()).items():
                floors.setdefault(k, {}).update(v)
        floors_of[path] = floors
        figures_file = path.resolve().parent / "figures.json"
        figures_of[path] = json.loads(figures_file.read_text()) if figures_file.is_file() else {}
    for run in range(1, args.runs + 1):
        for path in args.notebooks:
            stem, ok, seconds, rss, summary, problems = run_one(path.resolve(), args, floors_of[path], figures_of[path], metrics_dir, log_dir)
            tag = f"  run {run}/{args.runs}" if args.runs > 1 else ""
            line = f"{'PASS' if ok else 'FAIL'}  {stem:<{width}}  {args.mode:<7}  {seconds:6.1f} s   peak RSS {rss:5.0f} MB{tag}"
            print(line + (f"   {summary}" if summary else ""))
            for problem in problems:
                print("      " + problem.replace("\n", "\n      "))
            rows.append((stem, args.mode, run, "pass" if ok else "fail", round(seconds, 1), round(rss)))

    with open(log_dir / f"notebooks-{args.mode}.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["notebook", "mode", "run", "status", "seconds", "peak_rss_mb"])
        w.writerows(rows)
    if args.runs > 1 or args.summary:
        table = summarise(rows, args.mode)
        print(table)
        if args.summary:
            args.summary.parent.mkdir(parents=True, exist_ok=True)
            args.summary.write_text(table)
            with open(args.summary.with_suffix(".csv"), "w", newline="") as f:
                w = csv.writer(f)
                w.writerow(["notebook", "mode", "runs", "failed", "seconds_median", "seconds_min", "seconds_max",
                            "peak_rss_mb_median", "peak_rss_mb_min", "peak_rss_mb_max"])
                for stem, runs, failed, sec, rss in per_notebook(rows):
                    w.writerow([stem, args.mode, runs, failed, *sec, *rss])
    failed = sum(r[3] == "fail" for r in rows)
    print(f"{len(rows) - failed} passed, {failed} failed")
    return 1 if failed else 0


def per_notebook(rows):
    """(notebook, runs, failed runs, (median, min, max) seconds, (median, min, max) peak RSS MB), in first-run order."""
    out = []
    for stem in dict.fromkeys(r[0] for r in rows):
        mine = [r for r in rows if r[0] == stem]
        sec = [r[4] for r in mine]
        rss = [r[5] for r in mine]
        out.append((stem, len(mine), sum(r[3] == "fail" for r in mine),
                    (round(statistics.median(sec), 1), min(sec), max(sec)),
                    (round(statistics.median(rss)), min(rss), max(rss))))
    return out


def summarise(rows, mode):
    lines = [f"## Notebooks, {mode} mode", "",
             "| notebook | runs | failed | seconds (median) | min | max | peak RSS MB (median) | min | max |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for stem, runs, failed, sec, rss in per_notebook(rows):
        lines.append(f"| {stem} | {runs} | {failed} | {sec[0]:.1f} | {sec[1]:.1f} | {sec[2]:.1f} | {rss[0]} | {rss[1]} | {rss[2]} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
