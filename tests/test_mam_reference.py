"""MAM's own simulation as a run folder (pd14_pynn.mam_reference).

Reading MAM's spike files is tested on files written here in NEST's ASCII
layout, in the default suite. Running MAM's own code needs a clone of
INM-6/multi-area-model: opt in with PD14_MAM_PATH=PATH (marker ``mam``), as in
tests/test_mam.py.
"""

import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

from pd14_pynn import mam_reference, spike_tables, storage
from pd14_pynn.validation import runs

ROOT = pathlib.Path(__file__).resolve().parents[1]
HEADER = "# NEST version: 3.10.0\n# RecordingBackendASCII\n# Simulation resolution: 0.1\nsender\ttime_ms\n"


def write_recordings(folder):
    """Two areas, A with L2/3E (ids 1-3) and L2/3I (4-5), B with L5E (6-9); spikes split
    over two files as NEST writes one per virtual process."""
    folder.mkdir()
    (folder / "network_gids.txt").write_text("A,23E,1,3\nA,23I,4,5\nB,5E,6,9\n")
    (folder / "abc-spikes-10-0.dat").write_text(HEADER + "2\t1.5\n6\t3.0\n9\t7.25\n")
    (folder / "abc-spikes-10-1.dat").write_text(HEADER + "2\t0.5\n5\t2.0\n")
    (folder / "abc-spikes-10-2.dat").write_text(HEADER)      # a process without spikes


def test_block_from_recordings_puts_each_spike_in_its_area_and_population(tmp_path):
    write_recordings(tmp_path / "rec")
    block, rows = mam_reference.block_from_recordings(tmp_path / "rec", 10.0)
    assert [(r["area"], r["population"], r["first_channel"], r["size"]) for r in rows] == [
        ("A", "L23E", 0, 3), ("A", "L23I", 3, 2), ("B", "L5E", 5, 4)]
    table = spike_tables.spike_table(block)
    assert set(table) == {"A/L23E", "A/L23I", "B/L5E"}
    by_neuron = {key: [np.sort(t).tolist() for t in spike_tables.split_by_neuron(spikes)]
                 for key, spikes in table.items()}
    assert by_neuron["A/L23E"] == [[], [0.5, 1.5], []]      # id 2 is neuron 1 of L2/3E
    assert by_neuron["A/L23I"] == [[], [2.0]]
    assert by_neuron["B/L5E"] == [[3.0], [], [], [7.25]]


def test_the_block_survives_the_run_folder_round_trip(tmp_path):
    write_recordings(tmp_path / "rec")
    block, _ = mam_reference.block_from_recordings(tmp_path / "rec", 10.0)
    storage.write_block(block, tmp_path / "spikes.pkl")
    table = spike_tables.spike_table(storage.read_block(tmp_path / "spikes.pkl"))
    assert sum(v.times_ms.size for v in table.values()) == 5


def test_no_spike_file_is_an_error_that_names_the_folder(tmp_path):
    (tmp_path / "rec").mkdir()
    (tmp_path / "rec" / "network_gids.txt").write_text("A,23E,1,3\n")
    with pytest.raises(ValueError, match="no spike file"):
        mam_reference.block_from_recordings(tmp_path / "rec", 10.0)


def test_network_params_follow_the_state():
    ground = mam_reference.network_params("/clone", 0.01, 0.02, "ground")
    assert (ground["N_scaling"], ground["K_scaling"]) == (0.01, 0.02)
    assert ground["connection_params"]["cc_weights_factor"] == 1.0
    metastable = mam_reference.network_params("/clone", 0.01, 0.02, "metastable")
    assert metastable["connection_params"]["cc_weights_I_factor"] == 2.0
    with pytest.raises(ValueError, match="state"):
        mam_reference.network_params("/clone", 0.01, 0.02, "excited")


def test_the_simulation_script_imports_nothing_of_pd14_pynn():
    text = (ROOT / "pd14_pynn" / "mam_run.py").read_text()
    assert "pd14_pynn" not in text.split('"""')[2]


@pytest.mark.mam
def test_mams_own_simulation_becomes_a_run_folder(tmp_path):
    clone = os.environ.get("PD14_MAM_PATH")
    if not clone:
        pytest.skip("no MAM clone: set PD14_MAM_PATH (see tests/test_mam.py)")
    timings = mam_reference.run_mam(clone, tmp_path / "mam", 0.01, 0.01, 50.0, seed=3)
    # the numbers MAM's own down-scaled example builds (its README, N = K = 0.01)
    assert timings["num_neurons"] == 41174
    assert timings["num_synapses"] == 2409156
    run = runs.read_run(str(tmp_path / "mam"))
    assert run.backend == mam_reference.SIMULATOR
    table = spike_tables.spike_table(storage.read_block(tmp_path / "mam" / "spikes.pkl"))
    assert len(table) == 254
    assert "TH/L4E" not in table and "V1/L4E" in table


def test_the_benchmark_refuses_without_a_clone(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PD14_MAM_PATH"}
    proc = subprocess.run([sys.executable, "run/mam_side_by_side.py", "--out", str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True, env=env)
    assert proc.returncode != 0
    assert proc.stderr.strip().splitlines()[-1].startswith("error: give the clone")
