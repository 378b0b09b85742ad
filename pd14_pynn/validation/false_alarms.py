"""How often the verdict rule fails a simulator that is in fact the baseline.

    python validation/false_alarms.py REPORT_DIR [--baseline nest] [--held-out 1 3] [--band N]

The rule of pd14_pynn/validation/compare.py: a cell passes when the mean KS distance over
all pairs (run of the simulator, run of the baseline) is no larger than the
largest KS distance between two baseline runs (the band). Here some baseline
runs are held out and treated as "the other simulator", against the band of the
remaining ones (or of every choice of ``--band N`` of them, to ask how a study
with an N-seed band would fare), for every way of choosing them (leave-k-out).
Every failure is a
false alarm, since held-out and remaining runs come from one simulator. Prints,
per cell, the fraction of held-out sets that fail it, and over all cells the
mean number of failing cells and the fraction of held-out sets that fail at
least one cell. Reads only ``samples.npz`` of the report folder.
"""

import argparse
import itertools

import numpy as np

from pd14_pynn.validation.pairs import load_samples, pair_table


def held_out_failures(matrix, held_out, band_runs=None):
    """True where the rule fails ``held_out`` (run indices) against the band of
    ``band_runs`` (default: all other runs); ``matrix`` is the symmetric matrix of
    KS distances of one cell."""
    held = list(held_out)
    rest = list(band_runs) if band_runs is not None else \
        [i for i in range(len(matrix)) if i not in held]
    if len(rest) < 2:
        raise ValueError("the band needs at least two remaining runs")
    cross = float(np.mean(matrix[np.ix_(held, rest)]))
    band = max(matrix[a, b] for a, b in itertools.combinations(rest, 2))
    return cross > band


def false_alarm_table(matrices, k, band=None):
    """``{cell: fraction of trials failing it}`` and the number of failing cells per
    trial (array). A trial: ``k`` runs held out, the band from ``band`` of the
    others (default: all of them); every such choice is one trial.

    ``matrices``: ``{cell: KS matrix}``, all over the same runs in the same order."""
    n = len(next(iter(matrices.values())))
    trials = []
    for held in itertools.combinations(range(n), k):
        rest = [i for i in range(n) if i not in held]
        for band_runs in itertools.combinations(rest, band or len(rest)):
            trials.append((held, band_runs))
    fails = {cell: np.array([held_out_failures(m, held, runs) for held, runs in trials])
             for cell, m in matrices.items()}
    per_set = np.sum([f for f in fails.values()], axis=0)
    return {cell: float(f.mean()) for cell, f in fails.items()}, per_set


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("report_dir")
    parser.add_argument("--baseline", default="nest",
                        help="simulator whose runs are used (run names start with it)")
    parser.add_argument("--held-out", type=int, nargs="+", default=[1, 3],
                        help="how many runs to hold out (default: 1 and 3)")
    parser.add_argument("--band", type=int,
                        help="band from this many of the other runs (default: all)")
    args = parser.parse_args(argv)
    samples = load_samples(args.report_dir)
    cells = sorted({(pop, stat) for run, pop, stat in samples
                    if run.startswith(args.baseline + "_")})
    baseline_only = {key: value for key, value in samples.items()
                     if key[0].startswith(args.baseline + "_")}
    matrices = {}
    for population, statistic in cells:
        names, matrix = pair_table(baseline_only, population, statistic)
        matrices[f"{population}/{statistic}"] = matrix
    print(f"{len(names)} runs of {args.baseline}: {', '.join(names)}")
    for k in args.held_out:
        if k < 1 or len(names) - k < max(2, args.band or 2):
            raise SystemExit(f"error: holding out {k} of {len(names)} runs leaves too few for "
                             f"a band of {args.band or len(names) - k} (at least 2)")
    for k in args.held_out:
        per_cell, per_set = false_alarm_table(matrices, k, args.band)
        print(f"\nheld out {k} run(s) at a time, band from {args.band or len(names) - k} "
              f"of the others ({len(per_set)} trials):")
        for cell, rate in per_cell.items():
            print(f"  {cell:<10} fails {rate:6.1%}")
        print(f"  mean failing cells per trial: {per_set.mean():.2f} of {len(per_cell)} "
              f"({per_set.mean() / len(per_cell):.1%}); trials failing at least one cell: "
              f"{np.mean(per_set > 0):.1%}")


if __name__ == "__main__":
    main()
