"""KS distance between every pair of runs of a report, for chosen cells.

    python validation/pairs.py REPORT_DIR --cells L4I/rate L5I/cc

The report's tables give, per pair of simulators, the mean distance over all
pairs of their runs. This table shows each pair of runs, which is what one needs
to tell a simulator effect from a network-realisation effect: e.g. Brian2 and
NEST with ``connectivity_rng="numpy"`` and the same seed simulate the same
network. Reads only ``samples.npz`` of the report folder.
"""

import argparse
import os

import numpy as np

from pd14_pynn.validation.distances import ks_distance


def load_samples(report_dir):
    """``{(run, population, statistic): array}`` from a report's ``samples.npz``
    (population ``"L23E"`` or ``"V1/L23E"``).

    Of the CC's neuron samples only the first is read (``".../cc"``; the others,
    ``".../cc.1"``, ..., are left out): these tools look at one sample per cell, the
    single sample of reports from before several samples.
    """
    path = os.path.join(report_dir, "samples.npz")
    if not os.path.exists(path):
        raise SystemExit(f"error: {path} not found; give a folder written by validation/compare.py")
    samples = {}
    with np.load(path) as data:
        for key in data.files:
            run, *population, statistic = key.split("/")
            if "." not in statistic:
                samples[(run, "/".join(population), statistic)] = data[key]
    return samples


def pair_table(samples, population, statistic):
    """(run names, matrix of KS distances) for one cell."""
    names = sorted({run for run, pop, stat in samples if (pop, stat) == (population, statistic)})
    if not names:
        raise SystemExit(f"error: no samples for {population}/{statistic}")
    matrix = np.array([[ks_distance(samples[(a, population, statistic)],
                                    samples[(b, population, statistic)]) for b in names]
                       for a in names])
    return names, matrix


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("report_dir")
    parser.add_argument("--cells", nargs="+", default=["L4I/rate", "L5I/cc"],
                        help="population/statistic, e.g. L4I/rate (default: L4I/rate L5I/cc)")
    args = parser.parse_args(argv)
    samples = load_samples(args.report_dir)
    for cell in args.cells:
        population, _, statistic = cell.rpartition("/")
        names, matrix = pair_table(samples, population, statistic)
        width = max(len(name) for name in names)
        print(f"\nKS distance, {population} {statistic}")
        print(" " * width + "".join(f" {i:>6}" for i in range(len(names))))
        for i, (name, row) in enumerate(zip(names, matrix)):
            print(f"{name:<{width}}" + "".join(f" {value:6.3f}" for value in row) + f"  ({i})")


if __name__ == "__main__":
    main()
