"""Simulator backends: the one place that maps a name to a PyNN module.

Each backend module (``nest``, ``neuron``, ``brian2``) is small and imports its
simulator only in :func:`Backend.import_simulator`, so that choosing, checking
and estimating memory for a run costs nothing and works without the simulator.
"""

import importlib

import numpy as np

NAMES = ("nest", "neuron", "brian2")


class BackendError(RuntimeError):
    """A simulator that cannot be used: unknown, not installed, or unusable settings."""


def get(name):
    """The backend module for ``name`` ("nest", "neuron" or "brian2")."""
    if name not in NAMES:
        raise BackendError(f"unknown simulator {name!r}; choose one of: {', '.join(NAMES)}")
    return importlib.import_module(f"{__name__}.{name}")


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


def chunk_bounds(duration_ms, dt_ms, n_chunks, max_piece_ms=MAX_PIECE_MS):
    """Step numbers ending each of the equal pieces of ``duration_ms`` (ms) at
    which a backend that advances in pieces reports progress: ``n_chunks``, or
    more so that no piece is longer than ``max_piece_ms``, never an empty one."""
    steps = int(round(duration_ms / dt_ms))
    pieces = max(n_chunks, int(np.ceil(np.round(duration_ms / max_piece_ms, 9))))
    return np.linspace(0, steps, min(pieces, steps) + 1).round().astype(int)[1:]
