"""Cross-simulator validation of PD14 runs, from run folders only.

Data flow: run folders -> statistics -> distances -> report.

* :mod:`validation.runs` -- read and check run folders (parameters, metadata, timings).
* :mod:`validation.statistics` -- per-population rates, CVs of ISIs and spike-count
  correlations, computed with Elephant.
* :mod:`validation.distances` -- KS and earth mover's distances, the seed-to-seed
  baseline and the pass/fail verdicts.
* :mod:`validation.reference` -- the published full-scale rates and the check against them.
* :mod:`validation.figures` -- rasters, box plots and ECDFs (the only module that
  imports matplotlib).
* :mod:`validation.report` -- ``report.md`` and a self-contained ``report.html``.
* :mod:`validation.compare` -- :func:`~validation.compare.build_report` and the
  command line (``python validation/compare.py`` or ``python -m validation.compare``).

Nothing in this package imports a simulator or PyNN: it reads what
``python run/main.py`` wrote, through :mod:`pd14_pynn.storage`.
"""
