"""Neo files: write/read round trips for every offered format.

(The run folder: tests/test_run_folder.py; spike tables and rates:
tests/test_spike_tables.py.)
"""

import neo
import numpy as np
import pytest
import quantities as pq

from pd14_pynn import spike_tables, storage


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
    spikes = spike_tables.spikes_by_population(storage.read_block(str(tmp_path)))
    assert list(spikes) == ["L23E", "L4I"]
    np.testing.assert_array_equal(spikes["L23E"][0], [1.0, 5.0])
    assert len(spikes["L23E"][1]) == 0
    np.testing.assert_array_equal(spikes["L4I"][0], [2.5])


def test_unknown_extension(tmp_path):
    with pytest.raises(ValueError, match="unknown spike file extension"):
        # (.h5 is SONATA's spike report, tests/test_spike_report.py)
        storage.write_block(small_block(), str(tmp_path / "spikes.csv"))


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
    table = spike_tables.spike_table(storage.read_block(str(path)))
    assert list(table) == ["V1/L23E", "V2/L23E"]
    np.testing.assert_array_equal(table["V1/L23E"].index, [0, 0, 2, 2])
    np.testing.assert_array_equal(table["V1/L23E"].times_ms, [1.0, 3.0, 0.5, 1.5])
    np.testing.assert_array_equal(table["V2/L23E"].index, [0, 1])
    assert table["V1/L23E"].size == 3 and table["V2/L23E"].size == 2
    # Neo, iterating the file's trains itself, sees the same spikes and annotations
    by_neuron = spike_tables.spikes_by_population(storage.read_block(str(path)))
    trains = list(neo.io.get_io(str(path)).read_block().segments[0].spiketrains)
    assert len(trains) == 5
    for train in trains:
        key = f"{train.annotations['area']}/{train.annotations['population']}"
        np.testing.assert_array_equal(np.sort(train.rescale("ms").magnitude),
                                      by_neuron[key][int(train.annotations["index"])])


def test_documented_loaders_are_importable_from_storage():
    # the README reads spikes back with storage.read_block, storage.spike_table and
    # storage.spikes_by_population; the tables live in spike_tables
    assert storage.spike_table is spike_tables.spike_table
    assert storage.spikes_by_population is spike_tables.spikes_by_population
