"""Run the PD14 microcircuit on NEST, NEURON or Brian2 (options: --help).

    python run/main.py nest
    python run/main.py --list-parameters
    python run/main.py compare --study thalamic --out results/thalamic

Writes a run folder (parameters, metadata, Neo spikes, figures, timings); see
docs/outputs.md. The command line itself is :mod:`pd14_pynn.cli`.
"""

import os
import sys

from pd14_pynn import cli

if __name__ == "__main__":
    sys.exit(cli.run_script(os.path.abspath(__file__)))
