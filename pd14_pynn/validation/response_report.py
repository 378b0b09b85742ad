"""The thalamic-response report of a set of run folders (trials = seeds).

:func:`build_response_report` reads the runs, computes every population's PSTH and
response features per trial (:mod:`pd14_pynn.validation.response`), the
trial-to-trial band of the reference simulator and each other simulator's distance
to it, and writes ``response.md``, ``response.json`` and ``psth.png`` into a folder.
"""

import os

import numpy as np

from pd14_pynn import run_folder, spike_tables, storage
from pd14_pynn.validation import figures, report, response, runs
from pd14_pynn.validation.distances import combine_verdicts


def _number(value, digits=1):
    return "-" if value is None or not np.isfinite(value) else f"{value:.{digits}f}"


def build_response_report(run_dirs, out_dir, reference_sim="nest",
                          window_ms=response.DEFAULT_WINDOW_MS, bin_ms=response.DEFAULT_BIN_MS,
                          smooth_bins=response.DEFAULT_SMOOTH_BINS, k_sd=response.DEFAULT_K_SD,
                          search_ms=response.DEFAULT_SEARCH_MS, overwrite=False):
    """Write the response report of ``run_dirs`` (runs with ``thalamic_input``) into
    ``out_dir``; returns the summary dict (what ``response.json`` holds).

    The pulse onset and end come from the runs' parameters. Raises
    :class:`pd14_pynn.validation.runs.RunFolderError` if the runs are not comparable, have no
    thalamic input, or the reference simulator has fewer than 2 trials.
    """
    all_runs = [runs.read_run(path) for path in run_dirs]
    runs.check_comparable(all_runs)
    p = all_runs[0].parameters
    if not p.get("thalamic_input"):
        raise runs.RunFolderError("the runs have no thalamic input (thalamic_input is off): "
                                  "a response report needs runs made with --thalamic")
    onset = p["thalamic_start_ms"]
    stop = onset + p["thalamic_duration_ms"]
    end = p["t_presim_ms"] + p["t_sim_ms"]
    if not (window_ms[0] < onset < window_ms[1] <= end):
        raise runs.RunFolderError(
            f"the PSTH window {list(window_ms)} ms must contain the onset {onset} ms and end "
            f"by the end of the runs ({end} ms)")
    groups = runs.group_by_simulator(all_runs, reference_sim)
    if len(groups.get(reference_sim, [])) < 2:
        raise runs.RunFolderError(f"the trial-to-trial band needs >= 2 trials of "
                                  f"{reference_sim!r}, got {len(groups.get(reference_sim, []))}")
    run_folder.prepare_run_folder(out_dir, overwrite=overwrite)

    trials = {}
    for simulator, group in groups.items():
        trials[simulator] = [
            response.population_responses(
                spike_tables.spike_table(storage.read_block(storage.spike_file(run.path))),
                onset, window_ms, bin_ms, smooth_bins, k_sd, search_ms)
            for run in group]
    band = response.trial_band(trials[reference_sim], onset, smooth_bins)
    comparisons = {}
    for simulator in groups:
        if simulator == reference_sim:
            continue
        cells = response.judge_responses(
            response.cross_trials(trials[reference_sim], trials[simulator], onset, smooth_bins),
            band)
        comparisons[simulator] = {
            "cells": cells,
            "overall": combine_verdicts(cell["verdict"] for per in cells.values()
                                        for cell in per.values()),
            "tests": response.feature_tests(trials[reference_sim], trials[simulator])}
    features = {sim: response.mean_features(t) for sim, t in trials.items()}
    figure = figures.response_psths(trials, onset, stop, os.path.join(out_dir, "psth.png"))
    summary = report.json_safe({
        "settings": {"reference_sim": reference_sim, "window_ms": list(window_ms),
                     "bin_ms": bin_ms, "smooth_bins": smooth_bins, "k_sd": k_sd,
                     "search_ms": search_ms,
                     "onset_ms": onset, "stop_ms": stop},
        "trials": {sim: [run.path for run in group] for sim, group in groups.items()},
        "features": features,
        "band": band,
        "comparisons": comparisons,
        "overall_verdict": combine_verdicts(c["overall"] for c in comparisons.values()),
        "psth_mean_hz": {sim: {key: np.mean([t[key]["rate_hz"] for t in tr], axis=0)
                               for key in tr[0]} for sim, tr in trials.items()},
    })
    storage.write_json(os.path.join(out_dir, "response.json"), summary)
    with open(os.path.join(out_dir, "response.md"), "w") as handle:
        handle.write(_markdown(summary, groups, os.path.basename(figure)))
    summary["files"] = {"markdown": os.path.join(out_dir, "response.md"),
                        "json": os.path.join(out_dir, "response.json"), "figure": figure}
    return summary


def _markdown(summary, groups, figure_name):
    s = summary["settings"]
    lines = [
        "# Response to the thalamic pulse", "",
        f"Trials (seeds): {', '.join(f'{sim} {len(g)}' for sim, g in groups.items())}. "
        f"Pulse {s['onset_ms']:g}-{s['stop_ms']:g} ms. PSTH in {s['bin_ms']:g} ms bins over "
        f"{s['window_ms'][0]:g}-{s['window_ms'][1]:g} ms, in spikes/s per neuron.", "",
        "Baseline: mean PSTH before the onset. Peak: largest bin from the onset to "
        f"{s['search_ms']:g} ms after it (later bursts are spontaneous activity, not the "
        "response); latency: its start minus the onset. Return: first bin after the peak whose "
        f"{s['smooth_bins']}-bin moving average lies within baseline +- {s['k_sd']:g} SD "
        "(SD of that moving average before the onset), from the onset; '-' if it does not "
        "return inside the window. Definitions in `pd14_pynn/validation/response.py`.", "",
        f"![PSTH per population]({figure_name})", "",
        "## Features (mean +- SD over trials)", "",
        "| population | simulator | baseline (1/s) | peak (1/s) | latency (ms) | return (ms) |",
        "|---|---|---|---|---|---|"]
    for key in next(iter(summary["features"].values())):
        for sim, per_population in summary["features"].items():
            f = per_population[key]
            cells = [f"{_number(f[name][0])} +- {_number(f[name][1])}"
                     for name in ("baseline_hz", "peak_hz", "latency_ms", "return_ms")]
            lines.append(f"| {key} | {sim} | " + " | ".join(cells) + " |")
    lines += ["", f"## Distances against {s['reference_sim']}'s trial-to-trial band", "",
              "Each cell: mean distance over all pairs of trials across the two simulators / "
              "band (largest distance between two trials of the reference) and the verdict "
              "(pass if the mean is within the band). PSTH: RMS difference of the smoothed "
              "PSTHs from the onset on (1/s); the others: absolute differences.", ""]
    for sim, comparison in summary["comparisons"].items():
        lines += [f"### {sim} vs {s['reference_sim']}: {comparison['overall']}", "",
                  "| population | " + " | ".join(response.DISTANCES) + " |",
                  "|---|" + "---|" * len(response.DISTANCES)]
        for key, per in comparison["cells"].items():
            row = [f"{_number(c['distance'], 2)} / {_number(c['band'], 2)} {c['verdict']}"
                   for c in (per[name] for name in response.DISTANCES)]
            lines.append(f"| {key} | " + " | ".join(row) + " |")
        lines.append("")
    lines.append(f"Overall: **{summary['overall_verdict']}**")
    lines += ["", f"## Per-trial features: two-sample tests against {s['reference_sim']}", "",
              "Mann-Whitney U (two-sided) over the trials' values of each feature; cell: "
              f"median of {s['reference_sim']} / median of the other simulator, p-value. "
              "Trials are independent, so p means what it says, but 24 tests per simulator "
              "pair give about one p < 0.05 by chance; p < 0.002 (0.05 / 24) is marked **. "
              "Informative: the verdict above is the band rule.", ""]
    names = {"peak_hz": "peak (1/s)", "latency_ms": "latency (ms)", "return_ms": "return (ms)"}
    for sim, comparison in summary["comparisons"].items():
        tests = comparison.get("tests") or {}
        lines += [f"### {sim} vs {s['reference_sim']}", "",
                  "| population | " + " | ".join(names[n] for n in response.TESTED_FEATURES)
                  + " |", "|---|" + "---|" * len(response.TESTED_FEATURES)]
        for key, per in tests.items():
            row = []
            for name in response.TESTED_FEATURES:
                t = per[name]
                mark = " **" if t["p"] is not None and t["p"] < 0.05 / 24 else ""
                row.append(f"{_number(t['median_a'])} / {_number(t['median_b'])}, "
                           f"p {_number(t['p'], 3)}{mark}")
            lines.append(f"| {key} | " + " | ".join(row) + " |")
        lines.append("")
    return "\n".join(lines) + "\n"
