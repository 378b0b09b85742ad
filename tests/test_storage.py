"""Neo files: write/read round trips for every offered format; run folders."""

import sys

import neo
import numpy as np
import pytest
import quantities as pq

from pd14_pynn import storage


def small_block():
    block = neo.Block()
    segment = neo.Segment()
    block.segments.append(segment)
    for pop, times in (("L23E", [[1.0, 5.0], []]), ("L4I", [[2.5]])):
        for index, t in enumerate(times):
            segment.spiketrains.append(neo.SpikeTrain(t * pq.ms, t_stop=10 * pq.ms,
                                                      population=pop, index=index, area=""))
    return block


@pytest.mark.parametrize("ext", sorted(storage.SPIKE_FORMATS))
def test_round_trip(tmp_path, ext):
    path = tmp_path / f"spikes{ext}"
    storage.write_block(small_block(), str(path))
    spikes = storage.spikes_by_population(storage.read_block(str(tmp_path)))
    assert list(spikes) == ["L23E", "L4I"]
    np.testing.assert_array_equal(spikes["L23E"][0], [1.0, 5.0])
    assert len(spikes["L23E"][1]) == 0
    np.testing.assert_array_equal(spikes["L4I"][0], [2.5])


def test_unknown_extension(tmp_path):
    with pytest.raises(ValueError, match="unknown spike file extension"):
        # (.h5 is SONATA's spike report, tests/test_spike_report.py)
        storage.write_block(small_block(), str(tmp_path / "spikes.csv"))


def test_mean_rates_window():
    rates = storage.mean_rates([np.array([100.0, 600.0, 700.0, 1499.0]), np.array([])], 500.0, 1500.0)
    np.testing.assert_allclose(rates, [3.0, 0.0])


def test_prepare_run_folder_refuses_to_overwrite(tmp_path):
    (tmp_path / "parameters.json").write_text("{}")
    with pytest.raises(storage.OutputExistsError, match="--overwrite"):
        storage.prepare_run_folder(str(tmp_path))
    assert (tmp_path / "parameters.json").read_text() == "{}"
    storage.prepare_run_folder(str(tmp_path), overwrite=True)


def columnar_block():
    """A block as recording.collect_block writes it: two areas, one SpikeTrainList."""
    import json
    from neo.core.spiketrainlist import SpikeTrainList
    rows = [{"area": "V1", "population": "L23E", "first_channel": 0, "size": 3},
            {"area": "V2", "population": "L23E", "first_channel": 3, "size": 2}]
    channels = np.array([4, 0, 2, 0, 3, 2])
    times = np.array([9.0, 3.0, 1.5, 1.0, 7.0, 0.5])
    block = neo.Block(populations=json.dumps(rows), t_presim_ms=0.0)
    segment = neo.Segment()
    block.segments.append(segment)
    segment.spiketrains = SpikeTrainList.from_spike_time_array(
        times, channels, np.arange(5), t_stop=10 * pq.ms, units="ms",
        population=np.array(["L23E"] * 5), area=np.array(["V1"] * 3 + ["V2"] * 2),
        index=np.array([0, 1, 2, 0, 1]))
    segment.spiketrains.segment = segment
    return block


@pytest.mark.parametrize("ext", sorted(storage.SPIKE_FORMATS))
def test_columnar_round_trip_agrees_with_neos_own_trains(tmp_path, ext):
    path = tmp_path / f"spikes{ext}"
    storage.write_block(columnar_block(), str(path))
    table = storage.spike_table(storage.read_block(str(path)))
    assert list(table) == ["V1/L23E", "V2/L23E"]
    np.testing.assert_array_equal(table["V1/L23E"].index, [0, 0, 2, 2])
    np.testing.assert_array_equal(table["V1/L23E"].times_ms, [1.0, 3.0, 0.5, 1.5])
    np.testing.assert_array_equal(table["V2/L23E"].index, [0, 1])
    assert table["V1/L23E"].size == 3 and table["V2/L23E"].size == 2
    # Neo, iterating the file's trains itself, sees the same spikes and annotations
    by_neuron = storage.spikes_by_population(storage.read_block(str(path)))
    trains = list(neo.io.get_io(str(path)).read_block().segments[0].spiketrains)
    assert len(trains) == 5
    for train in trains:
        key = f"{train.annotations['area']}/{train.annotations['population']}"
        np.testing.assert_array_equal(np.sort(train.rescale("ms").magnitude),
                                      by_neuron[key][int(train.annotations["index"])])


def test_population_rates_count_silent_neurons():
    spikes = storage.PopulationSpikes(np.array([0, 0, 2]), np.array([1.0, 600.0, 700.0]), 4)
    np.testing.assert_allclose(storage.population_rates(spikes, 500.0, 1500.0), [1, 0, 1, 0])


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
    written = storage.write_status(str(tmp_path), state, "simulate", 1234.5, **details)
    with pytest.raises(storage.OutputExistsError, match="--overwrite") as refused:
        storage.check_output_folder(str(tmp_path))
    assert named.format(updated=written["updated"]) in str(refused.value)
    storage.check_output_folder(str(tmp_path), overwrite=True)


def test_status_file_round_trip_and_states(tmp_path):
    written = storage.write_status(str(tmp_path), "interrupted", "presimulate", 50.0,
                                   signal="SIGTERM")
    assert storage.read_status(str(tmp_path)) == written
    assert written["status"] == "interrupted" and written["simulated_ms"] == 50.0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["status.json"]  # no temp file left
    with pytest.raises(ValueError, match="status must be one of"):
        storage.write_status(str(tmp_path), "stopped", "simulate")
    assert storage.read_status(str(tmp_path / "missing")) is None


def test_output_folder_must_be_creatable_and_writable(tmp_path):
    with pytest.raises(storage.OutputFolderError, match="cannot be created"):
        storage.check_output_folder("/proc/x/run")
    with pytest.raises(storage.OutputFolderError, match="cannot be written"):
        storage.check_output_folder("/proc", overwrite=True)  # no folder can be made in it
    storage.check_output_folder(str(tmp_path / "a" / "b"))
    assert list(tmp_path.iterdir()) == [], "the probe leaves nothing"


def test_console_log_copies_what_is_printed(tmp_path, capsys):
    log = tmp_path / "run.log"
    with storage.console_log(str(log)):
        print("to stdout")
        print("to stderr", file=sys.stderr)
    print("after")
    assert log.read_text() == "to stdout\nto stderr\n"
    captured = capsys.readouterr()
    assert captured.out == "to stdout\nafter\n" and captured.err == "to stderr\n"


def test_remove_run_files_keeps_other_files(tmp_path):
    for name in ("spikes.pkl", "status.json", "run.log", "timings.json", "notes.txt"):
        (tmp_path / name).write_text("x")
    storage.remove_run_files(str(tmp_path))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
