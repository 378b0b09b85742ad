"""Simulate a pd14-pynn ``network/`` folder with another tool's SONATA reader.

    python tests/sonata_readers_scenario.py TOOL NETWORK_DIR OUT.npz

TOOL: ``nest`` (NEST's own ``nest.SonataNetwork``; needs NEST built with HDF5)
or ``bmtk`` (BMTK's PointNet, on the installed NEST). The tool builds the
network from ``simulation_config.json`` (the network, and ``run``: dt,
tstop); then this script sets each neuron's initial membrane potential from
``nodes.h5`` (``0/dynamics_params/V_m``: neither tool applies per-node dynamics
parameters), records every node population with one ``spike_recorder`` and
simulates ``tstop``. OUT holds per population ``<pop>_index`` (0-based node
ID) and ``<pop>_times`` (ms), and ``n_connections`` (between the populations). One thread, as the
pd14-pynn run it is compared with (tests/test_sonata_readers.py).
"""

import json
import os
import sys

import h5py
import numpy as np


def initial_potentials(folder):
    with h5py.File(os.path.join(folder, "nodes.h5"), "r") as handle:
        return {name: group["0/dynamics_params/V_m"][()] for name, group in handle["nodes"].items()
                if "0/dynamics_params/V_m" in group}


def record(nest, collections):
    """One spike recorder per population: {population: recorder}."""
    recorders = {}
    for name, nodes in collections.items():
        recorders[name] = nest.Create("spike_recorder")
        nest.Connect(nodes, recorders[name])
    return recorders


def with_nest(folder):
    import nest
    nest.set_verbosity("M_ERROR")
    nest.ResetKernel()
    nest.local_num_threads = 1
    network = nest.SonataNetwork(os.path.join(folder, "simulation_config.json"))
    collections = network.BuildNetwork()
    for name, v_init in initial_potentials(folder).items():
        collections[name].set(V_m=v_init)
    recorders = record(nest, collections)
    network.Simulate()
    return nest, collections, recorders


def with_bmtk(folder):
    import nest
    from bmtk.simulator import pointnet
    config = pointnet.Config.from_json(os.path.join(folder, "simulation_config.json"))
    config.build_env()
    network = pointnet.PointNetwork.from_config(config)
    simulator = pointnet.PointSimulator.from_config(config, network)
    collections = {}
    for name, v_init in initial_potentials(folder).items():
        ids = network.gid_map.get_nestids(name, np.arange(len(v_init)))
        collections[name] = nest.NodeCollection(sorted(int(i) for i in ids))
        # BMTK creates a population's nodes in node-ID order: NEST ID = first + node ID
        assert list(ids) == list(range(int(ids[0]), int(ids[0]) + len(ids))), name
        collections[name].set(V_m=v_init)
    recorders = record(nest, collections)
    simulator.run()
    return nest, collections, recorders


def main(tool, folder, out):
    nest, collections, recorders = {"nest": with_nest, "bmtk": with_bmtk}[tool](folder)
    neurons = sum(collections.values(), start=nest.NodeCollection())
    result = {"n_connections": len(nest.GetConnections(source=neurons, target=neurons))}
    for name, recorder in recorders.items():
        events = recorder.get("events")
        result[f"{name}_index"] = np.asarray(events["senders"]) - collections[name][0].global_id
        result[f"{name}_times"] = np.asarray(events["times"], float)
    np.savez(out, **result)
    print(json.dumps({"spikes": int(sum(len(v) for k, v in result.items()
                                        if k.endswith("_times")))}))


if __name__ == "__main__":
    main(*sys.argv[1:4])
