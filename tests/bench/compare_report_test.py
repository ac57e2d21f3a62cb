#!/usr/bin/env python3
"""bench/compare-report.py on recorded results: the fixture in
tests/bench/compare-report/ (hand-written JSON lines in bench/compare-vm's
formats, figures chosen so that each target's verdict is known), a run of
some phases only, and a results folder with nothing in it.

    python3 tests/bench/compare_report_test.py [-v]
"""
import importlib.util
import os
import shutil
import sys
import tempfile
import unittest

# Loading the script must leave no __pycache__ in the source tree.
sys.dont_write_bytecode = True

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE = os.path.join(HERE, "compare-report")
SCRIPT = os.path.join(HERE, "..", "..", "bench", "compare-report.py")


def load_report():
    spec = importlib.util.spec_from_file_location("compare_report", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


report = load_report()


def targets(page):
    """The Targets table of a page: {what: (ratio, met)}."""
    rows, inside = {}, False
    for line in page.splitlines():
        if line.startswith("## "):
            inside = line == "## Targets"
        elif inside and line.startswith("| ") and not line.startswith("| what"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            rows[cells[0]] = (cells[3], cells[5])
    return rows


def target(rows, *words):
    """The one row whose text has every word."""
    found = [v for k, v in rows.items() if all(w in k for w in words)]
    assert len(found) == 1, f"{len(found)} rows with {words}: {list(rows)}"
    return found[0]


def section(page, heading):
    """The text of one section of a page (without its heading)."""
    start = page.index(f"## {heading}\n") + len(heading) + 4
    end = page.find("\n## ", start)
    return page[start:] if end < 0 else page[start:end]


class Generated:
    """A results folder (a copy of SOURCE, or empty, then EDIT applied) and
    the page the report wrote from it."""

    def __init__(self, source=None, edit=None, plots=False):
        self.dir = tempfile.mkdtemp(prefix="compare-report-test.")
        self.results = os.path.join(self.dir, "results")
        self.docs = os.path.join(self.dir, "docs")
        os.mkdir(self.docs)
        if source:
            shutil.copytree(source, self.results)
        else:
            os.mkdir(self.results)
        if edit:
            edit(self.results)
        res = report.Results(self.results)
        self.plots = report.plot(res, self.results, self.docs) if plots else []
        report.report(res, self.docs, self.plots)
        with open(os.path.join(self.docs, "benchmarks.md")) as f:
            self.page = f.read()

    def close(self):
        shutil.rmtree(self.dir)


class FullRun(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.run_ = Generated(FIXTURE, plots=shutil.which("gnuplot") is not None)
        cls.rows = targets(cls.run_.page)

    @classmethod
    def tearDownClass(cls):
        cls.run_.close()

    def test_daemon_targets_from_the_medians_of_the_rounds(self):
        # Embedded 5,000 and 6,000 msgs/s, through ringcastd 4,500 and 4,000:
        # medians 5,500 and 4,250 (77%); latency medians 110 and 140 us (1.27x).
        self.assertEqual(target(self.rows, "messages/s", "through ringcastd vs embedded"), ("77%", "yes"))
        self.assertEqual(target(self.rows, "median latency", "through ringcastd vs embedded"),
                         ("1.27x", "yes"))
        # corosync's cpgbench at 1 KiB: 492 msgs/s; 4,250 is 8.63x of it.
        self.assertEqual(target(self.rows, "through ringcastd", "vs corosync cpgbench"), ("8.63x", "**no**"))

    def test_daemon_section_has_each_round_and_the_median(self):
        text = section(self.run_.page, "Through ringcastd against embedded")
        self.assertIn("| 1 | 100.0 | 150.0 | 1.50x | 5,000 | 4,500 | 90% |", text)
        self.assertIn("| 2 | 120.0 | 130.0 | 1.08x | 6,000 | 4,000 | 67% |", text)
        self.assertIn("| median | 110.0 | 140.0 | 1.27x | 5,500 | 4,250 | 77% |", text)

    def test_corosync_programs_compared_at_the_sizes_both_send(self):
        # Embedded: 0.97 at 8,000 B, 0.90 at 40,000 B: the lowest fails.
        self.assertEqual(target(self.rows, "cpgbenchzc", "embedded"), ("0.90x", "**no**"))
        # Through ringcastd: 1.00 and 0.96: 0.95 counts as equal.
        self.assertEqual(target(self.rows, "cpgbenchzc", "through ringcastd"), ("0.96x", "yes"))
        text = section(self.run_.page, "corosync's cpgbench and cpgbenchzc against ringcast")
        self.assertIn("| embedded | 8,000 B | 3,000 | 2,910 | 0.97x |", text)
        self.assertIn("| through ringcastd | 40,000 B | 800 | 768 | 0.96x |", text)
        self.assertIn("- through ringcastd: PASS cpgbenchzc (55 s)", text)

    def test_cpg_path_against_the_ring(self):
        self.assertEqual(target(self.rows, "embedded, vs ringcast-bench"), ("100%", "yes"))

    def test_group_sizes_are_the_ones_the_matrix_ran(self):
        side = section(self.run_.page, "Side by side")
        self.assertIn("| ringcast 2 | ringcast 3 | ringcast 4 | corosync |", side)
        self.assertNotIn("ringcast 5", side)
        sizes = section(self.run_.page, "Group sizes")
        for m in (2, 3, 4):
            self.assertIn(f"\n| {m} | ", sizes)
        self.assertIn("--members-list 2,3,4", self.run_.page)

    def test_plots(self):
        if not shutil.which("gnuplot"):
            self.skipTest("no gnuplot")
        for png in ("benchmarks-latency.png", "benchmarks-throughput.png", "benchmarks-members.png",
                    "benchmarks-daemon.png", "benchmarks-corosync-programs.png"):
            self.assertIn(png, self.run_.plots)
            self.assertGreater(os.path.getsize(os.path.join(self.run_.docs, png)), 1000, png)
            self.assertIn(f"]({png})", self.run_.page)


def only_daemon_phase(results):
    """As `COMPARE_PHASES=daemon`: the daemon's lines and vm.env, nothing else."""
    for name in os.listdir(results):
        if name not in ("daemon.jsonl", "host.env", "vm.env"):
            os.remove(os.path.join(results, name))
    with open(os.path.join(results, "vm.env"), "w") as f:
        f.write("phases=daemon\ndaemon_status=measured\ndaemon_s=40\n")


class SomePhases(unittest.TestCase):
    def test_phases_not_run_are_said_and_their_targets_not_measured(self):
        run = Generated(FIXTURE, only_daemon_phase, plots=shutil.which("gnuplot") is not None)
        try:
            rows = targets(run.page)
            self.assertEqual(target(rows, "messages/s", "through ringcastd vs embedded"), ("77%", "yes"))
            self.assertEqual(target(rows, "through ringcastd", "vs corosync cpgbench")[1], "not measured")
            self.assertEqual(target(rows, "cpgbenchzc")[1], "not measured")
            self.assertIn("not run (COMPARE_PHASES left out ringcast)", section(run.page, "Group sizes"))
            self.assertIn("not run (COMPARE_PHASES left out corosync_cpgbench)",
                          section(run.page, "corosync's cpgbench and cpgbenchzc against ringcast"))
            self.assertNotIn("benchmarks-members.png", run.page)
            self.assertNotIn("benchmarks-latency.png", run.page)
        finally:
            run.close()

    def test_a_failed_program_is_said_in_its_target_row(self):
        def fail_zc(results):
            with open(os.path.join(results, "vm.env"), "a") as f:
                f.write("corosync_cpgbench_verdict_daemon_cpgbenchzc=FAIL cpgbenchzc: node 1: "
                        "0 messages received\n")
        run = Generated(FIXTURE, fail_zc)
        try:
            rows = targets(run.page)
            self.assertEqual(target(rows, "cpgbenchzc", "through ringcastd", "FAILED"), ("0.96x", "yes"))
            self.assertNotIn("FAILED", [k for k in rows if "embedded" in k and "cpgbenchzc" in k][0])
        finally:
            run.close()

    def test_nothing_recorded(self):
        run = Generated()
        try:
            rows = targets(run.page)
            self.assertTrue(rows)
            for what, (ratio, met) in rows.items():
                self.assertEqual((ratio, met), ("n/a", "not measured"), what)
        finally:
            run.close()

    def test_older_daemon_lines_without_rounds(self):
        def strip_rounds(results):
            path = os.path.join(results, "daemon.jsonl")
            with open(path) as f:
                lines = [line.replace('"round": 1, ', "").replace('"round": 2, ', "") for line in f]
            with open(path, "w") as f:
                f.writelines(lines)
        run = Generated(FIXTURE, strip_rounds)
        try:
            text = section(run.page, "Through ringcastd against embedded")
            self.assertIn("| median | 110.0 | 140.0 | 1.27x | 5,500 | 4,250 | 77% |", text)
        finally:
            run.close()


if __name__ == "__main__":
    unittest.main()
