"""Sphinx configuration of the pd14-pynn documentation site.

Build it from the repository root, with the package installed
(``pip install -e ".[docs]"``)::

    python -m sphinx -b html docs docs/_build/html

The pages are the Markdown files of docs/ (read by myst-parser); the API
reference is generated from the docstrings of ``pd14_pynn`` at every build
(autosummary, recursive: a new module appears without editing a list).
"""

import importlib.util
import os
import re
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))

project = "pd14-pynn"
author = "pd14-pynn developers"
copyright = "pd14-pynn developers"

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
]

source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = [
    "_build",
    # the raw output of a study: what its report pages show, not pages of their own
    "validation/**/*.json",
    # a superseded study kept as text only (its figures were not kept, its title
    # says so); docs/validation/README.md quotes its numbers
    "validation/dc02_neuron_uncorrected",
]

# Markdown: heading anchors for links like outputs.md#runs-that-stop-early
myst_heading_anchors = 4

# API reference: one page per module, its members documented on it
autosummary_generate = True
autosummary_imported_members = False
autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_member_order = "bysource"
autodoc_typehints = "description"
# a simulator that is not installed here is replaced by a stand-in (and so is
# PyNN's module for it), so the reference builds in an environment with only
# the docs extra
autodoc_mock_imports = [module for name in ("nest", "neuron", "brian2")
                        if importlib.util.find_spec(name) is None
                        for module in (name, f"pyNN.{name}")]

napoleon_google_docstring = False
napoleon_numpy_docstring = True

html_theme = "furo"
html_title = "pd14-pynn"


def _remove_generated_api(app):
    """Start the API pages afresh: a stub of a module that moved or was removed
    would otherwise stay in docs/api/ and fail the build."""
    shutil.rmtree(os.path.join(HERE, "api"), ignore_errors=True)


def _name_reports(app, docname, source):
    """A study's report pages all have the generator's title; on the site each
    is also named by its folder (``dc02: PD14 cross-simulator validation``)."""
    if docname.startswith("validation/") and docname.endswith(("/report", "/response")):
        folder = docname[len("validation/"):].rsplit("/", 1)[0]
        source[0] = re.sub(r"^# ", f"# {folder}: ", source[0], count=1, flags=re.MULTILINE)


def setup(app):
    # before autosummary writes the stubs (its handler has the default priority 500)
    app.connect("builder-inited", _remove_generated_api, priority=400)
    app.connect("source-read", _name_reports)
