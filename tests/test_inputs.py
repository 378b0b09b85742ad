"""Random inputs (property-based, with hypothesis): one ``error:`` line before anything
is built, or a run that passes every check; never a traceback.

Parameter files and command lines are drawn from each parameter's declared domain
(valid values, boundaries included) mixed with arbitrary JSON values and option
strings. The checks run in-process, with ``simulation.run`` replaced by a recorder,
so hundreds of draws take seconds; a few valid draws then run for real on NEST.
"""

import contextlib
import io
import json
import math
import os
import subprocess
import sys
import tempfile

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from pd14_pynn import cli, derive, domains, parameters, run_folder, simulation

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _bound(value, fallback):
    return fallback if math.isinf(value) else value


def valid_scalar(domain):
    """Values inside a Number domain (large bounds cut to keep runs plausible)."""
    low, high = _bound(domain.low, -1e4), _bound(domain.high, 1e4)
    if domain.integer:
        low = math.ceil(low + (1 if domain.low_open else 0))
        high = math.floor(high - (1 if domain.high_open else 0))
        return st.integers(int(low), int(high))
    if domain.grid:
        return st.integers(max(1, math.ceil(low / domain.grid)),
                           int(min(high, 10.0) / domain.grid)).map(
            lambda n: round(n * domain.grid, 6))
    return st.floats(low, high, exclude_min=domain.low_open, exclude_max=domain.high_open,
                     allow_nan=False, allow_infinity=False)


def valid_value(domain):
    if isinstance(domain, domains.Choice):
        return st.sampled_from(domain.options)
    if isinstance(domain, domains.Flag):
        return st.booleans()
    value = valid_scalar(domain)
    for size in reversed(domain.shape):
        value = st.lists(value, min_size=size, max_size=size)
    return st.one_of(st.none(), value) if domain.optional else value


ANY_JSON = st.one_of(
    st.none(), st.booleans(), st.text(max_size=6), st.integers(-2**70, 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.lists(st.one_of(st.floats(-10, 10), st.integers(-5, 5)), max_size=9))


@st.composite
def config_files(draw):
    """A dict of overrides: a few keys, each valid, arbitrary, or (rarely) unknown."""
    keys = draw(st.lists(st.sampled_from(sorted(parameters.DOMAINS)), max_size=4, unique=True))
    # three in four values from the domain, so that many draws pass every check
    config = {key: draw(valid_value(parameters.DOMAINS[key]) if draw(st.integers(0, 3))
                        else ANY_JSON) for key in keys}
    if draw(st.integers(0, 9)) == 0:
        config[draw(st.sampled_from(["N_scalling", "seed ", "delay_ms"]))] = 1
    return config


NUMBER_TEXT = st.one_of(
    st.integers(-2**40, 2**40).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["0", "1", "0.01", "0.02", "1e12", "-1", "x", "", "99999999999"]))
OPTIONS = {
    "--n-scaling": st.one_of(st.sampled_from(["0.01", "0.02", "0.1"]), NUMBER_TEXT),
    "--k-scaling": st.one_of(st.sampled_from(["0.01", "0.02", "0.1"]), NUMBER_TEXT),
    "--t-sim": st.one_of(st.sampled_from(["100", "1000", "1e12", "100.05"]), NUMBER_TEXT),
    "--t-presim": NUMBER_TEXT,
    "--seed": st.one_of(st.sampled_from(["0", "55", "4294967294", "4294967295"]), NUMBER_TEXT),
    "--threads": NUMBER_TEXT,
    "--record-v": NUMBER_TEXT,
    "--bg": st.sampled_from(["poisson", "dc", "noise"]),
    "--connectivity-rng": st.sampled_from(["native", "numpy", "nest"]),
    "--format": st.sampled_from([".pkl", ".nix", ".h5"]),
}


VALID_OPTIONS = {
    "--n-scaling": st.sampled_from(["0.01", "0.02", "0.1"]),
    "--k-scaling": st.sampled_from(["0.01", "0.02", "0.1"]),
    "--t-sim": st.sampled_from(["100", "1000", "250.5"]),
    "--t-presim": st.sampled_from(["0", "100"]),
    "--seed": st.integers(0, parameters.SEED_MAX).map(str),
    "--threads": st.sampled_from(["1", "2"]),
    "--record-v": st.sampled_from(["0", "3"]),
}


@st.composite
def command_lines(draw):
    """A simulator name and a few options with drawn values; the output folder kind."""
    simulator = draw(st.sampled_from(["nest", "neuron", "brian2"] * 5 + ["nestt"]))
    argv = [simulator]
    for option in draw(st.lists(st.sampled_from(sorted(OPTIONS)), max_size=3, unique=True)):
        argv += [option, draw(OPTIONS[option] if draw(st.integers(0, 2)) == 0
                              else VALID_OPTIONS.get(option, OPTIONS[option]))]
    out = draw(st.sampled_from(["fresh"] * 12 + ["/proc/x", "below-a-file", "holds-results"]))
    return argv, out


def _out_dir(kind, folder):
    if kind == "fresh":
        return os.path.join(folder, "run")
    if kind == "below-a-file":
        open(os.path.join(folder, "file"), "w").close()
        return os.path.join(folder, "file", "run")
    if kind == "holds-results":
        os.makedirs(os.path.join(folder, "old"))
        run_folder.write_status(os.path.join(folder, "old"), "interrupted", "simulate", 120.0)
        return os.path.join(folder, "old")
    return kind


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(config=config_files(), command=command_lines())
def test_random_inputs_one_error_line_or_checked_run(monkeypatch_session, config, command):
    argv, out_kind = command
    started = []
    monkeypatch_session.setattr(simulation, "run",
                                lambda simulator, params, out, **kw: started.append(params))
    with tempfile.TemporaryDirectory() as folder:
        out = _out_dir(out_kind, folder)
        config_path = os.path.join(folder, "config.json")
        with open(config_path, "w") as handle:
            json.dump(config, handle)  # NaN and Infinity as Python's json writes them
        before = sorted(os.listdir(folder))
        stderr, stdout = io.StringIO(), io.StringIO()
        with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(stdout):
            code = cli.main(argv + ["--config", config_path, "--out", out])
        lines = stderr.getvalue().splitlines()
        event("refused" if code == 2 else "passed the checks")
        if code == 2:
            assert len(lines) == 1 and lines[0].startswith("error: "), lines
            assert not started
            assert sorted(os.listdir(folder)) == before, "nothing is written on bad input"
            return
        assert code == 0 and lines == [] and len(started) == 1, (code, lines)
    # what passed the checks is a model the simulators can build: every parameter in
    # its domain, every population with neurons, finite derived numbers
    params = started[0]
    parameters.validate(params)
    derived = derive.derive(params)
    assert min(derived["num_neurons"]) >= 1
    for key in ("num_synapses", "weights_pA", "dc_pA", "delay_mean_ms", "K_ext"):
        assert np.all(np.isfinite(derived[key])), key
    assert np.all(derived["delay_mean_ms"] >= params["resolution_ms"])
    # what the simulators refuse (NEST's messages, checked by hand): "RNG seed must be in
    # (0, 2^32-1)" for rng_seed = seed + 1; "Reset potential must be smaller than
    # threshold"; "The simulation time must be a multiple of the simulation resolution"
    assert 0 < params["seed"] + 1 <= 2**32 - 1
    assert params["V_reset_mV"] < params["V_th_mV"]
    for key in ("t_sim_ms", "t_presim_ms", "record_v_interval_ms", "thalamic_start_ms"):
        steps = params[key] / params["resolution_ms"]
        assert abs(steps - round(steps)) < 1e-6, key


@pytest.fixture(scope="module")
def monkeypatch_session():
    """One monkeypatch for all hypothesis examples of a test (function-scoped
    fixtures are not reset between examples)."""
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def tiny_valid_parameters():
    """Valid parameter files at N = K = 0.01-0.02 with other values drawn from their
    domains (kept near the model, so that a run takes seconds)."""
    resolution = st.sampled_from([0.1, 0.05, 0.2])

    @st.composite
    def draw_parameters(draw):
        dt = draw(resolution)
        steps = st.integers(1, 2000)
        config = {
            "N_scaling": draw(st.sampled_from([0.01, 0.015, 0.02])),
            "K_scaling": draw(st.floats(0.01, 0.02)),
            "resolution_ms": dt,
            "t_sim_ms": round(draw(st.integers(1, int(200 / dt))) * dt, 6),
            "t_presim_ms": round(draw(st.integers(0, int(50 / dt))) * dt, 6),
            "record_v_interval_ms": round(draw(st.integers(1, 10)) * dt, 6),
            "seed": draw(st.integers(0, parameters.SEED_MAX)),
            "delay_exc_mean_ms": draw(st.floats(dt, 5.0)),
            "delay_inh_mean_ms": draw(st.floats(dt, 5.0)),
            "delay_rel_sd": draw(st.floats(0, 1)),
            "g": draw(st.floats(-8, 0)),
            "PSP_exc_mean_mV": draw(st.floats(0.01, 0.3)),
            "PSP_rel_sd": draw(st.floats(0, 1)),
            "tau_syn_ms": draw(st.floats(0.1, 2.0)),
            "t_ref_ms": draw(st.floats(0, 5)),
            "V_reset_mV": draw(st.floats(-80, -51)),
            "background": draw(st.sampled_from(["poisson", "dc"])),
            "thalamic_input": draw(st.booleans()),
            "thalamic_start_ms": round(draw(steps) * dt, 6),
            "thalamic_duration_ms": round(draw(st.integers(1, 100)) * dt, 6),
            "record_v": draw(st.integers(0, 2)),
            "connectivity_rng": draw(st.sampled_from(["native", "numpy"])),
        }
        del steps
        return config

    return draw_parameters()


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(config=tiny_valid_parameters())
def test_random_valid_parameters_complete_on_nest(config):
    """Valid draws pass the checks and run to the end on NEST (status complete)."""
    parameters.resolve(config)  # the draw is valid by construction
    with tempfile.TemporaryDirectory() as folder:
        config_path = os.path.join(folder, "config.json")
        with open(config_path, "w") as handle:
            json.dump(config, handle)
        out = os.path.join(folder, "run")
        proc = subprocess.run([sys.executable, os.path.join(ROOT, "run", "main.py"), "nest",
                               "--threads", "1", "--config", config_path, "--out", out],
                              capture_output=True, text=True, cwd=folder,
                              env={**os.environ, "PYTHONPATH": ROOT}, timeout=600)
        assert proc.returncode == 0, (config, proc.stderr[-3000:])
        assert "Traceback" not in proc.stderr
        assert run_folder.read_status(out)["status"] == "complete"
        assert run_folder.read_status(out)["simulated_ms"] == pytest.approx(
            config["t_presim_ms"] + config["t_sim_ms"])
