"""The spikes of fixed-seed runs are those recorded in tests/data/golden_spikes.json.

The file was written by ``python tests/golden_spikes.py --write`` before the
runner and the backends were reorganised (issue 25); a change in any digest
means a change of behaviour, not of layout. The counts per population are
compared first, so that a failure says where the spikes differ.
"""

import json

import pytest

import golden_spikes


@pytest.mark.parametrize("case", sorted(golden_spikes.CASES))
def test_spikes_as_recorded(case, tmp_path):
    with open(golden_spikes.GOLDEN) as f:
        expected = json.load(f)["cases"][case]
    got = golden_spikes.run_case(case, tmp_path / case)
    assert got["counts"] == expected["counts"]
    assert got["sha256"] == expected["sha256"]
