"""NEST backend: setup options and native fast paths.

* ``spike_precision="on_grid"``: PyNN's NEST default would switch to
  precise-spike-time neurons (``iaf_psc_exp_ps``), which is not the model.
* NEST allows at most 134,217,726 connections per virtual process (thread):
  :func:`threads_needed` picks enough threads, or the run stops before building.
* Connections: NEST's own ``fixed_total_number`` rule with NEST's random
  parameters (``nest.math.redraw(nest.random.normal(...))``); nothing is pulled
  back into Python. The network is then drawn by NEST's RNG (seeded by
  ``rng_seed``), so it depends on the seed and on the number of threads.
  With ``connectivity_rng="numpy"`` the numpy-drawn arrays (the network Brian2
  and NEURON build for the same seed) are connected one-to-one in one
  ``Connect`` call per projection instead.
* Poisson background: one ``poisson_generator`` per population, connected to
  all its neurons (each target gets an independent train), as in the PyNEST
  reference implementation.
* MPI (a NEST built with ``-Dwith-mpi=ON``, ``.ci/install-nest-mpi``): NEST
  places neuron ``i`` on virtual process ``i % (ranks x threads)`` and gives
  every virtual process its own random streams (connections, Poisson trains),
  so results depend on ranks x threads, not on how they are split.
"""

import math
import os

import numpy as np

from . import BackendError, chunk_bounds, require

NAME = "nest"
PACKAGE = "nest-simulator"
MAX_CONNECTIONS_PER_THREAD = 134_217_726
# peak RSS estimate: full scale measured 15.2 GB on NEST 3.10, i.e. 51 bytes per
# synapse with everything else included (docs/performance.md); 56 leaves a margin
BYTES_PER_SYNAPSE = 56
BYTES_PER_NEURON = 20_000


def threads_needed(n_synapses, processes=1):
    """Minimum threads per MPI process for NEST's per-virtual-process connection limit."""
    return max(1, math.ceil(n_synapses / (MAX_CONNECTIONS_PER_THREAD * processes)))


def available_cores():
    """Cores this process may run on (under mpirun: the cores its rank is bound to)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def choose_threads(params, n_synapses):
    """Threads per process: the requested number (checked) or max(cores, needed).

    The connection limit is per virtual process, so under MPI it is checked
    against ranks x threads.
    """
    from ..parallel import launcher_size
    needed = threads_needed(n_synapses, launcher_size())
    requested = params["threads"]
    if requested is None:
        return max(needed, min(available_cores(), 8))
    if requested < needed:
        ranks = launcher_size()
        per = f" per process ({ranks} MPI processes)" if ranks > 1 else ""
        raise BackendError(
            f"NEST needs at least {needed} threads{per} for {n_synapses:,} synapses "
            f"(limit {MAX_CONNECTIONS_PER_THREAD:,} connections per virtual process, "
            f"i.e. per thread of each process); use --threads {needed} or more")
    return int(requested)


def import_simulator():
    """Import pyNN.nest (and NEST) and register the fast paths."""
    require("nest", PACKAGE, NAME)
    sim = require("pyNN.nest", "PyNN", NAME)
    from .. import connectors, inputs
    connectors.register_fast_path(sim.simulator.__name__, connect_fixed_total_number)
    inputs.register_poisson_background(sim.simulator.__name__, poisson_background)
    return sim


def setup(sim, params, n_synapses):
    """Call ``sim.setup`` for the model; returns the settings used."""
    threads = choose_threads(params, n_synapses)
    _CONNECTED_PAIRS.clear()  # setup() resets the NEST kernel
    sim.setup(timestep=params["resolution_ms"], min_delay="auto", threads=threads,
              rng_seed=int(params["seed"]) + 1, spike_precision="on_grid", verbosity="error")
    return {"threads": threads, "rng_seed": int(params["seed"]) + 1,
            "spike_precision": "on_grid"}


def finish_build(sim):
    """Connect recorders and build NEST's presynaptic infrastructure now (``Prepare``).

    Without this the work happens inside the first ``Simulate`` and is counted as
    simulation time; the PyNEST reference counts it as part of connecting.
    """
    import nest
    sim.run(0)  # PyNN connects its recording devices on the first run call
    nest.Prepare()
    nest.Cleanup()


PROGRESS_CHUNKS = 10


def run(sim, duration_ms, progress=None, n_chunks=PROGRESS_CHUNKS):
    """Advance by ``duration_ms``: one ``Prepare``, ``nest.Run`` per progress step, one
    ``Cleanup``; returns the simulated time reached (ms).

    ``sim.run`` would call ``nest.Simulate`` per step, i.e. Prepare/Run/Cleanup
    each time. PyNN's own bookkeeping is kept: devices are connected by
    ``state.run(0)``, and the first run goes one ``min_delay`` further, as
    ``pyNN.nest`` does, so that recorders have every spike up to the end.
    ``progress(done_ms)`` returning True stops after that step.
    """
    import nest
    state = sim.simulator.state
    state.run(0)
    extra_ms = 0.0
    if not state.running:
        extra_ms = state.min_delay
        state.running = True
    dt = state.dt
    done_steps = 0
    nest.Prepare()
    try:
        for end_steps in chunk_bounds(duration_ms, dt, n_chunks):
            nest.Run((end_steps - done_steps) * dt + extra_ms)
            extra_ms, done_steps = 0.0, end_steps
            if progress is not None and progress(done_steps * dt):
                break
    finally:
        nest.Cleanup()
    return done_steps * dt


def versions():
    import nest
    return {"nest": nest.__version__}


def connect_fixed_total_number(connector, projection):
    """NEST's fixed_total_number rule (or the numpy-drawn arrays, ``rng="numpy"``).

    Connections use plain ``static_synapse``: PyNN's own choice,
    ``static_synapse_lbl``, carries a label per synapse that costs ~8 bytes and
    makes ``Connect`` ~1.8x slower (measured with NEST 3.10, 1e7 synapses). The
    projection then finds its connections by source, target and model, so two
    native projections between the same pair of populations are refused.
    """
    spec = connector.spec
    pair = (_first_id(projection.pre), _first_id(projection.post))
    if pair in _CONNECTED_PAIRS:
        raise BackendError(f"a second native projection {projection.label!r} between the same "
                           f"two populations; merge them or pass fast=False")
    _CONNECTED_PAIRS.add(pair)
    if connector.rng == "numpy":
        _connect_drawn(connector, projection)
    else:
        _connect_native(spec, projection)
    projection.__class__ = _native_projection_class(type(projection))
    projection.nest_synapse_model = "static_synapse"


def _connect_drawn(connector, projection):
    """The numpy-drawn connections, as arrays of node IDs, one-to-one.

    Under MPI every rank draws the whole projection (same stream) and passes only
    the connections onto its own neurons. NEST's array ``Connect`` would also
    accept the full arrays on every rank (it skips targets that live on other
    ranks, ``ConnectionManager::connect_arrays``), but each of its threads walks
    the whole array; passing the local share keeps NEST's work per rank at
    1/ranks. Filtering keeps the order, so each target gets its connections in
    the same order however the work is split.
    """
    import nest
    sources, targets, weights_pA, delays_ms = connector.draw(projection, local_only=False)
    if projection.post._simulator.state.num_processes > 1:
        # NodeCollection.local is one bool for a single node, else one per node
        local = np.broadcast_to(np.asarray(projection.post.node_collection.local, dtype=bool),
                                (projection.post.size,))[targets]
        sources, targets = sources[local], targets[local]
        weights_pA, delays_ms = weights_pA[local], delays_ms[local]
    pre_ids = np.asarray(projection.pre.node_collection.tolist())
    post_ids = np.asarray(projection.post.node_collection.tolist())
    nest.Connect(pre_ids[sources], post_ids[targets], "one_to_one",
                 {"synapse_model": "static_synapse", "weight": weights_pA, "delay": delays_ms})


def _connect_native(spec, projection):
    """NEST's fixed_total_number rule; weights and delays drawn by NEST."""
    import nest
    dt = spec.resolution_ms
    if spec.weight_mean_pA >= 0:
        weight = nest.math.redraw(nest.random.normal(spec.weight_mean_pA, spec.weight_sd_pA),
                                  min=0.0, max=math.inf)
    else:
        weight = nest.math.redraw(nest.random.normal(spec.weight_mean_pA, spec.weight_sd_pA),
                                  min=-math.inf, max=0.0)
    # redraw below one step; NEST then rounds every delay to the nearest step
    delay = nest.math.redraw(nest.random.normal(spec.delay_mean_ms, spec.delay_sd_ms),
                             min=dt, max=math.inf)
    nest.Connect(projection.pre.node_collection, projection.post.node_collection,
                 {"rule": "fixed_total_number", "N": int(spec.n_synapses),
                  "allow_autapses": True, "allow_multapses": True},
                 {"synapse_model": "static_synapse", "weight": weight, "delay": delay})


_CONNECTED_PAIRS = set()
_NATIVE_CLASSES = {}


def _first_id(population):
    return int(population.all_cells[0])


def _native_projection_class(base):
    """A subclass of PyNN's NEST Projection that finds unlabelled connections.

    Only the connection lookup changes; PyNN's ``get``/``set``/``__len__`` work on
    top of it. Not cached: it is only used to inspect a projection.
    """
    if base not in _NATIVE_CLASSES:
        import nest

        class NativeProjection(base):
            @property
            def nest_connections(self):
                return nest.GetConnections(self.pre.node_collection,
                                           self.post.node_collection,
                                           synapse_model=self.nest_synapse_model)

            def __len__(self):
                return len(nest.GetConnections(self.pre.node_collection,
                                               self.post.local_node_collection,
                                               synapse_model=self.nest_synapse_model))

        _NATIVE_CLASSES[base] = NativeProjection
    return _NATIVE_CLASSES[base]


def poisson_background(sim, population, n_sources, rate_hz, weight_pA, delay_ms, label):
    """One poisson_generator for the whole population (independent train per target)."""
    import nest
    generator = nest.Create("poisson_generator", params={"rate": float(n_sources * rate_hz)})
    nest.Connect(generator, population.node_collection, "all_to_all",
                 {"synapse_model": "static_synapse", "weight": float(weight_pA),
                  "delay": float(delay_ms)})
    return generator
