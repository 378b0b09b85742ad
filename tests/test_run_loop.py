"""The run loop: progress steps change nothing in the spikes; a stop request stops."""

import os
import subprocess
import sys

import numpy as np
import pytest

from pd14_pynn.backends import chunk_bounds
from pd14_pynn.parameters import POPULATIONS

HERE = os.path.dirname(os.path.abspath(__file__))


def scenario(tmp_path, simulator, *options):
    out = tmp_path / f"{simulator}_{'_'.join(options) or 'default'}.npz"
    proc = subprocess.run([sys.executable, os.path.join(HERE, "run_loop_scenario.py"),
                           simulator, str(out), *options],
                          capture_output=True, text=True, cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    return dict(np.load(out))


def spikes(result):
    return {name: (result[f"ids_{name}"], result[f"times_{name}"]) for name in POPULATIONS}


def assert_same_spikes(a, b):
    n_spikes = 0
    for name in POPULATIONS:
        np.testing.assert_array_equal(a[f"ids_{name}"], b[f"ids_{name}"], err_msg=name)
        np.testing.assert_array_equal(a[f"times_{name}"], b[f"times_{name}"], err_msg=name)
        n_spikes += a[f"ids_{name}"].size
    assert n_spikes > 100  # a silent network would make the comparison empty


def test_chunk_bounds_cover_the_duration_on_the_grid():
    np.testing.assert_array_equal(chunk_bounds(1.0, 0.1, 3), [3, 7, 10])
    np.testing.assert_array_equal(chunk_bounds(0.2, 0.1, 10), [1, 2])  # never empty pieces
    assert chunk_bounds(500.0, 0.1, 10)[-1] == 5000


def test_long_runs_advance_in_pieces_of_at_most_a_second():
    # a stop request waits for the end of a piece: a tenth of NEURON's 60 s Poisson
    # run at N = K = 0.2 took 11-12 min
    np.testing.assert_array_equal(chunk_bounds(60000.0, 0.1, 10),
                                  np.arange(1, 61) * 10000)
    np.testing.assert_array_equal(chunk_bounds(10000.0, 0.1, 10), np.arange(1, 11) * 10000)
    np.testing.assert_array_equal(chunk_bounds(2500.0, 0.1, 1), [8333, 16667, 25000])
    np.testing.assert_array_equal(chunk_bounds(3.0, 0.1, 10, max_piece_ms=1.0),
                                  np.arange(1, 11) * 3)


@pytest.mark.parametrize("simulator", ["nest", "neuron"])
def test_progress_steps_do_not_change_spikes(tmp_path, simulator):
    """One step, ten steps and PyNN's plain sim.run give identical spikes."""
    one = scenario(tmp_path, simulator, "--chunks", "1")
    ten = scenario(tmp_path, simulator, "--chunks", "10")
    plain = scenario(tmp_path, simulator, "--pynn-run")
    assert_same_spikes(one, ten)
    assert_same_spikes(one, plain)
    np.testing.assert_allclose(ten["reached_ms"], [50.0, 150.0])
    assert ten["t_ms"] == pytest.approx(200.0)
    # progress after every step, at the simulated time reached
    np.testing.assert_allclose(ten["progress_ms"], np.concatenate(
        [np.linspace(5, 50, 10), 50 + np.linspace(15, 150, 10)]))


@pytest.mark.parametrize("simulator", ["nest", "neuron"])
def test_stop_request_stops_after_the_step(tmp_path, simulator):
    stopped = scenario(tmp_path, simulator, "--chunks", "10", "--stop-at", "95")
    # 50 ms presimulation, then steps of 15 ms: the step ending at 95 ms is the last
    np.testing.assert_allclose(stopped["reached_ms"], [50.0, 45.0])
    assert stopped["t_ms"] == pytest.approx(95.0)
    full = scenario(tmp_path, simulator, "--chunks", "10")
    for name in POPULATIONS:  # what was recorded is what the full run has up to 95 ms
        keep = full[f"times_{name}"] <= 95.0
        np.testing.assert_array_equal(stopped[f"times_{name}"], full[f"times_{name}"][keep])


def test_brian2_run_gives_the_spikes_of_pynn_run(tmp_path):
    full = scenario(tmp_path, "brian2")
    plain = scenario(tmp_path, "brian2", "--pynn-run")
    assert_same_spikes(full, plain)
    np.testing.assert_allclose(full["reached_ms"], [50.0, 150.0])
