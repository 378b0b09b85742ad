"""Networks as SONATA files (pd14_pynn/sonata.py, network_io.py, --save-connectivity).

* the files have SONATA's layout, read with plain h5py, and round-trip exactly;
* a network NEST drew, saved and loaded on NEST gives identical spikes;
* the same file builds identical connections on NEST, NEURON and Brian2;
* a file that does not fit the model is refused before anything is built.
"""

import csv
import json
import os
import subprocess
import sys

import h5py
import numpy as np
import pytest

from pd14_pynn import (cli, derive, network_io, parameters, sonata, sonata_reader, spike_tables,
                       storage)
from pd14_pynn.connectivity import draw_connections
from pd14_pynn.network import Microcircuit
from pd14_pynn.parameters import POPULATIONS
from conftest import scenario_fields
from scenario import DUMPED

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
MAIN = os.path.join(ROOT, "run", "main.py")
SEED = 11
# N = K = 0.05 as tests/scenario.py; with DC background the network needs more
# drive to be active at this scale (bg_rate_hz scales the DC)
RUN = ["--n-scaling", "0.05", "--k-scaling", "0.05", "--bg", "dc", "--t-presim", "50",
       "--t-sim", "200", "--threads", "1", "--seed", str(SEED)]
CONFIG = {"bg_rate_hz": 10.0}


def synthetic_network(folder):
    rng = np.random.default_rng(0)
    nodes = [sonata.Nodes("A", 5, "point_neuron", "nest:iaf_psc_exp", {"tau_m": 10.0},
                          population="A", v_init=np.linspace(-70, -60, 5)),
             sonata.Nodes("B", 3, "virtual", "pyNN:SpikeSourcePoisson", {"rate": 5.0})]
    edges = [sonata.Edges("B", "A", rng.integers(0, 3, 7), rng.integers(0, 5, 7),
                          rng.normal(87.8, 8.8, 7), np.full(7, 1.5), "excitatory"),
             sonata.Edges("A", "A", rng.integers(0, 5, 4), rng.integers(0, 5, 4),
                           -rng.random(4), np.full(4, 0.8), "inhibitory")]
    size = sonata.write_network(folder, nodes, iter(edges), {"seed": 1},
                                {"dt": 0.1, "tstop": 150.0})
    return nodes, edges, size


def test_files_have_the_sonata_layout(tmp_path):
    nodes, edges, size = synthetic_network(tmp_path / "network")
    folder = tmp_path / "network"
    assert size == sonata.folder_bytes(folder) > 0
    with h5py.File(folder / "nodes.h5", "r") as handle:
        assert handle.attrs["magic"] == 0x0A7A and list(handle.attrs["version"]) == [0, 1]
        a = handle["nodes/A"]
        for name in ("node_id", "node_type_id", "node_group_id", "node_group_index"):
            assert a[name].shape == (5,), name
        np.testing.assert_array_equal(a["node_type_id"][()], 0)
        np.testing.assert_array_equal(handle["nodes/B/node_type_id"][()], 1)
        np.testing.assert_array_equal(a["node_group_index"][()], np.arange(5))
        np.testing.assert_allclose(a["0/dynamics_params/V_m"][()], nodes[0].v_init)
    with h5py.File(folder / "edges.h5", "r") as handle:
        assert handle.attrs["magic"] == 0x0A7A
        assert set(handle["edges"]) == {"B_to_A", "A_to_A"}
        group = handle["edges/B_to_A"]
        assert group["source_node_id"].attrs["node_population"] == "B"
        assert group["target_node_id"].attrs["node_population"] == "A"
        assert group["source_node_id"].dtype == np.uint64
        np.testing.assert_array_equal(group["source_node_id"][()], edges[0].sources)
        np.testing.assert_array_equal(group["target_node_id"][()], edges[0].targets)
        np.testing.assert_array_equal(group["edge_type_id"][()], 0)
        np.testing.assert_array_equal(group["edge_group_id"][()], 0)
        np.testing.assert_array_equal(group["edge_group_index"][()], np.arange(7))
        np.testing.assert_array_equal(group["0/syn_weight"][()], edges[0].weights_pA)
        assert group["0/syn_weight"].attrs["units"] == "pA"
        np.testing.assert_array_equal(handle["edges/A_to_A/0/delay"][()], edges[1].delays_ms)
        np.testing.assert_array_equal(handle["edges/A_to_A/edge_type_id"][()], 1)
        for edge in edges:  # the indices find every edge of every node, and only those
            group = handle["edges"][edge.name]
            for index, ends, size in (("source_to_target", edge.sources, 3 if edge.source == "B"
                                       else 5), ("target_to_source", edge.targets, 5)):
                ranges = group[f"indices/{index}/node_id_to_ranges"][()]
                edge_ranges = group[f"indices/{index}/range_to_edge_id"][()]
                assert ranges.shape == (size, 2) and ranges.dtype == np.uint64
                np.testing.assert_array_equal(group[f"indices/{index}/node_id_to_range"][()],
                                              ranges)  # BMTK's name for it
                for node in range(size):
                    found = [k for a, b in edge_ranges[slice(*ranges[node])] for k in range(a, b)]
                    assert sorted(found) == np.flatnonzero(ends == node).tolist()
    with open(folder / "node_types.csv") as handle:
        rows = list(csv.DictReader(handle, delimiter=" "))
    assert [(r["node_type_id"], r["pop_name"], r["model_type"]) for r in rows] == \
        [("0", "A", "point_neuron"), ("1", "B", "virtual")]
    assert json.loads((folder / "components" / rows[0]["dynamics_params"]).read_text()) == \
        {"tau_m": 10.0}
    with open(folder / "edge_types.csv") as handle:
        rows = list(csv.DictReader(handle, delimiter=" "))
    assert [(r["edge_type_id"], r["pop_name"], r["receptor"], r["model_template"],
             r["dynamics_params"]) for r in rows] == \
        [("0", "B_to_A", "excitatory", "static_synapse", "static_synapse.json"),
         ("1", "A_to_A", "inhibitory", "static_synapse", "static_synapse.json")]
    assert json.loads((folder / "components" / "static_synapse.json").read_text()) == {}
    config = json.loads((folder / "circuit_config.json").read_text())
    assert config["pd14"] == {"seed": 1}
    assert config["networks"]["edges"][0]["edges_file"] == "$NETWORK_DIR/edges.h5"
    assert config["networks"]["nodes"][0]["populations"] == \
        {"A": {"type": "point_neuron"}, "B": {"type": "virtual"}}
    assert config["networks"]["edges"][0]["populations"] == \
        {"B_to_A": {"type": "chemical"}, "A_to_A": {"type": "chemical"}}
    simulation = json.loads((folder / "simulation_config.json").read_text())
    assert simulation["run"] == {"dt": 0.1, "tstop": 150.0}
    assert simulation["target_simulator"] == "NEST"
    assert simulation["manifest"]["$BASE_DIR"] == "${configdir}"
    assert simulation["networks"]["nodes"][0]["populations"] == \
        config["networks"]["nodes"][0]["populations"]


def test_edge_index_by_hand():
    # node 0: edges 0-1 and 4; node 2: edge 3; node 1: edge 2; node 3: none
    node_ranges, edge_ranges = sonata.edge_index(np.array([0, 0, 1, 2, 0]), 4)
    np.testing.assert_array_equal(edge_ranges, [[0, 2], [4, 5], [2, 3], [3, 4]])
    np.testing.assert_array_equal(node_ranges, [[0, 2], [2, 3], [3, 4], [4, 4]])
    node_ranges, edge_ranges = sonata.edge_index(np.zeros(0, np.uint64), 2)
    assert edge_ranges.shape == (0, 2) and node_ranges.tolist() == [[0, 0], [0, 0]]


def test_network_file_reads_back_exactly(tmp_path):
    nodes, edges, _ = synthetic_network(tmp_path / "run" / "network")
    for path in (tmp_path / "run", tmp_path / "run" / "network",
                 tmp_path / "run" / "network" / "circuit_config.json",
                 tmp_path / "run" / "network" / "simulation_config.json"):
        network = sonata_reader.NetworkFile(str(path))
        assert network.sizes == {"A": 5, "B": 3}
        for edge in edges:
            for got, want in zip(network.edges(edge.source, edge.target),
                                 (edge.sources, edge.targets, edge.weights_pA, edge.delays_ms)):
                np.testing.assert_array_equal(got, want)
        assert network.node_parameters("B") == {"rate": 5.0}
        np.testing.assert_allclose(network.v_init("A"), nodes[0].v_init)
        assert network.v_init("B") is None
    with pytest.raises(sonata.NetworkFileError, match="no edges from B to B"):
        network.edges("B", "B")
    with pytest.raises(sonata.NetworkFileError, match="no SONATA network"):
        sonata_reader.NetworkFile(str(tmp_path / "nowhere"))


def test_files_written_before_issue_26_are_read(tmp_path):
    """tests/data/sonata_before_issue26: synthetic_network as the writer of commit 8973202
    wrote it (PyNN's model names and units, 0/v_init, gzip-compressed edges, no indices,
    no simulation config); users' run folders hold such files."""
    old = sonata_reader.NetworkFile(os.path.join(HERE, "data", "sonata_before_issue26"))
    nodes, edges, _ = synthetic_network(tmp_path / "network")
    assert old.sizes == {"A": 5, "B": 3}
    for edge in edges:
        for got, want in zip(old.edges(edge.source, edge.target),
                             (edge.sources, edge.targets, edge.weights_pA, edge.delays_ms)):
            np.testing.assert_array_equal(got, want)
    np.testing.assert_allclose(old.v_init("A"), nodes[0].v_init)
    assert old.population_types("A")[0]["model_template"] == "pyNN:IF_curr_exp"
    old.check_models(cells=["A"], sources=["B"])  # PyNN's IF_curr_exp is still built
    with pytest.raises(sonata.NetworkFileError, match="B of .* is virtual 'pyNN:SpikeSource"):
        old.check_models(cells=["B"])


def test_edge_groups_and_edge_type_columns(tmp_path):
    """SONATA lets edges of one population sit in several groups (edge_group_id,
    edge_group_index) and take a column from their edge type instead."""
    nodes, edges, _ = synthetic_network(tmp_path)
    with h5py.File(tmp_path / "edges.h5", "r+") as handle:
        group = handle["edges/B_to_A"]  # 7 edges: 0, 2, 4, 6 in group 0; 1, 3, 5 in group 5
        for name in ("edge_group_id", "edge_group_index", "0"):
            del group[name]
        group_id = np.where(np.arange(7) % 2 == 1, 5, 0)
        group_index = np.array([1, 2, 0, 1, 3, 0, 2])
        group["edge_group_id"] = group_id.astype(np.uint32)
        group["edge_group_index"] = group_index.astype(np.uint64)
        for key, columns in ((0, ("syn_weight", "delay")), (5, ("syn_weight",))):
            rows = group_id == key  # no delay in group 5: the edge type's
            for column, values in zip(columns, (edges[0].weights_pA, edges[0].delays_ms)):
                stored = np.zeros(rows.sum())
                stored[group_index[rows]] = values[rows]
                group[f"{key}/{column}"] = stored
    types = (tmp_path / "edge_types.csv").read_text().splitlines()
    types = [types[0] + " delay"] + [row + " 2.5" for row in types[1:]]
    (tmp_path / "edge_types.csv").write_text("\n".join(types) + "\n")
    sources, targets, weights, delays = sonata_reader.NetworkFile(str(tmp_path)).edges("B", "A")
    np.testing.assert_array_equal(sources, edges[0].sources)
    np.testing.assert_array_equal(weights, edges[0].weights_pA)
    np.testing.assert_array_equal(delays, np.where(group_id == 5, 2.5, edges[0].delays_ms))
    with h5py.File(tmp_path / "edges.h5", "r+") as handle:
        del handle["edges/B_to_A/5/syn_weight"]
    with pytest.raises(sonata.NetworkFileError, match="B_to_A has no 'syn_weight'"):
        sonata_reader.NetworkFile(str(tmp_path))


def test_pieces_written_as_they_come_read_back_whole(tmp_path, monkeypatch):
    # chunks of 4 edges: populations of 0, 3 (< a chunk), 4 and 11 edges in interleaved
    # pieces of 0-5 edges are each stored as their pieces joined in order
    monkeypatch.setattr(sonata, "CHUNK", 4)
    rng = np.random.default_rng(1)
    nodes = [sonata.Nodes(name, 6, "point_neuron", "pyNN:IF_curr_exp", {}) for name in "AB"]
    sizes = {("A", "A"): [0, 0], ("A", "B"): [2, 0, 1], ("B", "A"): [4], ("B", "B"): [5, 1, 5]}
    pieces, whole = [], {}
    for k in range(3):
        for (source, target), counts in sizes.items():
            if k < len(counts):
                n = counts[k]
                edge = sonata.Edges(source, target, rng.integers(0, 6, n), rng.integers(0, 6, n),
                                    rng.normal(size=n), rng.random(n), "excitatory")
                pieces.append(edge)
                whole.setdefault((source, target), []).append(edge)
    sonata.write_network(tmp_path, nodes, iter(pieces))
    network = sonata_reader.NetworkFile(str(tmp_path))
    with h5py.File(tmp_path / "edges.h5", "r") as handle:
        for type_id, ((source, target), parts) in enumerate(whole.items()):
            want = [np.concatenate([getattr(p, name) for p in parts]) for name in
                    ("sources", "targets", "weights_pA", "delays_ms")]
            for got, expected in zip(network.edges(source, target), want):
                np.testing.assert_array_equal(got, expected)
            group = handle["edges"][f"{source}_to_{target}"]
            n = len(want[0])
            np.testing.assert_array_equal(group["edge_type_id"][()], np.full(n, type_id))
            np.testing.assert_array_equal(group["edge_group_index"][()], np.arange(n))
            np.testing.assert_array_equal(group["edge_group_id"][()], np.zeros(n))
            assert group["target_node_id"].attrs["node_population"] == target
            assert group["0/delay"].attrs["units"] == "ms"
            # integers packed chunk by chunk; floats raw, chunked only where they grew
            assert group["source_node_id"].chunks == ((min(n, 4),) if n else None)
            assert group["0/syn_weight"].chunks == ((4,) if n >= 4 else None)
    with open(tmp_path / "edge_types.csv") as handle:
        rows = list(csv.DictReader(handle, delimiter=" "))
    assert [(r["pop_name"], r["n_edges"]) for r in rows] == \
        [("A_to_A", "0"), ("A_to_B", "3"), ("B_to_A", "4"), ("B_to_B", "11")]


def save_tiny_circuit(folder, params):
    """A microcircuit on PyNN's mock backend (generic path), saved as SONATA."""
    import pyNN.mock as sim
    sim.setup(timestep=params["resolution_ms"])
    circuit = Microcircuit(sim, params, verbose=False).build()
    network_io.save(str(folder), circuit)
    return circuit


def test_check_refuses_a_file_that_does_not_fit(tmp_path):
    params = parameters.resolve({"N_scaling": 0.01, "K_scaling": 0.01, "thalamic_input": True})
    save_tiny_circuit(tmp_path / "network", params)
    network = sonata_reader.NetworkFile(str(tmp_path))
    network_io.check(network, params)  # fits
    assert network.sizes["TC"] == 902
    with pytest.raises(sonata.NetworkFileError, match="neurons in .* but .* in the model"):
        network_io.check(network, parameters.resolve({"N_scaling": 0.02}, base=params))
    with pytest.raises(sonata.NetworkFileError, match="not in the model: TC->L4E"):
        network_io.check(network, parameters.resolve({"thalamic_input": False}, base=params))


def test_cells_are_saved_in_nests_names_and_units(tmp_path):
    params = parameters.resolve({"N_scaling": 0.01, "K_scaling": 0.01, "background": "dc"})
    save_tiny_circuit(tmp_path / "network", params)
    network = sonata_reader.NetworkFile(str(tmp_path))
    dc_pA = derive.derive(params)["dc_pA"]
    for i, name in enumerate(POPULATIONS):
        cell = network.node_parameters(name)
        assert network.population_types(name)[0]["model_template"] == "nest:iaf_psc_exp"
        assert cell["C_m"] == 250.0 and cell["tau_syn_ex"] == cell["tau_syn_in"] == 0.5
        assert (cell["E_L"], cell["V_reset"], cell["V_th"], cell["t_ref"]) == (-65, -65, -50, 2)
        # the DC background is NEST's I_e, as PyNN computes it: 1000 x i_offset (nA)
        assert cell["I_e"] == dc_pA[i] * 1e-3 * 1000.0 and cell["I_e"] > 0
    template, cell = network_io.nest_cell("IF_curr_exp", {
        "cm": 0.2, "tau_m": 20.0, "tau_syn_E": 1.0, "tau_syn_I": 2.0, "tau_refrac": 3.0,
        "v_rest": -70.0, "v_reset": -60.0, "v_thresh": -55.0, "i_offset": 0.1})
    assert template == "nest:iaf_psc_exp"
    assert cell == {"C_m": 200.0, "tau_m": 20.0, "tau_syn_ex": 1.0, "tau_syn_in": 2.0,
                    "t_ref": 3.0, "E_L": -70.0, "V_reset": -60.0, "V_th": -55.0, "I_e": 100.0}


def test_saved_numpy_network_is_the_drawn_one(tmp_path):
    params = parameters.resolve({"N_scaling": 0.01, "K_scaling": 0.01, "seed": 3})
    circuit = save_tiny_circuit(tmp_path / "network", params)
    network = sonata_reader.NetworkFile(str(tmp_path))
    expected = network_io.expected_edges(params)
    assert len(network.edge_index) == len(expected) > 50
    sizes = derive.derive(params)["num_neurons"]
    for (source, target), n in expected.items():
        spec = circuit.projection_spec(target, source)
        drawn = draw_connections(spec, sizes[POPULATIONS.index(source)],
                                 sizes[POPULATIONS.index(target)])
        got = network.edges(source, target)
        assert len(got[0]) == n
        for a, b in zip(got, drawn):
            np.testing.assert_array_equal(a, b)


# --- on the simulators ------------------------------------------------------------------

def run_main(tmp_path, name, *extra):
    config = tmp_path / "config.json"
    config.write_text(json.dumps(CONFIG))
    out = tmp_path / name
    cmd = [sys.executable, MAIN, "nest", *RUN, "--config", str(config), "--out", str(out),
           *extra]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out


@pytest.fixture(scope="module")
def nest_saved(tmp_path_factory):
    """A NEST run (native connectivity) saved with --save-connectivity, then loaded."""
    tmp_path = tmp_path_factory.mktemp("sonata")
    saved = run_main(tmp_path, "saved", "--save-connectivity")
    loaded = run_main(tmp_path, "loaded", "--connectivity", str(saved), "--save-connectivity")
    return saved, loaded


def spikes(run_dir):
    by_population = spike_tables.spikes_by_population(storage.read_block(str(run_dir)))
    return {name: [np.asarray(train) for train in trains]
            for name, trains in by_population.items()}


def test_nest_native_network_saved_and_loaded_gives_identical_spikes(nest_saved):
    saved, loaded = nest_saved
    a, b = spikes(saved), spikes(loaded)
    assert sum(len(t) for trains in a.values() for t in trains) > 1000
    for name in POPULATIONS:
        assert len(a[name]) == len(b[name])
        for x, y in zip(a[name], b[name]):
            np.testing.assert_array_equal(x, y)
    metadata = json.loads((loaded / "metadata.json").read_text())
    assert metadata["connectivity_from"].startswith(str(saved))
    timings = json.loads((saved / "timings.json").read_text())
    assert timings["connectivity_bytes"] == sonata.folder_bytes(saved / "network")


def test_nest_native_file_holds_nests_network(nest_saved):
    saved, loaded = nest_saved
    network, again = sonata_reader.NetworkFile(str(saved)), sonata_reader.NetworkFile(str(loaded))
    params = parameters.resolve(json.loads((saved / "parameters.json").read_text()))
    expected = network_io.expected_edges(params)
    assert set(network.edge_index) == set(expected)
    sizes = dict(zip(POPULATIONS, derive.derive(params)["num_neurons"]))
    for (source, target), n in expected.items():
        sources, targets, weights, delays = network.edges(source, target)
        assert len(sources) == n
        assert sources.max() < sizes[source] and targets.max() < sizes[target]
        assert (weights > 0).all() if source.endswith("E") else (weights < 0).all()
        np.testing.assert_allclose(delays / 0.1, np.round(delays / 0.1), atol=1e-9)
        # saving the loaded network writes the same file content
        for a, b in zip(network.edges(source, target), again.edges(source, target)):
            np.testing.assert_array_equal(a, b)
    # NEST drew this network itself: not the numpy draw for the same seed
    spec = Microcircuit(None, params, verbose=False).projection_spec("L23E", "L23E")
    drawn = draw_connections(spec, sizes["L23E"], sizes["L23E"])
    assert not np.array_equal(np.sort(drawn[0]), np.sort(network.edges("L23E", "L23E")[0]))


@pytest.mark.parametrize("simulator", ("nest", "neuron", "brian2"))
def test_same_file_builds_the_same_connections_everywhere(scenario, nest_saved, simulator):
    saved, _ = nest_saved
    network = sonata_reader.NetworkFile(str(saved))
    result = scenario(simulator, SEED, connectivity=str(saved))
    counts = np.array([[len(network.edges(s, t)[0]) if network.has_edges(s, t) else 0
                        for s in POPULATIONS] for t in POPULATIONS])
    np.testing.assert_array_equal(result["counts"], counts)
    for target, source in DUMPED:
        sources, targets, weights_pA, delays_ms = network.edges(source, target)
        want = np.column_stack([sources, targets, weights_pA * 1e-3, delays_ms])
        got = result[f"conn_{target}_{source}"]  # pre, post, weight (nA), delay (ms)
        order = lambda rows: rows[np.lexsort(rows.T[::-1])]  # noqa: E731
        np.testing.assert_allclose(order(got), order(want), rtol=1e-9, atol=1e-9)


def test_cli_refuses_a_file_of_another_scale(nest_saved, tmp_path, capsys):
    saved, _ = nest_saved
    code = cli.main(["nest", "--n-scaling", "0.1", "--connectivity", str(saved),
                     "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith("error: population L23E has 1034 neurons")
    assert "\n" not in err and not (tmp_path / "out").exists()


def test_multi_area_model_saves_and_loads_every_projection(tmp_path):
    import pyNN.mock as sim

    from pd14_pynn.areas import MultiAreaModel

    def declare(connectivity=None, seed=55):
        sim.setup(timestep=0.1)
        model = MultiAreaModel(sim, parameters.resolve({"N_scaling": 0.01, "K_scaling": 0.01,
                                                        "seed": seed}),
                               verbose=False, connectivity=connectivity)
        for label in ("V1", "V2"):
            model.add_area(label, seed=5 if label == "V2" else None)
        model.add_connection("V1", "L23E", "V2", "L4E", 200)
        model.add_connection("V2", "L5E", "V1", "L23I", 100)
        return model.build()

    original = declare()
    network_io.save(str(tmp_path / "network"), original)
    network = sonata_reader.NetworkFile(str(tmp_path))
    assert ("V1_L23E", "V2_L4E") in network.edge_index
    assert network.sizes["V2_L6I"] == original["V2"]["L6I"].size
    for label in ("V1", "V2"):
        network_io.check(network, original.area_params[label], label)
    # another seed: drawn, every projection would differ; loaded, none does
    loaded, redrawn = declare(network, seed=56), declare(seed=56)
    before, after = network_io.projections(original), network_io.projections(loaded)
    assert not np.array_equal(network_io.read_connections_generic(before[0])[0],
                              network_io.read_connections_generic(
                                  network_io.projections(redrawn)[0])[0])
    assert len(before) == len(after) == len(network.edge_index)
    for a, b in zip(before, after):
        assert (a.pre.label, a.post.label) == (b.pre.label, b.post.label)
        for x, y in zip(network_io.read_connections_generic(a),
                        network_io.read_connections_generic(b)):
            np.testing.assert_array_equal(x, y)


def test_nest_reads_back_the_connections_it_drew_as_before():
    # every connection of every projection (thalamic ones too, 2 threads) equals what the
    # previous reader (GetConnections(pre, post), per projection) found, and two reads
    # give the same order
    n_projections, n_connections, same, twice = scenario_fields("nest_read_scenario.py", "READ")
    params = parameters.resolve({"N_scaling": 0.02, "K_scaling": 0.02, "thalamic_input": True})
    expected = network_io.expected_edges(params)
    assert int(n_projections) == len(expected) and int(n_connections) == sum(expected.values())
    assert same == "True" and twice == "True"
