"""Simulator backends: the one place that maps a name to a PyNN module.

The runner (:mod:`pd14_pynn.simulation`) talks to a simulator only through the
:class:`Backend` interface below; each backend module (``nest``, ``neuron``,
``brian2``) defines one subclass, and :func:`get` returns its instance. Nothing
outside this package names a simulator or asks a backend what it can do: a hook
that a simulator does not need keeps the base class's no-op default.

A backend imports its simulator only in :meth:`Backend.import_simulator`, so
that choosing, checking and estimating memory for a run costs nothing and works
without the simulator installed.

The model layer never looks a simulator up either: the cheaper native ways a
backend has to create populations, connect projections and feed Poisson
background are handed to the model as one :class:`FastPaths` object
(:meth:`Backend.fast_paths`); importing a simulator registers nothing.
"""

import dataclasses
import importlib
import sys
from typing import Callable, Optional

import numpy as np

NAMES = ("nest", "neuron", "brian2")


class BackendError(RuntimeError):
    """A simulator that cannot be used: unknown, not installed, or unusable settings."""


@dataclasses.dataclass(frozen=True)
class FastPaths:
    """A backend's native implementations of the model's building steps.

    Each is optional (None: the model uses PyNN's generic path) and must build
    exactly what the generic path builds (tests/test_fast_paths.py):

    ``create_population(sim, size, celltype, label, v_init_mV)``
        a PyNN ``Population`` with those parameters and initial potentials (mV);
    ``connect(connector, projection)``
        the connections of a :class:`~pd14_pynn.connectors.FixedTotalNumberNormal`;
    ``poisson_background(sim, population, n_sources, rate_hz, weight_pA, delay_ms, label)``
        an independent Poisson train of ``n_sources x rate_hz`` to every neuron;
        returns what must be kept alive (or None);
    ``projection(sim, pre, post, connector, synapse_type, receptor_type, label)``
        a PyNN ``Projection`` (a subclass of ``sim.Projection``) connected by
        ``connector``, answering ``len``, ``size`` and ``get`` as PyNN's does,
        e.g. one whose connections live in a simulator object shared with
        other projections (Brian2: one ``Synapses`` per receptor, not per
        projection).

    A backend may build what these create lazily, all at once: the model then
    calls :meth:`Backend.finish_build` (the runner does) before the first run.
    """
    create_population: Optional[Callable] = None
    connect: Optional[Callable] = None
    poisson_background: Optional[Callable] = None
    projection: Optional[Callable] = None


#: no fast path at all: PyNN's generic code everywhere
GENERIC = FastPaths()


class Backend:
    """Every hook the runner calls, with the defaults of a simulator that needs none.

    Class attributes: ``NAME`` (as on the command line), ``PACKAGE`` (what to
    pip-install), ``PYNN_MODULE`` (e.g. ``"pyNN.nest"``), and the peak-memory
    model of :mod:`pd14_pynn.resources` in bytes: ``BYTES_PER_SYNAPSE``,
    ``BYTES_PER_NEURON``, ``BYTES_PER_RECORDED_SPIKE`` (recorder, collection
    and writing), ``BYTES_PER_V_SAMPLE``, and ``BYTES_PER_NEURON_PER_DELAY_STEP``
    for every time step by which a model's longest delay exceeds
    ``DELAY_STEPS_IN_BYTES_PER_NEURON`` (what ``BYTES_PER_NEURON`` was measured with).
    """
    NAME = None
    PACKAGE = None
    PYNN_MODULE = None
    BYTES_PER_SYNAPSE = 0
    BYTES_PER_NEURON = 0
    BYTES_PER_RECORDED_SPIKE = 0
    BYTES_PER_V_SAMPLE = 0
    BYTES_PER_NEURON_PER_DELAY_STEP = 0
    DELAY_STEPS_IN_BYTES_PER_NEURON = 0
    #: taken from the subclass's module where the subclass does not set them: a
    #: backend module states each once, for its functions and its class alike
    MODULE_CONSTANTS = ("NAME", "PACKAGE", "BYTES_PER_SYNAPSE", "BYTES_PER_NEURON",
                        "BYTES_PER_RECORDED_SPIKE", "BYTES_PER_V_SAMPLE",
                        "BYTES_PER_NEURON_PER_DELAY_STEP", "DELAY_STEPS_IN_BYTES_PER_NEURON")

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        module = sys.modules[cls.__module__]
        for name in cls.MODULE_CONSTANTS:
            if name not in vars(cls) and hasattr(module, name):
                setattr(cls, name, getattr(module, name))

    # --- before anything is built -------------------------------------------
    def check(self, params, n_synapses):
        """Raise :class:`BackendError` for settings this simulator cannot honour
        (``n_synapses``: connections the model will make)."""

    def check_launch(self, ranks):
        """Raise :class:`BackendError` if it cannot run on ``ranks`` MPI processes
        (called only under an MPI launcher). Default: one process only."""
        if ranks > 1:
            raise BackendError(f"{self.NAME} has no MPI support; run it without mpirun "
                               "(one process), or use nest or neuron for distributed runs")

    def check_save_connectivity(self, ranks):
        """Raise :class:`BackendError` if the built network cannot be saved on
        ``ranks`` MPI processes."""

    def engine(self, params):
        """Which way of running this simulator ``params`` choose: the simulator's
        name, or a variant with other costs (``"brian2_standalone"``); the key
        of per-engine measurements such as study time estimates."""
        return self.NAME

    # --- building ---------------------------------------------------------
    def import_simulator(self):
        """Import and return the PyNN module of this simulator (raises
        :class:`BackendError` with the install command if it is missing)."""
        raise NotImplementedError

    def fast_paths(self, sim):
        """The :class:`FastPaths` the model uses with ``sim`` (default: none)."""
        return GENERIC

    def setup(self, sim, params, n_synapses):
        """Call ``sim.setup`` for the model; returns the settings used (a dict
        for metadata.json)."""
        raise NotImplementedError

    def finish_build(self, sim):
        """Anything to do between the last ``Projection`` and the first run (e.g.
        create the simulator objects that the fast paths only declared)."""

    def read_connections(self, projections):
        """The connections of built ``projections`` as pieces ``(projection,
        (sources, targets, weights_pA, delays_ms))`` (population indices; a
        projection may come in several pieces, interleaved with others'), or None
        to have :mod:`pd14_pynn.network_io` read them from the connectors."""
        return None

    # --- running ------------------------------------------------------------
    def run(self, sim, duration_ms, progress=None):
        """Advance by ``duration_ms`` (ms), calling ``progress(done_ms)`` after each
        piece; a true return stops at that point. Returns the ms reached."""
        raise NotImplementedError

    def deferred(self, sim):
        """True if :meth:`run` only queued the runs (a program built and run by
        :meth:`execute`, as Brian2's standalone devices do)."""
        return False

    def execute(self, sim, verbose=True, should_stop=None, on_phase=None):
        """Run what :meth:`run` queued; returns timings (see the Brian2 backend)."""
        return {}

    def versions(self):
        """``{package: version}`` of the simulator, for metadata.json."""
        return {}


_INSTANCES = {}


def get(name):
    """The :class:`Backend` of ``name`` ("nest", "neuron" or "brian2")."""
    if name not in NAMES:
        raise BackendError(f"unknown simulator {name!r}; choose one of: {', '.join(NAMES)}")
    if name not in _INSTANCES:
        _INSTANCES[name] = importlib.import_module(f"{__name__}.{name}").BACKEND
    return _INSTANCES[name]


def fast_paths_for(sim):
    """The :class:`FastPaths` of the backend whose PyNN module is ``sim`` (a PyNN
    module, or its ``simulator`` submodule); :data:`GENERIC` for any other
    (e.g. ``pyNN.mock``)."""
    module = sim.__name__.removesuffix(".simulator")
    for name in NAMES:
        backend = get(name)
        if backend.PYNN_MODULE == module:
            return backend.fast_paths(sim)
    return GENERIC


def resolve_fast_paths(fast, sim):
    """The :class:`FastPaths` that a model or a building step given ``fast`` uses
    on ``sim``: ``fast`` itself if it is one, the backend's if it is true
    (:func:`fast_paths_for`), none (:data:`GENERIC`) if it is false."""
    if isinstance(fast, FastPaths):
        return fast
    return fast_paths_for(sim) if fast else GENERIC


def choose_fast_path(fast, sim, hook):
    """The function to use for the building step ``hook`` (a :class:`FastPaths`
    field): ``fast`` itself if it is callable, else that field of
    :func:`resolve_fast_paths` (None: PyNN's generic path)."""
    if callable(fast):
        return fast
    return getattr(resolve_fast_paths(fast, sim), hook)


def require(module_name, package, simulator):
    """Import ``module_name`` or raise a BackendError saying which package to install."""
    try:
        return importlib.import_module(module_name)
    except ImportError as err:
        raise BackendError(
            f"simulator {simulator!r} is not installed ({err}); install it with "
            f"'pip install {package}' or 'pip install -e \".[all]\"'") from err


#: longest piece of model time (ms) a backend advances between two progress
#: steps. A stop request (Ctrl-C, SIGTERM) takes effect at the end of a piece:
#: with only 10 pieces, a 60 s NEURON run at N = K = 0.2 (RTF 28 with DC on 2
#: ranks) could go on for ~3 min after Ctrl-C. Spikes do not depend on the
#: pieces (tests/test_run_loop.py); a run of up to 10 s keeps its 10 pieces, and
#: longer runs get pieces of the length a default 10 s run has.
MAX_PIECE_MS = 1000.0
#: pieces of a run of up to 10 s (a progress step each)
PROGRESS_CHUNKS = 10


def chunk_bounds(duration_ms, dt_ms, n_chunks=PROGRESS_CHUNKS, max_piece_ms=MAX_PIECE_MS):
    """Step numbers ending each of the equal pieces of ``duration_ms`` (ms) at
    which a backend that advances in pieces reports progress: ``n_chunks``, or
    more so that no piece is longer than ``max_piece_ms``, never an empty one."""
    steps = int(round(duration_ms / dt_ms))
    pieces = max(n_chunks, int(np.ceil(np.round(duration_ms / max_piece_ms, 9))))
    return np.linspace(0, steps, min(pieces, steps) + 1).round().astype(int)[1:]
