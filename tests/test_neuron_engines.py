"""NEURON's engines (classic, CoreNEURON), Poisson deliveries and threads give
the same spikes.

CoreNEURON runs this package's own reset and synapse mechanisms, the classic
engine PyNN's; the arithmetic is the same, so the spikes must be identical, not
only close. The Poisson background added inside the synapse draws the same
trains as the NetStims; its sums may differ in the last bit (order within a
step), which did not change a spike in these runs. Threads need delays of at least two steps, so the thread runs set
``delay_rel_sd`` to 0 (every delay at its mean); with one-step delays more than
one thread is refused before anything is built.
"""

import json
import os
import subprocess
import sys

import pytest

import golden_spikes
from pd14_pynn import backends, parameters
from pd14_pynn.backends import neuron as neuron_backend
from pd14_pynn.backends import neuron_coreneuron

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SMALL = ["--n-scaling", "0.03", "--k-scaling", "0.03", "--t-presim", "0", "--t-sim", "250",
         "--seed", "7"]


@pytest.fixture(scope="module")
def run_neuron(tmp_path_factory):
    """``run_neuron(name, *options, config=None)`` -> (spike digest, settings) of a
    small run of run/main.py neuron; ``config``: a dict of parameter overrides."""
    folder = tmp_path_factory.mktemp("neuron_engines")

    def run(name, *options, config=None, ranks=1):
        out = folder / name
        command = [sys.executable, os.path.join(ROOT, "run", "main.py"), "neuron", *SMALL,
                   *options, "--out", str(out)]
        if ranks > 1:
            command = ["mpirun", "-np", str(ranks), *command]
        if config is not None:
            path = folder / f"{name}.json"
            path.write_text(json.dumps(config))
            command += ["--config", str(path)]
        env = {**os.environ, "PYTHONPATH": ROOT, "OMPI_ALLOW_RUN_AS_ROOT": "1",
               "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1", "OMPI_MCA_rmaps_base_oversubscribe": "1",
               "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]}
        env.pop("PD14_NEURON_ENGINE", None)
        proc = subprocess.run(command, capture_output=True, text=True, env=env, cwd=str(folder))
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
        with open(out / "metadata.json") as handle:
            settings = json.load(handle)["settings"]
        return golden_spikes.digest(out), settings

    run.folder = folder
    return run


def test_coreneuron_gives_the_classic_spikes(run_neuron):
    classic, classic_settings = run_neuron("classic", "--neuron-engine", "classic")
    core, core_settings = run_neuron("default")
    assert (classic_settings["engine"], classic_settings["poisson"]) == ("classic", "netstim")
    # the default where NEURON has it: Poisson input added inside the synapse
    assert (core_settings["engine"], core_settings["poisson"]) == ("coreneuron", "synapse")
    assert sum(classic["counts"].values()) > 500
    assert core == classic
    core_netstim, _ = run_neuron("core_netstim", "--neuron-poisson", "netstim")
    assert core_netstim == classic
    # the in-synapse Poisson input on the classic engine, on 2 MPI ranks
    ranks, ranks_settings = run_neuron("classic_synapse_np2", "--neuron-poisson", "synapse",
                                       ranks=2)
    assert (ranks_settings["engine"], ranks_settings["poisson"]) == ("classic", "synapse")
    assert ranks == classic


def test_coreneuron_runs_every_step_of_a_run_in_pieces(run_neuron):
    # 500 ms + 3,000 ms in 4 psolve calls (1,000 ms at most each); asked to stop at
    # multiples of dt, CoreNEURON had stopped one step short about every 1,000 steps
    from pd14_pynn import storage
    timing = ("--t-presim", "500", "--t-sim", "3000")
    core, _ = run_neuron("pieces_coreneuron", "--neuron-engine", "coreneuron", *timing)
    classic, _ = run_neuron("pieces_classic", "--neuron-engine", "classic", *timing)
    for name in ("pieces_coreneuron", "pieces_classic"):
        t_stop = storage.read_block(str(run_neuron.folder / name)).segments[0].t_stop
        assert float(t_stop.rescale("ms")) == pytest.approx(3500.0, abs=1e-6), name
    assert core == classic


def test_a_described_model_with_replaced_areas_gets_every_poisson_input(tmp_path):
    # areas A and C of the three-area file: each population gets its background and
    # the Poisson inputs replacing area B; drawn inside the synapse or by NetStims,
    # the same Random123 numbers give the same spikes only if no input is lost
    digests = []
    for poisson in ("synapse", "netstim"):
        out = tmp_path / poisson
        proc = subprocess.run(
            [sys.executable, os.path.join(ROOT, "run", "main.py"), "neuron", "--model",
             os.path.join(ROOT, "tests", "data", "three_areas.json"), "--areas", "A", "C",
             "--n-scaling", "0.02", "--k-scaling", "0.05", "--t-sim", "200",
             "--neuron-poisson", poisson, "--out", str(out)],
            capture_output=True, text=True, cwd=str(tmp_path),
            env={**os.environ, "PYTHONPATH": ROOT,
                 "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]})
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
        digests.append(golden_spikes.digest(out))
    assert sum(digests[1]["counts"].values()) > 50
    assert digests[0] == digests[1]


def test_threads_give_the_same_spikes(run_neuron):
    even_delays = {"delay_rel_sd": 0.0}
    one, _ = run_neuron("classic_t1", "--neuron-engine", "classic", config=even_delays)
    two, settings = run_neuron("classic_t2", "--neuron-engine", "classic", "--threads", "2",
                               config=even_delays)
    core_two, core_settings = run_neuron("core_t2", "--threads", "2", config=even_delays)
    assert settings["threads"] == core_settings["threads"] == 2
    assert sum(one["counts"].values()) > 500
    assert two == one
    assert core_two == one
    # CoreNEURON on 2 MPI ranks (it needs two-step delays there too)
    ranks, ranks_settings = run_neuron("core_np2", config=even_delays, ranks=2)
    assert ranks_settings["engine"] == "coreneuron"
    assert ranks == one


def test_threads_with_one_step_delays_are_refused_before_building():
    params = parameters.resolve({"threads": 2})
    with pytest.raises(backends.BackendError, match="mpirun -np 2"):
        backends.get("neuron").check(params, 1)
    backends.get("neuron").check(parameters.resolve({"threads": 2, "delay_rel_sd": 0.0}), 1)
    # two-step means are needed even without spread
    with pytest.raises(backends.BackendError, match="two\\s+time steps"):
        backends.get("neuron").check(parameters.resolve(
            {"threads": 2, "delay_rel_sd": 0.0, "delay_inh_mean_ms": 0.1}), 1)


def test_coreneuron_under_mpi_needs_two_step_delays(monkeypatch):
    from pd14_pynn import parallel
    monkeypatch.delenv("PD14_NEURON_ENGINE", raising=False)
    monkeypatch.setattr(parallel, "launcher_size", lambda: 2)
    assert neuron_backend.choose_engine(parameters.resolve({})) == "classic"
    assert neuron_backend.choose_engine(parameters.resolve({"delay_rel_sd": 0.0})) == "coreneuron"
    with pytest.raises(backends.BackendError, match="between MPI ranks"):
        backends.get("neuron").check(parameters.resolve({"neuron_engine": "coreneuron"}), 1)


def test_engine_choice(monkeypatch):
    monkeypatch.delenv("PD14_NEURON_ENGINE", raising=False)
    backend = backends.get("neuron")
    assert neuron_coreneuron.available()  # the PyPI wheel has CoreNEURON
    assert neuron_backend.choose_engine(parameters.resolve({})) == "coreneuron"
    assert backend.engine(parameters.resolve({})) == "neuron_coreneuron"
    # PyNN's SpikeSourcePoisson (thalamic input) is not compiled for CoreNEURON
    thalamic = parameters.resolve({"thalamic_input": True})
    assert neuron_backend.choose_engine(thalamic) == "classic"
    assert backend.engine(thalamic) == "neuron"
    with pytest.raises(backends.BackendError, match="--neuron-engine classic"):
        backend.check(parameters.resolve({"thalamic_input": True,
                                          "neuron_engine": "coreneuron"}), 1)
    monkeypatch.setenv("PD14_NEURON_ENGINE", "fast")
    with pytest.raises(backends.BackendError, match="unknown NEURON engine 'fast'"):
        backend.check(parameters.resolve({}), 1)
    monkeypatch.setenv("PD14_NEURON_ENGINE", "classic")
    assert neuron_backend.choose_engine(parameters.resolve({})) == "classic"


def test_engine_refused_where_nrnivmodl_core_is_missing(monkeypatch):
    monkeypatch.setattr(neuron_coreneuron, "available", lambda: False)
    assert neuron_backend.choose_engine(parameters.resolve({})) == "classic"
    with pytest.raises(backends.BackendError, match="needs NEURON with CoreNEURON"):
        backends.get("neuron").check(parameters.resolve({"neuron_engine": "coreneuron"}), 1)


def test_compiled_mechanisms_are_cached_by_content(tmp_path, monkeypatch):
    monkeypatch.setenv(neuron_coreneuron.CACHE_ENV, str(tmp_path))
    key = neuron_coreneuron.mechanisms_key("9.0.2")
    assert key != neuron_coreneuron.mechanisms_key("9.0.3")
    # a cached build is used as it is: nothing is compiled
    arch = tmp_path / key / "x86_64"
    arch.mkdir(parents=True)
    for name in ("libnrnmech.so", "libcorenrnmech.so"):
        (arch / name).write_text("")
    monkeypatch.setattr(neuron_coreneuron.subprocess, "run", None)
    assert neuron_coreneuron.compiled_mechanisms("9.0.2") == str(tmp_path / key)
    # other sources give another folder
    other = tmp_path / "mods"
    other.mkdir()
    (other / "a.mod").write_text("NEURON { SUFFIX a }\n")
    monkeypatch.setattr(neuron_coreneuron, "MOD_FOLDER", str(other))
    assert neuron_coreneuron.mechanisms_key("9.0.2") != key
