"""The spikes of a run as arrays per population, and rates, for analysis.

* :class:`PopulationSpikes` -- one population's spikes: neuron index and time
  arrays, and its size;
* :func:`spike_table` -- ``{population: PopulationSpikes}`` of a run's Neo
  block (:func:`pd14_pynn.storage.read_block`), without a per-neuron object;
* :func:`spikes_by_population`, :func:`split_by_neuron` -- one spike-time
  array per neuron;
* :func:`population_rates`, :func:`mean_rates` -- per-neuron rates over a window;
* :func:`population_key`, :func:`to_ms` -- the key of a population
  (``"L23E"`` or ``"area/L23E"``), times in ms from a Quantity.

Only numpy: no Neo import, no simulator.
"""

import json
from typing import NamedTuple

import numpy as np


class PopulationSpikes(NamedTuple):
    """The spikes of one population as arrays, sorted by neuron index, then time."""
    index: np.ndarray     # neuron index in the population, one entry per spike
    times_ms: np.ndarray  # spike times (ms)
    size: int             # neurons in the population (silent ones included)


def spike_table(block):
    """``{key: PopulationSpikes}`` of a run's block, keys ``"L23E"`` or ``"area/L23E"``.

    Reads the columnar arrays directly where the block has them (files written
    by this package), so no per-neuron object is made; other blocks (e.g. NIX
    files, or ones with one annotated ``SpikeTrain`` per neuron) are read train
    by train.
    """
    segment = block.segments[0]
    layout = block.annotations.get("populations")
    if layout:
        rows = json.loads(layout)
        channels, times = segment.spiketrains.multiplexed
        channels = np.asarray(channels, dtype=np.int64)
        times = to_ms(times)
        order = np.lexsort((times, channels))
        channels, times = channels[order], times[order]
        table = {}
        for row in rows:
            lo, hi = np.searchsorted(channels, [row["first_channel"],
                                                row["first_channel"] + row["size"]])
            table[population_key(row["area"], row["population"])] = PopulationSpikes(
                channels[lo:hi] - row["first_channel"], times[lo:hi], int(row["size"]))
        return table
    groups = {}
    for train in segment.spiketrains:
        key = population_key(train.annotations.get("area") or "",
                             train.annotations["population"])
        t = to_ms(train.times)
        groups.setdefault(key, []).append((int(train.annotations["index"]), t))
    table = {}
    for key, trains in groups.items():
        index = np.concatenate([np.full(t.size, i, dtype=np.int64) for i, t in trains])
        times = np.concatenate([t for _, t in trains])
        order = np.lexsort((times, index))
        table[key] = PopulationSpikes(index[order], times[order],
                                      max(i for i, _ in trains) + 1)
    return table


def spikes_by_population(block):
    """dict population -> list of spike-time arrays (ms), one per neuron, by index.

    Multi-area runs: keys are ``"area/population"`` where an area is set.
    """
    return {key: split_by_neuron(spikes) for key, spikes in spike_table(block).items()}


def split_by_neuron(spikes):
    """List of spike-time arrays (ms), one per neuron, from a :class:`PopulationSpikes`."""
    counts = np.bincount(spikes.index, minlength=spikes.size)
    return np.split(spikes.times_ms, np.cumsum(counts)[:-1])


def population_rates(spikes, t_start_ms, t_stop_ms):
    """Per-neuron rates (1/s) over [t_start, t_stop) from a :class:`PopulationSpikes`."""
    keep = (spikes.times_ms >= t_start_ms) & (spikes.times_ms < t_stop_ms)
    duration_s = (t_stop_ms - t_start_ms) * 1e-3
    return np.bincount(spikes.index[keep], minlength=spikes.size) / duration_s


def mean_rates(spike_times, t_start_ms, t_stop_ms):
    """Per-neuron rates (1/s) over [t_start, t_stop) from a list of spike-time arrays."""
    duration_s = (t_stop_ms - t_start_ms) * 1e-3
    return np.array([np.count_nonzero((t >= t_start_ms) & (t < t_stop_ms)) / duration_s
                     for t in spike_times])


def population_key(area, population):
    """The key of a population in a spike table: ``"area/population"``, or the
    population alone where no area is set."""
    return f"{area}/{population}" if area else population


def to_ms(value):
    """Float array (or float) in ms from a Quantity, or from plain numbers meaning ms."""
    if hasattr(value, "rescale"):
        value = value.rescale("ms").magnitude
    return np.asarray(value, dtype=float) if np.ndim(value) else float(value)
