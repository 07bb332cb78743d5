"""What a page says when it cannot be drawn, and when an indicator has nothing to show.

``dashboard/app.py`` runs every page inside :func:`page_boundary`: any exception a page
raises is logged server-side with its traceback and shown to the user as one clear
sentence (what failed, what to do) — never as a traceback. Streamlit's own control flow
(``st.stop()``, ``st.rerun()``, ``st.switch_page()``) raises exceptions too; those pass
through untouched.

The message and the "where does this indicator have values?" logic are pure functions,
tested without Streamlit.
"""

from __future__ import annotations

import contextlib
import logging
import math
import re
from collections.abc import Iterator

import pandas as pd

from analysis.data import (
    DataFileError,
    EmptySelectionError,
    IndicatorError,
    UnknownAreaError,
    load_pack_table,
    spec_for,
)

logger = logging.getLogger("fairshare.dashboard")

#: Errors whose message is written for the user (it names the file, area or field).
EXPLAINED: tuple[type[BaseException], ...] = (
    DataFileError, IndicatorError, UnknownAreaError, EmptySelectionError)
#: Where an indicator without values in the study area is offered instead.
OFFER_LEVELS = {"england": ("ltla", "icb"), "scotland": ("council",)}
MAX_CAUSE = 400
#: Decimal places a page ever asks for (as ``analysis.numbers.format_number`` clamps).
MAX_DECIMALS_SHOWN = 6


def is_control_flow(exc: BaseException) -> bool:
    """Whether ``exc`` is Streamlit's own control flow (``st.stop``, ``st.rerun``,
    ``st.switch_page``), which must reach Streamlit unchanged."""
    from streamlit.runtime.scriptrunner_utils.exceptions import ScriptControlException

    return isinstance(exc, ScriptControlException)


def one_line(text: object, limit: int = MAX_CAUSE) -> str:
    """Text on one line, at most ``limit`` characters (cut with an ellipsis)."""
    flat = re.sub(r"\s+", " ", str(text)).strip()
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def cause_of(exc: BaseException) -> str:
    """The one-line cause shown to the user: the message of an error written for users
    (a missing or damaged file, an unknown area), else the error's kind and message."""
    if isinstance(exc, EXPLAINED):
        return one_line(exc).rstrip(".") or type(exc).__name__
    message = one_line(exc.args[0] if isinstance(exc, KeyError) and exc.args else exc)
    return f"{type(exc).__name__}: {message}".rstrip(".") if message else type(exc).__name__


def page_error_message(exc: BaseException, *, area: str | None = None,
                       page: str | None = None) -> str:
    """What the user reads when a page fails: what could not be drawn, the one-line cause,
    and what to do. Never a traceback (that goes to the server log)."""
    what = f"The {page} page" if page else "This page"
    where = f" for {one_line(area, 120)}" if area else ""
    cause = cause_of(exc)
    if isinstance(exc, DataFileError):
        todo = ("Other pages and indicators still work; try another indicator or area. "
                "The error has been logged.")
    else:
        todo = "Try another indicator or area; the error has been logged."
    return f"{what} could not be drawn{where}: {cause}. {todo}"


def markdown_text(text: str) -> str:
    """Text for ``st.error`` and friends shown as written: Markdown and HTML escaped like
    :func:`dashboard.components.plain`, except ``_`` (an underscore inside a word, as in a
    file or indicator name, never starts emphasis in CommonMark, and escaping it would show
    ``imd2025\\_decile``) and a colon before a space (Streamlit's ``:red[…]`` and
    ``:emoji:`` directives need a word right after the colon)."""
    from dashboard.components import plain

    return re.sub(r"\\:(?=\s|$)", ":", plain(text).replace("\\_", "_"))


@contextlib.contextmanager
def page_boundary(*, area: str | None = None, page: str | None = None) -> Iterator[None]:
    """Run a page: an exception is logged with its traceback and shown as one clear
    sentence (:func:`page_error_message`); Streamlit's control flow passes through."""
    import streamlit as st

    try:
        yield
    except BaseException as exc:
        if is_control_flow(exc) or not isinstance(exc, Exception):
            raise  # st.stop/st.rerun/st.switch_page, KeyboardInterrupt, SystemExit
        area_name = area
        study = st.session_state.get("study_area")
        if area_name is None and study is not None:
            area_name = getattr(study, "name", None)
        logger.error("Page %r failed for %r", page, area_name, exc_info=exc)
        st.error(markdown_text(page_error_message(exc, area=area_name, page=page)))


def safe_decimals(decimals: object, default: int = 1) -> int:
    """Decimal places a page can format with: a whole number from 0 to 6 (negative, huge,
    fractional or non-numeric metadata would make a format string fail or exhaust
    memory); ``default`` when it is not a number at all."""
    if isinstance(decimals, bool):
        return default
    try:
        number = float(decimals)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return default
    if not math.isfinite(number):
        return MAX_DECIMALS_SHOWN if number > 0 else 0
    return int(min(max(int(number), 0), MAX_DECIMALS_SHOWN))


def areas_with_values(values: pd.Series, country: str, *, levels: tuple[str, ...] | None = None,
                      limit: int = 6) -> pd.DataFrame:
    """Where an indicator has values: the areas of ``levels`` (England: local authorities
    and ICBs; Scotland: council areas) with the most small areas that have a value.

    ``values`` is indexed by small-area code (NaN = no value). Columns: ``level``,
    ``level_label``, ``code``, ``name``, ``with_values``, ``small_areas``; at most ``limit``
    rows a level, the best covered first.
    """
    spec = spec_for(country)
    table = load_pack_table(country)
    present = values.dropna().index
    has = pd.Series(table.index.isin(present), index=table.index)
    parts = []
    for key in levels or OFFER_LEVELS[country]:
        level = spec.level(key)
        grouped = has.groupby([table[level.code_column], table[level.name_column]],
                              observed=True, sort=False).agg(["sum", "size"]).reset_index()
        grouped.columns = ["code", "name", "with_values", "small_areas"]
        grouped = grouped[grouped["with_values"] > 0]
        grouped = grouped.sort_values(["with_values", "name"], ascending=[False, True],
                                      kind="stable").head(limit)
        parts.append(grouped.assign(level=key, level_label=level.plural))
    columns = ["level", "level_label", "code", "name", "with_values", "small_areas"]
    if not parts:
        return pd.DataFrame(columns=columns)
    out = pd.concat(parts, ignore_index=True)[columns]
    return out.astype({"code": str, "name": str, "with_values": int, "small_areas": int})


def no_values_message(title: str, area: str, areas: pd.DataFrame, country: str) -> str:
    """ "<indicator> has no values in <area>" and where it does have values, in words."""
    head = f"{one_line(title, 160)} has no values in {one_line(area, 120)}"
    if areas.empty:
        return (f"{head}, nor anywhere else in {spec_for(country).label}: its data file has "
                "no value for any small area. Choose another indicator.")
    parts = []
    for label, rows in areas.groupby("level_label", sort=False):
        named = ", ".join(f"{r.name} ({r.code})" for r in rows.itertuples())
        parts.append(f"{label}: {named}")
    return (f"{head}. It has values in these {' and in these '.join(parts)}. Choose one of "
            "them as the study area below, or choose another indicator.")


def require_values(area, frame: pd.DataFrame, metas, registry, *, key: str) -> None:
    """Stop the page (``st.stop()``) after saying so if any of the indicators ``metas`` has
    no value in the study area's ``frame`` (a column per indicator id), offering the areas
    where it has values (:func:`dashboard.components.no_values_notice`)."""
    import streamlit as st

    from dashboard.components import no_values_notice

    for meta in metas:
        if meta.id in frame.columns and frame[meta.id].isna().all():
            no_values_notice(meta.title, area, registry.get(meta.id).values,
                             key=f"{key}_{meta.id}")
            st.stop()
