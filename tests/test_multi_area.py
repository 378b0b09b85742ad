"""pd14_pynn.areas and run/two_areas.py.

Structure, seeds and the background rule on PyNN's mock backend; connections on
NEST and Brian2 in subprocesses (tests/multi_area_build.py); the example on
NEST and Brian2 at a tiny scale (subprocesses, outputs into tmp_path).
"""

import json
import os
import subprocess
import sys

import numpy as np
import pyNN.mock as sim
import pytest
from scipy import stats

import multi_area_build as helper
from pd14_pynn import areas, derive, parameters, spike_tables, storage
from pd14_pynn import inter_area as inter_area_module
from pd14_pynn.areas import MultiAreaModel
from pd14_pynn.connectivity import seed_sequence
from pd14_pynn.network import Microcircuit
from pd14_pynn.parameters import POPULATIONS

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
EXAMPLE = os.path.join(ROOT, "run", "two_areas.py")
TINY = {"N_scaling": 0.01, "K_scaling": 0.01}
PSC_015_MV = 87.81  # pA: a 0.15 mV PSP in these neurons (tests/test_derive.py)


def mock_model(overrides=TINY, **options):
    sim.setup(timestep=0.1, min_delay=0.1)
    return MultiAreaModel(sim, parameters.resolve(overrides), verbose=False, **options)


def mock_helper_model():
    """The two-area model of tests/multi_area_build.py, built on the mock backend."""
    sim.setup(timestep=0.1, min_delay=0.1)
    return helper.declare(sim).build()


def mock_single(label):
    sim.setup(timestep=0.1, min_delay=0.1)
    return Microcircuit(sim, helper.area_params(label), label=label, verbose=False).build()


def run_helper(tmp_path, simulator, mode):
    out = tmp_path / f"{simulator}_{mode.replace(':', '_')}.npz"
    proc = subprocess.run([sys.executable, os.path.join(HERE, "multi_area_build.py"), simulator,
                           mode, str(out)], capture_output=True, text=True, cwd=str(tmp_path))
    assert proc.returncode == 0, \
        f"{simulator} {mode}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return dict(np.load(out))


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    """``builds(simulator, mode)`` -> arrays of tests/multi_area_build.py (cached)."""
    cache, folder = {}, tmp_path_factory.mktemp("multi_area_builds")

    def get(simulator, mode):
        if (simulator, mode) not in cache:
            cache[(simulator, mode)] = run_helper(folder, simulator, mode)
        return cache[(simulator, mode)]
    return get


# --- (a) areas: disjoint, labelled, the right sizes ------------------------------------------
def test_areas_are_disjoint_labelled_and_sized_by_their_parameters():
    model = mock_model(dict(TINY, background="dc"))
    model.add_area("V1")
    model.add_area("V2", {"N_scaling": 0.02})
    model.build()
    assert list(model) == ["V1", "V2"]
    for label, n_scaling in (("V1", 0.01), ("V2", 0.02)):
        full = np.array(parameters.default_parameters()["full_num_neurons"])
        sizes = [model.population(label, n).size for n in POPULATIONS]
        np.testing.assert_array_equal(sizes, np.round(full * n_scaling).astype(int))
        for name in POPULATIONS:
            pop = model[label][name]
            assert pop is model.population(label, name)
            assert pop.label == f"{label}_{name}"
            assert pop.annotations["area"] == label and pop.annotations["population"] == name
    ids = {label: {int(i) for i in model[label].assembly.all_cells} for label in model}
    assert not ids["V1"] & ids["V2"]
    assert model.assembly.size == len(ids["V1"]) + len(ids["V2"])


def test_access_before_build_says_so():
    model = mock_model()
    model.add_area("V1")
    with pytest.raises(KeyError, match="not built"):
        model["V1"]


# --- (b) each area's own connectivity equals a single-area build --------------------------------
def test_area_projection_specs_equal_single_area_builds():
    model = mock_helper_model()
    assert model["V1"].params["seed"] == 55 and model["V2"].params["seed"] == 7
    for label in ("V1", "V2"):
        single = mock_single(label)
        assert set(model[label].projections) == set(single.projections)
        for target in POPULATIONS:
            for source in POPULATIONS:
                assert model[label].projection_spec(target, source) == \
                    single.projection_spec(target, source), (label, target, source)
    # the areas differ: V2 has its own seed, and labels enter every stream
    assert model["V1"].projection_spec("L4E", "L4E").seed != \
        model["V2"].projection_spec("L4E", "L4E").seed


def test_area_connections_equal_single_area_builds_on_mock():
    """The generic PyNN path (mock backend) draws each projection from its own stream."""
    model = mock_helper_model()
    for label in ("V1", "V2"):
        single = mock_single(label)
        for key in helper.DUMPED:
            np.testing.assert_array_equal(helper.connections(model[label].projections[key]),
                                          helper.connections(single.projections[key]))


@pytest.mark.parametrize("simulator", ["brian2", "neuron"])
def test_area_connections_equal_single_area_builds(builds, simulator):
    """Brian2 and NEURON draw with numpy per projection: the same connections, one by one."""
    multi = builds(simulator, "multi")
    for label in ("V1", "V2"):
        single = builds(simulator, f"single:{label}")
        keys = [k for k in single if k.startswith(label + "_")]
        assert len(keys) == 2 + len(helper.DUMPED)
        for key in keys:
            np.testing.assert_array_equal(multi[key], single[key], err_msg=key)
    # and the two areas are different networks
    assert not np.array_equal(multi["V1_conn_L23E_L23E"], multi["V2_conn_L23E_L23E"])


def test_area_connections_on_nest_have_the_specified_counts_and_distributions(builds):
    """NEST draws with its own shared RNG: check counts and distributions, not identity."""
    multi = builds("nest", "multi")
    for label in ("V1", "V2"):
        d = derive.derive(helper.area_params(label))
        np.testing.assert_array_equal(multi[f"{label}_sizes"], d["num_neurons"])
        np.testing.assert_array_equal(multi[f"{label}_counts"], d["num_synapses"])
        for target, source in helper.DUMPED:
            t, s = POPULATIONS.index(target), POPULATIONS.index(source)
            conns = multi[f"{label}_conn_{target}_{source}"]
            mean, sd = d["weights_pA"][t, s] * 1e-3, d["weight_sd_pA"][t, s] * 1e-3
            assert len(conns) == d["num_synapses"][t, s]
            assert np.all(np.sign(conns[:, 2]) == np.sign(mean))
            assert conns[:, 2].mean() == pytest.approx(mean, abs=5 * sd / np.sqrt(len(conns)))


# --- (c) inter-area projections: counts, weights, delays ----------------------------------------
@pytest.mark.parametrize("mode", ["multi-numpy", "multi"])
def test_inter_area_projections_follow_connectivity_rng(builds, mode):
    """With connectivity_rng="numpy" NEST builds the numpy-drawn inter-area
    connections (those of NEURON and Brian2); with "native" it draws its own."""
    result = builds("nest", "multi")
    if mode == "multi-numpy":
        result = builds("nest", mode)
    for key in (c[:4] for c in helper.CONNECTIONS):
        built = result["inter_" + "_".join(key)]
        if mode == "multi":
            # the native draw: same count, other connections than numpy's
            numpy_drawn = builds("nest", "multi-numpy")["drawn_" + "_".join(key)]
            assert len(built) == len(numpy_drawn)
            assert not np.array_equal(np.sort(built[:, :2], axis=0),
                                      np.sort(numpy_drawn[:, :2], axis=0))
            continue
        drawn = result["drawn_" + "_".join(key)]
        order = np.lexsort(built.T[::-1])
        expected = drawn[np.lexsort(drawn.T[::-1])]
        np.testing.assert_array_equal(built[order][:, :2], expected[:, :2])
        np.testing.assert_allclose(built[order][:, 2:], expected[:, 2:], rtol=1e-12)


def test_inter_area_specs_by_hand():
    model = mock_model(helper.BASE)
    for label, seed in helper.AREA_SEEDS.items():
        model.add_area(label, seed=seed)
    ff = model.add_connection("V1", "L23E", "V2", "L4E", 1000)
    inh = model.add_connection("V1", "L23I", "V2", "L23E", 300, replace_background=False)
    fb = model.add_connection("V2", "L5E", "V1", "L23E", 300, psp_mV=0.3, delay_mean_ms=3.0)
    spec = model.connection_spec(ff)
    # L4E: round(21915 x 0.02) = 438 neurons, in-degree 1000 x 0.02 = 20
    assert spec.n_synapses == 8760
    assert spec.weight_mean_pA == pytest.approx(PSC_015_MV / np.sqrt(0.02), rel=1e-4)
    assert spec.weight_sd_pA == pytest.approx(0.1 * spec.weight_mean_pA)
    assert (spec.delay_mean_ms, spec.delay_sd_ms) == (1.5, 0.75)
    assert spec.receptor_type == "excitatory"
    assert spec.seed == seed_sequence(55, "inter-area", "V1", "L23E", "V2", "L4E")
    spec = model.connection_spec(inh)
    assert spec.n_synapses == round(300 * 0.02 * 414)
    assert spec.weight_mean_pA == pytest.approx(-4 * PSC_015_MV / np.sqrt(0.02), rel=1e-4)
    assert spec.receptor_type == "inhibitory"
    spec = model.connection_spec(fb)
    assert spec.weight_mean_pA == pytest.approx(2 * PSC_015_MV / np.sqrt(0.02), rel=1e-4)
    assert (spec.delay_mean_ms, spec.delay_sd_ms) == (3.0, 1.5)


@pytest.mark.parametrize("simulator", ["nest", "brian2"])
def test_inter_area_projections_have_requested_counts_and_weights(builds, simulator):
    multi = builds(simulator, "multi")
    sim.setup(timestep=0.1, min_delay=0.1)
    model = helper.declare(sim)
    assert sorted(k for k in multi if k.startswith("inter_")) == \
        sorted("inter_" + "_".join(c.key) for c in model.connections)
    for c in model.connections:
        conns = multi["inter_" + "_".join(c.key)]
        spec = model.connection_spec(c)
        n_pre = multi[f"{c.source_area}_sizes"][POPULATIONS.index(c.source_population)]
        n_post = multi[f"{c.target_area}_sizes"][POPULATIONS.index(c.target_population)]
        assert len(conns) == spec.n_synapses == round(c.indegree * 0.02 * n_post)
        assert conns[:, 0].max() < n_pre and conns[:, 1].max() < n_post
        weights, delays = conns[:, 2] * 1e3, conns[:, 3]  # pA, ms
        sign = 1 if c.source_population.endswith("E") else -1
        assert np.all(np.sign(weights) == sign)
        expected = sign * (4 if sign < 0 else 1) * PSC_015_MV / np.sqrt(0.02)
        sd = 0.1 * abs(expected)
        assert weights.mean() == pytest.approx(expected, abs=5 * sd / np.sqrt(len(weights)))
        assert weights.std() == pytest.approx(sd, rel=0.1)
        np.testing.assert_allclose(delays / 0.1, np.round(delays / 0.1), atol=1e-6)
        assert delays.min() >= 0.1 - 1e-9
        truncated = stats.truncnorm((0.1 - c.delay_mean_ms) / c.delay_sd_ms, np.inf,
                                    loc=c.delay_mean_ms, scale=c.delay_sd_ms)
        assert delays.mean() == pytest.approx(truncated.mean(), rel=0.03)


# --- (d) replacing background keeps the mean input -----------------------------------------------
def feedforward_model(background, K_scaling=0.01, indegree=1000, **options):
    model = mock_model({"N_scaling": 0.01, "K_scaling": K_scaling, "background": background},
                       **options)
    model.add_area("V1")
    model.add_area("V2")
    if indegree:
        model.add_connection("V1", "L23E", "V2", "L4E", indegree)
    return model


def test_background_fraction_by_hand_and_independent_of_k_scaling():
    # 1 - K r / (K_ext bg_rate), both weights 0.15 mV: 1 - 1000 x 0.903 / (2100 x 8)
    for k in (0.01, 0.3, 1.0):
        fractions = feedforward_model("poisson", K_scaling=k).background_fractions()
        assert fractions["V2"]["L4E"] == pytest.approx(1 - 903 / 16800)
        assert all(f == 1.0 for name, f in fractions["V2"].items() if name != "L4E")
        assert all(f == 1.0 for f in fractions["V1"].values())


def test_worked_number_of_the_documentation():
    p = parameters.resolve()
    inter = inter_area_module.mean_input_pA(100, PSC_015_MV, 7.569, 0.5) + \
        inter_area_module.mean_input_pA(100, PSC_015_MV, 1.105, 0.5)
    assert inter == pytest.approx(38.08, abs=0.01)
    assert inter_area_module.background_mean_pA(p, "L23E") == pytest.approx(561.97, abs=0.01)
    assert inter_area_module.kept_background_fraction(p, "L23E", inter) == pytest.approx(0.9322, abs=1e-4)


def mean_input_pA(circuit, population, inter_area=()):
    """Mean input current (pA) of one neuron: DC + Poisson background + inter-area projections."""
    i = POPULATIONS.index(population)
    d, p = circuit.derived, circuit.params
    total = circuit[population].get("i_offset") * 1e3  # nA -> pA: the DC actually set
    if p["background"] == "poisson":
        total += inter_area_module.mean_input_pA(d["K_ext"][i], d["psc_ext_pA"], d["bg_rate_hz"][i],
                                     p["tau_syn_ms"])
    for spec, rate in inter_area:
        total += inter_area_module.mean_input_pA(spec.n_synapses / circuit[population].size,
                                     spec.weight_mean_pA, rate, p["tau_syn_ms"])
    return total


@pytest.mark.parametrize("background", ["dc", "poisson"])
def test_replacing_background_keeps_the_mean_input(background):
    isolated = feedforward_model(background, indegree=0).build()
    connected = feedforward_model(background).build()
    c = connected.connections[0]
    spec = connected.specs[c.key]
    i = POPULATIONS.index("L4E")
    fraction = 1 - 903 / 16800
    if background == "dc":
        # the DC background shrinks by (1 - fraction) of 1e-3 tau_s K_ext w_ext bg_rate
        # (2100 x 87.81 pA x 8/s x 0.5 ms = 737.6 pA); the K-scaling compensation of the
        # new input adds (1 - sqrt(k)) of its full-scale mean
        change = (connected["V2"]["L4E"].get("i_offset") - isolated["V2"]["L4E"].get("i_offset"))
        expected = -(1 - fraction) * 737.59 + (1 - 0.1) * (1 - fraction) * 737.59
        assert change * 1e3 == pytest.approx(expected, rel=1e-3)
    else:
        assert connected["V2"].derived["bg_rate_hz"][i] == pytest.approx(8.0 * fraction)
        assert isolated["V2"].derived["bg_rate_hz"][i] == 8.0
    # either way the mean input of an L4E neuron of V2 is unchanged
    assert mean_input_pA(connected["V2"], "L4E", [(spec, c.source_rate_hz)]) == \
        pytest.approx(mean_input_pA(isolated["V2"], "L4E"), rel=1e-3)
    # and nothing else changed
    for label in ("V1", "V2"):
        for name in POPULATIONS:
            if (label, name) != ("V2", "L4E"):
                assert connected[label][name].get("i_offset") == \
                    pytest.approx(isolated[label][name].get("i_offset"))


def test_excess_inter_area_input_is_an_error_or_clipped():
    with pytest.raises(ValueError, match="exceeds its whole background"):
        feedforward_model("dc", indegree=20000).background_fractions()
    model = feedforward_model("dc", indegree=20000, on_excess="clip")
    with pytest.warns(UserWarning, match="no background is kept"):
        assert model.background_fractions()["V2"]["L4E"] == 0.0


def test_net_inhibitory_input_keeps_the_whole_background_with_a_warning():
    model = feedforward_model("dc", indegree=0)
    model.add_connection("V1", "L23I", "V2", "L4E", 100)
    with pytest.warns(UserWarning, match="net inhibitory"):
        assert model.background_fractions()["V2"]["L4E"] == 1.0


def test_input_added_on_top_keeps_the_background():
    model = feedforward_model("dc", indegree=0)
    model.add_connection("V1", "L23E", "V2", "L4E", 1000, replace_background=False)
    assert model.background_fractions()["V2"]["L4E"] == 1.0


@pytest.mark.parametrize("call, message", [
    (lambda m: m.add_area("V1"), "already declared"),
    (lambda m: m.add_area("V1/x"), "without '/'"),
    (lambda m: m.add_area("V3", {"resolution_ms": 0.05}), "whole simulation"),
    (lambda m: m.add_area("V3", {"K_scalling": 0.1}), "unknown parameter"),
    (lambda m: m.add_connection("V1", "L23E", "V9", "L4E", 10), "unknown area 'V9'"),
    (lambda m: m.add_connection("V1", "L2E", "V2", "L4E", 10), "unknown population 'L2E'"),
    (lambda m: m.add_connection("V1", "L23E", "V1", "L4E", 10), "the same"),
    (lambda m: m.add_connection("V1", "L23E", "V2", "L4E", 10), "already declared"),
    (lambda m: m.add_connection("V1", "L23E", "V2", "L5E", 10, weight_pA=-5), "Dale"),
    (lambda m: m.add_connection("V1", "L23I", "V2", "L5E", 10, psp_mV=0.15), "Dale"),
    (lambda m: m.add_connection("V1", "L23E", "V2", "L5E", 10, weight_pA=5, psp_mV=0.1),
     "not both"),
    (lambda m: m.add_connection("V1", "L23E", "V2", "L5E", -1), "indegree"),
    (lambda m: m.add_connection("V1", "L23E", "V2", "L5E", 10, delay_mean_ms=0.0), "delays"),
])
def test_bad_declarations_are_refused(call, message):
    model = feedforward_model("dc", indegree=10)
    with pytest.raises(ValueError, match=message):
        call(model)


def test_record_a_subset_and_collect_only_it():
    model = feedforward_model("dc", indegree=10)
    model.build(record_spikes=False)
    model.record(["V1/L23E", ("V2", "L4E")])
    model.record("V2")
    assert areas.recorded_variables(model["V1"]["L23E"]) == {"spikes"}
    assert not areas.recorded_variables(model["V1"]["L4E"])
    assert all(areas.recorded_variables(model["V2"][n]) == {"spikes"} for n in POPULATIONS)


# --- (e) the example ------------------------------------------------------------------------------
def run_example(tmp_path, simulator, *options):
    out = tmp_path / f"{simulator}{'_'.join(options)}"
    proc = subprocess.run(
        [sys.executable, EXAMPLE, simulator, "--n-scaling", "0.02", "--k-scaling", "0.05",
         "--t-presim", "100", "--t-sim", "200", "--out", str(out), *options],
        capture_output=True, text=True, cwd=str(tmp_path))
    assert proc.returncode == 0, f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return out, proc.stdout


@pytest.mark.parametrize("simulator", ["nest", "brian2"])
def test_two_area_example_writes_spikes_of_both_areas(tmp_path, simulator):
    out, stdout = run_example(tmp_path, simulator)
    for name in ("parameters.json", "metadata.json", "rates.json", "timings.json",
                 "spikes.pkl", "rates_by_area.png"):
        assert (out / name).stat().st_size > 0, name
    block = storage.read_block(str(out))
    trains = block.segments[0].spiketrains
    sizes = derive.derive(parameters.resolve({"N_scaling": 0.02, "K_scaling": 0.05}))["num_neurons"]
    for area in ("V1", "V2"):
        mine = [t for t in trains if t.annotations["area"] == area]
        assert len(mine) == sizes.sum(), area
        assert sum(len(t) for t in mine) > 0, f"{area} is silent"
    spikes = spike_tables.spikes_by_population(block)
    assert sorted(spikes) == sorted(f"{a}/{n}" for a in ("V1", "V2") for n in POPULATIONS)
    rates = storage.read_json(str(out / "rates.json"))["areas"]
    assert rates["V1"]["L23E"]["n"] == sizes[0]
    metadata = storage.read_json(str(out / "metadata.json"))
    assert metadata["num_synapses_inter_area"]["V1/L23E/V2/L4E"] == round(200 * 0.05 * sizes[2])
    assert metadata["background_fractions"]["V1"]["L23E"] == pytest.approx(
        1 - 100 * (7.569 + 1.105) / (1600 * 8))
    assert len(storage.read_json(str(out / "parameters.json"))["connections"]) == 10
    assert "V2    L6I" in stdout


def test_two_area_example_without_inter_area_input(tmp_path):
    out, _ = run_example(tmp_path, "nest", "--no-inter-area")
    params = storage.read_json(str(out / "parameters.json"))
    assert params["connections"] == [] and params["inter_area"] is False
    assert all(f == 1.0 for area in params["background_fractions"].values()
               for f in area.values())
    assert storage.read_json(str(out / "metadata.json"))["num_synapses_inter_area"] == {}
    # an output folder with results is refused before anything is built
    proc = subprocess.run([sys.executable, EXAMPLE, "nest", "--out", str(out)],
                          capture_output=True, text=True, cwd=str(tmp_path))
    assert proc.returncode == 2 and proc.stderr.startswith("error: ")
    assert "already holds the results of a complete run" in proc.stderr
    assert json.loads((out / "parameters.json").read_text()) == params
