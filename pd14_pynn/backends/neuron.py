"""NEURON backend: setup options.

* PyNN compiles its NMODL mechanisms with ``nrnivmodl`` on first import; the
  virtual environment's ``bin`` must be on ``PATH`` for that, so it is added.
* Random numbers of the simulation (Poisson sources) are seeded with
  ``native_rng_baseseed``.
* Connections use the generic path (numpy draw, then PyNN's per-target
  ``_convergent_connect``): every synapse is a NEURON ``NetCon`` plus a PyNN
  ``Connection`` object.
"""

import os
import sys

from . import require

NAME = "neuron"
PACKAGE = "neuron"
BYTES_PER_SYNAPSE = 700
BYTES_PER_NEURON = 60_000


def import_simulator():
    """Import pyNN.neuron, making sure nrnivmodl can be found."""
    bin_dir = os.path.dirname(sys.executable)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
    require("neuron", PACKAGE, NAME)
    return require("pyNN.neuron", "PyNN", NAME)


def setup(sim, params, n_synapses):
    """Call ``sim.setup`` for the model; returns the settings used."""
    sim.setup(timestep=params["resolution_ms"], min_delay=params["resolution_ms"],
              native_rng_baseseed=int(params["seed"]))
    return {"native_rng_baseseed": int(params["seed"])}


def finish_build(sim):
    """Nothing to finalise before the first run."""


def versions():
    import neuron
    return {"neuron": neuron.__version__}
