"""The leave-k-out false-alarm count of the verdict rule, on a hand-computed case."""

import numpy as np

from pd14_pynn.validation.false_alarms import false_alarm_table, held_out_failures

# KS distances between four runs of one simulator (symmetric, zero diagonal);
# binary fractions, so that the means below are exact and ties are ties
D = np.array([[0.0, 0.125, 0.25, 0.375],
              [0.125, 0.0, 0.1875, 0.0625],
              [0.25, 0.1875, 0.0, 0.3125],
              [0.375, 0.0625, 0.3125, 0.0]])


def test_one_run_against_the_band_of_the_others():
    # run 0: mean distance to 1, 2, 3 is 0.25; band max(0.1875, 0.0625, 0.3125): pass
    assert not held_out_failures(D, [0])
    # run 3: mean 0.25 against band max(0.125, 0.25, 0.1875) = 0.25: equal passes
    assert not held_out_failures(D, [3])
    # run 0 against the band of runs 1 and 3 alone (0.0625): mean(0.125, 0.375) fails
    assert held_out_failures(D, [0], band_runs=[1, 3])
    # two runs held out: mean of the 4 cross distances
    assert not held_out_failures(D, [0, 1])  # mean 0.21875 <= band 0.3125


def test_table_counts_every_trial():
    same = np.full((4, 4), 0.125) - np.diag(np.full(4, 0.125))
    per_cell, per_trial = false_alarm_table({"A/rate": D, "B/cc": same}, 1)
    assert per_cell == {"A/rate": 0.0, "B/cc": 0.0} and per_trial.tolist() == [0, 0, 0, 0]
    # band from 2 of the other 3: 4 x 3 trials; by hand, runs 0, 1, 2, 3 fail
    # 1, 0, 2 and 2 of their 3 bands
    per_cell, per_trial = false_alarm_table({"A/rate": D, "B/cc": same}, 1, band=2)
    assert len(per_trial) == 12
    assert np.isclose(per_cell["A/rate"], 5 / 12) and per_cell["B/cc"] == 0.0
    assert per_trial.sum() == 5
