"""Fairshare analysis engine: data model, statistics, access models, allocation and briefings.

Nothing in this package imports streamlit; the dashboard and the ``fairshare`` CLI both call it.
"""

__version__ = "0.1.0"
