"""pd14_pynn.spike_report and ``--format sonata``: spikes as a SONATA spike report.

The file has SONATA's layout and reads back exactly; libsonata's ``SpikeReader``
and BMTK's ``SpikeTrains.from_sonata`` read the same spikes; runs of every
simulator with ``--format sonata`` record the spikes of the ``.pkl`` run of the
same seed (pinned in tests/data/golden_spikes.json); their node populations
are those of the SONATA network of the run; the report phase and the
validation read the folders.
"""

import json
import os
import subprocess
import sys

import h5py
import neo
import numpy as np
import pytest

import golden_spikes
from pd14_pynn import (cli, run_folder, sonata, sonata_reader, spike_report, spike_tables,
                       storage, summary)
from pd14_pynn.validation import spike_statistics

ROOT = golden_spikes.ROOT
SIMULATORS = ("nest", "neuron", "brian2")


def make_block(areas=("V1", "V2")):
    """A run's block as collect_block makes it: two areas of two populations; in
    each area L23E's last neuron is silent and L4E fires no spike at all."""
    rows, channels, times, first = [], [], [], 0
    for a, area in enumerate(areas):
        for population, size in (("L23E", 4), ("L4E", 3)):
            rows.append({"area": area, "population": population, "first_channel": first,
                         "size": size})
            if population == "L23E":
                # unsorted, a neuron with two spikes at one time, times not on a grid
                index = np.array([2, 0, 1, 0, 2, 2])
                channels.append(index + first)
                times.append(np.array([30.1, 12.5, 7.0, 3.25, 30.1, 0.1]) + a / 3)
            first += size
    block = neo.Block(name="PD14 multi-area model")
    segment = neo.Segment(name="run")
    block.segments.append(segment)
    storage.set_columnar_spikes(segment, times, channels, rows, t_stop_ms=50.0)
    block.annotations.update(t_presim_ms=10.0, populations=json.dumps(rows), areas=list(areas),
                             simulator="nest", label="two_areas_test", simulated_ms=50.0,
                             complete=True)
    return block


def assert_same_spikes(got, expected):
    assert list(got) == list(expected)
    for key in expected:
        assert got[key].size == expected[key].size, key
        np.testing.assert_array_equal(got[key].index, expected[key].index, err_msg=key)
        np.testing.assert_array_equal(got[key].times_ms, expected[key].times_ms, err_msg=key)


@pytest.mark.parametrize("areas", [("V1", "V2"), ("",)], ids=["two areas", "one circuit"])
def test_round_trip_gives_the_runs_block(tmp_path, areas):
    block = make_block(areas)
    path = str(tmp_path / "spikes.h5")
    storage.write_block(block, path)
    back = storage.read_block(str(tmp_path))  # the run folder finds spikes.h5
    assert_same_spikes(spike_tables.spike_table(back), spike_tables.spike_table(block))
    first = f"{areas[0]}/L23E" if areas[0] else "L23E"
    assert spike_tables.spike_table(back)[first].size == 4  # the silent neuron is kept
    for key in ("t_presim_ms", "populations", "simulator", "label", "simulated_ms", "complete"):
        assert back.annotations[key] == block.annotations[key], key
    assert back.annotations["areas"] == list(areas)
    assert back.name == block.name
    trains, original = back.segments[0].spiketrains, block.segments[0].spiketrains
    assert (spike_tables.to_ms(trains.t_start), spike_tables.to_ms(trains.t_stop)) == (0.0, 50.0)
    assert len(trains) == len(original) == 7 * len(areas)
    # per-neuron trains, as Neo readers iterate them, carry the same annotations
    last = list(trains)[3]
    assert (last.annotations["population"], last.annotations["index"]) == ("L23E", 3)
    # the same block through Neo's pickle gives the same spikes
    storage.write_block(block, str(tmp_path / "spikes.pkl"))
    assert_same_spikes(spike_tables.spike_table(storage.read_block(str(tmp_path / "spikes.pkl"))),
                       spike_tables.spike_table(back))


def test_file_has_sonatas_spike_report_layout(tmp_path):
    path = str(tmp_path / "spikes.h5")
    storage.write_block(make_block(), path)
    with h5py.File(path, "r") as handle:
        assert handle.attrs["magic"] == sonata.MAGIC
        assert list(handle["spikes"]) == ["V1_L23E", "V1_L4E", "V2_L23E", "V2_L4E"]
        group = handle["spikes/V1_L23E"]
        assert h5py.check_enum_dtype(group.attrs.get_id("sorting").dtype) == \
            {"none": 0, "by_id": 1, "by_time": 2}
        assert group.attrs["sorting"] == 1  # by_id
        assert group["node_ids"].dtype == np.uint64 and group["timestamps"].dtype == np.float64
        assert group["timestamps"].attrs["units"] == "ms"
        # by node id, then time
        np.testing.assert_array_equal(group["node_ids"][()], [0, 0, 1, 2, 2, 2])
        np.testing.assert_array_equal(group["timestamps"][()], [3.25, 12.5, 7.0, 0.1, 30.1, 30.1])
        assert group.attrs["n_nodes"] == 4 and group.attrs["area"] == "V1"
        assert handle["spikes/V2_L4E/node_ids"].shape == (0,)
        assert handle.attrs["t_presim_ms"] == 10.0 and handle.attrs["complete"]


def test_libsonata_spike_reader_reads_our_spikes(tmp_path):
    import libsonata
    block = make_block()
    path = str(tmp_path / "spikes.h5")
    storage.write_block(block, path)
    reader = libsonata.SpikeReader(path)
    assert sorted(reader.get_population_names()) == ["V1_L23E", "V1_L4E", "V2_L23E", "V2_L4E"]
    ours = spike_tables.spike_table(block)
    for name in reader.get_population_names():
        population = reader[name]
        assert population.sorting == "by_id" and population.time_units == "ms"
        arrays = population.get_dict()
        spikes = ours[name.replace("_", "/")]
        np.testing.assert_array_equal(arrays["node_ids"], spikes.index)
        np.testing.assert_array_equal(arrays["timestamps"], spikes.times_ms)
    assert reader["V2_L23E"].get(node_ids=[0]) == [(0, 3.25 + 1 / 3), (0, 12.5 + 1 / 3)]


def test_bmtk_spike_trains_read_our_spikes(tmp_path):
    from bmtk.utils.reports.spike_trains import SpikeTrains
    block = make_block()
    path = str(tmp_path / "spikes.h5")
    storage.write_block(block, path)
    trains = SpikeTrains.from_sonata(path)
    assert sorted(trains.populations) == ["V1_L23E", "V1_L4E", "V2_L23E", "V2_L4E"]
    frame = trains.to_dataframe()
    for key, spikes in spike_tables.spike_table(block).items():
        rows = frame[frame["population"] == key.replace("/", "_")]
        np.testing.assert_array_equal(rows["node_ids"].to_numpy(), spikes.index)
        np.testing.assert_array_equal(rows["timestamps"].to_numpy(), spikes.times_ms)
    assert trains.units(population="V1_L23E") == "ms"
    np.testing.assert_array_equal(trains.get_times(2, population="V1_L23E"), [0.1, 30.1, 30.1])


def test_reads_a_report_that_bmtk_wrote(tmp_path):
    """Another tool's report (no sizes, sorting as text) reads as far as it can."""
    from bmtk.utils.reports.spike_trains import SpikeTrains, sort_order
    trains = SpikeTrains(default_population="cortex")
    trains.add_spikes(node_ids=[3, 1, 3], timestamps=[0.5, 0.25, 0.125], population="cortex")
    path = str(tmp_path / "bmtk.h5")
    trains.to_sonata(path, sort_order=sort_order.by_time)
    report = spike_report.read_report(path)
    (population,) = report.populations
    assert (population.name, population.n_nodes, population.area) == ("cortex", 4, "")
    order = np.argsort(population.times_ms)
    np.testing.assert_array_equal(population.node_ids[order], [3, 1, 3])
    np.testing.assert_array_equal(population.times_ms[order], [0.125, 0.25, 0.5])
    block = storage.block_from_report(report)
    assert spike_tables.spike_table(block)["cortex"].size == 4


def test_units_and_unreadable_files(tmp_path):
    path = str(tmp_path / "seconds.h5")
    with h5py.File(path, "w") as handle:
        handle.create_dataset("spikes/p/node_ids", data=np.array([0, 1], dtype=np.uint64))
        handle.create_dataset("spikes/p/timestamps", data=[0.5, 1.25]).attrs["units"] = "s"
    np.testing.assert_array_equal(spike_report.read_report(path).populations[0].times_ms,
                                  [500.0, 1250.0])
    with h5py.File(path, "a") as handle:
        handle["spikes/p/timestamps"].attrs["units"] = "fortnights"
    with pytest.raises(spike_report.SpikeReportError, match="unknown units 'fortnights'"):
        spike_report.read_report(path)
    (tmp_path / "other.h5").write_bytes(b"not HDF5")
    with pytest.raises(spike_report.SpikeReportError, match="cannot read .* as HDF5"):
        spike_report.read_report(str(tmp_path / "other.h5"))
    with h5py.File(tmp_path / "empty.h5", "w"):
        pass
    with pytest.raises(spike_report.SpikeReportError, match="no /spikes group"):
        spike_report.read_report(str(tmp_path / "empty.h5"))


def test_writer_refuses_spikes_of_nodes_it_does_not_have(tmp_path):
    pop = spike_report.PopulationReport("L23E", np.array([0, 5]), np.array([1.0, 2.0]), 5)
    with pytest.raises(ValueError, match="has 5 nodes but a spike of node 5"):
        spike_report.write_report(str(tmp_path / "spikes.h5"), [pop])


def test_rerun_removes_an_earlier_report(tmp_path):
    (tmp_path / "spikes.h5").write_bytes(b"earlier run")
    run_folder.remove_run_files(str(tmp_path))
    assert not (tmp_path / "spikes.h5").exists()
    assert storage.spike_path(str(tmp_path), "sonata") == str(tmp_path / "spikes.h5")


def test_cli_refuses_membrane_potentials_in_a_spike_report(capsys, tmp_path):
    code = cli.main(["nest", "--format", "sonata", "--record-v", "2",
                     "--out", str(tmp_path / "run")])
    assert code == 2
    assert "--format sonata writes a SONATA spike report, which holds spikes only" in \
        capsys.readouterr().err
    assert not (tmp_path / "run").exists()


# --- runs of every simulator ---------------------------------------------------------

@pytest.fixture(scope="module")
def sonata_run(tmp_path_factory):
    """``sonata_run(case)`` -> run folder of the golden case ``case`` run with
    ``--format sonata --save-connectivity`` (run once per case)."""
    folder = tmp_path_factory.mktemp("sonata_runs")
    done = {}

    def get(case):
        if case not in done:
            out = folder / case
            cmd = [sys.executable, *golden_spikes.CASES[case], "--out", str(out),
                   "--format", "sonata", "--save-connectivity"]
            proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True,
                                  env={**os.environ, **golden_spikes.ENV, "PYTHONPATH": ROOT})
            assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
            done[case] = out
        return done[case]

    return get


@pytest.mark.parametrize("case", [*SIMULATORS, "nest_two_areas"])
def test_sonata_run_records_the_spikes_of_the_pkl_run(sonata_run, case):
    """The spikes equal those of the .pkl run of the same seed (its pinned digest);
    the report's node populations are the network's; readers agree."""
    import libsonata
    out = sonata_run(case)
    assert not (out / "spikes.pkl").exists()
    with open(golden_spikes.GOLDEN) as handle:
        expected = json.load(handle)["cases"][case]
    got = golden_spikes.digest(out)
    assert got["counts"] == expected["counts"]
    assert got["sha256"] == expected["sha256"]

    network = sonata_reader.NetworkFile(str(out))
    report = spike_report.read_report(str(out / "spikes.h5"))
    assert {p.name: p.n_nodes for p in report.populations} == \
        {name: size for name, size in network.sizes.items() if not name.endswith("TC")}
    reader = libsonata.SpikeReader(str(out / "spikes.h5"))
    for pop in report.populations:
        arrays = reader[pop.name].get_dict()
        np.testing.assert_array_equal(arrays["node_ids"], pop.node_ids)
        np.testing.assert_array_equal(arrays["timestamps"], pop.times_ms)
    facts = report.facts
    params = json.loads((out / "parameters.json").read_text())
    base = params.get("base", params)
    assert facts["t_presim_ms"] == base["t_presim_ms"] and facts["complete"]
    assert facts["simulated_ms"] == base["t_presim_ms"] + base["t_sim_ms"]

    # the report phase reads it: rates.json again from the file
    again = out / "report_again"
    again.mkdir()
    summary.write_summary(storage.read_block(str(out)), case, base, str(again))
    assert json.loads((again / "rates.json").read_text()) == \
        json.loads((out / "rates.json").read_text())


def test_validation_compares_sonata_and_neo_runs(sonata_run, tmp_path):
    """validation/compare.py reads run folders of either format."""
    pkl_run = tmp_path / "nest_seed56"
    cmd = [sys.executable, *golden_spikes.CASES["nest"], "--seed", "56", "--out", str(pkl_run)]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, **golden_spikes.ENV, "PYTHONPATH": ROOT})
    assert proc.returncode == 0, proc.stderr[-3000:]
    runs = [str(sonata_run(sim)) for sim in SIMULATORS] + [str(pkl_run)]
    report = tmp_path / "report"
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "validation", "compare.py"),
                           *runs, "--out", str(report)], cwd=str(tmp_path),
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": ROOT})
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    described = json.loads((report / "summary.json").read_text())
    assert sorted(os.path.basename(r["path"]) for r in described["runs"]) == \
        ["brian2", "nest", "nest_seed56", "neuron"]
    # the statistics of a SONATA run are those of its spikes: its rates as rates.json has them
    for sim in SIMULATORS:
        stats = spike_statistics.run_statistics(str(sonata_run(sim)), n_neurons_cc=10)
        rates = json.loads((sonata_run(sim) / "rates.json").read_text())["populations"]
        for (area, population), values in stats.items():
            assert values["rate"].mean() == pytest.approx(rates[population]["mean_hz"],
                                                          rel=1e-12), (sim, population)
