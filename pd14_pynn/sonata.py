"""Networks as SONATA files: the layout, and writing the nodes and every synapse of a run.

SONATA (Dai et al. 2020, PLoS Comput Biol 16(2):e1007696) stores a network as
HDF5 tables of nodes and edges plus CSV files of node and edge *types*, tied
together by a circuit config JSON. This module writes and reads the subset a
point-neuron network with static synapses needs; it imports no simulator
(only ``h5py`` and numpy). The layout, file by file, and which other tools
read it (libsonata, NEST's ``SonataNetwork``, BMTK's PointNet) are in
docs/outputs.md.

* :class:`Nodes` -- one node population (a PyNN Population): size, cell model
  (a NEST model template) and its parameters, per-node initial membrane
  potential.
* :class:`Edges` -- one edge population (a Projection): index arrays, weights
  (pA), delays (ms).
* :func:`write_network` -- write a ``network/`` folder from those.
* :func:`locate` -- the circuit config of a folder, run folder or config path.

Reading one (:class:`~pd14_pynn.sonata_reader.NetworkFile`) is in
:mod:`pd14_pynn.sonata_reader`.

Node IDs are indices within their node population (0 .. size - 1), as SONATA
defines them; every cortical population, and the thalamus, is its own node
population, and every projection its own edge population.
"""

import csv
import dataclasses
import json
import os

import numpy as np

from .parameters import ParameterError

MAGIC = 0x0A7A           # SONATA's magic number, an attribute of every HDF5 file
VERSION = (0, 1)         # SONATA format version written
NETWORK_FOLDER = "network"
CONFIG = "circuit_config.json"
SIMULATION_CONFIG = "simulation_config.json"
NODES_FILE, NODE_TYPES_FILE = "nodes.h5", "node_types.csv"
EDGES_FILE, EDGE_TYPES_FILE = "edges.h5", "edge_types.csv"
COMPONENTS = "components"
# the one synapse model of every edge type, and its (empty) parameter file: NEST's
# SonataNetwork and BMTK both read an edge type's dynamics_params file
SYNAPSE_MODEL = "static_synapse"
SYNAPSE_PARAMS_FILE = f"{SYNAPSE_MODEL}.json"
# cell models a point-neuron population may have, to be built as the model's
# IF_curr_exp: NEST's name (written since issue 26) and PyNN's (written before)
CELL_TEMPLATES = ("nest:iaf_psc_exp", "pyNN:IF_curr_exp")
# the per-node initial membrane potential: SONATA's per-node override of a
# dynamics parameter (NEST's name), and where files before issue 26 kept it
V_INIT = "dynamics_params/V_m"
OLD_V_INIT = "v_init"
# integer edge datasets are written in chunks of this many edges and packed by
# HDF5's scale-offset filter (lossless for integers: each chunk keeps the bits its
# range needs), which is built into every HDF5 library. Not gzip (written before
# issue 26): the HDF5 inside libsonata's PyPI wheel (0.2.2) has no deflate filter and
# cannot read gzip-compressed datasets at all. Floats (weights, delays) are stored
# as they are: scale-offset is lossy for floats.
CHUNK = 1 << 20
INTEGER_FILTER = {"scaleoffset": 0}


class NetworkFileError(ParameterError):
    """A SONATA network that cannot be read, or does not fit the model to be built."""


@dataclasses.dataclass
class Nodes:
    """One node population.

    ``name``: SONATA population name (the PyNN population label, e.g. "L23E" or
    "V1_L23E"); ``model_type``: "point_neuron" or "virtual" (spike sources);
    ``model_template``: e.g. "nest:iaf_psc_exp"; ``dynamics_params``: the cell
    parameters in the template's names and units (NEST: mV, ms, pF, pA);
    ``v_init``: initial membrane potential per node (mV), or None.
    """
    name: str
    size: int
    model_type: str
    model_template: str
    dynamics_params: dict
    population: str = ""
    area: str = ""
    v_init: np.ndarray = None


@dataclasses.dataclass
class Edges:
    """One edge population: synapse k connects ``sources[k]`` -> ``targets[k]``.

    Indices are node IDs within the ``source`` and ``target`` node populations;
    ``weights_pA``: PSC amplitudes (negative for inhibitory synapses);
    ``delays_ms``: transmission delays; ``receptor``: "excitatory" or "inhibitory".
    """
    source: str
    target: str
    sources: np.ndarray
    targets: np.ndarray
    weights_pA: np.ndarray
    delays_ms: np.ndarray
    receptor: str

    @property
    def name(self):
        return edge_population_name(self.source, self.target)


def edge_population_name(source, target):
    """SONATA name of the edge population from node population ``source`` to ``target``."""
    return f"{source}_to_{target}"


def _mark_sonata(handle):
    handle.attrs["magic"] = np.uint32(MAGIC)
    handle.attrs["version"] = np.array(VERSION, dtype=np.uint32)


def _write_csv(path, header, rows):
    # SONATA's type tables are space-separated; values never contain spaces here
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle, delimiter=" ")
        writer.writerow(header)
        writer.writerows(rows)


def write_network(folder, nodes, edges, metadata=None, run=None):
    """Write a SONATA network into ``folder`` (created); returns its size in bytes.

    ``nodes``: :class:`Nodes` in order; ``edges``: an iterable of :class:`Edges`
    (it may be a generator). Several :class:`Edges` of one edge population are
    pieces of it, in order; pieces of different populations may interleave. Edges
    are written a ``CHUNK`` at a time as they come, so memory stays bounded by
    one piece plus less than a ``CHUNK`` per population not yet finished;
    ``metadata``: plain data stored under ``"pd14"`` in the circuit config
    (simulator, seed, scaling, ...); ``run``: ``{"dt": ms, "tstop": ms}``, the
    config's ``run`` section, which NEST's ``SonataNetwork`` and BMTK need to
    simulate the files on their own.
    """
    import h5py
    os.makedirs(os.path.join(folder, COMPONENTS), exist_ok=True)
    nodes = list(nodes)
    names = [n.name for n in nodes]
    if len(set(names)) != len(names):
        raise ValueError(f"node population names must be unique, got {names}")
    sizes = {n.name: int(n.size) for n in nodes}
    node_types = []
    with h5py.File(os.path.join(folder, NODES_FILE), "w") as handle:
        _mark_sonata(handle)
        root = handle.create_group("nodes")
        for type_id, node in enumerate(nodes):
            group = root.create_group(node.name)
            n = int(node.size)
            group.create_dataset("node_id", data=np.arange(n, dtype=np.uint64))
            group.create_dataset("node_type_id", data=np.full(n, type_id, dtype=np.uint64))
            group.create_dataset("node_group_id", data=np.zeros(n, dtype=np.uint32))
            group.create_dataset("node_group_index", data=np.arange(n, dtype=np.uint64))
            attributes = group.create_group("0")
            if node.v_init is not None:
                v_init = attributes.create_dataset(V_INIT, data=np.asarray(node.v_init, float))
                v_init.attrs["units"] = "mV"
            params_file = f"{node.name}.json"
            with open(os.path.join(folder, COMPONENTS, params_file), "w") as out:
                json.dump(node.dynamics_params, out, indent=1, sort_keys=True)
            node_types.append([type_id, node.name, node.model_type, node.model_template,
                               params_file, node.population or node.name, node.area or "none"])
    _write_csv(os.path.join(folder, NODE_TYPES_FILE),
               ["node_type_id", "pop_name", "model_type", "model_template", "dynamics_params",
                "population", "area"], node_types)
    with open(os.path.join(folder, COMPONENTS, SYNAPSE_PARAMS_FILE), "w") as out:
        json.dump({}, out)

    writers = {}
    with h5py.File(os.path.join(folder, EDGES_FILE), "w") as handle:
        _mark_sonata(handle)
        root = handle.create_group("edges")
        for edge in edges:
            if edge.name not in writers:
                for end in (edge.source, edge.target):
                    if end not in names:
                        raise ValueError(f"edge population {edge.name!r} refers to node "
                                         f"population {end!r}, which is not among the nodes "
                                         f"{names}")
                writers[edge.name] = _EdgeWriter(root, edge, len(writers), sizes[edge.source],
                                                 sizes[edge.target])
            writers[edge.name].add(edge)
            del edge  # a generator's arrays can go before the next are made
        for writer in writers.values():
            writer.finish()
    # "receptor", not NEST's "receptor_type": SonataNetwork hands every edge-type
    # column that names a synapse parameter to NEST, and a port is a number
    edge_types = [[w.type_id, w.name, SYNAPSE_MODEL, SYNAPSE_PARAMS_FILE, w.receptor, w.source,
                   w.target, w.n] for w in writers.values()]
    _write_csv(os.path.join(folder, EDGE_TYPES_FILE),
               ["edge_type_id", "pop_name", "model_template", "dynamics_params", "receptor",
                "source_population", "target_population", "n_edges"], edge_types)

    edge_populations = [row[1] for row in edge_types]
    with open(os.path.join(folder, CONFIG), "w") as handle:
        json.dump(circuit_config(nodes, edge_populations, metadata), handle, indent=1)
    if run is not None:
        with open(os.path.join(folder, SIMULATION_CONFIG), "w") as handle:
            json.dump(simulation_config(nodes, edge_populations, run), handle, indent=1)
    return folder_bytes(folder)


def circuit_config(nodes, edge_populations, metadata=None):
    """The circuit config of :func:`write_network` (a dict), for libsonata and pd14-pynn.

    Paths are relative to the config's folder through ``$BASE_DIR = "."``
    (libsonata 0.2 does not expand ``${configdir}``); the populations are
    listed because libsonata's ``CircuitConfig`` knows only those.
    """
    return {
        "manifest": {"$BASE_DIR": ".", "$NETWORK_DIR": "$BASE_DIR",
                     "$COMPONENTS_DIR": f"$BASE_DIR/{COMPONENTS}"},
        "components": {"point_neuron_models_dir": "$COMPONENTS_DIR",
                       "synaptic_models_dir": "$COMPONENTS_DIR"},
        "networks": {
            "nodes": [{"nodes_file": f"$NETWORK_DIR/{NODES_FILE}",
                       "node_types_file": f"$NETWORK_DIR/{NODE_TYPES_FILE}",
                       "populations": {n.name: {"type": n.model_type} for n in nodes}}],
            "edges": [{"edges_file": f"$NETWORK_DIR/{EDGES_FILE}",
                       "edge_types_file": f"$NETWORK_DIR/{EDGE_TYPES_FILE}",
                       "populations": {name: {"type": "chemical"} for name in edge_populations}}],
        },
        "units": {"syn_weight": "pA", "delay": "ms", "V_m": "mV"},
        "pd14": metadata or {},
    }


def simulation_config(nodes, edge_populations, run):
    """The config that simulates the network (a dict): the circuit config's network
    and components, ``run`` (``dt``, ``tstop``: the run's resolution and whole
    simulated time, ms), the simulator and where BMTK writes its output.

    Read by NEST's ``SonataNetwork`` and BMTK's PointNet, whose needs differ from
    libsonata's: NEST wants ``target_simulator: "NEST"`` (libsonata's
    ``CircuitConfig`` refuses it); BMTK resolves paths from the working
    directory unless they start at ``${configdir}`` (which libsonata does not
    expand; NEST 3.10 replaces ``$BASE_DIR`` by the config's folder and never
    reads its value). So the network is listed here once more, not referred to.
    """
    config = circuit_config(nodes, edge_populations)
    del config["pd14"]
    config["manifest"] = {"$BASE_DIR": "${configdir}", "$NETWORK_DIR": "$BASE_DIR",
                          "$COMPONENTS_DIR": f"$BASE_DIR/{COMPONENTS}",
                          "$OUTPUT_DIR": "$BASE_DIR/output"}
    config.update({
        "target_simulator": "NEST",
        "run": {"dt": float(run["dt"]), "tstop": float(run["tstop"])},
        "output": {"output_dir": "$OUTPUT_DIR", "spikes_file": "spikes.h5"},
    })
    return config


def _filters(dtype, n, width=None):
    """h5py's dataset options for a column of ``n`` rows (``width`` columns)."""
    if n == 0 or not np.issubdtype(dtype, np.integer):
        return {}
    return dict(INTEGER_FILTER, chunks=(min(CHUNK, n),) + ((width,) if width else ()))


def edge_index(node_ids, n_nodes):
    """SONATA's edge index of one end of an edge population.

    ``node_ids``: that end's node ID per edge, in file order. Returns
    ``(node_id_to_ranges, range_to_edge_id)`` (uint64, shapes ``(n_nodes, 2)``
    and ``(n_ranges, 2)``): the edges of node ``i`` are those in the ranges
    ``range_to_edge_id[a:b]`` where ``a, b = node_id_to_ranges[i]``, each range
    ``[first, end)`` a run of consecutive edges of that node. A node without
    edges has ``a == b``.
    """
    n = len(node_ids)
    starts = np.flatnonzero(np.diff(node_ids)) + 1 if n else np.zeros(0, np.int64)
    starts = np.concatenate(([0], starts)) if n else starts
    ends = np.concatenate((starts[1:], [n])) if n else starts
    run_node = node_ids[starts]
    order = np.argsort(run_node, kind="stable")
    sorted_nodes = run_node[order]
    nodes = np.arange(n_nodes)
    node_ranges = np.column_stack([np.searchsorted(sorted_nodes, nodes, "left"),
                                   np.searchsorted(sorted_nodes, nodes, "right")])
    edge_ranges = np.column_stack([starts[order], ends[order]]).reshape(-1, 2)
    return node_ranges.astype(np.uint64), edge_ranges.astype(np.uint64)


class _EdgeWriter:
    """One edge population, written as its pieces come: whole ``CHUNK``s as soon as
    they are there, the rest at :meth:`finish`. A population of fewer than
    ``CHUNK`` edges is written at once, in one chunk of its size."""

    def __init__(self, root, edge, type_id, n_sources, n_targets):
        self.root, self.name, self.type_id = root, edge.name, type_id
        self.n_nodes = {"source_to_target": n_sources, "target_to_source": n_targets}
        self.source, self.target, self.receptor = edge.source, edge.target, edge.receptor
        self.pending, self.n_pending, self.n, self.group = [], 0, 0, None

    def add(self, edge):
        n = len(edge.sources)
        if not len(edge.targets) == len(edge.weights_pA) == len(edge.delays_ms) == n:
            raise ValueError(f"edge population {edge.name!r}: arrays of different lengths")
        if n:
            self.pending.append((np.asarray(edge.sources, dtype=np.uint64),
                                 np.asarray(edge.targets, dtype=np.uint64),
                                 np.asarray(edge.weights_pA, dtype=np.float64),
                                 np.asarray(edge.delays_ms, dtype=np.float64)))
            self.n_pending += n
        if self.n_pending >= CHUNK:
            self._write(self.n_pending // CHUNK * CHUNK)

    def finish(self):
        """Write what is pending, then the two edge indices (from the whole file)."""
        self._write(self.n_pending)
        for name, column in (("source_to_target", "source_node_id"),
                             ("target_to_source", "target_node_id")):
            index = self.group.create_group(f"indices/{name}")
            node_ranges, edge_ranges = edge_index(self.group[column][:], self.n_nodes[name])
            for dataset, data in (("node_id_to_ranges", node_ranges),
                                  ("range_to_edge_id", edge_ranges)):
                index.create_dataset(dataset, data=data, **_filters(data.dtype, len(data), 2))
            # BMTK (1.2) reads and writes the singular name and refuses an index without
            # it: a second name for the same dataset (an HDF5 hard link, no bytes)
            index["node_id_to_range"] = index["node_id_to_ranges"]

    def _write(self, count):
        """Write the first ``count`` pending edges; keep the rest pending."""
        columns = [np.concatenate(c) for c in zip(*self.pending)] if self.pending \
            else [np.empty(0, np.uint64)] * 2 + [np.empty(0)] * 2
        self.pending = [tuple(c[count:] for c in columns)] if count < self.n_pending else []
        self.n_pending -= count
        sources, targets, weights, delays = (c[:count] for c in columns)
        if self.group is None:
            self._create(whole=not self.pending and count < CHUNK)
        start, self.n = self.n, self.n + count
        data = {"source_node_id": sources, "target_node_id": targets,
                "edge_type_id": np.full(count, self.type_id, dtype=np.uint64),
                "edge_group_id": np.zeros(count, dtype=np.uint32),
                "edge_group_index": np.arange(start, self.n, dtype=np.uint64),
                "0/syn_weight": weights, "0/delay": delays}
        for name, values in data.items():
            if self.whole:
                self.group.create_dataset(name, data=values,
                                          **_filters(values.dtype, count))
            else:
                self.group[name].resize((self.n,))
                self.group[name][start:] = values
        if self.whole:
            self._attributes()

    def _attributes(self):
        self.group["source_node_id"].attrs["node_population"] = self.source
        self.group["target_node_id"].attrs["node_population"] = self.target
        self.group["0/syn_weight"].attrs["units"] = "pA"
        self.group["0/delay"].attrs["units"] = "ms"

    def _create(self, whole):
        """The group; unless ``whole`` (written at once), its datasets, growing by CHUNKs."""
        self.group, self.whole = self.root.create_group(self.name), whole
        self.group.create_group("0")
        if not whole:
            for name, dtype in (("source_node_id", np.uint64), ("target_node_id", np.uint64),
                                ("edge_type_id", np.uint64), ("edge_group_id", np.uint32),
                                ("edge_group_index", np.uint64), ("0/syn_weight", np.float64),
                                ("0/delay", np.float64)):
                # growing datasets must be chunked; floats are not packed
                self.group.create_dataset(name, shape=(0,), maxshape=(None,), dtype=dtype,
                                          **(_filters(dtype, CHUNK) or {"chunks": (CHUNK,)}))
            self._attributes()


def folder_bytes(folder):
    """Total size (bytes) of the files under ``folder``."""
    return sum(os.path.getsize(os.path.join(root, name))
               for root, _, files in os.walk(folder) for name in files)


def locate(path):
    """The circuit config of ``path``: a config file, a network folder or a run folder."""
    candidates = [path, os.path.join(path, CONFIG), os.path.join(path, NETWORK_FOLDER, CONFIG)]
    for candidate in candidates:
        if os.path.isfile(candidate):
            return candidate
    raise NetworkFileError(f"no SONATA network at {path!r} (looked for {CONFIG} there and in "
                           f"its {NETWORK_FOLDER}/); give a run folder written with "
                           f"--save-connectivity, its network/ folder or the config file")
