#!/usr/bin/env python3
"""Draws the charts of bench/plots/ from //bench:sweep_bench's JSON output.

Each chart puts memlog and its references (the hand-written baseline, the
floor) on the same axes, with the swept quantity on a logarithmic x axis:

  sharded_shards.png  sharded Write and Read per operation vs shards
  sharded_keys.png    the same vs keys
  streams_wakeup.png  stream wake-up p50 and p99 vs concurrent streams
  streams_writer.png  the writer's throughput vs concurrent streams
  record_size.png     Write and Read per operation, and GB/s, vs record size

Usage (bench/plot.sh runs this with Debian's python3-matplotlib):

  bench/plot.sh --run    # runs the sweeps (--config=opt), then draws
  bench/plot.sh          # draws again from bench/plots/sweep.json

With --run, arguments that start with --benchmark_ go to the benchmark
binary (for example --benchmark_filter=Sharded); the JSON is written to
--json (default bench/plots/sweep.json), and the charts to --out.
"""

import argparse
import json
import math
import pathlib
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")  # files only, no display
# pylint: disable=wrong-import-position
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent
PLOTS = ROOT / "bench" / "plots"

OURS = "tab:blue"
BASELINE = "tab:orange"
FLOOR = "tab:gray"
# Suffixes Google Benchmark adds to a name that are not arguments.
NOT_ARGUMENTS = {"min_time", "iterations", "repeats", "threads",
                 "real_time", "process_time"}


def run_sweeps(json_path, benchmark_args):
    """Runs sweep_bench with --config=opt, writing its JSON to json_path."""
    json_path.parent.mkdir(parents=True, exist_ok=True)
    command = [str(ROOT / "bazelw"), "run", "--config=opt",
               "//bench:sweep_bench", "--",
               "--benchmark_out_format=json",
               f"--benchmark_out={json_path.resolve()}"] + benchmark_args
    print("plot.py:", " ".join(command), file=sys.stderr)
    subprocess.run(command, cwd=ROOT, check=True)


class Results:
    """The runs of one JSON file, by family name and arguments."""

    def __init__(self, data):
        self.context = data.get("context", {})
        self.runs = {}
        for run in data.get("benchmarks", []):
            if run.get("error_occurred") or run.get("run_type") == "aggregate":
                continue
            family, arguments = parse_name(run["run_name"])
            self.runs.setdefault(family, []).append((arguments, run))

    def series(self, family, x_argument, value, **fixed):
        """(xs, ys): `value(run)` of each run of `family` whose arguments
        match `fixed`, by argument `x_argument`, in increasing x."""
        points = []
        for arguments, run in self.runs.get(family, []):
            if any(arguments.get(name) != wanted
                   for name, wanted in fixed.items()):
                continue
            y = value(run)
            if y is not None and x_argument in arguments:
                points.append((arguments[x_argument], y))
        points.sort()
        return [x for x, _ in points], [y for _, y in points]

    def cache_bytes(self, level):
        """The size of the unified or data cache of `level`, or None."""
        for cache in self.context.get("caches", []):
            if cache.get("level") == level and cache.get("type") in (
                    "Unified", "Data"):
                return cache["size"]
        return None

    def machine(self):
        caches = ", ".join(
            f"L{level} {format_bytes(size)}"
            for level in (2, 3)
            if (size := self.cache_bytes(level)) is not None)
        cpus = self.context.get("num_cpus", "?")
        return f"{cpus} CPUs, {caches} (bytes); {self.context.get('date', '')}"


def parse_name(name):
    """'BM_Log_Write/bytes:16/min_time:0.200' -> ('BM_Log_Write',
    {'bytes': 16})."""
    family, *parts = name.split("/")
    arguments = {}
    for part in parts:
        key, _, text = part.partition(":")
        if key in NOT_ARGUMENTS or not text:
            continue
        arguments[key] = int(text)
    return family, arguments


def nanos_per_item(run):
    """Time per operation, by the benchmark's own clock (CPU time for the
    single-threaded loops, real time for those that say real_time)."""
    rate = run.get("items_per_second")
    return 1e9 / rate if rate else None


def counter(name):
    return lambda run: run.get(name)


def gigabytes_per_second(run):
    rate = run.get("bytes_per_second")
    return rate / 1e9 if rate else None


def format_bytes(size):
    for unit, scale in (("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10)):
        if size >= scale:
            return f"{size / scale:g}{unit}"
    return f"{size:g}"


def format_count(value, _position=None):
    if value >= 1e6 and value % 1e6 == 0:
        return f"{value / 1e6:g}M"
    if value >= 1e3 and value % 1e3 == 0:
        return f"{value / 1e3:g}k"
    return f"{value:g}"


def line(axes, xs, ys, label, color, style="-", marker="o"):
    if xs:
        axes.plot(xs, ys, style, color=color, marker=marker, label=label)


def finish(axes, xlabel, ylabel, title, count_ticks=True, legend="best"):
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.set_title(title)
    axes.grid(True, which="major", alpha=0.4)
    axes.grid(True, which="minor", alpha=0.1)
    if count_ticks:
        axes.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(
            format_count))
    axes.legend(fontsize="small", loc=legend)


def save(figure, results, out, name, title):
    figure.suptitle(f"{title}\n{results.machine()}", fontsize="medium")
    figure.tight_layout()
    path = out / name
    figure.savefig(path, dpi=100)
    plt.close(figure)
    print(f"plot.py: wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


def plot_sharded(results, out, x_argument, fixed, name, title, xlabel):
    figure, (write, read) = plt.subplots(1, 2, figsize=(11, 4.5))
    for axes, operation in ((write, "Write"), (read, "Read")):
        line(axes, *results.series(f"BM_ShardedLog_{operation}", x_argument,
                                   nanos_per_item, **fixed),
             f"memlog {operation}", OURS)
        line(axes, *results.series(f"BM_BaselineShardedLog_{operation}",
                                   x_argument, nanos_per_item, **fixed),
             f"baseline {operation}", BASELINE, "--", "s")
        finish(axes, xlabel, "ns per operation (CPU)",
               f"{operation}(key, ...), 100 B records")
    save(figure, results, out, name, title)


def plot_wakeup(results, out):
    figure, axes_pair = plt.subplots(1, 2, figsize=(11, 4.5))
    for axes, quantile in zip(axes_pair, ("p50_us", "p99_us")):
        for family, label, color, style, marker in (
                ("BM_Log_ThreadStreamsWakeup", "memlog, a thread per stream",
                 OURS, "-", "o"),
                ("BM_Log_LoopStreamsWakeup",
                 "memlog, one loop thread (NotifyWhenReady)", OURS, ":", "^"),
                ("BM_BaselineLog_ThreadStreamsWakeup",
                 "baseline, a polling thread per stream", BASELINE, "--", "s"),
                ("BM_BaselineLog_LoopStreamsWakeup",
                 "baseline, one polling loop thread", BASELINE, ":", "v")):
            line(axes, *results.series(family, "streams", counter(quantile)),
                 label, color, style, marker)
        finish(axes, "concurrent streams", "µs, write to delivery",
               f"wake-up {quantile.removesuffix('_us')}")
    save(figure, results, out, "streams_wakeup.png",
         "Stream wake-up latency vs concurrent streams (100 B records)")


def plot_writer(results, out):
    figure, axes = plt.subplots(figsize=(7.5, 4.8))
    for family, label, color, style, marker in (
            ("BM_Log_WriteWithThreadStreams", "memlog, a thread per stream",
             OURS, "-", "o"),
            ("BM_Log_WriteWithLoopStreams",
             "memlog, one loop thread (NotifyWhenReady)", OURS, ":", "^"),
            ("BM_BaselineLog_WriteWithThreadStreams",
             "baseline, a polling thread per stream", BASELINE, "--", "s"),
            ("BM_BaselineLog_WriteWithLoopStreams",
             "baseline, one polling loop thread", BASELINE, ":", "v")):
        xs, ys = results.series(family, "streams", counter("items_per_second"))
        alone = [y for x, y in zip(xs, ys) if x == 0]
        line(axes, [x for x in xs if x > 0], [y for x, y in zip(xs, ys) if x > 0],
             label, color, style, marker)
        if alone:
            axes.axhline(alone[0], color=color, linestyle="-", alpha=0.35,
                         linewidth=3, label=f"{label.split(',')[0]} writer, no streams")
    finish(axes, "concurrent streams", "writes per second (real time)",
           "Writer throughput while the streams follow")
    save(figure, results, out, "streams_writer.png",
         "One writer, 100 B records, as fast as it can")


def cache_crossing(results, level):
    """The record size at which the log's retained bytes pass the cache of
    `level` (from the retained_bytes counter), or None."""
    size = results.cache_bytes(level)
    xs, ys = results.series("BM_Log_Write", "bytes", counter("retained_bytes"))
    for (x0, y0), (x1, y1) in zip(zip(xs, ys), zip(xs[1:], ys[1:])):
        if size is not None and y0 <= size < y1:
            # Interpolate in log space between the two sizes.
            t = (math.log(size) - math.log(y0)) / (math.log(y1) - math.log(y0))
            return math.exp(math.log(x0) + t * (math.log(x1) - math.log(x0)))
    return None


def plot_record_size(results, out):
    figure, grid = plt.subplots(2, 2, figsize=(11, 8.5))
    lines = {
        "Write": (("BM_Log_Write", "memlog Write", OURS, "-", "o"),
                  ("BM_BaselineLog_Write", "baseline Write", BASELINE, "--",
                   "s"),
                  ("BM_Floor_Write", "floor (memcpy + a release store)", FLOOR,
                   "-.", "d")),
        "Read": (("BM_Log_Read", "memlog Read (a copy)", OURS, "-", "o"),
                 ("BM_Log_ReadView", "memlog ReadView (no copy)", OURS, ":",
                  "^"),
                 ("BM_BaselineLog_Read", "baseline Read (a copy)", BASELINE,
                  "--", "s"),
                 ("BM_Floor_Read", "floor (an acquire load + memcpy)", FLOOR,
                  "-.", "d")),
    }
    crossings = [(level, cache_crossing(results, level)) for level in (2, 3)]
    for column, operation in enumerate(("Write", "Read")):
        for row, (value, ylabel) in enumerate((
                (nanos_per_item, "ns per operation (CPU)"),
                (gigabytes_per_second, "payload GB/s"))):
            axes = grid[row][column]
            for family, label, color, style, marker in lines[operation]:
                if family == "BM_Log_ReadView" and row == 1:
                    continue  # no bytes are moved
                line(axes, *results.series(family, "bytes", value), label,
                     color, style, marker)
            for level, crossing in crossings:
                if crossing is not None:
                    axes.axvline(crossing, color="black", linestyle=":",
                                 alpha=0.5)
                    if row == 1:  # once per column, clear of the lines
                        axes.annotate(f"retained > L{level}", (crossing, 0.98),
                                      xycoords=("data", "axes fraction"),
                                      rotation=90, fontsize="x-small",
                                      ha="right", va="top")
            finish(axes, "record size (bytes)", ylabel, operation, False,
                   "upper left" if row == 0 else "lower right")
            sizes, _ = results.series("BM_Log_Write", "bytes",
                                      counter("retained_bytes"))
            axes.xaxis.set_major_locator(matplotlib.ticker.FixedLocator(sizes))
            axes.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
            axes.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(
                lambda value, _position: format_bytes(value)))
    save(figure, results, out, "record_size.png",
         "Write and Read vs record size: 2000 records retained up to "
         "64 KiB, 256 MiB in all from 256 KiB")


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", action="store_true",
                        help="run //bench:sweep_bench first")
    parser.add_argument("--json", type=pathlib.Path, default=PLOTS / "sweep.json")
    parser.add_argument("--out", type=pathlib.Path, default=PLOTS)
    options, rest = parser.parse_known_args()
    unknown = [arg for arg in rest if not arg.startswith("--benchmark_")]
    if unknown:
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    if options.run:
        run_sweeps(options.json, rest)
    with open(options.json, encoding="utf-8") as file:
        results = Results(json.load(file))
    options.out.mkdir(parents=True, exist_ok=True)
    plot_sharded(results, options.out, "shards", {"keys": 100_000},
                 "sharded_shards.png",
                 "Sharded log vs shards: 100,000 keys, 1,000,000 records "
                 "retained in all", "shards")
    plot_sharded(results, options.out, "keys", {"shards": 1000},
                 "sharded_keys.png",
                 "Sharded log vs keys: 1000 shards, 1,000,000 records "
                 "retained in all", "keys")
    plot_wakeup(results, options.out)
    plot_writer(results, options.out)
    plot_record_size(results, options.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
