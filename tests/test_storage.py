"""Neo files: write/read round trips for every offered format; run folders."""

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
        storage.write_block(small_block(), str(tmp_path / "spikes.h5"))


def test_mean_rates_window():
    rates = storage.mean_rates([np.array([100.0, 600.0, 700.0, 1499.0]), np.array([])], 500.0, 1500.0)
    np.testing.assert_allclose(rates, [3.0, 0.0])


def test_prepare_run_folder_refuses_to_overwrite(tmp_path):
    (tmp_path / "parameters.json").write_text("{}")
    with pytest.raises(storage.OutputExistsError, match="--overwrite"):
        storage.prepare_run_folder(str(tmp_path))
    assert (tmp_path / "parameters.json").read_text() == "{}"
    storage.prepare_run_folder(str(tmp_path), overwrite=True)
