"""How the Brian2 program grows with the model: objects, generated code, compile time.

    python run/brian2_object_count.py --areas 2 8 32
    python run/brian2_object_count.py --areas 2 --build-only     # objects only, no compile

For each number of areas k, a fresh process builds a multi-area model of k
PD14 areas (N = K = 0.01 by default) connected in both directions between
every pair of areas (L2/3E -> L4E and L5E -> L2/3E of the other area: 2 k (k-1)
inter-area projections, as in issue 23's test), on Brian2's ``cpp_standalone``
device, from an empty project folder (``PD14_BRIAN2_CACHE`` set to a new
temporary folder per k), simulates ``--t-sim`` ms and prints one row per k:
projections, Brian2 objects in the network (and how many are ``Synapses``),
generated ``.cpp`` files, the compile time (code generation + make), the
program's run time and the whole process's wall time.

The script uses only the backend's hooks (``setup``, ``finish_build``, ``run``,
``execute``), so the same file measures any version of the package.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
FIELDS = ("areas", "projections", "objects", "synapses_objects", "cpp_files", "compile_s",
          "program_s", "whole_s")


def child(areas, scale, t_sim_ms, build_only):
    """Build (and run) the model of ``areas`` areas in this process; print a JSON row."""
    import brian2

    from pd14_pynn import backends, parameters
    from pd14_pynn.areas import MultiAreaModel
    params = parameters.resolve({"N_scaling": scale, "K_scaling": scale, "t_presim_ms": 0.0,
                                 "t_sim_ms": t_sim_ms, "brian2_device": "cpp_standalone",
                                 "threads": 1})
    backend = backends.get("brian2")
    sim = backend.import_simulator()
    model = MultiAreaModel(None, params, verbose=False)
    labels = [f"A{k}" for k in range(areas)]
    for label in labels:
        model.add_area(label)
    for source in labels:
        for target in labels:
            if source != target:
                model.add_connection(source, "L23E", target, "L4E", 100)
                model.add_connection(source, "L5E", target, "L23E", 50)
    backend.setup(sim, params, model.total_synapses())
    model.sim, model.fast = sim, backend.fast_paths(sim)
    model.build()
    backend.finish_build(sim)
    objects = list(sim.simulator.state.network.objects)
    row = {"areas": areas,
           "projections": sum(len(c.projections) for c in model.areas.values())
           + len(model.projections),
           "objects": len(objects),
           "synapses_objects": sum(isinstance(o, brian2.Synapses) for o in objects)}
    if not build_only:
        sim.run(t_sim_ms)
        timings = backend.execute(sim, verbose=False)
        project = sim.simulator.state.pd14_standalone.project_dir
        row["cpp_files"] = len([name for name in os.listdir(os.path.join(project, "code_objects"))
                                if name.endswith(".cpp")])
        row["compile_s"] = round(timings["compile"], 1)
        row["program_s"] = round(timings["program"], 1)
    print("ROW " + json.dumps(row), flush=True)


def measure(areas, args):
    """Run :func:`child` in a fresh process with an empty Brian2 cache; returns its row."""
    with tempfile.TemporaryDirectory(prefix="pd14_b2count_") as cache:
        env = {**os.environ, "PD14_BRIAN2_CACHE": cache,
               "PYTHONPATH": os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")])}
        cmd = [sys.executable, __file__, "--child", str(areas), "--scale", str(args.scale),
               "--t-sim", str(args.t_sim)] + (["--build-only"] if args.build_only else [])
        started = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
        whole = time.perf_counter() - started
    rows = [line[4:] for line in proc.stdout.splitlines() if line.startswith("ROW ")]
    if proc.returncode != 0 or not rows:
        return {"areas": areas, "error": (proc.stderr or proc.stdout).strip().splitlines()[-1:]}
    return {**json.loads(rows[0]), "whole_s": round(whole, 1)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--areas", type=int, nargs="+", default=[2, 8, 32])
    parser.add_argument("--scale", type=float, default=0.01, help="N and K scaling (0.01)")
    parser.add_argument("--t-sim", type=float, default=100.0, help="simulated ms (100)")
    parser.add_argument("--build-only", action="store_true",
                        help="count objects without compiling or running")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child(args.child, args.scale, args.t_sim, args.build_only)
        return
    print(" | ".join(FIELDS))
    for areas in args.areas:
        row = measure(areas, args)
        print(" | ".join(str(row.get(field, "-")) for field in FIELDS)
              + (f"  error: {row['error']}" if "error" in row else ""), flush=True)


if __name__ == "__main__":
    main()
