"""The files of a run: JSON metadata and the spike file (Neo, or a SONATA spike report).

* :func:`write_json`, :func:`read_json`, :func:`jsonable` -- JSON files with
  numpy values; :func:`package_versions` for ``metadata.json``;
* :func:`write_block`, :func:`read_block` -- the run's Neo block as a spike
  file, its format chosen by the extension (:data:`SPIKE_FORMATS`: ``.pkl``,
  ``.nix``; ``.h5``: a SONATA spike report, :mod:`pd14_pynn.spike_report`,
  read back as the same block, spikes only); :func:`spike_file`,
  :func:`spike_path` find it in a run folder;
* :func:`write_spike_report`, :func:`block_from_report` -- a block to and from
  a SONATA spike report; :func:`set_columnar_spikes` gives a segment one
  columnar ``SpikeTrainList``.

What a run folder holds, and its status and log, is :mod:`pd14_pynn.run_folder`;
the spikes as arrays per population for analysis are
:mod:`pd14_pynn.spike_tables`. ``spike_table`` and ``spikes_by_population``
are also importable from here (the README's "read the spikes back with").

Nothing here imports a simulator.
"""

import importlib.metadata
import json
import math
import os
import platform
import sys

import numpy as np

from . import spike_report, spike_tables
from .spike_tables import population_key, spike_table, split_by_neuron, to_ms

# the README reads spikes back with storage.spike_table and storage.spikes_by_population
spikes_by_population = spike_tables.spikes_by_population

#: Neo formats of the spikes: extension -> Neo IO
SPIKE_FORMATS = {".nix": "NixIO", ".pkl": "PickleIO"}
#: the spike file of each ``--format``: Neo's, or SONATA's spike report
SPIKE_FILES = {".pkl": "spikes.pkl", ".nix": "spikes.nix", "sonata": spike_report.FILE}


def jsonable(value, nonfinite_as_none=False):
    """``value`` with numpy arrays and scalars as Python lists and numbers, for JSON;
    with ``nonfinite_as_none``, NaN and inf as None (null: "no value"; run files
    keep them as numbers, reports write null)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v, nonfinite_as_none) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v, nonfinite_as_none) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist(), nonfinite_as_none)
    if isinstance(value, np.generic):
        value = value.item()
    if nonfinite_as_none and isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_json(path, data):
    """Write ``data`` (numpy values allowed) as indented JSON."""
    with open(path, "w") as handle:
        json.dump(jsonable(data), handle, indent=2, sort_keys=False)
        handle.write("\n")


def read_json(path):
    with open(path) as handle:
        return json.load(handle)


def package_versions(extra=()):
    """Versions of the packages a run depends on (None where not installed)."""
    names = ("pd14-pynn", "PyNN", "numpy", "scipy", "neo", "quantities", "elephant",
             "matplotlib", "nest-simulator", "neuron", "brian2", "nixio", "mpi4py",
             *extra)
    versions = {"python": sys.version.split()[0], "platform": platform.platform()}
    # one pass over the installed distributions (a lookup per name scans them all)
    installed = {}
    for dist in importlib.metadata.distributions():
        installed.setdefault(_normalised(dist.metadata["Name"] or ""), dist.version)
    for name in names:
        versions[name] = installed.get(_normalised(name))
    return versions


def _normalised(name):
    return name.lower().replace("_", "-").replace(".", "-")


def neo_io(path):
    """The Neo IO class for a spike file, chosen by its extension."""
    import neo
    ext = os.path.splitext(path)[1]
    if ext not in SPIKE_FORMATS:
        raise ValueError(f"unknown spike file extension {ext!r}; use one of "
                         f"{', '.join([*SPIKE_FORMATS, _SONATA_EXT])}")
    return getattr(neo.io, SPIKE_FORMATS[ext])


_SONATA_EXT = os.path.splitext(spike_report.FILE)[1]


def spike_path(run_dir, spike_format):
    """The spike file of ``--format`` ``spike_format`` in ``run_dir``."""
    if spike_format not in SPIKE_FILES:
        raise ValueError(f"unknown spike format {spike_format!r}; use one of "
                         f"{', '.join(SPIKE_FILES)}")
    return os.path.join(run_dir, SPIKE_FILES[spike_format])


def write_block(block, path):
    """Write a Neo block to ``path`` (format from the extension; ``.h5``: a SONATA
    spike report of its spikes, :func:`write_spike_report`).

    Pickle keeps columnar spike trains columnar (fast). NIX stores one object per
    spike train, so they are made here, in one pass (NIX then needs ~10 ms each).
    """
    if os.path.splitext(path)[1] == _SONATA_EXT:
        write_spike_report(block, path)
        return
    io_class = neo_io(path)
    if os.path.exists(path):
        os.remove(path)
    if io_class.__name__ == "NixIO":
        _materialise_trains(block)
        with io_class(path, mode="ow") as io:
            io.write_block(block)
    else:
        io_class(path).write_block(block)


def read_block(path):
    """Read the Neo block of a run (``path``: spike file or run folder).

    A SONATA spike report (``.h5``) is read as the block its run wrote
    (:func:`block_from_report`)."""
    if os.path.isdir(path):
        path = spike_file(path)
    if os.path.splitext(path)[1] == _SONATA_EXT:
        return block_from_report(spike_report.read_report(path))
    io_class = neo_io(path)
    if io_class.__name__ == "NixIO":
        with io_class(path, mode="ro") as io:
            return io.read_block(lazy=False)
    return io_class(path).read_block()


def spike_file(run_dir):
    """The spike file of a run folder."""
    for name in SPIKE_FILES.values():
        candidate = os.path.join(run_dir, name)
        if os.path.exists(candidate):
            return candidate
    raise FileNotFoundError(f"no {', '.join(SPIKE_FILES.values())} in {run_dir!r}")


#: block annotations a SONATA spike report keeps (as attributes of the file)
_REPORT_ANNOTATIONS = ("t_presim_ms", "simulated_ms", "complete", "simulator", "label",
                       "areas")


def write_spike_report(block, path):
    """Write the spikes of a run's ``block`` as a SONATA spike report at ``path``.

    One node population per population of the block, named by its PyNN label
    (:func:`pd14_pynn.spike_report.node_population_name`), node IDs its indices;
    the block's annotations (presimulation, simulated time, complete, ...) and
    the recording's span go into the file. Membrane potentials are not written.
    """
    trains = block.segments[0].spiketrains
    populations = []
    for key, spikes in spike_table(block).items():
        area, _, population = key.rpartition("/")
        populations.append(spike_report.PopulationReport(
            spike_report.node_population_name(area, population), spikes.index,
            spikes.times_ms, spikes.size, area=area, population=population))
    facts = {key: block.annotations[key] for key in _REPORT_ANNOTATIONS
             if block.annotations.get(key) is not None}
    facts.update(t_start_ms=to_ms(trains.t_start), t_stop_ms=to_ms(trains.t_stop),
                 name=block.name or "")
    spike_report.write_report(path, populations, facts)


def block_from_report(report):
    """The Neo block of a :class:`~pd14_pynn.spike_report.SpikeReport`: columnar
    spikes, the annotation ``populations`` and the run's facts, as
    :func:`pd14_pynn.recording.collect_block` makes it."""
    import neo
    facts = report.facts
    rows, channels, times, first_channel = [], [], [], 0
    for pop in report.populations:
        rows.append({"area": pop.area, "population": pop.population,
                     "first_channel": first_channel, "size": int(pop.n_nodes)})
        channels.append(pop.node_ids + first_channel)
        times.append(pop.times_ms)
        first_channel += int(pop.n_nodes)
    t_stop_ms = facts.get("t_stop_ms", max([float(t.max()) for t in times if t.size],
                                           default=0.0))
    block = neo.Block(name=facts.get("name") or "PD14 microcircuit")
    segment = neo.Segment(name="run")
    block.segments.append(segment)
    set_columnar_spikes(segment, times, channels, rows, t_stop_ms,
                        facts.get("t_start_ms", 0.0))
    block.annotations.update({key: facts[key] for key in _REPORT_ANNOTATIONS if key in facts})
    block.annotations.update(t_presim_ms=float(facts.get("t_presim_ms", 0.0)),
                             populations=json.dumps(rows))
    return block


def set_columnar_spikes(segment, times, channels, rows, t_stop_ms, t_start_ms=0.0):
    """Give ``segment`` one columnar ``SpikeTrainList`` of every population's spikes.

    ``times``, ``channels``: arrays (ms; channel = first_channel + index), one per
    population or fewer; ``rows``: ``{"area", "population", "first_channel",
    "size"}`` per population, in channel order. Each channel is annotated with
    ``population``, ``index`` and ``area``.
    """
    import quantities as pq
    from neo.core.spiketrainlist import SpikeTrainList
    n_channels = sum(int(row["size"]) for row in rows)
    per_channel = {key: np.concatenate([np.full(row["size"], row[key]) for row in rows]
                                       or [np.array([])])
                   for key in ("population", "area")}
    per_channel["index"] = np.concatenate(
        [np.arange(row["size"]) for row in rows] or [np.array([], dtype=int)])
    segment.spiketrains = SpikeTrainList.from_spike_time_array(
        np.concatenate(times or [np.array([])]),
        np.concatenate(channels or [np.array([], dtype=np.int64)]),
        np.arange(n_channels), t_stop=t_stop_ms * pq.ms, units="ms",
        t_start=t_start_ms * pq.ms, **per_channel)
    segment.spiketrains.segment = segment


def _materialise_trains(block):
    """Replace a columnar ``SpikeTrainList`` by one annotated ``SpikeTrain`` per channel,
    made by one sort instead of one pass over all spikes per channel (Neo's way)."""
    import neo
    import quantities as pq
    from neo.core.spiketrainlist import SpikeTrainList
    layout = block.annotations.get("populations")
    if not layout:
        return
    segment = block.segments[0]
    t_start = segment.spiketrains.t_start
    t_stop = segment.spiketrains.t_stop
    first_channel = {population_key(row["area"], row["population"]): row["first_channel"]
                     for row in json.loads(layout)}
    trains = []
    for key, spikes in spike_table(block).items():
        area, _, population = key.rpartition("/")
        first = first_channel[key]
        for index, times in enumerate(split_by_neuron(spikes)):
            trains.append(neo.SpikeTrain(times * pq.ms, t_start=t_start, t_stop=t_stop,
                                         population=population, index=index, area=area,
                                         channel_id=first + index))
    segment.spiketrains = SpikeTrainList(items=trains, parent=segment)
