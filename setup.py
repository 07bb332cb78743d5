"""Packaging glue that pyproject.toml cannot express: the embedded dataset in ``data/`` ships
inside the wheel as the package ``fairshare_data``, and ``.streamlit/config.toml`` as
``dashboard/settings/config.toml``, so a non-editable ``pip install .`` works without the
source tree. Metadata and dependencies are in pyproject.toml.

Folders holding only data (templates, dashboard views, the dataset's subfolders) are declared
as namespace packages so that setuptools copies them without warnings.
"""

from setuptools import find_namespace_packages, setup

CODE = find_namespace_packages(include=["analysis", "analysis.*", "dashboard", "dashboard.*"])
# the app's Streamlit settings travel with it; `fairshare dashboard` passes them as flags
SETTINGS = "dashboard.settings"
DATA = ["fairshare_data", *(f"fairshare_data.{name}" for name in find_namespace_packages("data"))]

setup(
    packages=[*CODE, SETTINGS, *DATA],
    package_dir={"fairshare_data": "data", SETTINGS: ".streamlit"},
    package_data={
        "analysis.briefing.templates": ["*.j2"],
        "analysis.learning.migrations": ["script.py.mako"],
        "dashboard.assets": ["*.png"],
        SETTINGS: ["config.toml"],
        **{name: ["*.parquet", "*.yaml", "*.json", "*.md"] for name in DATA},
    },
)
