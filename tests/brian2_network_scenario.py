"""Build a small microcircuit (with thalamus) on Brian2's runtime device, numpy
target; check every projection against its connector's draw; dump what
tests/test_brian2_network.py checks into an .npz.

Usage: python brian2_network_scenario.py OUT.npz
"""

import os
import sys

os.environ["PD14_BRIAN2_CODEGEN"] = "numpy"

import numpy as np  # noqa: E402

from pd14_pynn import backends, derive, parameters  # noqa: E402
from pd14_pynn.inputs import poisson_background  # noqa: E402
from pd14_pynn.network import Microcircuit  # noqa: E402


def main(out):
    backend = backends.get("brian2")
    sim = backend.import_simulator()
    params = parameters.resolve({"N_scaling": 0.02, "K_scaling": 0.02, "seed": 3,
                                 "t_presim_ms": 0.0, "t_sim_ms": 50.0, "thalamic_input": True,
                                 "brian2_device": "runtime"})
    backend.setup(sim, params, int(derive.derive(params)["num_synapses"].sum()))
    circuit = Microcircuit(sim, params, verbose=False).build()
    # two more Poisson inputs onto L2/3E, as a multi-area model adds for replaced
    # areas: one with the background's weight (it joins the background's draw), one
    # with another weight (a second draw)
    w_ext = derive.derive(params)["psc_ext_pA"]
    for n, rate, weight in ((10.0, 2.0, w_ext), (5.5, 4.0, 2 * w_ext)):
        poisson_background(sim, circuit["L23E"], n, rate, weight, 1.5, f"extra{n}",
                           fast=circuit.fast)
    backend.finish_build(sim)
    import brian2
    objects = sim.simulator.state.network.objects
    group = circuit["L23E"].brian2_group
    background = {name: np.asarray(getattr(group, name)[:]) for name in (
        "bg_lambda", "bg_weight", "bg_lambda_1", "bg_weight_1")}
    n_l23e, n_l23i = circuit["L23E"].size, circuit["L23I"].size
    whole = circuit["L23I"].brian2_group
    result = {"bg_" + k: v for k, v in background.items()}
    result.update(bg_lambda_1_L23I=np.asarray(whole.bg_lambda_1[:]), psc_ext_pA=w_ext,
                  K_ext=derive.derive(params)["K_ext"], sizes=np.array([n_l23e, n_l23i]))
    result.update(
        synapses_objects=sum(isinstance(o, brian2.Synapses) for o in objects),
        neuron_groups=sum(type(o).__name__ == "SharedParameterGroup" for o in objects))
    projections = list(circuit.projections.values()) + list(
        circuit.thalamic_projections.values())
    worst, lengths, sums = 0.0, [], []
    for projection in projections:
        drawn = projection._connector.draw(projection)
        got = np.array(projection.get(["weight", "delay"], format="list", with_address=True))
        np.testing.assert_array_equal(got[:, 0], drawn[0])  # in the order drawn
        np.testing.assert_array_equal(got[:, 1], drawn[1])
        worst = max(worst, np.abs(got[:, 2] - drawn[2] * 1e-3).max(),
                    np.abs(got[:, 3] - drawn[3]).max())
        weights = projection.get("weight", format="array", multiple_synapses="sum")
        sums.append((np.nansum(weights), drawn[2].sum() * 1e-3))
        lengths.append((len(projection), projection.size(), len(drawn[0])))
    result.update(worst=worst, lengths=np.array(lengths), weight_sums=np.array(sums),
                  projections=len(projections))
    sim.run(50.0)
    counts = [sum(len(t) for t in pop.get_data("spikes").segments[0].spiketrains)
              for pop in circuit.populations.values()]
    monitor = circuit.populations["L23E"].recorder._devices["spikes"]
    result.update(population_spikes=np.array(counts), monitor_spikes=int(monitor.num_spikes),
                  monitors=sum(isinstance(o, brian2.SpikeMonitor)
                               for o in sim.simulator.state.network.objects))
    np.savez(out, **result)


if __name__ == "__main__":
    main(sys.argv[1])
