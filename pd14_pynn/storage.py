"""Run folders, Neo spike files and JSON metadata; loaders for analysis.

A run folder holds:

* ``parameters.json`` -- the fully resolved parameters;
* ``metadata.json`` -- simulator, settings, versions of every package, derived
  counts, command line;
* ``spikes.nix`` (or ``.pkl``) -- one Neo ``Block`` with one ``Segment``; each
  ``SpikeTrain`` is annotated with ``population``, ``index`` (in the
  population) and ``area``; membrane potentials (if recorded) as
  ``AnalogSignal``\\ s annotated likewise;
* ``timings.json`` -- seconds per phase and peak memory;
* ``rates.json`` -- mean rate per population over the analysis window;
* ``raster.png``, ``rates_boxplot.png``.

Nothing here imports a simulator.
"""

import importlib.metadata
import json
import os
import platform
import sys

import numpy as np

RESULT_FILES = ("parameters.json", "metadata.json", "timings.json", "rates.json")
SPIKE_FORMATS = {".nix": "NixIO", ".pkl": "PickleIO"}


class OutputExistsError(FileExistsError):
    """The output folder already holds results."""


def check_output_folder(path, overwrite=False):
    """Raise :class:`OutputExistsError` if ``path`` holds files (unless ``overwrite``)
    or is not a folder. Writes nothing, so it can run before anything is built."""
    if os.path.isdir(path) and os.listdir(path) and not overwrite:
        raise OutputExistsError(
            f"output folder {path!r} already holds results; choose another --out "
            f"or pass --overwrite to replace them")
    if os.path.exists(path) and not os.path.isdir(path):
        raise OutputExistsError(f"output path {path!r} exists and is not a folder")


def prepare_run_folder(path, overwrite=False):
    """Create ``path``; refuse if it already holds files, unless ``overwrite``."""
    check_output_folder(path, overwrite)
    os.makedirs(path, exist_ok=True)
    return path


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    return value


def write_json(path, data):
    """Write ``data`` (numpy values allowed) as indented JSON."""
    with open(path, "w") as handle:
        json.dump(_jsonable(data), handle, indent=2, sort_keys=False)
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
    for name in names:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def neo_io(path):
    """The Neo IO class for a spike file, chosen by its extension."""
    import neo
    ext = os.path.splitext(path)[1]
    if ext not in SPIKE_FORMATS:
        raise ValueError(f"unknown spike file extension {ext!r}; use one of "
                         f"{', '.join(SPIKE_FORMATS)}")
    return getattr(neo.io, SPIKE_FORMATS[ext])


def write_block(block, path):
    """Write a Neo block to ``path`` (format from the extension)."""
    io_class = neo_io(path)
    if os.path.exists(path):
        os.remove(path)
    if io_class.__name__ == "NixIO":
        with io_class(path, mode="ow") as io:
            io.write_block(block)
    else:
        io_class(path).write_block(block)


def read_block(path):
    """Read the Neo block of a run (``path``: spike file or run folder)."""
    if os.path.isdir(path):
        path = spike_file(path)
    io_class = neo_io(path)
    if io_class.__name__ == "NixIO":
        with io_class(path, mode="ro") as io:
            return io.read_block(lazy=False)
    return io_class(path).read_block()


def spike_file(run_dir):
    """The spike file of a run folder."""
    for ext in SPIKE_FORMATS:
        candidate = os.path.join(run_dir, "spikes" + ext)
        if os.path.exists(candidate):
            return candidate
    raise FileNotFoundError(f"no spikes.nix or spikes.pkl in {run_dir!r}")


def spikes_by_population(block):
    """dict population -> list of spike-time arrays (ms), ordered by neuron index.

    Multi-area runs: keys are ``"area/population"`` where an area is set.
    """
    groups = {}
    for train in block.segments[0].spiketrains:
        area = train.annotations.get("area") or ""
        key = f"{area}/{train.annotations['population']}" if area else \
            train.annotations["population"]
        groups.setdefault(key, []).append(
            (int(train.annotations["index"]), np.asarray(train.rescale("ms").magnitude)))
    return {key: [times for _, times in sorted(trains, key=lambda x: x[0])]
            for key, trains in groups.items()}


def mean_rates(spike_times, t_start_ms, t_stop_ms):
    """Per-neuron rates (1/s) over [t_start, t_stop) from a list of spike-time arrays."""
    duration_s = (t_stop_ms - t_start_ms) * 1e-3
    return np.array([np.count_nonzero((t >= t_start_ms) & (t < t_stop_ms)) / duration_s
                     for t in spike_times])
