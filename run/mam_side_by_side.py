"""Benchmark: pd14-pynn's multi-area model against MAM's own NEST code, side by side.

    python run/mam_side_by_side.py --mam PATH [--n-scaling 0.01 --k-scaling 0.01]
        [--t-sim 2000] [--seeds 1 2 3] [--threads 1] [--state ground] [--out DIR]

PATH is a local clone of INM-6/multi-area-model (or ``$PD14_MAM_PATH``). For
each seed, one after the other, this runs (1) ``python run/main.py nest --model
DESCRIPTION`` and (2) MAM's own simulation with the same scaling, duration,
seed and threads (:func:`pd14_pynn.mam_reference.run_mam`: its
``MultiAreaModel`` and NEST, from a temporary copy of the clone), each as its own
process, measured from the outside: wall time from process start to exit and
peak resident memory (``wait4``), plus each one's own phase times. The
description is imported from the clone first (``python -m pd14_pynn.mam PATH
--state STATE``) unless ``--description`` gives one.

Writes ``DIR/mam_seed<S>/`` and ``DIR/pd14_seed<S>/`` (run folders that
``python validation/compare.py`` reads; MAM's is named simulator ``mam-nest``)
and ``DIR/side_by_side.json``, and prints one table: per tool the median over
seeds of the whole process, build, simulate and peak memory, and the ratios
pd14-pynn / MAM. Run nothing else on the machine meanwhile.
"""

import argparse
import os
import statistics
import sys

from pd14_pynn import mam_reference, storage
from pd14_pynn.parameters import ParameterError

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def build_parser():
    parser = argparse.ArgumentParser(prog="python run/mam_side_by_side.py",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--mam", default=os.environ.get("PD14_MAM_PATH"),
                        help="clone of INM-6/multi-area-model (default $PD14_MAM_PATH)")
    parser.add_argument("--description", help="description file (default: imported from --mam)")
    parser.add_argument("--state", choices=("ground", "metastable"), default="ground")
    parser.add_argument("--n-scaling", type=float, default=0.01)
    parser.add_argument("--k-scaling", type=float, default=0.01)
    parser.add_argument("--t-sim", type=float, default=2000.0, help="ms (default 2000)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default="results/mam_side_by_side")
    parser.add_argument("--only", choices=("mam", "pd14"), help="run one side only")
    return parser


def _wait(cmd, log_path):
    wall, peak, code = mam_reference.run_measured(cmd, ROOT, None, log_path)
    if code != 0:
        sys.exit(f"error: {' '.join(cmd)} failed; see {log_path}")
    return wall, peak


def import_description(args, path):
    cmd = [sys.executable, "-m", "pd14_pynn.mam", args.mam, "--out", path,
           "--state", args.state]
    print("importing:", " ".join(cmd), flush=True)
    _wait(cmd, path + ".log")


def run_pd14(args, description, seed, out_dir):
    cmd = [sys.executable, os.path.join(HERE, "main.py"), "nest", "--model", description,
           "--n-scaling", str(args.n_scaling), "--k-scaling", str(args.k_scaling),
           "--t-sim", str(args.t_sim), "--t-presim", "0", "--seed", str(seed),
           "--threads", str(args.threads), "--out", out_dir, "--overwrite"]
    print("pd14-pynn:", " ".join(cmd), flush=True)
    os.makedirs(os.path.dirname(out_dir), exist_ok=True)
    wall, peak = _wait(cmd, out_dir + ".log")
    timings = storage.read_json(os.path.join(out_dir, "timings.json"))
    phases = timings.get("phases", timings)
    return {"whole_s": wall, "whole_peak_rss_bytes": peak,
            "build_s": phases.get("create", 0.0) + phases.get("connect", 0.0),
            "simulate_s": phases.get("presimulate", 0.0) + phases.get("simulate", 0.0),
            "timings": timings}


def run_mam(args, seed, out_dir, parameters):
    print(f"MAM's own code: seed {seed} -> {out_dir}", flush=True)
    try:
        t = mam_reference.run_mam(args.mam, out_dir, args.n_scaling, args.k_scaling,
                                  args.t_sim, seed, args.threads, args.state,
                                  parameters=parameters)
    except ParameterError as err:
        sys.exit(f"error: {err}")
    return {**t, "build_s": t["prepare_s"] + t["areas_s"] + t["cortico_cortical_s"]}


def _median(rows, key):
    return statistics.median(r[key] for r in rows)


def print_table(results):
    keys = (("whole process (s)", "whole_s", 1), ("build (s)", "build_s", 1),
            ("simulate (s)", "simulate_s", 1), ("peak memory (GB)", "whole_peak_rss_bytes", 1e9))
    sides = [s for s in ("mam", "pd14") if results.get(s)]
    print(f"\n{'':20s}" + "".join(f"{s:>12s}" for s in sides)
          + ("    pd14/MAM" if len(sides) == 2 else ""))
    for label, key, unit in keys:
        values = [_median(results[s], key) / unit for s in sides]
        line = f"{label:20s}" + "".join(f"{v:12.2f}" for v in values)
        if len(values) == 2:
            line += f"{values[1] / values[0]:12.2f}x"
        print(line)
    print(f"(median over seeds {sorted(results['seeds'])})")


def main(argv=None):
    args = build_parser().parse_args(argv)
    if not args.mam:
        sys.exit("error: give the clone of INM-6/multi-area-model with --mam PATH "
                 "(or PD14_MAM_PATH)")
    os.makedirs(args.out, exist_ok=True)
    description = args.description or os.path.join(args.out, f"mam_{args.state}.json")
    if not args.description and args.only != "mam":
        import_description(args, description)
    results = {"seeds": args.seeds, "mam": [], "pd14": [],
               "settings": vars(args)}
    for seed in args.seeds:
        pd14_dir = os.path.join(args.out, f"pd14_seed{seed}")
        parameters = None
        if args.only != "mam":
            results["pd14"].append(run_pd14(args, description, seed, pd14_dir))
            parameters = storage.read_json(os.path.join(pd14_dir, "parameters.json"))
        if args.only != "pd14":
            results["mam"].append(run_mam(args, seed, os.path.join(args.out, f"mam_seed{seed}"),
                                          parameters))
    storage.write_json(os.path.join(args.out, "side_by_side.json"), results)
    print_table(results)


if __name__ == "__main__":
    main()
