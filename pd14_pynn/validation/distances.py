"""Distances between samples, the seed-to-seed baseline, and the verdicts.

Two samples of one statistic (rates, CVs or CCs of one population) are compared
by two distances between their distributions:

* :func:`ks_distance` -- Kolmogorov-Smirnov statistic: the largest gap between the
  two empirical CDFs (dimensionless, 0 to 1). The primary distance of the verdict.
* :func:`earth_movers_distance` -- the earth mover's (Wasserstein-1) distance: how
  far, on average, probability mass must move to turn one distribution into the
  other, in the unit of the statistic (1/s for rates). Reported as a second view.
* :func:`compare_samples` -- both, with sizes and the KS p-value.

From one pair of runs to a judgement:

* :func:`run_distances` -- every population and statistic of two runs.
* :func:`seed_baseline` -- distances between runs of one simulator that differ only
  in the seed, over all pairs: their maximum is the band, their mean is reported.
* :func:`cross_distances` -- distances between the runs of two simulators, over all
  pairs (mean and maximum).
* :func:`judge` -- one verdict per cell: "pass" if the mean cross-simulator KS
  distance is within the band, "fail" if above, "n/a" if a sample is empty.
* :func:`count_verdicts`, :func:`overall_verdict` -- over all cells: "fail" if any
  cell fails, else "pass" (or "n/a" if no cell could be decided).
* :func:`combine_verdicts` -- the same rule over several verdicts (e.g. simulator pairs).

Statistics are dicts ``{(area, population): {"rate": array, "cv": array, "cc": [array, ...]}}``
as returned by :func:`pd14_pynn.validation.spike_statistics.population_statistics`.
Cells are ``{(area, population): {statistic: dict}}``.

Several samples of one statistic (a list of arrays, as ``"cc"``: one per neuron
sample) are compared sample by sample (sample ``j`` of one run with sample ``j``
of the other): each sample has its own cross distance and its own band, as a
single sample would; the cell's distance and band are their means over the
samples, and the verdict compares those means. The cells keep the per-sample
values (``per_sample``; in verdict cells ``samples``) so that a report shows
their spread. One 250-neuron sample decides a low-rate population's CC by chance
(issue 23: L6E at 3.05x its band with one sample, 0.66-1.66x with three others).

The KS p-value is reported but is not the verdict: its test assumes independent
values, but the correlation coefficients of pairs that share a neuron are not
independent; and two seeds of one simulator are two different networks, so even
their samples are not draws from one distribution. The seed-to-seed band, not a
p-value, says how large a difference is expected.
"""

import itertools

import numpy as np
from scipy.stats import ks_2samp, wasserstein_distance

PASS, FAIL, NOT_APPLICABLE = "pass", "fail", "n/a"


def _clean(sample):
    return np.asarray(sample, dtype=float).reshape(-1)


def ks_distance(sample_a, sample_b):
    """Two-sample Kolmogorov-Smirnov statistic (dimensionless, 0 to 1); NaN if a sample is empty."""
    a, b = _clean(sample_a), _clean(sample_b)
    if a.size == 0 or b.size == 0:
        return float("nan")
    return float(_ks(a, b).statistic)


def _ks(a, b):
    # the asymptotic p-value: scipy's default first tries the exact distribution for
    # samples up to 10,000 values, which took ~95 % of a 70-run report (py-spy);
    # the statistic is the same (to rounding), and the p-value only informative
    return ks_2samp(a, b, method="asymp")


def earth_movers_distance(sample_a, sample_b):
    """Earth mover's distance (unit of the samples, e.g. 1/s); NaN if a sample is empty."""
    a, b = _clean(sample_a), _clean(sample_b)
    if a.size == 0 or b.size == 0:
        return float("nan")
    return float(wasserstein_distance(a, b))


def _several(sample):
    # a list of samples (arrays), e.g. one per neuron sample; not a list of numbers
    return isinstance(sample, (list, tuple)) and len(sample) > 0 \
        and all(np.ndim(s) == 1 for s in sample)


def compare_samples(sample_a, sample_b):
    """``{"ks", "emd", "ks_pvalue", "n_a", "n_b"}`` of two samples (NaN where a sample is empty).

    ``ks_pvalue`` (asymptotic) assumes independent values; see the module docstring
    for why it is only informative here. Lists of samples (one per neuron sample)
    are compared pairwise in order, as far as the shorter list goes: ``ks`` and
    ``emd`` are then the means over the samples (NaN if one is NaN), ``ks_pvalue``
    the smallest, ``n_a``/``n_b`` the smallest sample, and ``per_sample`` holds
    each sample's comparison.
    """
    if _several(sample_a) or _several(sample_b):
        listed = [s if _several(s) else [s] for s in (sample_a, sample_b)]
        per_sample = [compare_samples(a, b) for a, b in zip(*listed)]
        if not per_sample:
            return {**compare_samples(np.array([]), np.array([])), "per_sample": []}
        return {"ks": float(np.mean([c["ks"] for c in per_sample])),
                "emd": float(np.mean([c["emd"] for c in per_sample])),
                "ks_pvalue": float(np.min([c["ks_pvalue"] for c in per_sample])),
                "n_a": min(c["n_a"] for c in per_sample),
                "n_b": min(c["n_b"] for c in per_sample),
                "per_sample": per_sample}
    a, b = _clean(sample_a), _clean(sample_b)
    empty = a.size == 0 or b.size == 0
    ks = None if empty else _ks(a, b)
    return {
        "ks": float("nan") if empty else float(ks.statistic),
        "emd": earth_movers_distance(a, b),
        "ks_pvalue": float("nan") if empty else float(ks.pvalue),
        "n_a": int(a.size),
        "n_b": int(b.size),
    }


def _shared_keys(stats_list):
    # populations present in every run, in the order of the first run
    first = list(stats_list[0])
    return [key for key in first if all(key in stats for stats in stats_list[1:])]


def _statistic_names(stats_list, key):
    names = list(stats_list[0][key])
    return [name for name in names if all(name in stats[key] for stats in stats_list[1:])]


def run_distances(stats_a, stats_b):
    """:func:`compare_samples` for every population and statistic present in both runs."""
    return {key: {name: compare_samples(stats_a[key][name], stats_b[key][name])
                  for name in _statistic_names([stats_a, stats_b], key)}
            for key in _shared_keys([stats_a, stats_b])}


def _summarise_pairs(pair_tables, key, name):
    """Mean and max of KS and EMD over run pairs; NaN if any pair had an empty sample.

    Several samples: each sample summarised on its own, then the mean over the
    samples of each number (``per_sample`` keeps each sample's).
    """
    compared = [table[key][name] for table in pair_tables]
    if all("per_sample" in c for c in compared):
        n_samples = min(len(c["per_sample"]) for c in compared)
        samples = [_summarise([c["per_sample"][j] for c in compared])
                   for j in range(n_samples)]
        if not samples:
            return _summarise([{**c, "ks": float("nan")} for c in compared])
        summary = {field: float(np.mean([s[field] for s in samples]))
                   for field in ("ks_mean", "ks_max", "emd_mean", "emd_max")}
        sizes = [n for s in samples for n in s["sample_sizes"]]
        summary.update(
            ks_pvalue_min=float(np.min([s["ks_pvalue_min"] for s in samples])),
            n_pairs=len(compared), sample_sizes=[min(sizes), max(sizes)],
            per_sample={field: [s[field] for s in samples]
                        for field in ("ks_mean", "ks_max", "emd_mean", "emd_max")})
        return summary
    return _summarise(compared)


def _summarise(compared):
    """Mean and max of KS and EMD over the comparisons of one sample in run pairs."""
    ks = np.array([c["ks"] for c in compared])
    emd = np.array([c["emd"] for c in compared])
    pvalues = np.array([c["ks_pvalue"] for c in compared])
    sizes = sorted({n for c in compared for n in (c["n_a"], c["n_b"])})
    # one empty sample makes the whole cell undecidable rather than judged on fewer pairs
    complete = bool(np.all(np.isfinite(ks)))
    nan = float("nan")
    return {
        "ks_mean": float(ks.mean()) if complete else nan,
        "ks_max": float(ks.max()) if complete else nan,
        "emd_mean": float(emd.mean()) if complete else nan,
        "emd_max": float(emd.max()) if complete else nan,
        "ks_pvalue_min": float(pvalues.min()) if complete else nan,
        "n_pairs": len(compared),
        "sample_sizes": [min(sizes), max(sizes)] if sizes else [0, 0],
    }


def _pairwise_summary(pairs):
    tables = [run_distances(a, b) for a, b in pairs]
    stats_list = [s for pair in pairs for s in pair]
    return {key: {name: _summarise_pairs(tables, key, name)
                  for name in _statistic_names(stats_list, key)}
            for key in _shared_keys(stats_list)}


def seed_baseline(stats_list):
    """Seed-to-seed distances of runs of one simulator, over all pairs of runs.

    ``stats_list``: the statistics of >= 2 runs that differ only in the seed.
    Returns cells with ``ks_mean``, ``ks_max`` (the band of the KS verdict),
    ``emd_mean``, ``emd_max``, ``ks_pvalue_min``, ``n_pairs`` and
    ``sample_sizes`` ([smallest, largest]); distances are NaN where a run has
    an empty sample. A statistic with several samples (``"cc"``) gets each of
    these numbers averaged over its samples, and ``per_sample`` (lists, one
    value per sample, of ``ks_mean``, ``ks_max``, ``emd_mean``, ``emd_max``).
    """
    if len(stats_list) < 2:
        raise ValueError(f"a seed-to-seed baseline needs >= 2 runs, got {len(stats_list)}")
    return _pairwise_summary(list(itertools.combinations(stats_list, 2)))


def cross_distances(stats_list_a, stats_list_b):
    """Distances between every run of one simulator and every run of another.

    Returns cells like :func:`seed_baseline`, over the ``len(a) * len(b)`` pairs.
    """
    if not stats_list_a or not stats_list_b:
        raise ValueError("cross_distances needs at least one run on each side")
    return _pairwise_summary(list(itertools.product(stats_list_a, stats_list_b)))


def verdict(distance, band):
    """"pass" if ``distance <= band``, "fail" if above, "n/a" if either is NaN."""
    if not (np.isfinite(distance) and np.isfinite(band)):
        return NOT_APPLICABLE
    return PASS if distance <= band else FAIL


def judge(cross, baseline):
    """Verdict cells: cross-simulator distances against the seed-to-seed band.

    For every population and statistic in both: the mean cross KS distance
    (``ks``) against the baseline's maximum (``band_ks``) gives ``verdict``; the
    mean cross EMD (``emd``) against ``band_emd`` gives ``emd_verdict``,
    reported beside it. Baseline means, pair counts, sample sizes and the
    smallest KS p-value are carried along. A statistic with several samples
    has ``ks``, ``band_ks``, ``emd``, ``band_emd`` averaged over its samples (the
    verdict compares those) and ``samples``: ``{"n", "ks", "band_ks", "emd",
    "band_emd", "verdicts"}``, the lists of each sample's values and verdict.
    """
    cells = {}
    for key in cross:
        if key not in baseline:
            continue
        cells[key] = {}
        for name, distances in cross[key].items():
            if name not in baseline[key]:
                continue
            band = baseline[key][name]
            cell = {
                "ks": distances["ks_mean"], "ks_max": distances["ks_max"],
                "emd": distances["emd_mean"], "emd_max": distances["emd_max"],
                "ks_pvalue_min": distances["ks_pvalue_min"],
                "n_pairs": distances["n_pairs"], "sample_sizes": distances["sample_sizes"],
                "band_ks": band["ks_max"], "band_ks_mean": band["ks_mean"],
                "band_emd": band["emd_max"], "band_emd_mean": band["emd_mean"],
                "band_n_pairs": band["n_pairs"],
                "verdict": verdict(distances["ks_mean"], band["ks_max"]),
                "emd_verdict": verdict(distances["emd_mean"], band["emd_max"]),
            }
            if "per_sample" in distances and "per_sample" in band:
                cell["samples"] = _sample_cells(distances["per_sample"], band["per_sample"])
            cells[key][name] = cell
    return cells


def _sample_cells(cross, band):
    """Each sample's cross distance, band and verdict (lists, in sample order)."""
    n = min(len(cross["ks_mean"]), len(band["ks_max"]))
    ks, band_ks = cross["ks_mean"][:n], band["ks_max"][:n]
    return {"n": n, "ks": ks, "band_ks": band_ks,
            "emd": cross["emd_mean"][:n], "band_emd": band["emd_max"][:n],
            "verdicts": [verdict(d, b) for d, b in zip(ks, band_ks)]}


def count_verdicts(cells, field="verdict"):
    """``{"pass": n, "fail": n, "n/a": n}`` over all cells."""
    counts = {PASS: 0, FAIL: 0, NOT_APPLICABLE: 0}
    for per_statistic in cells.values():
        for cell in per_statistic.values():
            counts[cell[field]] += 1
    return counts


def combine_verdicts(verdicts):
    """"fail" if any verdict is "fail"; else "pass" if any is "pass"; else "n/a"."""
    verdicts = list(verdicts)
    if FAIL in verdicts:
        return FAIL
    return PASS if PASS in verdicts else NOT_APPLICABLE


def overall_verdict(cells, field="verdict"):
    """:func:`combine_verdicts` over all cells (``field``: "verdict" or "emd_verdict")."""
    return combine_verdicts(cell[field] for per_statistic in cells.values()
                            for cell in per_statistic.values())
