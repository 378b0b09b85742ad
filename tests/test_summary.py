"""pd14_pynn.summary: the figures of a multi-area run, from a synthetic Neo block
(3 areas, TH without L4; no simulator)."""

import json
import os

import neo
import numpy as np
import pytest

from pd14_pynn import parameters, storage, summary
from pd14_pynn.parameters import POPULATIONS

AREAS = ("V1", "V2", "TH")
T_PRESIM_MS, T_SIM_MS = 100.0, 400.0


def area_block(areas=AREAS, size=20, seed=3):
    """Columnar block of ``areas``, each with every PD14 population but TH's L4E and
    L4I; population ``k`` of area ``a`` fires at (a + 1) * (k + 1) spikes/s per
    neuron, but V2/L23E is silent."""
    rng = np.random.default_rng(seed)
    rows, channels, times, first = [], [], [], 0
    for a, area in enumerate(areas):
        for k, population in enumerate(POPULATIONS):
            if area == "TH" and population.startswith("L4"):
                continue
            rows.append({"area": area, "population": population, "first_channel": first,
                         "size": size})
            rate_hz = 0.0 if (area, population) == ("V2", "L23E") else (a + 1) * (k + 1)
            count = rng.poisson(rate_hz * (T_PRESIM_MS + T_SIM_MS) * 1e-3 * size)
            channels.append(first + rng.integers(0, size, count))
            times.append(rng.uniform(0.0, T_PRESIM_MS + T_SIM_MS, count))
            first += size
    block = neo.Block(name="three areas")
    segment = neo.Segment(name="run")
    block.segments.append(segment)
    storage.set_columnar_spikes(segment, times, channels, rows,
                                t_stop_ms=T_PRESIM_MS + T_SIM_MS)
    block.annotations.update(t_presim_ms=T_PRESIM_MS, populations=json.dumps(rows),
                             areas=list(areas))
    return block


@pytest.fixture(scope="module")
def params():
    return parameters.resolve({"N_scaling": 0.05, "K_scaling": 0.05,
                               "t_presim_ms": T_PRESIM_MS, "t_sim_ms": T_SIM_MS})


def test_rate_matrix_has_nan_not_zero_for_missing_populations():
    values = {"V1/L23E": 1.5, "V1/L4E": 0.0, "TH/L23E": 2.0, "TH/L5E": 3.0}
    areas, populations, matrix, absent = summary.area_population_matrix(values)
    assert areas == ["V1", "TH"] and populations == list(POPULATIONS)
    assert matrix.shape == (2, 8)
    th, l4e, l5e = 1, POPULATIONS.index("L4E"), POPULATIONS.index("L5E")
    assert np.isnan(matrix[th, l4e]) and absent[th, l4e]
    # a silent population is a rate of 0, present; not "missing"
    assert matrix[0, l4e] == 0.0 and not absent[0, l4e]
    assert matrix[th, l5e] == 3.0 and not absent[th, l5e]
    assert absent.sum() == 16 - 4


def test_figures_of_three_areas_one_without_l4(tmp_path, params):
    block = area_block()
    rates, areas = summary.write_summary(block, "nest", params, str(tmp_path))
    assert list(areas) == list(AREAS)
    assert "L4E" not in areas["TH"] and "L4E" in areas["V1"]
    assert areas["V2"]["L23E"]["mean_hz"] == 0.0
    for name in ("rates.json", "rate_matrix.png", "raster_areas.png", "rates_by_area.png"):
        assert (tmp_path / name).stat().st_size > 5000, name
    assert not (tmp_path / "raster.png").exists()
    # the matrix the figure is drawn from
    means = {key: row["mean_hz"] for key, row in rates.items()}
    names, _, matrix, absent = summary.area_population_matrix(means)
    assert names == list(AREAS)
    assert np.isnan(matrix[2, [2, 3]]).all() and absent[2, [2, 3]].all()
    assert np.isfinite(matrix[:2]).all() and np.isfinite(matrix[2, [0, 1, 4, 5, 6, 7]]).all()
    # V1/L6I fires at 8 spikes/s per neuron: the matrix holds rates (1/s)
    assert matrix[0, 7] == pytest.approx(8.0, rel=0.25)


def test_rate_bars_only_up_to_four_areas(tmp_path, params):
    many = tuple(f"A{i}" for i in range(5))
    summary.write_summary(area_block(many, size=5), "nest", params, str(tmp_path))
    assert (tmp_path / "rate_matrix.png").exists()
    assert not (tmp_path / "rates_by_area.png").exists()


def test_raster_areas_default_to_the_first_three_of_the_model():
    assert summary.choose_raster_areas(["V1", "V2", "V4", "TH"]) == ["V1", "V2", "V4"]
    assert summary.choose_raster_areas(["V1"]) == ["V1"]


def test_raster_takes_the_areas_asked_for_and_refuses_unknown_ones(tmp_path, params,
                                                                   monkeypatch):
    from pd14_pynn import plotting
    drawn = {}

    def record(spikes_by_area, path, *args, **kwargs):
        drawn.update({area: sorted(spikes) for area, spikes in spikes_by_area.items()})
        drawn["path"] = path

    monkeypatch.setattr(plotting, "area_raster", record)
    summary.write_summary(area_block(), "nest", params, str(tmp_path),
                          raster_areas=["TH", "V1"])
    assert list(drawn)[:2] == ["TH", "V1"]
    assert drawn["TH"] == sorted(n for n in POPULATIONS if not n.startswith("L4"))
    assert os.path.basename(drawn["path"]) == "raster_areas.png"
    with pytest.raises(ValueError, match=r"'V3'.*choose among V1, V2, TH"):
        summary.write_summary(area_block(), "nest", params, str(tmp_path),
                              raster_areas=["V1", "V3"])


def test_log_matrix_draws_a_silent_population_below_the_scale(tmp_path):
    from pd14_pynn import plotting
    matrix = np.array([[0.0, 5.0], [np.nan, 40.0]])
    absent = np.array([[False, False], [True, False]])
    path = plotting.area_matrix(matrix, ["V1", "TH"], ["L23E", "L4E"],
                                str(tmp_path / "m.png"), "rate (1/s)", absent=absent,
                                scale="log", vmin=0.01, vmax=50.0)
    assert os.path.getsize(path) > 5000
    with pytest.raises(ValueError, match="scale"):
        plotting.area_matrix(matrix, ["V1", "TH"], ["L23E", "L4E"],
                             str(tmp_path / "n.png"), "rate (1/s)", scale="sqrt")
