"""A run stopped by SIGINT or SIGTERM says where it stopped and keeps what it has.

Real signals to real runs of ``run/main.py`` (a tiny network, long enough to be
mid-run): the test waits until ``status.json`` names the phase, signals, and
checks the exit code, the one console line, the status, the partial spikes
(readable, none after the time reached) and the timings.
"""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from pd14_pynn import run_folder, spike_tables, storage

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MAIN = os.path.join(ROOT, "run", "main.py")
TINY = ["--n-scaling", "0.01", "--k-scaling", "0.01", "--threads", "1"]


def start(tmp_path, simulator, *options, out_name="run"):
    """Start main.py in a subprocess writing its console to files; returns (process, out)."""
    out = tmp_path / out_name
    stdout = open(tmp_path / f"{out_name}.stdout", "w")
    stderr = open(tmp_path / f"{out_name}.stderr", "w")
    argv = [sys.executable, MAIN, simulator, *TINY, *options, "--out", str(out)]
    process = subprocess.Popen(argv, stdout=stdout, stderr=stderr, cwd=str(tmp_path),
                               env={**os.environ, "PYTHONPATH": ROOT})
    process.argv = argv
    return process, out


def wait_for_phase(process, out, phase, timeout_s=300):
    """Poll status.json until the run is in ``phase`` (fails if the run ends first)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        status = run_folder.read_status(str(out))
        if status and status.get("phase") == phase and status["status"] == "running":
            return status
        assert process.poll() is None, f"the run ended before phase {phase!r}"
        time.sleep(0.05)
    raise AssertionError(f"no phase {phase!r} within {timeout_s} s")


def finish(process, tmp_path, out_name="run", timeout_s=300):
    code = process.wait(timeout=timeout_s)
    return code, (tmp_path / f"{out_name}.stderr").read_text()


def interrupted_lines(stderr):
    return [line for line in stderr.splitlines() if line.startswith("interrupted by ")]


@pytest.mark.parametrize("simulator, signal_name, phase, t_presim, t_sim", [
    ("nest", "SIGINT", "simulate", 50, 20000),
    ("nest", "SIGTERM", "presimulate", 20000, 1000),
    ("neuron", "SIGINT", "presimulate", 10000, 1000),
    ("neuron", "SIGTERM", "simulate", 50, 10000),
    # Brian2 reports progress every 5 s of wall time once its run loop has started
    # (after ~30 s of numpy code generation here): one case only
    ("brian2", "SIGINT", "simulate", 0, 100000),
])
def test_signal_stops_run_and_keeps_partial_results(tmp_path, simulator, signal_name, phase,
                                                    t_presim, t_sim):
    process, out = start(tmp_path, simulator, "--t-presim", str(t_presim), "--t-sim", str(t_sim))
    wait_for_phase(process, out, phase)
    signalled = time.monotonic()
    process.send_signal(getattr(signal, signal_name))
    code, stderr = finish(process, tmp_path)
    took = time.monotonic() - signalled
    total = t_presim + t_sim

    assert code == 128 + getattr(signal, signal_name), stderr[-2000:]
    lines = interrupted_lines(stderr)
    assert len(lines) == 1, stderr[-2000:]
    status = json.loads((out / "status.json").read_text())
    assert status["status"] == "interrupted" and status["phase"] == phase
    assert status["signal"] == signal_name
    reached = status["simulated_ms"]
    assert 0 < reached < total, f"stopped at {reached} ms of {total} ms"
    assert lines[0].startswith(f"interrupted by {signal_name} in {phase} at {reached:g} of "
                               f"{total:g} ms simulated")
    assert "rerun with: " in lines[0] and lines[0].endswith(f"--out {out} --overwrite")
    assert status["rerun"] in lines[0]

    timings = json.loads((out / "timings.json").read_text())
    assert timings["complete"] is False and timings["simulated_ms"] == reached
    assert timings[phase] > 0 and timings["connect"] > 0

    block = storage.read_block(str(out))
    assert block.annotations["complete"] is False and block.annotations["simulated_ms"] == reached
    spikes = spike_tables.spike_table(block)
    times = np.concatenate([population.times_ms for population in spikes.values()])
    assert times.size > 0, "the spikes recorded before the signal are kept"
    assert times.max() <= reached
    assert not (out / "rates.json").exists(), "no analysis of a partial run"
    log = (out / "run.log").read_text()
    assert lines[0] in log and "Simulating" in log

    # the folder is named as what it holds; --overwrite replaces it
    again = subprocess.run(process.argv, capture_output=True, text=True, cwd=str(tmp_path),
                           env={**os.environ, "PYTHONPATH": ROOT})
    assert again.returncode == 2
    assert f"already holds an interrupted run (stopped in {phase} at {reached:g} ms" \
        in again.stderr
    print(f"{simulator} {signal_name} in {phase}: stopped {took:.1f} s after the signal "
          f"at {reached:g} ms")


def test_signal_during_build_stops_at_once(tmp_path):
    """A signal while importing/building ends the run without simulating; status says where."""
    process, out = start(tmp_path, "neuron", "--t-presim", "50", "--t-sim", "100")
    wait_for_phase(process, out, "import")
    process.send_signal(signal.SIGTERM)
    code, stderr = finish(process, tmp_path)
    assert code == 128 + signal.SIGTERM, stderr[-2000:]
    status = json.loads((out / "status.json").read_text())
    assert status["status"] == "interrupted" and status["simulated_ms"] == 0
    assert status["phase"] in ("import", "setup", "create", "connect")
    lines = interrupted_lines(stderr)
    assert len(lines) == 1 and lines[0].startswith(
        f"interrupted by SIGTERM in {status['phase']} at 0 of 150 ms simulated")
    assert json.loads((out / "timings.json").read_text())["complete"] is False
    assert not (out / "spikes.pkl").exists()


def test_second_ctrl_c_exits_at_once(tmp_path):
    """The first SIGINT asks for a clean stop; a second one ends the process at once,
    even inside a long simulator step (here: one NEST step of 1 s simulated at
    N = K = 0.1 on one thread, several seconds of wall time)."""
    process, out = start(tmp_path, "nest", "--t-presim", "0", "--t-sim", "20000",
                         "--n-scaling", "0.1", "--k-scaling", "0.1")
    wait_for_phase(process, out, "simulate")
    time.sleep(0.5)  # inside the first nest.Run step (1,000 ms)
    process.send_signal(signal.SIGINT)
    time.sleep(0.5)
    assert process.poll() is None, "one Ctrl-C waits for the end of the step"
    process.send_signal(signal.SIGINT)
    code = process.wait(timeout=10)
    assert code in (-signal.SIGINT, 128 + signal.SIGINT)
    assert json.loads((out / "status.json").read_text())["status"] == "running"


def test_status_follows_the_progress_steps_of_a_killed_run(tmp_path):
    """status.json says how far a run got after every progress step, so a run killed
    without warning (SIGKILL, out of memory) still does; an 11 s phase advances in
    11 steps of 1 s (tenths would end at multiples of 1.1 s)."""
    process, out = start(tmp_path, "nest", "--t-presim", "50", "--t-sim", "11000")
    deadline = time.monotonic() + 300
    while True:
        status = run_folder.read_status(str(out))
        if status and status["phase"] == "simulate" and status["simulated_ms"] > 50:
            break
        assert process.poll() is None and time.monotonic() < deadline, status
        time.sleep(0.01)
    process.kill()
    process.wait(timeout=30)
    status = json.loads((out / "status.json").read_text())
    assert status["status"] == "running" and status["phase"] == "simulate"
    reached = status["simulated_ms"] - 50
    assert 0 < reached < 11000
    assert reached / 1000 == pytest.approx(round(reached / 1000), abs=1e-9), reached


def test_failure_after_build_started_is_recorded(tmp_path):
    """An error while building leaves status "failed" with the phase and the error line."""
    out = tmp_path / "run"
    code = (f"import sys; sys.argv = {[MAIN, 'nest', *TINY, '--out', str(out)]!r}; "
            "from pd14_pynn import cli; "
            "from pd14_pynn.backends import nest; "
            "nest.BACKEND.finish_build = lambda sim: (_ for _ in ()).throw(RuntimeError('disk on fire'));"
            " sys.exit(cli.main(sys.argv[1:]))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=str(tmp_path), env={**os.environ, "PYTHONPATH": ROOT})
    assert proc.returncode != 0 and "disk on fire" in proc.stderr
    status = json.loads((out / "status.json").read_text())
    assert status["status"] == "failed" and status["phase"] == "connect"
    assert status["error"] == "RuntimeError: disk on fire"
    assert json.loads((out / "timings.json").read_text())["create"] > 0
    assert "disk on fire" in (out / "run.log").read_text()
    refused = subprocess.run([sys.executable, MAIN, "nest", "--out", str(out)],
                             capture_output=True, text=True, env={**os.environ, "PYTHONPATH": ROOT})
    assert refused.returncode == 2 and "already holds a failed run (failed in connect" in \
        refused.stderr and "disk on fire" in refused.stderr


def test_signal_to_a_study_stops_its_current_run(tmp_path):
    """`main.py compare`: SIGTERM to the study reaches the run in progress, which keeps
    what it simulated; the study stops with one line and no report."""
    out = tmp_path / "study"
    stderr = open(tmp_path / "study.stderr", "w")
    process = subprocess.Popen(
        [sys.executable, MAIN, "compare", "--simulators", "nest", "--seeds", "1",
         "--reference-seeds", "2", *TINY, "--t-presim", "50", "--t-sim", "20000",
         "--out", str(out)], stdout=subprocess.DEVNULL, stderr=stderr, cwd=str(tmp_path),
        env={**os.environ, "PYTHONPATH": ROOT})
    run_dir = out / "runs" / "nest_seed55"
    wait_for_phase(process, run_dir, "simulate")
    process.send_signal(signal.SIGTERM)
    code = process.wait(timeout=300)
    lines = (tmp_path / "study.stderr").read_text().strip().splitlines()
    assert code == 128 + signal.SIGTERM, lines
    assert len(lines) == 1 and lines[0].startswith(
        "study interrupted by SIGTERM in the run nest, seed 55: 0 finished runs")
    status = json.loads((run_dir / "status.json").read_text())
    assert status["status"] == "interrupted" and status["signal"] == "SIGTERM"
    assert storage.read_block(str(run_dir)).annotations["complete"] is False
    assert not (out / "runs" / "nest_seed56").exists() and not (out / "report").exists()
