"""The backend contract: every backend implements the hooks the runner calls,
and nothing outside pd14_pynn/backends/ names a simulator or probes a backend."""

import ast
import os
import sys
import types

import pyNN.mock as mock_sim
import pytest

from pd14_pynn import backends, connectors, inputs, populations
from pd14_pynn.backends import Backend, FastPaths

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = os.path.join(ROOT, "pd14_pynn")
# hooks without a sensible default: each backend must define them
REQUIRED = ("import_simulator", "setup", "run")


@pytest.mark.parametrize("name", backends.NAMES)
def test_each_backend_implements_the_contract(name):
    backend = backends.get(name)
    assert isinstance(backend, Backend) and backend.NAME == name
    assert backend.PYNN_MODULE == f"pyNN.{name}" and backend.PACKAGE
    for hook in REQUIRED:
        assert getattr(type(backend), hook) is not getattr(Backend, hook), hook
    for size in ("BYTES_PER_SYNAPSE", "BYTES_PER_NEURON", "BYTES_PER_RECORDED_SPIKE",
                 "BYTES_PER_V_SAMPLE"):
        assert getattr(backend, size) > 0, size
    paths = backend.fast_paths(None)
    assert isinstance(paths, FastPaths) and paths.connect is not None


def test_unknown_simulator_is_one_clear_error():
    with pytest.raises(backends.BackendError, match="choose one of: nest, neuron, brian2"):
        backends.get("nestt")


def test_fast_paths_are_found_by_pynn_module_without_importing_a_simulator():
    nest_like = types.ModuleType("pyNN.nest")
    assert backends.fast_paths_for(nest_like).connect.__module__ == "pd14_pynn.backends.nest"
    projection_simulator = types.ModuleType("pyNN.brian2.simulator")
    assert backends.fast_paths_for(projection_simulator).create_population.__module__ == \
        "pd14_pynn.backends.brian2"
    assert "nest" not in sys.modules and "brian2" not in sys.modules
    assert backends.fast_paths_for(mock_sim) is backends.GENERIC


def test_choose_fast_path():
    def mine(*args):
        return args
    assert backends.choose_fast_path(mine, mock_sim, "connect") is mine
    assert backends.choose_fast_path(False, mock_sim, "connect") is None
    assert backends.choose_fast_path(None, mock_sim, "connect") is None
    assert backends.choose_fast_path(True, mock_sim, "connect") is None  # mock: generic
    given = backends.FastPaths(connect=mine)
    assert backends.choose_fast_path(given, mock_sim, "connect") is mine
    assert backends.resolve_fast_paths(given, mock_sim) is given
    assert backends.resolve_fast_paths(False, mock_sim) is backends.GENERIC


def test_importing_a_simulator_module_registers_nothing():
    """Fast paths are objects handed to the model, not module-level registries."""
    for module in (connectors, inputs, populations):
        registries = [name for name in vars(module)
                      if name.startswith(("_FAST", "_POISSON", "register_"))]
        assert registries == [], module.__name__


def _outside_backends():
    for folder, _, files in os.walk(PACKAGE):
        if os.path.join(PACKAGE, "backends") in folder or "__pycache__" in folder:
            continue
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                with open(path) as f:
                    yield os.path.relpath(path, ROOT), ast.parse(f.read())


def test_no_simulator_names_or_backend_probes_outside_backends():
    """The runner and the model ask the Backend, never `simulator == "nest"` or
    `hasattr(backend, ...)`."""
    found = []
    for path, tree in _outside_backends():
        for node in ast.walk(tree):
            if isinstance(node, ast.Compare) and any(
                    isinstance(c, ast.Constant) and c.value in backends.NAMES
                    for c in [node.left, *node.comparators]):
                found.append(f"{path}:{node.lineno} compares with a simulator name")
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("hasattr",
                                                                                 "getattr"):
                target = node.args[0] if node.args else None
                if isinstance(target, ast.Name) and target.id == "backend":
                    found.append(f"{path}:{node.lineno} probes the backend")
    assert found == []
