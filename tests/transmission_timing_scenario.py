"""Spike timing through two synapses of the model's connector on SIMULATOR.

A spike source fires at 10.0 ms; it drives neuron A over a 1.5 ms synapse strongly
enough to fire it once; A drives neuron B over a 2.3 ms synapse. Prints
``TIMING <A's v leaves rest> <A's spike> <B's v leaves rest>`` (ms).

No synapse here has a one-step delay: on NEST, PyNN connected its spike sources'
parrot neurons with the network's smallest delay (A's v left rest at 13.0 ms, not
11.6), which pd14_pynn.backends.nest connects with one step.
"""

import os
import sys

os.environ.setdefault("PD14_BRIAN2_CODEGEN", "numpy")

import numpy as np  # noqa: E402

from pd14_pynn import backends, parameters  # noqa: E402
from pd14_pynn.connectivity import ProjectionSpec  # noqa: E402
from pd14_pynn.connectors import FixedTotalNumberNormal  # noqa: E402

CELL = dict(cm=0.25, tau_m=10.0, tau_syn_E=0.5, tau_syn_I=0.5, v_rest=-65.0, v_reset=-65.0,
            v_thresh=-50.0, tau_refrac=2.0, i_offset=0.0)


def leaves_rest(signal):
    times = np.asarray(signal.times.rescale("ms"))
    v = np.asarray(signal.magnitude[:, 0])
    return float(times[np.argmax(v > CELL["v_rest"] + 1e-6)])


def main(simulator):
    backend = backends.get(simulator)
    sim = backend.import_simulator()
    params = parameters.resolve({"threads": 1, "brian2_device": "runtime"})
    backend.setup(sim, params, 2)
    source = sim.Population(1, sim.SpikeSourceArray(spike_times=[10.0]))
    a, b = (sim.Population(1, sim.IF_curr_exp(**CELL)) for _ in range(2))
    for population in (a, b):
        population.initialize(v=CELL["v_rest"])
    # weights (pA): 30 nA for 0.5 ms fires A at once; 50 pA gives B a small PSP
    for pre, post, weight_pA, delay_ms in ((source, a, 30000.0, 1.5), (a, b, 50.0, 2.3)):
        spec = ProjectionSpec(1, weight_pA, 1e-9, delay_ms, 1e-9, params["resolution_ms"], (1,))
        sim.Projection(pre, post, FixedTotalNumberNormal(spec),
                       sim.StaticSynapse(weight=weight_pA * 1e-3, delay=delay_ms),
                       receptor_type="excitatory")
    a.record(["spikes", "v"])
    b.record("v")
    backend.finish_build(sim)
    backend.run(sim, 30.0)
    segment = a.get_data().segments[0]
    spikes = np.asarray(segment.spiketrains[0].times.rescale("ms"))
    assert spikes.size == 1, f"A fired {spikes.size} times, expected once"
    v_b = b.get_data("v").segments[0].analogsignals[0]
    print(f"TIMING {leaves_rest(segment.filter(name='v')[0]):.4f} {spikes[0]:.4f} "
          f"{leaves_rest(v_b):.4f}")


if __name__ == "__main__":
    main(sys.argv[1])
