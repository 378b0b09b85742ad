"""PSP peak (mV) of one synapse made by the model's connector: ``python tests/psp_scenario.py SIM``.

A PSC of 87.81 pA onto the model's neuron must give a 0.15 mV PSP (the model's
definition of the weight), whatever the simulator.
"""

import sys

from pd14_pynn import backends, derive, parameters
from pd14_pynn.connectivity import ProjectionSpec
from pd14_pynn.connectors import FixedTotalNumberNormal


def main(simulator):
    backend = backends.get(simulator)
    sim = backend.import_simulator()
    params = parameters.resolve({"threads": 1})
    backend.setup(sim, params, 1)
    psc = 0.15 * derive.psc_per_psp(params["C_m_pF"], params["tau_m_ms"], params["tau_syn_ms"])
    source = sim.Population(1, sim.SpikeSourceArray(spike_times=[10.0]))
    cell = sim.Population(1, sim.IF_curr_exp(
        cm=params["C_m_pF"] * 1e-3, tau_m=params["tau_m_ms"], tau_syn_E=params["tau_syn_ms"],
        tau_syn_I=params["tau_syn_ms"], v_rest=-65.0, v_reset=-65.0, v_thresh=0.0,
        tau_refrac=2.0, i_offset=0.0))
    cell.initialize(v=-65.0)
    # NEST's normal parameter needs sd > 0; 1e-9 is "no spread" here
    spec = ProjectionSpec(1, psc, 1e-9, 1.0, 1e-9, params["resolution_ms"], (1,))
    sim.Projection(source, cell, FixedTotalNumberNormal(spec),
                   sim.StaticSynapse(weight=psc * 1e-3, delay=1.0), receptor_type="excitatory")
    cell.record("v")
    sim.run(40.0)
    v = cell.get_data("v").segments[0].analogsignals[0].magnitude[:, 0]
    print(f"PSP {v.max() + 65.0:.6f}")


if __name__ == "__main__":
    main(sys.argv[1])
