"""Random connectivity of the model, drawn with numpy from seeded generators.

Pure numpy, no simulator. Used by every backend that builds connections from
explicit arrays (Brian2, NEURON, the generic PyNN path), and by the tests.

* :class:`ProjectionSpec` -- what one fixed-total-number projection is.
* :func:`seed_sequence` -- an independent, reproducible stream per purpose.
* :func:`draw_connections` -- sources, targets, weights and delays of a projection.
* :func:`redrawn_normal` -- normal samples with out-of-range values redrawn.
"""

import dataclasses
import zlib

import numpy as np


@dataclasses.dataclass(frozen=True)
class ProjectionSpec:
    """A fixed-total-number projection with normal weights and delays.

    Weights are PSC amplitudes in pA (negative for inhibitory sources, and
    redrawn until they have the sign of the mean); delays in ms, redrawn while
    below one time step and then rounded to the time grid. Sources and targets
    are drawn uniformly with replacement: multapses and autapses occur.
    """
    n_synapses: int
    weight_mean_pA: float
    weight_sd_pA: float
    delay_mean_ms: float
    delay_sd_ms: float
    resolution_ms: float
    seed: tuple  # entropy for numpy.random.SeedSequence

    @property
    def receptor_type(self):
        """PyNN receptor: the sign of the weight decides it."""
        return "excitatory" if self.weight_mean_pA >= 0 else "inhibitory"


def seed_sequence(seed, *keys):
    """A numpy SeedSequence for ``seed`` and a path of string/int keys.

    Each distinct key path gives an independent stream, so projections never
    share random numbers (PyNN's shared ``NumpyRNG`` trap) and adding a
    projection does not change the others. Strings are hashed with CRC32,
    which is stable across processes (Python's ``hash`` is not).
    """
    entropy = [int(seed)]
    for key in keys:
        entropy.append(zlib.crc32(key.encode()) if isinstance(key, str) else int(key))
    return tuple(entropy)


def redrawn_normal(rng, mean, sd, size, low=-np.inf, high=np.inf, max_rounds=1000):
    """Normal samples; values outside [low, high] are redrawn (not clipped)."""
    values = rng.normal(mean, sd, size)
    for _ in range(max_rounds):
        bad = np.flatnonzero((values < low) | (values > high))
        if bad.size == 0:
            return values
        values[bad] = rng.normal(mean, sd, bad.size)
    raise RuntimeError(f"could not draw normal({mean}, {sd}) inside [{low}, {high}]")


def draw_connections(spec, n_pre, n_post, local_targets=None):
    """Draw a projection: ``(sources, targets, weights_pA, delays_ms)`` arrays.

    Every array comes from its own stream derived from ``spec.seed``, so the
    network does not depend on how work is split. ``local_targets`` (a boolean
    mask over the post population) keeps only connections onto those neurons,
    which is how an MPI rank gets exactly its share of one global network.
    """
    root = np.random.SeedSequence(spec.seed)
    rng_src, rng_tgt, rng_w, rng_d = (np.random.default_rng(s) for s in root.spawn(4))
    n = int(spec.n_synapses)
    index_type = np.int32 if max(n_pre, n_post) < 2**31 else np.int64
    sources = rng_src.integers(0, n_pre, n, dtype=index_type)
    targets = rng_tgt.integers(0, n_post, n, dtype=index_type)
    if spec.weight_mean_pA >= 0:
        weights = redrawn_normal(rng_w, spec.weight_mean_pA, spec.weight_sd_pA, n, low=0.0)
    else:
        weights = redrawn_normal(rng_w, spec.weight_mean_pA, spec.weight_sd_pA, n, high=0.0)
    dt = spec.resolution_ms
    delays = redrawn_normal(rng_d, spec.delay_mean_ms, spec.delay_sd_ms, n, low=dt)
    delays = on_grid(delays, dt)
    if local_targets is not None:
        keep = np.asarray(local_targets)[targets]
        sources, targets, weights, delays = sources[keep], targets[keep], weights[keep], delays[keep]
    return sources, targets, weights, delays


def on_grid(delays_ms, resolution_ms):
    """Delays rounded to the nearest multiple of the resolution (never below one step)."""
    steps = np.maximum(np.rint(np.asarray(delays_ms) / resolution_ms), 1)
    return steps * resolution_ms
