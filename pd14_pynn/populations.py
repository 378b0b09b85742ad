"""Creating the model's neuron populations, with a per-backend fast path.

Written against the PyNN API: :func:`create` returns a PyNN ``Population``
whose neurons start at the given membrane potentials. A backend may register a
cheaper native way with :func:`register_fast_create` (NEST: one ``nest.Create``
with every parameter and the initial potentials, where PyNN's constructor
makes a dozen whole-population calls); the result must be an ordinary PyNN
``Population`` with the same parameters and initial values.
"""

_FAST_CREATE = {}


def register_fast_create(simulator_module_name, function):
    """Use ``function(sim, size, celltype, label, v_init_mV)`` to create populations there."""
    _FAST_CREATE[simulator_module_name] = function


def create(sim, size, celltype, label, v_init_mV, fast=True):
    """A ``Population`` of ``size`` cells of ``celltype`` with membrane potentials
    ``v_init_mV`` (array of ``size``, mV)."""
    native = _FAST_CREATE.get(sim.simulator.__name__) if fast else None
    if native is not None:
        return native(sim, size, celltype, label, v_init_mV)
    population = sim.Population(size, celltype, label=label)
    population.initialize(v=v_init_mV)
    return population
