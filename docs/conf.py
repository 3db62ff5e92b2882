"""Sphinx configuration for the airflow-provider-hopsjobs documentation site.

Built with warnings as errors by the test suite (``tests/test_docs.py``)::

    sphinx-build -W --keep-going -n -b html docs docs/_build/html

Only Sphinx itself is needed: the built-in ``alabaster`` theme and ``sphinx.ext.autodoc``
(docstrings use reST ``:param:`` fields, so no napoleon).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# Importing the operators imports Airflow, which reads its settings on first import and makes
# ``$AIRFLOW_HOME/logs``: without an ``AIRFLOW_HOME`` of the caller's, a docs build gets a
# throw-away one instead of creating ``~/airflow``.
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="hopsjobs-docs-airflow-"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")

from airflow_provider_hopsjobs import __version__  # noqa: E402

project = "airflow-provider-hopsjobs"
author = "airflow-provider-hopsjobs contributors"
copyright = "2026, " + author
release = __version__
version = __version__

extensions = ["sphinx.ext.autodoc"]
exclude_patterns = ["_build"]
html_theme = "alabaster"
html_theme_options = {"description": "Run Hopsworks jobs from Apache Airflow 3", "fixed_sidebar": True}
html_static_path: list[str] = []

autodoc_member_order = "bysource"
autodoc_typehints = "signature"
# The constructor's signature apart from the class: its annotations are then resolved in the module.
autodoc_class_signature = "separated"
autodoc_inherit_docstrings = False  # not Airflow's "Derive when creating an operator" on every execute()
# Airflow's BaseOperator metaclass gives every operator a ``__new__`` that says nothing.
autodoc_default_options = {"show-inheritance": True, "exclude-members": "__new__"}

# Cross-references are checked (``-n``). The build must work offline (CI reaches only package
# registries), so there is no intersphinx: types from the standard library, Airflow, pendulum,
# requests and pytest that appear in signatures cannot be linked and are ignored here, by module
# prefix. Bare names are annotations autodoc cannot qualify: ``Context`` and ``PokeReturnValue``
# (Airflow, imported under TYPE_CHECKING), ``Timezone``/``FixedTimezone`` (pendulum), ``Logger``
# (logging, from Airflow's LoggingMixin).
nitpick_ignore_regex = [
    (
        "py:(class|exc|obj|mod)",
        r"(collections\.abc|datetime|os|enum|logging|requests|airflow|pendulum|_pytest)\..*",
    ),
    ("py:class", r"Context|PokeReturnValue|Timezone|FixedTimezone|Logger"),
]
