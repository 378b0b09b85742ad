"""NEURON's CoreNEURON engine: mechanisms, cells, spike recording and the run loop.

CoreNEURON (shipped in the ``neuron`` wheel) runs the network that NEURON built,
copied into its own cache-efficient data layout, with every mechanism compiled
for it. ``pc.psolve`` hands the model over when ``coreneuron.enable`` is set and
copies the state back at the end, so a run continues where the last one ended.

* Mechanisms: PyNN's ``ResetRefrac`` (threshold, reset, refractory period of
  ``IF_curr_exp``) does not translate for CoreNEURON (its ``state_discontinuity``
  assignments to ``v`` are dropped by CoreNEURON's code generator), so the
  engine's cell uses this package's own ``nmodl/*.mod``: ``Pd14IafReset`` (a
  threshold watch and a clamp conductance to the reset potential),
  ``Pd14ExpCurrent`` (the exponential current synapse) and, as excitatory
  synapse, ``Pd14ExpCurrentPoisson`` (the same, able to draw the Poisson
  background itself: :func:`poisson_in_synapse`). They are compiled with
  ``nrnivmodl -coreneuron`` once per content and NEURON version into
  :func:`cache_root` and loaded into NEURON; CoreNEURON finds its half through
  ``CORENEURONLIB``. Spikes are those of PyNN's cell on the classic engine
  (tests/test_neuron_engines.py).
* Cells: the model's ``IF_curr_exp`` populations are PyNN ``Population`` objects
  of a subclass of PyNN's ``IF_curr_exp`` (same name, parameters, translations)
  whose NEURON cell is :func:`cell_class`'s.
* Spikes: ``NetCon.record`` vectors are not filled by CoreNEURON, so every
  recorded cell's spikes go into the same PyNN vector through
  ``ParallelContext.spike_record``; PyNN reads them as usual.
* Runs: each ``psolve`` copies the model in and out (about 0.45 s per million
  synapses), so a run advances in as few pieces as the stop and progress
  contract allows (:func:`run`).
* PyNN's own spike sources (``SpikeSourcePoisson`` of the thalamic input) are
  not compiled for CoreNEURON: runs with ``--thalamic`` use the classic engine.
"""

import glob
import hashlib
import os
import platform
import shutil
import subprocess
import tempfile

from . import MAX_PIECE_MS, BackendError, chunk_bounds

#: this package's NMODL mechanisms (compiled for NEURON and CoreNEURON)
MOD_FOLDER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "nmodl")
#: environment variable naming the folder that holds compiled mechanisms
CACHE_ENV = "PD14_NEURON_MECHANISMS"
#: PyNN's mechanisms that are not compiled for CoreNEURON, which this model's
#: classic path or PyNN's spike sources create (ResetRefrac, ExpISyn: PyNN's
#: IF_curr_exp; NetStimFD: SpikeSourcePoisson; VecStim: SpikeSourceArray)
CLASSIC_ONLY_MECHANISMS = ("ResetRefrac", "ExpISyn", "NetStimFD", "VecStim")


def cache_root():
    """Folder of the compiled mechanism libraries: ``$PD14_NEURON_MECHANISMS``, else
    ``$XDG_CACHE_HOME/pd14_pynn/neuron_mechanisms`` (default ``~/.cache/...``)."""
    if os.environ.get(CACHE_ENV):
        return os.path.abspath(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "pd14_pynn", "neuron_mechanisms")


def mod_files():
    """Paths of the NMODL files compiled for the engine, sorted."""
    return sorted(glob.glob(os.path.join(MOD_FOLDER, "*.mod")))


def mechanisms_key(neuron_version):
    """Short hash of the mechanism sources, the NEURON version and the machine
    type: a new one of any of them gets its own compiled folder."""
    digest = hashlib.sha256(f"{neuron_version}|{platform.machine()}".encode())
    for path in mod_files():
        digest.update(os.path.basename(path).encode())
        with open(path, "rb") as handle:
            digest.update(handle.read())
    return digest.hexdigest()[:16]


def available():
    """True if this NEURON can compile mechanisms for CoreNEURON (``nrnivmodl-core``
    beside ``nrnivmodl``, in this Python's bin folder or on PATH); imports nothing."""
    import sys
    bin_dir = os.path.dirname(sys.executable)
    return all(os.access(os.path.join(bin_dir, name), os.X_OK) or shutil.which(name)
               for name in ("nrnivmodl", "nrnivmodl-core"))


def _library(folder, name):
    """Path of ``lib<name>`` in a compiled folder (``<folder>/<arch>/``), or None."""
    found = sorted(glob.glob(os.path.join(folder, "*", f"lib{name}.*")))
    return found[0] if found else None


def compiled_mechanisms(neuron_version, say=print):
    """The folder holding this package's mechanisms compiled for NEURON and
    CoreNEURON, compiling them first if no cached build exists (~20 s).

    Several processes (MPI ranks) may compile at once: each builds in its own
    temporary folder and renames it into place; a loser discards its copy.
    """
    root = cache_root()
    folder = os.path.join(root, mechanisms_key(neuron_version))
    if _library(folder, "corenrnmech") and _library(folder, "nrnmech"):
        return folder
    nrnivmodl = shutil.which("nrnivmodl")
    if nrnivmodl is None:
        raise BackendError("--neuron-engine coreneuron needs NEURON's nrnivmodl on PATH "
                           "(it is in the virtual environment's bin folder)")
    os.makedirs(root, exist_ok=True)
    work = tempfile.mkdtemp(prefix=".build-", dir=root)
    try:
        for path in mod_files():
            shutil.copy(path, work)
        say(f"Compiling NEURON/CoreNEURON mechanisms into {folder} (once)")
        done = subprocess.run([nrnivmodl, "-coreneuron", "."], cwd=work, capture_output=True,
                              text=True)
        if done.returncode != 0 or not _library(work, "corenrnmech"):
            tail = "\n".join((done.stdout + done.stderr).splitlines()[-15:])
            raise BackendError(f"nrnivmodl -coreneuron failed in {work} (exit "
                               f"{done.returncode}); a C++ compiler and make are needed, or "
                               f"use --neuron-engine classic. Last output:\n{tail}")
        try:
            os.rename(work, folder)
        except OSError:
            if not _library(folder, "corenrnmech"):
                raise
    finally:
        if os.path.isdir(work):
            shutil.rmtree(work, ignore_errors=True)
    return folder


def load(sim, folder):
    """Load the compiled mechanisms into NEURON and tell CoreNEURON where its half is
    (``psolve`` switches to CoreNEURON only in :func:`prepare`)."""
    import neuron
    if not neuron.config.arguments.get("NRN_ENABLE_CORENEURON"):
        raise BackendError("this NEURON was built without CoreNEURON; use --neuron-engine "
                           "classic (or a NEURON wheel from PyPI, which includes it)")
    if not neuron.load_mechanisms(folder, warn_if_already_loaded=False):
        raise BackendError(f"no compiled mechanisms in {folder}; delete that folder to "
                           "have them compiled again")
    os.environ["CORENEURONLIB"] = _library(folder, "corenrnmech")


def prepare(sim):
    """Before a run: True if it goes to CoreNEURON (switched on here, once).

    A network with mechanisms of PyNN's that CoreNEURON lacks (cells or spike
    sources not made by this package's fast paths) runs on the classic engine
    if the engine was chosen by default, and is an error if it was asked for.
    """
    from neuron import coreneuron, h
    state = sim.simulator.state
    if getattr(state, "pd14_engine", "classic") != "coreneuron":
        return False
    if not coreneuron.enable:
        found = [name for name in CLASSIC_ONLY_MECHANISMS
                 if state.parallel_context.allreduce(h.List(name).count(), 1)]  # all ranks
        if found and state.pd14_engine_requested:
            raise BackendError(f"the CoreNEURON engine cannot run PyNN's {', '.join(found)} "
                               "(cells or spike sources not made by this package's fast "
                               "paths); use --neuron-engine classic")
        if found:
            state.pd14_engine = "classic"
            return False
        h.CVode().cache_efficient(1)
        coreneuron.enable = True
        coreneuron.verbose = 0
        state.pd14_spike_ids = h.Vector()  # gids of recorded spikes: one scratch vector
        state.pd14_spike_recorded = set()
    record_spikes(sim)
    return True


_CELL_CLASSES = {}


def cell_class():
    """The NEURON cell of the engine's ``IF_curr_exp``: PyNN's leaky compartment
    (membrane, leak, DC offset) with :data:`MOD_FOLDER`'s reset and synapses,
    answering the same native parameter names as PyNN's cell."""
    if "cell" in _CELL_CLASSES:
        return _CELL_CLASSES["cell"]
    from neuron import h
    from pyNN.neuron.cells import LeakySingleCompartmentNeuron

    def forward(part, name):
        return property(lambda cell: getattr(getattr(cell, part), name),
                        lambda cell, value: setattr(getattr(cell, part), name, value))

    class CoreNeuronIF(LeakySingleCompartmentNeuron):
        """Integrate-and-fire cell with exponential current synapses (nA, ms, mV)."""

        def __init__(self, syn_type, syn_shape, tau_m=20, c_m=1.0, v_rest=-65, v_thresh=-55,
                     t_refrac=2, i_offset=0, v_reset=None, tau_e=5, tau_i=5, e_e=0, e_i=-70):
            if (syn_type, syn_shape) != ("current", "exp"):
                raise ValueError("the CoreNEURON cell has current-based exponential synapses only")
            LeakySingleCompartmentNeuron.__init__(self, tau_m, c_m, v_rest, i_offset)
            self.spike_reset = h.Pd14IafReset(0.5, sec=self)
            self.source = self.spike_reset
            self.rec = h.NetCon(self.source, None)
            # the excitatory synapse can also take the Poisson background
            # (neuron_poisson = "synapse"); until set up it is Pd14ExpCurrent
            self.esyn = h.Pd14ExpCurrentPoisson(0.5, sec=self)
            self.isyn = h.Pd14ExpCurrent(0.5, sec=self)
            self.syn_type, self.syn_shape = syn_type, syn_shape
            self.parameters.update(v_thresh=v_thresh, t_refrac=t_refrac,
                                   v_reset=v_rest if v_reset is None else v_reset,
                                   tau_e=tau_e, tau_i=tau_i)
            self.set_parameters()

        excitatory = property(lambda cell: cell.esyn)
        inhibitory = property(lambda cell: cell.isyn)
        v_thresh = forward("spike_reset", "vthresh")
        v_reset = forward("spike_reset", "vreset")
        t_refrac = forward("spike_reset", "trefrac")
        tau_e = forward("esyn", "tau")
        tau_i = forward("isyn", "tau")

    _CELL_CLASSES["cell"] = CoreNeuronIF
    return CoreNeuronIF


def celltype(sim, original):
    """``original`` (a PyNN ``IF_curr_exp``) as the engine's cell type: the same
    class name and parameters, with :func:`cell_class` as its NEURON model."""
    import copy
    base = type(original)
    if base.__name__ != "IF_curr_exp":
        raise BackendError(f"the CoreNEURON engine has IF_curr_exp cells only, not "
                           f"{base.__name__}; use --neuron-engine classic")
    key = ("type", base)
    if key not in _CELL_CLASSES:
        _CELL_CLASSES[key] = type(base.__name__, (base,), {
            "model": cell_class(), "__doc__": base.__doc__, "__module__": __name__})
    converted = copy.copy(original)
    converted.__class__ = _CELL_CLASSES[key]
    return converted


def poisson_in_synapse(sim, population, interval_ms, weight_nA, delay_ms, stream):
    """The Poisson background of ``population`` drawn inside each cell's excitatory
    synapse (no NetStim, no events): mean interval ``interval_ms``, PSC ``weight_nA``
    after ``delay_ms``, Random123 stream (seed, gid, ``stream``) per neuron."""
    seed = int(sim.simulator.state.native_rng_baseseed)
    for cell in population.local_cells:
        synapse = cell._cell.esyn
        if not hasattr(synapse, "interval"):
            raise BackendError("neuron_poisson 'synapse' needs the populations made by "
                               "this package's create_population fast path")
        synapse.interval, synapse.weight, synapse.delay = interval_ms, weight_nA, delay_ms
        synapse.ranvar.set_ids(seed, int(cell), stream)


def record_spikes(sim):
    """Route the spikes of every cell PyNN records into its PyNN vector (once per cell)."""
    state = sim.simulator.state
    for recorder in state.recorders:
        for variable, ids in recorder.recorded.items():
            if variable.name != "spikes":
                continue
            for cell_id in ids:
                if int(cell_id) not in state.pd14_spike_recorded:
                    state.parallel_context.spike_record(int(cell_id), cell_id._cell.spike_times,
                                                        state.pd14_spike_ids)
                    state.pd14_spike_recorded.add(int(cell_id))


def run(sim, duration_ms, progress=None, n_chunks=1):
    """Advance by ``duration_ms`` in ``n_chunks`` pieces, more if one would be longer
    than :data:`MAX_PIECE_MS` (so a default run's phases are one piece each: each
    ``psolve`` copies the model in and out); ``progress(done_ms)`` after each,
    True stops. Returns ms reached. Call :func:`prepare` first."""
    state = sim.simulator.state
    dt = sim.get_time_step()
    start_steps = int(round(state.t / dt))
    done_steps = 0
    for end_steps in chunk_bounds(duration_ms, dt, n_chunks, max_piece_ms=MAX_PIECE_MS):
        # asked to stop at a multiple of dt, CoreNEURON fell one step short about
        # once per 1,000 steps (t = 10,499.2 ms after 11 pieces of a 10,500 ms
        # run): its t carries rounding from adding dt/2 twice a step, and a
        # step count truncated from (tstop - t) / dt then loses one; half a step
        # more gives exactly the steps asked for
        sim.run_until((start_steps + end_steps + 0.5) * dt)
        reached = int(round(state.t / dt)) - start_steps
        if reached != end_steps:
            raise BackendError(f"CoreNEURON stopped at t = {state.t:.4f} ms, not at "
                               f"{(start_steps + end_steps) * dt:.4f} ms; use --neuron-engine "
                               "classic")
        state.pd14_spike_ids.resize(0)
        done_steps = end_steps
        if progress is not None and progress(done_steps * dt):
            break
    return done_steps * dt
