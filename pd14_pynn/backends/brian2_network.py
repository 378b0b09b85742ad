"""The whole Brian2 network as a few objects, however many populations and projections.

PyNN's Brian2 backend makes one ``NeuronGroup`` per population and one
``Synapses`` object per projection, and each brings its own generated code:
64 ``Synapses`` for one microcircuit, ~550 for 8 areas, whose standalone
program no longer compiles (issues 23, 24). Here the model's populations,
projections and Poisson background are only *declared* while the model builds
(:class:`MergedNetwork`), then created together (:meth:`MergedNetwork.materialize`,
called by the backend's ``finish_build`` or by whatever first needs a Brian2
object):

* one ``NeuronGroup`` per set of populations with the same cell type and
  neuron parameters (all of them in PD14 and in multi-area models), each
  population a ``Subgroup`` of it (:class:`~pd14_pynn.backends.brian2_groups.MemberGroup`);
  ``i_offset`` (each population's DC) per neuron, the rest shared;
* one ``Synapses`` per (source group, target group, receptor): the
  concatenation of every projection's (i, j, weight, delay), each projection
  a slice of it (:class:`~pd14_pynn.backends.brian2_pynn.MergedProjection`);
* Poisson background as one per-neuron Poisson draw per time step in the
  group (rate x sources per neuron), instead of one ``PoissonInput`` per
  population; the count of spikes of n independent Poisson sources in a step
  is exactly Poisson with n times the mean (``PoissonInput`` draws a binomial);
  inputs of one weight (the background and, in multi-area models, the inputs
  replacing non-simulated areas) share one draw, each distinct weight has its own;
* one ``SpikeMonitor`` per group, read per population.

Within a time step the synaptic currents are summed in another order than with
one ``Synapses`` per projection (one spike queue instead of many), so spikes
differ at the rounding level from PyNN's structure, and are identical to it
when the weights of each receptor are all equal (tests/test_brian2_network.py).
"""

import os

import brian2
import numpy as np
from brian2.units.fundamentalunits import Quantity, get_dimensions

from . import brian2_openmp
from .brian2_groups import MemberGroup, SharedParameterGroup

#: parameters that may differ between the populations of one group
PER_NEURON = ("i_offset",)


def background_names(k):
    """The per-neuron variables of Poisson input class ``k`` (one weight): mean spikes
    per step, its exp(-mean), and the weight; class 0 keeps the plain names."""
    suffix = f"_{k}" if k else ""
    return f"bg_lambda{suffix}", f"bg_p0{suffix}", f"bg_weight{suffix}"


def background_equations(k):
    """The equations of the variables of Poisson input class ``k``."""
    lam, p0, weight = background_names(k)
    return f"\n{lam} : 1 (constant)\n{p0} : 1 (constant)\n{weight} : amp (constant)"

# Poisson counts by inversion: one uniform number per neuron and step, walking
# the cumulative distribution from P(0) = p0. Brian2's poisson() multiplies
# uniforms until their product drops below exp(-lambda): lambda + 1 of them
# (2.6 per neuron and step here) and an exp(); the uniforms were the largest
# cost of a step at N = K = 0.1 (the tail beyond 1000 is never reached).
_INVERSION_CPP = """
int32_t _pd14_poisson(double lam, double p0, int _vectorisation_idx) {
    const double u = _rand(_vectorisation_idx);
    int32_t k = 0;
    double p = p0, s = p0;
    while (u > s && k < 1000) { k += 1; p *= lam / k; s += p; }
    return k;
}
"""
_INVERSION_CYTHON = """
cdef int32_t _pd14_poisson(double lam, double p0, int _vectorisation_idx):
    cdef double u = _rand(_vectorisation_idx)
    cdef int32_t k = 0
    cdef double p = p0
    cdef double s = p0
    while u > s and k < 1000:
        k += 1
        p *= lam / k
        s += p
    return k
"""


def _inversion_numpy(lam, p0, vectorisation_idx):
    # the numpy target: numpy's own Poisson draw, as Brian2's poisson() makes it
    try:
        return np.random.poisson(lam, size=len(vectorisation_idx))
    except TypeError:
        return np.random.poisson(lam)


def poisson_function():
    """``pd14_poisson(lambda, exp(-lambda))``: a Poisson count per neuron (Brian2 function)."""
    from brian2.codegen.generators.cpp_generator import CPPCodeGenerator
    from brian2.codegen.generators.cython_generator import CythonCodeGenerator
    from brian2.codegen.generators.numpy_generator import NumpyCodeGenerator
    from brian2.core.functions import DEFAULT_FUNCTIONS, Function
    function = Function(pyfunc=_inversion_numpy, arg_units=[1, 1], return_unit=1,
                        return_type="integer", stateless=False, auto_vectorise=True)
    rand = {"_rand": DEFAULT_FUNCTIONS["rand"]}
    function.implementations.add_implementation(CPPCodeGenerator, code=_INVERSION_CPP,
                                                name="_pd14_poisson", dependencies=rand)
    function.implementations.add_implementation(CythonCodeGenerator, code=_INVERSION_CYTHON,
                                                name="_pd14_poisson", dependencies=rand)
    function.implementations.add_implementation(NumpyCodeGenerator, code=_inversion_numpy)
    return function


class NeuronBatch:
    """Populations that will be one ``NeuronGroup``: same cell type and parameters."""

    def __init__(self, celltype):
        self.celltype = celltype
        self.members = []        # Member, in index order
        self.size = 0
        self.group = None
        self.monitor = None      # the SpikeMonitor of the whole group, once asked for
        self._spikes = None      # (count, order, i sorted, t ms sorted) read after a run


class Member:
    """One population in a :class:`NeuronBatch`: neurons ``start..start+size``."""

    def __init__(self, batch, population, start, parameters):
        self.batch, self.population, self.start = batch, population, start
        self.size = population.size
        self.parameters = parameters   # native name -> Quantity array
        self.initial = {}              # native name -> Quantity array
        self.background = {}           # weight (A) -> mean spikes per step

    def add_background(self, mean_per_step, weight_A):
        """Add Poisson input of ``mean_per_step`` spikes per neuron and step, each a PSC
        of ``weight_A``. Inputs of one weight add up to one Poisson draw (a sum of
        independent Poisson counts is one of the summed mean), so a group draws once
        per neuron, step and distinct weight, however many inputs were declared (a
        multi-area model adds one per replaced area)."""
        self.background[weight_A] = self.background.get(weight_A, 0.0) + mean_per_step

    @property
    def stop(self):
        return self.start + self.size


class SynapseBatch:
    """Projections that will be one ``Synapses``: same source, target and receptor."""

    def __init__(self, key, source, target, variable, model, on_pre, files):
        self.key, self.source, self.target = key, source, target
        self.variable, self.model, self.on_pre = variable, model, on_pre
        self.pieces = []         # (i, j, weights_A, delays_s) arrays, in order
        self.count = 0
        self.synapses = None
        self.files = files       # standalone: name -> data file of weights, delays


class MergedNetwork:
    """What the fast paths declared and not yet created, for one Brian2 network."""

    def __init__(self, state):
        self.state = state
        self.network = state.network
        self.open_neurons = {}   # batch key -> NeuronBatch not yet created
        self.open_synapses = {}  # batch key -> SynapseBatch not yet created
        self.batches = []        # every NeuronBatch (created or not)
        self.synapse_batches = []

    # --- declaring -------------------------------------------------------------
    def add_population(self, population, parameters):
        """Declare ``population`` (native parameter arrays); returns its :class:`Member`."""
        key = batch_key(population, parameters)
        batch = self.open_neurons.get(key)
        if batch is None:
            batch = self.open_neurons[key] = NeuronBatch(population.celltype)
            self.batches.append(batch)
        member = Member(batch, population, batch.size, parameters)
        batch.members.append(member)
        batch.size += member.size
        return member

    def add_connections(self, projection, source, target, sources, targets, weights_A,
                        delays_s):
        """Declare connections of ``projection`` (population indices, SI units);
        returns the batch and the (start, stop) of the new ones in it."""
        (source_root, source_offset), (target_root, target_offset) = source, target
        variable = target_root.celltype.post_synaptic_variables[projection.receptor_type]
        key = (id(source_root), id(target_root), variable)
        batch = self.open_synapses.get(key)
        if batch is None:
            context = {"syn_var": variable, "weight_units": "ampere"}
            batch = SynapseBatch(key, source_root, target_root, variable,
                                 projection.synapse_type.eqs % context,
                                 projection.synapse_type.pre % context,
                                 self._data_files(len(self.synapse_batches)))
            self.open_synapses[key] = batch
            self.synapse_batches.append(batch)
        i = np.asarray(sources, dtype=np.int32) + np.int32(source_offset)
        j = np.asarray(targets, dtype=np.int32) + np.int32(target_offset)
        weights_A = np.asarray(weights_A, dtype=float)
        delays_s = np.asarray(delays_s, dtype=float)
        if batch.files:
            # standalone: the program reads weights and delays from files; append
            # now instead of keeping them in Python until the synapses exist
            for name, values in (("weight", weights_A), ("delay", delays_s)):
                with open(batch.files[name], "ab") as handle:
                    values.tofile(handle)
            weights_A = delays_s = None
        batch.pieces.append((i, j, weights_A, delays_s))
        start = batch.count
        batch.count += len(i)
        return batch, (start, batch.count)

    def _data_files(self, number):
        session = getattr(self.state, "pd14_standalone", None)
        if session is None or session.device != "cpp_standalone":
            return None
        folder = os.path.join(session.project_dir, "static_arrays")
        files = {name: os.path.join(folder, f"pd14_merged_{number}_{name}.dat")
                 for name in ("weight", "delay")}
        for path in files.values():
            if os.path.exists(path):
                os.remove(path)
        return files

    @property
    def pending(self):
        return bool(self.open_neurons or self.open_synapses)

    # --- creating ----------------------------------------------------------------
    def materialize(self):
        """Create every declared group, background and ``Synapses`` object."""
        neurons, self.open_neurons = list(self.open_neurons.values()), {}
        synapses, self.open_synapses = list(self.open_synapses.values()), {}
        for batch in neurons:
            self._create_group(batch)
        for batch in synapses:
            self._create_synapses(batch)

    def _create_group(self, batch):
        members = batch.members
        names = members[0].parameters.keys()
        parameters = {name: concatenate([m.parameters[name] for m in members])
                      for name in names}
        equations = batch.celltype.eqs
        classes = [sorted(m.background.items()) for m in members]
        n_classes = max(len(c) for c in classes)
        for k in range(n_classes):
            lam, p0, weight = background_names(k)
            equations = equations + background_equations(k)
            # a member with fewer weights draws from lambda = 0 here: always 0 spikes
            parameters[lam] = np.concatenate(
                [np.full(m.size, c[k][1] if k < len(c) else 0.0)
                 for m, c in zip(members, classes)])
            parameters[p0] = np.exp(-parameters[lam])
            parameters[weight] = np.concatenate(
                [np.full(m.size, c[k][0] if k < len(c) else 0.0)
                 for m, c in zip(members, classes)]) * brian2.amp
        group = SharedParameterGroup(batch.size, equations, per_neuron=PER_NEURON, **parameters)
        for name in members[0].initial:
            setattr(group, name, concatenate([m.initial[name] for m in members]))
        batch.group = group
        self.network.add(group)
        for member in members:
            member.population._pd14_attach(MemberGroup(group, member.start, member.stop))
            member.parameters = member.initial = None
        if n_classes:
            variable = batch.celltype.post_synaptic_variables["excitatory"]
            # in the slot where PoissonInput adds its spikes (after the thresholds)
            session = getattr(self.state, "pd14_standalone", None)
            cuda = session is not None and session.device == "cuda_standalone"
            if not cuda:
                group.namespace = {**(group.namespace or {}), "pd14_poisson": poisson_function()}
            terms = []
            for k in range(n_classes):
                lam, p0, weight = background_names(k)
                # Brian2CUDA has its own poisson()
                draw = f"poisson({lam})" if cuda else f"pd14_poisson({lam}, {p0})"
                terms.append(f"{weight} * {draw}")
            group.run_regularly(f"{variable} += {' + '.join(terms)}", when="synapses",
                                name=f"{group.name}_background")

    def _create_synapses(self, batch):
        source = group_of(batch.source)
        target = group_of(batch.target)
        session = getattr(self.state, "pd14_standalone", None)
        threaded = brian2_openmp.uses_threaded_delivery(session, batch.on_pre)
        synapses = brian2.Synapses(source, target, model=batch.model, on_pre=batch.on_pre,
                                   clock=self.network.clock, name="pd14_synapses*",
                                   codeobj_class=(brian2_openmp.code_object_class()
                                                  if threaded else None))
        pieces, batch.pieces = batch.pieces, []
        i = np.concatenate([p[0] for p in pieces]) if pieces else np.empty(0, np.int32)
        j = np.concatenate([p[1] for p in pieces]) if pieces else np.empty(0, np.int32)
        if session is not None:
            session.reserve(synapses, len(i))
        synapses.connect(i=i, j=j)
        if batch.files is not None:
            for name in ("weight", "delay"):
                session.register_file(synapses, name, batch.files[name])
        elif session is not None:  # Brian2CUDA: as Brian2 static arrays
            synapses.weight_[:] = np.concatenate([p[2] for p in pieces])
            synapses.delay_[:] = np.concatenate([p[3] for p in pieces])
        else:
            # Synapses keep creation order for array connects; check it, since a
            # silent reordering would scramble weights
            if not (np.array_equal(synapses.i[:], i) and np.array_equal(synapses.j[:], j)):
                raise RuntimeError("Brian2 reordered synapses on connect; weights cannot "
                                   "be assigned")
            del i, j
            synapses.weight_[:] = np.concatenate([p[2] for p in pieces])
            synapses.delay_[:] = np.concatenate([p[3] for p in pieces])
        batch.synapses = synapses
        self.network.add(synapses)

    # --- recording -----------------------------------------------------------------
    def spike_monitor(self, member):
        """The one ``SpikeMonitor`` of ``member``'s group (made on first request)."""
        batch = member.batch
        if batch.monitor is None:
            batch.monitor = brian2.SpikeMonitor(batch.group, name=f"{batch.group.name}_spikes")
            self.network.add(batch.monitor)
        return batch.monitor

    def spikes(self, member):
        """(neuron index in the population, time in ms) of ``member``'s recorded spikes."""
        batch = member.batch
        monitor = batch.monitor
        count = int(monitor.num_spikes)
        if batch._spikes is None or batch._spikes[0] != count:
            index = np.asarray(monitor.i[:])
            times_ms = np.asarray(monitor.t / brian2.ms)  # as PyNN's recorder computes it
            order = np.argsort(index, kind="stable")
            batch._spikes = (count, index[order], times_ms[order])
        _, index, times_ms = batch._spikes
        lo, hi = np.searchsorted(index, [member.start, member.stop])
        return index[lo:hi] - member.start, times_ms[lo:hi]

    def object_count(self):
        """Brian2 objects in the network, by class name (for measurements and tests)."""
        counts = {}
        for obj in self.network.objects:
            counts[type(obj).__name__] = counts.get(type(obj).__name__, 0) + 1
        return counts


def group_of(root):
    """The Brian2 group of a synapse batch's source or target (a batch or a group)."""
    return root.group if isinstance(root, NeuronBatch) else root


def concatenate(values):
    """One Quantity (or array) of the per-population ``values``."""
    dimensions = get_dimensions(values[0])
    joined = np.concatenate([np.asarray(v, dtype=float).reshape(-1) for v in values])
    return Quantity(joined, dim=dimensions) if dimensions is not None else joined


def batch_key(population, parameters):
    """Populations with equal keys share one ``NeuronGroup``: cell type, equations
    and every parameter but those in :data:`PER_NEURON`, each one value per
    population (a population with different values in its neurons gets a group
    of its own)."""
    celltype = population.celltype
    key = [type(celltype).__name__, str(celltype.eqs)]
    for name in sorted(parameters):
        if name in PER_NEURON:
            continue
        values = np.asarray(parameters[name], dtype=float).reshape(-1)
        if values.size and np.all(values == values[0]):
            key.append((name, float(values[0])))
        else:
            key.append((name, "per neuron", id(population)))
    return tuple(key)


def network_of(state):
    """The :class:`MergedNetwork` of PyNN's Brian2 ``state`` (a new one after ``setup``)."""
    merged = getattr(state, "pd14_merged", None)
    if merged is None or merged.network is not state.network:
        merged = state.pd14_merged = MergedNetwork(state)
    return merged
