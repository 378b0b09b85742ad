"""The built network of a run to and from SONATA files (:mod:`pd14_pynn.sonata`).

* :func:`save` -- write the populations and every synapse of a built
  :class:`~pd14_pynn.network.Microcircuit` or
  :class:`~pd14_pynn.areas.MultiAreaModel` as a SONATA ``network/`` folder.
* :func:`check`, :func:`check_model` -- before building: does a SONATA network
  fit the model (population sizes, the same projections)?

Connections come from the backend's ``read_connections(projections)`` where it
has one (NEST: the connections NEST drew, read back with ``GetConnections``),
otherwise from the projection's connector (numpy-drawn or given arrays). They
move as arrays, in pieces that :func:`pd14_pynn.sonata.write_network` writes
as they come. Imports no simulator.
"""

import numpy as np

from . import derive, sonata
from .parameters import POPULATIONS


def expected_edges(params, label=""):
    """dict (source population, target population) -> synapses, for the model ``params``.

    Names are PyNN population labels (``label`` prefix as in ``Microcircuit.name``).
    """
    def name(population):
        return f"{label}{'_' if label else ''}{population}"
    d = derive.derive(params)
    edges = {(name(s), name(t)): int(d["num_synapses"][i, j])
             for i, t in enumerate(POPULATIONS) for j, s in enumerate(POPULATIONS)
             if d["num_synapses"][i, j] > 0}
    if params["thalamic_input"]:
        edges.update({(name("TC"), name(t)): int(n)
                      for t, n in zip(POPULATIONS, d["thalamic_synapses"]) if n > 0})
    return edges


def population_sizes(params, label=""):
    """dict population label -> neurons, for the model ``params`` (thalamus included if on)."""
    sizes = {f"{label}{'_' if label else ''}{p}": int(n)
             for p, n in zip(POPULATIONS, derive.derive(params)["num_neurons"])}
    if params["thalamic_input"]:
        sizes[f"{label}{'_' if label else ''}TC"] = int(params["thalamic_num_neurons"])
    return sizes


def check(network, params, label=""):
    """Raise ``sonata.NetworkFileError`` unless ``network`` fits the microcircuit ``params``.

    ``network``: a :class:`~pd14_pynn.sonata_reader.NetworkFile`. The populations must
    have the model's sizes and cell models the model builds (IF_curr_exp as NEST's
    or PyNN's template; the thalamus virtual), and the file must hold exactly the
    model's projections (a file saved with ``--thalamic`` needs ``--thalamic``, and the reverse).
    """
    sizes = population_sizes(params, label)
    network.check_sizes(sizes)
    thalamus = f"{label}{'_' if label else ''}TC"
    network.check_models(cells=[name for name in sizes if name != thalamus],
                         sources=[name for name in sizes if name == thalamus])
    expected = set(expected_edges(params, label))
    # this circuit's edges: between its populations, or from its thalamus (on or off)
    own = set(sizes) | {f"{label}{'_' if label else ''}TC"}
    in_file = {pair for pair in network.edge_index if all(end in own for end in pair)}
    _check_same_edges(network, expected, in_file, "projections",
                      f"; use the parameters it was saved with (thalamic input: "
                      f"{network.metadata.get('thalamic_input', '?')})")


def check_model(network, model):
    """:func:`check` for a declared Microcircuit or MultiAreaModel (every area, and
    the inter-area projections of a multi-area model), or a model that lists its
    own ``population_sizes()`` and ``expected_edges()`` (a
    :class:`~pd14_pynn.described_model.DescribedModel`)."""
    if hasattr(model, "expected_edges"):
        check_edges(network, model.population_sizes(), model.expected_edges())
        return
    if not hasattr(model, "area_params"):
        check(network, model.params, model.label)
        return
    owner = {}
    for label, params in model.area_params.items():
        check(network, params, label)
        owner.update({name: label for name in population_sizes(params, label)})
    expected = {(f"{c.source_area}_{c.source_population}", f"{c.target_area}_{c.target_population}")
                for c in model.connections if model.connection_spec(c).n_synapses > 0}
    in_file = {pair for pair in network.edge_index
               if all(end in owner for end in pair) and owner[pair[0]] != owner[pair[1]]}
    _check_same_edges(network, expected, in_file, "inter-area projections")


def check_edges(network, sizes, edges):
    """Raise ``sonata.NetworkFileError`` unless ``network`` has the populations
    ``sizes`` (label -> neurons, point neurons) and, between them, exactly the
    projections ``edges`` ((source label, target label) -> synapses)."""
    network.check_sizes(sizes)
    network.check_models(cells=list(sizes))
    expected = set(edges)
    in_file = {pair for pair in network.edge_index if all(end in sizes for end in pair)}
    _check_same_edges(network, expected, in_file, "projections",
                      "; use the description, scaling and areas it was saved with")


def _check_same_edges(network, expected, in_file, what, hint=""):
    """Raise ``sonata.NetworkFileError`` naming the (source, target) pairs that
    ``expected`` and ``in_file`` (sets) do not share; ``what`` and ``hint`` word it."""
    missing, extra = sorted(expected - in_file), sorted(in_file - expected)
    if missing or extra:
        raise sonata.NetworkFileError(
            f"the SONATA network {network.config_path!r} does not have the model's {what} "
            f"(missing: {_pairs(missing)}; not in the model: {_pairs(extra)}){hint}")


def _pairs(pairs):
    shown = ", ".join(f"{s}->{t}" for s, t in pairs[:4])
    return (shown + (f" and {len(pairs) - 4} more" if len(pairs) > 4 else "")) or "none"


def _circuits(model):
    """The microcircuits of a model (one, or the areas of a multi-area model)."""
    return list(model.areas.values()) if hasattr(model, "areas") else [model]


def projections(model):
    """Every synaptic projection of a built model: recurrent, thalamic, inter-area."""
    found = []
    for circuit in _circuits(model):
        found += list(circuit.projections.values()) + list(circuit.thalamic_projections.values())
    if hasattr(model, "areas"):
        found += list(model.projections.values())
    return found


# PyNN's IF_curr_exp in NEST's iaf_psc_exp: (PyNN name, NEST name, factor), the
# translation pyNN.nest applies (0.13), so that a file's parameters are the numbers
# NEST got in a pd14-pynn run: capacitance nF -> pF, current nA -> pA
NEST_NAMES = {"IF_curr_exp": ("nest:iaf_psc_exp", (
    ("v_rest", "E_L", 1.0), ("v_reset", "V_reset", 1.0), ("cm", "C_m", 1000.0),
    ("tau_m", "tau_m", 1.0), ("tau_refrac", "t_ref", 1.0), ("tau_syn_E", "tau_syn_ex", 1.0),
    ("tau_syn_I", "tau_syn_in", 1.0), ("v_thresh", "V_th", 1.0), ("i_offset", "I_e", 1000.0)))}


def _parameters(population):
    space = population.celltype.parameter_space
    values = {}
    for name in population.celltype.get_parameter_names():
        value = space[name].base_value
        values[name] = float(value) if np.ndim(value) == 0 else np.asarray(value).tolist()
    return values


def nest_cell(celltype_name, parameters):
    """``(model_template, dynamics_params)`` of a PyNN cell type in NEST's names and
    units (e.g. ``"nest:iaf_psc_exp"``, ``{"C_m": 250.0, ...}``)."""
    template, names = NEST_NAMES[celltype_name]
    return template, {nest: parameters[pynn] * factor for pynn, nest, factor in names}


def nodes(model):
    """:class:`~pd14_pynn.sonata.Nodes` of every population (cortical, then thalamic).

    Cells as NEST models (``nest:iaf_psc_exp``, NEST's names and units, the DC
    background in ``I_e``); the thalamus as virtual nodes with PyNN's
    ``SpikeSourcePoisson`` parameters, for the record."""
    found = []
    for circuit in _circuits(model):
        for name, pop in circuit.populations.items():
            v_init = pop.initial_values["v"]
            v_init = np.asarray(v_init.evaluate(simplify=False) if hasattr(v_init, "evaluate")
                                else v_init, dtype=float)
            template, params = nest_cell(type(pop.celltype).__name__, _parameters(pop))
            found.append(sonata.Nodes(pop.label, pop.size, "point_neuron", template, params,
                                      population=name, area=circuit.label, v_init=v_init))
        if circuit.thalamus is not None:
            pop = circuit.thalamus
            found.append(sonata.Nodes(pop.label, pop.size, "virtual",
                                      f"pyNN:{type(pop.celltype).__name__}", _parameters(pop),
                                      population="TC", area=circuit.label))
    return found


def read_connections_generic(projection):
    """The connections of a projection made by one of our connectors, as four arrays."""
    return projection._connector.draw(projection, local_only=False)


def edges(model, backend=None):
    """:class:`~pd14_pynn.sonata.Edges` of every projection, in pieces as they are read.

    Connections are read by ``backend.read_connections`` where it reads them
    (NEST's own draws), otherwise from the connectors."""
    found = projections(model)
    # an empty piece of each first: the edge populations keep the model's order
    for projection in found:
        yield _edges(projection, *(np.empty(0, dtype=int),) * 2, *(np.empty(0),) * 2)
    pieces = None if backend is None else backend.read_connections(found)
    if pieces is None:
        pieces = ((projection, read_connections_generic(projection)) for projection in found)
    for projection, arrays in pieces:
        yield _edges(projection, *arrays)


def _edges(projection, sources, targets, weights_pA, delays_ms):
    return sonata.Edges(projection.pre.label, projection.post.label, sources, targets,
                        weights_pA, delays_ms, projection.receptor_type)


def save(folder, model, backend=None, metadata=None):
    """Write a built model as a SONATA network into ``folder``; returns the bytes written.

    The config's ``run`` section is the model's resolution and its whole
    simulated time (presimulation included)."""
    params = model.params
    run = {"dt": params["resolution_ms"], "tstop": params["t_presim_ms"] + params["t_sim_ms"]}
    return sonata.write_network(folder, nodes(model), edges(model, backend), metadata, run)
