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


def chunk_bounds(duration_ms, dt_ms, n_chunks):
    """Step numbers ending each of ``n_chunks`` (or fewer) equal pieces of ``duration_ms``:
    where a backend that advances in pieces reports progress."""
    steps = int(round(duration_ms / dt_ms))
    return np.linspace(0, steps, min(n_chunks, steps) + 1).round().astype(int)[1:]
