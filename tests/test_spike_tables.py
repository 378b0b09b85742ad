"""Spike tables and rates, against values counted by hand."""

import numpy as np

from pd14_pynn import spike_tables


def test_mean_rates_window():
    rates = spike_tables.mean_rates([np.array([100.0, 600.0, 700.0, 1499.0]), np.array([])],
                                    500.0, 1500.0)
    np.testing.assert_allclose(rates, [3.0, 0.0])


def test_population_rates_count_silent_neurons():
    spikes = spike_tables.PopulationSpikes(np.array([0, 0, 2]), np.array([1.0, 600.0, 700.0]), 4)
    np.testing.assert_allclose(spike_tables.population_rates(spikes, 500.0, 1500.0), [1, 0, 1, 0])
