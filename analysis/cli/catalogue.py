"""``fairshare info`` and ``fairshare area``: what is embedded, and an area's headline figures."""

from __future__ import annotations

import json
import re

import typer

from analysis.cli.common import fail
from analysis.data import DataFileError, EmptySelectionError, UnknownAreaError


def _checksum_problems(registry, reported: list[str]) -> list[str]:
    """Data files that do not match their recorded SHA-256, except those already reported
    as missing, unreadable or truncated (one line per file is enough)."""
    from analysis.data.integrity import checksum_problems

    packages = {}
    for meta in registry.metas():
        folder = registry.folder(meta.id)
        if folder is not None:
            packages[folder] = meta.extra
    fresh = []
    for problem in checksum_problems(registry.root.parent, packages):
        # "data/indicators/x/data.parquet does not match …": the path inside the data folder
        inside = problem.split(" does not match", 1)[0].split("/", 1)[-1]
        if not any(inside in line for line in reported):
            fresh.append(problem)
    return fresh


def info(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Areas per geography, indicators by kind, services by type and data vintages; exits
    with 1 when an indicator's metadata or data file is unreadable, missing or truncated, or
    a data file does not match the SHA-256 recorded for it (replaced or damaged)."""
    from analysis.data import IndicatorRegistry, dataset_info

    try:
        registry = IndicatorRegistry()
        facts = dataset_info(registry)
        facts["checksum_problems"] = _checksum_problems(
            registry, facts["indicator_errors"] + facts["indicator_file_problems"])
    except DataFileError as exc:
        fail(str(exc))
        return
    problems = (facts["indicator_errors"] + facts["indicator_file_problems"]
                + facts["checksum_problems"])
    if as_json:
        typer.echo(json.dumps(facts, indent=2, ensure_ascii=False))
        if problems:
            raise typer.Exit(1)
        return
    areas = facts["areas"]
    typer.echo("Fairshare embedded dataset")
    typer.echo("\nAreas")
    for key, count in areas.items():
        typer.echo(f"  {key:<24} {count:>8,}")
    typer.echo(f"\nIndicators: {facts['indicators']}")
    for kind, count in facts["indicators_by_kind"].items():
        typer.echo(f"  {kind:<24} {count:>8,}")
    for problem in facts["indicator_errors"]:
        typer.echo(f"  unreadable metadata: {problem}")
    for problem in facts["indicator_file_problems"]:
        typer.echo(f"  damaged data file: {problem}")
    for problem in facts["checksum_problems"]:
        typer.echo(f"  replaced or damaged: {problem}")
    typer.echo("\nServices")
    for key, count in facts["services"].items():
        typer.echo(f"  {key:<24} {count:>8,}")
    typer.echo("\nVintages")
    for key, vintage in facts["vintages"].items():
        typer.echo(f"  {key:<34} {vintage}")
    typer.echo(f"\nLicence: {facts['licence']}")
    if problems:
        typer.echo(f"\n{len(problems)} data file(s) cannot be trusted (listed above); "
                   "restore data/ with `git checkout -- data/` or rebuild it with `fairshare "
                   "data build`.", err=True)
        raise typer.Exit(1)


# a close match is shown without asking only when it leads the next by this many points
_CLEAR_LEAD = 10.0
_CODE_LIKE = re.compile(r"^[A-Za-z]\d+$")


def chosen_match(matches: list) -> object | None:
    """The match a query unambiguously means, or ``None`` when the user must choose: a code
    or postcode hit, a single result, the only exact name, or a lead of ten points."""
    if not matches:
        return None
    top = matches[0]
    if top.how in ("code", "postcode") or len(matches) == 1:
        return top
    return top if top.score - matches[1].score >= _CLEAR_LEAD else None


def _describe_postcode(match) -> list[str]:
    from analysis.data import POSTCODE_ATTRIBUTION

    head = f"Postcode {match.postcode}" + (f" ({match.note})" if match.note else "")
    lines = [head, f"  {match.level_label}: {match.name} ({match.code})"]
    lines += [f"  in {label}: {name} ({code})" for label, code, name in match.parents]
    return [*lines, POSTCODE_ATTRIBUTION, ""]


def area(query: str = typer.Argument(
             ..., help="A GSS code (E54000057, S12000005), a place name (wigan) or a "
                       "postcode (\"WN1 1AA\")."),
         as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Headline figures of a study area (population, share in the most deprived quintile),
    found by code, name or postcode; several close names are listed to choose from."""
    from analysis.data import POSTCODE_ATTRIBUTION, search_areas
    from analysis.explore import study_area_summary

    try:
        matches = search_areas(query)
    except (ValueError, DataFileError) as exc:
        fail(str(exc))
        return
    match = chosen_match(matches)
    if match is None and matches:
        _list_matches(query, matches, as_json)
        return
    if match is not None and not match.is_area:
        if as_json:
            typer.echo(json.dumps({"query": query, "match": match.to_dict(),
                                   "attribution": POSTCODE_ATTRIBUTION},
                                  indent=2, ensure_ascii=False))
        fail(f"{match.note}. {POSTCODE_ATTRIBUTION}")
        return
    if match is None and not _CODE_LIKE.match(query.strip()):
        fail(f"No area, code or postcode matches {query!r}. Try a place name (wigan), a GSS "
             "code (E08000010) or a postcode (WN1 1AA).")
        return
    try:
        # a code-like query that matched nothing goes through the code lookup, whose error
        # lists the closest codes
        summary = study_area_summary(match.code if match is not None else query)
    except (UnknownAreaError, EmptySelectionError, DataFileError) as exc:
        fail(str(exc))
        return
    if as_json:
        out = summary.to_dict()
        out["match"] = match.to_dict() if match is not None else None
        if match is not None and match.how == "postcode":
            out["attribution"] = POSTCODE_ATTRIBUTION
        typer.echo(json.dumps(out, indent=2, ensure_ascii=False))
        return
    if match is not None and match.how == "postcode":
        typer.echo("\n".join(_describe_postcode(match)))
    typer.echo(summary.sentence())


def _home(parents: tuple) -> str:
    """The parent that tells same-named areas apart: the council, else the coarsest."""
    for label, _, name in parents:
        if label in ("Local authority", "Council area"):
            return name
    return parents[-1][2]


def _list_matches(query: str, matches: list, as_json: bool) -> None:
    """Several close matches: list them and say how to choose one."""
    hint = "Several areas match; run `fairshare area CODE` with the code of the one you mean."
    if as_json:
        typer.echo(json.dumps({"query": query, "matches": [m.to_dict() for m in matches],
                               "hint": hint}, indent=2, ensure_ascii=False))
        return
    typer.echo(f"Areas matching {query!r}:")
    width = max(len(m.code) for m in matches)
    for m in matches:
        within = f" (in {_home(m.parents)})" if m.parents else ""
        typer.echo(f"  {m.code:<{width}}  {m.name}{within} · {m.level_label}")
    typer.echo(hint)
