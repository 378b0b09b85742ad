"""Rough wall time and peak memory of a study's runs, for its plan.

* :func:`estimate_seconds` -- wall time of one run, from the build times and
  real-time factors measured in docs/performance.md and docs/validation.
* :func:`estimate_memory_bytes` -- peak memory of one run, the estimate the run
  path checks (:mod:`pd14_pynn.resources`).
* :func:`largest_scale` -- the largest N = K on a grid whose memory estimate fits.

The measurements behind them are data here, each beside where it was measured;
:mod:`pd14_pynn.validation.studies` uses them to describe a plan. Nothing here
imports a simulator or starts a run.
"""

import math

from pd14_pynn import backends, parameters, resources

#: memory this study plan assumes (bytes): the 24 GB machine of docs/performance.md,
#: of which a run may take MEMORY_SHARE (the rest: the system and other jobs)
MACHINE_MEMORY_BYTES = 24e9
MEMORY_SHARE = 0.7

# measured, DC background: (synapses, RTF, build s) per simulator at two scales;
# both grow as a power of the synapse count between and beyond them (Poisson
# background: POISSON_RTF_FACTOR). NEST at full scale: the
# full study's seeds 59-62 on a quiet machine (2 threads, 500 + 10,000 ms DC:
# medians create + connect 88.8 s, simulate RTF 59.5; its first run, with other
# work beside it, had 101.7 s and 85.6). Full scale otherwise:
# docs/performance.md (quiet 2-core machine); N = K = 0.2 DC: the runs of
# docs/validation/dc02_10seeds (median RTF; build = wall - presimulation -
# simulation - overhead, rounded); Brian2's cpp_standalone device: the runs of
# docs/validation/standalone_dc02 (N = K = 0.2, 1 thread, build includes the
# 5 s compile of a new seed) and the full-scale benchmark of docs/performance.md
# "Brian2 standalone" (RTF 96.1, build incl. a 56 s compile). NEURON: N = K = 0.2
# on one process (dc02_10seeds) and the full study's N = K = 0.35 run on 2 MPI
# ranks (RTF 95.1, build 64.7 s), times 2 since estimates divide by the ranks
_ANCHORS = {
    "nest": ((11_955_239, 3.96, 3.42), (298_880_968, 59.5, 88.8)),
    "brian2": ((11_955_239, 13.3, 25.0), (298_880_968, 113.25, 86.49)),
    "brian2_standalone": ((11_955_239, 2.7, 5.0), (298_880_968, 96.1, 158.0)),
    "neuron": ((11_955_239, 60.9, 40.0), (36_612_918, 190.3, 129.4)),
    # CoreNEURON: not measured with DC at these scales; the classic anchors, an
    # upper bound (at N = K = 0.1, 600 ms DC: RTF 5.8 against 8.4 including the
    # model hand-over; Poisson: POISSON_RTF_FACTOR below)
    "neuron_coreneuron": ((11_955_239, 60.9, 40.0), (36_612_918, 190.3, 129.4)),
}

# RTF with Poisson background / RTF with DC, measured side by side in the 60 s
# runs of docs/validation/long (N = K = 0.2; medians of the quiet runs): NEST
# 5.33 / 2.87, Brian2 standalone 4.20 / 2.50 (also taken for its runtime device,
# not measured), NEURON on 2 ranks 117.8 / 27.87. NEST at full scale
# gave 101.6 / 59.5 = 1.7 (one Poisson run). NEURON delivers every Poisson input
# spike as an event (a NetStim per neuron), hence its larger factor.
POISSON_RTF_FACTOR = {"nest": 1.86, "brian2": 1.68, "brian2_standalone": 1.68,
                      "neuron": 4.23, "neuron_coreneuron": 4.23 / 7.2}
# CoreNEURON (Poisson input added in the synapse): the classic factor over the
# speed-up measured side by side on the default run (docs/performance.md, "NEURON
# engines": RTF 9.8 against 67.6-74.7), so that Poisson estimates follow it

# per run outside build and simulation: process start, imports, saving, the run's
# own figures (about 8 s measured at N = K = 0.03 on the loaded machine)
RUN_OVERHEAD_S = 10.0


def _synapses(params):
    return resources.model_size(params)[0]


def estimate_seconds(simulator, params, ranks=1):
    """Rough wall time (s) of one run on a quiet 2-core machine: overhead + build + RTF x
    (presimulation + simulation), RTF and build from the DC anchors measured in
    docs/performance.md and docs/validation, the RTF times POISSON_RTF_FACTOR with
    Poisson background (factor-2 accuracy at best; a loaded machine is slower).
    With ``ranks`` MPI processes, build and RTF are divided by the ranks (measured
    2.0x and 2.4x with 2 ranks at N = K = 0.4 on NEURON, docs/mpi.md)."""
    n_syn = _synapses(params)
    anchors = backends.get(simulator).engine(params)
    (syn0, rtf0, build0), (syn1, rtf1, build1) = _ANCHORS[anchors]
    x = math.log(n_syn / syn0) / math.log(syn1 / syn0)
    rtf = rtf0 * (rtf1 / rtf0) ** x
    if params["background"] == "poisson":
        rtf *= POISSON_RTF_FACTOR[anchors]
    build = build0 * (build1 / build0) ** x
    return RUN_OVERHEAD_S + (build + rtf * (params["t_presim_ms"] + params["t_sim_ms"]) * 1e-3
                             ) / ranks


def estimate_memory_bytes(simulator, params):
    """Peak memory estimate of one run (bytes), the one the run path checks."""
    return resources.estimate_memory(backends.get(simulator), params)


def largest_scale(simulator, base_params, limit_bytes, step=0.05):
    """The largest N = K (a multiple of ``step``, at most 1) whose memory estimate
    with ``base_params`` is at most ``limit_bytes``; None if not even ``step`` fits."""
    best = None
    for i in range(1, int(round(1 / step)) + 1):
        scale = round(i * step, 10)
        params = parameters.resolve({**base_params, "N_scaling": scale, "K_scaling": scale})
        if estimate_memory_bytes(simulator, params) <= limit_bytes:
            best = scale
    return best
