"""NEST with MPI: results depend on ranks x threads, not on how they are split.

`-np 2 --threads 1` and `-np 1 --threads 2` (two virtual processes either way)
must give the same connections and identical spikes, for NEST's own connection
rule and for the numpy-drawn network, with Poisson and with DC background; the
numpy-drawn network on NEST-MPI must be the one NEURON-MPI builds for the seed;
`run/main.py` under mpirun must write one run folder with every neuron once.

NEST with MPI is an optional component, built by `.ci/install-nest-mpi VENV`.
The tests run with the Python of the virtual environment named by
PD14_NEST_MPI_VENV (and fail if its NEST has no MPI), otherwise with this
interpreter if its NEST has MPI, otherwise they are skipped with that hint.
"""

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

pytestmark = pytest.mark.nest_mpi

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SCENARIO = os.path.join(HERE, "mpi_scenario.py")
INSTALL_HINT = ("build it with `.ci/install-nest-mpi VENV` (then `VENV/bin/pip install -e "
                "\".[all,test]\"`) and run pytest with VENV's python, or set PD14_NEST_MPI_VENV=VENV")


def _child_env(python):
    bin_dir = os.path.dirname(python)
    return {**os.environ, "OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
            "OMPI_MCA_rmaps_base_oversubscribe": "1",
            # the venv's bin/ first: PyNN's NEURON backend runs nrnivmodl from there
            "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
            "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}


@pytest.fixture(scope="module")
def python():
    """The Python whose NEST has MPI (skip, or fail if PD14_NEST_MPI_VENV says so)."""
    venv = os.environ.get("PD14_NEST_MPI_VENV")
    python = os.path.join(venv, "bin", "python") if venv else sys.executable
    if not os.path.isfile(python):
        pytest.fail(f"PD14_NEST_MPI_VENV={venv}: {python} does not exist; {INSTALL_HINT}")
    proc = subprocess.run(
        [python, "-c", "from pd14_pynn.backends.nest import has_mpi; print(has_mpi())"],
        capture_output=True, text=True, env=_child_env(python))
    answer = proc.stdout.strip()
    if answer == "True":
        assert shutil.which("mpirun"), "mpirun not found: apt-get install openmpi-bin"
        return python
    where = f"PD14_NEST_MPI_VENV={venv}" if venv else f"the NEST in {sys.prefix}"
    message = f"{where} has no MPI support (backends.nest.has_mpi: {answer or proc.stderr[-300:]}); " \
              f"NEST with MPI is optional: {INSTALL_HINT}"
    if venv:
        pytest.fail(message)
    pytest.skip(message)


def mpirun(python, n, *args, cwd):
    proc = subprocess.run(["mpirun", "-np", str(n), python, *args], capture_output=True,
                          text=True, env=_child_env(python), cwd=cwd, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    return proc


# DC background replaces only the mean of the missing input; at K = 0.05 the network
# is then silent (3 spikes in 1 s), at K = 0.2 it fires (~1,900 spikes in 300 ms)
K_SCALING = {"poisson": "0.05", "dc": "0.2"}


@pytest.fixture(scope="module")
def scenario(python, tmp_path_factory):
    """``scenario(simulator, ranks, threads, bg, rng)`` -> (connections per rank, spikes)."""
    folder = tmp_path_factory.mktemp("nest_mpi")
    cache, imported = {}, set()

    def get(simulator, ranks, threads, bg, rng):
        key = (simulator, ranks, threads, bg, rng)
        if simulator not in imported:
            # PyNN compiles NEURON's mechanisms (and tries NEST's extension module) on the
            # first import in an environment: once, here, not by two ranks in one folder
            proc = subprocess.run(
                [python, "-c", f"from pd14_pynn import backends; "
                               f"backends.get({simulator!r}).import_simulator()"],
                capture_output=True, text=True, env=_child_env(python), cwd=str(folder))
            assert proc.returncode == 0, proc.stderr[-3000:]
            imported.add(simulator)
        if key not in cache:
            prefix = folder / "_".join(map(str, key))
            mpirun(python, ranks, SCENARIO, simulator, str(prefix), "--threads", str(threads),
                   "--bg", bg, "--connectivity-rng", rng, "--t-sim", "200",
                   "--k-scaling", K_SCALING[bg], cwd=str(folder))
            connections = [dict(np.load(f"{prefix}.rank{r}.npz")) for r in range(ranks)]
            cache[key] = connections, dict(np.load(f"{prefix}.spikes.npz"))
        return cache[key]

    return get


def sorted_rows(arrays):
    rows = np.vstack(arrays)
    return rows[np.lexsort(rows.T[::-1])]


def all_connections(per_rank):
    """Projection -> rows (pre, post, weight nA, delay ms) of all ranks, sorted."""
    return {key: sorted_rows([rank[key] for rank in per_rank]) for key in per_rank[0]}


@pytest.mark.parametrize("rng", ["native", "numpy"])
@pytest.mark.parametrize("bg", ["poisson", "dc"])
def test_two_ranks_one_thread_equal_one_rank_two_threads(scenario, bg, rng):
    one_rank, spikes_one = scenario("nest", 1, 2, bg, rng)
    two_ranks, spikes_two = scenario("nest", 2, 1, bg, rng)
    # each rank holds the connections onto its own neurons, and some of them
    assert all(sum(len(v) for v in rank.values()) > 0 for rank in two_ranks)
    network_one, network_two = all_connections(one_rank), all_connections(two_ranks)
    assert len(network_one) == 55  # 9 of the 64 pairs have connection probability 0
    for key in network_one:
        np.testing.assert_array_equal(network_one[key], network_two[key],
                                      err_msg=f"projection {key} differs")
    assert sum(len(s) for s in spikes_one.values()) > 100
    for name in spikes_one:
        np.testing.assert_array_equal(sorted_rows([spikes_one[name]]),
                                      sorted_rows([spikes_two[name]]),
                                      err_msg=f"spikes of {name} differ")


def test_native_network_depends_on_virtual_processes(scenario):
    """What the test above relies on: NEST draws per virtual process, so 1 VP differs
    from 2 VPs (the comparison above can see a difference)."""
    one_vp = all_connections(scenario("nest", 1, 1, "poisson", "native")[0])
    two_vps = all_connections(scenario("nest", 1, 2, "poisson", "native")[0])
    assert any(not np.array_equal(one_vp[key], two_vps[key]) for key in one_vp)


def test_numpy_network_equals_neuron_mpi(scenario):
    nest_network = all_connections(scenario("nest", 2, 1, "poisson", "numpy")[0])
    neuron_network = all_connections(scenario("neuron", 2, 1, "poisson", "numpy")[0])
    assert nest_network.keys() == neuron_network.keys()
    for key in nest_network:
        nest_rows, neuron_rows = nest_network[key], neuron_network[key]
        np.testing.assert_array_equal(nest_rows[:, :2], neuron_rows[:, :2],
                                      err_msg=f"projection {key}: pairs differ")
        # NEURON's weights are stored with its charge correction and read back divided
        # by it; delays are drawn on the 0.1 ms grid
        np.testing.assert_allclose(nest_rows[:, 2:], neuron_rows[:, 2:], rtol=1e-9, atol=1e-12,
                                   err_msg=f"projection {key}: weights or delays differ")


def test_main_under_mpirun_writes_one_gathered_run_folder(python, tmp_path):
    common = ["--n-scaling", "0.02", "--k-scaling", "0.2", "--t-presim", "50", "--t-sim", "100",
              "--bg", "dc", "--seed", "3"]
    main = os.path.join(ROOT, "run", "main.py")
    two = mpirun(python, 2, main, "nest", "--threads", "1", *common, "--out",
                 str(tmp_path / "np2"), cwd=str(tmp_path))
    mpirun(python, 1, main, "nest", "--threads", "2", *common, "--out", str(tmp_path / "np1"),
           cwd=str(tmp_path))
    assert two.stdout.count("Results in") == 1  # rank 0 alone reports
    from pd14_pynn import storage
    metadata = json.loads((tmp_path / "np2" / "metadata.json").read_text())
    assert metadata["mpi_processes"] == 2 and metadata["settings"]["threads"] == 1
    timings = json.loads((tmp_path / "np2" / "timings.json").read_text())
    assert len(timings["ranks"]) == 2 and all(r["peak_rss_bytes"] > 0 for r in timings["ranks"])
    assert timings["peak_rss_bytes_total"] == sum(r["peak_rss_bytes"] for r in timings["ranks"])
    trains = {}
    for run in ("np1", "np2"):
        block = storage.read_block(str(tmp_path / run))
        trains[run] = sorted((t.annotations["population"], t.annotations["index"],
                              tuple(t.magnitude)) for t in block.segments[0].spiketrains)
    populations = [population for population, _, _ in trains["np2"]]
    for name, size in metadata["num_neurons"].items():
        assert populations.count(name) == size  # every neuron once, gathered from both ranks
    assert sum(len(times) for _, _, times in trains["np2"]) > 50
    assert trains["np1"] == trains["np2"]

