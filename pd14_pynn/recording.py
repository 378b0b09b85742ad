"""Recording: what the populations recorded, as arrays and one Neo block.

:func:`collect_block` gathers the spikes (and membrane traces) of every
population of one or more circuits into a single :class:`neo.Block` whose
spikes stay columnar (a ``SpikeTrainList`` of channel and time arrays), which
:mod:`pd14_pynn.storage` writes and reads back. Under MPI, PyNN gathers the
data of every rank.
"""

import json

import numpy as np

from . import parallel, spike_tables, storage


def collect_block(circuits, t_presim_ms, variables=("spikes",)):
    """One Neo block with the recorded data of every population of every circuit.

    Spikes stay columnar: one ``SpikeTrainList`` of (channel, time) arrays for the
    whole network, never one ``SpikeTrain`` object per neuron (at full scale that
    took minutes). Channel ``c`` of population ``p`` is neuron ``c - first_channel``;
    the channel ranges are the block annotation ``populations`` (see
    :func:`pd14_pynn.spike_tables.spike_table`), and each channel is annotated with
    ``population``, ``index`` and ``area`` for readers that iterate trains.
    """
    import neo
    block = neo.Block(name="PD14 microcircuit")
    segment = neo.Segment(name="run")
    block.segments.append(segment)
    channels, times, table = [], [], []
    first_channel, t_stop_ms = 0, 0.0
    for circuit in circuits:
        for name, pop in circuit.populations.items():
            data = pop.get_data(variables, clear=False).segments[0]
            if "spikes" in variables:
                ids, spike_times = _spike_arrays(data.spiketrains)
                channels.append(np.asarray(ids, dtype=np.int64) - int(pop.first_id)
                                + first_channel)
                times.append(spike_tables.to_ms(spike_times))
                t_stop_ms = max(t_stop_ms, spike_tables.to_ms(data.spiketrains.t_stop))
            table.append({"area": circuit.label, "population": name,
                          "first_channel": first_channel, "size": int(pop.size)})
            first_channel += int(pop.size)
            for signal in data.analogsignals:
                signal.annotations.update(population=name, area=circuit.label)
                signal.array_annotations["index"] = np.asarray(
                    signal.array_annotations.get("channel_index",
                                                 np.arange(signal.shape[1])))
                segment.analogsignals.append(signal)
    if "spikes" in variables:
        storage.set_columnar_spikes(segment, times, channels, table, t_stop_ms)
    block.annotations.update(t_presim_ms=float(t_presim_ms),
                             populations=json.dumps(table))
    return block


def _spike_arrays(spiketrains):
    """(channel ids, times) of PyNN's spike trains of one population.

    In one process PyNN gives arrays (NEST, Brian2) or trains annotated with
    ``channel_id`` as Python ints (NEURON), both of which Neo's ``multiplexed``
    reads. Under MPI PyNN gathers trains that Neo made, whose ``channel_id`` are
    numpy integers, which ``multiplexed`` does not take for ids (it numbers the
    trains instead): read them train by train.
    """
    if parallel.launcher_size() == 1:
        return spiketrains.multiplexed
    trains = list(spiketrains)
    ids = [np.full(len(t), int(t.annotations["channel_id"]), dtype=np.int64) for t in trains]
    times = [spike_tables.to_ms(t.times) for t in trains]
    return (np.concatenate(ids or [np.array([], dtype=np.int64)]),
            np.concatenate(times or [np.array([])]))
