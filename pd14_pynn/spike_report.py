"""Spikes as a SONATA spike report (``spikes.h5``): written and read back.

SONATA's spike-report format (the SONATA developer guide, "Spike file") is
one HDF5 group per node population, ``/spikes/<population>``, holding two
datasets of one entry per spike: ``node_ids`` (uint64, the node's ID within
its node population) and ``timestamps`` (float64, with a ``units``
attribute), and an optional ``sorting`` attribute, an HDF5 enum of ``none``,
``by_id`` or ``by_time``. This is what libsonata's ``SpikeReader`` and BMTK's
``SpikeTrains.from_sonata`` read. Imports no simulator (``h5py`` and numpy).

* :class:`PopulationReport` -- the spikes of one node population.
* :func:`write_report` -- write a report (populations in order, and the run's
  facts as attributes of the file).
* :func:`read_report` -- read one back: :class:`SpikeReport`. Reports written
  by other tools are read too (no sizes stored: the largest node ID + 1;
  timestamps in s: converted to ms).
* :func:`node_population_name` -- a population's SONATA name, the PyNN label.

What pd14-pynn adds to the format, all of it optional for other readers:

* ``/spikes/<population>`` attributes ``n_nodes`` (neurons of the population,
  silent ones included), ``area`` and ``population`` (e.g. ``V1``, ``L23E``);
* attributes of the file: ``magic`` and ``version`` (as SONATA's network
  files), and the run's facts in ms: ``t_start_ms``, ``t_stop_ms`` (the
  recording), ``t_presim_ms``, ``simulated_ms``, ``complete``, ``simulator``,
  ``label``, ``name`` and, for several areas, ``areas``.

Spikes are written sorted ``by_id`` (node ID, then time), so a reader finds
one neuron's spikes without a scan. Node IDs are those of the SONATA network
that ``--save-connectivity`` writes (:mod:`pd14_pynn.sonata`): the population
names are the PyNN labels (``L23E``, or ``V1_L23E`` in a multi-area model) and
IDs run 0 .. size - 1 within each population.
"""

import dataclasses
import os

import numpy as np

#: SONATA's default name of the spike file of a simulation's output
FILE = "spikes.h5"
MAGIC = 0x0A7A           # SONATA's magic number (as in the network files)
VERSION = (0, 1)
SPIKES = "spikes"
#: the values of the ``sorting`` enum (as libsonata's ``Sorting`` declares them)
SORTING = {"none": 0, "by_id": 1, "by_time": 2}
#: run facts stored as attributes of the file: name -> type read back
RUN_FACTS = {"t_start_ms": float, "t_stop_ms": float, "t_presim_ms": float,
             "simulated_ms": float, "complete": bool, "simulator": str, "label": str,
             "name": str}
_TIME_UNITS = {"ms": 1.0, "millisecond": 1.0, "milliseconds": 1.0,
               "s": 1e3, "second": 1e3, "seconds": 1e3}


class SpikeReportError(ValueError):
    """A file that is not a readable SONATA spike report; the message names the file."""


@dataclasses.dataclass
class PopulationReport:
    """The spikes of one node population: spike k is node ``node_ids[k]`` at
    ``times_ms[k]``. ``name``: the SONATA node population (PyNN label);
    ``n_nodes``: its size (silent nodes included); ``area``, ``population``:
    the circuit's label ("" for one circuit) and the population's short name."""
    name: str
    node_ids: np.ndarray
    times_ms: np.ndarray
    n_nodes: int
    area: str = ""
    population: str = ""


@dataclasses.dataclass
class SpikeReport:
    """A read report: its populations in file order and the run's facts
    (``RUN_FACTS`` that the file holds, and ``areas`` if it has them)."""
    populations: list
    facts: dict


def node_population_name(area, population):
    """The SONATA node population of ``population`` in circuit ``area``: the PyNN
    label (``Microcircuit.name``), e.g. ``L23E`` or ``V1_L23E``."""
    return f"{area}_{population}" if area else population


def _sorting_type():
    import h5py
    return h5py.enum_dtype(SORTING, basetype=np.uint8)


def write_report(path, populations, facts=None):
    """Write ``populations`` (:class:`PopulationReport`\\ s, in order) as a SONATA
    spike report at ``path``; ``facts``: the run's facts (keys of
    :data:`RUN_FACTS`, and ``areas``), stored as attributes of the file.
    Replaces an existing file; returns ``path``."""
    import h5py
    names = [p.name for p in populations]
    if len(set(names)) != len(names):
        raise ValueError(f"node population names must be unique, got {names}")
    if os.path.exists(path):
        os.remove(path)
    with h5py.File(path, "w") as handle:
        handle.attrs["magic"] = np.uint32(MAGIC)
        handle.attrs["version"] = np.array(VERSION, dtype=np.uint32)
        for key, value in (facts or {}).items():
            if key == "areas":
                handle.attrs[key] = np.array([str(a) for a in value], dtype=h5py.string_dtype())
            elif key in RUN_FACTS:
                handle.attrs[key] = RUN_FACTS[key](value)
            else:
                raise ValueError(f"unknown run fact {key!r}; use one of "
                                 f"{', '.join([*RUN_FACTS, 'areas'])}")
        # creation order kept, so the populations read back in the model's order
        root = handle.create_group(SPIKES, track_order=True)
        for pop in populations:
            node_ids = np.asarray(pop.node_ids, dtype=np.uint64)
            times = np.asarray(pop.times_ms, dtype=np.float64)
            if node_ids.shape != times.shape or node_ids.ndim != 1:
                raise ValueError(f"population {pop.name!r}: node_ids and times_ms must be 1-d "
                                 f"arrays of one length, got {node_ids.shape} and {times.shape}")
            if node_ids.size and int(node_ids.max()) >= pop.n_nodes:
                raise ValueError(f"population {pop.name!r} has {pop.n_nodes} nodes but a spike "
                                 f"of node {int(node_ids.max())}")
            order = np.lexsort((times, node_ids))
            group = root.create_group(pop.name)
            group.attrs.create("sorting", SORTING["by_id"], dtype=_sorting_type())
            group.attrs["n_nodes"] = np.uint64(pop.n_nodes)
            group.attrs["area"] = pop.area
            group.attrs["population"] = pop.population or pop.name
            group.create_dataset("node_ids", data=node_ids[order])
            group.create_dataset("timestamps", data=times[order]).attrs["units"] = "ms"
    return path


def read_report(path):
    """The :class:`SpikeReport` of the SONATA spike report at ``path``.

    Raises :class:`SpikeReportError` naming the file and what is wrong with it.
    """
    import h5py
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no spike report at {path!r}")
    try:
        handle = h5py.File(path, "r")
    except OSError as err:
        raise SpikeReportError(f"cannot read {path!r} as HDF5: {err}") from None
    with handle:
        if SPIKES not in handle or not isinstance(handle[SPIKES], h5py.Group):
            raise SpikeReportError(f"{path!r} is not a SONATA spike report: it has no "
                                   f"/{SPIKES} group")
        facts = {key: kind(_text(handle.attrs[key]) if kind is str else handle.attrs[key])
                 for key, kind in RUN_FACTS.items() if key in handle.attrs}
        if "areas" in handle.attrs:
            facts["areas"] = [_text(a) for a in handle.attrs["areas"]]
        populations = [_read_population(path, name, group)
                       for name, group in handle[SPIKES].items()
                       if isinstance(group, h5py.Group)]
    return SpikeReport(populations, facts)


def _read_population(path, name, group):
    where = f"{path!r}, /{SPIKES}/{name}"
    try:
        node_ids = group["node_ids"][()].astype(np.int64)
        timestamps = group["timestamps"]
        units = _text(timestamps.attrs.get("units", "ms"))
        times = timestamps[()].astype(np.float64)
    except KeyError as err:
        raise SpikeReportError(f"{where}: no {err} dataset") from None
    if units not in _TIME_UNITS:
        raise SpikeReportError(f"{where}: timestamps in unknown units {units!r} "
                               f"(known: {', '.join(_TIME_UNITS)})")
    if node_ids.shape != times.shape:
        raise SpikeReportError(f"{where}: {node_ids.size} node_ids but {times.size} timestamps")
    largest = int(node_ids.max()) + 1 if node_ids.size else 0
    n_nodes = int(group.attrs.get("n_nodes", largest))
    if largest > n_nodes:
        raise SpikeReportError(f"{where}: a spike of node {largest - 1}, but n_nodes = {n_nodes}")
    return PopulationReport(name, node_ids, times * _TIME_UNITS[units], n_nodes,
                            area=_text(group.attrs.get("area", "")),
                            population=_text(group.attrs.get("population", name)))


def _text(value):
    return value.decode() if isinstance(value, bytes) else str(value)
