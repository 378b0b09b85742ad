"""Per-population spiking statistics of a run, as Elephant defines them.

The three statistics of the PD14 cross-simulator validation, each a sample (one
value per neuron or per pair of neurons) in a window ``[t_start, t_stop)``:

* :func:`firing_rates` -- time-averaged rate of every neuron (1/s), silent ones included.
* :func:`cv_isi` -- coefficient of variation of the inter-spike intervals of every
  neuron with at least ``min_spikes`` (3) spikes in the window.
* :func:`pairwise_correlations` -- Pearson correlation coefficients of spike counts
  in 2 ms bins between all pairs of up to 250 randomly chosen neurons.
* :func:`correlation_samples` -- the same for several disjoint samples of neurons
  of one population (default 4, as many as the population holds): one sample
  decides a low-rate population's CC verdict by chance (issue 23), so the
  verdict averages over samples (:mod:`pd14_pynn.validation.distances`).
* :func:`sample_neurons` -- the seeded choice of those disjoint samples.

The correlations are Elephant's (``BinnedSpikeTrain``, ``correlation_coefficient``).
Rates and CVs are Elephant's definitions (``mean_firing_rate``: count over the
window; ``cv`` of ``isi``: population SD over mean of the intervals) computed
with numpy on plain arrays: making a ``neo.SpikeTrain`` per neuron took ~190 s
per full-scale run, nearly all of it in ``quantities`` unit handling. The tests
check both against Elephant's functions.

Putting it together:

* :func:`spike_times_by_population` -- spike-time arrays (ms) per (area, population).
* :func:`group_by_population` -- the spike trains of a Neo block per (area, population).
* :func:`population_key` -- that key as text: ``"L23E"`` or ``"area/L23E"``.
* :func:`analysis_window` -- the default window: after the presimulation.
* :func:`population_statistics` -- all three statistics for every population of a block;
  ``"cc"`` is a list of samples (one array per neuron sample).
* :func:`pooled`, :func:`several_samples` -- a statistic as one array (the samples of
  ``"cc"`` joined); whether it is a list of samples.
* :func:`run_statistics` -- the same, read from a run folder.
* :func:`restrict` -- spike trains cut to a half-open window.

Times are in ms: ``t_start``/``t_stop``/``bin_size`` accept a
``quantities.Quantity`` or a plain number (taken as ms). Samples are plain numpy
arrays and never contain NaN.
"""

import contextlib
import logging
import os
import warnings
import zlib

import neo
import numpy as np
import quantities as pq
import elephant.utils
from elephant.conversion import BinnedSpikeTrain
from elephant.spike_train_correlation import correlation_coefficient

from pd14_pynn import spike_tables, storage
from pd14_pynn.parameters import POPULATIONS

#: names of the statistics, in report order
STATISTICS = ("rate", "cv", "cc")
#: axis labels of the statistics, with units
LABELS = {
    "rate": "firing rate (1/s)",
    "cv": "CV of inter-spike intervals",
    "cc": "spike-count correlation coefficient (2 ms bins)",
}

DEFAULT_BIN_SIZE_MS = 2.0
DEFAULT_N_NEURONS_CC = 250
#: neuron samples per population for the CC (fewer where the population holds fewer
#: disjoint samples of DEFAULT_N_NEURONS_CC)
DEFAULT_N_SAMPLES_CC = 4
DEFAULT_MIN_SPIKES_CV = 3

# Simulators accumulate time in floating point: NEURON's recording of a
# 10,500 ms run ends at 10499.99999998745 ms. A window end that much past the
# recorded end is still inside it (far less than a time step).
SPAN_TOLERANCE_MS = 1e-6


@contextlib.contextmanager
def _quiet_bin_edge_corrections():
    """Silence Elephant's warning about spikes moved off a bin edge, for the block.

    Recorded spike times carry float rounding (simulators add up time step by
    step), so some lie a hair below a 2 ms bin edge. Elephant moves them into
    the bin they belong to -- the right thing -- and logs a warning for each
    spike train with such a spike: ~900 lines in a 60 s study report, hiding
    its progress lines. Its logger does not propagate, so it is quieted where
    it lives.
    """
    logger = elephant.utils.logger
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _to_ms(value):
    """A time as a float in ms (``value``: Quantity, or a number meaning ms)."""
    if isinstance(value, pq.Quantity):
        return float(value.rescale(pq.ms).magnitude)
    return float(value)


def _times_ms(train):
    if isinstance(train, pq.Quantity):
        return np.asarray(train.rescale(pq.ms).magnitude, dtype=float)
    return np.asarray(train, dtype=float)


def _windowed_times(spiketrains, t_start, t_stop):
    """Spike times (ms, float arrays) in ``[t_start, t_stop)``; see :func:`restrict`."""
    t_start, t_stop = _to_ms(t_start), _to_ms(t_stop)
    if not t_stop > t_start:
        raise ValueError(f"empty window: t_start {t_start} ms >= t_stop {t_stop} ms")
    windowed = []
    for train in spiketrains:
        if isinstance(train, neo.SpikeTrain):
            _check_span((_to_ms(train.t_start), _to_ms(train.t_stop)), t_start, t_stop)
        times = _times_ms(train)
        windowed.append(times[(times >= t_start) & (times < t_stop)])
    return windowed


def _check_span(recorded, t_start, t_stop):
    if t_start < recorded[0] - SPAN_TOLERANCE_MS or t_stop > recorded[1] + SPAN_TOLERANCE_MS:
        raise ValueError(
            f"window [{t_start}, {t_stop}) ms is outside the recorded span "
            f"[{recorded[0]}, {recorded[1]}] ms")


def restrict(spiketrains, t_start, t_stop):
    """Copies of ``spiketrains`` with only the spikes in ``[t_start, t_stop)`` (ms).

    The copies are ``neo.SpikeTrain``\\ s with exactly these bounds, so Elephant
    takes the window length from them. Elephant's own ``t_stop`` arguments count
    a spike at ``t_stop``; the half-open window does not, so that consecutive
    windows never count a spike twice.

    ``spiketrains``: ``neo.SpikeTrain``\\ s, or arrays of spike times in ms.
    A ``neo.SpikeTrain`` whose recorded span does not cover the window raises
    ``ValueError``: time that was not recorded must not be read as silence.
    """
    t_start, t_stop = _to_ms(t_start), _to_ms(t_stop)
    return [neo.SpikeTrain(kept, units=pq.ms, t_start=t_start * pq.ms, t_stop=t_stop * pq.ms)
            for kept in _windowed_times(spiketrains, t_start, t_stop)]


def firing_rates(spiketrains, t_start, t_stop):
    """Time-averaged firing rate (1/s) of every spike train over ``[t_start, t_stop)``.

    Silent neurons count, with rate 0. As ``elephant.statistics.mean_firing_rate``
    of a train cut to the window: spike count over window length.
    ``spiketrains``: ``neo.SpikeTrain``\\ s or arrays of spike times in ms (as
    :func:`restrict`, which also says when a window is refused).
    """
    t_start, t_stop = _to_ms(t_start), _to_ms(t_stop)
    counts = [times.size for times in _windowed_times(spiketrains, t_start, t_stop)]
    # count per ms, times 1000 ms/s: the same operations as Elephant's 1/ms -> Hz
    return np.asarray(counts, dtype=float).reshape(-1) / (t_stop - t_start) * 1000.0


def cv_isi(spiketrains, t_start, t_stop, min_spikes=DEFAULT_MIN_SPIKES_CV):
    """CV (std / mean, dimensionless) of the inter-spike intervals in ``[t_start, t_stop)``.

    Only neurons with at least ``min_spikes`` spikes in the window contribute
    (the default 3 gives at least two intervals); the result has one value per
    such neuron, so it may be shorter than ``spiketrains`` or empty. The SD is
    the population SD (ddof 0), as in ``elephant.statistics.cv``.
    """
    if min_spikes < 3:
        raise ValueError(f"min_spikes must be >= 3 (two intervals), got {min_spikes}")
    values = []
    for times in _windowed_times(spiketrains, t_start, t_stop):
        if times.size >= min_spikes:
            intervals = np.diff(times)
            values.append(intervals.std() / intervals.mean())
    return np.asarray(values, dtype=float).reshape(-1)


def pairwise_correlations(spiketrains, t_start, t_stop, bin_size=DEFAULT_BIN_SIZE_MS,
                          n_neurons=DEFAULT_N_NEURONS_CC, rng=None):
    """Correlation coefficients (dimensionless) of binned spike counts of neuron pairs.

    Up to ``n_neurons`` trains are drawn without replacement with ``rng`` (a
    ``numpy.random.Generator``; required when there are more trains than
    ``n_neurons``), binned with ``bin_size`` (ms) over ``[t_start, t_stop)``, and
    the Pearson coefficient of every pair is taken (upper triangle, no diagonal).
    A window that is not a multiple of ``bin_size`` loses its last partial bin.
    Pairs with a neuron that has no spike in the binned window have no defined
    coefficient (zero variance); they are dropped, so the sample holds no NaN and
    has at most ``n * (n - 1) / 2`` values.
    """
    trains = list(spiketrains)
    if len(trains) > n_neurons:
        if rng is None:
            raise ValueError(f"{len(trains)} trains > n_neurons={n_neurons}: pass a seeded "
                             f"numpy Generator as rng to choose the sample")
        trains = [trains[i] for i in sample_neurons(len(trains), n_neurons, 1, rng)[0]]
    return _correlations(trains, t_start, t_stop, bin_size)


def sample_neurons(n_trains, n_neurons, n_samples, rng):
    """Disjoint samples of ``n_neurons`` neuron indices out of ``n_trains``, drawn with
    ``rng`` (a seeded ``numpy.random.Generator``); a list of sorted index arrays.

    As many samples as asked and as fit: ``min(n_samples, n_trains // n_neurons)``,
    at least one; a population of at most ``n_neurons`` gives one sample of all its
    neurons. The first sample is the single sample earlier versions drew (one
    ``rng.choice``), so ``n_samples=1`` reproduces their CCs; the others are
    drawn from the remaining neurons.
    """
    if n_samples < 1 or n_neurons < 2:
        raise ValueError(f"need n_samples >= 1 and n_neurons >= 2, got {n_samples} and "
                         f"{n_neurons}")
    if n_trains <= n_neurons:
        return [np.arange(n_trains)]
    first = np.sort(rng.choice(n_trains, size=n_neurons, replace=False))
    rest = rng.permutation(np.setdiff1d(np.arange(n_trains), first))
    count = min(n_samples, n_trains // n_neurons)
    return [first] + [np.sort(rest[i * n_neurons:(i + 1) * n_neurons])
                      for i in range(count - 1)]


def correlation_samples(spiketrains, t_start, t_stop, bin_size=DEFAULT_BIN_SIZE_MS,
                        n_neurons=DEFAULT_N_NEURONS_CC, n_samples=DEFAULT_N_SAMPLES_CC,
                        rng=None):
    """:func:`pairwise_correlations` of each of the disjoint neuron samples of
    :func:`sample_neurons`: a list of arrays (dimensionless), one per sample.

    ``rng`` (a seeded ``numpy.random.Generator``) is required when there are more
    trains than ``n_neurons``.
    """
    trains = list(spiketrains)
    if len(trains) > n_neurons and rng is None:
        raise ValueError(f"{len(trains)} trains > n_neurons={n_neurons}: pass a seeded "
                         f"numpy Generator as rng to choose the samples")
    chosen = sample_neurons(len(trains), n_neurons, n_samples, rng)
    return [_correlations([trains[i] for i in sample], t_start, t_stop, bin_size)
            for sample in chosen]


def _correlations(trains, t_start, t_stop, bin_size):
    """The coefficients of every pair of ``trains`` (see :func:`pairwise_correlations`)."""
    t_start, t_stop, bin_size = _to_ms(t_start), _to_ms(t_stop), _to_ms(bin_size)
    # round() first so that 300.0 / 2.0 computed as 149.99999999 still gives 150 bins
    n_bins = int(np.floor(np.round((t_stop - t_start) / bin_size, 9)))
    if len(trains) < 2 or n_bins < 2:
        return np.array([], dtype=float)
    t_stop_binned = t_start + n_bins * bin_size
    # cut at the last full bin edge: Elephant would discard (and warn about) spikes there
    windowed = restrict(trains, t_start, t_stop_binned)
    with _quiet_bin_edge_corrections():
        binned = BinnedSpikeTrain(windowed, bin_size=bin_size * pq.ms,
                                  t_start=t_start * pq.ms, t_stop=t_stop_binned * pq.ms)
    with warnings.catch_warnings():
        # silent neurons divide by a zero standard deviation; their NaNs are dropped below
        warnings.filterwarnings("ignore", message="invalid value encountered",
                                category=RuntimeWarning)
        warnings.filterwarnings("ignore", message="Detected empty spike trains",
                                category=UserWarning)
        matrix = correlation_coefficient(binned)
    upper = matrix[np.triu_indices(len(windowed), k=1)]
    return upper[np.isfinite(upper)]


def several_samples(value):
    """True if ``value`` is a list of samples (arrays; ``"cc"``), not one sample (an
    array, or a list of numbers)."""
    return isinstance(value, (list, tuple)) and len(value) > 0 \
        and all(np.ndim(sample) == 1 for sample in value)


def pooled(value):
    """A statistic of one population as one array: ``value`` itself, or its samples
    joined where it is a list of samples (``"cc"``)."""
    if several_samples(value):
        return np.concatenate([np.asarray(v, dtype=float) for v in value])
    return np.asarray(value, dtype=float).reshape(-1)


def _population_order(key):
    area, population = key
    rank = POPULATIONS.index(population) if population in POPULATIONS else len(POPULATIONS)
    return rank, population


def spike_times_by_population(block):
    """``{(area, population): [spike times (ms), ...]}``: one float array per neuron.

    Ordered as :func:`group_by_population`, without making a ``neo.SpikeTrain``
    per neuron. Silent neurons get empty arrays. Read through
    :func:`pd14_pynn.spike_tables.spike_table`, so columnar files are split with one
    sort, not one pass per neuron.
    """
    groups, areas = {}, []
    for text, spikes in spike_tables.spike_table(block).items():
        area, _, population = text.rpartition("/")
        if area not in areas:
            areas.append(area)
        groups[(area, population)] = spike_tables.split_by_neuron(spikes)
    ordered = sorted(groups, key=lambda k: (areas.index(k[0]), _population_order(k)))
    return {key: groups[key] for key in ordered}


def recorded_span(block):
    """``(t_start, t_stop)`` in ms of the recording of a run's block."""
    trains = block.segments[0].spiketrains
    return _to_ms(trains.t_start), _to_ms(trains.t_stop)


def group_by_population(block):
    """``{(area, population): [neo.SpikeTrain, ...]}`` of a run's block, ordered by ``index``.

    Areas keep the order in which they appear in the block ("" for a single
    circuit); within an area, populations follow L23E, L23I, ... L6I. Silent
    neurons get empty trains. Each train spans the block's recording.
    """
    t_start, t_stop = recorded_span(block)
    return {key: [neo.SpikeTrain(times, units="ms", t_start=t_start, t_stop=t_stop,
                                 population=key[1], area=key[0], index=index)
                  for index, times in enumerate(arrays)]
            for key, arrays in spike_times_by_population(block).items()}


def population_key(key):
    """A population's name as text: ``"L23E"``, or ``"area/L23E"`` in a multi-area run."""
    area, population = key
    return f"{area}/{population}" if area else population


def analysis_window(block, t_sim_ms=None):
    """Default window ``(t_start, t_stop)`` in ms: after the presimulation.

    ``t_start`` is the block annotation ``t_presim_ms``; ``t_stop`` is
    ``t_start + t_sim_ms`` when given, else the end of the recording.
    """
    t_start = float(block.annotations.get("t_presim_ms", 0.0))
    if t_sim_ms is not None:
        return t_start, t_start + float(t_sim_ms)
    return t_start, _to_ms(block.segments[0].spiketrains.t_stop)


def _sample_rng(seed, key):
    # one generator per population, keyed by its name, so the chosen neurons do
    # not depend on which other populations or areas the block holds
    return np.random.default_rng([int(seed), zlib.crc32(population_key(key).encode())])


def population_statistics(block, t_start=None, t_stop=None, bin_size=DEFAULT_BIN_SIZE_MS,
                          n_neurons_cc=DEFAULT_N_NEURONS_CC, seed=0,
                          n_samples_cc=DEFAULT_N_SAMPLES_CC):
    """Rates (1/s), CVs and CCs of every population of a Neo block.

    Returns ``{(area, population): {"rate": array, "cv": array, "cc": [array, ...]}}``:
    ``"cc"`` holds one array per neuron sample (:func:`correlation_samples`).
    The window defaults to :func:`analysis_window` (``t_start``, ``t_stop`` in ms
    or as Quantities); ``bin_size`` (ms), ``n_neurons_cc`` and ``n_samples_cc`` set
    the correlation samples, whose neurons are drawn with a generator seeded by
    ``seed`` and the population name.
    """
    default = analysis_window(block)
    t_start = default[0] if t_start is None else _to_ms(t_start)
    t_stop = default[1] if t_stop is None else _to_ms(t_stop)
    # every neuron's recording spans the block's, so the window is checked once
    _check_span(recorded_span(block), t_start, t_stop)
    result = {}
    for key, trains in spike_times_by_population(block).items():
        result[key] = {
            "rate": firing_rates(trains, t_start, t_stop),
            "cv": cv_isi(trains, t_start, t_stop),
            "cc": correlation_samples(trains, t_start, t_stop, bin_size=bin_size,
                                      n_neurons=n_neurons_cc, n_samples=n_samples_cc,
                                      rng=_sample_rng(seed, key)),
        }
    return result


def run_statistics(run_dir, t_start=None, t_stop=None, **options):
    """:func:`population_statistics` of a run folder written by ``run/main.py``.

    The default window is ``[t_presim_ms, t_presim_ms + t_sim_ms)`` from the
    run's ``parameters.json``; ``options`` go to :func:`population_statistics`.
    """
    block = storage.read_block(run_dir)
    params = storage.read_json(os.path.join(run_dir, "parameters.json"))
    default = analysis_window(block, params["t_sim_ms"])
    return population_statistics(block, default[0] if t_start is None else t_start,
                                 default[1] if t_stop is None else t_stop, **options)
