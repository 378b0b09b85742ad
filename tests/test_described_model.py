"""pd14_pynn.described_model and description_numbers: multi-area models from a description.

Structure and numbers on PyNN's mock backend with tests/data/three_areas.json
(areas A, B, C; C without layer 4; A and C simulated, B replaced; N = 0.1,
K = 0.5, counts truncated, the weight sd not scaled), checked against numbers
worked out by hand from that file. PD14 as a one-area description against
``Microcircuit`` on NEST (subprocesses, tests/described_scenario.py): the
same spikes. The command line (``--model``, ``--areas``) and its errors.
"""

import json
import os
import subprocess
import sys

import numpy as np
import pyNN.mock as sim
import pytest

from pd14_pynn import cli, derive, parameters, spike_tables, storage
from pd14_pynn import description_numbers as numbers
from pd14_pynn import multi_area_description as mad
from pd14_pynn.described_model import DescribedModel
from pd14_pynn.parameters import POPULATIONS, ParameterError

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
THREE = os.path.join(HERE, "data", "three_areas.json")
NO_L4 = ["L23E", "L23I", "L5E", "L5I", "L6E", "L6I"]
SQRT_HALF = np.sqrt(0.5)  # the file's K_scaling is 0.5


def built(**options):
    sim.setup(timestep=0.1, min_delay=0.1)
    return DescribedModel(THREE, sim=sim, verbose=False, **options).build()


@pytest.fixture(scope="module")
def model():
    return built()


def test_areas_have_their_populations_with_the_scaled_sizes(model):
    assert list(model.areas) == ["A", "C"]
    assert list(model["A"].populations) == list(POPULATIONS)
    assert list(model["C"].populations) == NO_L4      # no layer 4
    # truncated: 4000.5 x 0.1 = 400.05 -> 400, 1000.5 x 0.1 -> 100, 250.5 x 0.1 -> 25
    assert model["A"]["L23E"].size == 400 and model["A"]["L6I"].size == 100
    assert model["C"]["L5E"].size == 100 and model["C"]["L5I"].size == 25
    assert model.total_neurons() == 4 * 500 + 3 * 125
    assert model.non_simulated_areas() == ["B"]


def test_projection_sizes_are_the_scaled_synapse_counts(model):
    counts = mad.load(THREE).scaled_synapse_counts()
    for label, circuit in model.areas.items():
        assert len(circuit.projections) == len(circuit.population_names) ** 2
        for (target, source), projection in circuit.projections.items():
            assert projection.size() == counts[label, target, label, source]
    # by hand: 100 x 4000.5 x 0.1 x 0.5 = 20002.5 -> 20002; 3 x 1000.5 x 0.05 = 150.075 -> 150
    assert model["A"].projections["L23E", "L23E"].size() == 20002
    assert model.projections["A", "L23E", "C", "L5E"].size() == 150
    assert set(model.projections) == {("A", "L23E", "C", "L5E"), ("C", "L5E", "A", "L23I")}
    assert model.total_synapses() == sum(
        n for (ta, _, sa, _), n in counts.items() if ta in "AC" and sa in "AC")


def test_weights_and_delays_follow_the_description_rules(model):
    a = model["A"]
    # intra-area: 87.8 pA / sqrt(K), sd 10 % of the full-scale mean (not scaled)
    spec = a.projection_spec("L23E", "L5E")
    assert spec.weight_mean_pA == pytest.approx(87.8 / SQRT_HALF)
    assert spec.weight_sd_pA == pytest.approx(8.78)
    assert a.projection_spec("L23E", "L4E").weight_mean_pA == pytest.approx(2 * 87.8 / SQRT_HALF)
    assert a.projection_spec("L5I", "L6I").weight_mean_pA == pytest.approx(-351.2 / SQRT_HALF)
    assert (spec.delay_mean_ms, spec.delay_sd_ms) == (1.5, 0.75)
    assert a.projection_spec("L5E", "L5I").delay_mean_ms == 0.75
    # inter-area: x 1.9, x 2 onto inhibitory targets; 14 mm / 2 mm/ms = 7 ms, sd 50 %
    to_c = model.specs["A", "L23E", "C", "L5E"]
    assert to_c.weight_mean_pA == pytest.approx(87.8 * 1.9 / SQRT_HALF)
    assert to_c.weight_sd_pA == pytest.approx(0.1 * 87.8 * 1.9)
    assert (to_c.delay_mean_ms, to_c.delay_sd_ms) == (7.0, 3.5)
    to_a = model.specs["C", "L5E", "A", "L23I"]
    assert to_a.weight_mean_pA == pytest.approx(87.8 * 1.9 * 2 / SQRT_HALF)
    # drawn connections have those means (numpy draw of the generic path)
    from pd14_pynn.connectivity import draw_connections
    _, _, weights, delays = draw_connections(a.projection_spec("L23E", "L5E"), 400, 400)
    assert weights.mean() == pytest.approx(87.8 / SQRT_HALF, rel=0.01)
    assert delays.mean() == pytest.approx(1.5, rel=0.05)


def test_background_and_dc_by_hand(model):
    c = model["C"].derived
    i = NO_L4.index("L5E")
    # Poisson background: 900 x 0.5 sources (not rounded) at 6/s, 87.8 pA / sqrt(K)
    assert c["K_ext"][i] == 450.0 and c["bg_rate_hz"][i] == 6.0
    assert c["psc_ext_pA"] == pytest.approx(87.8 / SQRT_HALF)
    assert model["C"].background["L5E"] is not None
    # mean input at full scale (pA/s sums of K w r): intra 3 x 40 x 87.8 x 2 (E)
    # + 3 x 20 x -351.2 x 5 (I); inter from A/L23E 3 and B/L23E 1.5 (replaced, counted
    # too) x 87.8 x 1.9 x 2; background 900 x 87.8 x 6
    total = 3 * 40 * 87.8 * 2 - 3 * 20 * 351.2 * 5 + 4.5 * 87.8 * 1.9 * 2 + 900 * 87.8 * 6
    expected = (1 - SQRT_HALF) * 0.5e-3 * total
    assert c["dc_pA"][i] == pytest.approx(expected, rel=1e-12)
    assert model["C"]["L5E"].celltype.parameter_space["i_offset"].base_value == \
        pytest.approx(expected * 1e-3)


def test_non_simulated_area_is_replaced_by_poisson_input(model):
    replaced = {(r.target_area, r.target_population, r.source_area, r.source_population): r
                for r in model.replaced}
    assert set(replaced) == {("A", "L23E", "B", "L5E"), ("A", "L23E", "B", "L6E"),
                             ("C", "L5E", "B", "L23E")}
    r = replaced["A", "L23E", "B", "L5E"]
    # in-degree 8 x K 0.5 sources at B/L5E's full-scale rate 2/s, 87.8 x 1.9 pA / sqrt(K),
    # 7 mm / 2 mm/ms
    assert (r.n_sources, r.rate_hz, r.delay_ms) == (4.0, 2.0, 3.5)
    assert r.weight_pA == pytest.approx(87.8 * 1.9 / SQRT_HALF)
    assert set(model.replacements) == {r.label for r in model.replaced}
    assert len(model.replacements) == 3


def test_external_rate_replacement_uses_the_external_rate():
    d = mad.load(THREE)
    d.simulation.non_simulated_areas = "poisson_external_rate"
    assert {r.rate_hz for r in numbers.replaced_inputs(d)} == {6.0}


def test_areas_choose_what_is_simulated():
    model = built(areas=["B"], overrides={"N_scaling": 0.05})
    assert list(model.areas) == ["B"] and model.projections == {}
    assert model["B"]["L23E"].size == 100   # 2000.5 x 0.05, truncated
    assert {(r.source_area, r.target_population) for r in model.replaced} == \
        {("A", "L4E"), ("A", "L4I")}
    with pytest.raises(ParameterError, match="unknown area 'V7' to simulate"):
        DescribedModel(THREE, areas=["V7"])


def test_pd14_as_a_description_has_derives_numbers_to_the_bit():
    params = parameters.resolve({"N_scaling": 0.05, "K_scaling": 0.05})
    ours = numbers.area_numbers(mad.microcircuit_description(params), "PD14")
    theirs = derive.derive(params)
    for key in ("num_neurons", "num_synapses", "weights_pA", "weight_sd_pA", "delay_mean_ms",
                "delay_sd_ms", "psc_ext_pA", "K_ext", "bg_rate_hz", "poisson_rate_hz", "dc_pA",
                "background_delay_ms", "full_mean_rates_hz"):
        assert np.array_equal(ours[key], theirs[key]), key


def test_memory_estimate_uses_the_models_own_sizes():
    from pd14_pynn import backends, resources
    model = DescribedModel(THREE)
    n_syn, n_neurons, spikes, _ = resources.model_size(model.params, model)
    assert (n_syn, n_neurons) == (model.total_synapses(), 4 * 500 + 3 * 125)
    # rates 2/s (E) and 5/s (I) over t_presim 0 + t_sim 1000 ms
    assert spikes == pytest.approx(4 * (400 * 2 + 100 * 5) + 3 * (100 * 2 + 25 * 5))
    with pytest.raises(backends.BackendError, match="needs about"):
        resources.check_memory(backends.get("nest"), model.params, model, limit=1e8)


def test_memory_estimate_grows_with_the_longest_delay(tmp_path):
    # NEST's per-neuron input buffers span the longest delay: areas 100 times as far
    # apart add 70 B per neuron for every 0.1 ms beyond 6 ms of the longest delay
    from pd14_pynn import backends, resources
    nest = backends.get("nest")
    near = DescribedModel(THREE)
    data = json.loads(open(THREE).read())
    for row in data["inter_area"]["distances_mm"].values():
        for source in row:
            row[source] *= 100.0
    far_path = tmp_path / "far.json"
    far_path.write_text(json.dumps(data))
    far = DescribedModel(str(far_path))
    assert far.longest_delay_ms() > 100 * near.longest_delay_ms() / 2
    n_neurons = far.total_neurons()
    extra = (resources.estimate_memory(nest, far.params, far)
             - resources.estimate_memory(nest, near.params, near))
    steps = [max(0, round(m.longest_delay_ms() / 0.1) - 60) for m in (far, near)]
    assert extra == pytest.approx(n_neurons * 70 * (steps[0] - steps[1]))
    # a spec's longest delay: its mean plus sd x sqrt(2 ln n)
    spec = max(far.specs.values(), key=lambda s: s.delay_mean_ms)
    assert far.longest_delay_ms() >= spec.delay_mean_ms + spec.delay_sd_ms * np.sqrt(
        2 * np.log(max(spec.n_synapses, 2))) - 1e-9


# --- the command line -----------------------------------------------------------

@pytest.mark.parametrize("argv, message", [
    (["nest", "--model", "no_such_file.json"], "cannot read the description file"),
    (["nest", "--model", THREE, "--areas", "A", "V7"], "unknown area 'V7' to simulate"),
    (["nest", "--areas", "A"], "--areas needs --model"),
    (["nest", "--model", THREE, "--n-scaling", "0.0001"], "without neurons"),
    (["nest", "--model", THREE, "--thalamic"], "thalamic_input is not allowed"),
    (["nest", "--model", THREE, "--areas", "A", "C", "--raster-areas", "B"],
     "raster areas 'B': not areas of this model; choose among A, C"),
    (["nest", "--raster-areas", "A"], "--raster-areas applies to runs with several areas"),
])
def test_bad_model_arguments_are_one_error_line(argv, message, tmp_path, capsys):
    out = tmp_path / "run"
    assert cli.main(argv + ["--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and message in err[0]
    assert not out.exists()


def test_a_bad_entry_in_the_file_is_named(tmp_path, capsys):
    data = json.loads(open(THREE).read())
    data["areas"]["C"]["indegrees"]["L23E"]["L4E"] = 10.0
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    assert cli.main(["nest", "--model", str(path), "--out", str(tmp_path / "run")]) == 2
    assert "error: areas.C.indegrees.L23E: area 'C' has no population 'L4E'" in \
        capsys.readouterr().err


def test_cli_runs_a_description_on_nest(tmp_path):
    out = tmp_path / "run"
    proc = subprocess.run(
        [sys.executable, "run/main.py", "nest", "--model", THREE, "--areas", "A", "C",
         "--n-scaling", "0.02", "--k-scaling", "0.05", "--t-sim", "100", "--threads", "1",
         "--seed", "3", "--raster-areas", "C", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": ROOT})
    assert proc.returncode == 0, proc.stderr[-3000:]
    rates = json.loads((out / "rates.json").read_text())
    assert set(rates["areas"]) == {"A", "C"}
    assert list(rates["areas"]["C"]) == NO_L4
    assert "A/L4E" in rates["populations"] and "C/L4E" not in rates["populations"]
    metadata = json.loads((out / "metadata.json").read_text())
    assert metadata["num_neurons"]["C"]["L23E"] == 20   # 1000.5 x 0.02, truncated
    assert metadata["non_simulated_areas"] == ["B"]
    saved = json.loads((out / "parameters.json").read_text())
    assert saved["description"]["scaling"]["N_scaling"] == 0.02
    assert saved["parameters"]["seed"] == 3 and saved["parameters"]["t_sim_ms"] == 100
    table = spike_tables.spike_table(storage.read_block(str(out)))
    assert table["C/L5E"].size == 20
    assert "area  population" in proc.stdout
    assert (out / "rate_matrix.png").is_file() and (out / "raster_areas.png").is_file()


# --- PD14 as a one-area description: the same spikes as Microcircuit --------------

def scenario(tmp_path, which, rng="native"):
    out = tmp_path / f"{which}_{rng}"
    proc = subprocess.run([sys.executable, os.path.join(HERE, "described_scenario.py"), "nest",
                           which, rng, str(out)], cwd=str(tmp_path), capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": ROOT})
    assert proc.returncode == 0, proc.stderr[-3000:]
    return spike_tables.spike_table(storage.read_block(str(out)))


def same_spikes(a, b):
    return list(a) == list(b) and all(
        np.array_equal(a[k].index, b[k].index) and np.array_equal(a[k].times_ms, b[k].times_ms)
        for k in a)


@pytest.mark.parametrize("rng", ["native", "numpy"])
def test_pd14_as_a_description_gives_microcircuits_spikes(tmp_path, rng):
    micro = scenario(tmp_path, "micro", rng)
    assert sum(s.times_ms.size for s in micro.values()) > 1000
    assert same_spikes(micro, scenario(tmp_path, "described", rng))
    if rng == "native":  # the comparison notices one in-degree 1 % off
        assert not same_spikes(micro, scenario(tmp_path, "perturbed", rng))
