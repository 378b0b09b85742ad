"""Networks as SONATA files: the nodes and every synapse of a run, written and read back.

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
* :class:`NetworkFile` -- open one (folder, run folder or circuit config; ours,
  one written before issue 26, or another tool's) and read node populations
  and edges, projection by projection.

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


def _read_csv(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle, delimiter=" "))


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


class NetworkFile:
    """A SONATA network: one :func:`write_network` wrote (now or before issue 26),
    or another tool laid out as a point-neuron network.

    ``path``: the circuit config (or a simulation config naming one), the folder
    holding it, or a run folder with a ``network/`` subfolder. Reads lazily:
    opening reads the config, the type tables and the populations' sizes;
    :meth:`edges` reads one edge population. What pd14-pynn reads of another
    tool's files: node populations by name, their size and node types
    (``model_type``, ``model_template``), and per edge ``syn_weight`` (pA) and
    ``delay`` (ms) from the edge group's datasets or else the edge type's
    columns, times ``nsyns`` where given (BMTK's rule); several edge groups per
    population are read too.
    """

    def __init__(self, path):
        self.config_path = locate(path)
        self.folder = os.path.dirname(os.path.abspath(self.config_path))
        try:
            with open(self.config_path) as handle:
                self.config = json.load(handle)
            if "networks" not in self.config and "network" in self.config:
                # a simulation config: follow it to its circuit config
                self.config_path = self._resolve(self.config["network"])
                self.folder = os.path.dirname(self.config_path)
                with open(self.config_path) as handle:
                    self.config = json.load(handle)
            networks = self.config["networks"]
            self.nodes_files = [self._resolve(entry["nodes_file"]) for entry in networks["nodes"]]
            self.edges_files = [self._resolve(entry["edges_file"]) for entry in networks["edges"]]
            self.node_types = self._node_types(networks["nodes"])
            self.sizes = {name: len(ids) for name, (_, ids) in self._population_types().items()}
            self.edge_types = {self._resolve(entry["edges_file"]):
                               _type_table(self._resolve(entry["edge_types_file"]), "edge_type_id")
                               if "edge_types_file" in entry else {}
                               for entry in networks["edges"]}
            self.edge_index = self._edge_index()
        except (OSError, KeyError, ValueError) as err:
            raise NetworkFileError(f"cannot read the SONATA network {self.config_path!r}: "
                                   f"{type(err).__name__}: {err}") from err
        self.metadata = self.config.get("pd14", {})

    def _resolve(self, value):
        manifest = dict(self.config.get("manifest", {}))
        # longest keys first, so $NETWORK_DIR is not read as $NETWORK + "_DIR"
        for _ in range(len(manifest) + 1):
            for key in sorted(manifest, key=len, reverse=True):
                value = value.replace(key, manifest[key])
        value = value.replace("${configdir}", self.folder)
        return os.path.normpath(value if os.path.isabs(value) else os.path.join(self.folder, value))

    def _node_types(self, entries):
        """nodes file -> {node_type_id: row of its node types table}."""
        return {self._resolve(entry["nodes_file"]):
                _type_table(self._resolve(entry["node_types_file"]), "node_type_id")
                for entry in entries}

    def _population_types(self):
        """population -> (nodes file, node_type_id per node)."""
        import h5py
        found = {}
        for path in self.nodes_files:
            with h5py.File(path, "r") as handle:
                for name, group in handle["nodes"].items():
                    if name in found:
                        raise ValueError(f"node population {name} is in two nodes files")
                    found[name] = (path, group["node_type_id"][()])
        return found

    def population_types(self, population):
        """The node-type rows (dicts of the node types table) of a node population."""
        path, ids = self._population_types()[population]
        table = self.node_types[path]
        missing = sorted(set(np.unique(ids).tolist()) - set(table))
        if missing:
            raise NetworkFileError(f"node population {population} of {self.config_path!r} has "
                                   f"node_type_id {missing[0]}, which is not in its node types "
                                   f"table")
        return [table[i] for i in np.unique(ids).tolist()]

    def _edge_index(self):
        """(source population, target population) -> (file, edge population name)."""
        import h5py
        index = {}
        for path in self.edges_files:
            with h5py.File(path, "r") as handle:
                for name, group in handle["edges"].items():
                    key = (_as_str(group["source_node_id"].attrs["node_population"]),
                           _as_str(group["target_node_id"].attrs["node_population"]))
                    if key in index:
                        raise ValueError(f"two edge populations from {key[0]} to {key[1]}")
                    for column in ("syn_weight", "delay"):
                        self._check_column(path, name, group, column)
                    index[key] = (path, name)
        return index

    def _check_column(self, path, name, group, column):
        groups = [key for key, value in group.items() if key.isdigit()]
        if groups and all(column in group[key] for key in groups):
            return
        types = self.edge_types[path]
        if types and all(column in row and row[column] not in _EdgeColumns.MISSING
                         for row in types.values()):
            return
        raise ValueError(f"edge population {name} has no {column!r}, neither per edge "
                         f"(its edge groups) nor per edge type ({os.path.basename(path)}'s "
                         f"types table)")

    def node_parameters(self, population):
        """The cell parameters of a node population's (first) node type, a dict in its
        model template's names and units (NEST's since issue 26, PyNN's before)."""
        for row in self.population_types(population)[:1]:
            folder = self._resolve(self.config["components"]["point_neuron_models_dir"])
            with open(os.path.join(folder, row["dynamics_params"])) as handle:
                return json.load(handle)
        raise KeyError(population)

    def v_init(self, population):
        """Initial membrane potentials (mV) of a node population, or None if not stored."""
        import h5py
        path, _ = self._population_types()[population]
        with h5py.File(path, "r") as handle:
            group = handle["nodes"][population].get("0")
            for name in (V_INIT, OLD_V_INIT):
                if group is not None and name in group:
                    return group[name][()]
        return None

    def has_edges(self, source, target):
        return (source, target) in self.edge_index

    def edges(self, source, target):
        """``(sources, targets, weights_pA, delays_ms)`` of the edges source -> target.

        An edge with ``nsyns = k`` comes back as ``k`` synapses of ``syn_weight``
        each (BMTK builds one connection of weight ``k * syn_weight``: the same
        current, summed in another order).
        """
        import h5py
        try:
            path, name = self.edge_index[(source, target)]
        except KeyError:
            raise NetworkFileError(f"the SONATA network {self.config_path!r} has no edges from "
                                   f"{source} to {target}") from None
        with h5py.File(path, "r") as handle:
            group = handle["edges"][name]
            index_type = np.int32 if max(self.sizes[source], self.sizes[target]) < 2**31 \
                else np.int64
            sources = group["source_node_id"][()].astype(index_type)
            targets = group["target_node_id"][()].astype(index_type)
            columns = _EdgeColumns(group, self.edge_types[path])
            weights, delays = columns.get("syn_weight"), columns.get("delay")
            nsyns = columns.get("nsyns", required=False)
        if nsyns is not None and (nsyns != 1).any():
            if (nsyns < 0).any() or (nsyns != np.round(nsyns)).any():
                raise NetworkFileError(f"edges {source} -> {target} of {self.config_path!r}: "
                                       f"nsyns must be whole numbers >= 0")
            repeats = nsyns.astype(np.int64)
            sources, targets, weights, delays = (np.repeat(a, repeats) for a in
                                                 (sources, targets, weights, delays))
        return sources, targets, weights, delays

    def check_sizes(self, expected):
        """Raise :class:`NetworkFileError` unless every population in ``expected`` has its size.

        ``expected``: dict population name -> number of neurons of the model to build.
        """
        for name, size in expected.items():
            if name not in self.sizes:
                raise NetworkFileError(
                    f"the SONATA network {self.config_path!r} has no node population {name!r} "
                    f"(it has {', '.join(self.sizes) or 'none'}); build it with the parameters "
                    f"it was saved with, or name the node populations as the model does "
                    f"(L23E ... L6I, TC)")
            if self.sizes[name] != size:
                raise NetworkFileError(
                    f"population {name} has {self.sizes[name]} neurons in {self.config_path!r} "
                    f"but {size} in the model; use the scaling the file was saved with "
                    f"(N_scaling = {self.metadata.get('N_scaling', '?')})")

    def check_models(self, cells=(), sources=()):
        """Raise :class:`NetworkFileError` unless the node populations ``cells`` are
        point neurons the model can build (:data:`CELL_TEMPLATES`) and ``sources``
        are virtual (spike sources)."""
        for name in cells:
            for row in self.population_types(name):
                template = row.get("model_template", "")
                if row.get("model_type") not in ("point_neuron", "point_process") or \
                        template not in CELL_TEMPLATES:
                    raise NetworkFileError(
                        f"node population {name} of {self.config_path!r} is "
                        f"{row.get('model_type')} {template!r}; pd14-pynn builds its cells as "
                        f"PyNN's IF_curr_exp, so only {' or '.join(CELL_TEMPLATES)} can be read")
        for name in sources:
            for row in self.population_types(name):
                if row.get("model_type") != "virtual":
                    raise NetworkFileError(
                        f"node population {name} of {self.config_path!r} is "
                        f"{row.get('model_type')}; the thalamus must be virtual (spike sources)")


class _EdgeColumns:
    """Per-edge values of one edge population (an open h5py group) and its edge-type
    table: from the edge groups where they hold the column, else from the edge
    type's row. Our files (one group, every edge in order) are read directly."""

    MISSING = (None, "", "NULL", "None")

    def __init__(self, group, types):
        self.group, self.types = group, types
        self.n = group["edge_type_id"].shape[0]
        self.groups = sorted(key for key in group if key.isdigit())
        self._direct = None
        self._group_rows = None

    def direct(self):
        """True when the one edge group holds every edge in file order."""
        if self._direct is None:
            self._direct = len(self.groups) == 1 and "edge_group_index" in self.group and \
                bool((self.group["edge_group_index"][()] == np.arange(self.n)).all())
        return self._direct

    def get(self, column, required=True):
        """The column as floats, one per edge; None when nothing holds it and it is
        not ``required`` (then every edge has the default: nsyns 1)."""
        in_groups = [key for key in self.groups if column in self.group[key]]
        if in_groups and in_groups == self.groups and self.direct() and \
                self.group[in_groups[0]][column].shape == (self.n,):
            return np.asarray(self.group[in_groups[0]][column][()], float)
        in_types = any(row.get(column) not in self.MISSING for row in self.types.values())
        if not in_groups and not in_types:
            if required:
                raise NetworkFileError(f"edge population {self.group.name} has no {column!r}")
            return None
        values = np.full(self.n, np.nan)
        missing = np.ones(self.n, bool)
        if in_groups:
            if self._group_rows is None:
                group_id = self.group["edge_group_id"][()] if len(self.groups) > 1 \
                    else np.full(self.n, int(self.groups[0]))
                self._group_rows = group_id, self.group["edge_group_index"][()]
            group_id, group_index = self._group_rows
            for key in in_groups:
                where = group_id == int(key)
                values[where] = self.group[key][column][()][group_index[where]]
                missing[where] = False
        if missing.any():
            type_ids, inverse = np.unique(self.group["edge_type_id"][()][missing],
                                          return_inverse=True)
            per_type = []
            for type_id in type_ids.tolist():
                value = self.types.get(type_id, {}).get(column)
                if value in self.MISSING:
                    if required:
                        raise NetworkFileError(f"edge population {self.group.name}: edge type "
                                               f"{type_id} has no {column!r}")
                    value = 1.0  # nsyns
                per_type.append(float(value))
            values[missing] = np.asarray(per_type)[inverse]
        return values


def _type_table(path, id_column):
    """A SONATA types table (space-separated CSV): {type id: row}, "NULL" kept as is."""
    return {int(row[id_column]): row for row in _read_csv(path)}


def _as_str(value):
    return value.decode() if isinstance(value, bytes) else str(value)
