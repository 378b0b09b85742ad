"""pd14_pynn.cli (run/main.py): every bad input is one error line before anything is built."""

import json
import os
import subprocess
import sys
import time

import pytest

from pd14_pynn import backends, cli, resources, simulation, spike_tables, storage

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_cli(capsys, *argv):
    code = cli.main(list(argv))
    err = capsys.readouterr().err.strip()
    return code, err


@pytest.mark.parametrize("argv, message", [
    (["nestt"], "unknown simulator 'nestt'"),
    (["nest", "--n-scaling", "0"], "N_scaling = 0.0 is not allowed: it must be a number in (0, 1]"),
    (["nest", "--k-scaling", "1.2"], "K_scaling = 1.2 is not allowed: it must be a number in (0, 1]"),
    (["nest", "--t-sim", "-5"], "t_sim_ms = -5.0 is not allowed: it must be a number > 0 (ms)"),
    (["nest", "--t-presim", "-1"], "t_presim_ms = -1.0 is not allowed: it must be a number >= 0"),
    (["nest", "--seed", "99999999999"], "seed = 99999999999 is not allowed: it must be an integer "
                                        "in [0, 4294967294]"),
    (["nest", "--t-sim", "nan"], "t_sim_ms = nan is not allowed"),
    (["nest", "--seed", "x"], "argument --seed: invalid int value: 'x'"),
    (["nest", "--t-sim", "1e12"], "recorded spikes"),
    (["neuron", "--t-sim", "1e12"], "recorded spikes"),
    (["brian2", "--t-sim", "1e12"], "recorded spikes"),
    (["nest", "--record-v", "10000", "--t-sim", "1e7"], "membrane traces"),
    (["neuron", "--n-scaling", "1", "--k-scaling", "1"], "GB on neuron (network "),
    (["nest", "--n-scaling", "1", "--k-scaling", "1", "--threads", "2"],
     "NEST needs at least 3 threads"),
    # --plan without --study once started a whole study instead of planning one
    (["compare", "--simulators", "nest", "--plan"], "--plan goes with --study"),
])
def test_bad_input_one_line_error(capsys, tmp_path, argv, message):
    code, err = run_cli(capsys, *argv, "--out", str(tmp_path / "out"))
    assert code == 2
    assert err.startswith("error: ") and message in err and "\n" not in err
    assert not (tmp_path / "out").exists(), "nothing may be written on bad input"


def test_unknown_config_key(capsys, tmp_path):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"K_scalling": 0.2}))
    code, err = run_cli(capsys, "nest", "--config", str(config), "--out", str(tmp_path / "o"))
    assert code == 2 and "unknown parameter 'K_scalling'" in err and "K_scaling" in err


def test_config_with_a_bad_value_names_it(capsys, tmp_path):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"delay_exc_mean_ms": -1}))
    code, err = run_cli(capsys, "nest", "--config", str(config), "--out", str(tmp_path / "o"))
    assert code == 2 and err == ("error: delay_exc_mean_ms = -1 is not allowed: it must be a "
                                 "number in (0, 100] (ms) (and at least resolution_ms)")
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("content, message", [
    ("[1, 2]", "must hold one JSON object"),
    ("{not json", "cannot read --config"),
    ('{"seed": NaN}', "seed = nan is not allowed"),
])
def test_bad_config_file_one_line_error(capsys, tmp_path, content, message):
    config = tmp_path / "config.json"
    config.write_text(content)
    code, err = run_cli(capsys, "nest", "--config", str(config), "--out", str(tmp_path / "o"))
    assert code == 2 and err.startswith("error: ") and message in err and "\n" not in err


@pytest.mark.parametrize("out, message", [
    ("/proc/x", "output folder '/proc/x' cannot be created (in '/proc')"),
    ("/proc/x/y", "output folder '/proc/x/y' cannot be created (in '/proc')"),
])
def test_output_folder_that_cannot_be_created(capsys, out, message):
    code, err = run_cli(capsys, "nest", "--out", out)
    assert code == 2 and err.startswith("error: " + message) and "\n" not in err


def test_output_folder_below_a_file(capsys, tmp_path):
    (tmp_path / "file").write_text("")
    code, err = run_cli(capsys, "nest", "--out", str(tmp_path / "file" / "run"))
    assert code == 2 and "is not a folder" in err


def test_config_file_then_options(tmp_path):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"N_scaling": 0.3, "K_scaling": 0.4, "seed": 7}))
    args = cli.build_parser().parse_args(["nest", "--config", str(config), "--seed", "9"])
    params = cli.resolve_parameters(args)
    assert (params["N_scaling"], params["K_scaling"], params["seed"]) == (0.3, 0.4, 9)


def test_existing_results_are_kept(capsys, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "spikes.pkl").write_bytes(b"earlier result")
    code, err = run_cli(capsys, "nest", "--out", str(out))
    assert code == 2 and "--overwrite" in err
    assert (out / "spikes.pkl").read_bytes() == b"earlier result"


def test_missing_simulator_names_the_package(monkeypatch):
    monkeypatch.setitem(sys.modules, "nest", None)  # makes "import nest" fail
    with pytest.raises(backends.BackendError, match="pip install nest-simulator"):
        backends.get("nest").import_simulator()


def test_memory_estimate_refuses_what_does_not_fit():
    params = cli.resolve_parameters(cli.build_parser().parse_args(
        ["brian2", "--n-scaling", "1", "--k-scaling", "1"]))
    with pytest.raises(backends.BackendError, match="needs about"):
        simulation.check_run("brian2", params, None, memory_limit=8e9)


@pytest.mark.parametrize("simulator", ["nest", "neuron", "brian2"])
def test_memory_estimate_counts_recording(simulator):
    """Spikes from the full-scale rates over the whole run; v per traced neuron and sample."""
    backend = backends.get(simulator)
    params = cli.resolve_parameters(cli.build_parser().parse_args([simulator]))
    longer = dict(params, t_sim_ms=2 * params["t_sim_ms"] + params["t_presim_ms"])
    traced = dict(params, record_v=3)
    base, twice = resources.memory_parts(backend, params), resources.memory_parts(backend, longer)
    assert twice["network"] == base["network"] and twice["spikes"] == 2 * base["spikes"]
    # 7,717 neurons at their full-scale rates for 1.5 s: by hand from the parameter table
    sizes = [2068, 583, 2192, 548, 485, 106, 1440, 295]
    spikes = sum(n * r for n, r in zip(sizes, params["full_mean_rates_hz"])) * 1.5
    per_spike = backend.BYTES_PER_RECORDED_SPIKE
    assert base["spikes"] == pytest.approx(spikes * per_spike)
    assert base["v"] == 0
    samples = 8 * 3 * 1500 / 0.1
    assert resources.memory_parts(backend, traced)["v"] == pytest.approx(
        samples * (backend.BYTES_PER_V_SAMPLE + resources.COLLECT_BYTES_PER_V_SAMPLE))


def test_default_run_end_to_end_on_nest(tmp_path):
    """The CLI at a tiny scale writes every output, and Neo reads the spikes back."""
    out = tmp_path / "run"
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, os.path.join(ROOT, "run", "main.py"), "nest", "--n-scaling", "0.02",
         "--k-scaling", "0.05", "--t-presim", "100", "--t-sim", "200", "--record-v", "2",
         "--out", str(out)], capture_output=True, text=True, cwd=str(tmp_path))
    wall_s = time.perf_counter() - started
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "mean rate (1/s)" in proc.stdout and "L6I" in proc.stdout
    for name in ("parameters.json", "metadata.json", "timings.json", "rates.json",
                 "spikes.pkl", "raster.png", "rates_boxplot.png"):
        assert (out / name).stat().st_size > 0, name
    metadata = json.loads((out / "metadata.json").read_text())
    assert metadata["versions"]["nest"].startswith("3.") and metadata["versions"]["PyNN"]
    timings = json.loads((out / "timings.json").read_text())
    assert timings["peak_rss_bytes"] > 1e7 and timings["simulate"] > 0
    # the run's stopwatch starts at its process's start, not before (the start time
    # once came from whole-second boot times: up to 1 s early); 20 ms: clock ticks
    assert 0 < timings["startup"] and timings["total"] <= wall_s + 0.02
    block = storage.read_block(str(out))
    trains = block.segments[0].spiketrains
    assert len(trains) == sum(metadata["num_neurons"].values())
    by_pop = spike_tables.spikes_by_population(block)
    assert set(by_pop) == set(metadata["num_neurons"])
    assert all(len(by_pop[p]) == n for p, n in metadata["num_neurons"].items())
    indices = sorted(t.annotations["index"] for t in trains if t.annotations["population"] == "L4E")
    assert indices == list(range(metadata["num_neurons"]["L4E"]))
    assert len(block.segments[0].analogsignals) == 8  # v of 2 neurons per population
    # refusing to overwrite, then overwriting on request
    again = subprocess.run([sys.executable, os.path.join(ROOT, "run", "main.py"), "nest",
                            "--out", str(out)], capture_output=True, text=True)
    assert again.returncode == 2 and "--overwrite" in again.stderr


def test_compare_study_runs_seeds_and_writes_report(tmp_path):
    """`main.py compare` runs each simulator and seed, then builds the validation report."""
    out = tmp_path / "study"
    proc = subprocess.run(
        [sys.executable, os.path.join(ROOT, "run", "main.py"), "compare", "--simulators", "nest",
         "--seeds", "1", "--reference-seeds", "2", "--n-scaling", "0.02", "--k-scaling", "0.05", "--t-presim", "100",
         "--t-sim", "200", "--out", str(out)], capture_output=True, text=True, cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert sorted(p.name for p in (out / "runs").iterdir()) == ["nest_seed55", "nest_seed56"]
    seeds = [json.loads((out / "runs" / name / "parameters.json").read_text())["seed"]
             for name in ("nest_seed55", "nest_seed56")]
    assert seeds == [55, 56]
    report = (out / "report" / "report.md").read_text()
    assert "nest" in report and (out / "report" / "summary.json").exists()


def test_study_checks_every_seed_before_running(capsys, tmp_path):
    code, err = run_cli(capsys, "compare", "--seed", "4294967290", "--out", str(tmp_path / "s"))
    assert code == 2 and err == (
        "error: the study runs seeds 4294967290 to 4294967299, and seed = 4294967299 is not "
        "allowed: it must be an integer in [0, 4294967294] (NEST's rng_seed is seed + 1 and "
        "must be below 2^32)")
    assert not (tmp_path / "s").exists()
