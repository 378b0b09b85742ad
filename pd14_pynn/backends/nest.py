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

Longer than 400 lines because each of NEST's fast paths (populations, the two
connection paths, Poisson background, reading connections back) sits beside
the measured reason it exists; they share NEST's bookkeeping of which
population pairs are connected natively.
"""

import importlib.util
import math
import operator
import os
import re
import warnings

import numpy as np

from . import PROGRESS_CHUNKS, Backend, BackendError, FastPaths, chunk_bounds, require

NAME = "nest"
PACKAGE = "nest-simulator"
MAX_CONNECTIONS_PER_THREAD = 134_217_726
# peak RSS estimate: full scale measured 15.2 GB on NEST 3.10, i.e. 51 bytes per
# synapse with everything else included (docs/performance.md); 56 leaves a margin
BYTES_PER_SYNAPSE = 56
BYTES_PER_NEURON = 20_000
# ... for PD14's delays (its longest, ~6 ms). NEST's per-neuron input buffers span
# the longest delay: the multi-area model (inter-area delays of tens of ms) grew
# by 59 and 56 bytes per neuron per 0.1 ms of its longest delay (N = K = 0.01 and
# 0.07, longest delays 38.5 and 49 ms; docs/multi_area.md); counted beyond 6 ms
BYTES_PER_NEURON_PER_DELAY_STEP = 70
DELAY_STEPS_IN_BYTES_PER_NEURON = 60
# memory per recorded spike: NEST's spike_recorder holds 16.7 bytes; with the collection
# into a Neo block and writing it, the peak grew 91.5 bytes per spike
# (run/measure_recording_memory.py, 1.3 million spikes); rounded up
BYTES_PER_RECORDED_SPIKE = 96
# the multimeter keeps sender, time and V_m (24 bytes) per sample, x2 for vector growth
BYTES_PER_V_SAMPLE = 48


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
    """Import pyNN.nest (and NEST)."""
    require("nest", PACKAGE, NAME)
    # PyNN 0.13 reads recorders and parameters with nest.GetStatus, which NEST 3.10
    # deprecates with a two-line UserWarning in the middle of every run's output;
    # the call still works, and it is PyNN's to change
    warnings.filterwarnings("ignore", message=r"\s*GetStatus\(\) is deprecated",
                            category=UserWarning)
    return _import_pynn_nest()


def has_mpi():
    """True/False from NEST's installed config.h; None if it cannot be told.

    Read without importing NEST (the wheel aborts when imported under mpirun).
    pip installs (the wheel, or ``.ci/install-nest-mpi``'s source build) keep the
    header inside the package, ``nest/include/nest/config.h``; a CMake install with
    ``-DCMAKE_INSTALL_PREFIX=P`` puts the package in P/lib/pythonX.Y/site-packages/
    and the header in P/include/nest/.
    """
    spec = importlib.util.find_spec("nest")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        prefix = os.path.join(location, os.pardir, os.pardir, os.pardir, os.pardir)
        for folder in (location, prefix):
            header = os.path.join(folder, "include", "nest", "config.h")
            if os.path.isfile(header):
                with open(header) as handle:
                    return re.search(r"^#define HAVE_MPI\b", handle.read(), re.M) is not None
    return None


def _import_pynn_nest():
    """``pyNN.nest``, without its attempt to compile PyNN's optional NEST extensions.

    On import PyNN runs cmake on its extension module (not used by this model)
    whenever ``nest-config`` is on PATH; with the PyPI wheel that fails after
    ~0.3 s and prints a CMake error. Hiding ``nest-config`` from PyNN's lookup
    for the import skips the attempt.
    """
    import pyNN.core
    find = pyNN.core.find
    pyNN.core.find = lambda command: "" if command == "nest-config" else find(command)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Cannot find nest-config")
            return require("pyNN.nest", "PyNN", NAME)
    finally:
        pyNN.core.find = find


def setup(sim, params, n_synapses):
    """Call ``sim.setup`` for the model; returns the settings used."""
    threads = choose_threads(params, n_synapses)
    _CONNECTED_PAIRS.clear()  # setup() resets the NEST kernel
    sim.setup(timestep=params["resolution_ms"], min_delay="auto", threads=threads,
              rng_seed=int(params["seed"]) + 1, spike_precision="on_grid", verbosity="error")
    return {"threads": threads, "rng_seed": int(params["seed"]) + 1,
            "spike_precision": "on_grid"}


def create_population(sim, size, celltype, label, v_init_mV):
    """A PyNN ``Population`` made with one ``nest.Create`` (parameters and V_m included).

    PyNN's constructor sets the initial values one variable at a time (V_m, and
    I_syn_ex/I_syn_in, which NEST refuses), reads ``local`` and ``global_id`` of
    the whole population, and each ``NodeCollection.set`` reads ``local`` again:
    ~12 calls that each touch every neuron (3.8x bare PyNEST's create time at
    N = K = 0.2, profiled). Here: one Create, as in bare PyNEST.
    """
    if sim.simulator.state.num_processes > 1:
        # under MPI each rank holds a share of every population, and NEST's Create
        # takes no per-neuron list there: PyNN's own constructor handles it
        population = sim.Population(size, celltype, label=label)
        population.initialize(v=v_init_mV)
        return population
    return _native_population_class(sim)(size, celltype, label, v_init_mV)


_POPULATION_CLASSES = {}


def _native_population_class(sim):
    if sim.Population not in _POPULATION_CLASSES:
        import nest
        from pyNN.nest.populations import _build_params
        from pyNN.parameters import LazyArray
        simulator = sim.simulator

        class NativeID(simulator.ID):
            # PyNN asks each ID whether it is local (a NEST call per neuron, e.g.
            # 1 s for 15,000 neurons in Population.record); the population knows
            @property
            def local(self):
                return bool(self.parent._mask_local[int(self) - int(self.parent.first_id)])

        class NativePopulation(sim.Population):
            def __init__(self, size, celltype, label, v_init_mV):
                self._v_init_mV = np.asarray(v_init_mV, dtype=float)
                self._creating = True
                super().__init__(size, celltype, label=label,
                                 initial_values={"v": self._v_init_mV})
                self._creating = False

            def _create_cells(self):
                params = _build_params(self.celltype.native_parameters, None, size=self.size,
                                       extra_parameters=self.celltype.extra_parameters)
                params["V_m"] = self._v_init_mV.tolist()
                model = self.celltype.nest_name[simulator.state.spike_precision]
                self.node_collection = nest.Create(model, self.size, params=params)
                # one Create of one model gives consecutive node IDs
                first = int(self.node_collection[0].global_id)
                self._mask_local = np.ones(self.size, dtype=bool)  # one process
                self.all_cells = np.array([NativeID(gid) for gid in
                                           range(first, first + self.size)], simulator.ID)
                for gid in self.all_cells:
                    gid.parent = self
                    gid.node_collection = nest.NodeCollection([int(gid)])

            def initialize(self, **initial_values):
                if not self._creating:
                    return super().initialize(**initial_values)
                # V_m was set by Create; NEST starts I_syn at 0, PyNN's default
                for variable in ("v", "isyn_exc", "isyn_inh"):
                    value = initial_values.pop(variable, None)
                    if value is None:
                        continue
                    lazy = LazyArray(value, shape=(self.size,), dtype=float)
                    if variable == "v":
                        assert np.array_equal(lazy.evaluate(), self._v_init_mV)
                    elif np.any(lazy.evaluate() != 0):
                        initial_values[variable] = value
                        continue
                    self.initial_values[variable] = lazy
                if initial_values:
                    super().initialize(**initial_values)

        _POPULATION_CLASSES[sim.Population] = NativePopulation
    return _POPULATION_CLASSES[sim.Population]


def finish_build(sim):
    """Connect recorders and build NEST's presynaptic infrastructure now (``Prepare``).

    Without this the work happens inside the first ``Simulate`` and is counted as
    simulation time; the PyNEST reference counts it as part of connecting.
    """
    import nest
    # PyNN 0.13 creates NEST's Poisson spike sources with origin = 1 ms, so their
    # spikes started 1 ms after 'start': the thalamic pulse came at 701-711 ms
    # instead of 700-710 (found by the thalamic study: NEST's response was the
    # latest); Brian2 and NEURON start at 'start'
    for model in ("poisson_generator", "poisson_generator_ps"):
        generators = nest.GetNodes({"model": model}, local_only=True)
        if len(generators):
            generators.set(origin=0.0)
    _connect_parrots(sim)
    sim.run(0)  # PyNN connects its recording devices on the first run call
    nest.Prepare()
    nest.Cleanup()


def _connect_parrots(sim):
    """Connect PyNN's spike sources to their parrot neurons with a one-step delay.

    PyNN's NEST spike sources are a generator and a parrot neuron; PyNN connects
    the two at the first run with NEST's min_delay *then*, the smallest delay in
    the network, and moves spike-array times earlier by the min_delay at
    creation (one step). In a network without one-step delays (e.g.
    ``delay_rel_sd = 0``: min_delay 0.8 ms) every source spike came min_delay
    late: the thalamic pulse at 701.0-710.9 ms instead of 700-710 (measured at
    N = K = 0.02). One step for the parrot, and Poisson windows one step earlier,
    put the parrots' spikes within one step of Brian2's and NEURON's source
    spikes, whatever the network's delays (tests/test_thalamic_timing.py).
    """
    import nest
    step = nest.resolution
    for population in sim.state.populations:
        if not getattr(population, "_deferred_parrot_connections", False):
            continue
        generators = population.node_collection_source
        nest.Connect(generators, population.node_collection, "one_to_one",
                     syn_spec={"delay": step})
        population._deferred_parrot_connections = False
        # generators are devices: NEST keeps them on every process
        if generators[0].get("model").startswith("poisson_generator"):
            start = np.atleast_1d(generators.get("start"))
            stop = np.atleast_1d(generators.get("stop"))
            early = start >= step
            generators.set(start=list(np.where(early, start - step, start)),
                           stop=list(np.where(early & np.isfinite(stop), stop - step, stop)))


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
        weight = _redrawn_normal(spec.weight_mean_pA, spec.weight_sd_pA, 0.0, math.inf)
    else:
        weight = _redrawn_normal(spec.weight_mean_pA, spec.weight_sd_pA, -math.inf, 0.0)
    # redraw below one step; NEST then rounds every delay to the nearest step
    delay = _redrawn_normal(spec.delay_mean_ms, spec.delay_sd_ms, dt, math.inf)
    nest.Connect(projection.pre.node_collection, projection.post.node_collection,
                 {"rule": "fixed_total_number", "N": int(spec.n_synapses),
                  "allow_autapses": True, "allow_multapses": True},
                 {"synapse_model": "static_synapse", "weight": weight, "delay": delay})


def _redrawn_normal(mean, sd, low, high):
    """NEST's normal parameter redrawn into [low, high]; the mean itself where sd = 0
    (NEST's normal distribution requires sd > 0)."""
    import nest
    if sd == 0:
        return float(mean)
    return nest.math.redraw(nest.random.normal(mean, sd), min=low, max=high)


# Connections NEST drew are read back per source population, one GetConnections
# call per slice of its neurons. Each call walks every connection of this process
# (NEST checks each one's source: ~9 ns per connection at 2 threads, measured on
# 1e7 connections, so ~2.5 s a call at full scale) and returns one Python object
# per connection found (~70 bytes): calls of ~4e6 connections bound both.
READ_CALL = 4_000_000
# NEST 3.10 gives connection properties only as one dict per connection
# (llapi_get_connection_status; no call returns arrays): ~4-4.5 us per connection
# asked for 100-500 at a time, ~6 us for 2000 at a time (measured, 2 threads)
STATUS_PIECE = 250
_STATUS = np.dtype([("source", np.int64), ("target", np.int64), ("target_thread", np.int64),
                    ("weight", np.float64), ("delay", np.float64)])


def read_connections(projections):
    """Every connection of ``projections``, as pieces ``(projection, (sources, targets,
    weights_pA, delays_ms))`` with population indices.

    Drawn or given arrays come from the connector, one piece per projection.
    Connections NEST drew are read back from NEST, source population by source
    population: ``GetConnections`` given targets as well compares each connection
    found with every target in turn (``std::find``: ~5 us per connection onto
    2e4 neurons), so it gets the sources only and the connections are sorted
    into projections here. A projection's pieces come in NEST's storage order
    (thread by thread), the same on every read of the same network. One process
    only (``check_save_connectivity``).
    """
    native = {}
    for projection in projections:
        if projection._connector.rng == "native" and \
                getattr(projection, "nest_synapse_model", None):
            native.setdefault(id(projection.pre), []).append(projection)
        else:
            yield projection, projection._connector.draw(projection, local_only=False)
    for group in native.values():
        yield from _read_native(group)


def _read_native(projections):
    """The pieces of NEST-drawn ``projections`` that share one source population."""
    import nest
    pre, model = projections[0].pre, projections[0].nest_synapse_model
    if {p.nest_synapse_model for p in projections} != {model} or \
            len({id(p.post) for p in projections}) < len(projections):
        raise BackendError(f"cannot read back the connections from {pre.label}: two "
                           f"projections onto one population, or two synapse models")
    pre_ids = np.asarray(pre.all_cells, dtype=np.int64)
    # every target's node ID -> its projection and index in its population, by node ID
    post_ids = [np.asarray(p.post.all_cells, dtype=np.int64) for p in projections]
    order = np.argsort(np.concatenate(post_ids), kind="stable")
    ids = np.concatenate(post_ids)[order]
    owner = np.repeat(np.arange(len(projections)), [len(x) for x in post_ids])[order]
    index = np.concatenate([np.arange(len(x)) for x in post_ids])[order]
    index_type = np.int32 if max(len(pre_ids), len(ids)) < 2**31 else np.int64
    n_total = max(sum(int(p._connector.spec.n_synapses) for p in projections), 1)
    step = max(1, int(len(pre_ids) * READ_CALL / n_total))
    for first in range(0, len(pre_ids), step):
        sources = pre.node_collection[first:min(first + step, len(pre_ids))]
        connections = nest.GetConnections(sources, synapse_model=model)
        table = _status_table(connections._datum or [])
        del connections
        at = np.minimum(np.searchsorted(ids, table["target"]), len(ids) - 1)
        # connections onto populations outside ``projections`` (recorders) go last;
        # by projection, then by thread: NEST appends its threads' connections in
        # whichever order the threads finish (a stable sort of 16-bit keys is a radix sort)
        threads = int(table["target_thread"].max(initial=0)) + 1
        key = np.where(ids[at] == table["target"], owner[at], len(projections)) * threads \
            + table["target_thread"]
        small = (len(projections) + 1) * threads <= 2**16
        order = np.argsort(key.astype(np.uint16) if small else key, kind="stable")
        table, at, key = table[order], at[order], key[order]
        bounds = np.searchsorted(key, np.arange(len(projections) + 1) * threads)
        for k, projection in enumerate(projections):
            part, where = table[bounds[k]:bounds[k + 1]], at[bounds[k]:bounds[k + 1]]
            yield projection, (np.searchsorted(pre_ids, part["source"]).astype(index_type),
                               index[where].astype(index_type),
                               np.ascontiguousarray(part["weight"]),
                               np.ascontiguousarray(part["delay"]))


def _status_table(connections):
    """Source, target, thread, weight and delay of NEST ``ConnectionObject``s, as
    one structured array (NEST's dicts are made ``STATUS_PIECE`` at a time)."""
    from nest import nestkernel_api
    keys = operator.itemgetter(*_STATUS.names)
    table = np.empty(len(connections), dtype=_STATUS)
    for first in range(0, len(connections), STATUS_PIECE):
        status = nestkernel_api.llapi_get_connection_status(
            connections[first:first + STATUS_PIECE])
        table[first:first + len(status)] = np.fromiter(map(keys, status), dtype=_STATUS,
                                                       count=len(status))
    return table


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


class NestBackend(Backend):
    """The runner's hooks for NEST (module functions above)."""
    PYNN_MODULE = "pyNN.nest"  # NAME, PACKAGE, BYTES_PER_*: this module's

    def check(self, params, n_synapses):
        choose_threads(params, n_synapses)

    def check_launch(self, ranks):
        if has_mpi() is False:
            raise BackendError(
                "the installed NEST (the PyPI wheel) has no MPI support and aborts under "
                "mpirun; run without mpirun and use --threads, or build NEST with "
                "-Dwith-mpi=ON (see docs/mpi.md)")

    def check_save_connectivity(self, ranks):
        if ranks > 1:
            raise BackendError("--save-connectivity with NEST under MPI is not supported: "
                               "each rank holds only its share of the connections")

    def fast_paths(self, sim):
        return FastPaths(create_population=create_population,
                         connect=connect_fixed_total_number,
                         poisson_background=poisson_background)

    import_simulator = staticmethod(import_simulator)
    setup = staticmethod(setup)
    finish_build = staticmethod(finish_build)
    read_connections = staticmethod(read_connections)
    run = staticmethod(run)
    versions = staticmethod(versions)


BACKEND = NestBackend()
