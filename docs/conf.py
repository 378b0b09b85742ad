"""Sphinx configuration of the pd14-pynn documentation site.

Build it from the repository root (with ``pip install -e ".[docs]"``)::

    python -m sphinx -b html docs docs/_build/html

The pages are the Markdown files of docs/ (read by myst-parser); the API
reference is generated from the docstrings of ``pd14_pynn`` at every build
(autosummary, recursive: a new module appears without editing a list).
"""

import importlib.util
import logging
import os
import re
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
# the package as it is in this checkout, installed or not
sys.path.insert(0, ROOT)

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


#: Docstring warnings of modules that other branches are moving now (issue 25):
#: printed, but they do not fail the build. (path of the module, start of the
#: message); remove an entry once its docstring is fixed. A module that moves
#: leaves its entry behind, so its warnings count again in its new place.
PENDING_WARNINGS = (
    ("pd14_pynn/areas.py", "Field list ends without a blank line"),
    ("pd14_pynn/network.py", "Field list ends without a blank line"),
)


class _PendingWarnings(logging.Filter):
    def filter(self, record):
        where = str(getattr(record, "location", "") or "").replace(os.sep, "/")
        text = record.getMessage()
        for path, start in PENDING_WARNINGS:
            if path in where and text.startswith(start):
                print(f"{where}: pending warning (not counted): {text}", file=sys.stderr)
                return False
        return True


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
    # before Sphinx counts the warning or turns it into an error (-W)
    from sphinx.util.logging import WarningStreamHandler
    for handler in logging.getLogger("sphinx").handlers:
        if isinstance(handler, WarningStreamHandler):
            handler.filters.insert(0, _PendingWarnings())
    # before autosummary writes the stubs (its handler has the default priority 500)
    app.connect("builder-inited", _remove_generated_api, priority=400)
    app.connect("source-read", _name_reports)
