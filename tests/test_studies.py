"""Named validation studies: definitions, plan, resuming, and one tiny NEST study."""

import json
import os
import subprocess
import sys

import pytest

from pd14_pynn import run_folder, storage
from pd14_pynn.validation import studies
from pd14_pynn.validation.study_estimates import (MACHINE_MEMORY_BYTES, MEMORY_SHARE,
                                                  RUN_OVERHEAD_S, estimate_seconds,
                                                  largest_scale)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _groups(part):
    return [(g["simulator"], g.get("seeds", 1), (g.get("parameters") or {}).get(
        "connectivity_rng", "native")) for g in part["runs"]]


def test_built_in_studies_are_the_ones_of_issue_13():
    full = studies.STUDIES["full"]["parts"]
    assert full["full_dc"]["parameters"] == {"N_scaling": 1.0, "K_scaling": 1.0,
                                             "background": "dc", "t_presim_ms": 500.0,
                                             "t_sim_ms": 10000.0}
    band = studies.BAND_SEEDS
    assert band >= 8  # 3 seeds made NEST fail its own band (validation/false_alarms.py)
    assert _groups(full["full_dc"]) == [("nest", band, "native"), ("nest", 2, "numpy"),
                                        ("brian2", 2, "native")]
    assert _groups(full["neuron_dc0.35"]) == [("nest", band, "native"), ("neuron", 1, "native")]
    # NEURON's classic engine on both cores of the 2-core machine (same spikes as one
    # rank, docs/mpi.md); CoreNEURON in one process, as its MPI exchange refuses this
    # model's one-step delays (backends/neuron.py)
    neuron_groups = [(part["parameters"].get("neuron_engine"), g)
                     for study in studies.STUDIES.values() for part in study["parts"].values()
                     for g in part["runs"] if g["simulator"] == "neuron"
                     and part["parameters"].get("t_sim_ms", 0) >= 10000]
    classic = [g for engine, g in neuron_groups if engine != "coreneuron"]
    assert len(classic) == 3 and all(g["ranks"] == 2 for g in classic)
    engines = studies.STUDIES["engines"]["parts"]["engines_dc02"]
    assert [g for engine, g in neuron_groups if engine == "coreneuron"] == [
        {"simulator": "neuron", "seeds": 2}]
    assert engines["parameters"]["brian2_device"] == "cpp_standalone"
    assert _groups(engines) == [("nest", band, "native"), ("brian2", 3, "native"),
                                ("neuron", 2, "native")]
    for background in ("dc", "poisson"):
        part = studies.STUDIES["long"]["parts"][f"long_{background}"]
        assert part["parameters"]["t_sim_ms"] == 60000.0
        assert part["parameters"]["N_scaling"] == part["parameters"]["K_scaling"] == 0.2
        assert _groups(part)[0] == ("nest", studies.BAND_SEEDS, "native")
    thalamic = studies.STUDIES["thalamic"]["parts"]["thalamic_dc"]
    assert thalamic["parameters"]["thalamic_input"] and thalamic["response"]
    assert {(sim, n) for sim, n, _ in _groups(thalamic)} == {
        ("nest", 30), ("brian2", 30), ("neuron", 10)}
    assert thalamic["runs"][2]["ranks"] == 2
    total = studies.STUDIES["thalamic"]["parts"]["thalamic_total_dc"]
    assert total["parameters"] == {**thalamic["parameters"], "thalamic_synapse_scaling": "total"}
    assert total["response"]
    for name in studies.STUDIES:
        studies.check_study(studies.STUDIES[name], name)


def test_neuron_scale_of_the_full_study_is_the_largest_that_fits():
    base = studies.STUDIES["full"]["parts"]["full_dc"]["parameters"]
    limit = MEMORY_SHARE * MACHINE_MEMORY_BYTES
    assert largest_scale("neuron", base, limit) == studies.NEURON_FULL_STUDY_SCALE
    # NEST and Brian2 fit at full scale in the whole machine, NEURON does not
    assert largest_scale("neuron", base, MACHINE_MEMORY_BYTES) < 1
    assert largest_scale("nest", base, MACHINE_MEMORY_BYTES) == 1.0


def test_ranks_launch_neuron_under_mpirun_or_say_why_not(tmp_path, monkeypatch):
    study = {"parts": {"p": {"parameters": {"N_scaling": 0.02, "K_scaling": 0.02},
                             "runs": [{"simulator": "nest", "seeds": 2},
                                      {"simulator": "neuron", "seeds": 1, "ranks": 2}]}}}
    monkeypatch.setattr(studies.shutil, "which", lambda name: f"/opt/bin/{name}")
    monkeypatch.setattr(studies.importlib.util, "find_spec", lambda name: object())
    planned = studies.plan(study, str(tmp_path))
    assert [r.ranks for r in planned] == [1, 1, 2]
    cmd = planned[2].command("run/main.py", "c.json")
    assert cmd[:6] == ["/opt/bin/mpirun", "--mca", "odls_base_sigkill_timeout", "30", "-np", "2"]
    assert cmd[7:9] == ["run/main.py", "neuron"]
    assert planned[0].command("run/main.py", "c.json")[1:3] == ["run/main.py", "nest"]
    one = estimate_seconds("neuron", planned[2].params)
    two = estimate_seconds("neuron", planned[2].params, ranks=2)
    assert two - RUN_OVERHEAD_S == pytest.approx((one - RUN_OVERHEAD_S) / 2)
    assert "x2 ranks" in studies.describe_plan("p", study, planned)[3]
    # without mpi4py: one process, and the plan says why
    monkeypatch.setattr(studies.importlib.util, "find_spec", lambda name: None)
    planned = studies.plan(study, str(tmp_path))
    assert planned[2].ranks == 1 and planned[2].command("m.py", "c")[1] == "m.py"
    assert "[1 process, not 2: no mpi4py]" in studies.describe_plan("p", study, planned)[3]


@pytest.mark.parametrize("change, message", [
    ({"parts": {}}, "non-empty object 'parts'"),
    ({"parts": {"a": {"runs": [{"simulator": "nest", "seeds": 2}], "colour": 1}}},
     "unknown keys \\['colour'\\]"),
    ({"parts": {"a": {"runs": [{"simulator": "nestt", "seeds": 2}]}}}, "nestt"),
    ({"parts": {"a": {"runs": [{"simulator": "nest", "seeds": 1},
                               {"simulator": "brian2", "seeds": 3}]}}},
     ">= 2 seeds of the reference simulator 'nest', got 1"),
    ({"parts": {"a": {"runs": [{"simulator": "nest", "seeds": 0}]}}}, "positive integer"),
    ({"parts": {"a": {"runs": [{"simulator": "nest", "seeds": 2},
                               {"simulator": "neuron", "ranks": 0}]}}},
     "'ranks' must be a positive integer, got 0"),
    ({"parts": {"a": {"runs": [{"simulator": "nest", "seeds": 2, "ranks": 2}]}}},
     "'ranks' > 1 is for neuron .*not 'nest'"),
])
def test_bad_study_files_are_refused(tmp_path, change, message):
    path = tmp_path / "s.json"
    path.write_text(json.dumps(change))
    with pytest.raises(studies.StudyError, match=message):
        studies.load_study(str(path))
    with pytest.raises(studies.StudyError, match="neither a study"):
        studies.load_study(str(tmp_path / "missing.json"))


def _fake_run(run_dir, params, status="complete"):
    os.makedirs(run_dir)
    storage.write_json(os.path.join(run_dir, "parameters.json"), params)
    run_folder.write_status(run_dir, status, "simulate")
    open(os.path.join(run_dir, "spikes.pkl"), "wb").close()


def test_plan_reuses_complete_runs_reruns_others_and_refuses_foreign_ones(tmp_path):
    study = {"parts": {"p": {"parameters": {"N_scaling": 0.02, "K_scaling": 0.02},
                             "runs": [{"simulator": "nest", "seeds": 3},
                                      {"simulator": "nest", "seeds": 1,
                                       "parameters": {"connectivity_rng": "numpy"}}]}}}
    out = str(tmp_path)
    first = studies.plan(study, out)
    assert [(r.group, r.seed, r.state) for r in first] == [
        ("nest", 55, "run"), ("nest", 56, "run"), ("nest", 57, "run"),
        ("nest[numpy-net]", 55, "run")]
    assert first[3].run_dir == os.path.join(out, "p", "runs", "nest-numpy-net_seed55")
    _fake_run(first[0].run_dir, first[0].params)
    _fake_run(first[1].run_dir, first[1].params, status="failed")
    again = studies.plan(study, out)
    assert [r.state for r in again] == ["reuse", "rerun", "run", "run"]
    assert "failed" in again[1].why
    lines = studies.describe_plan("p", study, again)
    assert lines[-1].startswith("4 runs: 3 to run (1 of them again), 1 reused")
    # a complete run of another model is never replaced
    _fake_run(first[2].run_dir, {**first[2].params, "g": -5.0})
    with pytest.raises(studies.StudyError, match=r"other parameters \(g\)"):
        studies.plan(study, out)


def test_study_option_refuses_model_options(tmp_path):
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "run", "main.py"), "compare",
                           "--study", "full", "--n-scaling", "0.1", "--out", str(tmp_path)],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1].startswith(
        "error: --study defines the model, simulators and seeds; --n-scaling cannot go")


def test_tiny_study_runs_then_resumes(tmp_path):
    """Two NEST seeds at N = K = 0.02; a second invocation reuses the complete run
    and reruns the one whose status says it failed (this folder only)."""
    study = tmp_path / "tiny.json"
    study.write_text(json.dumps({"parts": {"tiny": {
        "parameters": {"N_scaling": 0.02, "K_scaling": 0.02, "background": "dc",
                       "t_presim_ms": 100.0, "t_sim_ms": 200.0},
        "runs": [{"simulator": "nest", "seeds": 2}]}}}))
    out = tmp_path / "out"
    cmd = [sys.executable, os.path.join(ROOT, "run", "main.py"), "compare", "--study",
           str(study), "--out", str(out)]
    first = subprocess.run(cmd, capture_output=True, text=True, cwd=str(tmp_path))
    assert first.returncode == 0, first.stdout[-2000:] + first.stderr[-2000:]
    assert "2 runs: 2 to run (0 of them again), 0 reused" in first.stdout
    runs = out / "tiny" / "runs"
    for seed in (55, 56):
        assert run_folder.read_status(str(runs / f"nest_seed{seed}"))["status"] == "complete"
    report = out / "tiny" / "report" / "report.md"
    assert report.exists()

    kept = (runs / "nest_seed55" / "spikes.pkl").stat().st_mtime_ns
    run_folder.write_status(str(runs / "nest_seed56"), "failed", "simulate",
                            error="broken on purpose")
    os.remove(runs / "nest_seed56" / "spikes.pkl")
    second = subprocess.run(cmd, capture_output=True, text=True, cwd=str(tmp_path))
    assert second.returncode == 0, second.stdout[-2000:] + second.stderr[-2000:]
    assert "2 runs: 1 to run (1 of them again), 1 reused" in second.stdout
    assert "nest_seed55" not in second.stdout.split("reused")[1].split("report")[0]
    assert (runs / "nest_seed55" / "spikes.pkl").stat().st_mtime_ns == kept
    assert run_folder.read_status(str(runs / "nest_seed56"))["status"] == "complete"
    assert (runs / "nest_seed56" / "spikes.pkl").exists()


def test_study_runs_neuron_on_two_ranks(tmp_path):
    """A study group with "ranks": 2 runs NEURON under mpirun: one run folder, written
    by rank 0, that says it ran on 2 processes (needs Open MPI and mpi4py, as
    tests/test_mpi.py)."""
    study = tmp_path / "mpi.json"
    study.write_text(json.dumps({"parts": {"mpi": {
        "parameters": {"N_scaling": 0.02, "K_scaling": 0.02, "background": "dc",
                       "t_presim_ms": 50.0, "t_sim_ms": 100.0},
        "runs": [{"simulator": "nest", "seeds": 2},
                 {"simulator": "neuron", "seeds": 1, "ranks": 2}]}}}))
    out = tmp_path / "out"
    env = {**os.environ, "OMPI_MCA_rmaps_base_oversubscribe": "1",
           "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")}
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "run", "main.py"), "compare",
                           "--study", str(study), "--out", str(out)],
                          capture_output=True, text=True, cwd=str(tmp_path), env=env,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "x2 ranks  run" in proc.stdout, proc.stdout  # not "1 process": MPI is required here
    assert "neuron, seed 55 -> " in proc.stdout and "(2 MPI ranks)" in proc.stdout
    run_dir = out / "mpi" / "runs" / "neuron_seed55"
    assert run_folder.read_status(str(run_dir))["status"] == "complete"
    metadata = storage.read_json(str(run_dir / "metadata.json"))
    assert metadata["mpi_processes"] == 2
    assert (out / "mpi" / "report" / "report.md").exists()
