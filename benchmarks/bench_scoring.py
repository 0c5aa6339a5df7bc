"""Time and peak memory to rank N synthetic organisations (default 10,000).

    python benchmarks/bench_scoring.py [--orgs 10000] [--seed 1] [--repeat 3]

Builds random summaries for all four dimensions (the published method's 18 + 18
+ 12 + 5 indicators, plus accumulated data/model) in memory, then measures:
rank_month (in memory: four dimensions, accumulated, overall, deltas against a
previous month), writing the ten CSV files, and the whole
``python -m scoring rank`` path (read CSVs + rank + write), in process and as a
subprocess. Peak memory: tracemalloc (Python allocations of rank_month, separate
run) and the peak resident set size of the ``python -m scoring rank`` subprocess
(/proc VmHWM) and of this benchmark process (resource.getrusage).
"""

import argparse
import random
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scoring import default_method, rank_month, write_outputs  # noqa: E402
from scoring.cli import main  # noqa: E402
from scoring.io import format_table  # noqa: E402


# python -m scoring, reporting its own peak RSS in KiB. VmHWM belongs to the new address
# space; ru_maxrss would carry over the forking parent's peak across exec on Linux.
CHILD = ("import resource, sys; from scoring.cli import main; code = main(sys.argv[1:]); "
         "hwm = [l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')]; "
         "print(hwm[0] if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss); "
         "sys.exit(code)")


def synthetic_month(n, method, rng):
    """{"data": [records], ...}: heavy-tailed counts, a share of zeros (ties), like the real data."""
    tables = {}
    for key in [*method.names, "data-accumulated", "model-accumulated"]:
        dim = method.dimension(key.split("-")[0])
        rows = []
        for i in range(n):
            rec = {"org": f"org{i:06d}"}
            for ind in dim.indicators:
                rec[ind] = 0 if rng.random() < 0.4 else int(rng.paretovariate(1.2) * 10)
            rows.append(rec)
        tables[key] = rows
    return tables


def best(fn, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return min(times), result


def main_bench():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--orgs", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    method, rng = default_method(), random.Random(args.seed)
    prev_tables = synthetic_month(args.orgs, method, rng)
    tables = synthetic_month(args.orgs, method, rng)
    prev = rank_month(prev_tables, method)

    t_rank, ranking = best(lambda: rank_month(tables, method, prev), args.repeat)
    t_fmt, _ = best(lambda: [format_table(t) for t in ranking.outputs().values()], args.repeat)
    with tempfile.TemporaryDirectory() as tmp:
        t_write, _ = best(lambda: write_outputs(ranking, Path(tmp) / "out"), args.repeat)
        write_outputs(prev, Path(tmp) / "prev")
        month = Path(tmp) / "month"
        month.mkdir()
        for key, table in ranking.inputs.items():  # summaries as CSV files
            table.to_csv(month / f"{key}-summary.csv", lineterminator="\n")
        cli = ["rank", str(month), "--previous", str(Path(tmp) / "prev"),
               "--out", str(Path(tmp) / "cli"), "-q"]
        t_cli, code = best(lambda: main(cli), args.repeat)
        assert code == 0
        root = Path(__file__).resolve().parents[1]
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", CHILD, *cli], cwd=root, check=True,
                              capture_output=True, text=True)
        t_sub = time.perf_counter() - t0
        child_rss = int(proc.stdout.split()[-1])

    tracemalloc.start()
    rank_month(tables, method, prev)
    _, peak_rank = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux

    n_ind = sum(len(d.indicators) for d in method.dimensions)
    ov = ranking.rankings["overall-rank"]
    print(f"organisations           {args.orgs:,} (x {n_ind} indicators, 4 dimensions "
          f"+ 2 accumulated, overall, deltas)")
    print(f"rank_month (in memory)  {t_rank * 1000:8.1f} ms   (best of {args.repeat})")
    print(f"format 10 CSV tables    {t_fmt * 1000:8.1f} ms")
    print(f"write_outputs (10 files){t_write * 1000:8.1f} ms")
    print(f"CLI rank read+rank+write{t_cli * 1000:8.1f} ms   (in process)")
    print(f"python -m scoring rank  {t_sub * 1000:8.1f} ms   (subprocess, incl. start-up)")
    print(f"peak Python memory      {peak_rank / 2**20:8.1f} MiB   (tracemalloc, rank_month)")
    print(f"max RSS, scoring rank   {child_rss / 1024:8.1f} MiB   (the subprocess, VmHWM)")
    print(f"max RSS, this benchmark {maxrss / 1024:8.1f} MiB   (holds 2 months of inputs+outputs)")
    print(f"distinct overall ranks  {ov['rank'].nunique():,}")


if __name__ == "__main__":
    main_bench()
