"""Session state, URL state and cached access to the engine, shared by every page.

Caching rule: only shared, read-only data (the embedded packs, indicators and results computed
from them) are cached across sessions, keyed by their inputs. Anything a user uploads or
chooses lives in ``st.session_state`` or the URL, never in a cross-session cache.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd
import streamlit as st

from analysis.data import IndicatorMeta, IndicatorRegistry, geography
from analysis.explore import (
    HEADLINE_NEED,
    HEADLINE_PROVISION,
    AreaSummary,
    EquityPanel,
    MapLayer,
    deprivation_layer,
    equity_panel,
    indicator_choices,
    profile_table,
    study_area_frame,
    study_area_summary,
)

if TYPE_CHECKING:
    from analysis.explore.equity_charts import EquityCharts

DEFAULT_AREA = "E54000057"  # NHS Greater Manchester ICB
DEFAULT_NEED = HEADLINE_NEED
DEFAULT_PROVISION = HEADLINE_PROVISION
COUNTRY_LEVELS = {
    "england": ["country", "region", "icb", "sicbl", "ltla", "ward"],
    "scotland": ["country", "council", "iz11"],
}


@dataclass(frozen=True)
class StudyArea:
    """The area every page shows: its country, code (None = the whole country) and name."""

    country: str
    code: str | None
    name: str
    level: str

    @property
    def url_code(self) -> str:
        return self.code or geography.COUNTRY_CODES[self.country][0]


# -- cached engine calls (shared data only) ---------------------------------------------


@st.cache_resource(show_spinner=False)
def shared_registry() -> IndicatorRegistry:
    """The shipped indicator registry (read-only, shared by all sessions)."""
    return IndicatorRegistry()


@st.cache_data(show_spinner=False)
def areas_of(country: str, level: str) -> pd.DataFrame:
    return geography.list_areas(country, level)


@st.cache_data(show_spinner=False)
def summary_of(area_code: str | None, country: str) -> AreaSummary:
    return study_area_summary(area_code, country=country, registry=shared_registry())


# Map layers are cache_resource, not cache_data: every session gets the same read-only
# object (no pickled copy per rerun), so dashboard.components encodes its polygons to JSON
# once per process instead of on every rerun.
@st.cache_resource(show_spinner=False, max_entries=32)
def deprivation_map(country: str, area_code: str | None) -> MapLayer:
    return deprivation_layer(country, area_code, shared_registry())


# -- indicators uploaded in this session -------------------------------------------------
# Uploads live in st.session_state, and are kept for the browser (a random token in a
# cookie) under the per-user state folder ($FAIRSHARE_STATE_DIR, never data/), so a page
# reload brings them back until the analyst discards them. Results that involve them are
# computed for the session and never enter a cross-session cache.

BROWSER_COOKIE = "fairshare_browser"
COOKIE_DAYS = 30


def browser_token(*, create: bool = False) -> str | None:
    """This browser's token: the session's, else the cookie's, else (``create``) a new one
    that :func:`remember_browser` writes into a cookie."""
    from analysis.ingest import new_token, valid_token

    token = st.session_state.get("browser_token")
    if token:
        return token
    try:
        cookie = st.context.cookies.get(BROWSER_COOKIE)
    except Exception:  # noqa: BLE001 - no request context (bare runs, AppTest)
        cookie = None
    if valid_token(cookie):
        st.session_state["browser_token"] = cookie
        return cookie
    if not create:
        return None
    token = new_token()
    st.session_state["browser_token"] = token
    st.session_state["browser_cookie_pending"] = True
    return token


def remember_browser() -> None:
    """Write a new browser token into a first-party cookie (only once the analyst keeps an
    upload: no cookie otherwise)."""
    if not st.session_state.get("browser_cookie_pending"):
        return
    token = st.session_state["browser_token"]
    st.html(f'<script>document.cookie = "{BROWSER_COOKIE}={token}; path=/; '
            f'max-age={COOKIE_DAYS * 86400}; SameSite=Strict";</script>',
            unsafe_allow_javascript=True)


def session_uploads() -> dict:
    """Indicators this browser has uploaded (id → Indicator): those of this session, and on
    a new session (a reload) the ones kept for this browser."""
    uploads = st.session_state.get("uploaded_indicators")
    if uploads is not None:
        return uploads
    uploads = {}
    token = browser_token()
    if token:
        from analysis.ingest import load_uploads

        try:
            uploads, problems = load_uploads(token, reserved=set(shared_registry().ids()))
        except (OSError, ValueError) as exc:
            problems = [f"kept uploads could not be read: {exc}"]
        st.session_state["upload_store_problems"] = problems
    st.session_state["uploaded_indicators"] = uploads
    return uploads


def keep_upload(indicator) -> str | None:
    """Use an upload in this session and keep it for this browser; returns why it could
    only be kept for the session, if it could not be stored."""
    from analysis.ingest import StateDirError, save_upload

    session_uploads()[indicator.meta.id] = indicator
    st.session_state.pop("session_registry", None)  # rebuilt with the new upload
    try:
        save_upload(browser_token(create=True), indicator)
    except (StateDirError, OSError, ValueError) as exc:
        return str(exc)
    return None


def discard_session_upload(indicator_id: str) -> None:
    """Drop an upload from this session and from this browser's kept uploads."""
    from analysis.ingest import discard_upload

    session_uploads().pop(indicator_id, None)
    st.session_state.pop("session_registry", None)
    token = browser_token()
    if token:
        # nothing stored, or the store unusable (StateDirError is a ValueError): the session
        # copy is gone either way
        with contextlib.suppress(OSError, ValueError):
            discard_upload(token, indicator_id)


def kept_scenarios() -> list[str]:
    """Scenario JSON texts kept for comparison: this session's list, and on a new session (a
    reload) the list kept for this browser. The page edits the list, then calls
    :func:`store_kept_scenarios`."""
    kept = st.session_state.get("kept_scenarios")
    if kept is None:
        kept, token = [], browser_token()
        if token:
            from analysis.ingest import load_kept_scenarios

            try:
                kept, problems = load_kept_scenarios(token)
            except (OSError, ValueError) as exc:
                problems = [f"kept scenarios could not be read: {exc}"]
            st.session_state["kept_scenario_problems"] = problems
        st.session_state["kept_scenarios"] = kept
    return kept


def store_kept_scenarios() -> str | None:
    """Keep this session's comparison list for this browser; returns why it could only be
    kept for the session, if it could not be stored."""
    from analysis.ingest import StateDirError, save_kept_scenarios

    try:
        save_kept_scenarios(browser_token(create=True), kept_scenarios())
    except (StateDirError, OSError, ValueError) as exc:
        return str(exc)
    remember_browser()
    return None


def session_registry() -> IndicatorRegistry:
    """The shipped indicators plus this session's uploads (one registry per session)."""
    registry = st.session_state.get("session_registry")
    if registry is None:
        registry = IndicatorRegistry()
        st.session_state["session_registry"] = registry
    for indicator in session_uploads().values():
        if indicator.meta.id not in registry.ids():
            registry.add_session_indicator(indicator)
    return registry


def _uses_uploads(*indicator_ids: str) -> bool:
    uploads = session_uploads()
    return any(i in uploads for i in indicator_ids)


@st.cache_data(show_spinner=False, max_entries=64)
def _shared_area_frame(country: str, area_code: str | None, indicator_ids: tuple[str, ...]
                       ) -> pd.DataFrame:
    return study_area_frame(country, area_code, list(indicator_ids), shared_registry())


def area_frame(country: str, area_code: str | None, indicator_ids: tuple[str, ...]
               ) -> pd.DataFrame:
    if _uses_uploads(*indicator_ids):
        return study_area_frame(country, area_code, list(indicator_ids), session_registry())
    return _shared_area_frame(country, area_code, indicator_ids)


@st.cache_resource(show_spinner=False, max_entries=16)
def study_area_shapes(country: str, area_code: str | None):
    """Polygons of the study area (shared, read-only GeoDataFrame)."""
    return geography.select_study_area(country, area_code)


def _frame_for(country: str, area_code: str | None, indicator_ids: tuple[str, ...],
               registry: IndicatorRegistry) -> pd.DataFrame:
    # no session state inside a cross-session cache: the registry says which frame to use
    if registry is shared_registry():
        return _shared_area_frame(country, area_code, indicator_ids)
    return study_area_frame(country, area_code, list(indicator_ids), registry)


def _choropleth(country: str, area_code: str | None, indicator_id: str, scheme: str,
                classes: int, registry: IndicatorRegistry) -> MapLayer:
    from analysis.explore import choropleth_layer, person_counts
    from dashboard.errors import safe_decimals

    meta = registry.meta(indicator_id)
    frame = _frame_for(country, area_code, (indicator_id,), registry)
    return choropleth_layer(
        study_area_shapes(country, area_code), frame[indicator_id], title=meta.title,
        unit=meta.unit, higher_is_worse=meta.polarity != "higher_is_better", scheme=scheme,
        classes=classes, decimals=safe_decimals(meta.decimals),
        person_counts=person_counts(indicator_id, registry),
        extra={"d": frame["deprivation_decile"].astype("string").fillna("no data")})


@st.cache_resource(show_spinner=False, max_entries=64)
def _shared_choropleth(country: str, area_code: str | None, indicator_id: str, scheme: str,
                       classes: int) -> MapLayer:
    return _choropleth(country, area_code, indicator_id, scheme, classes, shared_registry())


def choropleth_of(country: str, area_code: str | None, indicator_id: str, scheme: str,
                  classes: int) -> MapLayer:
    """The map page's choropleth of one indicator (tooltips: value, deprivation decile),
    shared by every session for shipped indicators: one per area × indicator × scheme ×
    classes, its polygons encoded once."""
    if _uses_uploads(indicator_id):
        return _choropleth(country, area_code, indicator_id, scheme, classes,
                           session_registry())
    return _shared_choropleth(country, area_code, indicator_id, scheme, classes)


def _bivariate(country: str, area_code: str | None, need_id: str, provision_id: str,
               registry: IndicatorRegistry) -> MapLayer:
    from analysis.explore import bivariate_layer
    from dashboard.errors import safe_decimals

    need, provision = registry.meta(need_id), registry.meta(provision_id)
    frame = _frame_for(country, area_code, (need_id, provision_id), registry)
    return bivariate_layer(
        study_area_shapes(country, area_code), frame[need_id], frame[provision_id],
        frame["population"], need_title=need.title, provision_title=provision.title,
        need_higher_is_worse=need.polarity != "higher_is_better",
        provision_higher_is_better=provision.polarity != "higher_is_worse",
        need_decimals=safe_decimals(need.decimals),
        provision_decimals=safe_decimals(provision.decimals))


@st.cache_resource(show_spinner=False, max_entries=64)
def _shared_bivariate(country: str, area_code: str | None, need_id: str, provision_id: str
                      ) -> MapLayer:
    return _bivariate(country, area_code, need_id, provision_id, shared_registry())


def bivariate_of(country: str, area_code: str | None, need_id: str, provision_id: str
                 ) -> MapLayer:
    """The map page's need × provision layer, shared by every session for shipped
    indicators (one per area × need × provision)."""
    if _uses_uploads(need_id, provision_id):
        return _bivariate(country, area_code, need_id, provision_id, session_registry())
    return _shared_bivariate(country, area_code, need_id, provision_id)


@st.cache_data(show_spinner="Testing for the inverse care law…", max_entries=32)
def _shared_panel(country: str, area_code: str | None, need_id: str, provision_id: str
                  ) -> EquityPanel:
    return equity_panel(country, area_code, need_id, provision_id, shared_registry())


def panel_of(country: str, area_code: str | None, need_id: str, provision_id: str
             ) -> EquityPanel:
    if _uses_uploads(need_id, provision_id):
        return equity_panel(country, area_code, need_id, provision_id, session_registry())
    return _shared_panel(country, area_code, need_id, provision_id)


def _equity_charts(country: str, area_code: str | None, need_id: str, provision_id: str,
                   registry: IndicatorRegistry) -> EquityCharts:
    from analysis.explore.equity_charts import equity_charts

    panel = panel_of(country, area_code, need_id, provision_id)
    return equity_charts(panel, registry.meta(need_id), registry.meta(provision_id))


@st.cache_resource(show_spinner=False, max_entries=32)
def _shared_equity_charts(country: str, area_code: str | None, need_id: str,
                          provision_id: str) -> EquityCharts:
    return _equity_charts(country, area_code, need_id, provision_id, shared_registry())


def equity_charts_of(country: str, area_code: str | None, need_id: str, provision_id: str
                     ) -> EquityCharts:
    """The inverse care law page's charts, shared by every session for shipped indicators:
    the same read-only objects on every rerun, so that each is converted for drawing once
    (:func:`dashboard.components.drawn_chart`)."""
    if _uses_uploads(need_id, provision_id):
        return _equity_charts(country, area_code, need_id, provision_id, session_registry())
    return _shared_equity_charts(country, area_code, need_id, provision_id)


@st.cache_data(show_spinner="Building the area profile…", max_entries=32)
def profile_of(area_code: str) -> pd.DataFrame:
    return profile_table(area_code, shared_registry())


def choices(country: str, kinds: tuple[str, ...] | None = None) -> list[IndicatorMeta]:
    """Mappable indicators, this session's uploads included."""
    return indicator_choices(session_registry(), country, kinds)


# -- state that survives page switches and lives in the URL -----------------------------


def keep(key: str) -> None:
    """on_change callback: copy a widget's value somewhere page switches don't clear."""
    st.session_state[f"keep_{key}"] = st.session_state[key]


def restore(key: str, options: list, default) -> None:
    """Give a keyed widget its remembered value, else the URL's, else ``default``."""
    remembered = st.session_state.get(f"keep_{key}")
    from_url = st.query_params.get(key)
    for candidate in (st.session_state.get(key), remembered, from_url, default):
        if candidate in options:
            st.session_state[key] = candidate
            return
    st.session_state[key] = options[0]


def url_select(label: str, options: list, key: str, default, *, format_func=str,
               sidebar: bool = False, help: str | None = None):
    """A selectbox whose value survives page switches and is mirrored in ``?key=``."""
    restore(key, options, default)
    box = st.sidebar if sidebar else st
    value = box.selectbox(label, options, key=key, format_func=format_func,
                          on_change=keep, args=(key,), help=help)
    st.session_state[f"keep_{key}"] = value
    st.query_params[key] = value
    return value


def url_slider(label: str, low: int, high: int, key: str, default: int, *,
               help: str | None = None) -> int:
    """An integer slider whose value survives page switches and is mirrored in ``?key=``
    (a value in the URL outside ``low``–``high``, or not a whole number, is ignored)."""
    text = st.query_params.get(key, "")
    from_url = int(text) if text.isdigit() else None
    options = list(range(low, high + 1))
    restore(key, options, default if from_url not in options else from_url)
    value = st.slider(label, low, high, key=key, on_change=keep, args=(key,), help=help)
    st.session_state[f"keep_{key}"] = value
    st.query_params[key] = str(value)
    return value


def url_toggle(label: str, key: str, *, default: bool = False,
               help: str | None = None) -> bool:
    """A toggle whose state survives page switches and is in the URL (``?key=1`` or
    ``?key=0``) whenever it differs from ``default``, so that a shared link shows the same
    layers."""
    from_url = {"1": True, "0": False}.get(st.query_params.get(key, ""))
    restore(key, [True, False], default if from_url is None else from_url)
    value = st.toggle(label, key=key, on_change=keep, args=(key,), help=help)
    st.session_state[f"keep_{key}"] = value
    if value == default:
        st.query_params.pop(key, None)
    else:
        st.query_params[key] = "1" if value else "0"
    return bool(value)


@st.cache_data(show_spinner=False, max_entries=4096)
def _resolved(code: str) -> geography.AreaRef:
    # every rerun of every page resolves the study area's code (a search through each level)
    return geography.resolve_area(code)


def _initial_area() -> geography.AreaRef:
    code = st.session_state.get("keep_area") or st.query_params.get("area") or DEFAULT_AREA
    try:
        return _resolved(code)
    except geography.UnknownAreaError as exc:  # not cached: st.cache_data keeps no errors
        st.warning(str(exc))
        return _resolved(DEFAULT_AREA)


@st.cache_data(show_spinner=False, max_entries=256)
def area_search(query: str) -> list:
    """Search results of the sidebar search box (shared data only)."""
    from analysis.data import search_areas

    return search_areas(query, limit=10)


@st.cache_resource(show_spinner=False, max_entries=64)
def _picker_choices(country: str, level: str, small_area: str | None
                    ) -> tuple[list[str], dict[str, str], dict[str, str]]:
    """The area picker's codes, names and labels ("Wigan (E08000010)") for one level (for
    the small-area level, those beside ``small_area``): built once per process and shared
    read-only, not rebuilt from a pickled table on every rerun of every session."""
    areas = (small_area_options(country, small_area) if small_area is not None
             else areas_of(country, level))
    names = dict(zip(areas["code"], areas["name"], strict=True))
    return (areas["code"].tolist(), names,
            {code: f"{name} ({code})" for code, name in names.items()})


@st.cache_data(show_spinner=False, max_entries=64)
def small_area_options(country: str, code: str) -> pd.DataFrame:
    """The small areas (code, name) beside ``code`` in its ward / intermediate zone: what the
    picker offers when search opened a small area (never all 33,755 LSOAs)."""
    spec = geography.spec_for(country)
    table = geography.load_pack_table(country)
    parent = spec.levels[1].code_column
    rows = table[table[parent] == table.at[code, parent]]
    out = pd.DataFrame({"code": rows[spec.small_area.code_column].astype(str).to_numpy(),
                        "name": rows[spec.small_area.name_column].astype(str).to_numpy()})
    return out.sort_values("name", kind="stable").reset_index(drop=True)


def _open_search_result() -> None:
    """on_change of the search results: make the picked area the study area by setting the
    picker's own keys (country, level, area), as if it had been chosen there."""
    code = st.session_state.get("area_search_pick")
    match = next((m for m in st.session_state.get("area_search_results", [])
                  if m.code == code and m.is_area), None)
    if match is None:
        return
    level_key = f"level_{match.country}"
    area_key = f"area_{match.country}_{match.level}"
    for key, value in (("country", match.country), (level_key, match.level),
                       (area_key, match.code)):
        st.session_state[key] = value
        st.session_state[f"keep_{key}"] = value
    st.session_state["keep_area"] = match.code
    if match.postcode:
        st.session_state["area_search_postcode"] = (match.postcode, match.code, match.note)
    st.session_state["area_search"] = ""
    st.session_state["area_search_pick"] = None


def _area_search_box() -> None:
    """Sidebar: one box that finds an area by place name, code or postcode."""
    from dashboard.components import plain

    query = st.sidebar.text_input(
        "Find an area", key="area_search", placeholder="Place, code or postcode",
        help="A place name (Wigan), a GSS code (E08000010), an NHS code (QOP) or a postcode "
             "(WN1 1AA): a postcode opens its LSOA or data zone.")
    if query.strip():
        matches = area_search(query.strip())
        st.session_state["area_search_results"] = matches
        areas = [m for m in matches if m.is_area]
        for m in matches:
            if not m.is_area:
                st.sidebar.caption(plain(m.note))
        if areas:
            labels = {m.code: m.label() for m in areas}
            st.sidebar.selectbox(f"{len(areas)} result(s)", list(labels), index=None,
                                 key="area_search_pick", format_func=labels.get,
                                 placeholder="Pick a result", on_change=_open_search_result)
        elif not matches:
            st.sidebar.caption(plain(f"Nothing matches {query.strip()}."))
    opened = st.session_state.get("area_search_postcode")
    if opened and opened[1] == st.session_state.get("keep_area"):
        from analysis.data import POSTCODE_ATTRIBUTION

        note = f" ({opened[2]})" if opened[2] else ""
        st.sidebar.caption(plain(f"Postcode {opened[0]}{note}. {POSTCODE_ATTRIBUTION}"))


def study_area_picker() -> StudyArea:
    """Sidebar: search box, then country → level → area. The choice is kept in the session
    and the URL."""
    st.sidebar.header("Study area")
    _area_search_box()
    ref = _initial_area()
    countries = list(geography.PACKS)
    if "country" not in st.session_state:
        st.session_state["country"] = st.session_state.get("keep_country", ref.country)
    country = st.sidebar.radio("Country", countries, key="country", horizontal=True,
                               format_func=lambda c: geography.PACKS[c].label,
                               on_change=keep, args=("country",))
    spec = geography.spec_for(country)
    levels = COUNTRY_LEVELS[country]
    small = spec.small_area.key
    if ref.country == country and ref.level == small:
        # only a search (or a URL) opens a small area; the picker then offers that level
        levels = [*levels, small]
    ref_level = ref.level if ref.country == country and ref.level in levels else None
    level_key = f"level_{country}"
    if level_key not in st.session_state or ref_level and "keep_area" not in st.session_state:
        st.session_state[level_key] = st.session_state.get(f"keep_{level_key}",
                                                           ref_level or "country")
    if st.session_state[level_key] not in levels:
        st.session_state[level_key] = ref_level or "country"
    level = st.sidebar.selectbox("Level", levels, key=level_key,
                                 format_func=lambda k: spec.level(k).label,
                                 on_change=keep, args=(level_key,))
    if level == "country":
        code, name = None, geography.COUNTRY_CODES[country][1]
    else:
        options, names, labels = _picker_choices(country, level,
                                                 ref.code if level == small else None)
        area_key = f"area_{country}_{level}"
        preferred = ref.code if ref.code in names else None
        if st.session_state.get(area_key) not in names:
            kept = st.session_state.get(f"keep_{area_key}")
            st.session_state[area_key] = kept if kept in names else preferred or options[0]
        code = st.sidebar.selectbox(spec.level(level).label, options, key=area_key,
                                    format_func=labels.__getitem__,
                                    on_change=keep, args=(area_key,))
        name = names[code]
    area = StudyArea(country, code, name, level)
    st.session_state["keep_area"] = area.url_code
    st.query_params["area"] = area.url_code
    return area


def _clusters(country: str, area_code: str | None, need_id: str, provision_id: str,
              registry: IndicatorRegistry) -> pd.DataFrame:
    from analysis.explore import need_provision_clusters

    result = need_provision_clusters(country, area_code, need_id, provision_id, registry)
    table = result.table[["cluster", "p_value"]].copy()
    table.attrs["permutations"] = result.permutations
    return table


@st.cache_data(show_spinner="Finding spatial clusters…", max_entries=16)
def _shared_clusters(country: str, area_code: str | None, need_id: str, provision_id: str
                     ) -> pd.DataFrame:
    return _clusters(country, area_code, need_id, provision_id, shared_registry())


def clusters_of(country: str, area_code: str | None, need_id: str, provision_id: str
                ) -> pd.DataFrame:
    """Cluster label per small area (and the permutations used) for the LISA map."""
    if _uses_uploads(need_id, provision_id):
        return _clusters(country, area_code, need_id, provision_id, session_registry())
    return _shared_clusters(country, area_code, need_id, provision_id)


def _cluster_layer(country: str, area_code: str | None, clusters: pd.DataFrame) -> MapLayer:
    from analysis.explore import build_layer, cluster_legend
    from analysis.stats import CLUSTER_LABELS

    shapes = study_area_shapes(country, area_code).loc[clusters.index]
    labels = clusters["cluster"].astype(str)
    attributes = pd.DataFrame({
        "c": shapes.index.astype(str), "n": shapes.iloc[:, 1].astype(str), "l": labels,
        "k": labels.map({label: i for i, label in enumerate(CLUSTER_LABELS)}).fillna(-1)
        .astype(int)}, index=shapes.index)
    return build_layer(shapes, attributes, legend=cluster_legend(CLUSTER_LABELS,
                                                                 labels.value_counts()),
                       title="Cluster", alt_text="Map of cluster types", detail_columns=("n",))


@st.cache_resource(show_spinner=False, max_entries=16)
def _shared_cluster_layer(country: str, area_code: str | None, need_id: str,
                          provision_id: str) -> MapLayer:
    return _cluster_layer(country, area_code,
                          _shared_clusters(country, area_code, need_id, provision_id))


def cluster_map_of(country: str, area_code: str | None, need_id: str, provision_id: str
                   ) -> MapLayer:
    """The LISA cluster map of the inverse-care page (legend counts per cluster type),
    shared by every session for shipped indicators, its polygons encoded once."""
    if _uses_uploads(need_id, provision_id):
        return _cluster_layer(country, area_code,
                              clusters_of(country, area_code, need_id, provision_id))
    return _shared_cluster_layer(country, area_code, need_id, provision_id)


@st.cache_data(show_spinner=False, max_entries=32)
def _shared_funnel(country: str, area_code: str | None, indicator_id: str):
    from analysis.explore import indicator_funnel

    return indicator_funnel(country, area_code, indicator_id, shared_registry())


def funnel_of(country: str, area_code: str | None, indicator_id: str):
    if _uses_uploads(indicator_id):
        from analysis.explore import indicator_funnel

        return indicator_funnel(country, area_code, indicator_id, session_registry())
    return _shared_funnel(country, area_code, indicator_id)


@st.cache_data(show_spinner=False)
def scenario_files() -> dict[str, str]:
    """The ready-made scenarios shipped in ``data/scenarios`` (name → JSON text)."""
    from analysis.data import data_dir

    folder = data_dir() / "scenarios"
    return {path.stem: path.read_text(encoding="utf-8")
            for path in sorted(folder.glob("*.json"))}


@st.cache_data(show_spinner="Solving the allocation…", max_entries=16)
def _shared_allocation(scenario_json: str):
    from analysis.allocation import Scenario, allocate

    return allocate(Scenario.from_json(scenario_json), registry=shared_registry())


def allocation_of(scenario_json: str, indicator_ids: tuple[str, ...] = ()):
    """Run a scenario given as JSON text (the cache key is the full scenario); scenarios
    that use this session's uploads are solved for the session only."""
    if _uses_uploads(*indicator_ids):
        from analysis.allocation import Scenario, allocate

        return allocate(Scenario.from_json(scenario_json), registry=session_registry())
    return _shared_allocation(scenario_json)


def small_area_changes_of(result):
    """Each small area with its area's change, and the polygons to draw them."""
    from analysis.allocation import small_area_changes

    changes = small_area_changes(result)
    shapes = study_area_shapes("england", None).loc[changes.index]
    return changes, shapes


@st.cache_data(show_spinner="Writing the briefing…", max_entries=16)
def briefing_file(area_code: str, fmt: str) -> bytes:
    """The equity briefing of an area (shared data only, so safe to share between sessions)."""
    from analysis.briefing import briefing_bytes

    return briefing_bytes(area_code, fmt, registry=shared_registry())


def briefing_downloads(area: StudyArea) -> None:
    """Sidebar buttons for the equity briefing of the area in view (made when pressed)."""
    from analysis.data import COUNTRY_CODES

    if area.code is None or area.code in {code for code, _ in COUNTRY_CODES.values()}:
        st.sidebar.caption("Briefings are written for a region, ICB, council or smaller area.")
        return
    st.sidebar.subheader("Equity briefing")
    stem = f"fairshare-briefing-{area.code}"
    mimes = {"pdf": "application/pdf", "html": "text/html",
             "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}
    for fmt, mime in mimes.items():
        st.sidebar.download_button(
            f"Briefing for {area.name} ({fmt.upper()})",
            lambda fmt=fmt: briefing_file(area.code, fmt),
            file_name=f"{stem}.{fmt}", mime=mime, key=f"briefing_{fmt}")


def need_provision_pickers(country: str, need_ids: list[str], provision_ids: list[str],
                           titles: dict[str, str], provision_label: str = "Provision"
                           ) -> tuple[str, str]:
    """Side-by-side need and provision selectors, kept in ``?need=`` and ``?prov=``."""
    left, right = st.columns(2)
    with left:
        need_id = url_select("Need", need_ids, "need", DEFAULT_NEED[country],
                             format_func=titles.get)
    with right:
        provision_id = url_select(provision_label, provision_ids, "prov",
                                  DEFAULT_PROVISION.get(country, provision_ids[0]),
                                  format_func=titles.get)
    return need_id, provision_id
