"""pd14_pynn.validation.compare and .report on tiny real runs of NEST (two seeds) and Brian2.

The runs are made once per session by ``python run/main.py`` in subprocesses
(about a minute on 2 cores, plus Brian2's first compilation in a new environment).
"""

import json
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

from pd14_pynn.validation import compare, report, runs

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = ["--n-scaling", "0.02", "--k-scaling", "0.05", "--t-presim", "100", "--t-sim", "300"]
RUNS = (("nest", 1), ("nest", 2), ("brian2", 1))


@pytest.fixture(scope="session")
def tiny_runs(tmp_path_factory):
    """Run folders of the tiny model: nest seeds 1 and 2, brian2 seed 1 (absolute paths)."""
    folder = tmp_path_factory.mktemp("validation_runs")
    paths = []
    for simulator, seed in RUNS:
        out = str(folder / f"{simulator}_seed{seed}")
        cmd = [sys.executable, os.path.join(ROOT, "run", "main.py"), simulator, *TINY,
               "--seed", str(seed), "--out", out]
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=str(folder))
        assert proc.returncode == 0, (
            f"{' '.join(cmd)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
        paths.append(out)
    return paths


@pytest.fixture(scope="session")
def built_report(tiny_runs, tmp_path_factory):
    out = str(tmp_path_factory.mktemp("validation_report") / "report")
    summary = compare.build_report(tiny_runs, out, reference_sim="nest", verbose=False)
    return out, summary


def _strict_json(path):
    def refuse(constant):
        raise ValueError(f"{constant} in {path}")
    with open(path) as handle:
        return json.load(handle, parse_constant=refuse)


def test_report_has_every_section(built_report):
    out, summary = built_report
    with open(os.path.join(out, "report.md")) as handle:
        markdown = handle.read()
    with open(os.path.join(out, "report.html")) as handle:
        page = handle.read()
    for title in report.SECTION_TITLES:
        assert f"## {title}" in markdown
        assert f"<h2>{title}</h2>" in page
    for name in ("nest seed 1", "nest seed 2", "brian2 seed 1"):
        assert name in markdown
    assert "### brian2 vs nest (band: nest seeds)" in markdown
    for run in summary["runs"]:
        # the runs table row: name, simulator, its version, PyNN's version
        assert (f"| {run['name']} | {run['simulator']} | {run['simulator_version']} | "
                f"{run['pynn_version']} |") in markdown
    assert summary["overall_verdict"] in ("pass", "fail")
    assert f"Overall verdict: {summary['overall_verdict']}." in markdown


def test_html_is_self_contained(built_report):
    out, summary = built_report
    with open(os.path.join(out, "report.html")) as handle:
        page = handle.read()
    sources = re.findall(r'src="([^"]*)"', page)
    # 3 rasters, rate box plots, 3 ECDFs
    assert len(sources) == 7 == len(summary["files"]["figures"])
    assert all(src.startswith("data:image/png;base64,") for src in sources)
    for path in summary["files"]["figures"]:
        assert os.path.isfile(path) and path.endswith(".png")


def test_summary_numbers_agree_with_the_runs(built_report, tiny_runs):
    out, summary = built_report
    stored = _strict_json(os.path.join(out, "summary.json"))  # no NaN anywhere
    assert stored["overall_verdict"] == summary["overall_verdict"]
    assert [run["name"] for run in stored["runs"]] == ["nest seed 1", "nest seed 2",
                                                       "brian2 seed 1"]
    for run in stored["runs"]:
        # rates.json is computed by pd14_pynn.spike_tables, independently of Elephant
        rates = _strict_json(os.path.join(run["path"], "rates.json"))["populations"]
        for population, row in rates.items():
            described = run["statistics"][population]["rate"]
            assert described["n"] == row["n"]
            assert described["mean"] == pytest.approx(row["mean_hz"], rel=1e-9, abs=1e-12)
        assert run["window_ms"] == [100.0, 400.0]
        timings = _strict_json(os.path.join(run["path"], "timings.json"))
        assert run["rtf"] == pytest.approx(timings["rtf"])
    (comparison,) = stored["comparisons"]
    assert comparison["simulators"] == ["nest", "brian2"]
    assert comparison["n_run_pairs"] == 2
    assert stored["baseline_pairs"] == {"nest": 1}
    for per_statistic in comparison["cells"].values():
        for cell in per_statistic.values():
            assert cell["verdict"] in ("pass", "fail", "n/a")
            if cell["verdict"] != "n/a":
                assert (cell["verdict"] == "pass") == (cell["ks"] <= cell["band_ks"])


def test_reference_check_uses_the_published_rates(built_report):
    _, summary = built_report
    rows = summary["reference_check"]["rows"]["nest"]
    assert rows["L23E"]["reference_hz"] == 0.903 and rows["L6I"]["reference_hz"] == 7.829
    for population, row in rows.items():
        means = [run["statistics"][population]["rate"]["mean"] for run in summary["runs"]
                 if run["simulator"] == "nest"]
        assert row["mean_hz"] == pytest.approx(sum(means) / len(means))
        assert row["relative_deviation"] == pytest.approx(
            (row["mean_hz"] - row["reference_hz"]) / row["reference_hz"])
        assert row["seed_sd_hz"] == pytest.approx(np.std(means, ddof=1))
        assert row["deviation_in_seed_sd"] == pytest.approx(
            (row["mean_hz"] - row["reference_hz"]) / row["seed_sd_hz"])
    # brian2 has one run: no seed SD
    assert summary["reference_check"]["rows"]["brian2"]["L4E"]["seed_sd_hz"] is None


def test_conclusion_names_every_failing_cell(built_report):
    _, summary = built_report
    text = " ".join(summary["conclusion"])
    (comparison,) = summary["comparisons"]
    for population, per_statistic in comparison["cells"].items():
        for name, cell in per_statistic.items():
            if cell["verdict"] == "fail":
                assert f"{name} in {population} (KS" in text
    assert text.endswith(f"Overall verdict: {summary['overall_verdict']}.")


def test_rebuilt_report_drops_rasters_of_runs_no_longer_in_it(tiny_runs, tmp_path):
    out = str(tmp_path / "report")
    compare.build_report(tiny_runs, out, reference_sim="nest", verbose=False)
    before = {name for name in os.listdir(out) if name.startswith("raster_")}
    assert len(before) == len(tiny_runs)
    compare.build_report(tiny_runs[:2], out, reference_sim="nest", verbose=False,
                         overwrite=True)
    after = {name for name in os.listdir(out) if name.startswith("raster_")}
    assert len(after) == 2 and after <= before
    with open(os.path.join(out, "report.md")) as handle:
        text = handle.read()
    assert all(name in text for name in after)


def test_cli_as_script_and_as_module(tiny_runs, tmp_path):
    script = [sys.executable, os.path.join(ROOT, "validation", "compare.py")]
    module = [sys.executable, "-m", "pd14_pynn.validation.compare"]
    env = {**os.environ, "PYTHONPATH": ROOT}
    for i, (cmd, environment) in enumerate(((script, None), (module, env))):
        out = str(tmp_path / f"report{i}")
        proc = subprocess.run(cmd + tiny_runs + ["--out", out], capture_output=True,
                              text=True, cwd=str(tmp_path), env=environment)
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert "Overall verdict" in proc.stdout
        assert os.path.isfile(os.path.join(out, "report.html"))


def test_cli_refuses_without_a_baseline_before_writing(tiny_runs, tmp_path):
    out = tmp_path / "report"
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "validation", "compare.py"),
                           tiny_runs[0], tiny_runs[2], "--out", str(out)],
                          capture_output=True, text=True, cwd=str(tmp_path))
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: the seed-to-seed baseline needs >= 2 runs")
    assert not out.exists()


def test_runs_of_different_models_are_refused(tiny_runs, tmp_path):
    changed = str(tmp_path / "changed")
    shutil.copytree(tiny_runs[1], changed)
    with open(os.path.join(changed, "parameters.json")) as handle:
        params = json.load(handle)
    params["N_scaling"] = 0.05
    with open(os.path.join(changed, "parameters.json"), "w") as handle:
        json.dump(params, handle)
    with pytest.raises(runs.RunFolderError, match="N_scaling"):
        compare.build_report([tiny_runs[0], changed], str(tmp_path / "out"), verbose=False)
    with pytest.raises(runs.RunFolderError, match="seed"):
        compare.build_report([tiny_runs[0], tiny_runs[0]], str(tmp_path / "out"),
                             verbose=False)
    assert not (tmp_path / "out").exists()


def test_validation_imports_no_simulator():
    code = ("import sys, pd14_pynn.validation.compare, pd14_pynn.validation.spike_statistics; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & "
            "{'nest', 'neuron', 'brian2', 'pyNN'}))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


@pytest.mark.parametrize("state, details, named", [
    ("interrupted", {"signal": "SIGTERM"}, "an interrupted run (stopped in simulate at 250 ms"),
    ("failed", {"error": "RuntimeError: disk full"}, "a failed run (failed in simulate at 250 ms"),
    ("running", {}, "a run that has not finished"),
])
def test_incomplete_runs_are_refused(tiny_runs, tmp_path, state, details, named):
    from pd14_pynn import run_folder
    partial = str(tmp_path / "partial")
    shutil.copytree(tiny_runs[1], partial)
    assert run_folder.read_status(partial)["status"] == "complete"
    run_folder.write_status(partial, state, "simulate", 250.0, **details)
    out = tmp_path / "report"
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "validation", "compare.py"),
                           tiny_runs[0], partial, tiny_runs[2], "--out", str(out)],
                          capture_output=True, text=True, cwd=str(tmp_path))
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {partial!r} holds {named}")
    assert "not a complete run" in lines[0]
    assert not out.exists()
