"""The documentation is self-contained and agrees with the code.

* docs/model.md's parameter tables hold the defaults of pd14_pynn/parameters.py;
* README, docs/ and docstrings name no path outside the repository, and every
  relative Markdown link resolves to a file inside it.
"""

import ast
import pathlib
import re

import pytest

from pd14_pynn import derive, parameters
from pd14_pynn.parameters import POPULATIONS

ROOT = pathlib.Path(__file__).resolve().parents[1]
MODEL = (ROOT / "docs" / "model.md").read_text()
MARKDOWN = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
SOURCES = [p for folder in ("pd14_pynn", "run", "validation", "tests")
           for p in sorted((ROOT / folder).rglob("*.py"))]


def table_row(text, first_cell):
    """The cells after the first of the Markdown table row whose first cell starts so."""
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and cells[0].startswith(first_cell):
            return cells[1:]
    raise AssertionError(f"no table row starting with {first_cell!r}")


def numbers(cells):
    return [float(c.replace(",", "")) for c in cells]


def test_model_tables_match_the_defaults():
    p = parameters.default_parameters()
    assert numbers(table_row(MODEL, "neurons at full scale")) == \
        p["full_num_neurons"] + [p["thalamic_num_neurons"]]
    for t, target in enumerate(POPULATIONS):
        row = numbers(table_row(MODEL, target))
        assert row == p["conn_probs"][t] + [p["thalamic_conn_probs"][t]], target
    assert numbers(table_row(MODEL, "K_Cx")) == p["K_ext"]
    assert numbers(table_row(MODEL, "mean V_0")) == p["V0_mean_optimized_mV"]
    assert numbers(table_row(MODEL, "standard deviation (mV)")) == p["V0_std_optimized_mV"]


@pytest.mark.parametrize("quantity, key", [
    ("spike threshold", "V_th_mV"), ("resting potential", "E_L_mV"),
    ("reset potential", "V_reset_mV"), ("membrane time constant", "tau_m_ms"),
    ("membrane capacitance", "C_m_pF"), ("absolute refractory", "t_ref_ms"),
    ("synaptic (PSC) time constant", "tau_syn_ms"), ("mean delay, excitatory", "delay_exc_mean_ms"),
    ("mean delay, inhibitory", "delay_inh_mean_ms"), ("thalamic rate", "thalamic_rate_hz"),
    ("start t_start", "thalamic_start_ms"), ("duration", "thalamic_duration_ms"),
])
def test_model_scalar_values_match_the_defaults(quantity, key):
    value = table_row(MODEL, quantity)[0]
    assert float(value.split()[0]) == parameters.default_parameters()[key]


def test_model_derived_numbers_match_the_code():
    full = derive.derive(parameters.resolve({"N_scaling": 1, "K_scaling": 1, "background": "dc"}))
    assert f"{full['psc_ext_pA']:.2f} pA" in MODEL
    assert f"{int(full['num_synapses'].sum()):,} recurrent synapses" in MODEL
    assert f"{int(full['thalamic_synapses'].sum()):,}" in MODEL
    assert f"{round(full['dc_pA'][0]):.0f} pA (L23E)" in MODEL
    assert f"{round(full['dc_pA'][6]):.0f} pA (L6E)" in MODEL
    assert "doi.org/10.1093/cercor/bhs358" in MODEL


def docstrings(path):
    tree = ast.parse(path.read_text())
    nodes = [tree] + [n for n in ast.walk(tree) if isinstance(
        n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
    return [ast.get_docstring(n) or "" for n in nodes]


OUTSIDE = re.compile(r"\bshared/|\bseeds/|/work/|pd14_model_description")


@pytest.mark.parametrize("path", MARKDOWN + SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_path_outside_the_repository(path):
    texts = [path.read_text()] if path.suffix == ".md" else docstrings(path)
    for text in texts:
        assert not OUTSIDE.search(text), f"{path}: {OUTSIDE.search(text).group()}"


@pytest.mark.parametrize("path", MARKDOWN, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_stay_inside_and_exist(path):
    for target in re.findall(r"\]\(([^)\s]+)\)", path.read_text()):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue
        resolved = (path.parent / target.split("#")[0]).resolve()
        assert resolved.is_relative_to(ROOT), f"{path}: {target} leaves the repository"
        # generated study reports may be kept without their figures (one says so)
        if path.name != "report.md":
            assert resolved.exists(), f"{path}: {target} does not exist"
