#!/usr/bin/env python3
"""The reporting half of ci/compare: reads the JSON lines bench/compare-vm
wrote into RESULTS and writes DOCS/benchmarks.md with its plots (gnuplot):
DOCS/benchmarks-latency.png and DOCS/benchmarks-throughput.png (against
message size, a line per group size), and where their phases ran
benchmarks-members.png (against group size, a line per message size; two
group sizes at least), benchmarks-daemon.png (embedded against through
ringcastd, per round) and benchmarks-corosync-programs.png (corosync's
cpgbench and cpgbenchzc against ringcast).

    python3 bench/compare-report.py build/compare docs

Standard library only. Any phase may be missing (COMPARE_PHASES): its rows
say "not measured" and its sections say why; the group sizes are the ones
the matrix ran (COMPARE_MEMBERS). The targets the ratios are held against:
  - 64 B AGREED median latency, 3 members: at most 3x raw one-way write latency;
  - 64 KiB throughput, 2 members: at least 80% of raw write bandwidth;
  - 1 KiB: at least 10x corosync's messages/s, at most 1/10 of its median latency;
  - cpgbench at 1 KiB, 2 nodes, embedded: at least 80% of ringcast-bench's
    messages/s (2 members, copying send);
  - cpgbench at 1 KiB, 2 nodes, through ringcastd (medians of the daemon
    phase's rounds): at least 75% of embedded's messages/s, at most 1.3x its
    median latency, at least 10x corosync's messages/s;
  - corosync's cpgbenchzc at least as fast as its cpgbench against ringcast
    (messages/s at the sizes both send; 0.95 counts as equal), per mode.
"""
import json
import os
import statistics
import subprocess
import sys

SIZES = [64, 1024, 16384, 65536, 1048576]
# The phases bench/compare-vm had before it wrote "phases=" into vm.env.
OLD_PHASES = ["raw", "corosync", "ringcast_cpg", "ringcast_cpg_zcb", "ringcast"]


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
        self.daemon = read_jsonl(os.path.join(results_dir, "daemon.jsonl"))
        self.coro_tests = read_jsonl(os.path.join(results_dir, "corosync-cpgbench.jsonl"))
        self.env = read_env(os.path.join(results_dir, "host.env"))
        self.env.update(read_env(os.path.join(results_dir, "vm.env")))
        # The group sizes the matrix ran, whatever COMPARE_MEMBERS was.
        self.members = sorted({r["members"] for r in self.ring if "members" in r})

    def ran(self, phase):
        """Whether COMPARE_PHASES included the phase (results from before the
        phases were recorded: the phases of that time)."""
        return phase in self.env.get("phases", " ".join(OLD_PHASES)).split()

    def status(self, phase, what):
        """Why a phase has no figures: its own status line, or not run."""
        if not self.ran(phase):
            return f"not run (COMPARE_PHASES left out {phase})"
        return self.env.get(f"{phase}_status", f"no {what} recorded")

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
    # The CPG path against the ring: the same messages, one through the API.
    ring = res.ringcast(2, 1024, "throughput")
    cpg2 = res.cpg(res.rcpg2, 1024, "throughput")
    q = ratio(cpg2 and cpg2["msgs_per_s"], ring and ring["min_msgs_per_s"])
    rows.append(("1 KiB messages/s, ringcast CPG (cpgbench), 2 nodes, embedded, vs ringcast-bench, "
                 "2 members, copying send", unit(cpg2 and cpg2["msgs_per_s"], 0, " msg/s"),
                 unit(ring and ring["min_msgs_per_s"], 0, " msg/s"), unit(q and q * 100, 0, "%"),
                 ">= 80%", q is not None and q >= 0.8))
    return rows + daemon_target_rows(res) + coro_program_target_rows(res)


def daemon_target_rows(res):
    """Through ringcastd against embedded and against corosync: the medians of
    the daemon phase's rounds."""
    fig = daemon_figures(res.daemon)
    (el, et), (dl, dt) = fig["median"]["embedded"], fig["median"]["daemon"]
    rounds = f"medians of {len(fig['rounds'])} rounds" if fig["rounds"] else "medians of the rounds"
    coro = res.cpg(res.coro, 1024, "throughput")
    coro_thr = coro and coro["msgs_per_s"]
    rows = []
    q = ratio(dt, et)
    rows.append((f"1 KiB messages/s, cpgbench, 2 nodes, through ringcastd vs embedded ({rounds})",
                 unit(dt, 0, " msg/s"), unit(et, 0, " msg/s"), unit(q and q * 100, 0, "%"),
                 ">= 75%", q is not None and q >= 0.75))
    q = ratio(dl, el)
    rows.append((f"1 KiB median latency, cpgbench, 2 nodes, through ringcastd vs embedded ({rounds})",
                 unit(dl, 1, " us"), unit(el, 1, " us"), unit(q, 2, "x"), "<= 1.3x",
                 q is not None and q <= 1.3))
    q = ratio(dt, coro_thr)
    rows.append((f"1 KiB messages/s, cpgbench, 2 nodes, through ringcastd ({rounds}) vs corosync cpgbench",
                 unit(dt, 0, " msg/s"), unit(coro_thr, 0, " msg/s"), unit(q, 2, "x"), ">= 10x",
                 q is not None and q >= 10))
    return rows


def coro_program_target_rows(res):
    """corosync's cpgbenchzc against its cpgbench, both against ringcast: the
    lowest ratio of their messages/s over the sizes both send, per mode."""
    rows = []
    for mode in coro_program_modes(res.coro_tests) or ["embedded"]:
        ratios = [r for r in coro_shared_ratios(res.coro_tests, mode) if r[3] is not None]
        worst = min(ratios, key=lambda r: r[3]) if ratios else None
        sizes = " and ".join(bytes_name(r[0]) for r in ratios) or "the sizes both send"
        where = mode_name(mode)
        q = worst and worst[3]
        # A program that failed its own checks (a round without a delivery, an
        # error line) still printed figures: the row says so.
        failed = any(res.env.get(f"corosync_cpgbench_verdict_{mode}_{p}", "").startswith("FAIL")
                     for p in ("cpgbench", "cpgbenchzc"))
        rows.append((f"corosync's cpgbenchzc vs its cpgbench, against ringcast {where} "
                     f"(messages/s at {sizes}; the lowest ratio)"
                     + ("; a program FAILED its checks, see its section" if failed else ""),
                     unit(worst and worst[2], 0, " msg/s"), unit(worst and worst[1], 0, " msg/s"),
                     unit(q, 2, "x"), ">= 0.95x", q is not None and q >= 0.95))
    return rows


def side_by_side(res):
    ms = res.members
    out = ["| size | raw write latency | " + "".join(f"ringcast {m} | " for m in ms)
           + "corosync | raw write MB/s | " + "".join(f"ringcast {m} | " for m in ms) + "corosync |",
           "|---|---|" + "---|" * (2 * len(ms) + 3)]
    for s in SIZES:
        raw_l = res.raw_lat(s)
        raw_b = res.raw_bw(s)
        lats = [median(res.ringcast(m, s, "latency")) for m in ms]
        thrs = [res.best_throughput(m, s) for m in ms]
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


# ------------------------------------------------------------ through ringcastd
DAEMON_IMPLS = ("embedded", "daemon")


def daemon_rounds(rows):
    """bench/cpg/daemon-compare-vm's sender lines by round: {round: {(impl,
    mode): row}} for the impls embedded and daemon. A line without "round"
    (older output) takes the next round of its impl and mode."""
    rounds, seen = {}, {}
    for r in rows:
        impl, mode = r.get("impl"), r.get("mode")
        if impl not in DAEMON_IMPLS or mode not in ("latency", "throughput"):
            continue
        seen[(impl, mode)] = seen.get((impl, mode), 0) + 1
        rounds.setdefault(r.get("round", seen[(impl, mode)]), {})[(impl, mode)] = r
    return dict(sorted(rounds.items()))


def daemon_figures(rows):
    """Per round and impl: (median latency us, msgs/s); and their medians over
    the rounds that have them: {"rounds": {round: {impl: (lat, thr)}},
    "median": {impl: (lat, thr)}}."""
    per_round = {}
    for rnd, cases in daemon_rounds(rows).items():
        per_round[rnd] = {impl: (median(cases.get((impl, "latency"))),
                                 (cases.get((impl, "throughput")) or {}).get("msgs_per_s"))
                          for impl in DAEMON_IMPLS}
    med = {}
    for impl in DAEMON_IMPLS:
        lats = [f[impl][0] for f in per_round.values() if f[impl][0] is not None]
        thrs = [f[impl][1] for f in per_round.values() if f[impl][1] is not None]
        med[impl] = (statistics.median(lats) if lats else None,
                     statistics.median(thrs) if thrs else None)
    return {"rounds": per_round, "median": med}


def daemon_table(res):
    fig = daemon_figures(res.daemon)
    out = ["| round | embedded median us | through ringcastd median us | latency ratio "
           "| embedded msgs/s | through ringcastd msgs/s | msgs/s ratio |",
           "|---|---|---|---|---|---|---|"]

    def row(name, f):
        (el, et), (dl, dt) = f["embedded"], f["daemon"]
        return "| " + " | ".join([name, fmt(el), fmt(dl), unit(ratio(dl, el), 2, "x"),
                                  fmt(et, 0), fmt(dt, 0),
                                  unit(ratio(dt, et) and ratio(dt, et) * 100, 0, "%")]) + " |"
    out += [row(str(rnd), f) for rnd, f in fig["rounds"].items()]
    out.append(row("median", fig["median"]))
    return out


# ------------------------------------------------- corosync's own programs
def coro_program_rate(rows, program, mode, size):
    """Messages/s of corosync's PROGRAM in MODE at SIZE: the mean of its
    nodes' rates (each node counts every delivery, both nodes send)."""
    rates = [r["msgs_per_s"] for r in rows if r.get("program") == program
             and r.get("impl") == mode and r.get("size") == size]
    return sum(rates) / len(rates) if rates else None


def coro_program_modes(rows):
    modes = []
    for r in rows:
        if r.get("impl") not in modes:
            modes.append(r.get("impl"))
    return modes


def coro_program_sizes(rows, program, mode=None):
    return sorted({r["size"] for r in rows if r.get("program") == program
                   and (mode is None or r.get("impl") == mode)})


def coro_shared_ratios(rows, mode):
    """[(size, cpgbench msgs/s, cpgbenchzc msgs/s, zc / copy)] at the sizes
    both programs sent in MODE (8,000 and 40,000 bytes for corosync 3.1's)."""
    shared = sorted(set(coro_program_sizes(rows, "cpgbench", mode))
                    & set(coro_program_sizes(rows, "cpgbenchzc", mode)))
    out = []
    for size in shared:
        copy = coro_program_rate(rows, "cpgbench", mode, size)
        zc = coro_program_rate(rows, "cpgbenchzc", mode, size)
        out.append((size, copy, zc, ratio(zc, copy)))
    return out


def bytes_name(b):
    return f"{b:,} B"


def mode_name(mode):
    return "through ringcastd" if mode == "daemon" else mode


def coro_programs_tables(res):
    rows, modes = res.coro_tests, coro_program_modes(res.coro_tests)
    out = ["| mode | size | cpgbench msgs/s | cpgbenchzc msgs/s | cpgbenchzc / cpgbench |",
           "|---|---|---|---|---|"]
    for mode in modes:
        for size, copy, zc, q in coro_shared_ratios(rows, mode):
            out.append(f"| {mode_name(mode)} | {bytes_name(size)} | {fmt(copy, 0)} | {fmt(zc, 0)} | {unit(q, 2, 'x')} |")
    header = "| program | size | " + " | ".join(f"{mode_name(m)} msgs/s | {mode_name(m)} MB/s"
                                               for m in modes) + " |"
    out += ["", "Every round of cpgbench; of cpgbenchzc's 50 (1,000 to 50,000 B), the first, "
            "every 5,000 B and the sizes cpgbench sends too (the plot has them all):", "",
            header, "|---|---|" + "---|---|" * len(modes)]
    copy_sizes = coro_program_sizes(rows, "cpgbench")
    for program in ("cpgbench", "cpgbenchzc"):
        sizes = coro_program_sizes(rows, program)
        if program == "cpgbenchzc":
            sizes = [s for s in sizes if s == sizes[0] or s % 5000 == 0 or s in copy_sizes]
        for size in sizes:
            cells = []
            for mode in modes:
                thr = coro_program_rate(rows, program, mode, size)
                cells += [fmt(thr, 0), fmt(thr and thr * size / 1e6, 2)]
            out.append(f"| {program} | {bytes_name(size)} | " + " | ".join(cells) + " |")
    return out


# ------------------------------------------------------------- group sizes
def members_table(res):
    """The matrix by group size: median latency and the slowest member's
    delivered messages/s (best of copy and zero-copy send), AGREED."""
    out = ["| members | " + " | ".join(f"{size_name(s)} median us" for s in SIZES) + " | "
           + " | ".join(f"{size_name(s)} msgs/s" for s in SIZES) + " |",
           "|---|" + "---|" * (2 * len(SIZES))]
    for m in res.members:
        lats = [fmt(median(res.ringcast(m, s, "latency"))) for s in SIZES]
        thrs = [fmt((res.best_throughput(m, s) or {}).get("min_msgs_per_s"), 0) for s in SIZES]
        out.append(f"| {m} | " + " | ".join(lats + thrs) + " |")
    return out


def write_dat(work, name, points):
    """One line of a plot as WORK/NAME.dat (x y per line); False when it has
    no point."""
    points = [(x, y) for x, y in points if y]
    with open(os.path.join(work, name + ".dat"), "w") as f:
        for x, y in points:
            f.write(f"{x} {y}\n")
    return bool(points)


def write_plot_data(res, work):
    """One .dat file per line of the plots against message size: size value."""
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
    for m in res.members:
        series[f"lat_rc{m}"] = [(s, median(res.ringcast(m, s, "latency"))) for s in SIZES]
        series[f"bw_rc{m}"] = [(s, (res.best_throughput(m, s) or {}).get("min_mb_per_s")) for s in SIZES]
    return {name: write_dat(work, name, points) for name, points in series.items()}


def figure(out, title, xlabel, ylabel, plots, extra=()):
    """A gnuplot page of one plot, log-log."""
    return ["set terminal pngcairo size 900,560 font 'sans,10'", f"set output '{out}'",
            f"set title \"{title}\"", "set logscale xy", "set grid",
            f"set xlabel '{xlabel}'", f"set ylabel '{ylabel}'", *extra,
            "set key outside right top", "plot " + ", ".join(plots), "unset output", "reset"]


def size_plots(res, work, docs):
    have = write_plot_data(res, work)
    lines = {"raw": "raw RDMA write (perftest)"}
    lines.update({f"rc{m}": f"ringcast, {m} members" for m in res.members})
    lines.update({"coro": "corosync CPG (1 node, loopback)", "rcpg": "ringcast CPG (1 node)",
                  "rcpg2": "ringcast CPG (2 nodes)"})
    script, made = [], []
    for kind, title, ylabel, out in (
            ("lat", "Median latency (send to self-delivery; raw: one-way write)", "microseconds",
             "benchmarks-latency.png"),
            ("bw", "Throughput delivered per member (raw: write bandwidth)", "MB/s (10^6 B)",
             "benchmarks-throughput.png")):
        plots = [f"'{work}/{kind}_{key}.dat' using 1:2 with linespoints title '{label}'"
                 for key, label in lines.items() if have.get(f"{kind}_{key}")]
        if plots:
            script += figure(os.path.join(docs, out), title, "message size (bytes)", ylabel, plots,
                             ["set xtics ('64' 64, '1K' 1024, '16K' 16384, '64K' 65536, '1M' 1048576)"])
            made.append(out)
    return script, made


def members_plot(res, work, docs):
    """Latency and throughput against group size, a line per message size:
    two panels of one picture, once the matrix ran two group sizes at least."""
    if len(res.members) < 2:
        return [], []
    panels = []
    for kind, title, ylabel in (("lat", "Median latency, AGREED, copying send", "microseconds"),
                                ("thr", "Slowest member's delivered messages/s", "messages/s")):
        plots = []
        for s in SIZES:
            if kind == "lat":
                points = [(m, median(res.ringcast(m, s, "latency"))) for m in res.members]
            else:
                points = [(m, (res.best_throughput(m, s) or {}).get("min_msgs_per_s")) for m in res.members]
            if write_dat(work, f"members_{kind}_{s}", points):
                plots.append(f"'{work}/members_{kind}_{s}.dat' using 1:2 with linespoints "
                             f"title '{size_name(s)}'")
        if plots:
            panels += [f"set title \"{title}\"", f"set ylabel '{ylabel}'", "plot " + ", ".join(plots)]
    if not panels:
        return [], []
    out = "benchmarks-members.png"
    tics = ", ".join(f"'{m}' {m}" for m in res.members)
    return (["set terminal pngcairo size 1100,480 font 'sans,10'",
             f"set output '{os.path.join(docs, out)}'", "set multiplot layout 1,2",
             "set logscale y", "set grid", "set xlabel 'members'", f"set xtics ({tics})",
             f"set xrange [{res.members[0] - 0.5}:{res.members[-1] + 0.5}]", "set key top left"]
            + panels + ["unset multiplot", "unset output", "reset"], [out])


def daemon_plot(res, work, docs):
    """Per round: messages/s and median latency, embedded against through
    ringcastd, with corosync's cpgbench messages/s as a level."""
    fig = daemon_figures(res.daemon)
    if not fig["rounds"]:
        return [], []
    panels = []
    coro = res.cpg(res.coro, 1024, "throughput")
    for index, title, ylabel in ((1, "cpgbench 1 KiB, 2 nodes: messages/s", "messages/s"),
                                 (0, "cpgbench 1 KiB, 2 nodes: median latency", "microseconds")):
        plots = []
        for impl, label in (("embedded", "embedded"), ("daemon", "through ringcastd")):
            name = f"daemon_{index}_{impl}"
            if write_dat(work, name, [(rnd, f[impl][index]) for rnd, f in fig["rounds"].items()]):
                plots.append(f"'{work}/{name}.dat' using 1:2 with linespoints title '{label}'")
        if index == 1 and coro:
            plots.append(f"{coro['msgs_per_s']} with lines dashtype 2 title 'corosync (cpgbench, 1 node)'")
        if plots:
            panels += [f"set title \"{title}\"", f"set ylabel '{ylabel}'", "plot " + ", ".join(plots)]
    rounds = list(fig["rounds"])
    tics = ", ".join(f"'{r}' {r}" for r in rounds)
    out = "benchmarks-daemon.png"
    return (["set terminal pngcairo size 1100,420 font 'sans,10'",
             f"set output '{os.path.join(docs, out)}'", "set multiplot layout 1,2",
             "set logscale y", "set grid", "set xlabel 'round'", f"set xtics ({tics})",
             f"set xrange [{rounds[0] - 0.5}:{rounds[-1] + 0.5}]", "set key bottom left"]
            + panels + ["unset multiplot", "unset output", "reset"], [out])


def coro_programs_plot(res, work, docs):
    """corosync's cpgbench and cpgbenchzc: messages/s against size, per mode."""
    rows, plots = res.coro_tests, []
    for program in ("cpgbench", "cpgbenchzc"):
        for mode in coro_program_modes(rows):
            name = f"coroprog_{program}_{mode}"
            points = [(s, coro_program_rate(rows, program, mode, s))
                      for s in coro_program_sizes(rows, program, mode)]
            where = mode_name(mode)
            if write_dat(work, name, points):
                plots.append(f"'{work}/{name}.dat' using 1:2 with linespoints title '{program}, {where}'")
    if not plots:
        return [], []
    out = "benchmarks-corosync-programs.png"
    return (figure(os.path.join(docs, out), "corosync's cpgbench and cpgbenchzc against ringcast, 2 nodes",
                   "message size (bytes)", "messages/s (mean of the 2 nodes)", plots), [out])


def plot(res, work, docs):
    """Writes the plots the results have data for; returns their file names."""
    script, made = [], []
    for part in (size_plots, members_plot, daemon_plot, coro_programs_plot):
        lines, outs = part(res, work, docs)
        script += lines
        made += outs
    if script:
        subprocess.run(["gnuplot"], input="\n".join(script), text=True, check=True)
    return made


def commands(res):
    e = res.env
    scale = e.get("scale", "1")
    members = ",".join(str(m) for m in res.members) or "2,3,5"
    return [
        "```sh",
        "ci/compare                          # this page; COMPARE_SCALE=" + scale + " here",
        "# inside one ci/softroce-run VM session (bench/compare-vm):",
        "ib_write_lat -d rxe0 -x 1 -s SIZE -n N [10.99.0.1]   # server, then client; 3 runs, lowest median kept",
        "ib_write_bw  -d rxe0 -x 1 -s SIZE -n N [10.99.0.1]",
        f"build/bench/ringcast-bench -d rxe0 -x 1 --matrix --members-list {members} --json --progress "
        f"--scale {scale} --timeout 300",
        "corosync -f -c corosync.conf        # one node, knet on 127.0.0.1, no crypto",
        "build/bench/cpg/cpgbench-corosync -I corosync -m both -s SIZE -n N -N M   # latency, throughput",
        "RINGCAST_MODE=embedded RINGCAST_CONFIG=ringcast.conf RINGCAST_NODE_ID=1 \\",
        "  build/bench/cpg/cpgbench-ringcast -I ringcast-cpg -m both -s SIZE -n N -N M",
        "# 2 nodes: node 2 runs `cpgbench-ringcast -m listen -w 2`, node 1 `-m both ... -w 2`",
        "bash bench/cpg/zcb-compare-vm build 1   # the same pair, copying and -z, 256 KiB to 4 MiB",
        "LATENCY_MESSAGES=N THROUGHPUT_MESSAGES=M bash bench/cpg/daemon-compare-vm build ROUNDS",
        "    # the same pair at 1 KiB: RINGCAST_MODE=embedded, then through two `ringcastd -f`",
        "ci/corosync-tests --build-only --mode daemon cpgbench cpgbenchzc   # on the host",
        "ci/corosync-tests --inside --mode MODE --round-ms "
        + e.get("corosync_cpgbench_round_ms", "MS") + " cpgbench cpgbenchzc   # MODE: embedded, daemon",
        "```",
        "",
        "The phases (bench/compare-vm, in this order): raw, corosync, ringcast_cpg, "
        "ringcast_cpg_zcb, daemon, corosync_cpgbench, ringcast; `COMPARE_PHASES` picks some, "
        "`COMPARE_SCALE` multiplies every message count (and the length of corosync's rounds), "
        "`COMPARE_MEMBERS` sets the matrix's group sizes (default 2 3 5), "
        "`COMPARE_DAEMON_ROUNDS` (3) the daemon phase's rounds, `COMPARE_COROSYNC_MODES` "
        "(embedded daemon) and `COMPARE_COROSYNC_ROUND_MS` (1000, times the scale, 1000 at least) "
        "corosync's programs. "
        "The group sizes 2 to 8 (the VM has 8 addresses), the matrix alone:",
        "",
        "```sh",
        "COMPARE_MEMBERS=\"2 3 4 5 6 7 8\" ci/compare   # every phase, this page",
        "COMPARE_PHASES=ringcast COMPARE_MEMBERS=\"2 3 4 5 6 7 8\" COMPARE_SCALE=0.3 ci/compare   # a look",
        "```",
        "",
        "The matrix's time grows about with the sum of its group sizes (35 for 2 to 8, against 10 "
        "for 2 3 5). A run of some phases rewrites this page with only their figures: the "
        "committed page comes from a run of all of them.",
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
        f"- VM session {e.get('vm_session_s', '?')} s: perftest {e.get('raw_s', '-')} s, "
        f"corosync {e.get('corosync_s', '-')} s, ringcast CPG {e.get('ringcast_cpg_s', '-')} s "
        f"(zero copy against copy {e.get('ringcast_cpg_zcb_s', '-')} s), "
        f"through ringcastd against embedded {e.get('daemon_s', '-')} s, "
        f"corosync's cpgbench and cpgbenchzc {e.get('corosync_cpgbench_s', '-')} s, "
        f"ringcast-bench matrix {e.get('ringcast_s', '-')} s.",
        f"- Phases run: {e.get('phases', ' '.join(OLD_PHASES))}; group sizes of the matrix: "
        f"{', '.join(str(m) for m in res.members) or 'none'}.",
    ]


# The model's projections are not measured by ci/compare: a pointer to them.
PROJECTIONS = (
    "PROJECTIONS, not measurements: `bench/nicmodel/nic-model` runs the ring on the "
    "simulated fabric with a cost model of a NIC and a CPU, calibrated against recorded "
    "rxe matrices and projected for a 100 Gb/s NIC at 2 to 32 members next to Derecho's "
    "published figures. The model, its calibration errors, the projection table and its "
    "plots are in [performance.md, \"Performance model\"](performance.md#performance-model).")


def daemon_section(res, plots):
    if not res.daemon:
        return ["not measured: " + res.status("daemon", "results")]
    out = ["The project's cpgbench at 1 KiB with 2 nodes (a listener on node 2, the sender "
           "on node 1; the sender's figures): embedded (`RINGCAST_MODE=embedded`, each "
           "process a ring node) against through ringcastd (`RINGCAST_MODE=daemon`, a "
           "`ringcastd -f` per node, each cpgbench its client), alternated in each round "
           "(bench/cpg/daemon-compare-vm). The median row holds the medians of the rounds "
           "and the ratios of those medians (the Targets rows).", ""]
    out += daemon_table(res)
    if "benchmarks-daemon.png" in plots:
        out += ["", "![through ringcastd against embedded](benchmarks-daemon.png)"]
    return out


def coro_programs_section(res, plots):
    if not res.coro_tests:
        return ["not measured: " + res.status("corosync_cpgbench", "result lines")]
    e = res.env
    out = ["corosync's own cpgbench (`cpg_mcast_joined`, a dispatch thread) and cpgbenchzc "
           "(`cpg_zcb_mcast_joined` from one `cpg_zcb_alloc` buffer, dispatching in its "
           "sending loop), unchanged from its test/ folder and built against api/compat "
           "(`ci/corosync-tests --build-only`): two processes on two nodes flood the group "
           "at once, each counting every delivery; a figure is the mean of the two nodes' "
           "rates. Rounds of " + e.get("corosync_cpgbench_round_ms", "?")
           + " ms (their `alarm(10)` scaled; cpgbench 7 rounds from 64 B to 1,000,000 B, "
           "cpgbenchzc 50 from 1,000 B to 50,000 B). Side by side at the sizes both send:", ""]
    out += coro_programs_tables(res)
    verdicts = [f"- {mode_name(m)}: {e.get(f'corosync_cpgbench_verdict_{m}_{p}') or p + ': no verdict'}"
                for m in coro_program_modes(res.coro_tests) for p in ("cpgbench", "cpgbenchzc")]
    out += ["", "ci/corosync-tests' verdicts (each program's own checks):", ""] + verdicts
    if "benchmarks-corosync-programs.png" in plots:
        out += ["", "![corosync's cpgbench and cpgbenchzc against ringcast](benchmarks-corosync-programs.png)"]
    return out


def members_section(res, plots):
    if not res.members:
        return ["not measured: " + res.status("ringcast", "matrix")]
    out = ["ringcast-bench's matrix by group size (" + ", ".join(str(m) for m in res.members)
           + " members; `COMPARE_MEMBERS` chooses them): median latency (send to self-delivery, "
           "AGREED, copying send) and the slowest member's delivered messages/s (best of copy "
           "and zero-copy send).", ""]
    out += members_table(res)
    if "benchmarks-members.png" in plots:
        out += ["", "![latency and throughput against group size](benchmarks-members.png)"]
    return out


def report(res, docs, plots=()):
    cpg_status = res.env.get("ringcast_cpg_status", res.status("ringcast_cpg", "status"))
    lines = ["# Benchmarks: ringcast next to raw RDMA and corosync", "",
             "Generated by `ci/compare`; do not edit by hand (run it again).",
             "Everything below was measured in ONE soft-RoCE VM session on the same rxe",
             "device. Under emulation absolute figures mean little; the ratios do.", "",
             "## Machine", ""] + machine(res) + ["", "## Targets", "",
             "bench/compare-report.py states each target; \"met\" is computed from this run's "
             "figures, \"not measured\" where a phase did not run or failed.", "",
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
    for png, alt in (("benchmarks-latency.png", "latency vs size"),
                     ("benchmarks-throughput.png", "throughput vs size")):
        if png in plots:
            lines += ["", f"![{alt}]({png})"]
    lines += ["", "## Group sizes", ""] + members_section(res, plots)
    lines += ["", "## corosync (cpgbench, one node on loopback)", ""]
    lines += cpg_table(res.coro, "corosync") if res.coro else ["not measured: " + res.status("corosync", "status")]
    if res.rcpg:
        lines += ["", "## ringcast CPG (the same cpgbench against libringcast, one node)", ""]
        lines += cpg_table(res.rcpg, "ringcast CPG")
    if res.rcpg2:
        lines += ["", "## ringcast CPG, 2 nodes (sender's figures; a second process listens)", ""]
        lines += cpg_table(res.rcpg2, "ringcast CPG")
    lines += ["", "## Through ringcastd against embedded", ""] + daemon_section(res, plots)
    lines += ["", "## corosync's cpgbench and cpgbenchzc against ringcast", ""]
    lines += coro_programs_section(res, plots)
    if res.rzcb:
        lines += ["", "## ringcast CPG, 2 nodes: zero copy against copy, large messages", "",
                  "`cpgbench -z` (`cpg_zcb_mcast_joined` from one `cpg_zcb_alloc` buffer) against "
                  "`cpgbench` (`cpg_mcast_joined`), the sender's delivered MB/s. A zero-copy call "
                  "returns once the NIC read the buffer, a call in fragments once the message was "
                  "delivered here, a whole copied one at once. Above the atomic size the message "
                  "goes in fragments, whose slices the NIC reads from the buffer "
                  "(bench/cpg/zcb-compare-vm; a figure per round, copy and zero copy alternating).", ""]
        lines += zcb_table(res.rzcb)
    lines += ["", "## ringcast-bench matrix", ""]
    if res.ring:
        lines += ["Latency rows: the lowest node sends one message at a time and times its own "
                  "delivery (the first tenth, at most 100, are warm-up). Throughput rows: every "
                  "member sends its share as fast as back-pressure allows; msgs/s and MB/s are "
                  "the slowest member's delivered rates. Every row checked the identical-order "
                  "hash and per-sender FIFO on every member.", ""]
        lines += matrix_table(res)
    else:
        lines += ["not measured: " + res.status("ringcast", "matrix")]
    lines += ["", "## Projections", "", PROJECTIONS]
    lines += ["", "## Commands", ""] + commands(res) + ["",
              "Notes: corosync runs as a single node, so its messages never cross a network "
              "(its latency here is a lower bound for a real cluster), while ringcast's rows "
              "have 2 or more members writing over rxe. perftest reports bandwidth in MiB/s; the "
              "tables convert its message rate to 10^6 B/s. The raw figures come from one "
              "client-server pair on the same device.", ""]
    with open(os.path.join(docs, "benchmarks.md"), "w") as f:
        f.write("\n".join(lines))


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: compare-report.py RESULTS_DIR DOCS_DIR")
    results_dir, docs = sys.argv[1], sys.argv[2]
    res = Results(results_dir)
    report(res, docs, plot(res, results_dir, docs))


if __name__ == "__main__":
    main()
