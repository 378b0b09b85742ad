"""Creating the model's neuron populations, with a per-backend fast path.

Written against the PyNN API: :func:`create` returns a PyNN ``Population``
whose neurons start at the given membrane potentials. A backend may have a
cheaper native way (``FastPaths.create_population``; NEST: one ``nest.Create``
with every parameter and the initial potentials, where PyNN's constructor
makes a dozen whole-population calls); the result must be an ordinary PyNN
``Population`` with the same parameters and initial values.
"""

from .backends import choose_fast_path


def create(sim, size, celltype, label, v_init_mV, fast=True):
    """A ``Population`` of ``size`` cells of ``celltype`` with membrane potentials
    ``v_init_mV`` (array of ``size``, mV). ``fast``: True (the backend's fast
    path, if any), False (PyNN's generic constructor) or the fast path itself."""
    native = choose_fast_path(fast, sim, "create_population")
    if native is not None:
        return native(sim, size, celltype, label, v_init_mV)
    population = sim.Population(size, celltype, label=label)
    population.initialize(v=v_init_mV)
    return population
