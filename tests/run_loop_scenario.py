"""Run a tiny microcircuit through a backend's run loop; dump its spikes.

``python tests/run_loop_scenario.py SIMULATOR OUT.npz --chunks N [--pynn-run]
[--stop-at MS]``: presimulate 50 ms and simulate 150 ms in ``N`` progress steps
each (or with plain ``sim.run``), stopping when ``--stop-at`` is reached.
"""

import argparse

import numpy as np

from pd14_pynn import backends, derive, parameters
from pd14_pynn.network import Microcircuit
from pd14_pynn.parameters import POPULATIONS

PHASES_MS = (50.0, 150.0)


def main(simulator, out, chunks, pynn_run=False, stop_at_ms=None):
    backend = backends.get(simulator)
    sim = backend.import_simulator()
    params = parameters.resolve({"N_scaling": 0.03, "K_scaling": 0.05, "seed": 7,
                                 "threads": 1, "t_presim_ms": PHASES_MS[0],
                                 "t_sim_ms": PHASES_MS[1]})
    backend.setup(sim, params, int(derive.derive(params)["num_synapses"].sum()))
    circuit = Microcircuit(sim, params, verbose=False).build()
    backend.finish_build(sim)
    reached, progress_calls = [], []
    for duration in PHASES_MS:
        if pynn_run:
            sim.run(duration)
            reached.append(duration)
            continue

        def progress(done_ms, offset=sum(reached)):
            progress_calls.append(offset + done_ms)
            return stop_at_ms is not None and offset + done_ms >= stop_at_ms

        if simulator == "brian2":
            reached.append(backend.run(sim, duration, progress))
        else:
            reached.append(backend.run(sim, duration, progress, n_chunks=chunks))
        if stop_at_ms is not None and sum(reached) >= stop_at_ms:
            break
    result = {"reached_ms": np.array(reached), "t_ms": np.array(sim.get_current_time()),
              "progress_ms": np.array(progress_calls)}
    for name in POPULATIONS:
        trains = circuit.populations[name].get_data("spikes").segments[0].spiketrains
        ids, times = trains.multiplexed
        order = np.lexsort((np.asarray(times), np.asarray(ids)))
        result[f"ids_{name}"] = np.asarray(ids)[order]
        result[f"times_{name}"] = np.asarray(times)[order]
    sim.end()
    np.savez(out, **result)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("simulator")
    parser.add_argument("out")
    parser.add_argument("--chunks", type=int, default=10)
    parser.add_argument("--pynn-run", action="store_true")
    parser.add_argument("--stop-at", type=float)
    args = parser.parse_args()
    main(args.simulator, args.out, args.chunks, args.pynn_run, args.stop_at)
