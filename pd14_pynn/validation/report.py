"""The validation report: ``report.md`` and a self-contained ``report.html``.

The report is first built as a list of blocks (heading, paragraph, table,
figures), then rendered twice (:mod:`pd14_pynn.validation.rendering`), so the two
files cannot disagree:

* :func:`report_blocks` -- the sections, from the summary dict of
  :func:`pd14_pynn.validation.compare.build_report` and the figure files.
* :func:`conclusion` -- plain-language sentences generated from the verdicts.
* :func:`write_report` -- ``report.md`` and ``report.html`` into the report folder.
* :func:`json_safe` -- a summary as strict JSON values (NaN as None).

Sections, in order: runs compared, raster snippets, rates per run, distributions,
distances and verdicts, seed-to-seed bands, reference rates, conclusion.
"""

import math
import os

from pd14_pynn import storage

from .distances import FAIL, NOT_APPLICABLE, PASS
from .rendering import to_html, to_markdown
from .spike_statistics import STATISTICS

SECTION_TITLES = (
    "Runs compared", "Raster snippets", "Rates per run", "Distributions",
    "Distances and verdicts", "Seed-to-seed bands", "Reference rates", "Conclusion",
)


def _number(value, digits=3):
    """A number for a table: ``digits`` significant digits, "n/a" for None or NaN."""
    if value is None:
        return "n/a"
    if isinstance(value, (int,)) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return "n/a"
    return f"{value:.{digits}g}"


def _percent(value):
    if value is None or not math.isfinite(value):
        return "n/a"
    return f"{100 * value:+.0f}%"


def _plural(count, noun):
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _sizes(sizes):
    low, high = sizes
    return str(low) if low == high else f"{low}-{high}"


def _range(values, digits=3):
    finite = [v for v in values if v is not None and math.isfinite(v)]
    if not finite:
        return "n/a"
    low, high = min(finite), max(finite)
    return _number(low, digits) if low == high else \
        f"{_number(low, digits)}-{_number(high, digits)}"


def sample_spread(cell):
    """The spread of a cell over its neuron samples, as text: the number of samples,
    the range of their KS distances, of their bands and of KS / band, and how many
    samples pass alone; "" for a cell of one sample (rates, CVs, and reports from
    before several CC samples)."""
    samples = cell.get("samples")
    if not samples or samples["n"] < 1:
        return ""
    ratios = [d / b if d is not None and b else None
              for d, b in zip(samples["ks"], samples["band_ks"])]
    decided = [v for v in samples["verdicts"] if v != NOT_APPLICABLE]
    return (f"{samples['n']}: {_range(samples['ks'])}, {_range(samples['band_ks'])}, "
            f"{_range(ratios, 2)}x, {sum(v == PASS for v in decided)} of {len(decided)} pass")


def _band_spread(cell):
    per_sample = cell.get("per_sample")
    if not per_sample or len(per_sample["ks_max"]) < 2:
        return ""
    return f" [{_range(per_sample['ks_max'])}]"


def _cc_samples_text(n_samples, n_neurons):
    if n_samples <= 1:
        return ""
    return (f" in each of up to {n_samples} disjoint samples (as many as the population "
            f"holds; one sample of all its neurons where it has at most {n_neurons}); "
            f"each sample is compared with the same sample of the other runs, and the "
            f"CC distance, band and verdict are the means over the samples")


# --- sections ----------------------------------------------------------------

def _runs_section(summary):
    header = ["run", "simulator", "version", "PyNN", "N", "K", "background", "seed",
              "presim + sim (ms)", "neurons", "synapses", "wall time (s)", "simulate (s)", "RTF"]
    rows = []
    for run in summary["runs"]:
        rows.append([run["name"], run["simulator"], run["simulator_version"] or "n/a",
                     run["pynn_version"] or "n/a", _number(run["N_scaling"]),
                     _number(run["K_scaling"]), run["background"]
                     + (" + thalamic" if run["thalamic_input"] else ""), str(run["seed"]),
                     f"{run['t_presim_ms']:g} + {run['t_sim_ms']:g}",
                     str(run["num_neurons"]), str(run["num_synapses"]),
                     _number(run["wall_time_s"]), _number(run["simulate_s"]),
                     _number(run["rtf"])])
    settings = summary["settings"]
    windows = sorted({tuple(run["window_ms"]) for run in summary["runs"]})
    window_text = ", ".join(f"[{a:g}, {b:g})" for a, b in windows)
    return [
        ("h2", SECTION_TITLES[0]),
        ("table", header, rows),
        ("p", f"Statistics are taken over the window {window_text} ms (after the "
              f"presimulation). Rates: every neuron, silent ones at 0/s. CV of "
              f"inter-spike intervals: neurons with at least {settings['min_spikes_cv']} "
              f"spikes in the window. Correlation coefficients: spike counts in "
              f"{settings['bin_size_ms']:g} ms bins, all pairs of up to "
              f"{settings['n_neurons_cc']} neurons per population"
              + _cc_samples_text(settings.get("n_samples_cc", 1), settings['n_neurons_cc'])
              + f", drawn with seed {settings['sample_seed']}; pairs with a silent neuron "
              f"have no coefficient and are left out. Wall time is the sum of the timed "
              f"phases (import to saving); RTF is the wall time of the simulation phase over the simulated "
              f"time."),
    ]


def _raster_section(figures):
    return [("h2", SECTION_TITLES[1]),
            ("p", "A few neurons per population (the first by index) at the end of the "
                  "analysis window, one raster per run."),
            ("figures", figures["rasters"])]


def _rates_section(summary, figures):
    runs = summary["runs"]
    header = ["population", "statistic"] + [run["name"] for run in runs]
    rows = []
    for population in summary["populations"]:
        for name in STATISTICS:
            cells = []
            for run in runs:
                described = run["statistics"].get(population, {}).get(name)
                cells.append("n/a" if not described or not described["n"] else
                             f"{_number(described['mean'])} ± {_number(described['std'], 2)} "
                             f"(n={described['n']})")
            rows.append([population, name, *cells])
    return [("h2", SECTION_TITLES[2]),
            ("figures", [figures["rate_boxplots"]]),
            ("p", "Mean ± standard deviation of each sample and its size n (neurons for "
                  "rate and CV, neuron pairs for CC)."),
            ("table", header, rows)]


def _distributions_section(figures):
    return [("h2", SECTION_TITLES[3]),
            ("p", "Empirical cumulative distributions, one colour per simulator, one line "
                  "style per seed. Where the lines of two simulators lie as close as those "
                  "of two seeds, the simulators agree."),
            ("figures", [figures["ecdf_rate"], figures["ecdf_cv"], figures["ecdf_cc"]])]


def _distances_section(summary, figures):
    blocks = [("h2", SECTION_TITLES[4])]
    maps = figures.get("area_maps")
    if not summary["comparisons"]:
        blocks.append(("p", "Only one simulator was given: there is no pair of simulators "
                            "to compare."))
        return blocks
    blocks.append((
        "p", "For each pair of simulators, population and statistic: the Kolmogorov-"
             "Smirnov distance (KS, largest gap between the two ECDFs, 0 to 1) and the "
             "earth mover's distance (EMD, in the unit of the statistic: 1/s for rates), "
             "each the mean over all pairs of runs of the two simulators. The band is the "
             "largest distance between two seeds of the baseline simulator (the mean over "
             "its seed pairs in brackets). Verdict: pass if KS <= its band, fail if above, "
             "n/a if a sample is empty; the EMD verdict is the same test on EMD, shown as a "
             "second view. Where a statistic has several neuron samples (the CC), distance "
             "and band are each the mean over the samples, and the last column shows their "
             "spread: the number of samples, the range over samples of the KS distance, of "
             "the band and of their ratio, and how many samples would pass on their own. "
             "The smallest KS p-value is shown for reference only: it assumes "
             "independent values, which correlation pairs sharing a neuron are not, and two "
             "seeds are two different networks; the band, not a p-value, decides."))
    header = ["population", "statistic", "n", "KS", "KS band", "verdict", "EMD", "EMD band",
              "EMD verdict", "min p (KS)", "per sample: KS, band, KS / band, passing"]
    for index, comparison in enumerate(summary["comparisons"]):
        a, b = comparison["simulators"]
        counts = comparison["counts"]
        blocks.append(("h3", f"{b} vs {a} (band: {comparison['baseline_simulator']} seeds)"))
        if maps:
            blocks += _map_blocks(maps[index], counts[PASS])
        rows = []
        for population, per_statistic in comparison["cells"].items():
            for name, cell in per_statistic.items():
                if maps and cell["verdict"] == PASS:
                    continue  # in the map and in summary.json
                rows.append([population, name, _sizes(cell["sample_sizes"]),
                             _number(cell["ks"]),
                             f"{_number(cell['band_ks'])} ({_number(cell['band_ks_mean'])})",
                             _verdict_text(cell["verdict"]), _number(cell["emd"]),
                             f"{_number(cell['band_emd'])} ({_number(cell['band_emd_mean'])})",
                             _verdict_text(cell["emd_verdict"]),
                             _number(cell["ks_pvalue_min"], 2), sample_spread(cell)])
        blocks.append(("table", header, rows))
        blocks.append(("p", f"Verdict for {b} vs {a}: {comparison['overall']} "
                            f"({counts[PASS]} pass, {counts[FAIL]} fail, "
                            f"{counts[NOT_APPLICABLE]} n/a; over {comparison['n_run_pairs']} "
                            f"pairs of runs)."))
    return blocks


def _map_blocks(figure, n_passing):
    """The area map of one comparison and what the table below it leaves out."""
    return [("figures", [figure]),
            ("p", f"Each cell: the KS distance over the band (mean over neuron samples for "
                  f"the CC); above 1 (red, framed) the cell fails. The table lists the cells "
                  f"that fail or are undecided; the {n_passing} passing cells are in the map "
                  f"and in summary.json.")]


def _verdict_text(verdict):
    # upper case makes the failing cells easy to find in a long plain-text table
    return "FAIL" if verdict == FAIL else verdict


def _bands_section(summary, figures):
    baselines = summary["baselines"]
    blocks = [("h2", SECTION_TITLES[5])]
    if not baselines:
        return blocks + [("p", "No simulator has two runs with different seeds.")]
    if figures.get("band_map"):
        # one row per area, population and statistic does not read at 254 populations
        return blocks + [("figures", [figures["band_map"]]),
                         ("p", "KS distance between runs of the baseline simulator that "
                               "differ only in the seed: the largest over all pairs of its "
                               "runs (for the CC the mean over neuron samples), the band of "
                               "the verdicts. Every simulator's bands, with their means over "
                               "pairs, are in summary.json (baselines).")]
    sims = list(baselines)
    blocks.append(("p", "KS distance between runs of one simulator that differ only in the "
                        "seed: largest over all pairs of its runs (mean in brackets; number "
                        "of pairs in the header; for several CC neuron samples, the mean "
                        "over samples, their range in square brackets). The baseline "
                        "simulator's band is the one "
                        "the verdicts use; the others show whether the simulators vary "
                        "alike from seed to seed."))
    header = ["population", "statistic"] + [
        f"{sim} ({_plural(summary['baseline_pairs'][sim], 'pair')})" for sim in sims]
    rows = []
    for population in summary["populations"]:
        for name in STATISTICS:
            row = [population, name]
            for sim in sims:
                cell = baselines[sim].get(population, {}).get(name)
                row.append("n/a" if cell is None else
                           f"{_number(cell['ks_max'])} ({_number(cell['ks_mean'])})"
                           + _band_spread(cell))
            rows.append(row)
    blocks.append(("table", header, rows))
    return blocks


def _reference_section(summary):
    check = summary["reference_check"]
    sims = list(check["rows"])
    header = ["population", "reference (1/s)"] + [
        column for sim in sims
        for column in (f"{sim} (1/s)", f"{sim} deviation", f"{sim} deviation / seed SD")]
    rows = []
    for population in summary["populations"]:
        per_sim = [check["rows"][sim].get(population) for sim in sims]
        known = next((row for row in per_sim if row is not None), None)
        if known is None:  # a population without a published rate
            continue
        row = [population, _number(known["reference_hz"])]
        for row_data in per_sim:
            row += ["n/a", "n/a", "n/a"] if row_data is None else [
                _number(row_data["mean_hz"]), _percent(row_data["relative_deviation"]),
                _number(row_data.get("deviation_in_seed_sd"), 2)]
        rows.append(row)
    scales = sorted({(run["N_scaling"], run["K_scaling"]) for run in summary["runs"]})
    scale_text = ", ".join(f"N = {n:g}, K = {k:g}" for n, k in scales)
    return [
        ("h2", SECTION_TITLES[6]),
        ("p", f"Mean rate per population, averaged over the runs of each simulator, against "
              f"the published full-scale rates ({check['source']}); deviation = (mean - "
              f"reference) / reference; deviation / seed SD = (mean - reference) / the standard "
              f"deviation of the population mean rate over that simulator's seeds ('n/a' with "
              f"one seed). These runs use {scale_text}. A downscaled network "
              f"keeps the mean and variance of its inputs but not their correlations, and a "
              f"short run averages over few spikes, so its rates are not expected to match "
              f"exactly. This table gives no verdict."),
        ("table", header, rows),
    ]


def conclusion(summary):
    """Plain-language sentences that say what the verdicts mean, and which cells fail."""
    sentences = []
    baseline_sim = summary["settings"]["reference_sim"]
    n_seeds = summary["baseline_runs"]
    if not summary["comparisons"]:
        return [f"Only {baseline_sim} was given, so no simulators were compared; the report "
                f"shows its seed-to-seed variability over {n_seeds} seeds."]
    for comparison in summary["comparisons"]:
        a, b = comparison["simulators"]
        counts = comparison["counts"]
        decided = counts[PASS] + counts[FAIL]
        failing = [f"{name} in {population} (KS {_number(cell['ks'])} > "
                   f"{_number(cell['band_ks'])}"
                   + (f", means of {cell['samples']['n']} neuron samples"
                      if cell.get("samples", {}).get("n", 1) > 1 else "") + ")"
                   for population, per_statistic in comparison["cells"].items()
                   for name, cell in per_statistic.items() if cell["verdict"] == FAIL]
        undecided = [f"{name} in {population}"
                     for population, per_statistic in comparison["cells"].items()
                     for name, cell in per_statistic.items()
                     if cell["verdict"] == NOT_APPLICABLE]
        emd_only = [f"{name} in {population}"
                    for population, per_statistic in comparison["cells"].items()
                    for name, cell in per_statistic.items()
                    if cell["verdict"] == PASS and cell["emd_verdict"] == FAIL]
        if decided == 0:
            text = (f"{b} vs {a}: no cell could be decided, every one has an empty sample "
                    f"(too few spikes: a longer or larger run helps).")
        elif not failing:
            text = (f"{b} vs {a}: all {decided} decided cells pass: the distributions of "
                    f"rates, CVs and correlations differ between the two simulators no more "
                    f"than between two seeds of {comparison['baseline_simulator']}.")
        else:
            text = (f"{b} vs {a}: {len(failing)} of {decided} decided cells fail, i.e. the "
                    f"two simulators differ more than two seeds of "
                    f"{comparison['baseline_simulator']} do: {'; '.join(failing)}.")
        if undecided:
            text += (f" Not decided (an empty sample, e.g. no neuron with "
                     f"{summary['settings']['min_spikes_cv']} spikes): {', '.join(undecided)}.")
        if emd_only:
            text += (f" The earth mover's distance exceeds its band where KS does not: "
                     f"{', '.join(emd_only)}.")
        sentences.append(text)
    pairs = summary["baseline_pairs"].get(baseline_sim, 0)
    sentences.append(
        f"The band comes from {n_seeds} seeds of {baseline_sim} ({_plural(pairs, 'pair')}); "
        f"with few seeds the band is itself uncertain, "
        f"so a cell just above it is weak evidence, and more seeds give a firmer band.")
    sentences.append(f"Overall verdict: {summary['overall_verdict']}.")
    return sentences


def report_blocks(summary, figures):
    """The report as blocks: ``("h1"|"h2"|"h3"|"p", text)``, ``("table", header, rows)``,
    ``("figures", [(png path, caption), ...])``.

    ``figures``: ``{"rasters": [(path, caption), ...], "rate_boxplots": (path, caption),
    "ecdf_rate"/"ecdf_cv"/"ecdf_cc": (path, caption)}``; for runs with areas also
    ``"area_maps"`` (a list) and ``"band_map"`` (:func:`pd14_pynn.validation.figures.area_maps`),
    which replace the long tables of passing cells and of bands.
    """
    simulators = ", ".join(summary["simulators"])
    blocks = [("h1", "PD14 cross-simulator validation"),
              ("p", f"Simulators: {simulators}; baseline: seeds of "
                    f"{summary['settings']['reference_sim']}. Overall verdict: "
                    f"{summary['overall_verdict']}.")]
    blocks += _runs_section(summary)
    blocks += _raster_section(figures)
    blocks += _rates_section(summary, figures)
    blocks += _distributions_section(figures)
    blocks += _distances_section(summary, figures)
    blocks += _bands_section(summary, figures)
    blocks += _reference_section(summary)
    blocks += [("h2", SECTION_TITLES[7])] + [("p", text) for text in conclusion(summary)]
    return blocks


def write_report(summary, figures, out_dir):
    """Write ``report.md`` and ``report.html`` into ``out_dir``; returns their paths."""
    blocks = report_blocks(summary, figures)
    md_path = os.path.join(out_dir, "report.md")
    html_path = os.path.join(out_dir, "report.html")
    with open(md_path, "w") as handle:
        handle.write(to_markdown(blocks, out_dir))
    with open(html_path, "w") as handle:
        handle.write(to_html(blocks))
    return md_path, html_path


def json_safe(value):
    """``value`` with NaN/inf as None (null: "no value" in JSON) and numpy types as Python's."""
    return storage.jsonable(value, nonfinite_as_none=True)
