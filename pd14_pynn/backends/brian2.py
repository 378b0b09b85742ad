"""Brian2 backend: setup options and vectorised fast paths.

* The network as few Brian2 objects (:mod:`pd14_pynn.backends.brian2_network`):
  the fast paths declare populations, projections and Poisson background;
  :func:`finish_build` creates one ``NeuronGroup`` for all populations with
  equal neuron parameters (each population a ``Subgroup``), one ``Synapses``
  per source group, target group and receptor (each projection a slice of it,
  :class:`~pd14_pynn.backends.brian2_pynn.MergedProjection`), and one
  ``SpikeMonitor``; their number does not grow with populations, projections
  or areas.
* Connections: each projection is drawn with numpy
  (:func:`pd14_pynn.connectivity.draw_connections`), and every synapse keeps
  its own weight and delay. (PyNN 0.13 sets them per (i, j) pair, which gives
  all multapses of a pair one shared weight and delay.)
* Populations: the neurons of a group share one value of each homogeneous
  parameter (:mod:`pd14_pynn.backends.brian2_groups`), so the integration
  factors are computed once per step, not per neuron; ``i_offset`` (DC) is per neuron.
* Poisson background: one ``poisson(K_ext x bg_rate x dt)`` draw per neuron and
  time step, added to the excitatory current (no transmission delay; for
  stationary independent Poisson input a constant delay changes nothing in
  distribution), instead of one PyNN spike source per neuron.
* Device (parameter ``brian2_device``, CLI ``--brian2-device``): ``cpp_standalone``
  (default where a C++ compiler and ``make`` are found) makes the whole network
  one compiled C++ program with OpenMP threads (``threads``), see
  :mod:`pd14_pynn.backends.brian2_standalone`; ``cuda_standalone`` the same on an
  NVIDIA GPU through Brian2CUDA; ``runtime`` (default without a compiler) keeps
  Python in the loop. ``PD14_BRIAN2_DEVICE`` sets the default (the tests use
  ``runtime``).
* Code generation of the runtime device: the Cython target (compiled once per
  network, cached by Brian2); ``PD14_BRIAN2_CODEGEN=numpy`` selects the numpy
  target (no compilation; used by the tests for tiny networks).
* Random numbers of the simulation (Poisson input) come from ``brian2.seed``.
* Running: :func:`run` makes one Brian2 ``run()`` call per phase with a progress
  callback, because every call prepares all ~160 code objects anew (0.5 s per
  call at N = K = 0.1, measured with ``run/profile_brian2.py``). PyNN's
  ``network.store()`` before the first run is skipped: it copies every synapse
  variable (at full scale, gigabytes) only so that ``sim.reset()`` can restore
  them; ``sim.reset()`` after a run is therefore refused with an error.
"""

import importlib.util
import os
import shutil
import sysconfig
import types

import numpy as np

from . import Backend, BackendError, FastPaths, require
from . import brian2_standalone as standalone

DEVICES = ("runtime", "cpp_standalone", "cuda_standalone")

NAME = "brian2"
PACKAGE = "brian2"
# measured: 38 B per synapse (peak RSS at N = 0.1, K = 0.5 vs K = 1, DC) plus
# headroom for the per-projection numpy draws during connect
BYTES_PER_SYNAPSE = 45
BYTES_PER_NEURON = 20_000
# memory per recorded spike: Brian2's SpikeMonitor holds 21.0 bytes; with the collection
# into a Neo block and writing it, the peak grew 77.4 bytes per spike
# (run/measure_recording_memory.py, 1.3 million spikes); rounded up
BYTES_PER_RECORDED_SPIKE = 80
# v: the StateMonitor keeps one float64 per sample and neuron, x2 for array growth
BYTES_PER_V_SAMPLE = 16


def import_simulator():
    """Import pyNN.brian2."""
    brian2 = require("brian2", PACKAGE, NAME)
    # Brian2's own SIGINT handler would stop its run loop without pd14_pynn's
    # interrupt handling knowing (the run would look complete): let it pass
    # SIGINT on, so that every device stops and saves the same way
    brian2.prefs.core.stop_on_keyboard_interrupt = False
    return require("pyNN.brian2", "PyNN", NAME)


def create_population(sim, size, celltype, label, v_init_mV):
    """A PyNN ``Population`` whose neurons will share one Brian2 group with the
    other populations of equal neuron parameters (:mod:`pd14_pynn.backends.brian2_network`).

    The group is created, with every other declared object, by :func:`finish_build`
    or when anything first needs it; its homogeneous parameters are shared, so
    Brian2 computes the integration factors once per time step instead of a
    dozen ``exp()`` per neuron and step (:mod:`pd14_pynn.backends.brian2_groups`).
    """
    from .brian2_pynn import MergedPopulation
    population = MergedPopulation(size, celltype, label=label)
    population.initialize(v=v_init_mV)
    return population


def projection(sim, pre, post, connector, synapse_type, receptor_type, label):
    """A PyNN ``Projection`` whose connections go into the one ``Synapses`` object
    of its source group, target group and receptor (a
    :class:`~pd14_pynn.backends.brian2_pynn.MergedProjection`), or PyNN's own
    where that cannot be (e.g. onto a population made by PyNN's constructor)."""
    from .brian2_pynn import MergedProjection, can_merge
    if can_merge(pre, post, synapse_type):
        return MergedProjection(pre, post, connector, synapse_type, receptor_type, label)
    return sim.Projection(pre, post, connector, synapse_type, receptor_type=receptor_type,
                          label=label)


def cxx_compiler():
    """Path of the C++ compiler Brian2's standalone build would use, or None."""
    name = os.environ.get("CXX") or (sysconfig.get_config_var("CXX") or "c++").split()[0]
    return shutil.which(name) or shutil.which("g++") or shutil.which("c++")


def choose_device(params):
    """The Brian2 device of a run: the parameter, else $PD14_BRIAN2_DEVICE, else
    ``cpp_standalone`` where a C++ compiler and make are found, else ``runtime``."""
    device = params.get("brian2_device") or os.environ.get("PD14_BRIAN2_DEVICE")
    if device is None:
        return "cpp_standalone" if cxx_compiler() and shutil.which("make") else "runtime"
    if device not in DEVICES:
        raise BackendError(f"unknown Brian2 device {device!r}; choose one of {', '.join(DEVICES)}")
    return device


def choose_threads(params):
    """OpenMP threads of ``cpp_standalone``: the parameter, else 1.

    One thread by default: each of the ~200 code objects is one OpenMP parallel
    region per time step, and its barrier costs more than the work at small
    scale (measured at N = K = 0.02 on a busy 2-core machine: RTF 2.6 with 1
    thread, 182 with 2). Ask for more with ``--threads`` on large networks and
    a machine of your own.
    """
    if params["threads"] is not None:
        return int(params["threads"])
    return 1


def check(params):
    """Refuse a device that cannot work here, before anything is built."""
    device = choose_device(params)
    if device == "cpp_standalone" and not (cxx_compiler() and shutil.which("make")):
        raise BackendError("--brian2-device cpp_standalone needs a C++ compiler and make "
                           "(e.g. 'apt-get install g++ make'); or use --brian2-device runtime")
    if device == "cuda_standalone":
        if importlib.util.find_spec("brian2cuda") is None:
            raise BackendError("--brian2-device cuda_standalone needs Brian2CUDA "
                               "('pip install brian2cuda', which pins its own Brian2 version; "
                               "see README 'Choosing a simulator')")
        nvcc = shutil.which("nvcc") or any(
            os.path.exists(os.path.join(os.environ.get(v, ""), "bin", "nvcc"))
            for v in ("CUDA_PATH", "CUDA_HOME") if os.environ.get(v))
        if not nvcc or not shutil.which("nvidia-smi"):
            raise BackendError("--brian2-device cuda_standalone needs the CUDA toolkit (nvcc) "
                               "and an NVIDIA GPU (nvidia-smi); none found on this machine. "
                               "Use --brian2-device cpp_standalone")
    return device


def setup(sim, params, n_synapses):
    """Select the device, call ``sim.setup`` and seed Brian2; returns the settings used."""
    import brian2
    device = check(params)
    session = None
    if device in standalone.STANDALONE_DEVICES:
        threads = choose_threads(params) if device == "cpp_standalone" else 0
        session = standalone.activate(device, params, threads)
    else:
        brian2.set_device("runtime")
    sim.setup(timestep=params["resolution_ms"], min_delay=params["resolution_ms"])
    state = sim.simulator.state
    state.pd14_standalone = session
    if session is not None:
        # PyNN adds a Python network operation for current sources (which this model
        # does not use); standalone programs cannot call Python
        state.pd14_removed = [obj for obj in state.network.objects
                              if isinstance(obj, brian2.NetworkOperation)]
        state.network.remove(*state.pd14_removed)
        # PyNN's own Clock is named "clock", which Brian2CUDA's generated code
        # confuses with C's clock() and where it expects Brian2's defaultclock:
        # every object made from now on uses the defaultclock instead
        brian2.defaultclock.dt = params["resolution_ms"] * brian2.ms
        state.network.clock = brian2.defaultclock
        brian2.seed(int(params["seed"]))
        state.run = types.MethodType(_queue_run, state)
        state.reset = types.MethodType(_reset_before_run_only, state)
        return {**standalone.describe(session), "brian2_seed": int(params["seed"])}
    # compiled per-step code: the numpy target spends Python time per object and
    # step, several times slower for this model; but Cython compiles every code
    # object of a new network (~10 min on 2 cores, then cached), so tiny test
    # networks are faster with numpy: PD14_BRIAN2_CODEGEN=numpy
    target = os.environ.get("PD14_BRIAN2_CODEGEN", "cython")
    if target not in ("cython", "numpy"):
        raise BackendError(f"PD14_BRIAN2_CODEGEN must be 'cython' or 'numpy', got {target!r}")
    brian2.prefs.codegen.target = target
    brian2.seed(int(params["seed"]))
    state.run = types.MethodType(_run_without_store, state)
    state.reset = types.MethodType(_reset_before_run_only, state)
    return {"brian2_device": "runtime", "codegen_target": brian2.prefs.codegen.target,
            "brian2_seed": int(params["seed"])}


def _queue_run(state, simtime_ms, report=None, report_period_s=5.0):
    """Standalone ``State.run``: queue the run; the program reports progress itself."""
    standalone.queue_run(state.pd14_standalone, state, simtime_ms)


def _run_without_store(state, simtime_ms, report=None, report_period_s=5.0):
    """PyNN's ``State.run`` without the ``network.store()`` of the whole network."""
    import brian2

    from .brian2_network import network_of
    network_of(state).materialize()
    for recorder in state.recorders:
        recorder._finalize()
    state.running = True
    state.network.run(simtime_ms * brian2.ms, report=report,
                      report_period=report_period_s * brian2.second)


def _reset_before_run_only(state):
    """PyNN's ``State.reset``, refused once the network has run (no stored state)."""
    if state.running:
        raise BackendError("sim.reset() after a run is not supported by pd14_pynn's Brian2 "
                           "backend (it does not store the initial network, to save memory); "
                           "call sim.setup() and build the model again")
    state.t_start = 0
    state.segment_counter += 1


def run(sim, duration_ms, progress=None):
    """Advance by ``duration_ms`` in one Brian2 ``run()``; ``progress(done_ms)`` every ~5 s.

    ``progress`` returning True stops the network after the current time step
    (``Network.stop``). Returns the simulated time reached (ms).

    Standalone devices only queue the run here (returning ``duration_ms``);
    :func:`execute` runs the program, which reports progress itself.
    """
    state = sim.simulator.state
    if getattr(state, "pd14_standalone", None) is not None:
        state.run(duration_ms)
        return float(duration_ms)
    t_start_ms = float(state.network.t / _brian2().ms)
    report = None
    if progress is not None:
        def report(elapsed, completed, start, duration):
            if completed > 0 and progress(float(completed) * duration_ms):
                state.network.stop()
    state.run(duration_ms, report=report)
    return float(state.network.t / _brian2().ms) - t_start_ms


def _brian2():
    import brian2
    return brian2


def finish_build(sim):
    """Create the Brian2 objects the fast paths declared (one group per set of
    populations with equal parameters, one ``Synapses`` per source, target and
    receptor, their background)."""
    from .brian2_network import network_of
    network_of(sim.simulator.state).materialize()


def execute(sim, verbose=True, should_stop=None, on_phase=None):
    """Standalone devices: compile and run the queued program; returns its phase timings.

    ``compile`` (code generation + make), ``presimulate``/``simulate`` (inside the
    program), ``connect_in_program`` (synapse creation there), ``save_in_program``
    (writing the results), ``peak_rss_program_bytes``, ``reached_ms`` (less than
    queued when a signal stopped the program). ``should_stop()``: checked before the
    program starts; ``on_phase(name)``: called as it starts. Runtime: nothing to do, {}.
    """
    session = getattr(sim.simulator.state, "pd14_standalone", None)
    if session is None:
        return {}
    return standalone.execute(session, sim.simulator.state, verbose=verbose,
                              should_stop=should_stop, on_phase=on_phase)


def versions():
    import brian2
    found = {"brian2": brian2.__version__}
    if importlib.util.find_spec("brian2cuda") is not None:
        from importlib.metadata import version
        found["brian2cuda"] = version("brian2cuda")
    return found


def connect_fixed_total_number(connector, projection):
    """The drawn connections, with per-synapse weights and delays: declared into the
    shared ``Synapses`` of a merged projection, or one vectorised connect call on
    PyNN's own ``Synapses`` object of the projection."""
    from .brian2_pynn import MergedProjection
    sources, targets, weights_pA, delays_ms = connector.draw(projection)
    if isinstance(projection, MergedProjection):
        projection.add_connections(sources, targets, weights_pA * 1e-12, delays_ms * 1e-3)
        return
    synapses = projection._brian2_synapses[0][0]
    first = len(synapses)
    # PyNN asks Brian2 for a per-synapse multapse number ("synapse_number"), which
    # Brian2 computes by sorting complex-valued (pre, post) pairs of the whole
    # object: 60 % of the connect time (profiled). The same numbers, from one
    # integer sort of the new synapses:
    session = getattr(projection._simulator.state, "pd14_standalone", None)
    if session is not None:
        # the program grows the (i, j) vectors by push_back: reserving the final
        # size saves up to 8 bytes per synapse of over-allocation (full scale: GBs)
        session.reserve(synapses, len(sources))
    index_name = synapses.multisynaptic_index
    synapses.multisynaptic_index = None
    try:
        synapses.connect(i=sources, j=targets)
    finally:
        synapses.multisynaptic_index = index_name
    created = slice(first, len(synapses))
    if index_name is not None and first:
        raise RuntimeError(f"{projection.label}: the Brian2 fast path connects each "
                           "Synapses object once")
    if session is not None:
        # standalone: values cannot be read or indexed before the program runs;
        # the program reads them from files into the new synapses (all of them)
        values = {"weight": weights_pA * 1e-12, "delay": delays_ms * 1e-3}  # SI: A, s
        if index_name is not None:
            values[index_name] = multapse_numbers(sources, targets, projection.post.size)
        for name, array in values.items():
            if session.device == "cpp_standalone":
                session.set_from_file(synapses, name, array)
            else:  # Brian2CUDA: as Brian2 static arrays (copied to the GPU at start)
                getattr(synapses, name + ("_" if name != index_name else ""))[:] = array
        projection._n_connections += len(sources)
        return
    if index_name is not None:
        synapses.variables[index_name].get_value()[created] = multapse_numbers(
            sources, targets, projection.post.size)
    # Synapses keep creation order for array connects; check it, since a silent
    # reordering would scramble weights
    if not (np.array_equal(synapses.i[created], sources)
            and np.array_equal(synapses.j[created], targets)):
        raise RuntimeError("Brian2 reordered synapses on connect; weights cannot be assigned")
    synapses.weight_[created] = weights_pA * 1e-12  # SI: ampere
    synapses.delay_[created] = delays_ms * 1e-3     # SI: second
    projection._n_connections += len(sources)


def multapse_numbers(sources, targets, n_targets):
    """0, 1, 2, ... for the 1st, 2nd, 3rd ... synapse of each (source, target) pair,
    in creation order (what Brian2 stores as the multisynaptic index)."""
    n = len(sources)
    key = sources.astype(np.int64) * int(n_targets) + targets
    if n and (int(key.max()) + 1) * n < 2 ** 63:
        # the position in the low digits makes a plain value sort stable; numpy
        # sorts int64 values ~10x faster than it argsorts them
        ordered = np.sort(key * n + np.arange(n))
        order, ordered = ordered % n, ordered // n
    else:
        order = np.argsort(key, kind="stable")
        ordered = key[order]
    positions = np.arange(n)
    starts = np.ones(n, dtype=bool)
    starts[1:] = ordered[1:] != ordered[:-1]
    run_start = np.maximum.accumulate(np.where(starts, positions, 0))
    numbers = np.empty(n, dtype=np.int32)
    numbers[order] = positions - run_start
    return numbers


def poisson_background(sim, population, n_sources, rate_hz, weight_pA, delay_ms, label):
    """Poisson input of ``n_sources`` at ``rate_hz`` onto the excitatory current of
    every neuron: declared into the population's shared group (one Poisson draw
    per neuron and step of mean n_sources x rate_hz x dt,
    :mod:`pd14_pynn.backends.brian2_network`) while that is not created yet,
    otherwise a ``PoissonInput``.

    For a ``PoissonInput``, a fractional ``n_sources`` (data that keep K_scaling x
    in-degree unrounded, as MAM) becomes the next whole number of sources at a
    rate lowered so that the total rate n_sources x rate_hz is kept.
    """
    import math
    import brian2
    member = getattr(population, "_pd14_member", None)
    if member is not None and member.batch.group is None:
        dt_s = sim.simulator.state.dt * 1e-3
        member.add_background(float(n_sources) * float(rate_hz) * dt_s, float(weight_pA) * 1e-12)
        return member
    variable = population.celltype.post_synaptic_variables["excitatory"]
    group = population.brian2_group
    count = math.ceil(n_sources)
    if count != n_sources:
        rate_hz = rate_hz * n_sources / count
    poisson = brian2.PoissonInput(group, variable, N=int(count), rate=rate_hz * brian2.Hz,
                                  weight=f"{float(weight_pA) * 1e-12}*amp")
    sim.simulator.state.network.add(poisson)
    return poisson


class Brian2Backend(Backend):
    """The runner's hooks for Brian2 (module functions above)."""
    PYNN_MODULE = "pyNN.brian2"  # NAME, PACKAGE, BYTES_PER_*: this module's

    def check(self, params, n_synapses):
        check(params)

    def check_launch(self, ranks):
        if ranks > 1:
            raise BackendError("Brian2 has no MPI support; run it without mpirun (one process), "
                               "or use nest or neuron for distributed runs")

    def fast_paths(self, sim):
        return FastPaths(create_population=create_population,
                         connect=connect_fixed_total_number,
                         poisson_background=poisson_background,
                         projection=projection)

    def engine(self, params):
        return NAME if choose_device(params) == "runtime" else "brian2_standalone"

    def deferred(self, sim):
        return getattr(sim.simulator.state, "pd14_standalone", None) is not None

    import_simulator = staticmethod(import_simulator)
    setup = staticmethod(setup)
    finish_build = staticmethod(finish_build)
    run = staticmethod(run)
    execute = staticmethod(execute)
    versions = staticmethod(versions)
    choose_device = staticmethod(choose_device)
    choose_threads = staticmethod(choose_threads)


BACKEND = Brian2Backend()
