"""The run folder: output-folder checks, status.json, run.log, removing a run's files."""

import sys

import pytest

from pd14_pynn import run_folder


def test_prepare_run_folder_refuses_to_overwrite(tmp_path):
    (tmp_path / "parameters.json").write_text("{}")
    with pytest.raises(run_folder.OutputExistsError, match="--overwrite"):
        run_folder.prepare_run_folder(str(tmp_path))
    assert (tmp_path / "parameters.json").read_text() == "{}"
    run_folder.prepare_run_folder(str(tmp_path), overwrite=True)


@pytest.mark.parametrize("state, details, named", [
    ("complete", {}, "already holds the results of a complete run"),
    ("interrupted", {"signal": "SIGINT"},
     "already holds an interrupted run (stopped in simulate at 1234.5 ms simulated"),
    ("failed", {"error": "MemoryError: out of memory"},
     "already holds a failed run (failed in simulate at 1234.5 ms simulated: MemoryError: "
     "out of memory)"),
    ("running", {}, "already holds a run that has not finished (status 'running', last in "
     "simulate at 1234.5 ms simulated, written {updated}; still running, or killed)"),
])
def test_used_folder_is_named_by_its_status(tmp_path, state, details, named):
    written = run_folder.write_status(str(tmp_path), state, "simulate", 1234.5, **details)
    with pytest.raises(run_folder.OutputExistsError, match="--overwrite") as refused:
        run_folder.check_output_folder(str(tmp_path))
    assert named.format(updated=written["updated"]) in str(refused.value)
    run_folder.check_output_folder(str(tmp_path), overwrite=True)


def test_status_file_round_trip_and_states(tmp_path):
    written = run_folder.write_status(str(tmp_path), "interrupted", "presimulate", 50.0,
                                      signal="SIGTERM")
    assert run_folder.read_status(str(tmp_path)) == written
    assert written["status"] == "interrupted" and written["simulated_ms"] == 50.0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["status.json"]  # no temp file left
    with pytest.raises(ValueError, match="status must be one of"):
        run_folder.write_status(str(tmp_path), "stopped", "simulate")
    assert run_folder.read_status(str(tmp_path / "missing")) is None


def test_output_folder_must_be_creatable_and_writable(tmp_path):
    with pytest.raises(run_folder.OutputFolderError, match="cannot be created"):
        run_folder.check_output_folder("/proc/x/run")
    with pytest.raises(run_folder.OutputFolderError, match="cannot be written"):
        run_folder.check_output_folder("/proc", overwrite=True)  # no folder can be made in it
    run_folder.check_output_folder(str(tmp_path / "a" / "b"))
    assert list(tmp_path.iterdir()) == [], "the probe leaves nothing"


def test_console_log_copies_what_is_printed(tmp_path, capsys):
    log = tmp_path / "run.log"
    with run_folder.console_log(str(log)):
        print("to stdout")
        print("to stderr", file=sys.stderr)
    print("after")
    assert log.read_text() == "to stdout\nto stderr\n"
    captured = capsys.readouterr()
    assert captured.out == "to stdout\nafter\n" and captured.err == "to stderr\n"


def test_remove_run_files_keeps_other_files(tmp_path):
    for name in ("spikes.pkl", "status.json", "run.log", "timings.json", "notes.txt"):
        (tmp_path / name).write_text("x")
    run_folder.remove_run_files(str(tmp_path))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
