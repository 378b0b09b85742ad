"""Where does Brian2's time go when the microcircuit is run through PyNN?

    python run/profile_brian2.py --n-scaling 0.1 --k-scaling 0.1 --t-sim 1000 --chunks 10

Builds the model with pd14_pynn on Brian2 (Cython code generation unless
``PD14_BRIAN2_CODEGEN`` says otherwise), runs the presimulation, then

1. times ``--t-sim`` ms as one ``sim.run`` call and as ``--chunks`` calls, to
   show the fixed cost of each ``run()`` (Brian2 prepares every object anew);
2. runs ``--t-sim`` ms once more with Brian2's profiler and prints the time per
   object kind (neuron groups, synaptic pathways, monitors, Poisson inputs) and
   the number of objects of each kind.

Prints figures only; nothing is written. Use a network compiled beforehand (run
it once) so that compilation does not enter the figures.
"""

import argparse
import collections
import time

from pd14_pynn import parameters
from pd14_pynn.backends import brian2 as backend
from pd14_pynn.network import Microcircuit


def parse():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n-scaling", type=float, default=0.1)
    parser.add_argument("--k-scaling", type=float, default=0.1)
    parser.add_argument("--bg", choices=("poisson", "dc"), default="poisson")
    parser.add_argument("--t-presim", type=float, default=500.0, help="ms (default 500)")
    parser.add_argument("--t-sim", type=float, default=1000.0, help="ms (default 1000)")
    parser.add_argument("--chunks", type=int, default=10,
                        help="number of run() calls to compare with one call (default 10)")
    parser.add_argument("--seed", type=int, default=55)
    return parser.parse_args()


def kind_of(name):
    """Object kind from a Brian2 code object name."""
    for key, kind in (("synapses", "synaptic pathways"), ("spikemonitor", "spike monitors"),
                      ("poissoninput", "Poisson inputs"), ("neurongroup", "neuron groups"),
                      ("statemonitor", "state monitors")):
        if key in name:
            return kind
    return "other"


def main():
    args = parse()
    params = parameters.resolve({"N_scaling": args.n_scaling, "K_scaling": args.k_scaling,
                                 "background": args.bg, "seed": args.seed})
    sim = backend.import_simulator()
    import brian2
    backend.setup(sim, params, 0)
    circuit = Microcircuit(sim, params, verbose=False)
    circuit.build()
    network = sim.simulator.state.network
    counts = collections.Counter(type(obj).__name__ for obj in network.objects)
    print("Brian2 objects in the network:", dict(counts))
    print(f"code generation: {brian2.prefs.codegen.target}")

    t0 = time.perf_counter()
    sim.run(args.t_presim)
    print(f"presimulation {args.t_presim:g} ms in one run(): {time.perf_counter() - t0:.2f} s")

    t0 = time.perf_counter()
    sim.run(args.t_sim)
    one = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in range(args.chunks):
        sim.run(args.t_sim / args.chunks)
    many = time.perf_counter() - t0
    print(f"{args.t_sim:g} ms in 1 run() call: {one:.2f} s; in {args.chunks} calls: {many:.2f} s "
          f"({(many - one) / max(args.chunks - 1, 1):.2f} s per extra call)")

    # Brian2's profiler: time per code object during one run
    t0 = time.perf_counter()
    network.run(args.t_sim * brian2.ms, profile=True)
    total = time.perf_counter() - t0
    per_kind = collections.defaultdict(float)
    n_objects = collections.Counter()
    for name, seconds in network.profiling_info:
        per_kind[kind_of(name)] += float(seconds)
        n_objects[kind_of(name)] += 1
    accounted = sum(per_kind.values())
    print(f"\nprofiled run of {args.t_sim:g} ms: {total:.2f} s wall, "
          f"{accounted:.2f} s inside code objects, {total - accounted:.2f} s elsewhere "
          "(Brian2's scheduling loop in Python, run() preparation)")
    print(f"{'kind':<20} {'code objects':>12} {'seconds':>9} {'share':>7}")
    for kind, seconds in sorted(per_kind.items(), key=lambda item: -item[1]):
        print(f"{kind:<20} {n_objects[kind]:>12} {seconds:>9.2f} {100 * seconds / total:>6.1f}%")
    steps = args.t_sim / params["resolution_ms"]
    n_code = sum(n_objects.values())
    print(f"\n{n_code} code objects x {steps:.0f} steps; elsewhere per object and step: "
          f"{1e6 * (total - accounted) / (n_code * steps):.2f} us")


if __name__ == "__main__":
    main()
