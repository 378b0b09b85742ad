"""The published full-scale rates of PD14, and the check of a run's mean rates against them.

* :data:`REFERENCE_RATES_HZ` -- mean rate per population (1/s) of the full-scale
  model with Poisson background, from the INM-6 reference implementation.
* :func:`reference_check` -- per population: mean rate, reference, relative deviation.

These are full-scale numbers. A downscaled network (N or K scaling below 1) keeps
the mean and variance of each neuron's input (weights / sqrt(K_scaling) and a DC
computed from these very rates) but not the correlations between inputs, and a
short run averages over few spikes, so its rates are not expected to match
exactly: the check shows how far off a run is, it gives no verdict. The numbers
are kept here as data, not read from a run's parameters, because a run may have
overridden ``full_mean_rates_hz``.
"""

import numpy as np

from pd14_pynn.parameters import POPULATIONS

REFERENCE_RATES_HZ = dict(zip(POPULATIONS, (0.903, 2.965, 4.414, 5.876, 7.569, 8.633,
                                            1.105, 7.829)))
REFERENCE_SOURCE = ("full-scale PD14 with Poisson background, INM-6 reference "
                    "implementation (the rates its DC compensation uses)")


def reference_check(mean_rates_hz):
    """Rows comparing mean rates (1/s) with :data:`REFERENCE_RATES_HZ`.

    ``mean_rates_hz``: ``{population: rate}``; populations without a reference
    value are skipped. Each row: ``population``, ``mean_hz``, ``reference_hz``,
    ``relative_deviation`` ((mean - reference) / reference, dimensionless).
    """
    rows = []
    for population in POPULATIONS:
        if population not in mean_rates_hz:
            continue
        mean, reference = float(mean_rates_hz[population]), REFERENCE_RATES_HZ[population]
        rows.append({"population": population, "mean_hz": mean, "reference_hz": reference,
                     "relative_deviation": (mean - reference) / reference
                     if np.isfinite(mean) else float("nan")})
    return rows
