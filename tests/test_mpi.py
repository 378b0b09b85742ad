"""MPI: NEURON gives the same network and spikes on 1 and 2 ranks; bad launches are refused.

Needs Open MPI's ``mpirun`` (Debian: openmpi-bin libopenmpi-dev) and mpi4py;
without them these tests fail with that hint (they are part of the required set).
"""

import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from pd14_pynn.backends import BackendError, nest as nest_backend

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
ENV = {**os.environ, "OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
       "OMPI_MCA_rmaps_base_oversubscribe": "1",
       "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")}


def mpirun(n, *args, cwd=None):
    assert shutil.which("mpirun"), \
        "mpirun not found: apt-get install openmpi-bin libopenmpi-dev && pip install mpi4py"
    return subprocess.run(["mpirun", "-np", str(n), sys.executable, *args],
                          capture_output=True, text=True, env=ENV, cwd=cwd, timeout=600)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mpi")
    for n in (1, 2):
        proc = mpirun(n, os.path.join(HERE, "mpi_scenario.py"), "neuron", str(folder / f"np{n}"),
                      cwd=str(folder))
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    return folder


def sorted_rows(arrays):
    rows = np.vstack(arrays)
    return rows[np.lexsort(rows.T[::-1])]


def test_network_independent_of_rank_count(runs):
    one = np.load(runs / "np1.rank0.npz")
    two = [np.load(runs / f"np2.rank{r}.npz") for r in (0, 1)]
    assert len(one.files) == 55
    for key in one.files:
        # each rank holds only connections onto its own neurons
        assert len(two[0][key]) + len(two[1][key]) == len(one[key])
        np.testing.assert_allclose(sorted_rows([one[key]]), sorted_rows([t[key] for t in two]),
                                   err_msg=f"projection {key} differs between 1 and 2 ranks")


def test_spikes_independent_of_rank_count(runs):
    one, two = np.load(runs / "np1.spikes.npz"), np.load(runs / "np2.spikes.npz")
    assert sum(len(one[k]) for k in one.files) > 100
    for key in one.files:
        np.testing.assert_array_equal(sorted_rows([one[key]]), sorted_rows([two[key]]))


def test_gathered_output_has_every_population_once(tmp_path):
    out = tmp_path / "run"
    proc = mpirun(2, os.path.join(ROOT, "run", "main.py"), "neuron", "--n-scaling", "0.02",
                  "--k-scaling", "0.05", "--t-presim", "50", "--t-sim", "100", "--out", str(out),
                  cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    from pd14_pynn import storage
    import json
    metadata = json.loads((out / "metadata.json").read_text())
    assert metadata["mpi_processes"] == 2
    block = storage.read_block(str(out))
    populations = [t.annotations["population"] for t in block.segments[0].spiketrains]
    for name, size in metadata["num_neurons"].items():
        assert populations.count(name) == size
    timings = json.loads((out / "timings.json").read_text())
    assert len(timings["ranks"]) == 2 and all(r["peak_rss_bytes"] > 0 for r in timings["ranks"])
    assert proc.stdout.count("Results in") == 1  # rank 0 alone reports
    # progress in plain lines: a rank's stdout is a terminal 0 columns wide
    assert proc.stdout.count("simulate: 100%") == 2  # presimulate and simulate
    assert "simulate: 100%" in (out / "run.log").read_text()


@pytest.mark.skipif(nest_backend.has_mpi() is True,
                    reason="the NEST here has MPI; tests/test_nest_mpi.py runs it under mpirun")
def test_nest_wheel_under_mpirun_explains(tmp_path):
    proc = mpirun(1, os.path.join(ROOT, "run", "main.py"), "nest", "--out", str(tmp_path / "o"))
    assert proc.returncode != 0
    assert "no MPI support" in proc.stderr and "docs/mpi.md" in proc.stderr


def test_brian2_with_two_ranks_explains(tmp_path):
    proc = mpirun(2, os.path.join(ROOT, "run", "main.py"), "brian2", "--out", str(tmp_path / "o"))
    assert proc.returncode != 0
    assert "Brian2 has no MPI support" in proc.stderr
    assert proc.stderr.count("error:") == 1  # one message, not one per rank


def test_child_of_a_singleton_mpi_process_is_not_under_a_launcher(tmp_path):
    """A process that imported mpi4py (Elephant does) must not make its children refuse NEST."""
    code = ("import subprocess, sys\nfrom mpi4py import MPI\n"
            "sys.exit(subprocess.run([sys.executable, '-c', 'from pd14_pynn import parallel; "
            "print(parallel.under_launcher(), parallel.launcher_size())']).returncode)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["False", "1"]


def test_two_area_run_on_two_ranks_equals_one_rank(tmp_path):
    """run/two_areas.py goes through simulation.run: under mpirun it writes one output,
    with the spikes of the one-rank run."""
    from pd14_pynn import spike_tables, storage
    import json
    outs = {}
    for n in (1, 2):
        outs[n] = tmp_path / f"np{n}"
        proc = mpirun(n, os.path.join(ROOT, "run", "two_areas.py"), "neuron", "--n-scaling",
                      "0.02", "--k-scaling", "0.05", "--t-presim", "50", "--t-sim", "100",
                      "--out", str(outs[n]), cwd=str(tmp_path))
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
        assert proc.stdout.count("Results in") == 1  # rank 0 alone reports
    metadata = json.loads((outs[2] / "metadata.json").read_text())
    assert metadata["mpi_processes"] == 2 and metadata["areas"] == ["V1", "V2"]
    assert len(json.loads((outs[2] / "timings.json").read_text())["ranks"]) == 2
    one, two = (spike_tables.spike_table(storage.read_block(str(outs[n]))) for n in (1, 2))
    assert sorted(one) == sorted(two) and len(one) == 16  # 2 areas x 8 populations
    assert sum(len(s.times_ms) for s in one.values()) > 100
    for key in one:
        assert one[key].size == two[key].size
        np.testing.assert_array_equal(one[key].index, two[key].index, err_msg=key)
        np.testing.assert_array_equal(one[key].times_ms, two[key].times_ms, err_msg=key)


def test_signal_to_one_rank_stops_every_rank(tmp_path):
    """SIGTERM to one NEURON rank: all ranks stop after the same step (they agree on it
    after every progress step), the gathered partial spikes and the status are written."""
    import json
    import signal
    import time
    import psutil
    from pd14_pynn import run_folder, spike_tables, storage
    out = tmp_path / "run"
    assert shutil.which("mpirun")
    mpirun_process = subprocess.Popen(
        ["mpirun", "-np", "2", sys.executable, os.path.join(ROOT, "run", "main.py"), "neuron",
         "--n-scaling", "0.01", "--k-scaling", "0.01", "--t-presim", "50", "--t-sim", "10000",
         "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV,
        cwd=str(tmp_path))
    deadline = time.monotonic() + 300
    while (run_folder.read_status(str(out)) or {}).get("phase") != "simulate":
        assert mpirun_process.poll() is None and time.monotonic() < deadline, \
            mpirun_process.communicate()[1][-3000:]
        time.sleep(0.05)
    ranks = [p for p in psutil.Process(mpirun_process.pid).children(recursive=True)
             if "main.py" in " ".join(p.cmdline())]
    assert len(ranks) == 2
    ranks[1].send_signal(signal.SIGTERM)
    stdout, stderr = mpirun_process.communicate(timeout=300)
    assert mpirun_process.returncode != 0
    assert stderr.count("interrupted by SIGTERM in simulate at ") == 1, stderr[-3000:]
    status = json.loads((out / "status.json").read_text())
    assert status["status"] == "interrupted" and 50 < status["simulated_ms"] < 10050
    block = storage.read_block(str(out))
    metadata = json.loads((out / "metadata.json").read_text())
    spikes = spike_tables.spike_table(block)
    # the spikes of both ranks' neurons are there, up to the time reached
    assert {name: table.size for name, table in spikes.items()} == metadata["num_neurons"]
    times = [t for table in spikes.values() for t in table.times_ms]
    assert times and max(times) <= status["simulated_ms"]
    timings = json.loads((out / "timings.json").read_text())
    assert len(timings["ranks"]) == 2 and timings["complete"] is False


def test_nest_connection_limit_counts_virtual_processes(monkeypatch):
    """NEST's limit is per virtual process: under mpirun, ranks x threads share it."""
    limit = nest_backend.MAX_CONNECTIONS_PER_THREAD
    assert [nest_backend.threads_needed(3 * limit, ranks) for ranks in (1, 2, 3)] == [3, 2, 1]
    params = {"threads": 1}
    nest_backend.choose_threads(params, limit)  # one virtual process is enough
    with pytest.raises(BackendError, match="--threads 2"):
        nest_backend.choose_threads(params, 2 * limit)
    monkeypatch.setenv("OMPI_COMM_WORLD_SIZE", "2")
    monkeypatch.setenv("OMPI_COMM_WORLD_RANK", "0")
    monkeypatch.delenv("OMPI_MCA_ess", raising=False)
    assert nest_backend.choose_threads(params, 2 * limit) == 1  # 2 ranks x 1 thread
    with pytest.raises(BackendError, match=r"per process \(2 MPI processes\).*--threads 2"):
        nest_backend.choose_threads(params, 4 * limit)


@pytest.mark.parametrize("layout", ["pip", "cmake-prefix"])
@pytest.mark.parametrize("has_mpi", [True, False])
def test_nest_has_mpi_reads_installed_config(tmp_path, monkeypatch, layout, has_mpi):
    """pip (wheel or .ci/install-nest-mpi) keeps config.h in the package; a CMake
    install with a prefix puts it in PREFIX/include."""
    site = tmp_path / "lib" / "python3.11" / "site-packages"
    (site / "nest").mkdir(parents=True)
    (site / "nest" / "__init__.py").write_text("")
    include = (site / "nest" if layout == "pip" else tmp_path) / "include" / "nest"
    include.mkdir(parents=True)
    line = "#define HAVE_MPI 1" if has_mpi else "/* #undef HAVE_MPI */"
    # HAVE_MPI4PY must not be taken for HAVE_MPI
    include.joinpath("config.h").write_text(f"{line}\n#define HAVE_MPI4PY 1\n")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.delitem(sys.modules, "nest", raising=False)
    assert nest_backend.has_mpi() is has_mpi
