"""The Brian2 network as a few objects (pd14_pynn.backends.brian2_network): the
count does not grow with projections or areas, each projection reads back what
its connector drew, populations read their spikes from the shared monitor, and
the dynamics are those of PyNN's one-object-per-projection structure wherever
the order of summing synaptic inputs cannot matter."""

import importlib.util
import json
import os
import subprocess
import sys
import types

import numpy as np
import pytest

import golden_spikes

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("brian2_network") / "out.npz"
    proc = subprocess.run([sys.executable, os.path.join(HERE, "brian2_network_scenario.py"),
                           str(out)], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": ROOT})
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    return dict(np.load(out))


def test_one_group_and_one_synapses_object_per_source_and_receptor(built):
    assert int(built["projections"]) == 59  # 55 recurrent + 4 thalamic
    assert int(built["neuron_groups"]) == 1
    # excitatory and inhibitory from the neurons, excitatory from the thalamus
    assert int(built["synapses_objects"]) == 3
    assert int(built["monitors"]) == 1


def test_each_projection_reads_back_what_its_connector_drew(built):
    # get(format="list") gave each projection's sources and targets in the order
    # drawn (checked in the scenario) and weights and delays up to unit rounding
    assert float(built["worst"]) < 1e-12
    lengths = built["lengths"]
    np.testing.assert_array_equal(lengths[:, 0], lengths[:, 2])  # len()
    np.testing.assert_array_equal(lengths[:, 1], lengths[:, 2])  # size()
    np.testing.assert_allclose(built["weight_sums"][:, 0], built["weight_sums"][:, 1],
                               rtol=1e-9)  # format="array", multapses summed


def test_populations_read_all_spikes_of_the_shared_monitor(built):
    assert int(built["monitor_spikes"]) > 10
    assert int(built["population_spikes"].sum()) == int(built["monitor_spikes"])


def test_poisson_inputs_add_up_per_weight(built):
    # L2/3E: background (K_ext at 8/s) plus 10 sources at 2/s of the same weight in
    # one draw; 5.5 sources at 4/s of twice the weight in a second one (dt = 0.1 ms)
    k_ext, w = float(built["K_ext"][0]), float(built["psc_ext_pA"]) * 1e-12
    n = int(built["sizes"][0])
    np.testing.assert_allclose(built["bg_bg_lambda"], np.full(n, (k_ext * 8.0 + 20.0) * 1e-4))
    np.testing.assert_allclose(built["bg_bg_weight"], np.full(n, w))
    np.testing.assert_allclose(built["bg_bg_lambda_1"], np.full(n, 22.0 * 1e-4))
    np.testing.assert_allclose(built["bg_bg_weight_1"], np.full(n, 2 * w))
    # L2/3I has only its background: no spikes from the second class
    np.testing.assert_array_equal(built["bg_lambda_1_L23I"], np.zeros(int(built["sizes"][1])))


def _object_count():
    spec = importlib.util.spec_from_file_location(
        "brian2_object_count", os.path.join(ROOT, "run", "brian2_object_count.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_object_count_does_not_grow_with_areas_and_projections():
    count = _object_count()
    args = types.SimpleNamespace(scale=0.01, t_sim=10.0, build_only=True)
    one, three = count.measure(1, args), count.measure(3, args)
    assert "error" not in one and "error" not in three, (one, three)
    assert three["projections"] > 2 * one["projections"]  # 3 x 55 + 12 inter-area
    assert three["synapses_objects"] == one["synapses_objects"] == 2
    assert three["objects"] == one["objects"]


def test_a_described_model_with_replaced_areas_stays_few_objects():
    # areas A and C of the three-area file: inter-area projections go into the shared
    # Synapses objects, and the Poisson inputs replacing area B into the group's draw
    proc = subprocess.run(
        [sys.executable, os.path.join(HERE, "brian2_described_scenario.py"),
         os.path.join(HERE, "data", "three_areas.json"), "A", "C"],
        capture_output=True, text=True, env={**os.environ, "PYTHONPATH": ROOT})
    assert proc.returncode == 0, proc.stderr[-3000:]
    built = json.loads(proc.stdout.strip().splitlines()[-1])
    assert built["projections"] > 0 and built["replaced"] > 0
    assert built["objects"].get("Synapses") == 2          # excitatory, inhibitory
    assert built["objects"].get("NeuronGroup") == 1
    assert "PoissonInput" not in built["objects"]


# Weights of each receptor all equal (no weight spread, L4E -> L2/3E not doubled)
# and equal DC everywhere: every order of summing inputs gives the same number, so
# the merged network must give, spike for spike, what PyNN's structure (one
# NeuronGroup per population, one Synapses per projection, commit e3c9883) gave
EQUAL_WEIGHTS = ["run/main.py", "brian2", "--config", "tests/data/brian2_equal_weights.json",
                 "--bg", "dc", "--n-scaling", "0.05", "--k-scaling", "0.05",
                 "--t-presim", "100", "--t-sim", "300", "--seed", "55"]
PER_PROJECTION_DIGEST = "790e9df232b140a9d42f32fcb8c661b6384dce397a0a4e61856c9828c5ed5d8a"
PER_PROJECTION_COUNTS = {"L23E": 1, "L23I": 1295, "L4E": 2274, "L4I": 1255, "L5E": 230,
                         "L5I": 384, "L6E": 1, "L6I": 828}


def test_same_spikes_as_one_object_per_projection_where_order_cannot_matter(tmp_path):
    out = tmp_path / "run"
    proc = subprocess.run([sys.executable, *EQUAL_WEIGHTS, "--out", str(out)], cwd=ROOT,
                          capture_output=True, text=True,
                          env={**os.environ, **golden_spikes.ENV, "PYTHONPATH": ROOT})
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    got = golden_spikes.digest(out)
    assert got["counts"] == PER_PROJECTION_COUNTS
    assert got["sha256"] == PER_PROJECTION_DIGEST
