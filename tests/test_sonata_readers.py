"""SONATA files between pd14-pynn and other tools (issue 26; docs/outputs.md, "Who reads what").

* libsonata opens a saved ``network/``: populations, attributes, and afferent
  and efferent edges through the ``indices`` groups;
* BMTK's PointNet and NEST's own ``nest.SonataNetwork`` simulate a saved
  network and give the spikes of the pd14-pynn NEST run that saved it
  (tests/sonata_readers_scenario.py; the NEST test needs NEST built with HDF5,
  ``.ci/install-nest-mpi VENV``, and is skipped with that hint otherwise);
* ``--connectivity`` builds a PD14-shaped network that BMTK's ``NetworkBuilder``
  wrote, and refuses, with one ``error:`` line, what it cannot map.
"""

import json
import os
import shutil
import subprocess
import sys

import h5py
import numpy as np
import pytest

from pd14_pynn import cli, derive, network_io, parameters, sonata_reader, storage
from pd14_pynn.parameters import POPULATIONS
from scenario import DUMPED

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
MAIN = os.path.join(ROOT, "run", "main.py")
READERS = os.path.join(HERE, "sonata_readers_scenario.py")
SEED = 11
# as tests/test_sonata.py: N = K = 0.05 with DC background and more drive, 250 ms
RUN = ["--n-scaling", "0.05", "--k-scaling", "0.05", "--bg", "dc", "--t-presim", "50",
       "--t-sim", "200", "--threads", "1", "--seed", str(SEED)]
CONFIG = {"bg_rate_hz": 10.0}
T_STOP_MS = 250.0
# a NEST built with MPI (the HDF5 build is) starts MPI on import; CI runs as root
MPI_AS_ROOT = {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"}
NEST_HDF5_HINT = ("NEST's SonataNetwork needs NEST built with HDF5: build it with "
                  "`.ci/install-nest-mpi VENV` (then `VENV/bin/pip install -e \".[test]\"`) and "
                  "set PD14_NEST_MPI_VENV=VENV")


def save_tiny(folder, scale=0.02, **overrides):
    """A microcircuit built on PyNN's mock backend (no simulator), saved as SONATA."""
    import pyNN.mock as sim

    from pd14_pynn.network import Microcircuit
    params = parameters.resolve({"N_scaling": scale, "K_scaling": scale, "seed": 3,
                                 "connectivity_rng": "numpy", **overrides})
    sim.setup(timestep=params["resolution_ms"])
    circuit = Microcircuit(sim, params, verbose=False).build()
    network_io.save(str(folder), circuit)
    return params, circuit


# --- libsonata ---------------------------------------------------------------------------

def test_libsonata_reads_populations_attributes_and_indices(tmp_path):
    libsonata = pytest.importorskip("libsonata")
    params, circuit = save_tiny(tmp_path / "network")
    ours = sonata_reader.NetworkFile(str(tmp_path))
    config = libsonata.CircuitConfig.from_file(str(tmp_path / "network" / "circuit_config.json"))
    assert config.node_populations == set(POPULATIONS)
    expected = network_io.expected_edges(params)
    assert config.edge_populations == {f"{s}_to_{t}" for s, t in expected}
    for name in POPULATIONS:
        nodes = config.node_population(name)
        assert nodes.size == circuit.populations[name].size
        assert nodes.dynamics_attribute_names == {"V_m"}
        np.testing.assert_array_equal(nodes.get_dynamics_attribute("V_m", nodes.select_all()),
                                      ours.v_init(name))
    for source, target in (("L4E", "L23E"), ("L23I", "L23I"), ("L6E", "L4I")):
        edges = config.edge_population(f"{source}_to_{target}")
        sources, targets, weights, delays = ours.edges(source, target)
        assert (edges.source, edges.target, edges.size) == (source, target, len(sources))
        assert edges.attribute_names == {"syn_weight", "delay"}
        everything = edges.select_all()
        np.testing.assert_array_equal(edges.source_nodes(everything), sources)
        np.testing.assert_array_equal(edges.get_attribute("syn_weight", everything), weights)
        np.testing.assert_array_equal(edges.get_attribute("delay", everything), delays)
        for node in range(ours.sizes[target]):
            np.testing.assert_array_equal(np.sort(edges.afferent_edges([node]).flatten()),
                                          np.flatnonzero(targets == node))
        for node in range(ours.sizes[source]):
            np.testing.assert_array_equal(np.sort(edges.efferent_edges([node]).flatten()),
                                          np.flatnonzero(sources == node))


# --- simulated by other tools --------------------------------------------------------------

@pytest.fixture(scope="module")
def pd14_run(tmp_path_factory):
    """A pd14-pynn NEST run (NEST's own connections) saved with --save-connectivity."""
    folder = tmp_path_factory.mktemp("readers")
    config = folder / "config.json"
    config.write_text(json.dumps(CONFIG))
    out = folder / "pd14"
    proc = subprocess.run([sys.executable, MAIN, "nest", *RUN, "--config", str(config),
                           "--out", str(out), "--save-connectivity"],
                          capture_output=True, text=True, cwd=str(folder))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out


def pd14_spikes(run):
    """{population: sorted [(neuron, time ms)]} up to the configs' tstop."""
    table = storage.spike_table(storage.read_block(str(run)))
    return {name: sorted((int(i), round(float(t), 6)) for i, t in
                         zip(table[name].index, table[name].times_ms) if t <= T_STOP_MS)
            for name in POPULATIONS}


def simulate_with(tool, python, run, tmp_path):
    """Run tests/sonata_readers_scenario.py on a copy of the run's network/."""
    folder = tmp_path / f"network_{tool}"
    shutil.copytree(run / "network", folder)
    out = tmp_path / f"{tool}.npz"
    proc = subprocess.run([python, READERS, tool, str(folder), str(out)], capture_output=True,
                          text=True, cwd=str(tmp_path),
                          env={**os.environ, **MPI_AS_ROOT, "PYTHONPATH": ROOT,
                               "PATH": os.path.dirname(python) + os.pathsep + os.environ["PATH"]})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    result = np.load(out)
    spikes = {name: sorted((int(i), round(float(t), 6)) for i, t in
                           zip(result[f"{name}_index"], result[f"{name}_times"]))
              for name in POPULATIONS}
    return spikes, int(result["n_connections"])


def assert_same_spikes(theirs, run):
    ours = pd14_spikes(run)
    assert sum(map(len, ours.values())) > 5000
    for name in POPULATIONS:
        assert theirs[name] == ours[name], name


def test_bmtk_pointnet_simulates_a_saved_network_with_identical_spikes(pd14_run, tmp_path):
    """BMTK builds NEST's iaf_psc_exp and static synapses from the files (weight =
    syn_weight x nsyns; no nsyns is 1): the same numbers in the same kernel as
    pd14-pynn's run, so the same spikes, neuron by neuron."""
    pytest.importorskip("bmtk")
    spikes, n_connections = simulate_with("bmtk", sys.executable, pd14_run, tmp_path)
    network = sonata_reader.NetworkFile(str(pd14_run))
    assert n_connections == sum(len(network.edges(*pair)[0]) for pair in network.edge_index)
    assert_same_spikes(spikes, pd14_run)


def nest_with_hdf5():
    """The Python whose NEST has HDF5 (PD14_NEST_MPI_VENV's, else this one), or skip."""
    venv = os.environ.get("PD14_NEST_MPI_VENV")
    python = os.path.join(venv, "bin", "python") if venv else sys.executable
    if not os.path.isfile(python):
        pytest.fail(f"PD14_NEST_MPI_VENV={venv}: {python} does not exist; {NEST_HDF5_HINT}")
    proc = subprocess.run([python, "-c", "import nest; print(nest.build_info['have_hdf5'])"],
                          capture_output=True, text=True,
                          env={**os.environ, **MPI_AS_ROOT})
    answer = proc.stdout.strip().splitlines()[-1:] or [proc.stderr[-300:]]
    if answer != ["True"]:
        message = f"the NEST of {python} has no HDF5 ({answer[0]}); {NEST_HDF5_HINT}"
        if venv:
            pytest.fail(message)
        pytest.skip(message)
    return python


def test_nest_sonata_network_simulates_a_saved_network_with_identical_spikes(pd14_run,
                                                                             tmp_path):
    """NEST's own reader: nodes from the node types (model_template, dynamics_params),
    connections from edge group 0 (syn_weight, delay) per edge population."""
    python = nest_with_hdf5()
    spikes, n_connections = simulate_with("nest", python, pd14_run, tmp_path)
    network = sonata_reader.NetworkFile(str(pd14_run))
    assert n_connections == sum(len(network.edges(*pair)[0]) for pair in network.edge_index)
    assert_same_spikes(spikes, pd14_run)


# --- another tool's files read by pd14-pynn ---------------------------------------------------

BMTK_SCALE = 0.02


def weight_pA(source_population, source, target):
    """The test's rule for a synapse's weight: a function of its ends (inhibitory < 0)."""
    magnitude = 40.0 + (3 * source + 7 * target) % 11
    return -4 * magnitude if source_population.endswith("I") else magnitude


def delay_ms(source, target):
    return 0.1 * (10 + (source + target) % 10)


def build_with_bmtk(folder, scale=BMTK_SCALE):
    """A PD14-shaped network written by BMTK's NetworkBuilder: one node population per
    model population (its size), nest:iaf_psc_exp, the model's projections with
    seeded random synapse counts per pair (nsyns) and syn_weight/delay per edge.
    Returns {(source, target): count matrix [target, source]}."""
    from bmtk.builder import NetworkBuilder
    params = parameters.resolve({"N_scaling": scale, "K_scaling": scale})
    sizes = dict(zip(POPULATIONS, derive.derive(params)["num_neurons"].tolist()))
    rng = np.random.default_rng(5)
    nets = {}
    for name in POPULATIONS:
        nets[name] = NetworkBuilder(name)
        nets[name].add_nodes(N=sizes[name], model_type="point_neuron",
                             model_template="nest:iaf_psc_exp", dynamics_params=f"{name}.json")
    counts = {}
    for (source, target), n in network_io.expected_edges(params).items():
        matrix = np.zeros((sizes[target], sizes[source]), int)
        np.add.at(matrix, (rng.integers(0, sizes[target], n), rng.integers(0, sizes[source], n)),
                  1)
        counts[(source, target)] = matrix

        def rule(sources, target_node, matrix=matrix):
            return matrix[target_node.node_id, [s.node_id for s in sources]]

        def properties(source_node, target_node, source=source):
            return (weight_pA(source, source_node.node_id, target_node.node_id),
                    delay_ms(source_node.node_id, target_node.node_id))

        edges = nets[target].add_edges(source=nets[source].nodes(), target=nets[target].nodes(),
                                       connection_rule=rule, iterator="all_to_one",
                                       model_template="static_synapse",
                                       dynamics_params="static.json")
        edges.add_properties(["syn_weight", "delay"], rule=properties, dtypes=[float, float])
    network_dir = folder / "network"
    for net in nets.values():
        net.build()
        net.save(output_dir=str(network_dir))
    components = folder / "components"
    components.mkdir()
    for name in POPULATIONS:
        (components / f"{name}.json").write_text(json.dumps({"C_m": 250.0, "tau_m": 10.0}))
    (components / "static.json").write_text("{}")
    files = sorted(os.listdir(network_dir))

    def entries(kind):  # BMTK's names: <name>_nodes.h5 + <name>_node_types.csv, same for edges
        table = f"_{kind[:-1]}_types.csv"
        return [{f"{kind}_file": f"$NETWORK_DIR/{f}",
                 f"{kind[:-1]}_types_file": f"$NETWORK_DIR/{f.replace(f'_{kind}.h5', table)}"}
                for f in files if f.endswith(f"_{kind}.h5")]
    config = {
        "manifest": {"$BASE_DIR": "${configdir}", "$NETWORK_DIR": "$BASE_DIR/network",
                     "$COMPONENTS_DIR": "$BASE_DIR/components"},
        "components": {"point_neuron_models_dir": "$COMPONENTS_DIR",
                       "synaptic_models_dir": "$COMPONENTS_DIR"},
        "networks": {"nodes": entries("nodes"), "edges": entries("edges")},
    }
    (folder / "circuit_config.json").write_text(json.dumps(config, indent=1))
    return counts


@pytest.fixture(scope="module")
def bmtk_network(tmp_path_factory):
    pytest.importorskip("bmtk")
    folder = tmp_path_factory.mktemp("bmtk") / "circuit"
    folder.mkdir()
    return folder, build_with_bmtk(folder)


def expected_synapses(counts, source, target):
    """(sources, targets, weights pA, delays ms) of the test's rule, one row per synapse."""
    t, s = np.nonzero(counts[(source, target)])
    n = counts[(source, target)][t, s]
    s, t = np.repeat(s, n), np.repeat(t, n)
    weights = np.array([weight_pA(source, a, b) for a, b in zip(s, t)])
    return s, t, weights, delay_ms(s, t)


def rows(*columns):
    table = np.column_stack(columns).astype(float)
    return table[np.lexsort(table.T[::-1])]


def test_bmtk_built_network_is_read_synapse_by_synapse(bmtk_network):
    folder, counts = bmtk_network
    network = sonata_reader.NetworkFile(str(folder))
    params = parameters.resolve({"N_scaling": BMTK_SCALE, "K_scaling": BMTK_SCALE})
    network_io.check(network, params)  # sizes, models, projections: it fits
    with h5py.File(folder / "network" / "L23E_L23E_edges.h5", "r") as handle:
        # with per-edge properties BMTK writes a multapse as that many edges
        assert handle["edges/L23E_to_L23E/source_node_id"].shape == \
            (counts[("L23E", "L23E")].sum(),)
    for pair in counts:
        got = network.edges(*pair)
        np.testing.assert_allclose(rows(*got), rows(*expected_synapses(counts, *pair)))


def test_edge_type_values_and_nsyns(tmp_path):
    """Without per-edge properties BMTK writes syn_weight and delay per edge type and a
    multapse as one edge with nsyns; pd14-pynn reads nsyns synapses of syn_weight."""
    pytest.importorskip("bmtk")
    from bmtk.builder import NetworkBuilder
    a, b = NetworkBuilder("A"), NetworkBuilder("B")
    a.add_nodes(N=3, model_type="point_neuron", model_template="nest:iaf_psc_exp",
                dynamics_params="a.json")
    b.add_nodes(N=2, model_type="point_neuron", model_template="nest:iaf_psc_exp",
                dynamics_params="b.json")
    nsyns = np.array([[2, 0, 1], [0, 3, 0]])  # [target, source]
    b.add_edges(source=a.nodes(), target=b.nodes(), iterator="all_to_one",
                connection_rule=lambda sources, target: nsyns[target.node_id],
                syn_weight=87.8, delay=1.5, model_template="static_synapse",
                dynamics_params="static.json")
    for net in (a, b):
        net.build()
        net.save(output_dir=str(tmp_path))
    config = {"networks": {
        "nodes": [{"nodes_file": f"{n}_nodes.h5", "node_types_file": f"{n}_node_types.csv"}
                  for n in "AB"],
        "edges": [{"edges_file": "A_B_edges.h5", "edge_types_file": "A_B_edge_types.csv"}]}}
    (tmp_path / "circuit_config.json").write_text(json.dumps(config))
    with h5py.File(tmp_path / "A_B_edges.h5", "r") as handle:
        assert "nsyns" in handle["edges/A_to_B/0"] and "syn_weight" not in handle["edges/A_to_B/0"]
    sources, targets, weights, delays = sonata_reader.NetworkFile(str(tmp_path)).edges("A", "B")
    assert sorted(zip(targets.tolist(), sources.tolist())) == \
        [(0, 0), (0, 0), (0, 2), (1, 1), (1, 1), (1, 1)]
    np.testing.assert_array_equal(weights, 87.8)
    np.testing.assert_array_equal(delays, 1.5)


def test_bmtk_built_network_builds_on_nest(bmtk_network, scenario):
    folder, counts = bmtk_network
    result = scenario("nest", SEED, scale=BMTK_SCALE,
                      connectivity=str(folder / "circuit_config.json"))
    want = np.array([[counts[(s, t)].sum() if (s, t) in counts else 0 for s in POPULATIONS]
                     for t in POPULATIONS])
    np.testing.assert_array_equal(result["counts"], want)
    for target, source in DUMPED:
        s, t, weights, delays = expected_synapses(counts, source, target)
        np.testing.assert_allclose(rows(*result[f"conn_{target}_{source}"].T),
                                   rows(s, t, weights * 1e-3, delays), rtol=1e-9, atol=1e-9)


def refusal(tmp_path, capsys, folder):
    code = cli.main(["nest", "--n-scaling", str(BMTK_SCALE), "--k-scaling", str(BMTK_SCALE),
                     "--connectivity", str(folder), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith("error: ") and "\n" not in err, err
    assert not (tmp_path / "out").exists()
    return err


def test_cli_refuses_a_cell_model_it_cannot_build(bmtk_network, tmp_path, capsys):
    folder = tmp_path / "circuit"
    shutil.copytree(bmtk_network[0], folder)
    types = folder / "network" / "L5I_node_types.csv"
    types.write_text(types.read_text().replace("nest:iaf_psc_exp", "nest:aeif_cond_exp"))
    err = refusal(tmp_path, capsys, folder)
    assert "node population L5I" in err and "'nest:aeif_cond_exp'" in err
    assert "nest:iaf_psc_exp or pyNN:IF_curr_exp" in err


def test_cli_refuses_a_network_without_the_models_populations(bmtk_network, tmp_path, capsys):
    folder = tmp_path / "circuit"
    shutil.copytree(bmtk_network[0], folder)
    with h5py.File(folder / "network" / "L6I_nodes.h5", "r+") as handle:
        handle.move("nodes/L6I", "nodes/inhibitory6")
    err = refusal(tmp_path, capsys, folder)
    assert "has no node population 'L6I'" in err and "inhibitory6" in err
