"""Reading SONATA networks: ours (written by :mod:`pd14_pynn.sonata`, now or
before issue 26) and other tools' point-neuron networks (e.g. BMTK's).

* :class:`NetworkFile` -- open one (folder, run folder or circuit config) and
  read node populations, their parameters and initial potentials, and edges,
  projection by projection; check sizes and cell models against a model.

Imports no simulator (only ``h5py`` and numpy).
"""

import csv
import json
import os

import numpy as np

from .sonata import CELL_TEMPLATES, OLD_V_INIT, V_INIT, NetworkFileError, locate


def _read_csv(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle, delimiter=" "))


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
