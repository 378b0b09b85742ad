"""Resources a run needs: memory estimates from the model's size, peak memory.

The estimate (:func:`memory_parts`) is checked before anything is built, so
that a run that cannot fit stops with one line instead of swapping or being
killed hours later; each backend gives its bytes per synapse, neuron, recorded
spike and membrane sample (:class:`~pd14_pynn.backends.Backend`).
"""

import resource


from . import derive

BASE_MEMORY_BYTES = 600e6  # interpreter, PyNN, simulator libraries
# collecting membrane potential samples: PyNN's array and Neo's AnalogSignal (spikes:
# each backend's BYTES_PER_RECORDED_SPIKE includes collecting and writing)
COLLECT_BYTES_PER_V_SAMPLE = 16


def expected_recording(params):
    """``(spikes, v_samples)`` a run of the microcircuit ``params`` will record
    (:func:`pd14_pynn.derive.expected_recording`)."""
    d = derive.derive(params)
    return derive.expected_recording(d["num_neurons"], params["full_mean_rates_hz"], params)


def model_size(params, model=None):
    """``(synapses, neurons, spikes, v_samples)`` of a run: from ``params`` (the
    microcircuit), or from a declared ``model`` (its own sizes and
    ``expected_recording()``)."""
    if model is not None:
        return (model.total_synapses(), model.total_neurons()) + tuple(
            model.expected_recording())
    d = derive.derive(params)
    n_syn = int(d["num_synapses"].sum())
    if params["thalamic_input"]:
        n_syn += int(d["thalamic_synapses"].sum())
    return (n_syn, int(d["num_neurons"].sum())) + expected_recording(params)


def memory_parts(backend, params, model=None):
    """Rough peak memory (bytes) of a run, by part: ``network`` (interpreter,
    neurons, synapses), ``spikes`` and ``v`` (what the recorders hold, plus the
    copies made when the data are collected and written). ``model``: a declared
    multi-area model (default: the microcircuit of ``params``)."""
    n_syn, n_neurons, spikes, samples = model_size(params, model)
    longest = model.longest_delay_ms() if model is not None else None
    steps = 0 if longest is None else max(
        0, int(round(longest / params["resolution_ms"])) - backend.DELAY_STEPS_IN_BYTES_PER_NEURON)
    return {
        "network": BASE_MEMORY_BYTES + n_syn * backend.BYTES_PER_SYNAPSE
        + n_neurons * (backend.BYTES_PER_NEURON + steps * backend.BYTES_PER_NEURON_PER_DELAY_STEP),
        "spikes": spikes * backend.BYTES_PER_RECORDED_SPIKE,
        "v": samples * (backend.BYTES_PER_V_SAMPLE + COLLECT_BYTES_PER_V_SAMPLE),
    }


def estimate_memory(backend, params, model=None):
    """Rough peak memory (bytes) of a run: :func:`memory_parts` summed."""
    return sum(memory_parts(backend, params, model).values())


def check_memory(backend, params, model=None, limit=None, ranks=1):
    """Raise :class:`~pd14_pynn.backends.BackendError` if the run's estimated peak
    memory (bytes; per rank with ``ranks`` MPI processes) exceeds ``limit``
    (default: this machine's memory), saying what to lower."""
    from .backends import BackendError
    limit = limit or total_memory()
    parts = memory_parts(backend, params, model)
    needed = sum(parts.values()) / ranks
    if needed <= limit:
        return
    per = f" per rank ({ranks} ranks)" if ranks > 1 else ""
    if parts["network"] >= parts["spikes"] + parts["v"]:
        advice = "lower --n-scaling/--k-scaling or use a bigger machine"
    else:
        advice = "lower --t-sim/--t-presim (or --record-v), or use a bigger machine"
    raise BackendError(
        f"this run needs about {gigabytes(needed)}{per} on {backend.NAME} (network "
        f"{gigabytes(parts['network'])}, recorded spikes {gigabytes(parts['spikes'])}, "
        f"membrane traces {gigabytes(parts['v'])}) but the machine has "
        f"{gigabytes(limit)}; {advice}")


def gigabytes(n_bytes):
    """``n_bytes`` as decimal gigabytes, three significant digits ("1.5 GB")."""
    return f"{n_bytes / 1e9:.3g} GB"


def total_memory():
    """Physical memory of this machine (bytes)."""
    import psutil
    return psutil.virtual_memory().total


def peak_rss_bytes():
    """Peak resident memory of this process so far (bytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
