"""pd14_pynn.validation.compare, .report and .figures on synthetic run folders (Poisson
spikes written with pd14_pynn.storage; no simulator): the CC from several neuron
samples in the report, the area x population maps of multi-area runs, and reports
rendered from a committed summary.json of before several samples."""

import json
import os
import subprocess
import sys

import neo
import numpy as np
import pytest

from pd14_pynn import parameters, storage
from pd14_pynn.parameters import POPULATIONS
from pd14_pynn.validation import compare, figures, report, runs

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
AREAS = ("V1", "V2", "TH")
SIZE = 40            # neurons per population: 4 disjoint CC samples of 10
T_PRESIM_MS, T_SIM_MS = 100.0, 1000.0


def populations_of(area):
    return [p for p in POPULATIONS if not (area == "TH" and p.startswith("L4"))]


def write_run(folder, simulator, seed, areas=AREAS, rate_factor=1.0):
    """A complete run folder of ``areas`` (TH without L4; ``()``: one circuit) with
    Poisson spikes; population k fires at (k + 2) * rate_factor spikes/s per neuron."""
    rng = np.random.default_rng([seed, len(simulator)])
    params = parameters.resolve({"N_scaling": 0.05, "K_scaling": 0.05, "seed": seed,
                                 "t_presim_ms": T_PRESIM_MS, "t_sim_ms": T_SIM_MS})
    rows, channels, times, first = [], [], [], 0
    for area in areas or ("",):
        for k, population in enumerate(populations_of(area)):
            rows.append({"area": area, "population": population, "first_channel": first,
                         "size": SIZE})
            duration_s = (T_PRESIM_MS + T_SIM_MS) * 1e-3
            count = rng.poisson((k + 2) * rate_factor * duration_s * SIZE)
            channels.append(first + rng.integers(0, SIZE, count))
            times.append(rng.uniform(0.0, T_PRESIM_MS + T_SIM_MS, count))
            first += SIZE
    block = neo.Block(name="synthetic")
    segment = neo.Segment(name="run")
    block.segments.append(segment)
    storage.set_columnar_spikes(segment, times, channels, rows, T_PRESIM_MS + T_SIM_MS)
    block.annotations.update(t_presim_ms=T_PRESIM_MS, populations=json.dumps(rows))
    os.makedirs(folder)
    storage.write_block(block, os.path.join(folder, "spikes.pkl"))
    if areas:
        sizes = {area: {p: SIZE for p in populations_of(area)} for area in areas}
        stored = {"base": params, "areas": {a: {**params, "area": a} for a in areas},
                  "connections": []}
    else:
        sizes, stored = {p: SIZE for p in POPULATIONS}, params
    storage.write_json(os.path.join(folder, "parameters.json"), stored)
    storage.write_json(os.path.join(folder, "metadata.json"),
                       {"simulator": simulator, "versions": {simulator: "0.0"},
                        "num_neurons": sizes})
    storage.write_json(os.path.join(folder, "timings.json"), {"simulate": 1.0, "rtf": 1.0})
    return folder


@pytest.fixture(scope="module")
def area_runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("area_runs")
    return [write_run(str(folder / f"{sim}_seed{seed}"), sim, seed)
            for sim, seed in (("nest", 1), ("nest", 2), ("brian2", 1))]


@pytest.fixture(scope="module")
def area_report(area_runs, tmp_path_factory):
    out = str(tmp_path_factory.mktemp("area_report") / "report")
    shown = compare.FIGURE_AREAS
    compare.FIGURE_AREAS = 2  # rasters, box plots and ECDFs of V1 and V2 only
    try:
        summary = compare.build_report(area_runs, out, n_neurons_cc=10, n_samples_cc=4,
                                       verbose=False)
    finally:
        compare.FIGURE_AREAS = shown
    return out, summary


def test_runs_of_a_multi_area_model_are_read_from_their_base_parameters(area_runs, tmp_path):
    run = runs.read_run(area_runs[0])
    assert run.seed == 1 and run.parameters["t_sim_ms"] == T_SIM_MS
    assert set(run.model) == {"areas", "connections"}
    assert run.describe()["num_neurons"] == SIZE * (8 + 8 + 6)
    # areas that differ (not only in the seed) are another model
    other = write_run(str(tmp_path / "other"), "nest", 3, areas=("V1", "V2"))
    with pytest.raises(runs.RunFolderError, match="different multi-area models"):
        runs.check_comparable([run, runs.read_run(other)])


def test_runs_of_a_described_model_are_read_from_their_parameters(area_runs, tmp_path):
    # run/main.py --model writes {"description": ..., "parameters": ...}
    folders = []
    for seed in (1, 2):
        folder = write_run(str(tmp_path / f"described{seed}"), "nest", seed)
        stored = runs.read_run(folder).parameters
        storage.write_json(os.path.join(folder, "parameters.json"),
                           {"description": {"name": "three areas"}, "parameters": stored})
        folders.append(folder)
    read = [runs.read_run(f) for f in folders]
    assert [r.seed for r in read] == [1, 2] and read[0].model == {
        "description": {"name": "three areas"}}
    runs.check_comparable(read)
    storage.write_json(os.path.join(folders[1], "parameters.json"), {
        "description": {"name": "another"}, "parameters": read[1].parameters})
    with pytest.raises(runs.RunFolderError, match="their description differ"):
        runs.check_comparable([read[0], runs.read_run(folders[1])])


def test_cc_of_every_population_from_several_samples(area_report):
    out, summary = area_report
    assert summary["settings"]["n_samples_cc"] == 4
    (comparison,) = summary["comparisons"]
    cell = comparison["cells"]["TH/L6E"]["cc"]
    assert cell["samples"]["n"] == 4 and len(cell["samples"]["verdicts"]) == 4
    assert cell["ks"] == pytest.approx(np.mean(cell["samples"]["ks"]))
    assert "samples" not in comparison["cells"]["TH/L6E"]["rate"]
    band = summary["baselines"]["nest"]["TH/L6E"]["cc"]
    assert len(band["per_sample"]["ks_max"]) == 4
    described = summary["runs"][0]["statistics"]["V1/L6I"]["cc"]  # 9/s: no silent neuron
    assert described["n_samples"] == 4 and described["n"] == 4 * 45
    with np.load(os.path.join(out, "samples.npz")) as data:
        keys = set(data.files)
    assert {"nest_seed_1/V1/L23E/cc", "nest_seed_1/V1/L23E/cc.3"} <= keys
    assert "nest_seed_1/V1/L23E/cc.4" not in keys


def test_report_shows_the_spread_over_samples(area_report):
    out, summary = area_report
    with open(os.path.join(out, "report.md")) as handle:
        markdown = handle.read()
    assert "in each of up to 4 disjoint samples" in markdown
    assert "per sample: KS, band, KS / band, passing" in markdown
    (comparison,) = summary["comparisons"]
    for population, per_statistic in comparison["cells"].items():
        cell = per_statistic["cc"]
        if cell["verdict"] != "pass":  # listed in the table, with its spread
            spread = report.sample_spread(cell)
            assert spread.startswith("4: ") and spread in markdown
            low, high = min(cell["samples"]["ks"]), max(cell["samples"]["ks"])
            assert spread.split(", ")[0] == f"4: {low:.3g}-{high:.3g}"


def test_area_maps_are_written_and_in_the_report(area_report):
    out, summary = area_report
    for name in ("area_map_brian2_vs_nest.png", "area_map_band.png"):
        assert os.path.getsize(os.path.join(out, name)) > 10_000
        assert os.path.join(out, name) in summary["files"]["figures"]
    with open(os.path.join(out, "report.md")) as handle:
        markdown = handle.read()
    assert "(area_map_brian2_vs_nest.png)" in markdown and "(area_map_band.png)" in markdown
    (comparison,) = summary["comparisons"]
    # the table lists only cells that do not pass; the map holds every cell
    passing = [(p, s) for p, cells in comparison["cells"].items()
               for s, c in cells.items() if c["verdict"] == "pass"]
    assert passing and f"the {len(passing)} passing cells are in the map" in markdown
    section = markdown.split("## Distances and verdicts")[1].split("## Seed-to-seed")[0]
    for population, statistic in passing:
        assert f"| {population} | {statistic} |" not in section
    listed = [(p, s) for p, cells in comparison["cells"].items()
              for s, c in cells.items() if c["verdict"] != "pass"]
    for population, statistic in listed:
        assert f"| {population} | {statistic} |" in section


def test_panel_figures_show_the_first_areas_and_the_maps_all(area_report):
    out, summary = area_report
    with open(os.path.join(out, "report.md")) as handle:
        markdown = handle.read()
    assert "![empirical CDF of the firing rate (1/s) (areas V1, V2 of 3)]" in markdown
    assert markdown.count("(areas V1, V2 of 3)") == 3 + 1 + 3  # rasters, boxes, ECDFs


def test_area_map_data_is_distance_over_band_with_missing_populations_nan(area_report):
    _, summary = area_report
    (comparison,) = summary["comparisons"]
    data = figures.map_matrices(comparison["cells"], summary["populations"],
                                lambda c: c["ks"] / c["band_ks"])
    areas, columns, matrix, absent, failing = data["rate"]
    assert areas == list(AREAS) and columns == list(POPULATIONS)
    th, l4e = AREAS.index("TH"), POPULATIONS.index("L4E")
    assert np.isnan(matrix[th, l4e]) and absent[th, l4e] and not failing[th, l4e]
    assert absent.sum() == 2
    cell = comparison["cells"]["V2/L5I"]["rate"]
    assert matrix[1, POPULATIONS.index("L5I")] == pytest.approx(cell["ks"] / cell["band_ks"])
    fails = {(a, p) for a in AREAS for p in populations_of(a)
             if comparison["cells"][f"{a}/{p}"]["rate"]["verdict"] == "fail"}
    assert {(areas[r], columns[c]) for r, c in zip(*np.nonzero(failing))} == fails


def test_compare_cli_on_two_multi_area_runs_writes_the_band_map(tmp_path):
    folders = [write_run(str(tmp_path / f"nest_seed{seed}"), "nest", seed, areas=("V1", "TH"))
               for seed in (1, 2)]
    out = tmp_path / "report"
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "validation", "compare.py"),
                           *folders, "--out", str(out), "--n-neurons-cc", "10",
                           "--cc-samples", "2"],
                          capture_output=True, text=True, cwd=str(tmp_path),
                          env={**os.environ, "PYTHONPATH": ROOT})
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (out / "area_map_band.png").stat().st_size > 10_000
    described = json.loads((out / "summary.json").read_text())
    assert described["settings"]["n_samples_cc"] == 2
    assert len(described["baselines"]["nest"]["V1/L4E"]["cc"]["per_sample"]["ks_max"]) == 2


def test_one_circuit_gets_no_area_map(tmp_path):
    folders = [write_run(str(tmp_path / f"nest_seed{seed}"), "nest", seed, areas=())
               for seed in (1, 2)]
    summary = compare.build_report(folders, str(tmp_path / "report"), n_neurons_cc=10,
                                   verbose=False)
    assert not [f for f in os.listdir(tmp_path / "report") if f.startswith("area_map")]
    with open(tmp_path / "report" / "report.md") as handle:
        markdown = handle.read()
    # the bands table is there, with the range over the CC samples in brackets
    band = summary["baselines"]["nest"]["L4E"]["cc"]
    low, high = min(band["per_sample"]["ks_max"]), max(band["per_sample"]["ks_max"])
    assert f"[{low:.3g}-{high:.3g}]" in markdown


@pytest.mark.parametrize("study", ["dc02", "full"])
def test_committed_reports_of_one_sample_still_render(study, tmp_path):
    """summary.json files written before several CC samples render unchanged in meaning:
    no spread, one sample."""
    with open(os.path.join(ROOT, "docs", "validation", study, "summary.json")) as handle:
        summary = json.load(handle)
    picture = (str(tmp_path / "x.png"), "figure")
    made = {"rasters": [picture], "rate_boxplots": picture, "ecdf_rate": picture,
            "ecdf_cv": picture, "ecdf_cc": picture}
    markdown = report.to_markdown(report.report_blocks(summary, made), str(tmp_path))
    assert "disjoint samples" not in markdown
    comparison = summary["comparisons"][0]
    cell = comparison["cells"]["L6E"]["cc"]
    assert report.sample_spread(cell) == ""
    assert f"| L6E | cc | {cell['sample_sizes'][0]}" in markdown
    assert f"Overall verdict: {summary['overall_verdict']}." in markdown
