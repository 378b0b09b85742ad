"""Compare PD14 runs of several simulators and seeds; write the validation report.

    python validation/compare.py RUN_DIR [RUN_DIR ...] --out REPORT_DIR [--reference-sim nest]
    python -m pd14_pynn.validation.compare RUN_DIR [RUN_DIR ...] --out REPORT_DIR

* :func:`build_report` -- the whole pipeline, for ``run/main.py`` or a notebook: read the
  runs, compute the statistics, the seed-to-seed baseline, the cross-simulator distances
  and verdicts, and write the report folder.
* :func:`main` -- the command line around it.

Runs are grouped by the simulator named in their ``metadata.json``. The runs of the
reference simulator (``--reference-sim``, default nest; at least two, with different
seeds) give the seed-to-seed band against which every pair of simulators is judged.

The report folder holds ``report.md`` (with the PNGs beside it), ``report.html``
(self-contained: figures embedded), ``summary.json`` (every number of the report, and
descriptive statistics of every sample) and ``samples.npz`` (the samples themselves,
keyed ``"<run>/<population>/<statistic>"``; the CC's further neuron samples as
``".../cc.1"``, ...).
"""

import argparse
import datetime
import os
import re
import sys

import numpy as np

from pd14_pynn import run_folder, storage
from pd14_pynn.validation import (distances, figures, reference, report, runs,
                                  spike_statistics)

RASTER_NEURONS = 20      # neurons per population in a raster snippet
RASTER_SPAN_MS = 100.0   # length of a raster snippet, at the end of the window
# runs with areas: the areas of the rasters, box plots and ECDFs (a panel per population
# does not read, nor draw in reasonable time, at 254 populations); the maps show all
FIGURE_AREAS = 3


def describe_sample(sample):
    """Size, mean, std, min, max and 5/25/50/75/95 % quantiles of a sample (unit of the sample).

    A list of samples (``"cc"``: one per neuron sample) is described joined, with
    ``n_samples``, the number of samples.
    """
    if spike_statistics.several_samples(sample):
        return {**describe_sample(spike_statistics.pooled(sample)), "n_samples": len(sample)}
    values = np.asarray(sample, dtype=float)
    if values.size == 0:
        return {"n": 0}
    q05, q25, q50, q75, q95 = np.quantile(values, (0.05, 0.25, 0.5, 0.75, 0.95))
    return {"n": int(values.size), "mean": float(values.mean()), "std": float(values.std()),
            "min": float(values.min()), "q05": float(q05), "q25": float(q25),
            "median": float(q50), "q75": float(q75), "q95": float(q95),
            "max": float(values.max())}


def _by_name(cells):
    """Cells keyed by (area, population) -> keyed by the population's name as text."""
    return {spike_statistics.population_key(key): value for key, value in cells.items()}


def _check_window(run, t_start_ms, t_stop_ms):
    recorded = (0.0, run.parameters["t_presim_ms"] + run.parameters["t_sim_ms"])
    window = (run.parameters["t_presim_ms"] if t_start_ms is None else float(t_start_ms),
              recorded[1] if t_stop_ms is None else float(t_stop_ms))
    if not recorded[0] <= window[0] < window[1] <= recorded[1]:
        raise runs.RunFolderError(
            f"window [{window[0]:g}, {window[1]:g}) ms is not inside the recording "
            f"[0, {recorded[1]:g}] ms of {run.path!r}; choose --t-start/--t-stop inside it")
    return window


def _raster_data(times_by_population):
    # only the few neurons shown are kept, so the block can be dropped after reading
    return {spike_statistics.population_key(key): [np.asarray(times, dtype=float)
                                             for times in arrays[:RASTER_NEURONS]]
            for key, arrays in times_by_population.items()}


def _analyse_run(run, window, options, say):
    say(f"  reading {run.path}")
    block = storage.read_block(run.path)
    stats = spike_statistics.population_statistics(block, *window, **options)
    raster = _raster_data(spike_statistics.spike_times_by_population(block))
    return stats, raster


def _reference_rows(all_runs, stats):
    """Mean rate per population, averaged over each simulator's runs, against the reference.

    Returns ``{simulator: {population name: row of reference.reference_check}}``,
    each row with ``seed_sd_hz`` (SD of the population mean rate over the
    simulator's runs, NaN with one run) and ``deviation_in_seed_sd``
    ((mean - reference) / seed_sd_hz).
    """
    rows = {}
    for sim in dict.fromkeys(run.simulator for run in all_runs):
        own = [run_stats for run, run_stats in zip(all_runs, stats) if run.simulator == sim]
        rows[sim] = {}
        for key in own[0]:
            means = [run_stats[key]["rate"].mean() for run_stats in own
                     if key in run_stats and run_stats[key]["rate"].size]
            if not means:  # a population without neurons
                continue
            checked = reference.reference_check({key[1]: float(np.mean(means))})
            if checked:
                row = checked[0]
                # the seed-to-seed SD of the population mean rate (1/s; needs >= 2
                # runs): how many of them the mean lies from the published rate
                sd = float(np.std(means, ddof=1)) if len(means) >= 2 else float("nan")
                row["seed_sd_hz"] = sd
                row["deviation_in_seed_sd"] = (row["mean_hz"] - row["reference_hz"]) / sd \
                    if np.isfinite(sd) and sd > 0 else float("nan")
                rows[sim][spike_statistics.population_key(key)] = row
    return rows


def _figures(out_dir, all_runs, stats, rasters, windows, populations):
    areas = list(dict.fromkeys(area for area, _ in populations))
    note = ""
    if len(areas) > FIGURE_AREAS:
        populations = [key for key in populations if key[0] in areas[:FIGURE_AREAS]]
        shown = {spike_statistics.population_key(key) for key in populations}
        rasters = [{k: v for k, v in raster.items() if k in shown} for raster in rasters]
        note = f" (areas {', '.join(areas[:FIGURE_AREAS])} of {len(areas)})"
    colours = figures.simulator_colours(list(dict.fromkeys(run.simulator for run in all_runs)))
    run_colours = [colours[run.simulator] for run in all_runs]
    styles = figures.linestyles([run.simulator for run in all_runs])
    names = [run.name for run in all_runs]
    made = {"rasters": []}
    for i, (run, raster, window) in enumerate(zip(all_runs, rasters, windows)):
        t_stop = window[1]
        t_start = max(window[0], t_stop - RASTER_SPAN_MS)
        # "nest[numpy-net]" -> "nest-numpy-net": brackets break Markdown image links
        safe = re.sub(r"[^A-Za-z0-9_.]+", "-", run.simulator).strip("-")
        path = os.path.join(out_dir, f"raster_{i}_{safe}_seed{run.seed}.png")
        figures.raster_snippet(raster, path, t_start, t_stop, colour=run_colours[i],
                               title=run.name)
        made["rasters"].append((path, f"{run.name}: {RASTER_NEURONS} neurons per population, "
                                      f"last {t_stop - t_start:g} ms{note}"))
    # the CC samples of a run joined: its distribution over all sampled pairs
    per_population = {name: {key: [spike_statistics.pooled(s[key][name]) for s in stats]
                             for key in populations}
                      for name in spike_statistics.STATISTICS}
    path = figures.rate_boxplots(_by_name(per_population["rate"]), names, run_colours,
                                 os.path.join(out_dir, "rates_boxplots.png"))
    made["rate_boxplots"] = (path, f"rates per neuron, per population and run{note}")
    for name in spike_statistics.STATISTICS:
        path = figures.ecdf_grid(_by_name(per_population[name]), names, run_colours, styles,
                                 spike_statistics.LABELS[name],
                                 os.path.join(out_dir, f"ecdf_{name}.png"))
        made[f"ecdf_{name}"] = (path, f"empirical CDF of the {spike_statistics.LABELS[name]}"
                                      f"{note}")
    return made


def _read_runs(run_dirs, reference_sim, t_start_ms, t_stop_ms):
    """``(runs, groups, windows)``: the runs in report order (reference simulator first,
    each simulator's runs by seed), grouped by simulator, and the analysis window
    (ms) of each; raises :class:`runs.RunFolderError` before anything is computed."""
    all_runs = [runs.read_run(path) for path in run_dirs]
    runs.check_comparable(all_runs)
    groups = runs.group_by_simulator(all_runs, reference_sim)
    if reference_sim not in groups or len(groups[reference_sim]) < 2:
        have = len(groups.get(reference_sim, []))
        raise runs.RunFolderError(
            f"the seed-to-seed baseline needs >= 2 runs of the reference simulator "
            f"{reference_sim!r} with different seeds, got {have} (simulators given: "
            f"{', '.join(groups)}); add runs or choose --reference-sim")
    all_runs = [run for group in groups.values() for run in group]
    windows = [_check_window(run, t_start_ms, t_stop_ms) for run in all_runs]
    return all_runs, groups, windows


def _prepare_report_folder(out_dir, overwrite):
    run_folder.prepare_run_folder(out_dir, overwrite=overwrite)
    # a rebuilt report may hold other runs; rasters and maps named for runs no longer
    # in it must not be left beside it (a study copies the folder's figures into docs)
    for name in os.listdir(out_dir):
        if name.startswith(("raster_", "area_map_")) and name.endswith(".png"):
            os.remove(os.path.join(out_dir, name))


def _run_statistics(all_runs, windows, options, say):
    """``(stats, rasters, populations)``: each run's statistics and raster snippet, and
    the populations every run has."""
    say(f"Statistics of {len(all_runs)} runs")
    stats, rasters = [], []
    for run, window in zip(all_runs, windows):
        run_stats, raster = _analyse_run(run, window, options, say)
        stats.append(run_stats)
        rasters.append(raster)
    populations = [key for key in stats[0] if all(key in s for s in stats[1:])]
    return stats, rasters, populations


def _compare_simulators(all_runs, stats, groups, reference_sim):
    """``(baselines, comparisons)``: the seed-to-seed band of every simulator with >= 2
    runs, and every pair of simulators judged against the reference simulator's band."""
    stats_of = {sim: [run_stats for run, run_stats in zip(all_runs, stats)
                      if run.simulator == sim] for sim in groups}
    baselines = {sim: distances.seed_baseline(stats_of[sim])
                 for sim in groups if len(groups[sim]) >= 2}
    comparisons = []
    sims = list(groups)
    for i, sim_a in enumerate(sims):
        for sim_b in sims[i + 1:]:
            cross = distances.cross_distances(stats_of[sim_a], stats_of[sim_b])
            cells = distances.judge(cross, baselines[reference_sim])
            comparisons.append({
                "simulators": [sim_a, sim_b], "baseline_simulator": reference_sim,
                "n_run_pairs": len(stats_of[sim_a]) * len(stats_of[sim_b]),
                "counts": distances.count_verdicts(cells),
                "counts_emd": distances.count_verdicts(cells, "emd_verdict"),
                "overall": distances.overall_verdict(cells),
                "overall_emd": distances.overall_verdict(cells, "emd_verdict"),
                "cells": _by_name(cells),
            })
    return baselines, comparisons


def _summary(settings, all_runs, groups, windows, stats, populations, baselines,
             comparisons):
    """What ``summary.json`` holds (NaN as None), with the conclusion's sentences."""
    summary = {
        "created": datetime.datetime.now().isoformat(timespec="seconds"),
        "settings": settings,
        "simulators": list(groups),
        "populations": [spike_statistics.population_key(key) for key in populations],
        "runs": [{**run.describe(), "name": run.name, "window_ms": list(window),
                  "statistics": {spike_statistics.population_key(key): {
                      name: describe_sample(run_stats[key][name])
                      for name in spike_statistics.STATISTICS} for key in run_stats}}
                 for run, window, run_stats in zip(all_runs, windows, stats)],
        "baseline_runs": len(groups[settings["reference_sim"]]),
        "baseline_pairs": {sim: len(groups[sim]) * (len(groups[sim]) - 1) // 2
                           for sim in baselines},
        "baselines": {sim: _by_name(cells) for sim, cells in baselines.items()},
        "comparisons": comparisons,
        "reference_check": {"source": reference.REFERENCE_SOURCE,
                            "reference_hz": reference.REFERENCE_RATES_HZ,
                            "rows": _reference_rows(all_runs, stats)},
        "overall_verdict": distances.combine_verdicts([c["overall"] for c in comparisons]),
    }
    summary = report.json_safe(summary)
    summary["conclusion"] = report.conclusion(summary)
    return summary


def _write_report_files(out_dir, summary, all_runs, stats, rasters, windows, populations):
    """Write the figures, ``report.md``, ``report.html``, ``samples.npz`` and
    ``summary.json`` (after adding ``files``, the paths written, to ``summary``)."""
    made = _figures(out_dir, all_runs, stats, rasters, windows, populations)
    made.update(figures.area_maps(summary, out_dir))  # runs with areas only
    md_path, html_path = report.write_report(summary, made, out_dir)
    samples_path = os.path.join(out_dir, "samples.npz")
    np.savez_compressed(samples_path, **_sample_arrays(all_runs, stats))
    summary["files"] = {
        "report_md": md_path, "report_html": html_path, "samples": samples_path,
        "summary": os.path.join(out_dir, "summary.json"),
        "figures": [path for path, _ in made["rasters"]]
        + [made[k][0] for k in ("rate_boxplots", "ecdf_rate", "ecdf_cv", "ecdf_cc")]
        + [path for path, _ in made.get("area_maps", [])]
        + ([made["band_map"][0]] if "band_map" in made else []),
    }
    storage.write_json(summary["files"]["summary"], summary)


def _sample_arrays(all_runs, stats):
    """``samples.npz``'s arrays: ``"<run>/<population>/<statistic>"``; a statistic with
    several samples has its first under that key (the single sample of earlier
    reports) and sample ``j`` under ``".../cc.<j>"``."""
    arrays = {}
    for run, run_stats in zip(all_runs, stats):
        for key, per_statistic in run_stats.items():
            prefix = f"{run.name.replace(' ', '_')}/{spike_statistics.population_key(key)}"
            for name, sample in per_statistic.items():
                several = sample if spike_statistics.several_samples(sample) else [sample]
                for j, values in enumerate(several):
                    arrays[f"{prefix}/{name}" + (f".{j}" if j else "")] = values
    return arrays


def build_report(run_dirs, out_dir, reference_sim="nest", t_start_ms=None, t_stop_ms=None,
                 bin_size_ms=spike_statistics.DEFAULT_BIN_SIZE_MS,
                 n_neurons_cc=spike_statistics.DEFAULT_N_NEURONS_CC, sample_seed=0,
                 n_samples_cc=spike_statistics.DEFAULT_N_SAMPLES_CC,
                 overwrite=False, verbose=True):
    """Compare run folders and write the report folder ``out_dir``; returns the summary dict.

    ``run_dirs``: folders written by ``python run/main.py`` for one model (they may
    differ only in simulator, seed, threads and voltage recording). ``reference_sim``
    must have >= 2 of them, with different seeds: they give the seed-to-seed band.
    ``t_start_ms``/``t_stop_ms`` (ms) override the analysis window (default: each
    run's ``[t_presim_ms, t_presim_ms + t_sim_ms)``); ``bin_size_ms`` (ms),
    ``n_neurons_cc``, ``n_samples_cc`` (disjoint neuron samples per population,
    as many as fit) and ``sample_seed`` set the correlation samples.

    Every check (folders readable, one model, distinct seeds, enough reference
    runs, window inside the recordings, ``out_dir`` empty unless ``overwrite``)
    happens before anything is computed or written; a failed check raises
    :class:`pd14_pynn.validation.runs.RunFolderError` or ``pd14_pynn.run_folder.OutputExistsError``.

    The returned dict is what ``summary.json`` holds (NaN written as None), plus
    ``files``: the paths written.
    """
    say = print if verbose else (lambda *args, **kwargs: None)
    all_runs, groups, windows = _read_runs(run_dirs, reference_sim, t_start_ms, t_stop_ms)
    _prepare_report_folder(out_dir, overwrite)
    options = {"bin_size": bin_size_ms, "n_neurons_cc": n_neurons_cc, "seed": sample_seed,
               "n_samples_cc": n_samples_cc}
    stats, rasters, populations = _run_statistics(all_runs, windows, options, say)
    say("Distances")
    baselines, comparisons = _compare_simulators(all_runs, stats, groups, reference_sim)
    settings = {"reference_sim": reference_sim, "bin_size_ms": bin_size_ms,
                "n_neurons_cc": n_neurons_cc, "n_samples_cc": n_samples_cc,
                "sample_seed": sample_seed,
                "min_spikes_cv": spike_statistics.DEFAULT_MIN_SPIKES_CV,
                "t_start_ms": t_start_ms, "t_stop_ms": t_stop_ms}
    summary = _summary(settings, all_runs, groups, windows, stats, populations, baselines,
                       comparisons)
    say("Figures and report")
    _write_report_files(out_dir, summary, all_runs, stats, rasters, windows, populations)
    return summary


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python validation/compare.py",
        description="Compare PD14 runs of several simulators against the seed-to-seed "
                    "variability of one of them; write report.md, report.html, "
                    "summary.json and figures.")
    parser.add_argument("run_dirs", nargs="+", metavar="RUN_DIR",
                        help="run folders written by 'python run/main.py'")
    parser.add_argument("--out", required=True, metavar="DIR", help="report folder")
    parser.add_argument("--reference-sim", default="nest",
                        help="simulator whose seeds give the baseline band (default nest)")
    parser.add_argument("--t-start", type=float, metavar="MS",
                        help="start of the analysis window, ms (default: end of presimulation)")
    parser.add_argument("--t-stop", type=float, metavar="MS",
                        help="end of the analysis window, ms (default: end of the run)")
    parser.add_argument("--bin-size", type=float, default=spike_statistics.DEFAULT_BIN_SIZE_MS,
                        metavar="MS", help="bin of the spike-count correlations, ms (default 2)")
    parser.add_argument("--n-neurons-cc", type=int, default=spike_statistics.DEFAULT_N_NEURONS_CC,
                        metavar="N", help="neurons per population in the correlation "
                                          "sample (default 250)")
    parser.add_argument("--cc-samples", type=int,
                        default=spike_statistics.DEFAULT_N_SAMPLES_CC, metavar="N",
                        help="disjoint neuron samples per population for the correlations, "
                             "as many as the population holds (default "
                             f"{spike_statistics.DEFAULT_N_SAMPLES_CC}); the verdict averages "
                             "distance and band over them")
    parser.add_argument("--sample-seed", type=int, default=0,
                        help="seed of the choice of those neurons (default 0)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace the files in a report folder that holds some")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    if args.bin_size <= 0 or args.n_neurons_cc < 2 or args.cc_samples < 1:
        print("error: --bin-size must be > 0, --n-neurons-cc >= 2 and --cc-samples >= 1",
              file=sys.stderr)
        return 2
    try:
        summary = build_report(args.run_dirs, args.out, reference_sim=args.reference_sim,
                               t_start_ms=args.t_start, t_stop_ms=args.t_stop,
                               bin_size_ms=args.bin_size, n_neurons_cc=args.n_neurons_cc,
                               n_samples_cc=args.cc_samples, sample_seed=args.sample_seed,
                               overwrite=args.overwrite)
    except (runs.RunFolderError, run_folder.OutputFolderError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print()
    for sentence in summary["conclusion"]:
        print(sentence)
    print(f"\nReport in {summary['files']['report_html']} and {summary['files']['report_md']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
