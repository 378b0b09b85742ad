"""Brian2's standalone devices: device choice, refusals, a full run folder of the
default device (one compile, about a minute on 2 cores) and a second run that
recompiles nothing; with marker ``standalone`` (opt in with ``-m standalone``,
two more compiles) the compiled network against the runtime one, connection by
connection."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from pd14_pynn import parameters
from pd14_pynn.backends import brian2 as brian2_backend
from pd14_pynn.backends import brian2_standalone

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SCALE = 0.02


def test_device_parameter_and_environment(monkeypatch):
    monkeypatch.delenv("PD14_BRIAN2_DEVICE", raising=False)
    p = parameters.resolve({"brian2_device": "runtime"})
    assert brian2_backend.choose_device(p) == "runtime"
    monkeypatch.setenv("PD14_BRIAN2_DEVICE", "cpp_standalone")
    assert brian2_backend.choose_device(parameters.resolve({})) == "cpp_standalone"
    # the parameter wins over the environment
    assert brian2_backend.choose_device(p) == "runtime"
    monkeypatch.delenv("PD14_BRIAN2_DEVICE")
    expected = "cpp_standalone" if brian2_backend.cxx_compiler() else "runtime"
    assert brian2_backend.choose_device(parameters.resolve({})) == expected
    with pytest.raises(parameters.ParameterError, match="brian2_device = .gpu. is not allowed"):
        parameters.resolve({"brian2_device": "gpu"})


def test_threads_default_one_and_parameter():
    assert brian2_backend.choose_threads(parameters.resolve({})) == 1
    assert brian2_backend.choose_threads(parameters.resolve({"threads": 3})) == 3


def test_project_folder_shared_by_seeds_and_durations_not_by_networks():
    base = parameters.resolve({"N_scaling": 0.1, "K_scaling": 0.1})
    name = brian2_standalone.project_name("cpp_standalone", base, 1)
    assert name.startswith("cpp_standalone_N0.1-K0.1_poisson_t1_")
    same = parameters.resolve({"N_scaling": 0.1, "K_scaling": 0.1, "seed": 7, "t_sim_ms": 50.0,
                               "t_presim_ms": 10.0})
    assert brian2_standalone.project_name("cpp_standalone", same, 1) == name
    assert brian2_standalone.project_name("cpp_standalone", base, 2) != name
    other = parameters.resolve({"N_scaling": 0.2, "K_scaling": 0.1})
    assert brian2_standalone.project_name("cpp_standalone", other, 1) != name


def test_cuda_without_cuda_is_refused_before_anything_is_built(tmp_path):
    out = tmp_path / "run"
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "run", "main.py"), "brian2",
                           "--brian2-device", "cuda_standalone", "--n-scaling", "0.02",
                           "--k-scaling", "0.02", "--out", str(out)],
                          capture_output=True, text=True, cwd=str(tmp_path),
                          env={**os.environ, "PYTHONPATH": ROOT})
    if brian2_backend.importlib.util.find_spec("brian2cuda") is not None \
            and brian2_backend.shutil.which("nvcc"):
        pytest.fail("this test expects a machine without CUDA; use tests for the GPU there")
    assert proc.returncode == 2
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "cuda_standalone needs" in errors[0], proc.stderr
    assert not out.exists()


def test_report_code_names_both_phases():
    code = brian2_standalone.report_code([500.0, 1000.0])
    assert '"presimulate"' in code and '"simulate"' in code and "500.0" in code


# --- compiled runs (opt in: -m standalone) ---------------------------------

@pytest.fixture(scope="module")
def standalone_cache(tmp_path_factory):
    return str(tmp_path_factory.mktemp("brian2_standalone_cache"))


def _scenario(tmp_path, device, cache):
    out = tmp_path / f"{device}.npz"
    env = {**os.environ, "PYTHONPATH": ROOT, "PD14_BRIAN2_CACHE": cache}
    proc = subprocess.run([sys.executable, os.path.join(HERE, "scenario.py"), "brian2", "55",
                           str(out), "--scale", str(SCALE), "--brian2-device", device],
                          capture_output=True, text=True, cwd=str(tmp_path), env=env)
    assert proc.returncode == 0, f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return dict(np.load(out))


@pytest.mark.standalone
def test_standalone_network_is_the_runtime_network(tmp_path, standalone_cache):
    runtime = _scenario(tmp_path, "runtime", standalone_cache)
    compiled = _scenario(tmp_path, "cpp_standalone", standalone_cache)
    np.testing.assert_array_equal(compiled["counts"], runtime["counts"])
    dumped = [key for key in runtime if key.startswith("conn_")]
    assert len(dumped) == 4
    for key in dumped:
        # pre, post, weight (nA), delay (ms) of every synapse, in creation order
        np.testing.assert_array_equal(compiled[key], runtime[key], err_msg=key)
    # activity was recorded and read back (Poisson input differs: its own RNG)
    n_spikes = sum(len(compiled[f"spikes_{name}"]) for name in parameters.POPULATIONS)
    assert n_spikes > 100


# DC background: no random input before the thalamic pulse (at 700 ms), so both
# devices must compute the same trajectories
RUN_OPTIONS = ["--n-scaling", str(SCALE), "--k-scaling", str(SCALE), "--bg", "dc",
               "--t-presim", "100", "--t-sim", "200", "--record-v", "2", "--thalamic"]


def _main_run(out, cache, *options, device="cpp_standalone", extra_env=None):
    env = {**os.environ, "PYTHONPATH": ROOT, "PD14_BRIAN2_CACHE": cache,
           "PD14_BRIAN2_CODEGEN": "numpy", **(extra_env or {})}
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "run", "main.py"), "brian2",
                           "--brian2-device", device, *RUN_OPTIONS, "--out", str(out),
                           *options],
                          capture_output=True, text=True, cwd=str(out.parent), env=env)
    assert proc.returncode == 0, f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


def _project_folders(cache):
    """The cpp_standalone project folders in a Brian2 cache folder."""
    return [os.path.join(cache, name) for name in os.listdir(cache)
            if name.startswith("cpp_standalone_") and not name.endswith(".lock")]


def test_standalone_run_folder(tmp_path, standalone_cache):
    # the default Brian2 device of run/main.py: one compile (about a minute on 2 cores)
    out = tmp_path / "run"
    proc = _main_run(out, standalone_cache)
    assert "simulate    [##############################] 100.0%" in proc.stdout
    timings = json.loads((out / "timings.json").read_text())
    for phase in ("compile", "presimulate", "simulate"):
        assert timings[phase] > 0, phase  # both phase marks were written
    assert timings["connect_in_program"] >= 0
    metadata = json.loads((out / "metadata.json").read_text())
    assert metadata["settings"]["brian2_device"] == "cpp_standalone"
    from pd14_pynn import spike_tables, storage
    block = storage.read_block(str(out / "spikes.pkl"))
    spikes = spike_tables.spikes_by_population(block)
    assert sum(len(t) for trains in spikes.values() for t in trains) > 0
    assert all(t.min() >= 0 and t.max() < 300 for trains in spikes.values() for t in trains
               if len(t))
    signals = block.segments[0].analogsignals
    assert len(signals) == 8 and all(s.shape[1] == 2 for s in signals)
    # membrane potentials start at the drawn initial values, in mV
    assert all(-90 < float(s.magnitude[0].min()) < -40 for s in signals)

    # the same dynamics as the runtime device: the same spikes, and membrane
    # potentials equal to rounding (a bug that read the delays only after the
    # spike queues were made delivered every spike one step after it was sent:
    # the potentials differed by millivolts from the third step on)
    runtime = tmp_path / "runtime"
    _main_run(runtime, standalone_cache, device="runtime")
    runtime_block = storage.read_block(str(runtime / "spikes.pkl"))
    for compiled, interpreted in zip(signals, runtime_block.segments[0].analogsignals):
        np.testing.assert_allclose(np.asarray(compiled.magnitude),
                                   np.asarray(interpreted.magnitude), rtol=0, atol=1e-6)
    standalone_spikes = spike_tables.spike_table(block)
    runtime_spikes = spike_tables.spike_table(runtime_block)
    assert sum(len(p.times_ms) for p in runtime_spikes.values()) > 0
    for name, population in runtime_spikes.items():
        np.testing.assert_array_equal(standalone_spikes[name].index, population.index)
        np.testing.assert_allclose(standalone_spikes[name].times_ms, population.times_ms)

    # a second run of the same network recompiles nothing: the generated code,
    # main.cpp included, is the same in every process
    project = _project_folders(standalone_cache)
    assert len(project) == 1
    built = {name: os.stat(os.path.join(project[0], name)).st_mtime_ns
             for name in ("main", "main.o", "main.cpp")}
    again = tmp_path / "again"
    _main_run(again, standalone_cache)
    assert {name: os.stat(os.path.join(project[0], name)).st_mtime_ns
            for name in built} == built
    # ... and simulates the same spikes (same seed, same program)
    first = spike_tables.spike_table(block)
    second = spike_tables.spike_table(storage.read_block(str(again / "spikes.pkl")))
    for name in first:
        np.testing.assert_array_equal(first[name].index, second[name].index)
        np.testing.assert_array_equal(first[name].times_ms, second[name].times_ms)


def test_threaded_delivery_gives_the_spikes_of_brian2s_template(tmp_path):
    # two OpenMP threads: pd14_pynn's delivery (each thread into its own copy of the
    # synaptic currents, backends/brian2_openmp.py) against Brian2's own template
    # (one thread delivers); this network receives few inputs per neuron and step,
    # so the other order of summing them changes no spike
    from pd14_pynn.backends import brian2_openmp
    from pd14_pynn import spike_tables, storage
    cache = str(tmp_path / "cache")
    blocks = {}
    for mode in ("brian2", "threads"):
        out = tmp_path / mode
        # N = K = 0.1 and past the thalamic pulse (700 ms): some 10^4 spikes
        _main_run(out, cache, "--threads", "2", "--n-scaling", "0.1", "--k-scaling", "0.1",
                  "--t-sim", "800", "--record-v", "0",
                  extra_env={brian2_openmp.DELIVERY_ENV: mode})
        blocks[mode] = spike_tables.spike_table(storage.read_block(str(out / "spikes.pkl")))
        project = _project_folders(cache)
        assert len(project) == 1 and "_t2_" in project[0]
        folder = os.path.join(project[0], "code_objects")
        codes = []
        for name in os.listdir(folder):
            if name.startswith("pd14_synapses") and name.endswith("_pre_codeobject.cpp"):
                with open(os.path.join(folder, name)) as handle:
                    codes.append(handle.read())
        # the run used the template it was asked for: excitatory, inhibitory and
        # thalamic synapses
        assert len(codes) == 3
        assert all(("_pd14_partial[_pd14_thread]" in code) == (mode == "threads")
                   for code in codes)
    assert sum(len(p.times_ms) for p in blocks["threads"].values()) > 5000
    for name, population in blocks["brian2"].items():
        np.testing.assert_array_equal(blocks["threads"][name].index, population.index)
        np.testing.assert_array_equal(blocks["threads"][name].times_ms, population.times_ms)


def test_threaded_delivery_only_for_additive_code_of_several_threads():
    from pd14_pynn.backends import brian2_openmp

    class Session:
        device, threads = "cpp_standalone", 2
    assert brian2_openmp.uses_threaded_delivery(Session, "ie += weight")
    assert not brian2_openmp.uses_threaded_delivery(Session, "v = 0 * mV")
    assert not brian2_openmp.uses_threaded_delivery(None, "ie += weight")
    Session.threads = 1
    assert not brian2_openmp.uses_threaded_delivery(Session, "ie += weight")
    Session.threads, Session.device = 2, "cuda_standalone"
    assert not brian2_openmp.uses_threaded_delivery(Session, "ie += weight")


READ_BEFORE_RUN = """
import sys
from pd14_pynn import backends, parameters
from pd14_pynn.network import Microcircuit
backend = backends.get("brian2")
sim = backend.import_simulator()
params = parameters.resolve({"N_scaling": 0.02, "K_scaling": 0.02, "brian2_device": "cpp_standalone",
                             "t_presim_ms": 0.0, "t_sim_ms": 10.0})
backend.setup(sim, params, 0)
circuit = Microcircuit(sim, params, verbose=False).build()
projection = circuit.projections[("L23E", "L23E")]
assert len(projection) > 0  # counted in Python while connecting
try:
    projection.get("weight", format="array")
except NotImplementedError as err:
    print("refused:", err)
    sys.exit(0)
sys.exit("projection.get before the run did not fail")
"""


def test_reading_values_before_a_standalone_run_fails_clearly(tmp_path):
    env = {**os.environ, "PYTHONPATH": ROOT, "PD14_BRIAN2_CACHE": str(tmp_path / "cache")}
    proc = subprocess.run([sys.executable, "-c", READ_BEFORE_RUN], capture_output=True,
                          text=True, cwd=str(tmp_path), env=env)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert "refused: Cannot retrieve the values of state variables in standalone code " \
           "before the simulation has been run" in proc.stdout


def test_signal_stops_the_standalone_program_and_keeps_its_spikes(tmp_path, standalone_cache):
    # the network of test_standalone_run_folder, run longer: only main.cpp recompiles
    from test_interrupts import finish, interrupted_lines, wait_for_phase
    from pd14_pynn import spike_tables, storage
    out = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": ROOT, "PD14_BRIAN2_CACHE": standalone_cache}
    process = subprocess.Popen(
        [sys.executable, os.path.join(ROOT, "run", "main.py"), "brian2", "--brian2-device",
         "cpp_standalone", *RUN_OPTIONS, "--t-sim", "1000000", "--out", str(out)],
        stdout=open(tmp_path / "run.stdout", "w"), stderr=open(tmp_path / "run.stderr", "w"),
        cwd=str(tmp_path), env=env)
    wait_for_phase(process, out, "presimulate")  # the program has started
    time.sleep(3.0)
    # to Python only, as `kill` or a batch system would: it passes it on to the program
    process.send_signal(signal.SIGINT)
    code, stderr = finish(process, tmp_path)
    assert code == 128 + signal.SIGINT, stderr[-2000:]
    assert len(interrupted_lines(stderr)) == 1, stderr[-2000:]
    status = json.loads((out / "status.json").read_text())
    assert status["status"] == "interrupted" and status["signal"] == "SIGINT"
    assert status["phase"] == "simulate"
    reached = status["simulated_ms"]
    assert 100 < reached < 1000100
    block = storage.read_block(str(out))
    assert block.annotations["complete"] is False
    times = np.concatenate([p.times_ms for p in spike_tables.spike_table(block).values()])
    assert times.size > 0 and times.max() <= reached  # the program wrote what it had
