"""The multi-area description file: reading, writing, every check, and PD14 as one area.

The checks (pd14_pynn/multi_area_checks.py) are tested here, through their public
entry ``multi_area_description.validate`` (and ``load``, ``save``).

tests/data/three_areas.json holds invented numbers: areas A and B with all eight
populations, C without layer 4; sizes 4 x 1000.5 (E) and 1000.5 (I) in A, half
of that in B, a quarter in C; scaling N = 0.1, K = 0.5, counts truncated.
"""

import copy
import json
import pathlib

import numpy as np
import pytest

from pd14_pynn import derive, parameters
from pd14_pynn import multi_area_description as mad
from pd14_pynn.parameters import POPULATIONS, ParameterError

THREE_AREAS = pathlib.Path(__file__).parent / "data" / "three_areas.json"


@pytest.fixture
def raw():
    """The JSON form of the three-area file (a fresh copy for each test)."""
    return json.loads(THREE_AREAS.read_text())


def test_three_areas_read():
    d = mad.load(THREE_AREAS)
    assert list(d.areas) == ["A", "B", "C"]
    assert list(d.areas["C"].populations) == ["L23E", "L23I", "L5E", "L5I", "L6E", "L6I"]
    # A: 4 x 4000.5 + 4 x 1000.5; B: 4 x 2000.5 + 4 x 500.5; C: 3 x 1000.5 + 3 x 250.5
    assert d.total_neurons() == 20004 + 10004 + 3753
    assert d.simulation.simulated_areas == ["A", "C"]


def test_scaled_numbers_by_hand():
    d = mad.load(THREE_AREAS)
    n = d.scaled_num_neurons()
    assert n["A"]["L23E"] == 400          # int(4000.5 x 0.1) = int(400.05)
    assert n["C"]["L23I"] == 25           # int(250.5 x 0.1)
    assert "L4E" not in n["C"]
    counts = d.scaled_synapse_counts()
    # K x N_target x K_scaling x N_scaling: 2.5 x 1000.5 x 0.05 = 125.06 -> 125
    assert counts[("A", "L23I", "C", "L5E")] == 125
    # intra-area: 100 x 4000.5 x 0.05 = 20002.5 -> 20002 (truncated)
    assert counts[("A", "L23E", "A", "L4E")] == 20002
    d.scaling.count_rounding = "round"
    assert d.scaled_synapse_counts()[("A", "L23E", "A", "L4E")] == 20002  # half to even
    assert d.scaled_synapse_counts()[("A", "L23I", "C", "L5E")] == 125


def test_weights_and_delays_by_hand():
    d = mad.load(THREE_AREAS)
    assert d.weight_pA("A", "L23E", "A", "L23I") == -351.2
    assert d.weight_pA("A", "L23E", "A", "L4E") == pytest.approx(175.6)      # x 2
    assert d.weight_pA("B", "L4E", "A", "L23E") == pytest.approx(87.8 * 1.9)
    assert d.weight_pA("A", "L23I", "C", "L5E") == pytest.approx(87.8 * 1.9 * 2.0)
    assert d.delay_mean_ms("C", "A", "L23E") == pytest.approx(7.0)           # 14 mm / 2 mm/ms
    assert d.delay_sd_ms("C", "A", "L23E") == pytest.approx(3.5)
    assert d.delay_mean_ms("A", "A", "L5I") == 0.75
    assert d.delay_sd_ms("A", "A", "L5I") == 0.375


def test_round_trip_is_byte_identical(tmp_path):
    d = mad.load(THREE_AREAS)
    out = tmp_path / "copy.json"
    mad.save(d, out)
    assert out.read_bytes() == THREE_AREAS.read_bytes()
    assert mad.load(out) == d


def test_validate_takes_the_in_memory_form():
    d = mad.load(THREE_AREAS)
    mad.validate(d)
    d.delays.inter_area_speed_mm_per_ms = -1.0
    with pytest.raises(ParameterError, match="delays.inter_area_speed_mm_per_ms = -1.0"):
        mad.validate(d)


def test_save_refuses_an_invalid_description(tmp_path):
    d = mad.load(THREE_AREAS)
    d.simulation.simulated_areas = ["A", "V7"]
    with pytest.raises(ParameterError, match="unknown area 'V7'"):
        mad.save(d, tmp_path / "bad.json")
    assert not (tmp_path / "bad.json").exists()


def test_load_names_a_file_that_is_not_json(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{\"areas\": [1, 2,}")
    with pytest.raises(ParameterError, match=r"bad.json is not a JSON file: .*line 1"):
        mad.load(bad)
    with pytest.raises(ParameterError, match="cannot read the description file"):
        mad.load(tmp_path / "missing.json")


def _set(path, value):
    """An edit of the JSON form: set ``path`` (keys) to ``value``; ``DELETE`` removes it."""
    def edit(data):
        *parents, last = path
        for key in parents:
            data = data[key]
        if value is DELETE:
            del data[last]
        else:
            data[last] = copy.deepcopy(value)
    return edit


DELETE = object()
POP = {"num_neurons": 10.0, "external_indegree": 1.0, "external_rate_hz": 1.0,
       "full_mean_rate_hz": 1.0}

# (edit, what the one error line must contain)
ERRORS = {
    "unknown population": (
        _set(["areas", "A", "populations", "L7E"], POP),
        "areas.A.populations: unknown population 'L7E' (closest match: 'L6E')"),
    "negative size": (
        _set(["areas", "B", "populations", "L5I", "num_neurons"], -5),
        "areas.B.populations.L5I.num_neurons = -5 is not allowed: it must be a number > 0"),
    "zero size": (
        _set(["areas", "B", "populations", "L5I", "num_neurons"], 0),
        "leave out a population the area does not have"),
    "intra-area in-degree of a missing population": (
        _set(["areas", "C", "indegrees", "L4E"], {"L23E": 3.0}),
        "areas.C.indegrees: area 'C' has no population 'L4E' (its populations: L23E, L23I, "
        "L5E, L5I, L6E, L6I)"),
    "intra-area in-degree from a missing population": (
        _set(["areas", "C", "indegrees", "L23E", "L4I"], 3.0),
        "areas.C.indegrees.L23E: area 'C' has no population 'L4I'"),
    "negative in-degree": (
        _set(["areas", "A", "indegrees", "L23E", "L23I"], -1.0),
        "areas.A.indegrees.L23E.L23I = -1.0 is not allowed"),
    "inter-area in-degree onto a missing population": (
        _set(["inter_area", "indegrees", "C", "L4I"], {"A": {"L23E": 1.0}}),
        "inter_area.indegrees.C: area 'C' has no population 'L4I'"),
    "inter-area in-degree from a missing population": (
        _set(["inter_area", "indegrees", "A", "L23E", "C"], {"L4E": 1.0}),
        "inter_area.indegrees.A.L23E.C: area 'C' has no population 'L4E'"),
    "connection from an area not in the file": (
        _set(["inter_area", "indegrees", "A", "L23E", "D"], {"L5E": 1.0}),
        "inter_area.indegrees.A.L23E: unknown area 'D'; it is not among the 3 areas"),
    "connection onto an area not in the file": (
        _set(["inter_area", "indegrees", "V2"], {"L5E": {"A": {"L23E": 1.0}}}),
        "inter_area.indegrees: unknown area 'V2'"),
    "intra-area connection under inter_area": (
        _set(["inter_area", "indegrees", "A", "L23E", "A"], {"L5E": 1.0}),
        "a connection within area 'A' belongs under areas.A.indegrees"),
    "no distance for a connection": (
        _set(["inter_area", "distances_mm", "C", "B"], DELETE),
        "inter_area.indegrees.C.L5E.B.L23E: no distance for this connection"),
    "distance to an area not in the file": (
        _set(["inter_area", "distances_mm", "A", "E"], 3.0),
        "inter_area.distances_mm.A: unknown area 'E'"),
    "negative distance": (
        _set(["inter_area", "distances_mm", "A", "B"], -7.0),
        "inter_area.distances_mm.A.B = -7.0 is not allowed"),
    "zero speed": (
        _set(["delays", "inter_area_speed_mm_per_ms"], 0.0),
        "delays.inter_area_speed_mm_per_ms = 0.0 is not allowed: it must be a number > 0 (mm/ms)"),
    "negative speed": (
        _set(["delays", "inter_area_speed_mm_per_ms"], -2.0),
        "delays.inter_area_speed_mm_per_ms = -2.0 is not allowed"),
    "simulated area not in the file": (
        _set(["simulation", "simulated_areas"], ["A", "Cc"]),
        "simulation.simulated_areas: unknown area 'Cc' (closest match: 'C')"),
    "no simulated area": (
        _set(["simulation", "simulated_areas"], []),
        "simulation.simulated_areas = [] is not allowed"),
    "area simulated twice": (
        _set(["simulation", "simulated_areas"], ["A", "A"]),
        "simulation.simulated_areas names 'A' twice"),
    "unknown key with its closest match": (
        _set(["weights", "excitatory_pa"], 87.8),
        "unknown key weights.excitatory_pa (closest match: 'excitatory_pA')"),
    "unknown top-level key": (
        _set(["scalling"], {}),
        "unknown key scalling (closest match: 'scaling')"),
    "unknown key of a population": (
        _set(["areas", "A", "populations", "L23E", "full_mean_rate"], 1.0),
        "unknown key areas.A.populations.L23E.full_mean_rate (closest match: "
        "'full_mean_rate_hz')"),
    "missing key": (
        _set(["weights", "rel_sd"], DELETE),
        "weights lacks rel_sd"),
    "unknown rounding": (
        _set(["scaling", "count_rounding"], "floor"),
        "scaling.count_rounding = 'floor' is not allowed: it must be one of 'round', 'truncate'"),
    "positive inhibitory weight": (
        _set(["weights", "inhibitory_pA"], 351.2),
        "weights.inhibitory_pA = 351.2 is not allowed"),
    "unknown neuron model": (
        _set(["neuron", "model"], "iaf_psc_exp"),
        "neuron.model = 'iaf_psc_exp' is not allowed: it must be one of 'IF_curr_exp'"),
    "reset above threshold": (
        _set(["neuron", "V_reset_mV"], -40.0),
        "neuron.V_reset_mV = -40.0 is not allowed: it must be below neuron.V_th_mV = -50.0"),
    "initial potential of an unknown population": (
        _set(["neuron", "V0_mean_mV"], {"L23E": -60.0, "L2E": -60.0}),
        "neuron.V0_mean_mV: unknown population 'L2E'"),
    "negative initial sd": (
        _set(["neuron", "V0_sd_mV"], -1.0),
        "neuron.V0_sd_mV = -1.0 is not allowed"),
    "scaling leaves no neuron": (
        _set(["scaling", "N_scaling"], 0.003),
        "scaling.N_scaling = 0.003 is not allowed: it leaves areas.C.populations.L23I (250.5 "
        "neurons at full scale) without neurons"),
    "delay below the resolution": (
        _set(["delays", "inhibitory_mean_ms"], 0.05),
        "delays.inhibitory_mean_ms = 0.05 is not allowed: it must be at least "
        "simulation.resolution_ms = 0.1"),
    "unknown replacement of non-simulated areas": (
        _set(["simulation", "non_simulated_areas"], "hom_poisson_stat"),
        "simulation.non_simulated_areas = 'hom_poisson_stat' is not allowed"),
    "another format version": (
        _set(["format_version"], 2),
        "this version reads format 'pd14-pynn multi-area description', format_version 1"),
    "area name with a slash": (
        _set(["areas", "A/B"], {"populations": {"L23E": POP}, "indegrees": {}}),
        "areas: area name 'A/B' is not allowed"),
    "empty area": (
        _set(["areas", "D"], {"populations": {}, "indegrees": {}}),
        "areas.D.populations is empty"),
}


@pytest.mark.parametrize("case", ERRORS)
def test_each_error_is_one_line_naming_the_entry(raw, case):
    edit, expected = ERRORS[case]
    edit(raw)
    with pytest.raises(ParameterError) as err:
        mad.validate(raw)
    message = str(err.value)
    assert "\n" not in message
    assert expected in message


# --- PD14 as a one-area description ---------------------------------------

SCALINGS = [(1.0, 1.0), (0.1, 0.1), (0.05, 0.2), (0.3, 1.0)]


@pytest.mark.parametrize("n_scaling, k_scaling", SCALINGS)
def test_pd14_description_has_derives_numbers(n_scaling, k_scaling):
    params = parameters.resolve({"N_scaling": n_scaling, "K_scaling": k_scaling})
    d = mad.microcircuit_description(params, area="V1")
    expected = derive.derive(params)
    sizes = d.scaled_num_neurons()["V1"]
    assert [sizes[name] for name in POPULATIONS] == expected["num_neurons"].tolist()
    counts = np.zeros((8, 8), dtype=np.int64)
    for (ta, tp, sa, sp), n in d.scaled_synapse_counts().items():
        assert ta == sa == "V1"
        counts[POPULATIONS.index(tp), POPULATIONS.index(sp)] = n
    np.testing.assert_array_equal(counts, expected["num_synapses"])


def test_pd14_description_full_scale():
    params = parameters.default_parameters()
    d = mad.microcircuit_description(params)
    area = d.areas["PD14"]
    assert [area.populations[n].num_neurons for n in POPULATIONS] == params["full_num_neurons"]
    assert [area.populations[n].external_indegree for n in POPULATIONS] == params["K_ext"]
    d.scaling.N_scaling = d.scaling.K_scaling = 1.0
    assert sum(d.scaled_synapse_counts().values()) == 298_880_968   # docs/model.md
    assert d.total_synapses() == pytest.approx(298_880_968, abs=1)
    # L23E <- L23E: K = ln(1 - 0.1009) / ln(1 - 1/20683^2) / 20683
    assert area.indegrees["L23E"]["L23E"] == pytest.approx(
        np.log(1 - 0.1009) / np.log(1 - 1 / 20683 ** 2) / 20683)
    assert "L5I" not in area.indegrees["L23E"]          # conn_probs 0: no entry


def test_pd14_description_weights_delays_neurons():
    params = parameters.resolve({"N_scaling": 1, "K_scaling": 1})
    d = mad.microcircuit_description(params)
    full = derive.derive(params)
    for t, target in enumerate(POPULATIONS):
        for s, source in enumerate(POPULATIONS):
            assert d.weight_pA("PD14", target, "PD14", source) == \
                pytest.approx(full["weights_pA"][t, s], rel=1e-12)
    for s, source in enumerate(POPULATIONS):
        assert d.delay_mean_ms("PD14", "PD14", source) == full["delay_mean_ms"][s]
        assert d.delay_sd_ms("PD14", "PD14", source) == full["delay_sd_ms"][s]
    assert d.external_input.weight_pA == pytest.approx(87.81, abs=0.005)
    assert d.neuron.V0_mean_mV["L23E"] == -68.28
    assert d.scaling.count_rounding == "round" and d.scaling.weight_sd_scales_with_K


def test_pd14_description_round_trip(tmp_path):
    d = mad.microcircuit_description(parameters.default_parameters())
    mad.save(d, tmp_path / "pd14.json")
    assert mad.load(tmp_path / "pd14.json") == d


def test_pd14_description_refuses_thalamic_input():
    params = parameters.resolve({"thalamic_input": True})
    with pytest.raises(ParameterError, match="no thalamic input"):
        mad.microcircuit_description(params)
