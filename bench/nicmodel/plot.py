#!/usr/bin/python3
"""Plots nic-model's projections: throughput and latency against group size.

  bench/nicmodel/plot.py THROUGHPUT_TSV LATENCY_TSV OUT_DIR

THROUGHPUT_TSV and LATENCY_TSV are nic-model outputs (the latency one run
with --pace all). Writes OUT_DIR/model-throughput.png and
OUT_DIR/model-latency.png; both are labelled as projections.
"""
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

LABELS = {64: "64 B", 1024: "1 KiB", 10240: "10 KiB", 65536: "64 KiB"}


def rows(path, mode):
    out = {}
    for line in open(path):
        c = line.rstrip("\n").split("\t")
        if line.startswith("#") or c[0] == "members" or c[2] != mode:
            continue
        value = float(c[5]) if mode == "throughput" else float(c[8])
        out.setdefault(int(c[1]), []).append((int(c[0]), value))
    return out


def plot(series, ylabel, title, path, extra=None):
    fig, ax = plt.subplots(figsize=(9.5, 4.5))
    for size, points in sorted(series.items()):
        xs, ys = zip(*sorted(points))
        ax.plot(xs, ys, marker="o", label=LABELS.get(size, f"{size} B"))
    if extra:
        extra(ax)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xticks([2, 3, 4, 8, 16, 32], labels=["2", "3", "4", "8", "16", "32"])
    ax.set_xlabel("members (N)")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def derecho_bandwidth(ax):
    ax.scatter([16], [9700], marker="*", s=150, color="black",
               label="Derecho + Spindle, 10 KB, 16 nodes (published)")


def derecho_latency(ax):
    ax.axhline(1.25, color="black", linestyle=":", label="Derecho small message (about 1.25 us)")


def main():
    throughput, latency, out = sys.argv[1:4]
    plot(rows(throughput, "throughput"), "MB/s (all senders)",
         "PROJECTION (cost model, 100 Gb/s NIC): throughput", f"{out}/model-throughput.png",
         derecho_bandwidth)
    plot(rows(latency, "latency"), "us, median, slowest member",
         "PROJECTION (cost model, 100 Gb/s NIC): latency, one message in flight",
         f"{out}/model-latency.png", derecho_latency)


if __name__ == "__main__":
    main()
