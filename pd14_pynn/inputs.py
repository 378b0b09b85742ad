"""External inputs of the microcircuit: background (Poisson or DC) and thalamus.

Written against the PyNN API. A backend may have a cheaper native
implementation of the Poisson background (``FastPaths.poisson_background``,
for example one generator per population instead of one source per neuron);
it must give every neuron an independent Poisson train with the same rate,
weight and delay.
"""

import numpy as np

from .backends import choose_fast_path


def poisson_background(sim, population, n_sources, rate_hz, weight_pA, delay_ms, label,
                       fast=True):
    """Input from ``n_sources`` independent Poisson sources of ``rate_hz`` to every neuron.

    Each input spike makes a PSC of ``weight_pA`` after ``delay_ms``. The sum
    of n independent Poisson trains is one train of n times the rate, which is
    what the generic path creates (one PyNN source per neuron). Returns what was
    created (a PyNN ``Projection`` on the generic path). ``fast``: True (the
    backend's fast path, if any), False (generic) or the fast path itself.
    """
    native = choose_fast_path(fast, sim, "poisson_background")
    if native is not None:
        return native(sim, population, n_sources, rate_hz, weight_pA, delay_ms, label)
    sources = sim.Population(population.size, sim.SpikeSourcePoisson(rate=n_sources * rate_hz),
                             label=f"{label}_bg")
    return sim.Projection(sources, population, sim.OneToOneConnector(),
                          sim.StaticSynapse(weight=weight_pA * 1e-3, delay=delay_ms),
                          receptor_type="excitatory", label=f"{label}_bg")


def thalamic_population(sim, n_neurons, rate_hz, start_ms, duration_ms, label):
    """The thalamic Poisson population: ``rate_hz`` between start and start + duration."""
    return sim.Population(int(n_neurons),
                          sim.SpikeSourcePoisson(rate=rate_hz, start=start_ms,
                                                 duration=duration_ms),
                          label=label)


def initial_potentials(params, pop_index, size, seed):
    """Initial membrane potentials (mV) of one population, from its own seeded stream."""
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    if params["V0_type"] == "optimized":
        mean = params["V0_mean_optimized_mV"][pop_index]
        sd = params["V0_std_optimized_mV"][pop_index]
    else:
        mean, sd = params["V0_mean_original_mV"], params["V0_std_original_mV"]
    return rng.normal(mean, sd, size)
