"""Checksums of the data files: recorded when the dataset is built, verified when a file is read.

The build records a SHA-256 of every data file it wrote in ``manifest.json``
(``"checksums"``: relative path → hex digest, see :func:`file_checksums`); a package added later
by ``fairshare indicators add`` carries its own digest in ``indicator.yaml``
(``data_sha256``). Loading a file checks it against its record, so a ``data.parquet``
swapped for another indicator's, or damaged on disk, fails loudly with a
:class:`~analysis.data.datastore.DataFileError` naming the file instead of being served.

Verification is cheap: a file is hashed once per change (the cache key is its path, size,
modification time and inode), so a page that reads the same file on every rerun pays one
``stat`` after the first read. SHA-256 is FIPS 180-4 (NIST, 2015), via :mod:`hashlib`.

A dataset built before checksums were recorded has none; add them without a rebuild with
``python -m analysis.data.integrity record [DATA_DIR]`` (:func:`record_checksums`).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from analysis.data.datastore import DataFileError, data_dir

MANIFEST = "manifest.json"
CHECKSUMS_KEY = "checksums"
#: The key of ``indicator.yaml`` that holds the digest of a package added after the build.
PACKAGE_KEY = "data_sha256"
#: Written by ``fairshare indicators add``: such a package postdates the build's manifest.
ADDED_KEY = "added_on"
DATA_SUFFIXES = (".parquet", ".csv", ".json")
PACKAGE_FILES = ("data.parquet", "data.csv")
_CHUNK = 1 << 20

_lock = threading.Lock()
# (path, expected digest) → file signature last verified against it
_verified: dict[tuple[str, str], tuple[int, int, int]] = {}
# manifest path → (signature, checksums)
_manifests: dict[str, tuple[tuple[int, int, int], dict[str, str]]] = {}
_hashes_computed = 0


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 digest of a file, read in 1 MB chunks (FIPS 180-4)."""
    global _hashes_computed
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    with _lock:
        _hashes_computed += 1
    return digest.hexdigest()


def hashes_computed() -> int:
    """How many files this process has hashed (verification is meant to hash once per
    file change; tests and benchmarks read this)."""
    return _hashes_computed


def _signature(path: Path) -> tuple[int, int, int]:
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns, stat.st_ino


def data_files(out_dir: str | os.PathLike[str]) -> list[Path]:
    """Every data file of a dataset folder (Parquet, CSV, JSON), the manifest and hidden
    folders (staging areas of an interrupted add) excluded, in path order."""
    root = Path(out_dir)
    found = []
    for path in root.rglob("*"):
        relative = path.relative_to(root)
        if any(part.startswith(".") for part in relative.parts):
            continue
        if (path.is_file() and path.suffix.lower() in DATA_SUFFIXES
                and relative.as_posix() != MANIFEST):
            found.append(path)
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


def built_files(out_dir: str | os.PathLike[str], files: Iterable[str]) -> list[Path]:
    """The data files behind the names of a manifest's ``"files"`` table: a file's path, or
    an indicator package folder (``indicators/<id>``) for its ``data.parquet``/``data.csv``.
    Names without a file on disk are left out (the missing-file checks report them)."""
    root = Path(out_dir)
    found = []
    for name in files:
        path = root / str(name)
        if path.is_dir():
            found += [path / n for n in PACKAGE_FILES if (path / n).is_file()]
        elif path.is_file():
            found.append(path)
    return sorted(set(found), key=lambda p: p.relative_to(root).as_posix())


def file_checksums(out_dir: str | os.PathLike[str],
                   files: Iterable[str] | None = None) -> dict[str, str]:
    """SHA-256 of the data files in ``out_dir``, keyed by path relative to it (POSIX
    separators, e.g. ``indicators/imd2025_score/data.parquet``): the manifest's
    ``"checksums"`` table.

    ``files`` (the build's ``"files"`` table) limits them to what the build wrote, so the
    manifest vouches only for its own output: packages that analysts add to the same folders
    keep their own records and can be replaced without a rebuild. Without it, every data file
    (Parquet, CSV, JSON) outside hidden folders is hashed.
    """
    root = Path(out_dir)
    paths = data_files(root) if files is None else built_files(root, files)
    return {path.relative_to(root).as_posix(): sha256_file(path) for path in paths}


def record_checksums(folder: str | os.PathLike[str] | None = None) -> dict[str, str]:
    """Add (or refresh) the ``"checksums"`` of an existing ``manifest.json`` without a
    rebuild, for the files its ``"files"`` table lists (what the build wrote, as
    ``analysis.build.pipeline`` records them); returns them. The manifest is replaced
    atomically, keeping its other keys."""
    root = Path(folder) if folder is not None else data_dir()
    manifest_path = root / MANIFEST
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataFileError(f"{manifest_path} cannot be read, so no checksums were recorded: "
                            f"{exc}") from exc
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), Mapping):
        raise DataFileError(f"{manifest_path} has no table of built files ('files'); no "
                            "checksums recorded")
    checksums = file_checksums(root, manifest["files"])
    manifest[CHECKSUMS_KEY] = checksums
    temporary = manifest_path.with_name(f".{MANIFEST}.tmp")
    temporary.write_text(json.dumps(manifest, indent=2, default=str) + "\n", encoding="utf-8")
    os.replace(temporary, manifest_path)
    return checksums


def recorded_checksums(root: str | os.PathLike[str] | None = None) -> dict[str, str]:
    """The checksums ``root/manifest.json`` records (empty when it has none or cannot be
    read: a missing or broken manifest is reported by ``fairshare info``, not by every
    read). Cached until the manifest changes."""
    manifest_path = (Path(root) if root is not None else data_dir()) / MANIFEST
    key = str(manifest_path)
    try:
        signature = _signature(manifest_path)
    except OSError:
        return {}
    cached = _manifests.get(key)
    if cached is not None and cached[0] == signature:
        return cached[1]
    try:
        table = json.loads(manifest_path.read_text(encoding="utf-8")).get(CHECKSUMS_KEY)
    except (OSError, ValueError, AttributeError):
        table = None
    checksums = ({str(k): str(v) for k, v in table.items()} if isinstance(table, Mapping)
                 else {})
    with _lock:
        _manifests[key] = (signature, checksums)
    return checksums


def mismatch_message(shown: str, *, indicator: bool = False) -> str:
    """The sentence of a file that does not match its record (names the file and the cure)."""
    cure = ("rebuild with `fairshare data build` or re-add the indicator" if indicator
            else "rebuild with `fairshare data build`")
    return (f"{shown} does not match its recorded checksum: it may have been replaced or "
            f"damaged; {cure}")


def verify_file(path: str | os.PathLike[str], expected: str, *, shown: str | None = None,
                indicator: bool = False) -> None:
    """Raise :class:`DataFileError` unless the file's SHA-256 is ``expected``.

    Hashes the file only when it changed since it last passed (size, mtime or inode differ),
    so repeated loads cost one ``stat``. ``shown`` is how the message names the file.
    """
    file = Path(path)
    key = (str(file), expected.lower())
    try:
        signature = _signature(file)
    except OSError as exc:
        raise DataFileError(f"Data file {shown or file} is missing: {exc}") from exc
    if _verified.get(key) == signature:
        return
    if sha256_file(file) != key[1]:
        with _lock:
            _verified.pop(key, None)
        raise DataFileError(mismatch_message(shown or str(file), indicator=indicator))
    with _lock:
        _verified[key] = signature


def verify_data_file(path: Path, root: Path | None = None) -> None:
    """Check a file of the data directory against the manifest's record, if it has one."""
    base = root if root is not None else data_dir()
    try:
        relative = path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return  # not inside the data directory: nothing records it
    if relative == MANIFEST:
        return
    expected = recorded_checksums(base).get(relative)
    if expected:
        verify_file(path, expected, shown=f"{base.name}/{relative}",
                    indicator=relative.startswith("indicators/"))


def package_record(folder: Path, extra: Mapping[str, Any]) -> tuple[Path, str, str] | None:
    """(data file, expected digest, name to show) of an indicator package, or ``None``
    when nothing records its digest.

    The package's own ``data_sha256`` wins; a package added with ``fairshare indicators
    add`` (it has ``added_on``) but without one postdates the manifest, which then says
    nothing about it; otherwise the manifest beside the registry folder is the record.
    """
    data = next((folder / n for n in PACKAGE_FILES if (folder / n).is_file()), None)
    if data is None:
        return None
    dataset = folder.parent.parent
    shown = f"{dataset.name}/{folder.parent.name}/{folder.name}/{data.name}"
    own = extra.get(PACKAGE_KEY)
    if isinstance(own, str) and own.strip():
        return data, own.strip(), shown
    if ADDED_KEY in extra:
        return None
    expected = recorded_checksums(dataset).get(f"{folder.parent.name}/{folder.name}/{data.name}")
    return (data, expected, shown) if expected else None


def verify_package(folder: Path, extra: Mapping[str, Any]) -> None:
    """Raise :class:`DataFileError` if an indicator package's data file does not match the
    digest recorded for it (see :func:`package_record`)."""
    record = package_record(folder, extra)
    if record is not None:
        data, expected, shown = record
        verify_file(data, expected, shown=shown, indicator=True)


def checksum_problems(root: str | os.PathLike[str] | None = None,
                      packages: Mapping[Path, Mapping[str, Any]] | None = None) -> list[str]:
    """Every recorded file of a dataset that does not match its checksum (plain sentences,
    what ``fairshare info`` prints). ``packages`` maps indicator package folders to their
    metadata extras, so digests kept in ``indicator.yaml`` are checked too. Files that are
    missing are left to the checks that report missing files."""
    base = Path(root) if root is not None else data_dir()
    problems: list[str] = []
    checked: set[str] = set()
    for folder, extra in (packages or {}).items():
        # the package's own record (or its being added after the build) overrides the
        # manifest's, so the manifest loop below leaves its files alone
        checked.update(str((Path(folder) / n).resolve()) for n in PACKAGE_FILES)
        record = package_record(Path(folder), extra)
        if record is None:
            continue
        data, expected, shown = record
        try:
            verify_file(data, expected, shown=shown, indicator=True)
        except DataFileError as exc:
            problems.append(str(exc))
    for relative, expected in recorded_checksums(base).items():
        path = base / relative
        if str(path.resolve()) in checked or not path.is_file():
            continue
        try:
            verify_file(path, expected, shown=f"{base.name}/{relative}",
                        indicator=relative.startswith("indicators/"))
        except DataFileError as exc:
            problems.append(str(exc))
    return problems


def _main(argv: list[str]) -> int:
    """``python -m analysis.data.integrity record [DATA_DIR]`` or ``check [DATA_DIR]``."""
    if not argv or argv[0] not in ("record", "check"):
        print("usage: python -m analysis.data.integrity {record|check} [DATA_DIR]",
              file=sys.stderr)
        return 2
    folder = Path(argv[1]) if len(argv) > 1 else data_dir()
    try:
        if argv[0] == "record":
            checksums = record_checksums(folder)
            print(f"Recorded {len(checksums)} checksums in {folder / MANIFEST}")
            return 0
        problems = checksum_problems(folder)
    except DataFileError as exc:
        print(exc, file=sys.stderr)
        return 1
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"{len(recorded_checksums(folder))} recorded files checked; "
          f"{len(problems)} do not match")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
