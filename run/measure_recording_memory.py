"""Measure the memory a recorded spike costs on a simulator (for resources.memory_parts).

    python run/measure_recording_memory.py nest|neuron|brian2

10,000 tonically firing neurons (no synapses) for 1 s record ~1.3 million spikes.
Prints the growth of resident memory while simulating, per spike (what the
simulator's recorder holds), and the peak after collecting the Neo block the way
a run does (:func:`pd14_pynn.recording.collect_block`) and writing it as a
pickle, per spike (recorder plus every copy made on the way).
"""

import os
import resource
import sys
import tempfile
import types

import psutil

from pd14_pynn import backends, recording, storage


def main(simulator, n_neurons=10_000, t_ms=1000.0):
    os.environ.setdefault("PD14_BRIAN2_CODEGEN", "numpy")
    sim = backends.get(simulator).import_simulator()
    sim.setup(timestep=0.1, min_delay=0.1)
    if simulator == "brian2":
        import brian2
        brian2.prefs.codegen.target = os.environ["PD14_BRIAN2_CODEGEN"]
    population = sim.Population(n_neurons, sim.IF_curr_exp(i_offset=3.0, tau_refrac=2.0))
    population.record("spikes")
    process = psutil.Process()
    sim.run(1.0)
    before = process.memory_info().rss
    sim.run(t_ms)
    after = process.memory_info().rss
    circuit = types.SimpleNamespace(populations={"L23E": population}, label="")
    block = recording.collect_block([circuit], 0.0)
    count = len(block.segments[0].spiketrains.multiplexed[1])
    with tempfile.TemporaryDirectory() as folder:
        storage.write_block(block, os.path.join(folder, "spikes.pkl"))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(f"{simulator}: {count} spikes; recorder {(after - before) / count:.1f} bytes/spike; "
          f"peak with collection and writing {(peak - before) / count:.1f} bytes/spike")


if __name__ == "__main__":
    main(sys.argv[1])
