"""Run folders, Neo spike files and JSON metadata; loaders for analysis.

A run folder holds:

* ``parameters.json`` -- the fully resolved parameters;
* ``metadata.json`` -- simulator, settings, versions of every package, derived
  counts, command line;
* ``spikes.pkl`` (or ``.nix``) -- one Neo ``Block`` with one ``Segment`` whose
  spike trains are one columnar ``SpikeTrainList`` (arrays of channel and
  time); channel ranges per population are the block annotation
  ``populations``, and each train, when a reader iterates them, is annotated
  with ``population``, ``index`` (in the population) and ``area``; membrane
  potentials (if recorded) as ``AnalogSignal``\\ s annotated likewise;
* or ``spikes.h5`` (``--format sonata``) -- the spikes as a SONATA spike report
  (:mod:`pd14_pynn.spike_report`), which :func:`read_block` reads as the same
  Neo block (spikes only);
* ``timings.json`` -- seconds per phase and peak memory;
* ``rates.json`` -- mean rate per population over the analysis window;
* ``raster.png``, ``rates_boxplot.png``;
* ``status.json`` -- ``running``, ``complete``, ``interrupted`` or ``failed``,
  with the phase, the simulated time reached and, if it stopped early, why
  (:func:`write_status`, :func:`read_status`);
* ``run.log`` -- everything the run printed to the console (:func:`console_log`).

Nothing here imports a simulator.
"""

import contextlib
import datetime
import importlib.metadata
import json
import math
import os
import platform
import sys
import tempfile
from typing import NamedTuple

import numpy as np

from . import spike_report

RESULT_FILES = ("parameters.json", "metadata.json", "timings.json", "rates.json")
#: Neo formats of the spikes: extension -> Neo IO
SPIKE_FORMATS = {".nix": "NixIO", ".pkl": "PickleIO"}
#: the spike file of each ``--format``: Neo's, or SONATA's spike report
SPIKE_FILES = {".pkl": "spikes.pkl", ".nix": "spikes.nix", "sonata": spike_report.FILE}
STATUS_FILE = "status.json"
LOG_FILE = "run.log"
#: values of ``status`` in ``status.json``
STATES = ("running", "complete", "interrupted", "failed")


class OutputFolderError(ValueError):
    """The output folder cannot be used: not creatable, not writable, not a folder."""


class OutputExistsError(OutputFolderError, FileExistsError):
    """The output folder already holds results."""


def check_output_folder(path, overwrite=False):
    """Raise :class:`OutputExistsError` if ``path`` holds files (unless ``overwrite``),
    :class:`OutputFolderError` if it is not a folder or cannot be created or written.

    Leaves nothing behind (writability is probed with an empty folder that is
    removed at once), so it can run before anything is built.
    """
    if os.path.exists(path) and not os.path.isdir(path):
        raise OutputExistsError(f"output path {path!r} exists and is not a folder; "
                                f"choose another --out")
    if os.path.isdir(path) and os.listdir(path) and not overwrite:
        raise OutputExistsError(
            f"output folder {path!r} already holds {describe_folder(path)}; choose another "
            f"--out or pass --overwrite to replace them")
    _check_writable(path)


def _check_writable(path):
    existing = os.path.abspath(path)
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    where = "" if existing == os.path.abspath(path) else f" (in {existing!r})"
    if not os.path.isdir(existing):
        raise OutputFolderError(f"output folder {path!r} cannot be created: {existing!r} is "
                                f"not a folder; choose another --out")
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".pd14-write-test-", dir=existing))
    except OSError as err:
        raise OutputFolderError(
            f"output folder {path!r} cannot be {'written' if not where else 'created'}"
            f"{where}: {err.strerror or err}; choose --out in a folder you can write to") \
            from None


def describe_folder(path):
    """What a used output folder holds, for messages: which run and how it ended."""
    status = read_status(path)
    if status is None:
        return "results"
    state = status.get("status")
    where = f"in {status.get('phase')} at {status.get('simulated_ms', 0.0):g} ms simulated"
    if state == "complete":
        return "the results of a complete run"
    if state == "interrupted":
        return f"an interrupted run (stopped {where}; partial results)"
    if state == "failed":
        return f"a failed run (failed {where}: {status.get('error')})"
    # NEST, NEURON and Brian2's runtime device rewrite the status after every
    # progress step, so its time helps tell a live run from a killed one (a Brian2
    # standalone program and the build phases write it only when a phase begins)
    updated = f", written {status['updated']}" if status.get("updated") else ""
    return (f"a run that has not finished (status {state!r}, last {where}{updated}; "
            f"still running, or killed)")


def write_status(run_dir, status, phase, simulated_ms=0.0, **details):
    """Write ``status.json``: ``status`` (one of :data:`STATES`), ``phase`` (e.g.
    ``simulate``), ``simulated_ms`` (model time reached), the time of writing,
    and ``details`` (e.g. ``error``, ``signal``, ``rerun``)."""
    if status not in STATES:
        raise ValueError(f"status must be one of {STATES}, got {status!r}")
    data = {"status": status, "phase": phase, "simulated_ms": float(simulated_ms),
            "updated": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            **details}
    # written to a temporary file and renamed, so a reader never sees half a file
    target = os.path.join(run_dir, STATUS_FILE)
    write_json(target + ".tmp", data)
    os.replace(target + ".tmp", target)
    return data


def read_status(run_dir):
    """The ``status.json`` of a run folder as a dict, or None if there is none."""
    try:
        return read_json(os.path.join(run_dir, STATUS_FILE))
    except (FileNotFoundError, NotADirectoryError):
        return None
    except json.JSONDecodeError as err:
        return {"status": "unreadable", "phase": None, "error": f"{STATUS_FILE}: {err}"}


class _Tee:
    """A text stream that writes to the console stream and to a log file."""

    def __init__(self, stream, log):
        self._stream, self._log = stream, log

    def write(self, text):
        self._log.write(text)
        self._log.flush()
        return self._stream.write(text)

    def flush(self):
        self._log.flush()
        self._stream.flush()

    def __getattr__(self, name):  # isatty, fileno, encoding, ... of the console
        return getattr(self._stream, name)


@contextlib.contextmanager
def console_log(path, enabled=True):
    """While active, everything printed to ``sys.stdout``/``sys.stderr`` is also
    appended to ``path`` (the run's ``run.log``). Output of the simulators' C++
    code, which bypasses Python's streams, is not captured."""
    if not enabled:
        yield None
        return
    with open(path, "a", buffering=1) as log:
        stdout, stderr = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = _Tee(stdout, log), _Tee(stderr, log)
        try:
            yield log
        finally:
            sys.stdout, sys.stderr = stdout, stderr


def prepare_run_folder(path, overwrite=False):
    """Create ``path``; refuse if it already holds files, unless ``overwrite``."""
    check_output_folder(path, overwrite)
    os.makedirs(path, exist_ok=True)
    return path


def remove_run_files(run_dir):
    """Delete the files a previous run wrote into ``run_dir`` (for ``--overwrite``),
    so that an interrupted rerun cannot leave an older run's results beside its own."""
    names = (*RESULT_FILES, STATUS_FILE, LOG_FILE, "raster.png", "rates_boxplot.png",
             "rates_by_area.png",
             *SPIKE_FILES.values())
    for name in names:
        path = os.path.join(run_dir, name)
        if os.path.isfile(path):
            os.remove(path)


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
            table[_key(row["area"], row["population"])] = PopulationSpikes(
                channels[lo:hi] - row["first_channel"], times[lo:hi], int(row["size"]))
        return table
    groups = {}
    for train in segment.spiketrains:
        key = _key(train.annotations.get("area") or "", train.annotations["population"])
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


def _key(area, population):
    return f"{area}/{population}" if area else population


def to_ms(value):
    """Float array (or float) in ms from a Quantity, or from plain numbers meaning ms."""
    if hasattr(value, "rescale"):
        value = value.rescale("ms").magnitude
    return np.asarray(value, dtype=float) if np.ndim(value) else float(value)


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
    first_channel = {_key(row["area"], row["population"]): row["first_channel"]
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
