"""The response to the thalamic pulse: PSTHs, their features, bands and verdicts.

Pure functions on spike arrays (:class:`pd14_pynn.spike_tables.PopulationSpikes`); no
simulator, no files. Times in ms, rates in spikes/s per neuron (1/s).

One trial (one run):

* :func:`psth` -- peri-stimulus time histogram of one population: spike counts in
  bins of ``bin_ms`` (default 1 ms) over a window (default 600-900 ms), divided by
  the number of neurons and the bin width.
* :func:`smooth` -- centred moving average over an odd number of bins; NaN where
  the window would leave the PSTH.
* :func:`response_features` -- from one PSTH and the pulse onset:

  - ``baseline_hz``: mean of the PSTH over the bins that end at or before the onset;
  - ``baseline_sd_hz``: standard deviation of the smoothed PSTH over the bins whose
    whole smoothing window ends at or before the onset (the spread that the
    return criterion compares against);
  - ``peak_hz``: the largest PSTH value in a bin starting at or after the onset and
    less than ``search_ms`` (default 50 ms) after it (the first such bin if several
    are equal), and ``peak_ms`` its left edge. (Searched over the whole window
    after the onset, the "peak" of some trials was a spontaneous burst 100-190 ms
    later: NEST's L23E latency came out as 47.6 +- 61.6 ms over 10 trials while
    most trials peaked 5-10 ms after the onset.)
  - ``latency_ms``: ``peak_ms`` minus the onset (a spike at 705.3 ms after an onset
    at 700 ms falls in the bin [705, 706) and has latency 5 ms);
  - ``return_ms``: time from the onset to the left edge of the first bin after the
    peak bin whose smoothed rate lies within ``baseline_hz +- k_sd * baseline_sd_hz``;
    NaN if the smoothed rate does not return inside the window.

* :func:`population_responses` -- PSTH and features of every population of a run.

Several trials and two simulators, as the stationary statistics
(:mod:`pd14_pynn.validation.distances`): a distance between two trials, its band over all
pairs of trials of the reference simulator, the same distance over all pairs
across simulators, and a verdict (pass if the mean cross distance is within the
band, i.e. at most the largest trial-to-trial distance).

* :func:`psth_distance` -- root mean square difference of two smoothed PSTHs over
  the window from the onset to its end (1/s).
* :func:`feature_distances` -- absolute differences of peak, latency and return time.
* :func:`trial_band`, :func:`cross_trials` -- those distances over all pairs of
  trials of one simulator / of two simulators (mean and maximum).
* :func:`judge_responses` -- verdict cells ``{population: {distance: cell}}``.
"""

import itertools

import numpy as np

from .distances import FAIL, NOT_APPLICABLE, PASS, verdict

DEFAULT_BIN_MS = 1.0
DEFAULT_WINDOW_MS = (600.0, 900.0)
DEFAULT_SMOOTH_BINS = 5
DEFAULT_K_SD = 2.0
#: the peak is searched from the onset to this long after it (ms)
DEFAULT_SEARCH_MS = 50.0
#: the distances judged per population, with their unit
DISTANCES = {"psth": "1/s", "peak": "1/s", "latency": "ms", "return": "ms"}


def psth(spikes, t_start_ms=DEFAULT_WINDOW_MS[0], t_stop_ms=DEFAULT_WINDOW_MS[1],
         bin_ms=DEFAULT_BIN_MS):
    """PSTH of one population: ``(edges_ms, rate_hz)``.

    ``spikes``: a :class:`~pd14_pynn.spike_tables.PopulationSpikes` (or anything with
    ``times_ms`` and ``size``). Bins are ``[edge, edge + bin_ms)``; ``rate_hz`` is
    the count per bin / (neurons x bin width in s), in spikes/s per neuron.
    """
    n_bins = int(round((t_stop_ms - t_start_ms) / bin_ms))
    if n_bins < 1 or not np.isclose(n_bins * bin_ms, t_stop_ms - t_start_ms):
        raise ValueError(f"the window [{t_start_ms}, {t_stop_ms}) ms must be a positive "
                         f"multiple of the bin width {bin_ms} ms")
    if spikes.size < 1:
        raise ValueError("a PSTH needs a population of at least one neuron")
    edges = t_start_ms + bin_ms * np.arange(n_bins + 1)
    times = np.asarray(spikes.times_ms, dtype=float)
    inside = times[(times >= t_start_ms) & (times < t_stop_ms)]
    # integer bin index, not np.histogram's float edges, so a spike exactly on an
    # edge always opens the bin that starts there
    index = np.minimum(np.floor((inside - t_start_ms) / bin_ms).astype(int), n_bins - 1)
    counts = np.bincount(index, minlength=n_bins)
    return edges, counts / (spikes.size * bin_ms * 1e-3)


def smooth(rate_hz, n_bins=DEFAULT_SMOOTH_BINS):
    """Centred moving average over ``n_bins`` (odd) bins; NaN within n_bins // 2 of each end."""
    if n_bins < 1 or n_bins % 2 == 0:
        raise ValueError(f"the smoothing width must be an odd number of bins, got {n_bins}")
    rate_hz = np.asarray(rate_hz, dtype=float)
    half = n_bins // 2
    out = np.full(rate_hz.size, np.nan)
    if rate_hz.size >= n_bins:
        out[half:rate_hz.size - half] = np.convolve(rate_hz, np.ones(n_bins) / n_bins, "valid")
    return out


def response_features(edges_ms, rate_hz, onset_ms, smooth_bins=DEFAULT_SMOOTH_BINS,
                      k_sd=DEFAULT_K_SD, search_ms=DEFAULT_SEARCH_MS):
    """Baseline, peak, latency and return time of one PSTH (see the module docstring).

    Returns a dict of floats: ``baseline_hz``, ``baseline_sd_hz``, ``peak_hz``,
    ``peak_ms``, ``latency_ms``, ``return_ms`` (NaN if no return in the window).
    """
    edges_ms = np.asarray(edges_ms, dtype=float)
    rate_hz = np.asarray(rate_hz, dtype=float)
    left, right = edges_ms[:-1], edges_ms[1:]
    before = right <= onset_ms + 1e-9
    after = np.flatnonzero((left >= onset_ms - 1e-9) & (left < onset_ms + search_ms - 1e-9))
    if not before.any() or after.size == 0:
        raise ValueError(f"the onset {onset_ms} ms must lie inside the PSTH window "
                         f"[{edges_ms[0]}, {edges_ms[-1]}) ms, after its first bin")
    half = smooth_bins // 2
    smoothed = smooth(rate_hz, smooth_bins)
    # smoothing windows that end at or before the onset: bin i's window ends at right[i + half]
    window_end = np.append(right[half:], np.full(half, np.inf))
    quiet = (window_end <= onset_ms + 1e-9) & np.isfinite(smoothed)
    baseline = float(rate_hz[before].mean())
    baseline_sd = float(smoothed[quiet].std()) if quiet.any() else float("nan")
    peak_bin = int(after[np.argmax(rate_hz[after])])
    tolerance = k_sd * baseline_sd
    later = np.arange(peak_bin + 1, rate_hz.size)
    back = later[np.abs(smoothed[later] - baseline) <= tolerance] if np.isfinite(tolerance) \
        else np.array([], dtype=int)
    return {
        "baseline_hz": baseline,
        "baseline_sd_hz": baseline_sd,
        "peak_hz": float(rate_hz[peak_bin]),
        "peak_ms": float(left[peak_bin]),
        "latency_ms": float(left[peak_bin] - onset_ms),
        "return_ms": float(left[back[0]] - onset_ms) if back.size else float("nan"),
    }


def population_responses(table, onset_ms, window_ms=DEFAULT_WINDOW_MS, bin_ms=DEFAULT_BIN_MS,
                         smooth_bins=DEFAULT_SMOOTH_BINS, k_sd=DEFAULT_K_SD,
                         search_ms=DEFAULT_SEARCH_MS):
    """``{population: {"edges_ms", "rate_hz", "features"}}`` for one run.

    ``table``: ``{population: PopulationSpikes}`` (:func:`pd14_pynn.spike_tables.spike_table`).
    """
    out = {}
    for key, spikes in table.items():
        edges, rate = psth(spikes, window_ms[0], window_ms[1], bin_ms)
        out[key] = {"edges_ms": edges, "rate_hz": rate,
                    "features": response_features(edges, rate, onset_ms, smooth_bins, k_sd,
                                                  search_ms)}
    return out


def psth_distance(response_a, response_b, onset_ms, smooth_bins=DEFAULT_SMOOTH_BINS):
    """RMS difference (1/s) of two smoothed PSTHs over the bins from the onset on.

    Both responses (``{"edges_ms", "rate_hz"}``) must share their bins. Bins
    where smoothing is undefined (the last ``smooth_bins // 2``) are left out.
    """
    edges_a, edges_b = np.asarray(response_a["edges_ms"]), np.asarray(response_b["edges_ms"])
    if edges_a.shape != edges_b.shape or not np.allclose(edges_a, edges_b):
        raise ValueError("the two PSTHs have different bins")
    a = smooth(response_a["rate_hz"], smooth_bins)
    b = smooth(response_b["rate_hz"], smooth_bins)
    keep = (edges_a[:-1] >= onset_ms - 1e-9) & np.isfinite(a) & np.isfinite(b)
    return float(np.sqrt(np.mean((a[keep] - b[keep]) ** 2)))


def feature_distances(response_a, response_b, onset_ms, smooth_bins=DEFAULT_SMOOTH_BINS):
    """``{"psth", "peak", "latency", "return"}``: the distances of two trials (units in
    :data:`DISTANCES`); ``return`` is NaN if either trial has no return time."""
    fa, fb = response_a["features"], response_b["features"]
    return {
        "psth": psth_distance(response_a, response_b, onset_ms, smooth_bins),
        "peak": abs(fa["peak_hz"] - fb["peak_hz"]),
        "latency": abs(fa["latency_ms"] - fb["latency_ms"]),
        "return": abs(fa["return_ms"] - fb["return_ms"]),
    }


def _summarise(pairs, onset_ms, smooth_bins):
    """Mean and max of every distance, per population, over pairs of trials."""
    populations = [key for key in pairs[0][0] if all(key in a and key in b for a, b in pairs)]
    cells = {}
    for key in populations:
        table = [feature_distances(a[key], b[key], onset_ms, smooth_bins) for a, b in pairs]
        cells[key] = {}
        for name in DISTANCES:
            values = np.array([row[name] for row in table])
            # one undefined pair (no return time) makes the cell undecidable
            complete = bool(np.all(np.isfinite(values)))
            cells[key][name] = {"mean": float(values.mean()) if complete else float("nan"),
                                "max": float(values.max()) if complete else float("nan"),
                                "n_pairs": len(pairs)}
    return cells


def trial_band(trials, onset_ms, smooth_bins=DEFAULT_SMOOTH_BINS):
    """Trial-to-trial distances of one simulator over all pairs of its trials.

    ``trials``: >= 2 results of :func:`population_responses` (one per seed).
    Returns ``{population: {distance: {"mean", "max", "n_pairs"}}}``; ``max`` is the band.
    """
    if len(trials) < 2:
        raise ValueError(f"a trial-to-trial band needs >= 2 trials, got {len(trials)}")
    return _summarise(list(itertools.combinations(trials, 2)), onset_ms, smooth_bins)


def cross_trials(trials_a, trials_b, onset_ms, smooth_bins=DEFAULT_SMOOTH_BINS):
    """Distances over all ``len(a) x len(b)`` pairs of trials of two simulators."""
    if not trials_a or not trials_b:
        raise ValueError("cross_trials needs at least one trial on each side")
    return _summarise(list(itertools.product(trials_a, trials_b)), onset_ms, smooth_bins)


def judge_responses(cross, band):
    """Verdict cells ``{population: {distance: {"distance", "distance_max", "band",
    "band_mean", "verdict"}}}``: mean cross distance against the band's maximum."""
    cells = {}
    for key, per_distance in cross.items():
        if key not in band:
            continue
        cells[key] = {name: {"distance": cell["mean"], "distance_max": cell["max"],
                             "band": band[key][name]["max"],
                             "band_mean": band[key][name]["mean"],
                             "n_pairs": cell["n_pairs"],
                             "band_n_pairs": band[key][name]["n_pairs"],
                             "verdict": verdict(cell["mean"], band[key][name]["max"])}
                      for name, cell in per_distance.items()}
    return cells


#: per-trial features tested between simulators by :func:`feature_tests`
TESTED_FEATURES = ("peak_hz", "latency_ms", "return_ms")


def feature_tests(trials_a, trials_b, features=TESTED_FEATURES):
    """Two-sided Mann-Whitney U test of each per-trial feature between two simulators.

    Returns ``{population: {feature: {"p": p-value, "n_a", "n_b", "median_a",
    "median_b"}}}`` (NaN p where either side has fewer than 2 finite values).
    Trials are independent (one seed each), so unlike the KS p-values of the
    stationary statistics these p-values mean what they say; with 8 populations x 3
    features, about one test in 24 falls below 0.05 by chance.
    """
    from scipy.stats import mannwhitneyu
    out = {}
    for key in trials_a[0]:
        if key not in trials_b[0]:
            continue
        out[key] = {}
        for name in features:
            a = np.array([trial[key]["features"][name] for trial in trials_a], dtype=float)
            b = np.array([trial[key]["features"][name] for trial in trials_b], dtype=float)
            a, b = a[np.isfinite(a)], b[np.isfinite(b)]
            enough = a.size >= 2 and b.size >= 2
            p = float(mannwhitneyu(a, b, alternative="two-sided").pvalue) if enough \
                else float("nan")
            out[key][name] = {"p": p, "n_a": int(a.size), "n_b": int(b.size),
                              "median_a": float(np.median(a)) if a.size else float("nan"),
                              "median_b": float(np.median(b)) if b.size else float("nan")}
    return out


def mean_features(trials):
    """``{population: {feature: (mean, sd)}}`` over trials (NaN-aware; sd with ddof 0)."""
    out = {}
    for key in trials[0]:
        out[key] = {}
        for name in trials[0][key]["features"]:
            values = np.array([trial[key]["features"][name] for trial in trials])
            finite = values[np.isfinite(values)]
            out[key][name] = (float(finite.mean()) if finite.size else float("nan"),
                              float(finite.std()) if finite.size else float("nan"))
    return out


__all__ = ["psth", "smooth", "response_features", "population_responses", "psth_distance",
           "feature_distances", "trial_band", "cross_trials", "judge_responses",
           "feature_tests", "mean_features", "TESTED_FEATURES", "PASS", "FAIL", "NOT_APPLICABLE", "DISTANCES"]
