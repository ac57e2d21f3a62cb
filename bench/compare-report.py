#!/usr/bin/env python3
"""The reporting half of ci/compare: reads the JSON lines bench/compare-vm
wrote into RESULTS and writes DOCS/benchmarks.md with the plots
DOCS/benchmarks-latency.png and DOCS/benchmarks-throughput.png (gnuplot).

    python3 bench/compare-report.py build/compare docs

Standard library only. The targets the ratios are held against:
  - 64 B AGREED median latency, 3 members: at most 3x raw one-way write latency;
  - 64 KiB throughput, 2 members: at least 80% of raw write bandwidth;
  - 1 KiB: at least 10x corosync's messages/s, at most 1/10 of its median latency.
"""
import json
import os
import subprocess
import sys

SIZES = [64, 1024, 16384, 65536, 1048576]


def size_name(b):
    if b >= 1 << 20 and b % (1 << 20) == 0:
        return f"{b >> 20} MiB"
    if b >= 1024 and b % 1024 == 0:
        return f"{b >> 10} KiB"
    return f"{b} B"


def read_jsonl(path):
    rows = []
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line.startswith("{"):
                    try:
                        rows.append(json.loads(line))
                    except json.JSONDecodeError:
                        pass
    return rows


def read_env(path):
    env = {}
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                key, _, value = line.rstrip("\n").partition("=")
                if key:
                    env[key] = value
    return env


class Results:
    def __init__(self, results_dir):
        self.raw = read_jsonl(os.path.join(results_dir, "raw.jsonl"))
        self.ring = read_jsonl(os.path.join(results_dir, "ringcast.jsonl"))
        self.coro = read_jsonl(os.path.join(results_dir, "corosync.jsonl"))
        self.rcpg = read_jsonl(os.path.join(results_dir, "ringcast-cpg.jsonl"))
        self.rcpg2 = read_jsonl(os.path.join(results_dir, "ringcast-cpg-2.jsonl"))
        self.rzcb = read_jsonl(os.path.join(results_dir, "ringcast-cpg-zcb.jsonl"))
        self.env = read_env(os.path.join(results_dir, "host.env"))
        self.env.update(read_env(os.path.join(results_dir, "vm.env")))

    def raw_lat(self, size):
        return next((r for r in self.raw if r["tool"] == "ib_write_lat" and r["size"] == size), None)

    def raw_bw(self, size):
        return next((r for r in self.raw if r["tool"] == "ib_write_bw" and r["size"] == size), None)

    def ringcast(self, members, size, mode, guarantee="agreed", send="copy"):
        return next((r for r in self.ring
                     if r["members"] == members and r["size"] == size and r["mode"] == mode
                     and r["guarantee"] == guarantee and r["send"] == send
                     and r.get("order_verified")), None)

    def best_throughput(self, members, size, guarantee="agreed"):
        rows = [self.ringcast(members, size, "throughput", guarantee, s) for s in ("copy", "zero-copy")]
        rows = [r for r in rows if r]
        return max(rows, key=lambda r: r["min_msgs_per_s"]) if rows else None

    @staticmethod
    def cpg(rows, size, mode):
        return next((r for r in rows if r["size"] == size and r["mode"] == mode), None)


def median(r):
    return r["latency"]["median_usec"] if r and "latency" in r else None


def fmt(v, digits=1):
    if v is None:
        return "n/a"
    return f"{v:,.{digits}f}"


def unit(v, digits, suffix):
    return "n/a" if v is None else f"{v:,.{digits}f}{suffix}"


def ratio(a, b):
    return a / b if a is not None and b else None


def target_rows(res):
    """(what, ringcast figure, baseline figure, ratio text, goal, met)"""
    rows = []
    raw64 = res.raw_lat(64)
    r = res.ringcast(3, 64, "latency")
    q = ratio(median(r), raw64 and raw64["median_usec"])
    rows.append(("64 B AGREED median latency, 3 members, vs ib_write_lat (one-way, t_typical)",
                 unit(median(r), 1, " us"), unit(raw64 and raw64['median_usec'], 2, " us"),
                 unit(q, 2, "x"), "<= 3x", q is not None and q <= 3))
    # The minimum is what the path costs when nothing else runs: on a loaded
    # host it moves far less than the median (shown, not a target).
    r_min = r and r["latency"]["min_usec"]
    q = ratio(r_min, raw64 and raw64["min_usec"])
    rows.append(("(information) the same, minimum instead of median",
                 unit(r_min, 1, " us"), unit(raw64 and raw64["min_usec"], 2, " us"),
                 unit(q, 2, "x"), "-", None))
    raw = res.raw_bw(65536)
    r = res.best_throughput(2, 65536)
    q = ratio(r and r["min_msgs_per_s"], raw and raw["msgs_per_s"])
    rows.append(("64 KiB AGREED throughput, 2 members (" + (r["send"] if r else "n/a")
                 + " send), vs ib_write_bw", unit(r and r['min_msgs_per_s'], 0, " msg/s"),
                 unit(raw and raw['msgs_per_s'], 0, " msg/s"), unit(q and q * 100, 0, "%"), ">= 80%", q is not None and q >= 0.8))
    for name, rows_cpg in (("ringcast-bench, 2 members", None),
                           ("ringcast CPG (cpgbench), 1 node", res.rcpg),
                           ("ringcast CPG (cpgbench), 2 nodes", res.rcpg2)):
        if rows_cpg is None:
            thr = res.ringcast(2, 1024, "throughput")
            lat = res.ringcast(2, 1024, "latency")
            thr_v = thr and thr["min_msgs_per_s"]
        else:
            if not rows_cpg:
                continue
            thr = res.cpg(rows_cpg, 1024, "throughput")
            lat = res.cpg(rows_cpg, 1024, "latency")
            thr_v = thr and thr["msgs_per_s"]
        coro_thr = res.cpg(res.coro, 1024, "throughput")
        coro_lat = res.cpg(res.coro, 1024, "latency")
        q = ratio(thr_v, coro_thr and coro_thr["msgs_per_s"])
        rows.append((f"1 KiB messages/s, {name}, vs corosync cpgbench", unit(thr_v, 0, " msg/s"),
                     unit(coro_thr and coro_thr['msgs_per_s'], 0, " msg/s"), unit(q, 2, "x"),
                     ">= 10x", q is not None and q >= 10))
        q = ratio(median(lat), median(coro_lat))
        rows.append((f"1 KiB median latency, {name}, vs corosync cpgbench", unit(median(lat), 1, " us"),
                     unit(median(coro_lat), 1, " us"), unit(q, 3, "x"), "<= 0.1x",
                     q is not None and q <= 0.1))
    return rows


def side_by_side(res):
    out = ["| size | raw write latency | ringcast 2 | ringcast 3 | ringcast 5 | corosync | raw write MB/s | ringcast 2 | ringcast 3 | ringcast 5 | corosync |",
           "|---|---|---|---|---|---|---|---|---|---|---|"]
    for s in SIZES:
        raw_l = res.raw_lat(s)
        raw_b = res.raw_bw(s)
        lats = [median(res.ringcast(m, s, "latency")) for m in (2, 3, 5)]
        thrs = [res.best_throughput(m, s) for m in (2, 3, 5)]
        coro_l = median(res.cpg(res.coro, s, "latency"))
        coro_t = res.cpg(res.coro, s, "throughput")
        out.append("| " + " | ".join(
            [size_name(s), fmt(raw_l and raw_l["median_usec"], 2)] + [fmt(v) for v in lats]
            + [fmt(coro_l), fmt(raw_b and raw_b["mb_per_s"])]
            + [fmt(t and t["min_mb_per_s"], 2) for t in thrs]
            + [fmt(coro_t and coro_t["mb_per_s"], 2)]) + " |")
    return out


def matrix_table(res):
    out = ["| members | size | guarantee | mode | send | count | median us | p99 us | p99.9 us | msgs/s | MB/s | order |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in res.ring:
        lat = r.get("latency")
        thr = r["mode"] == "throughput"
        out.append("| " + " | ".join([
            str(r["members"]), size_name(r["size"]), r["guarantee"], r["mode"], r["send"],
            str(r["count"]), fmt(lat and lat["median_usec"]), fmt(lat and lat["p99_usec"]),
            fmt(lat and lat["p99_9_usec"]), fmt(r["min_msgs_per_s"], 0) if thr else "-",
            fmt(r["min_mb_per_s"], 2) if thr else "-",
            "verified" if r.get("order_verified") else "FAILED"]) + " |")
    return out


def cpg_table(rows, name):
    out = [f"| size | {name} median us | p99 us | p99.9 us | msgs/s | MB/s |", "|---|---|---|---|---|---|"]
    for s in SIZES:
        lat = Results.cpg(rows, s, "latency")
        thr = Results.cpg(rows, s, "throughput")
        ls = lat["latency"] if lat else None
        out.append("| " + " | ".join([size_name(s), fmt(ls and ls["median_usec"]),
                                      fmt(ls and ls["p99_usec"]), fmt(ls and ls["p99_9_usec"]),
                                      fmt(thr and thr["msgs_per_s"], 0),
                                      fmt(thr and thr["mb_per_s"], 2)]) + " |")
    return out


ZCB_ATOMIC = {"atomic-64k": 64 << 10, "atomic-1m": 1 << 20}


def zcb_table(rows):
    """bench/cpg/zcb-compare-vm's throughput lines: per atomic size and message
    size, copy and zero copy in each round, and their ratio (zero copy / copy)."""
    cases = {}
    for r in rows:
        if r.get("mode") == "throughput" and r.get("impl") in ZCB_ATOMIC:
            case = cases.setdefault((ZCB_ATOMIC[r["impl"]], r["size"]), {"copy": [], "zero-copy": []})
            case[r.get("send", "copy")].append(r["mb_per_s"])
    out = ["| atomic size | message | fragments | copy MB/s | zero copy MB/s | zero copy / copy |",
           "|---|---|---|---|---|---|"]
    for (atomic, size), c in sorted(cases.items()):
        frags = "whole" if size <= atomic else str(-(-size // (atomic - 32)))
        ratios = [z / p for z, p in zip(c["zero-copy"], c["copy"]) if p > 0]
        out.append("| " + " | ".join([
            size_name(atomic), size_name(size), frags,
            ", ".join(fmt(v, 2) for v in c["copy"]) or "-",
            ", ".join(fmt(v, 2) for v in c["zero-copy"]) or "-",
            ", ".join(f"{q:.2f}" for q in ratios) or "-"]) + " |")
    return out


def write_plot_data(res, work):
    """One .dat file per line of each plot: size value."""
    series = {
        "lat_raw": [(s, (res.raw_lat(s) or {}).get("median_usec")) for s in SIZES],
        "bw_raw": [(s, (res.raw_bw(s) or {}).get("mb_per_s")) for s in SIZES],
        "lat_coro": [(s, median(res.cpg(res.coro, s, "latency"))) for s in SIZES],
        "bw_coro": [(s, (res.cpg(res.coro, s, "throughput") or {}).get("mb_per_s")) for s in SIZES],
        "lat_rcpg": [(s, median(res.cpg(res.rcpg, s, "latency"))) for s in SIZES],
        "bw_rcpg": [(s, (res.cpg(res.rcpg, s, "throughput") or {}).get("mb_per_s")) for s in SIZES],
        "lat_rcpg2": [(s, median(res.cpg(res.rcpg2, s, "latency"))) for s in SIZES],
        "bw_rcpg2": [(s, (res.cpg(res.rcpg2, s, "throughput") or {}).get("mb_per_s")) for s in SIZES],
    }
    for m in (2, 3, 5):
        series[f"lat_rc{m}"] = [(s, median(res.ringcast(m, s, "latency"))) for s in SIZES]
        series[f"bw_rc{m}"] = [(s, (res.best_throughput(m, s) or {}).get("min_mb_per_s")) for s in SIZES]
    have = {}
    for name, points in series.items():
        points = [(s, v) for s, v in points if v]
        have[name] = bool(points)
        with open(os.path.join(work, name + ".dat"), "w") as f:
            for s, v in points:
                f.write(f"{s} {v}\n")
    return have


def plot(res, work, docs):
    have = write_plot_data(res, work)
    lines = {"raw": "raw RDMA write (perftest)", "rc2": "ringcast, 2 members",
             "rc3": "ringcast, 3 members", "rc5": "ringcast, 5 members",
             "coro": "corosync CPG (1 node, loopback)", "rcpg": "ringcast CPG (1 node)", "rcpg2": "ringcast CPG (2 nodes)"}
    script = []
    for kind, title, ylabel, out in (
            ("lat", "Median latency (send to self-delivery; raw: one-way write)", "microseconds",
             "benchmarks-latency.png"),
            ("bw", "Throughput delivered per member (raw: write bandwidth)", "MB/s (10^6 B)",
             "benchmarks-throughput.png")):
        plots = [f"'{work}/{kind}_{key}.dat' using 1:2 with linespoints title '{label}'"
                 for key, label in lines.items() if have.get(f"{kind}_{key}")]
        if not plots:
            continue
        script += [
            "set terminal pngcairo size 900,560 font 'sans,10'",
            f"set output '{os.path.join(docs, out)}'",
            f"set title \"{title}\"", "set logscale xy", "set grid",
            "set xlabel 'message size (bytes)'", f"set ylabel '{ylabel}'",
            "set xtics ('64' 64, '1K' 1024, '16K' 16384, '64K' 65536, '1M' 1048576)",
            "set key outside right top",
            "plot " + ", ".join(plots), "unset output"]
    if script:
        subprocess.run(["gnuplot"], input="\n".join(script), text=True, check=True)


def commands(res):
    scale = res.env.get("scale", "1")
    return [
        "```sh",
        "ci/compare                          # this page; COMPARE_SCALE=" + scale + " here",
        "# inside one ci/softroce-run VM session (bench/compare-vm):",
        "ib_write_lat -d rxe0 -x 1 -s SIZE -n N [10.99.0.1]   # server, then client; 3 runs, lowest median kept",
        "ib_write_bw  -d rxe0 -x 1 -s SIZE -n N [10.99.0.1]",
        f"build/bench/ringcast-bench -d rxe0 -x 1 --matrix --json --progress --scale {scale} --timeout 300",
        "corosync -f -c corosync.conf        # one node, knet on 127.0.0.1, no crypto",
        "build/bench/cpg/cpgbench-corosync -I corosync -m both -s SIZE -n N -N M   # latency, throughput",
        "RINGCAST_MODE=embedded RINGCAST_CONFIG=ringcast.conf RINGCAST_NODE_ID=1 \\",
        "  build/bench/cpg/cpgbench-ringcast -I ringcast-cpg -m both -s SIZE -n N -N M",
        "# 2 nodes: node 2 runs `cpgbench-ringcast -m listen -w 2`, node 1 `-m both ... -w 2`",
        "bash bench/cpg/zcb-compare-vm build 1   # the same pair, copying and -z, 256 KiB to 4 MiB",
        "```",
    ]


def machine(res):
    e = res.env
    return [
        f"- Date: {e.get('date', '?')}; commit {e.get('commit', '?')}.",
        f"- Host: {e.get('host_cpu', '?')}, {e.get('host_cores', '?')} cores; load average "
        f"{e.get('host_load_before', '?')} before, {e.get('host_load_after', '?')} after "
        "(other builds share the host: only ratios from one run mean anything).",
        f"- VM (ci/softroce-run): QEMU TCG, {e.get('vm_cpus', '?')} vCPUs ({e.get('vm_cpu', '?')}), "
        f"kernel {e.get('vm_kernel', '?')}, soft-RoCE {e.get('rdma_device', '?')} "
        f"(active MTU {e.get('active_mtu', '?')}).",
        f"- perftest {e.get('perftest', '?')}, corosync {e.get('corosync', '?')}; "
        f"scale {e.get('scale', '1')} (message counts multiplied by it).",
        f"- VM session {e.get('vm_session_s', '?')} s: perftest {e.get('raw_s', '?')} s, "
        f"corosync {e.get('corosync_s', '?')} s, ringcast CPG {e.get('ringcast_cpg_s', '?')} s "
        f"(zero copy against copy {e.get('ringcast_cpg_zcb_s', '?')} s), "
        f"ringcast-bench matrix {e.get('ringcast_s', '?')} s.",
    ]


# The model's projections are not measured by ci/compare: a pointer to them.
PROJECTIONS = (
    "PROJECTIONS, not measurements: `bench/nicmodel/nic-model` runs the ring on the "
    "simulated fabric with a cost model of a NIC and a CPU, calibrated against recorded "
    "rxe matrices and projected for a 100 Gb/s NIC at 2 to 32 members next to Derecho's "
    "published figures. The model, its calibration errors, the projection table and its "
    "plots are in [performance.md, \"Performance model\"](performance.md#performance-model).")


def report(res, docs):
    cpg_status = res.env.get("ringcast_cpg_status", "not measured")
    lines = ["# Benchmarks: ringcast next to raw RDMA and corosync", "",
             "Generated by `ci/compare`; do not edit by hand (run it again).",
             "Everything below was measured in ONE soft-RoCE VM session on the same rxe",
             "device. Under emulation absolute figures mean little; the ratios do.", "",
             "## Machine", ""] + machine(res) + ["", "## Targets (issue 6)", "",
             "| what | ringcast | baseline | ratio | goal | met |", "|---|---|---|---|---|---|"]
    for what, mine, base, q, goal, met in target_rows(res):
        verdict = "not measured" if q == "n/a" else ("yes" if met else "**no**")
        if met is None and q != "n/a":
            verdict = "-"
        lines.append(f"| {what} | {mine} | {base} | {q} | {goal} | {verdict} |")
    lines += ["", f"ringcast CPG (cpgbench built against libringcast): {cpg_status}.", "",
              "## Side by side", "",
              "Median latency in microseconds (ringcast and corosync: send to self-delivery, "
              "AGREED, copying send; raw: perftest's one-way write t_typical), then throughput "
              "in MB/s (10^6 bytes; ringcast: the slowest member's delivered rate, best of copy "
              "and zero-copy send; corosync: self-delivered rate of one sender).", ""]
    lines += side_by_side(res)
    lines += ["", "![latency vs size](benchmarks-latency.png)", "",
              "![throughput vs size](benchmarks-throughput.png)", "",
              "## corosync (cpgbench, one node on loopback)", ""]
    lines += cpg_table(res.coro, "corosync") if res.coro else ["not measured: " + res.env.get("corosync_status", "?")]
    if res.rcpg:
        lines += ["", "## ringcast CPG (the same cpgbench against libringcast, one node)", ""]
        lines += cpg_table(res.rcpg, "ringcast CPG")
    if res.rcpg2:
        lines += ["", "## ringcast CPG, 2 nodes (sender's figures; a second process listens)", ""]
        lines += cpg_table(res.rcpg2, "ringcast CPG")
    if res.rzcb:
        lines += ["", "## ringcast CPG, 2 nodes: zero copy against copy, large messages", "",
                  "`cpgbench -z` (`cpg_zcb_mcast_joined` from one `cpg_zcb_alloc` buffer) against "
                  "`cpgbench` (`cpg_mcast_joined`), the sender's delivered MB/s. A zero-copy call "
                  "returns once the NIC read the buffer, a call in fragments once the message was "
                  "delivered here, a whole copied one at once. Above the atomic size the message "
                  "goes in fragments, whose slices the NIC reads from the buffer "
                  "(bench/cpg/zcb-compare-vm; a figure per round, copy and zero copy alternating).", ""]
        lines += zcb_table(res.rzcb)
    lines += ["", "## ringcast-bench matrix", "",
              "Latency rows: the lowest node sends one message at a time and times its own "
              "delivery (the first tenth, at most 100, are warm-up). Throughput rows: every "
              "member sends its share as fast as back-pressure allows; msgs/s and MB/s are "
              "the slowest member's delivered rates. Every row checked the identical-order "
              "hash and per-sender FIFO on every member.", ""]
    lines += matrix_table(res)
    lines += ["", "## Projections", "", PROJECTIONS]
    lines += ["", "## Commands", ""] + commands(res) + ["",
              "Notes: corosync runs as a single node, so its messages never cross a network "
              "(its latency here is a lower bound for a real cluster), while ringcast's rows "
              "have 2 to 5 members writing over rxe. perftest reports bandwidth in MiB/s; the "
              "tables convert its message rate to 10^6 B/s. The raw figures come from one "
              "client-server pair on the same device.", ""]
    with open(os.path.join(docs, "benchmarks.md"), "w") as f:
        f.write("\n".join(lines))


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: compare-report.py RESULTS_DIR DOCS_DIR")
    results_dir, docs = sys.argv[1], sys.argv[2]
    res = Results(results_dir)
    plot(res, results_dir, docs)
    report(res, docs)


if __name__ == "__main__":
    main()
