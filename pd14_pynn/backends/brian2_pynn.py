"""PyNN's Population, Projection and Recorder for the merged Brian2 network.

Ordinary ``pyNN.brian2`` classes to the model and its users (``get``, ``set``,
``len``, ``size``, ``record``, ``get_data``), whose Brian2 objects are those of
:mod:`pd14_pynn.backends.brian2_network`: a :class:`MergedPopulation` declares
its neurons and gets its group (a ``Subgroup``) when anything first needs it; a
:class:`MergedProjection` declares its connections into the ``Synapses``
object of its source, target and receptor and reads them back as its slice;
a :class:`MergedRecorder` reads its population's spikes from the group's one
``SpikeMonitor``.
"""

import brian2
import numpy as np
import pyNN.brian2 as pynn_brian2
from pyNN import common
from pyNN.brian2 import simulator
from pyNN.brian2.recording import Recorder
from pyNN.parameters import ParameterSpace
from pyNN.space import Space

from .brian2_network import network_of


class MergedRecorder(Recorder):
    """PyNN's Brian2 recorder; spikes from the group's shared ``SpikeMonitor``."""

    def _create_device(self, group, variable):
        if variable.name != "spikes":
            return super()._create_device(group, variable)
        self._devices["spikes"] = network_of(simulator.state).spike_monitor(
            self.population._pd14_member)

    def _spikes(self):
        return network_of(simulator.state).spikes(self.population._pd14_member)

    def _get_spiketimes(self, requested_ids, clear=False):
        index, times_ms = self._spikes()
        ids = index + self.population.first_id
        mask = np.isin(ids, requested_ids)
        return ids[mask], times_ms[mask]

    def _local_count(self, variable, filter_ids=None):
        ids = np.fromiter(self.filter_recorded(variable, filter_ids), dtype=int)
        counts = np.bincount(self._spikes()[0], minlength=self.population.size)
        return {id_: int(counts[id_ - self.population.first_id]) for id_ in ids}

    def _clear_simulator(self):
        # the spike monitor is the whole group's: only other devices are cleared
        for name, device in self._devices.items():
            if name != "spikes":
                device.resize(0)


class MergedPopulation(pynn_brian2.Population):
    """A PyNN Brian2 ``Population`` whose group is made with the others' (see module)."""
    _recorder_class = MergedRecorder

    def _create_cells(self):
        first = simulator.state.id_counter
        self.all_cells = np.array([simulator.ID(i) for i in range(first, first + self.size)],
                                  dtype=simulator.ID)
        self._mask_local = np.ones((self.size,), bool)
        parameters = self.celltype.native_parameters
        parameters.shape = (self.size,)
        parameters.evaluate(simplify=False)
        parameters.flatten(with_prefix=False)
        for id_ in self.all_cells:
            id_.parent = self
        simulator.state.id_counter += self.size
        self._pd14_group = None
        self._pd14_member = network_of(simulator.state).add_population(self, dict(parameters.items()))

    def _pd14_attach(self, group):
        self._pd14_group = group

    @property
    def brian2_group(self):
        """The population's Brian2 group (a ``Subgroup``); creates every declared object."""
        merged = network_of(simulator.state)
        if self._pd14_group is None or merged.pending:
            merged.materialize()
        return self._pd14_group

    def _set_initial_value_array(self, variable, value):
        translation = self.celltype.state_variable_translations[variable]
        transform = translation["forward_transform"]
        if callable(transform):
            native = transform(**{variable: value})
        else:
            native = eval(transform, globals(), {variable: value})
        native = native.evaluate(simplify=False)
        if self._pd14_group is None:
            self._pd14_member.initial[translation["translated_name"]] = native
        else:
            setattr(self._pd14_group, translation["translated_name"], native)


class MergedProjection(pynn_brian2.Projection):
    """A PyNN Brian2 ``Projection`` whose connections are a slice of a shared
    ``Synapses`` object (static current synapses onto a :class:`MergedPopulation`)."""

    def __init__(self, pre, post, connector, synapse_type, receptor_type, label):
        common.Projection.__init__(self, pre, post, connector, synapse_type, None,
                                   receptor_type, Space(), label)
        self._n_connections = 0
        self._brian2_synapses = {}
        self._pd14_batch = None
        self._pd14_ranges = []
        self.synapse_type._set_target_type(brian2.nA)
        connector.connect(self)

    # --- connecting ------------------------------------------------------------
    def add_connections(self, sources, targets, weights_A, delays_s):
        """Declare connections (population indices; weights in A, delays in s)."""
        batch, (start, stop) = network_of(simulator.state).add_connections(
            self, _root(self.pre), _root(self.post), sources, targets, weights_A, delays_s)
        if self._pd14_batch not in (None, batch):
            raise RuntimeError(f"{self.label}: connections in two Brian2 objects")
        self._pd14_batch = batch
        if self._pd14_ranges and self._pd14_ranges[-1][1] == start:
            start = self._pd14_ranges.pop()[0]
        self._pd14_ranges.append((start, stop))
        self._n_connections += len(sources)

    def _convergent_connect(self, presynaptic_indices, postsynaptic_index,
                            location_selector=None, **parameters):
        # PyNN's generic connectors: native values (Brian2 quantities, SI inside)
        n = len(presynaptic_indices)
        self.add_connections(presynaptic_indices, np.full(n, postsynaptic_index),
                             np.asarray(parameters["weight"], dtype=float) * np.ones(n),
                             np.asarray(parameters["delay"], dtype=float) * np.ones(n))

    # --- reading -----------------------------------------------------------------
    def _synapses(self):
        if self._pd14_batch is None:
            return None
        if self._pd14_batch.synapses is None:
            network_of(simulator.state).materialize()
        return self._pd14_batch.synapses

    def _native(self, name):
        """Values of ``name`` (``i``, ``j``, ``weight``, ``delay``) of this projection."""
        synapses = self._synapses()
        if synapses is None:
            return np.empty(0)
        view = getattr(synapses, name)
        values = [view[start:stop] for start, stop in self._pd14_ranges]
        return np.concatenate(values) if name in ("i", "j") else _join(values)

    def _attribute(self, name):
        if name == "presynaptic_index":
            return self._native("i") - _root(self.pre)[1]
        if name == "postsynaptic_index":
            return self._native("j") - _root(self.post)[1]
        native = self._native(name)
        space = ParameterSpace({name: native}, shape=np.shape(native))
        space = self.synapse_type.reverse_translate(space)
        space.evaluate()
        return space[name]

    def _get_attributes_as_list(self, attribute_names):
        values = np.array([self._attribute(name) for name in attribute_names])
        return [tuple(row) for row in values.T]

    def _get_attributes_as_arrays(self, attribute_names, multiple_synapses="sum"):
        aggregate = {"sum": (np.add.at, 0.0), "min": (np.minimum.at, np.inf),
                     "max": (np.maximum.at, -np.inf)}
        if multiple_synapses not in aggregate:
            raise NotImplementedError(f"multiple_synapses={multiple_synapses!r}")
        function, start = aggregate[multiple_synapses]
        i, j = self._attribute("presynaptic_index"), self._attribute("postsynaptic_index")
        unconnected = np.full((self.pre.size, self.post.size), True)
        unconnected[i, j] = False
        arrays = []
        for name in attribute_names:
            array = np.full((self.pre.size, self.post.size), start)
            function(array, (i, j), self._attribute(name))
            array[unconnected] = np.nan
            arrays.append(array)
        return arrays

    def _set_attributes(self, parameter_space):
        raise NotImplementedError(
            f"{self.label}: setting weights or delays after connecting is not supported by "
            "pd14_pynn's merged Brian2 projections; give them to the connector, or build "
            "with fast=False")

    @property
    def connections(self):
        raise NotImplementedError(
            f"{self.label}: per-connection objects are not available for pd14_pynn's merged "
            "Brian2 projections; use Projection.get([...], format='list')")


def _join(views):
    """Concatenate slices of a Brian2 variable, keeping the unit."""
    from .brian2_network import concatenate
    return concatenate(views)


def _root(population):
    """(source or target of the shared objects, index offset) of ``population``:
    its :class:`~pd14_pynn.backends.brian2_network.NeuronBatch` and start for a
    :class:`MergedPopulation`, else its own Brian2 group and 0."""
    member = getattr(population, "_pd14_member", None)
    if member is not None:
        return member.batch, member.start
    return population.brian2_group, 0


def can_merge(pre, post, synapse_type):
    """Whether a projection ``pre`` -> ``post`` of ``synapse_type`` can be a
    :class:`MergedProjection`: static current synapses from a whole population
    onto a :class:`MergedPopulation`."""
    return (isinstance(post, MergedPopulation) and isinstance(pre, pynn_brian2.Population)
            and type(synapse_type) is pynn_brian2.StaticSynapse
            and not post.celltype.conductance_based)
