"""Brian2 backend: setup options and vectorised fast paths.

* Connections: the projection is drawn with numpy
  (:func:`pd14_pynn.connectivity.draw_connections`) and created with one
  ``Synapses.connect(i=..., j=...)`` call; weights and delays are then set as
  whole arrays, so each synapse keeps its own values. (PyNN 0.13 sets them per
  (i, j) pair, which gives all multapses of a pair one shared weight and delay.)
* Poisson background: ``brian2.PoissonInput`` (K_ext sources at bg_rate, summed
  per time step) instead of one PyNN spike source per neuron. Its spikes have
  no transmission delay; for stationary independent Poisson input a constant
  delay changes nothing in distribution.
* Code generation: the Cython target (compiled once per network, cached by
  Brian2); ``PD14_BRIAN2_CODEGEN=numpy`` selects the numpy target (no compilation;
  used by the tests for tiny networks).
* Random numbers of the simulation (Poisson input) come from ``brian2.seed``.
"""

import os

import numpy as np

from . import BackendError, require

NAME = "brian2"
PACKAGE = "brian2"
BYTES_PER_SYNAPSE = 120
BYTES_PER_NEURON = 20_000


def import_simulator():
    """Import pyNN.brian2 and register the fast paths."""
    require("brian2", PACKAGE, NAME)
    sim = require("pyNN.brian2", "PyNN", NAME)
    from .. import connectors, inputs
    connectors.register_fast_path(sim.simulator.__name__, connect_fixed_total_number)
    inputs.register_poisson_background(sim.simulator.__name__, poisson_background)
    return sim


def setup(sim, params, n_synapses):
    """Call ``sim.setup`` and seed Brian2; returns the settings used."""
    import brian2
    sim.setup(timestep=params["resolution_ms"], min_delay=params["resolution_ms"])
    # compiled per-step code: the numpy target spends Python time per object and
    # step, several times slower for this model; but Cython compiles every code
    # object of a new network (~10 min on 2 cores, then cached), so tiny test
    # networks are faster with numpy: PD14_BRIAN2_CODEGEN=numpy
    target = os.environ.get("PD14_BRIAN2_CODEGEN", "cython")
    if target not in ("cython", "numpy"):
        raise BackendError(f"PD14_BRIAN2_CODEGEN must be 'cython' or 'numpy', got {target!r}")
    brian2.prefs.codegen.target = target
    brian2.seed(int(params["seed"]))
    return {"codegen_target": brian2.prefs.codegen.target, "brian2_seed": int(params["seed"])}


def finish_build(sim):
    """Nothing to finalise before the first run."""


def versions():
    import brian2
    return {"brian2": brian2.__version__}


def connect_fixed_total_number(connector, projection):
    """One vectorised connect call with per-synapse weight and delay arrays."""
    sources, targets, weights_pA, delays_ms = connector.draw(projection)
    synapses = projection._brian2_synapses[0][0]
    first = len(synapses)
    synapses.connect(i=sources, j=targets)
    created = slice(first, len(synapses))
    # Synapses keep creation order for array connects; check it, since a silent
    # reordering would scramble weights
    if not (np.array_equal(synapses.i[created], sources)
            and np.array_equal(synapses.j[created], targets)):
        raise RuntimeError("Brian2 reordered synapses on connect; weights cannot be assigned")
    synapses.weight_[created] = weights_pA * 1e-12  # SI: ampere
    synapses.delay_[created] = delays_ms * 1e-3     # SI: second
    projection._n_connections += len(sources)


def poisson_background(sim, population, n_sources, rate_hz, weight_pA, delay_ms, label):
    """PoissonInput (n_sources at rate_hz) onto the excitatory current of every neuron."""
    import brian2
    variable = population.celltype.post_synaptic_variables["excitatory"]
    group = population.brian2_group
    poisson = brian2.PoissonInput(group, variable, N=int(n_sources), rate=rate_hz * brian2.Hz,
                                  weight=f"{float(weight_pA) * 1e-12}*amp")
    sim.simulator.state.network.add(poisson)
    return poisson
