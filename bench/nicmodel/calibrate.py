#!/usr/bin/python3
"""Fits nic-model's cost model to a recorded rxe matrix and reports every row.

The matrix is docs/benchmarks.md at a commit (AGREED, copying send): the
throughput rows (msgs/s) and the latency rows (self-delivery median) for each
group size. The fit uses the 2-member rows only (log-space least squares over
bandwidth, ns per work request, one-way latency, CPU ns per visit and per
record, with posts that block the CPU as soft-RoCE's do, all members sharing
CORES cores: the VM's two); the 3- and 5-member rows are predictions.

  bench/nicmodel/calibrate.py NIC_MODEL CORES COMMIT [COMMIT...]   (markdown on stdout)
"""
import subprocess
import sys

import numpy as np
from scipy.optimize import least_squares

SIZES = {"64 B": 64, "1 KiB": 1024, "16 KiB": 16384, "64 KiB": 65536, "1 MiB": 1 << 20}
NAMES = ["bandwidth-mbs", "wr-ns", "latency-ns", "visit-ns", "record-ns"]
START = [40.0, 5000.0, 7000.0, 20000.0, 30000.0]


def number(text):
    return float(text.replace(",", ""))


def measured(commit):
    """{(members, size, mode): value}: msgs/s for throughput, median us for latency."""
    text = subprocess.run(["git", "show", commit + ":docs/benchmarks.md"], check=True,
                          capture_output=True, text=True).stdout
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 12 or cells[2] != "agreed" or cells[4] != "copy":
            continue
        key = (int(cells[0]), SIZES[cells[1]], cells[3])
        value = cells[6] if cells[3] == "latency" else cells[9]
        if value not in ("n/a", "-"):
            rows[key] = number(value)
    return rows


CORES = 0


def model_run(binary, params, members):
    args = [binary, "--members", ",".join(map(str, members)), "--posts-block-cpu", "1",
            "--cores", str(CORES)]
    for name, value in zip(NAMES, params):
        args += ["--" + name, str(max(1, int(round(value))))]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    result = {}
    for line in out.splitlines():
        if line.startswith("#") or line.startswith("members"):
            continue
        c = line.split("\t")
        mode = c[2]
        value = number(c[6]) if mode == "latency" else number(c[4])
        result[(int(c[0]), int(c[1]), mode)] = value
    return result


def fit(binary, rows):
    train = {k: v for k, v in rows.items() if k[0] == 2}

    def residuals(log_params):
        predicted = model_run(binary, np.exp(log_params), [2])
        return [np.log(predicted[k] / v) for k, v in sorted(train.items())]

    r = least_squares(residuals, np.log(START), diff_step=0.05, max_nfev=60)
    return np.exp(r.x)


def label(size):
    return {v: k for k, v in SIZES.items()}[size]


def report(binary, commit):
    rows = measured(commit)
    params = fit(binary, rows)
    predicted = model_run(binary, params, sorted({k[0] for k in rows}))
    print(f"\n### Run {commit} (cores {CORES})\n")
    print("Fitted: " + ", ".join(f"{n} {int(round(p))}" for n, p in zip(NAMES, params)) + "\n")
    print("| members | size | mode | measured | model | error | role |")
    print("|---|---|---|---|---|---|---|")
    errors = []
    for k in sorted(rows):
        m, p = rows[k], predicted[k]
        err = (p - m) / m
        unit = "us median" if k[2] == "latency" else "msgs/s"
        role = "fit" if k[0] == 2 else "prediction"
        if role == "prediction":
            errors.append(abs(err))
        print(f"| {k[0]} | {label(k[1])} | {k[2]} | {m:,.1f} {unit} | {p:,.1f} | "
              f"{err:+.0%} | {role} |")
    within = sum(e <= 0.25 for e in errors)
    print(f"\nPredictions within 25%: {within} of {len(errors)}; "
          f"median absolute error {np.median(errors):.0%}.")


def main():
    global CORES
    binary = sys.argv[1]
    CORES = int(sys.argv[2])
    for commit in sys.argv[3:]:
        report(binary, commit)


if __name__ == "__main__":
    main()
