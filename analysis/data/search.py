"""Find any area by code, postcode or name: the search box of the dashboard and of
``fairshare area QUERY``.

Three ways in, tried in this order:

* **code**: a GSS code of any level (``E08000010``, ``s12000005``), or an NHS ODS code of an
  ICB or sub-ICB location (``QOP``, ``02H``); case and spaces are ignored;
* **postcode**: through the embedded postcode index (:mod:`analysis.data.postcodes`); a
  postcode opens its LSOA 2021 / data zone 2011 with every area above it. Terminated
  postcodes still open the area they were last in, with a note; Welsh, Northern Irish and
  island postcodes come back as a note that they are outside England and Scotland;
* **name**, ranked exact > prefix > all words present > fuzzy, larger areas first on ties.

Names are compared in a normalised form: accents stripped, case folded, "&" read as "and",
"St." as "St" ("Saint" too), punctuation dropped, "Integrated Care Board" read as "ICB". A
name is also known by its *core* without "NHS" and "ICB", so "greater manchester" is the
exact name of NHS Greater Manchester Integrated Care Board. Fuzzy matching (typos, extra
words) uses RapidFuzz's weighted ratio (``WRatio``: the best of the plain, partial and token
ratios of Levenshtein similarity) on the names of every level above the small areas, whose own
names are their local authority's or intermediate zone's name plus a suffix.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from analysis.data.datastore import data_cache
from analysis.data.geography import PACKS, spec_for
from analysis.data.postcodes import COUNTRY_NAMES, lookup_postcode, normalise_postcodes

How = Literal["code", "postcode", "name"]

#: score bands of the four name tiers (a code or postcode hit scores 100)
EXACT, PREFIX, TOKENS, FUZZY = 100.0, 90.0, 80.0, 79.0
FUZZY_CUTOFF = 80.0  # WRatio below this is mostly noise for place names
MIN_FUZZY_LENGTH = 3
_STOPWORDS = frozenset({"and", "of", "the"})
_CORE_DROP = frozenset({"nhs", "icb"})
_POSTCODE_SHAPE = re.compile(r"^[A-Z][A-Z0-9]{1,3}[0-9][A-Z]{2}$")
_APOSTROPHES = re.compile(r"['\u2018\u2019`]")
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")
_ICB_LONG = re.compile(r"\bintegrated care board\b")
_SAINT = re.compile(r"\bsaint\b")
_POSTCODE_INDEX_NOTE = "ONS postcode lookup (May 2022) and OS Code-Point Open"


@dataclass(frozen=True)
class AreaMatch:
    """One search result.

    ``parents`` lists the areas this one sits in, finest first, as (level label, code,
    name). A postcode outside England and Scotland (or not in the index) is a result with
    ``level == "postcode"``, its postcode as ``code`` and the reason in ``note``: it names no
    area (``is_area`` is false).
    """

    code: str
    name: str
    level: str
    level_label: str
    country: str
    score: float
    how: How
    parents: tuple[tuple[str, str, str], ...] = ()
    note: str = ""
    postcode: str | None = None

    @property
    def is_area(self) -> bool:
        """True when the result is an area that can be opened (not a postcode-only note)."""
        return self.level != "postcode"

    def label(self) -> str:
        """Plain-text one-line label, e.g. "Wigan · Local authority · E08000010"."""
        if not self.is_area:
            return f"{self.code} · {self.note}"
        head = f"{self.postcode} → " if self.postcode else ""
        return f"{head}{self.name} · {self.level_label} · {self.code}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (parents as a list of {level, code, name})."""
        out = asdict(self)
        out["parents"] = [{"level": lv, "code": c, "name": n} for lv, c, n in self.parents]
        return out


def normalise_name(text: str) -> str:
    """The comparable form of a place name: accents stripped (NFKD, combining marks
    dropped), case folded, "&" → "and", apostrophes dropped, other punctuation → space,
    "saint" → "st", "integrated care board" → "icb", spaces collapsed."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    folded = _APOSTROPHES.sub("", plain.casefold().replace("&", " and "))
    spaced = _NOT_ALNUM.sub(" ", folded)
    spaced = _SAINT.sub("st", _ICB_LONG.sub("icb", spaced))
    return " ".join(spaced.split())


def _comma_aliases(name: str) -> frozenset[str]:
    """ONS's inverted names read the usual ways, normalised: "Bristol, City of" → "bristol"
    and "city of bristol" (so that the name a person types is exact); others have none."""
    head, sep, tail = name.partition(", ")
    return frozenset({normalise_name(head), normalise_name(f"{tail} {head}")}) if sep \
        else frozenset()


def _core(key: str) -> str:
    return " ".join(t for t in key.split() if t not in _CORE_DROP)


@data_cache(maxsize=1)
def search_index() -> dict[str, Any]:
    """The name and code index of every area of every pack, built once per data directory.

    Keys: ``entries`` (DataFrame: code, name, level, level_label, country, rank, key; one
    row per area, ``rank`` = position of the level from fine to coarse), ``by_code``,
    ``by_key`` (normalised name or core → rows), ``sorted_keys``/``sorted_rows`` (for
    prefixes), ``tokens`` (word → rows), ``vocabulary`` (sorted words), ``fuzzy_keys``/
    ``fuzzy_rows`` (names above the small areas) and ``parents`` ((country, level) → frame
    of parent codes and names, indexed by code, only where the area nests in one parent).
    """
    from analysis.data.geography import load_pack_table

    frames, parents = [], {}
    by_code: dict[str, int] = {}
    for spec in PACKS.values():
        table = load_pack_table(spec.country)
        for rank, level in enumerate(spec.levels):
            pairs = table[[level.code_column, level.name_column]].drop_duplicates(
                level.code_column)
            frames.append(pd.DataFrame({
                "code": pairs[level.code_column].astype(str).to_numpy(),
                "name": pairs[level.name_column].astype(str).to_numpy(),
                "level": level.key, "level_label": level.label, "country": spec.country,
                "rank": rank, "small": rank == 0,
            }))
            parents[(spec.country, level.key)] = _parent_frame(table, spec, rank)
    entries = pd.concat(frames, ignore_index=True)
    unique_names = pd.unique(entries["name"])
    normalised = dict(zip(unique_names, map(normalise_name, unique_names), strict=True))
    entries["key"] = entries["name"].map(normalised)
    entries["core"] = entries["key"].map(_core)
    for row, code in enumerate(entries["code"]):
        by_code[code.upper()] = row
    # NHS ODS codes of ICBs and sub-ICB locations, which commissioners use as often as GSS
    england = load_pack_table("england")
    for gss, ods in (("icb_code", "icb_code_nhs"), ("sicbl_code", "sicbl_code_nhs")):
        if ods in england.columns:
            pairs = england[[gss, ods]].drop_duplicates(gss)
            for g, o in zip(pairs[gss].astype(str), pairs[ods].astype(str), strict=True):
                by_code.setdefault(o.strip().upper(), by_code[g])
    by_key: dict[str, list[int]] = {}
    pairs_sorted: list[tuple[str, int]] = []
    tokens: dict[str, list[int]] = {}
    aliases = [_comma_aliases(name) for name in entries["name"]]
    for row, (key, core) in enumerate(zip(entries["key"], entries["core"], strict=True)):
        for variant in ({key, core} | aliases[row]) - {""}:
            by_key.setdefault(variant, []).append(row)
            pairs_sorted.append((variant, row))
        for token in set(key.split()):
            tokens.setdefault(token, []).append(row)
    pairs_sorted.sort()
    large = ~entries["small"].to_numpy()
    fuzzy_pairs = sorted({(k, r) for r in np.flatnonzero(large)
                          for k in {entries["key"].iat[r], entries["core"].iat[r]} if k})
    return {
        "entries": entries,
        "by_code": by_code,
        "by_key": by_key,
        "sorted_keys": [k for k, _ in pairs_sorted],
        "sorted_rows": np.array([r for _, r in pairs_sorted], dtype=np.int64),
        "tokens": {t: np.array(rows, dtype=np.int64) for t, rows in tokens.items()},
        "vocabulary": sorted(tokens),
        "fuzzy_keys": [k for k, _ in fuzzy_pairs],
        "fuzzy_rows": np.array([r for _, r in fuzzy_pairs], dtype=np.int64),
        "parents": parents,
        "word_counts": entries["key"].str.count(" ").to_numpy(dtype=np.float64) + 1.0,
        "names": entries["name"].to_numpy(dtype=str),
        "ranks": entries["rank"].to_numpy(),
        "countries": entries["country"].to_numpy(dtype=str),
    }


def _parent_frame(table: pd.DataFrame, spec, rank: int) -> pd.DataFrame:
    """Parent (code, name) of each area of level ``rank``, for every coarser level except
    the country, kept only where the area lies in exactly one parent (wards in a local
    authority do; a local authority need not lie in one ICB)."""
    level = spec.levels[rank]
    out = pd.DataFrame(index=pd.Index(pd.unique(table[level.code_column].astype(str))))
    for parent in spec.levels[rank + 1:]:
        if parent.key == "country":
            continue
        grouped = table.groupby(table[level.code_column].astype(str), observed=True)
        first = grouped[[parent.code_column, parent.name_column]].first()
        single = grouped[parent.code_column].nunique() == 1
        out[parent.key] = first[parent.code_column].astype(str).where(single)
        out[f"{parent.key}__name"] = first[parent.name_column].astype(str).where(single)
    return out


def _parents_of(index: dict[str, Any], country: str, level: str, code: str
                ) -> tuple[tuple[str, str, str], ...]:
    frame = index["parents"][(country, level)]
    if code not in frame.index or frame.empty:
        return ()
    row = frame.loc[code]
    spec = spec_for(country)
    out = []
    for parent in spec.levels:
        if parent.key in frame.columns and isinstance(row[parent.key], str):
            out.append((parent.label, row[parent.key], row[f"{parent.key}__name"]))
    return tuple(out)


def _match(index: dict[str, Any], row: int, score: float, how: How, **extra: Any) -> AreaMatch:
    e = index["entries"]
    country, level, code = e["country"].iat[row], e["level"].iat[row], e["code"].iat[row]
    return AreaMatch(code=code, name=e["name"].iat[row], level=level,
                     level_label=e["level_label"].iat[row], country=country,
                     score=float(score), how=how,
                     parents=_parents_of(index, country, level, code), **extra)


def _postcode_match(index: dict[str, Any], text: str) -> AreaMatch:
    """The result for postcode-shaped text: its small area, or a note why there is none."""
    hit = lookup_postcode(text)
    if hit is None:
        canonical = str(normalise_postcodes(pd.Series([text], dtype="string")).iloc[0])
        return AreaMatch(code=canonical, name=canonical, level="postcode",
                         level_label="Postcode", country="", score=EXACT, how="postcode",
                         note=f"postcode {canonical} is not in the embedded postcode index "
                              f"({_POSTCODE_INDEX_NOTE})", postcode=canonical)
    postcode, letter = hit["postcode"], hit["country"]
    if hit["area_code"] is None or hit["area_code"].upper() not in index["by_code"]:
        place = COUNTRY_NAMES.get(letter or "", "")
        why = (f"is in {place}, outside England and Scotland: Fairshare's areas cover "
               "England and Scotland only" if place and letter not in ("E", "S")
               else "could not be placed in any small area")
        return AreaMatch(code=postcode, name=postcode, level="postcode",
                         level_label="Postcode", country=place.lower(), score=EXACT,
                         how="postcode", note=f"postcode {postcode} {why}",
                         postcode=postcode)
    note = ("terminated postcode: no longer in use; shown in the area it was last in"
            if hit["status"] == "terminated" else "")
    row = index["by_code"][hit["area_code"].upper()]
    return _match(index, row, EXACT, "postcode", note=note, postcode=postcode)


def _prefix_rows(index: dict[str, Any], key: str) -> np.ndarray:
    """Rows whose name (or core, or alias) starts with ``key``."""
    keys = index["sorted_keys"]
    lo = bisect.bisect_left(keys, key)
    # normalised names hold only [0-9a-z ], all below DEL
    hi = bisect.bisect_left(keys, key + "\x7f", lo)
    return index["sorted_rows"][lo:hi]


def _token_rows(index: dict[str, Any], words: list[str]) -> np.ndarray:
    """Rows whose name holds every word (the last may be the start of a word: type-ahead)."""
    tokens = index["tokens"]
    sets = []
    for word in words[:-1]:
        if word not in tokens:
            return np.empty(0, dtype=np.int64)
        sets.append(tokens[word])
    vocab = index["vocabulary"]
    last = words[-1]
    lo = bisect.bisect_left(vocab, last)
    hi = bisect.bisect_left(vocab, last + "\x7f", lo)
    if hi == lo:
        return np.empty(0, dtype=np.int64)
    sets.append(np.unique(np.concatenate([tokens[t] for t in vocab[lo:hi]])))
    sets.sort(key=len)
    rows = sets[0]
    for other in sets[1:]:
        rows = np.intersect1d(rows, other, assume_unique=True)
    return rows


def _name_scores(index: dict[str, Any], key: str, limit: int
                 ) -> tuple[np.ndarray, np.ndarray]:
    """(rows, best score of each) for a normalised name query, tier by tier."""
    hits: list[tuple[np.ndarray, np.ndarray]] = []
    exact = np.array(index["by_key"].get(key, []), dtype=np.int64)
    hits.append((exact, np.full(len(exact), EXACT)))
    rows = _prefix_rows(index, key)
    hits.append((rows, np.full(len(rows), PREFIX)))
    words = [w for w in key.split() if w not in _STOPWORDS] or key.split()
    rows = _token_rows(index, words)
    # fewer words left over in the name = closer to what was typed
    share = np.minimum(len(words) / index["word_counts"][rows], 1.0)
    hits.append((rows, np.round(TOKENS + 9.0 * share, 1)))
    found = sum(len(r) for r, _ in hits)
    if not len(exact) and found < limit and len(key) >= MIN_FUZZY_LENGTH:
        hits.append(_fuzzy_rows(index, key, limit))
    rows = np.concatenate([r for r, _ in hits])
    scores = np.concatenate([s for _, s in hits])
    order = np.lexsort((-scores, rows))
    rows, scores = rows[order], scores[order]
    first = np.r_[True, rows[1:] != rows[:-1]] if len(rows) else np.zeros(0, dtype=bool)
    return rows[first], scores[first]


def _fuzzy_rows(index: dict[str, Any], key: str, limit: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows of the names above the small areas within RapidFuzz ``WRatio`` of ``key``."""
    from rapidfuzz import fuzz, process

    found = process.extract(key, index["fuzzy_keys"], scorer=fuzz.WRatio,
                            score_cutoff=FUZZY_CUTOFF, limit=max(limit * 5, 25))
    # a short name inside a long query ("anna" in "clackmannanshire") scores high on the
    # partial ratio alone; a name must be at least a third of what was typed
    kept = [(s, pos) for choice, s, pos in found if 3 * len(choice) >= len(key)]
    positions = np.array([pos for _, pos in kept], dtype=np.int64)
    # whole points, so that near-equal fuzzy scores fall back on the larger area
    scores = np.round(np.array([s for s, _ in kept], dtype=np.float64) * FUZZY / 100.0)
    return index["fuzzy_rows"][positions], scores


def search_areas(query: str, *, limit: int = 10, country: str | None = None
                 ) -> list[AreaMatch]:
    """Find areas by code, postcode or name, best first (at most ``limit``).

    A code (exact, case and spaces ignored) or a postcode returns that one result; a name
    returns up to ``limit`` areas ranked exact (score 100) > prefix (90) > every word
    present (80–89, more for fewer words left over) > fuzzy (RapidFuzz ``WRatio`` × 0.79,
    whole points, cut off below a ratio of 80; only when no name is exact), then larger areas
    first (level from coarse to fine), then shorter names, then by name.
    ``country`` ("england"/"scotland") keeps only that pack's areas. Empty or blank text,
    and text that matches nothing, give an empty list.
    """
    if not isinstance(query, str):
        raise ValueError(f"search_areas expects text, got {type(query).__name__}")
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValueError(f"limit is {limit!r}: it must be a whole number of at least 1")
    wanted = spec_for(country).country if country is not None else None
    text = query.strip()
    if not text:
        return []
    index = search_index()
    compact = re.sub(r"\s+", "", text).upper()
    row = index["by_code"].get(compact)
    if row is not None:
        found = [_match(index, row, EXACT, "code")]
    elif _POSTCODE_SHAPE.match(compact):
        found = [_postcode_match(index, text)]
    else:
        found = []
    if found:
        return [m for m in found if wanted is None or not m.is_area or m.country == wanted]
    key = normalise_name(text)
    if not key:
        return []
    rows, scores = _name_scores(index, key, limit if wanted is None else limit * 5)
    if wanted is not None:
        keep = index["countries"][rows] == wanted
        rows, scores = rows[keep], scores[keep]
    if not len(rows):
        return []
    names = index["names"][rows]
    lengths = np.char.str_len(names)
    order = np.lexsort((names, lengths, -index["ranks"][rows], -scores))[:limit]
    return [_match(index, int(rows[i]), scores[i], "name") for i in order]
