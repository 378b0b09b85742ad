"""NEURON backend: setup options, weight correction and fast paths.

* PyNN compiles its NMODL mechanisms with ``nrnivmodl`` on first import; the
  virtual environment's ``bin`` must be on ``PATH`` for that, so it is added.
* Poisson background: one ``NetStim`` per neuron whose Random123 stream is
  keyed by (seed, gid, circuit): the same trains whatever the number of MPI
  ranks (PyNN's ``SpikeSourcePoisson`` seeds by rank). Thalamic sources still
  use PyNN's ``SpikeSourcePoisson`` (``native_rng_baseseed`` = seed), so with
  ``--thalamic`` spikes depend on the number of ranks.
* Weights are multiplied by :func:`charge_correction` (0.906 at dt = 0.1 ms,
  tau_syn = 0.5 ms): NEURON's fixed-step integration of PyNN's current-based
  synapse injects 10 % too much charge per event at this resolution. ``get()``
  reports the model's weights.
* Connections: the projection is drawn with numpy (the same arrays as on
  Brian2) and every synapse becomes one ``NetCon`` made with
  ``ParallelContext.gid_connect``, without PyNN's per-synapse ``Connection``
  object (a Python object with a ``__dict__``, several hundred bytes). The
  projection keeps the NetCons and the index arrays, so ``len()`` and ``get()``
  still work; ``get()`` reads weight and delay back from the NetCons.
* ``fast=False`` (PyNN's generic path) gets neither the weight correction nor the
  delay epsilon: it is kept only for comparisons.
* Engines (parameter ``neuron_engine``, CLI ``--neuron-engine``, environment
  ``PD14_NEURON_ENGINE``): ``coreneuron`` (default where NEURON has it and the run
  needs nothing it lacks: see :mod:`.neuron_coreneuron`) or ``classic`` (NEURON's
  own solver, PyNN's cells). Both give the same spikes.
* Poisson background (``neuron_poisson``, CLI ``--neuron-poisson``): ``netstim``
  (below; default on the classic engine) or ``synapse`` (default on CoreNEURON):
  the same Poisson train per neuron, from the same Random123 draws, added inside
  its excitatory synapse each time step instead of through a NetStim's two queue
  events per input spike (simulation 3x faster on CoreNEURON at N = K = 0.1).
  Within a step the background is summed after the queued events, not in time
  order among them, so the sums can differ in the last bit; the spikes were
  identical in every comparison made (golden case, the default run).
* Threads (``threads``, default 1): ``ParallelContext.nthread``, combined with MPI
  ranks. NEURON's fixed-step threads need every connection delay to be at least
  two time steps ("usable mindelay" = minimum delay - dt); this model draws delays
  down to one step whenever ``delay_rel_sd`` > 0, so there more than one thread is
  refused before building (use MPI ranks, docs/mpi.md).
"""

import importlib.util
import math
import os
import sys

import numpy as np

from . import PROGRESS_CHUNKS, Backend, BackendError, FastPaths, chunk_bounds, require
from . import neuron_coreneuron

ENGINES = ("coreneuron", "classic")

NAME = "neuron"
PACKAGE = "neuron"
# measured: 0.44 GB at N=K=0.05 and 1.33 GB at 0.1 (fast path), i.e. ~370 bytes per
# synapse (NetCon + its Python reference + index arrays); 400 leaves a margin
BYTES_PER_SYNAPSE = 400
BYTES_PER_NEURON = 20_000
# memory per recorded spike: PyNN's hoc Vectors holds 8.2 bytes; with the collection
# into a Neo block and writing it, the peak grew 124.0 bytes per spike
# (run/measure_recording_memory.py, 1.3 million spikes); rounded up
BYTES_PER_RECORDED_SPIKE = 128
# v: one double per sample in an hoc Vector, x2 for vector growth
BYTES_PER_V_SAMPLE = 16


def import_simulator():
    """Import pyNN.neuron, making sure nrnivmodl can be found."""
    bin_dir = os.path.dirname(sys.executable)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
    from ..parallel import launcher_size
    if launcher_size() > 1:
        # NEURON joins MPI only if MPI is initialised before it is imported
        require("mpi4py.MPI", "mpi4py", NAME)
    require("neuron", PACKAGE, NAME)
    return require("pyNN.neuron", "PyNN", NAME)


def choose_engine(params):
    """The engine of a run: the parameter, else $PD14_NEURON_ENGINE, else
    ``coreneuron`` where it is available and the run needs nothing it lacks,
    else ``classic``."""
    engine = params.get("neuron_engine") or os.environ.get("PD14_NEURON_ENGINE")
    if engine is None:
        usable = neuron_coreneuron.available() and coreneuron_limits(params) is None
        return "coreneuron" if usable else "classic"
    if engine not in ENGINES:
        raise BackendError(f"unknown NEURON engine {engine!r}; choose one of {', '.join(ENGINES)}")
    return engine


def coreneuron_limits(params):
    """Why the CoreNEURON engine cannot run ``params`` (a sentence), or None."""
    from ..parallel import launcher_size
    if params.get("thalamic_input"):
        return ("the thalamic input uses PyNN's SpikeSourcePoisson, which is not compiled "
                "for CoreNEURON")
    if launcher_size() > 1 and one_step_delays_possible(params):
        # measured (NEURON 9.0.2, dt 0.1 ms, two cells on 2 ranks): CoreNEURON's spike
        # exchange stops with "usable mindelay is 0" for delays below 0.2 ms and runs
        # from 0.2 ms on, like NEURON's threads; classic NEURON runs one-step delays
        return ("CoreNEURON's spike exchange between MPI ranks needs every delay to be at "
                "least two time steps, and this model draws one-step delays")
    return None


def choose_threads(params):
    """Threads per process: the parameter, else 1."""
    return 1 if params.get("threads") is None else int(params["threads"])


def choose_poisson(params, engine):
    """How the Poisson background is delivered: the parameter, else ``synapse`` on
    CoreNEURON (2-3x faster simulation there) and ``netstim`` on the classic engine
    (PyNN's cells, unchanged)."""
    return params.get("neuron_poisson") or ("synapse" if engine == "coreneuron" else "netstim")


def one_step_delays_possible(params):
    """True if the model can draw a connection delay shorter than two time steps."""
    shortest = min(params["delay_exc_mean_ms"], params["delay_inh_mean_ms"])
    return params["delay_rel_sd"] > 0 or shortest < 2 * params["resolution_ms"] - 1e-9


def check(params):
    """Refuse an engine or thread count that cannot work, before anything is built;
    returns the engine."""
    engine = choose_engine(params)
    if params.get("neuron_poisson") == "synapse" and not neuron_coreneuron.available():
        raise BackendError("--neuron-poisson synapse needs nrnivmodl-core (the 'neuron' "
                           "wheel from PyPI has it) to compile its mechanism")
    if engine == "coreneuron":
        if not neuron_coreneuron.available():
            raise BackendError("--neuron-engine coreneuron needs NEURON with CoreNEURON "
                               "(nrnivmodl-core, in the 'neuron' wheel from PyPI); use "
                               "--neuron-engine classic")
        why = coreneuron_limits(params)
        if why:
            raise BackendError(f"--neuron-engine coreneuron: {why}; use --neuron-engine classic")
    threads = choose_threads(params)
    if threads > 1 and one_step_delays_possible(params):
        raise BackendError(
            f"--threads {threads}: NEURON runs threads only if every delay is at least two "
            f"time steps ({2 * params['resolution_ms']:g} ms), and this model draws delays "
            "down to one step (delay_rel_sd > 0). Use MPI ranks instead, e.g. "
            f"'mpirun -np {threads} python run/main.py neuron ...' (docs/mpi.md)")
    return engine


def setup(sim, params, n_synapses):
    """Call ``sim.setup`` for the model, choose the engine and the threads; returns
    the settings used."""
    engine, threads = check(params), choose_threads(params)
    sim.setup(timestep=params["resolution_ms"], min_delay=params["resolution_ms"],
              native_rng_baseseed=int(params["seed"]))
    state = sim.simulator.state
    state.pd14_engine = engine
    # chosen by the user, not by default: a network CoreNEURON cannot run is then an error
    state.pd14_engine_requested = bool(params.get("neuron_engine")
                                       or os.environ.get("PD14_NEURON_ENGINE"))
    settings = {"engine": engine, "threads": threads,
                "native_rng_baseseed": int(params["seed"]),
                "weight_factor": charge_correction(params["resolution_ms"], params["tau_syn_ms"])}
    state.pd14_poisson = choose_poisson(params, engine)
    state.pd14_poisson_in_synapse = set()   # populations whose synapse draws a train
    settings["poisson"] = state.pd14_poisson
    if engine == "coreneuron" or state.pd14_poisson == "synapse":
        import neuron
        folder = neuron_coreneuron.compiled_mechanisms(
            neuron.__version__, say=print if state.mpi_rank == 0 else (lambda *a: None))
        neuron_coreneuron.load(sim, folder)
        settings["mechanisms"] = folder
    state.parallel_context.nthread(threads)
    return settings


def finish_build(sim):
    """Nothing to finalise before the first run (CoreNEURON checks the network
    when it first runs: :func:`.neuron_coreneuron.prepare`)."""


def create_population(sim, size, celltype, label, v_init_mV):
    """A PyNN ``Population``; on CoreNEURON, or with the Poisson background in the
    synapse, its cells are :mod:`.neuron_coreneuron`'s (the same spikes as PyNN's)."""
    state = sim.simulator.state
    if getattr(state, "pd14_engine", "classic") == "coreneuron" or \
            getattr(state, "pd14_poisson", "netstim") == "synapse":
        celltype = neuron_coreneuron.celltype(sim, celltype)
    population = sim.Population(size, celltype, label=label)
    population.initialize(v=v_init_mV)
    return population


def run(sim, duration_ms, progress=None, n_chunks=None):
    """Advance by ``duration_ms`` in ``n_chunks`` ``sim.run`` calls (default: classic
    NEURON, which has no fixed cost per call, 10; CoreNEURON, which copies the
    model in and out per call, as few as :func:`.neuron_coreneuron.run` allows);
    ``progress(done_ms)`` after each, True stops. Returns ms reached."""
    try:
        if neuron_coreneuron.prepare(sim):
            return neuron_coreneuron.run(sim, duration_ms, progress, n_chunks or 1)
        dt = sim.get_time_step()
        done_steps = 0
        for end_steps in chunk_bounds(duration_ms, dt, n_chunks or PROGRESS_CHUNKS):
            sim.run((end_steps - done_steps) * dt)
            done_steps = end_steps
            if progress is not None and progress(done_steps * dt):
                break
        return done_steps * dt
    except RuntimeError as err:
        if "usable mindelay" not in str(err):
            raise
        threads = int(sim.simulator.state.parallel_context.nthread())
        raise BackendError(f"NEURON refused to run on {threads} threads: a connection delay "
                           "is shorter than two time steps; run with --threads 1 (or on MPI "
                           "ranks, docs/mpi.md)") from err


def versions():
    import neuron
    return {"neuron": neuron.__version__}


def charge_correction(resolution_ms, tau_syn_ms):
    """Factor for NEURON weights so that a synaptic event injects the exact charge.

    PyNN's current-based synapse on NEURON's fixed-step method injects w dt per step
    while the current decays by exp(-dt/tau_s) per step: a total charge of
    w dt / (1 - exp(-dt/tau_s)) instead of the exact w tau_s, +10.4 % at
    dt = 0.1 ms, tau_s = 0.5 ms. Measured PSP peaks for the model's 87.81 pA:
    0.1648 mV on NEURON (0.1536 mV at dt = 0.025) against 0.1500 mV on NEST and
    Brian2 (exact integration). Weights are multiplied by the inverse ratio.
    """
    x = resolution_ms / tau_syn_ms
    return (1.0 - math.exp(-x)) / x


# NEURON's parallel spike exchange refuses a minimum delay that equals the time
# step (one-step delays, 0.1 ms, exist in this model: "mindelay is 0 (or less
# than dt)"). A nanosecond more is delivered in the same step by the fixed-step
# method (events are delivered within half a step), so spikes do not change; it
# is added with or without MPI so that results do not depend on the rank count.
DELAY_EPSILON_MS = 1e-6


def connect_fixed_total_number(connector, projection):
    """One NetCon per synapse, drawn with numpy; no PyNN Connection objects."""
    sources, targets, weights_pA, delays_ms = connector.draw(projection)  # local targets only
    order = np.argsort(targets, kind="stable")
    sources, targets = sources[order], targets[order]
    weights_nA, delays_ms = weights_pA[order] * 1e-3, delays_ms[order]
    gid_connect = projection._simulator.state.parallel_context.gid_connect
    factor = charge_correction(connector.spec.resolution_ms, _tau_syn(projection))
    weights_nA = weights_nA * factor
    pre_gids = np.asarray(projection.pre.all_cells, dtype=np.int64)
    post_cells = projection.post.all_cells
    receptor = projection.receptor_type
    netcons = []
    target_object, current = None, -1
    for src, tgt, weight, delay in zip(sources.tolist(), targets.tolist(),
                                       weights_nA.tolist(), delays_ms.tolist()):
        if tgt != current:
            target_object, current = getattr(post_cells[tgt]._cell, receptor), tgt
        netcon = gid_connect(int(pre_gids[src]), target_object)
        netcon.weight[0] = weight
        netcon.delay = delay + DELAY_EPSILON_MS
        netcons.append(netcon)
    projection._netcons = netcons
    projection._weight_factor = factor
    projection._pre_index = sources
    projection._post_index = targets
    projection.__class__ = _native_projection_class(type(projection))


class _Synapse:
    """A read-only view of one NetCon, answering what PyNN asks a Connection."""
    __slots__ = ("presynaptic_index", "postsynaptic_index", "_netcon", "_factor")

    def __init__(self, pre, post, netcon, factor):
        self.presynaptic_index, self.postsynaptic_index = pre, post
        self._netcon, self._factor = netcon, factor

    @property
    def weight(self):
        # the model's weight, without the charge correction
        return self._netcon.weight[0] / self._factor

    @property
    def delay(self):
        # the model's delay: the NetCon holds DELAY_EPSILON_MS more (see there),
        # which the fixed-step method delivers in the same time step
        return self._netcon.delay - DELAY_EPSILON_MS

    def as_tuple(self, *names):
        return tuple(getattr(self, name) for name in names)


_NATIVE_CLASSES = {}


def _native_projection_class(base):
    if base not in _NATIVE_CLASSES:
        class NativeProjection(base):
            def __len__(self):
                return len(self._netcons)

            @property
            def connections(self):
                for pre, post, netcon in zip(self._pre_index.tolist(),
                                             self._post_index.tolist(), self._netcons):
                    yield _Synapse(pre, post, netcon, self._weight_factor)

        _NATIVE_CLASSES[base] = NativeProjection
    return _NATIVE_CLASSES[base]


def poisson_background(sim, population, n_sources, rate_hz, weight_pA, delay_ms, label):
    """One NetStim (Poisson, Random123) per local neuron onto its excitatory synapse;
    with ``neuron_poisson`` = "synapse", the same train drawn inside that synapse
    (:func:`.neuron_coreneuron.poisson_in_synapse`). A synapse draws one train: a
    population's further Poisson inputs (a multi-area model's replaced areas) get
    NetStims, which draw the same numbers as the synapse would."""
    import zlib
    from neuron import h
    state = sim.simulator.state
    seed = int(state.native_rng_baseseed)
    stream = zlib.crc32(label.encode()) & 0x7FFFFFFF
    interval_ms = 1000.0 / (n_sources * rate_hz)
    weight_nA = weight_pA * 1e-3 * charge_correction(sim.get_time_step(), _tau_syn(population))
    in_synapse = getattr(state, "pd14_poisson_in_synapse", set())
    if getattr(state, "pd14_poisson", "netstim") == "synapse" and \
            id(population) not in in_synapse:
        neuron_coreneuron.poisson_in_synapse(sim, population, interval_ms, weight_nA, delay_ms,
                                             stream)
        state.pd14_poisson_in_synapse = in_synapse | {id(population)}
        return None
    kept = []
    for cell in population.local_cells:
        stim = h.NetStim()
        stim.interval, stim.number, stim.start, stim.noise = interval_ms, 1e9, 0.0, 1.0
        stim.noiseFromRandom123(seed, int(cell), stream)
        netcon = h.NetCon(stim, cell._cell.excitatory)
        netcon.weight[0] = weight_nA
        netcon.delay = delay_ms
        kept.append((stim, netcon))
    return kept


def _tau_syn(target):
    """The (single) synaptic time constant (ms) of a projection's target population."""
    population = getattr(target, "post", target)
    values = np.unique(np.concatenate([np.atleast_1d(population.get("tau_syn_E")),
                                       np.atleast_1d(population.get("tau_syn_I"))]))
    if len(values) != 1:
        raise ValueError("the NEURON charge correction needs one tau_syn per population")
    return float(values[0])


class NeuronBackend(Backend):
    """The runner's hooks for NEURON (module functions above)."""
    PYNN_MODULE = "pyNN.neuron"  # NAME, PACKAGE, BYTES_PER_*: this module's

    def check(self, params, n_synapses):
        check(params)

    def engine(self, params):
        return NAME if choose_engine(params) == "classic" else "neuron_coreneuron"

    def check_launch(self, ranks):
        if ranks > 1 and importlib.util.find_spec("mpi4py") is None:
            raise BackendError("NEURON under mpirun needs mpi4py for PyNN; "
                               "install it with 'pip install mpi4py' (or '.[mpi]')")

    def fast_paths(self, sim):
        return FastPaths(create_population=create_population,
                         connect=connect_fixed_total_number,
                         poisson_background=poisson_background)

    import_simulator = staticmethod(import_simulator)
    setup = staticmethod(setup)
    finish_build = staticmethod(finish_build)
    run = staticmethod(run)
    versions = staticmethod(versions)
    choose_engine = staticmethod(choose_engine)


BACKEND = NeuronBackend()
