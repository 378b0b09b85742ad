"""Benchmark pd14-pynn against native implementations of the model, side by side.

    python run/benchmark.py --simulators nest brian2 --scales 0.1 0.2 --bg dc \
        --t-sim 1000 --threads 2 --repetitions 2 --out results/benchmark

For each simulator and scale, each repetition runs pd14-pynn (``run/main.py``)
and the native baseline (``run/baselines/<simulator>_native.py``) one after the
other in fresh processes, alternating which goes first, so that machine noise
hits both. Prints and writes ``benchmark.json`` and ``benchmark.md``: phase
times, RTF, peak RSS and the ratio pd14-pynn / native (medians over repetitions).

*whole* is what the user waits for: the wall time of the whole process, from
its start to its exit with every output written (pd14-pynn: Neo spike file,
JSON files, figures; the baselines: their spikes as one numpy file), measured
here around the child process, and the peak RSS of that process (from
``wait4``). The phase columns come from each process's own clock.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
NATIVE = {"nest": "nest_native.py", "brian2": "brian2_native.py", "neuron": "neuron_native.py"}
PHASES = ("create", "connect", "presimulate", "simulate", "save")


def run_pd14(simulator, scale, args, workdir):
    out = os.path.join(workdir, f"pd14_{simulator}_{scale}")
    cmd = [sys.executable, os.path.join(HERE, "main.py"), simulator,
           "--n-scaling", str(scale), "--k-scaling", str(scale), "--bg", args.bg,
           "--t-sim", str(args.t_sim), "--t-presim", str(args.t_presim),
           "--seed", str(args.seed), "--out", out, "--overwrite"]
    if simulator == "nest":
        cmd += ["--threads", str(args.threads)]
    if simulator == "brian2":
        cmd += ["--brian2-device", args.device, "--threads", str(args.threads)]
    whole = _run(cmd)
    with open(os.path.join(out, "timings.json")) as handle:
        timings = json.load(handle)
    with open(os.path.join(out, "metadata.json")) as handle:
        metadata = json.load(handle)
    with open(os.path.join(out, "rates.json")) as handle:
        rates = json.load(handle)
    # the phase peak: after simulating, before collecting data (the baselines keep
    # no copies); the whole process's peak is in whole_peak_rss_bytes
    timings["peak_rss_bytes"] = timings.pop("peak_rss_after_simulate_bytes")
    timings.update(whole)
    timings["synapses"] = metadata["num_synapses_total"]
    timings["neurons"] = sum(metadata["num_neurons"].values())
    timings["rates_hz"] = [row["mean_hz"] for row in rates["populations"].values()]
    return timings


def run_native(simulator, scale, args, workdir):
    out = os.path.join(workdir, f"native_{simulator}_{scale}.json")
    cmd = [sys.executable, os.path.join(HERE, "baselines", NATIVE[simulator]),
           "--n-scaling", str(scale), "--k-scaling", str(scale), "--bg", args.bg,
           "--t-sim", str(args.t_sim), "--t-presim", str(args.t_presim),
           "--seed", str(args.seed), "--threads", str(args.threads), "--out", out]
    if simulator == "brian2":
        cmd += ["--device", args.device]
    whole = _run(cmd)
    with open(out) as handle:
        result = json.load(handle)
    result.update(whole)
    return result


def _run(cmd):
    """Run ``cmd`` to its exit; returns its whole wall time (s) and peak RSS (bytes)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            out.seek(0)
            err.seek(0)
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{out.read()[-2000:]}\n"
                               f"{err.read()[-3000:]}")
    return {"whole_s": wall, "whole_peak_rss_bytes": usage.ru_maxrss * 1024}


def median_row(runs):
    keys = [*PHASES, "rtf", "peak_rss_bytes", "whole_s", "whole_peak_rss_bytes"]
    row = {k: statistics.median(r.get(k, float("nan")) for r in runs) for k in keys}
    row["build"] = statistics.median(r["create"] + r["connect"] for r in runs)
    return row


def markdown(results, args):
    lines = [f"Machine: {platform.node()}, {os.cpu_count()} cores, {platform.processor() or platform.machine()}; "
             f"threads {args.threads}; Brian2 device {args.device}; background {args.bg}; "
             f"T = {args.t_sim:g} ms after "
             f"{args.t_presim:g} ms presimulation; medians of {args.repetitions} repetition(s).", "",
             "| simulator | scale | neurons | synapses | impl. | create (s) | connect (s) | build (s) "
             "| presim (s) | sim (s) | RTF | save (s) | peak RSS sim (GB) | **whole (s)** "
             "| whole peak RSS (GB) |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for entry in results:
        for impl in ("pd14", "native", "ratio"):
            row = entry[impl]
            fmt = (lambda v: f"{v:.2f}x") if impl == "ratio" else (lambda v: f"{v:.2f}")
            gb = fmt if impl == "ratio" else (lambda v: f"{v / 1e9:.2f}")
            lines.append(
                f"| {entry['simulator']} | {entry['scale']:g} | {entry['neurons']:,} | "
                f"{entry['synapses']:,} | {impl} | {fmt(row['create'])} | {fmt(row['connect'])} | "
                f"{fmt(row['build'])} | {fmt(row['presimulate'])} | {fmt(row['simulate'])} | "
                f"{fmt(row['rtf'])} | {fmt(row['save'])} | {gb(row['peak_rss_bytes'])} | "
                f"**{fmt(row['whole_s'])}** | {gb(row['whole_peak_rss_bytes'])} |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--simulators", nargs="+", default=["nest"], choices=sorted(NATIVE))
    parser.add_argument("--scales", nargs="+", type=float, default=[0.1],
                        help="N_scaling = K_scaling values")
    parser.add_argument("--bg", choices=("poisson", "dc"), default="poisson")
    parser.add_argument("--t-sim", type=float, default=1000.0)
    parser.add_argument("--t-presim", type=float, default=500.0)
    parser.add_argument("--seed", type=int, default=55)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                        help="NEST threads, Brian2 cpp_standalone OpenMP threads; the same for "
                             "both (default: cores)")
    parser.add_argument("--device", choices=("runtime", "cpp_standalone"), default="runtime",
                        help="Brian2 device of both implementations (default runtime)")
    parser.add_argument("--repetitions", type=int, default=1)
    parser.add_argument("--warmup", action="store_true",
                        help="run each implementation once first, untimed (Brian2 compiles "
                             "its code on the first run of a new network)")
    parser.add_argument("--out", default=os.path.join("results", "benchmark"))
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    results = []
    with tempfile.TemporaryDirectory() as workdir:
        for simulator in args.simulators:
            for scale in args.scales:
                runs = {"pd14": [], "native": []}
                if args.warmup:
                    run_pd14(simulator, scale, args, workdir)
                    run_native(simulator, scale, args, workdir)
                for rep in range(args.repetitions):
                    order = ("pd14", "native") if rep % 2 == 0 else ("native", "pd14")
                    for impl in order:
                        fn = run_pd14 if impl == "pd14" else run_native
                        runs[impl].append(fn(simulator, scale, args, workdir))
                        print(f"{simulator} scale {scale:g} rep {rep + 1} {impl:<6}: "
                              f"{runs[impl][-1]['whole_s']:7.1f} s whole process, RTF "
                              f"{runs[impl][-1]['rtf']:.2f}", flush=True)
                pd14, native = median_row(runs["pd14"]), median_row(runs["native"])
                ratio = {k: pd14[k] / native[k] if native[k] else float("nan") for k in pd14}
                results.append({"simulator": simulator, "scale": scale,
                                "neurons": runs["pd14"][0]["neurons"],
                                "synapses": runs["pd14"][0]["synapses"],
                                "pd14": pd14, "native": native, "ratio": ratio,
                                "rates_hz": {"pd14": runs["pd14"][0]["rates_hz"],
                                             "native": runs["native"][0]["rates_hz"]},
                                "runs": runs})
    table = markdown(results, args)
    print("\n" + table)
    with open(os.path.join(args.out, "benchmark.json"), "w") as handle:
        json.dump({"arguments": vars(args), "results": results}, handle, indent=1)
    with open(os.path.join(args.out, "benchmark.md"), "w") as handle:
        handle.write(table)
    print(f"Written {args.out}/benchmark.json and benchmark.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
