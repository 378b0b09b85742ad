"""Cross-simulator validation of PD14 runs, from run folders only.

Data flow: run folders -> statistics -> distances -> report.

* :mod:`~pd14_pynn.validation.runs` -- read and check run folders (parameters,
  metadata, timings).
* :mod:`~pd14_pynn.validation.spike_statistics` -- per-population rates, CVs of ISIs
  and spike-count correlations, computed with Elephant.
* :mod:`~pd14_pynn.validation.distances` -- KS and earth mover's distances, the
  seed-to-seed baseline and the pass/fail verdicts.
* :mod:`~pd14_pynn.validation.reference` -- the published full-scale rates and the
  check against them.
* :mod:`~pd14_pynn.validation.figures` -- rasters, box plots and ECDFs (the only
  module that imports matplotlib).
* :mod:`~pd14_pynn.validation.report` -- ``report.md`` and a self-contained
  ``report.html``.
* :mod:`~pd14_pynn.validation.rendering` -- report blocks as Markdown and as
  self-contained HTML.
* :mod:`~pd14_pynn.validation.compare` -- :func:`~pd14_pynn.validation.compare.build_report`
  and the command line (``python validation/compare.py`` or
  ``python -m pd14_pynn.validation.compare``).
* :mod:`~pd14_pynn.validation.response`, :mod:`~pd14_pynn.validation.response_report`
  -- the response to the thalamic pulse (PSTHs, features, verdicts) and its report.
* :mod:`~pd14_pynn.validation.pairs`, :mod:`~pd14_pynn.validation.false_alarms` --
  KS distances of every pair of runs, and how often the verdict rule fails a
  simulator against itself (``python validation/pairs.py``,
  ``python validation/false_alarms.py``).
* :mod:`~pd14_pynn.validation.studies` -- named studies and their plans.
* :mod:`~pd14_pynn.validation.study_estimates` -- rough wall time and peak memory
  of a study's runs.
* :mod:`~pd14_pynn.validation.study_runner` -- ``python run/main.py compare``: runs
  a study, one process per run, then writes its reports.

Nothing in this package imports a simulator or PyNN: it reads what
``python run/main.py`` wrote, through :mod:`pd14_pynn.storage`,
:mod:`pd14_pynn.spike_tables` and :mod:`pd14_pynn.run_folder` (the study runner
starts those runs as processes of their own).
"""
