"""No page shows a traceback: every page opened with each kind of damaged, empty or odd
indicator, and at every geography level of both countries with the default indicators.

Damaged files are made in a private copy of the data (``data_copy``): a truncated
``data.parquet``, one with the wrong columns, one swapped for another indicator's (caught
by its checksum), and an indicator with values only in Wigan viewed from Leeds. Odd
metadata (``decimals: -1`` or a billion) arrives as a session upload, since the registry
refuses such YAML. Each test opens all nine pages in one session (the pages share caches,
as they do for a user), so the file stays within a few minutes on two cores.
"""

from __future__ import annotations

import shutil
from dataclasses import replace

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from analysis.data import Indicator, IndicatorMeta, load_pack_table
from analysis.data.integrity import record_checksums
from dashboard.errors import (
    areas_with_values,
    cause_of,
    is_control_flow,
    no_values_message,
    page_error_message,
    safe_decimals,
)
from tests.conftest import REPO

APP = str(REPO / "dashboard" / "app.py")
PAGES = ["overview", "map", "inverse_care", "gp_funding", "profile", "allocation",
         "add_data", "learning", "audit"]
# pages that draw the headline need indicator (IMD 2025 score) by default
USES_NEED = {"overview", "map", "inverse_care", "profile"}
NEED = "imd2025_score"


def visit(area: str, pages=PAGES, *, session: dict | None = None, **params: str
          ) -> dict[str, AppTest]:
    """Open every page in one session; each page's AppTest state right after it ran (the
    same object: read what you need before the next page)."""
    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params["area"] = area
    for key, value in params.items():
        at.query_params[key] = value
    for key, value in (session or {}).items():
        at.session_state[key] = value
    seen: dict[str, dict] = {}
    for page in pages:
        if page == "overview":
            at.run()
        else:
            at.switch_page(f"views/{page}.py").run()
        assert not at.exception, (page, [e.value for e in at.exception])
        seen[page] = {
            "errors": [e.value for e in at.error],
            "warnings": [w.value for w in at.warning],
            "titles": [t.value for t in at.title],
            "buttons": [b.label for b in at.button],
        }
    seen["at"] = at  # type: ignore[assignment]
    return seen  # type: ignore[return-value]


def damage(folder, kind: str) -> None:
    path = folder / "indicators" / NEED / "data.parquet"
    if kind == "truncated":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif kind == "wrong_columns":
        pd.read_parquet(path).rename(columns={"area_code": "code", "value": "score"}).to_parquet(
            path, index=False)
    elif kind == "swapped":
        record_checksums(folder)  # as the shipped manifest does
        shutil.copyfile(folder / "indicators" / "census2021_disabled_pct" / "data.parquet",
                        path)
    else:
        raise ValueError(kind)


CAUSES = {
    "truncated": "indicator data unreadable",
    "wrong_columns": "missing column(s) area_code, value",
    "swapped": "does not match its recorded checksum",
}


@pytest.mark.parametrize("kind", list(CAUSES))
def test_every_page_with_a_damaged_indicator_file(data_copy, kind):
    damage(data_copy, kind)
    seen = visit("E08000010")
    for page in PAGES:
        errors = " ".join(seen[page]["errors"])
        if page in USES_NEED:
            assert "could not be drawn for Wigan" in errors, (page, errors)
            assert f"{NEED}/data.parquet" in errors and CAUSES[kind] in errors, (page, errors)
            assert "Traceback" not in errors
        else:
            assert NEED not in errors, (page, errors)  # pages that don't use it still work
    assert seen["profile"]["titles"] == ["Area profile: Wigan"]  # drawn around the error


def keep_only_wigan(folder, indicator_id: str) -> None:
    """A legitimate dataset in which an indicator has values only in Wigan's LSOAs."""
    codes = load_pack_table("england").query("ltla_code == 'E08000010'").index
    path = folder / "indicators" / indicator_id / "data.parquet"
    data = pd.read_parquet(path)
    data[data["area_code"].isin(codes)].to_parquet(path, index=False)
    record_checksums(folder)


def test_every_page_with_an_indicator_empty_in_the_study_area(data_copy):
    keep_only_wigan(data_copy, NEED)
    seen = visit("E08000035")  # Leeds
    for page in PAGES:
        assert not seen[page]["errors"], (page, seen[page]["errors"])
    for page in USES_NEED:
        warnings = " ".join(seen[page]["warnings"])
        assert "Index of Multiple Deprivation 2025" in warnings, (page, warnings)
        assert "has no values in Leeds" in warnings, (page, warnings)
        assert "local authorities: Wigan (E08000010)" in warnings, (page, warnings)
        assert "ICBs: NHS Greater Manchester Integrated Care Board (E54000057)" in warnings
        assert "Show Wigan" in seen[page]["buttons"], page
    # offered areas are one click away
    at = seen["at"]
    at.switch_page("views/map.py").run()
    next(b for b in at.button if b.label == "Show Wigan").click().run()
    assert not at.exception
    assert at.title[0].value == "Map: Wigan"
    assert at.query_params["area"] == "E08000010"
    assert not at.warning


def upload(indicator_id: str, codes, values, *, decimals: int, kind: str = "need"
           ) -> Indicator:
    meta = IndicatorMeta.from_mapping({
        "id": indicator_id, "title": f"Upload {indicator_id}", "description": "A test.",
        "unit": "score", "kind": kind, "polarity": "higher_is_worse", "period": "2024",
        "geography": "lsoa21", "licence": "OGL", "source": "test"})
    # replace() skips the metadata checks, as an indicator built in code (or kept by an older
    # version) might
    return Indicator(replace(meta, decimals=decimals),
                     pd.DataFrame({"area_code": list(codes), "value": values}))


def test_odd_decimals_and_empty_uploads_on_every_page():
    codes = load_pack_table("england").query("ltla_code == 'E08000010'").index
    uploads = {
        "minus_one": upload("minus_one", codes, range(len(codes)), decimals=-1),
        "huge": upload("huge", codes, [v / 7 for v in range(len(codes))], decimals=10**9),
        "no_values": upload("no_values", codes, [float("nan")] * len(codes), decimals=1),
    }
    seen = visit("E08000010", session={"uploaded_indicators": uploads}, ind="minus_one",
                 need="huge")
    for page in PAGES:
        assert not seen[page]["errors"], (page, seen[page]["errors"])
    at = seen["at"]
    at.switch_page("views/map.py").run()
    legend = " ".join(m.value for m in at.markdown if "fs-legend" in m.value)
    assert "0 to " in legend and "0.0" not in legend  # decimals -1 shown as 0
    at.selectbox(key="ind").set_value("huge").run()
    assert not at.exception
    legend = " ".join(m.value for m in at.markdown if "fs-legend" in m.value)
    assert "0.000000 to " in legend  # a billion decimals shown as 6
    at.selectbox(key="ind").set_value("no_values").run()
    assert not at.exception
    assert "nor anywhere else in England" in at.warning[0].value


# -- every level of both countries, default indicators ------------------------------------

LEVELS = {
    "England, ward": "E05014989",
    "England, local authority": "E08000010",
    "England, sub-ICB location": "E38000143",
    "England, ICB": "E54000057",
    "England, region": "E12000002",
    "England, country": "E92000001",
    "Scotland, intermediate zone": "S02001236",
    "Scotland, council area": "S12000005",
    "Scotland, country": "S92000003",
}


@pytest.mark.parametrize("area", list(LEVELS.values()), ids=list(LEVELS))
def test_every_page_at_every_level(area):
    from analysis.data import resolve_area

    seen = visit(area)
    name = resolve_area(area).name
    assert seen["overview"]["titles"] == [name]
    assert seen["profile"]["titles"] == [f"Area profile: {name}"]
    for page in PAGES:
        assert not seen[page]["errors"], (page, seen[page]["errors"])


@pytest.mark.parametrize(("small_area", "parent"), [("E01006212", "E08000010"),
                                                    ("S01006506", "S12000033")])
def test_small_areas_profile_and_pages(small_area, parent):
    from analysis.data import resolve_area

    # a map click opens an LSOA's or data zone's profile; the sidebar keeps its parent
    seen = visit(parent, session={"profile_area": small_area})
    assert seen["profile"]["titles"] == [f"Area profile: {resolve_area(small_area).name}"]
    for page in PAGES:
        assert not seen[page]["errors"], (page, seen[page]["errors"])


def test_a_single_kept_scenario_shows_a_hint_not_an_error():
    seen = visit("E54000057", ["overview", "allocation"])
    at = seen["at"]
    at.button(key="keep_scenario").click().run()
    assert not at.exception and not at.error
    assert len(at.session_state["kept_scenarios"]) == 1
    captions = " ".join(c.value for c in at.caption)
    assert "One scenario kept: keep one to three more" in captions
    at.button(key="keep_scenario").click().run()  # the same one again: still one
    assert not at.exception and len(at.session_state["kept_scenarios"]) == 1


# -- the pure parts --------------------------------------------------------------------------


def test_page_error_message_names_the_area_the_cause_and_what_to_do():
    from analysis.data import DataFileError

    damaged = DataFileError("data/indicators/x/data.parquet does not match its recorded "
                            "checksum: it may have been replaced or damaged; rebuild with "
                            "`fairshare data build` or re-add the indicator")
    assert page_error_message(damaged, area="Wigan", page="Map") == (
        "The Map page could not be drawn for Wigan: data/indicators/x/data.parquet does not "
        "match its recorded checksum: it may have been replaced or damaged; rebuild with "
        "`fairshare data build` or re-add the indicator. Other pages and indicators still "
        "work; try another indicator or area. The error has been logged.")
    assert page_error_message(ValueError("No values to classify"), area="Leeds") == (
        "This page could not be drawn for Leeds: ValueError: No values to classify. Try "
        "another indicator or area; the error has been logged.")
    assert page_error_message(KeyError("Unknown indicator 'x'."), page="Map") == (
        "The Map page could not be drawn: KeyError: Unknown indicator 'x'. Try another "
        "indicator or area; the error has been logged.")
    long = RuntimeError("line one\n  line two " + "x" * 1000)
    assert "\n" not in cause_of(long) and len(cause_of(long)) <= 420
    assert cause_of(ZeroDivisionError()) == "ZeroDivisionError"


def test_streamlit_control_flow_is_recognised():
    from streamlit.runtime.scriptrunner_utils.exceptions import RerunException, StopException

    assert is_control_flow(StopException())
    assert is_control_flow(RerunException(None))
    assert not is_control_flow(ValueError("x"))


@pytest.mark.parametrize(("raw", "shown"), [(-1, 0), (0, 0), (2, 2), (2.9, 2), (10**9, 6),
                                            (float("inf"), 6), (float("-inf"), 0),
                                            ("3", 3), ("x", 1), (None, 1), (True, 1)])
def test_safe_decimals(raw, shown):
    assert safe_decimals(raw) == shown


def test_areas_with_values_and_the_message():
    table = load_pack_table("england")
    wigan = table.index[table["ltla_code"] == "E08000010"]
    values = pd.Series(1.0, index=wigan[:100])
    offered = areas_with_values(values, "england")
    assert offered[["level", "code", "with_values"]].values.tolist() == [
        ["ltla", "E08000010", 100], ["icb", "E54000057", 100]]
    assert offered["small_areas"].tolist() == [len(wigan), int(
        (table["icb_code"] == "E54000057").sum())]
    text = no_values_message("Smoking <b>", "Leeds", offered, "england")
    assert text == ("Smoking <b> has no values in Leeds. It has values in these local "
                    "authorities: Wigan (E08000010) and in these ICBs: NHS Greater Manchester "
                    "Integrated Care Board (E54000057). Choose one of them as the study area "
                    "below, or choose another indicator.")
    nothing = areas_with_values(pd.Series(dtype=float), "scotland")
    assert nothing.empty
    assert "nor anywhere else in Scotland" in no_values_message("X", "Fife", nothing,
                                                                "scotland")
