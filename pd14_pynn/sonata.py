"""Networks as SONATA files: the nodes and every synapse of a run, written and read back.

SONATA (Dai et al. 2020, PLoS Comput Biol 16(2):e1007696) stores a network as
HDF5 tables of nodes and edges plus CSV files of node and edge *types*, tied
together by a circuit config JSON. This module writes and reads the subset a
point-neuron network with static synapses needs; it imports no simulator
(only ``h5py`` and numpy). The layout, file by file, is in docs/outputs.md.

* :class:`Nodes` -- one node population (a PyNN Population): size, cell model
  and its parameters, per-node initial membrane potential.
* :class:`Edges` -- one edge population (a Projection): index arrays, weights
  (pA), delays (ms).
* :func:`write_network` -- write a ``network/`` folder from those.
* :class:`NetworkFile` -- open one (folder, run folder or circuit config) and
  read node populations and edges, projection by projection.

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
NODES_FILE, NODE_TYPES_FILE = "nodes.h5", "node_types.csv"
EDGES_FILE, EDGE_TYPES_FILE = "edges.h5", "edge_types.csv"
COMPONENTS = "components"
# edge datasets are written in chunks of this many edges (8 MB of float64) and
# compressed with gzip level 1 after byte shuffling (filters every HDF5 reader has):
# measured on a NEST-drawn network, 12 instead of 52 bytes per edge, ~1 us per edge
# to write; the id, type and group columns shrink most
CHUNK = 1 << 20
COMPRESSION = {"compression": "gzip", "compression_opts": 1, "shuffle": True}


class NetworkFileError(ParameterError):
    """A SONATA network that cannot be read, or does not fit the model to be built."""


@dataclasses.dataclass
class Nodes:
    """One node population.

    ``name``: SONATA population name (the PyNN population label, e.g. "L23E" or
    "V1_L23E"); ``model_type``: "point_neuron" or "virtual" (spike sources);
    ``model_template``: e.g. "pyNN:IF_curr_exp"; ``dynamics_params``: the cell
    parameters (PyNN names and units: mV, ms, nF, nA); ``v_init``: initial
    membrane potential per node (mV), or None.
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


def write_network(folder, nodes, edges, metadata=None):
    """Write a SONATA network into ``folder`` (created); returns its size in bytes.

    ``nodes``: :class:`Nodes` in order; ``edges``: an iterable of :class:`Edges`
    (it may be a generator). Several :class:`Edges` of one edge population are
    pieces of it, in order; pieces of different populations may interleave. Edges
    are written a ``CHUNK`` at a time as they come, so memory stays bounded by
    one piece plus less than a ``CHUNK`` per population not yet finished;
    ``metadata``: plain data stored under ``"pd14"`` in the circuit config
    (simulator, seed, scaling, ...).
    """
    import h5py
    os.makedirs(os.path.join(folder, COMPONENTS), exist_ok=True)
    nodes = list(nodes)
    names = [n.name for n in nodes]
    if len(set(names)) != len(names):
        raise ValueError(f"node population names must be unique, got {names}")
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
                v_init = attributes.create_dataset("v_init", data=np.asarray(node.v_init, float))
                v_init.attrs["units"] = "mV"
            params_file = f"{node.name}.json"
            with open(os.path.join(folder, COMPONENTS, params_file), "w") as out:
                json.dump(node.dynamics_params, out, indent=1, sort_keys=True)
            node_types.append([type_id, node.name, node.model_type, node.model_template,
                               params_file, node.population or node.name, node.area or "none"])
    _write_csv(os.path.join(folder, NODE_TYPES_FILE),
               ["node_type_id", "pop_name", "model_type", "model_template", "dynamics_params",
                "population", "area"], node_types)

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
                writers[edge.name] = _EdgeWriter(root, edge, len(writers))
            writers[edge.name].add(edge)
            del edge  # a generator's arrays can go before the next are made
        for writer in writers.values():
            writer.finish()
    edge_types = [[w.type_id, w.name, "static_synapse", w.receptor, w.source, w.target, w.n]
                  for w in writers.values()]
    _write_csv(os.path.join(folder, EDGE_TYPES_FILE),
               ["edge_type_id", "pop_name", "model_template", "receptor_type",
                "source_population", "target_population", "n_edges"], edge_types)

    config = {
        "manifest": {"$NETWORK_DIR": "${configdir}", "$COMPONENTS_DIR": f"$NETWORK_DIR/{COMPONENTS}"},
        "components": {"point_neuron_models_dir": "$COMPONENTS_DIR"},
        "networks": {
            "nodes": [{"nodes_file": f"$NETWORK_DIR/{NODES_FILE}",
                       "node_types_file": f"$NETWORK_DIR/{NODE_TYPES_FILE}"}],
            "edges": [{"edges_file": f"$NETWORK_DIR/{EDGES_FILE}",
                       "edge_types_file": f"$NETWORK_DIR/{EDGE_TYPES_FILE}"}],
        },
        "units": {"syn_weight": "pA", "delay": "ms", "v_init": "mV"},
        "pd14": metadata or {},
    }
    with open(os.path.join(folder, CONFIG), "w") as handle:
        json.dump(config, handle, indent=1)
    return folder_bytes(folder)


class _EdgeWriter:
    """One edge population, written as its pieces come: whole ``CHUNK``s as soon as
    they are there, the rest at :meth:`finish`. A population of fewer than
    ``CHUNK`` edges is written at once, in one chunk of its size."""

    def __init__(self, root, edge, type_id):
        self.root, self.name, self.type_id = root, edge.name, type_id
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
        self._write(self.n_pending)

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
                self.group.create_dataset(name, data=values, **self._filters(count))
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
                self.group.create_dataset(name, shape=(0,), maxshape=(None,), dtype=dtype,
                                          **self._filters(CHUNK))
            self._attributes()

    @staticmethod
    def _filters(n):
        return dict(COMPRESSION, chunks=(min(CHUNK, n),)) if n else {}


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
    """A SONATA network written by :func:`write_network` (or laid out the same way).

    ``path``: the circuit config, the folder holding it, or a run folder with a
    ``network/`` subfolder. Reads lazily: opening reads the config and the
    type tables; :meth:`edges` reads one edge population.
    """

    def __init__(self, path):
        self.config_path = locate(path)
        self.folder = os.path.dirname(os.path.abspath(self.config_path))
        try:
            with open(self.config_path) as handle:
                self.config = json.load(handle)
            networks = self.config["networks"]
            self.nodes_files = [self._resolve(entry["nodes_file"]) for entry in networks["nodes"]]
            self.edges_files = [self._resolve(entry["edges_file"]) for entry in networks["edges"]]
            self.node_types = {}
            for entry in networks["nodes"]:
                for row in _read_csv(self._resolve(entry["node_types_file"])):
                    self.node_types[int(row["node_type_id"])] = row
            self.sizes = self._node_sizes()
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
        return value if os.path.isabs(value) else os.path.join(self.folder, value)

    def _node_sizes(self):
        import h5py
        sizes = {}
        for path in self.nodes_files:
            with h5py.File(path, "r") as handle:
                for name, group in handle["nodes"].items():
                    sizes[name] = int(group["node_type_id"].shape[0])
        return sizes

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
                    index[key] = (path, name)
        return index

    def node_parameters(self, population):
        """The cell parameters of a node population (dict, PyNN names and units)."""
        for row in self.node_types.values():
            if row["pop_name"] == population:
                with open(os.path.join(self._resolve(self.config["components"]
                                                     ["point_neuron_models_dir"]),
                                       row["dynamics_params"])) as handle:
                    return json.load(handle)
        raise KeyError(population)

    def v_init(self, population):
        """Initial membrane potentials (mV) of a node population, or None if not stored."""
        import h5py
        for path in self.nodes_files:
            with h5py.File(path, "r") as handle:
                group = handle["nodes"].get(population)
                if group is not None:
                    data = group["0"].get("v_init")
                    return None if data is None else data[()]
        raise KeyError(population)

    def has_edges(self, source, target):
        return (source, target) in self.edge_index

    def edges(self, source, target):
        """``(sources, targets, weights_pA, delays_ms)`` of the edges source -> target."""
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
            weights = group["0"]["syn_weight"][()]
            delays = group["0"]["delay"][()]
        return sources, targets, weights, delays

    def check_sizes(self, expected):
        """Raise :class:`NetworkFileError` unless every population in ``expected`` has its size.

        ``expected``: dict population name -> number of neurons of the model to build.
        """
        for name, size in expected.items():
            if name not in self.sizes:
                raise NetworkFileError(
                    f"the SONATA network {self.config_path!r} has no node population {name!r} "
                    f"(it has {', '.join(self.sizes)}); build it with the parameters it was "
                    f"saved with")
            if self.sizes[name] != size:
                raise NetworkFileError(
                    f"population {name} has {self.sizes[name]} neurons in {self.config_path!r} "
                    f"but {size} in the model; use the scaling the file was saved with "
                    f"(N_scaling = {self.metadata.get('N_scaling', '?')})")


def _as_str(value):
    return value.decode() if isinstance(value, bytes) else str(value)
