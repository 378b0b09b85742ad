"""NEST's one-call population create gives what PyNN's constructor gives."""

import os
import subprocess
import sys

import numpy as np
import pytest

from create_scenario import NEST_STATE
from pd14_pynn.parameters import POPULATIONS

HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture(scope="module")
def created(tmp_path_factory):
    out = tmp_path_factory.mktemp("create") / "create.npz"
    proc = subprocess.run([sys.executable, os.path.join(HERE, "create_scenario.py"), str(out)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    return dict(np.load(out))


@pytest.mark.parametrize("name", POPULATIONS)
def test_native_create_sets_every_parameter_and_potential(created, name):
    for key in NEST_STATE:
        np.testing.assert_array_equal(created[f"fast_{name}_{key}"], created[f"pynn_{name}_{key}"],
                                      err_msg=key)
    # the initial potentials are the drawn ones, not NEST's default
    assert np.std(created[f"fast_{name}_V_m"]) > 1.0
    np.testing.assert_array_equal(created[f"fast_{name}_v_init"], created[f"fast_{name}_V_m"])
    np.testing.assert_allclose(created[f"fast_{name}_pynn_get"], created[f"pynn_{name}_pynn_get"])


@pytest.mark.parametrize("name", POPULATIONS)
def test_native_create_gives_consecutive_ids_known_to_pynn(created, name):
    ids = created[f"fast_{name}_ids"]
    np.testing.assert_array_equal(ids, np.arange(ids[0], ids[0] + ids.size))
    np.testing.assert_array_equal(created[f"fast_{name}_first_last"], [ids[0], ids[-1]])


def test_native_create_spikes_like_pynn_create(created):
    total = 0
    for name in POPULATIONS:
        np.testing.assert_array_equal(created[f"fast_{name}_spikes"],
                                      created[f"pynn_{name}_spikes"], err_msg=name)
        total += len(created[f"fast_{name}_spikes"])
    assert total > 100
