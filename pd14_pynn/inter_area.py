"""Inter-area connections of a multi-area model, in numbers: pure functions, no PyNN.

* :class:`InterAreaConnection` -- one declared connection, in full-scale numbers.
* :func:`mean_input_pA` -- mean current of K Poisson inputs (the formula of the rule).
* :func:`full_scale_psc_pA` -- PSC amplitude for a PSP peak in the target's neurons.
* :func:`background_mean_pA` -- mean current of a population's full background.
* :func:`kept_background_fraction` -- the rule, before clipping to [0, 1].
* :func:`connection_mean_pA` -- full-scale mean input of one connection.
* :func:`scaling_compensation_pA` -- DC restoring the mean lost by K-scaling.
* :func:`connection_spec` -- the :class:`~pd14_pynn.connectivity.ProjectionSpec`
  of a connection in the scaled network.

**The background rule.** A target population receives inter-area inputs c with
full-scale in-degree K_c (per target neuron), mean PSC amplitude w_c (pA) and
assumed source rate r_c (1/s; by default the source population's full-scale
reference rate, ``full_mean_rates_hz``). Its background (K_ext inputs of weight
w_ext at bg_rate) keeps the fraction

    fraction = 1 - sum_c (K_c w_c r_c) / (K_ext w_ext bg_rate)

so that the mean input tau_s (sum_c K_c w_c r_c + fraction K_ext w_ext bg_rate)
equals that of the full background. All quantities are full-scale (K_ext and
w_ext unscaled), so the fraction does not depend on ``K_scaling``. A fraction
below 0 (inter-area input alone above the background) is an error unless
``on_excess="clip"``; above 1 (net inhibitory inter-area input) it is clipped
to 1 with a warning, since background cannot be added.

**Scaling.** In an area with ``K_scaling`` = k, a connection has in-degree k K_c
(``n_synapses = round(k K_c N_target)``, N_target the scaled population size)
and weight w_c / sqrt(k), like the recurrent connections: the input variance is
kept and the mean drops by (1 - sqrt(k)) tau_s K_c w_c r_c, which is added to
the target neurons' DC, as the model does for its recurrent and background input
(remark 3 of the description).

**Seeds.** Every area uses the model's master seed unless given its own; an
area's streams differ from another's through its label. Inter-area connections
draw from ``seed_sequence(master_seed, "inter-area", source_area,
source_population, target_area, target_population)``.

:class:`pd14_pynn.areas.MultiAreaModel` declares, builds and records the model
with these numbers.
"""

import dataclasses

import numpy as np

from . import derive as derive_module
from .connectivity import ProjectionSpec, seed_sequence
from .parameters import POPULATIONS


@dataclasses.dataclass(frozen=True)
class InterAreaConnection:
    """One inter-area connection, in full-scale numbers.

    ``indegree``: inputs per target neuron at full scale; ``weight_pA``: mean
    PSC amplitude at full scale (negative for inhibitory sources);
    ``delay_mean_ms``, ``delay_sd_ms``: normal delays (redrawn below one time
    step, rounded to the grid); ``source_rate_hz``: the source rate assumed by
    the background rule and the K-scaling compensation; ``replace_background``:
    whether this input replaces part of the target's background.
    """
    source_area: str
    source_population: str
    target_area: str
    target_population: str
    indegree: float
    weight_pA: float
    delay_mean_ms: float
    delay_sd_ms: float
    source_rate_hz: float
    replace_background: bool = True

    @property
    def key(self):
        """``(source_area, source_population, target_area, target_population)``."""
        return (self.source_area, self.source_population, self.target_area,
                self.target_population)

    @property
    def label(self):
        """Projection label, e.g. ``"V2_L4E<-V1_L23E"`` (as the recurrent ones)."""
        return (f"{self.target_area}_{self.target_population}<-"
                f"{self.source_area}_{self.source_population}")


def mean_input_pA(indegree, weight_pA, rate_hz, tau_syn_ms):
    """Mean current (pA) of ``indegree`` Poisson inputs of ``rate_hz`` (1/s).

    Each input spike is an exponential PSC of amplitude ``weight_pA`` and time
    constant ``tau_syn_ms``, whose integral is weight x tau_s; the mean current
    is K w r tau_s.
    """
    return 1e-3 * tau_syn_ms * indegree * weight_pA * rate_hz


def full_scale_psc_pA(params, psp_mV):
    """PSC amplitude (pA, full scale) giving a PSP peak of ``psp_mV`` in these neurons."""
    return psp_mV * derive_module.psc_per_psp(params["C_m_pF"], params["tau_m_ms"],
                                              params["tau_syn_ms"])


def background_mean_pA(params, population):
    """Mean current (pA) of the full background of ``population``: K_ext w_ext bg_rate tau_s.

    Full-scale numbers (K_ext and w_ext unscaled), so the result does not
    depend on ``K_scaling`` or on the background type (Poisson or DC).
    """
    i = POPULATIONS.index(population)
    return mean_input_pA(params["K_ext"][i], full_scale_psc_pA(params, params["PSP_exc_mean_mV"]),
                         params["bg_rate_hz"], params["tau_syn_ms"])


def kept_background_fraction(params, population, inter_area_mean_pA):
    """The background rule: 1 - (inter-area mean input) / (background mean input).

    ``params``: the target area's resolved parameters; ``inter_area_mean_pA``:
    the summed :func:`mean_input_pA` of the inter-area inputs that replace
    background (full scale). Not clipped: below 0 the inter-area input alone
    exceeds the background, above 1 it is net inhibitory.
    """
    return 1.0 - inter_area_mean_pA / background_mean_pA(params, population)


def connection_mean_pA(connection, target_params):
    """Full-scale mean input (pA) of an inter-area connection to one target neuron."""
    return mean_input_pA(connection.indegree, connection.weight_pA, connection.source_rate_hz,
                         target_params["tau_syn_ms"])


def scaling_compensation_pA(connection, target_params):
    """DC (pA) restoring the mean input a connection loses by ``K_scaling`` = k.

    In-degree k K and weight w / sqrt(k) keep the variance; the mean falls by
    (1 - sqrt(k)) K w r tau_s.
    """
    k = target_params["K_scaling"]
    return (1.0 - np.sqrt(k)) * connection_mean_pA(connection, target_params)


def connection_spec(connection, target_params, target_size, master_seed):
    """The :class:`ProjectionSpec` of ``connection`` in the scaled network.

    ``target_params``: the target area's resolved parameters (its ``K_scaling``,
    ``PSP_rel_sd`` and ``resolution_ms`` apply); ``target_size``: the scaled
    size of the target population. Synapses: round(K_scaling x indegree x
    target_size); weight mean weight_pA / sqrt(K_scaling), sd ``PSP_rel_sd``
    times its magnitude.
    """
    k = target_params["K_scaling"]
    weight = connection.weight_pA / np.sqrt(k)
    return ProjectionSpec(
        n_synapses=int(np.round(connection.indegree * k * target_size)),
        weight_mean_pA=float(weight),
        weight_sd_pA=float(abs(weight) * target_params["PSP_rel_sd"]),
        delay_mean_ms=float(connection.delay_mean_ms),
        delay_sd_ms=float(connection.delay_sd_ms),
        resolution_ms=target_params["resolution_ms"],
        seed=seed_sequence(master_seed, "inter-area", *connection.key))
