"""The service registry: packages ``data/services/registry/<id>/`` of ``service.yaml`` (the
metadata, with the SHA-256 of the sites) and ``sites.parquet`` (one row per site, columns
:data:`analysis.ingest.services.SITE_COLUMNS`).

Writes follow the indicator registry's rules and use its code
(:func:`analysis.ingest.registry._install_package`): a package is written into a hidden
staging folder, flushed to disk, read back and renamed into place, so a crash or kill never
leaves half a package; a replaced package is set aside and put back if the swap fails, and
the next add or remove finishes or undoes what an interrupted one left. Nothing is written
until the whole file has validated. Shipped services (listed in ``manifest.json``, or built
by ``fairshare data build``: :data:`BUILT_SERVICES`) are replaced or removed only with
``force``. Dashboard uploads are registered for one session only
(:meth:`ServiceRegistry.add_session_service`), never in the shared folder.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.data import DataFileError, data_cache, data_dir
from analysis.data.indicators import REPLACED_PREFIX
from analysis.ingest.registry import (
    _install_package,
    _is_embedded,
    _recover,
    _registry_lock,
    _remove_package,
    _write_file,
    manifest_files,
)
from analysis.ingest.report import _plain, _show
from analysis.ingest.services import (
    SERVICE_ID,
    SITE_COLUMNS,
    ServiceDataset,
    ServiceError,
    ServiceMeta,
    ServiceReport,
    ServiceValidationError,
    load_service_file,
    normalise_sites,
)
from analysis.util import fsync_folder

SERVICES_DIR = "services/registry"
SERVICE_FILE = "service.yaml"
SITES_FILE = "sites.parquet"
#: Services ``fairshare data build`` ships (protected even before the manifest lists them).
BUILT_SERVICES = frozenset({"nhs_hospitals_2022"})


class ServiceExistsError(ServiceError):
    """A service with this id is already in the registry."""


def service_registry_root(root: str | os.PathLike[str] | None = None) -> Path:
    """The registry folder: ``root`` or ``<data dir>/services/registry``."""
    return Path(root) if root is not None else data_dir() / SERVICES_DIR


def shipped_service_ids(root: str | os.PathLike[str] | None = None) -> frozenset[str]:
    """Ids of the services shipped with the dataset: packages under ``services/registry/``
    in ``manifest.json``, plus :data:`BUILT_SERVICES` for the embedded registry. A registry
    folder of one's own without a manifest has none. An unreadable manifest beside the
    embedded registry raises :class:`DataFileError` (fail safe)."""
    folder = service_registry_root(root)
    manifest = folder.parent.parent / "manifest.json"
    embedded = _is_embedded(folder, SERVICES_DIR)
    if not manifest.is_file():
        return BUILT_SERVICES if embedded else frozenset()
    files = manifest_files(manifest, "so Fairshare cannot tell which services are shipped; "
                                     "restore it or rebuild it (fairshare data build)")
    prefix = f"{SERVICES_DIR}/"
    listed = {str(name)[len(prefix):].split("/")[0] for name in files
              if str(name).startswith(prefix)}
    return frozenset(listed | (BUILT_SERVICES if embedded else set()))


def _check_id(service_id: str) -> str:
    if not isinstance(service_id, str) or not SERVICE_ID.match(service_id):
        raise ServiceError(f"Service id {_show(service_id)} must be 1–48 characters of a-z, "
                           "0-9, _ or -, starting with a letter or digit")
    return service_id


def _guard_shipped(folder: Path, service_id: str, action: str, force: bool) -> None:
    if force:
        return
    try:
        shipped = shipped_service_ids(folder)
    except DataFileError as exc:
        raise ServiceError(f"Not done: {exc}. {action.capitalize()} {service_id!r} anyway "
                           "with force (--force)") from None
    if service_id in shipped:
        raise ServiceError(f"Service {service_id!r} is shipped with Fairshare; {action} it "
                           "needs force (--force)")


# --------------------------------------------------------------------------------------
# Reading and writing one package


def _write_service(folder: Path, dataset: ServiceDataset, digest_of) -> None:
    import yaml

    sites = dataset.sites[list(SITE_COLUMNS)]
    _write_file(folder / SITES_FILE, lambda h: sites.to_parquet(h, index=False))
    mapping = dataset.meta.to_mapping()
    if "built_by" not in mapping:  # a shipped package stays the same when rebuilt
        mapping.setdefault("added_on", date.today().isoformat())
    mapping["sites"] = len(sites)
    mapping["data_sha256"] = digest_of(folder / SITES_FILE)
    text = yaml.safe_dump(mapping, sort_keys=False, allow_unicode=True, width=100)
    _write_file(folder / SERVICE_FILE, lambda h: h.write(text.encode("utf-8")))
    fsync_folder(folder)


def read_service_meta(folder: Path, expected_id: str | None = None) -> ServiceMeta:
    """The metadata of a package folder; :class:`ServiceError` naming the file if it is
    unreadable or its id differs from its folder's."""
    import yaml

    path = folder / SERVICE_FILE
    try:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ServiceError(f"{path}: unreadable metadata: {_plain(exc)}") from exc
    meta = ServiceMeta.from_mapping(raw if isinstance(raw, Mapping) else {}, origin=str(path))
    expected = folder.name if expected_id is None else expected_id
    if meta.id != expected:
        raise ServiceError(f"{path}: id {meta.id!r} differs from its folder {folder.name!r}")
    return meta


def read_service_sites(folder: Path, meta: ServiceMeta) -> pd.DataFrame:
    """The site table of a package, checked against the SHA-256 its metadata records."""
    from analysis.data.integrity import verify_file

    path = folder / SITES_FILE
    try:
        sites = pd.read_parquet(path)
    except (OSError, ValueError) as exc:
        raise DataFileError(f"{path}: service sites unreadable: {_plain(exc)}") from exc
    expected = meta.extra.get("data_sha256")
    if isinstance(expected, str) and expected.strip():
        shown = f"{folder.parent.name}/{folder.name}/{SITES_FILE}"
        try:
            verify_file(path, expected.strip(), shown=shown)
        except DataFileError:
            raise DataFileError(f"{shown} does not match the checksum its service.yaml records "
                                "(data_sha256): it may have been replaced or damaged; add the "
                                "service again (fairshare services add … --replace)") from None
    missing = [c for c in SITE_COLUMNS if c not in sites.columns]
    if missing:
        raise DataFileError(f"{path} lacks column(s) {', '.join(missing)}")
    return normalise_sites(sites)


def read_service_package(folder: str | os.PathLike[str]) -> ServiceDataset:
    """A package folder as a :class:`ServiceDataset`."""
    path = Path(folder)
    meta = read_service_meta(path)
    return ServiceDataset(meta, read_service_sites(path, meta))


# --------------------------------------------------------------------------------------
# Registry operations


def recover_service_registry(root: str | os.PathLike[str] | None = None) -> list[str]:
    """Finish or undo interrupted adds and removes; returns what was done (plain text)."""
    folder = service_registry_root(root)
    if not folder.is_dir():
        return []
    with _registry_lock(folder):
        return _recover(folder)


def install_service(dataset: ServiceDataset, *, replace: bool = False,
                    root: str | os.PathLike[str] | None = None,
                    force: bool = False) -> tuple[Path, bool]:
    """Write an already validated service into the registry atomically; returns (package
    folder, whether an existing package was replaced). Raises :class:`ServiceExistsError`
    for a duplicate id without ``replace`` and :class:`ServiceError` for replacing a
    shipped service without ``force``."""
    from analysis.data.integrity import sha256_file

    service_id = _check_id(dataset.meta.id)
    folder = service_registry_root(root)

    def check(staging: Path) -> None:
        read_service_sites(staging, read_service_meta(staging, expected_id=service_id))

    result = _install_package(
        folder, service_id, lambda staging: _write_service(staging, dataset, sha256_file),
        check, replace=replace,
        exists_error=lambda: ServiceExistsError(
            f"Service {service_id!r} already exists in {folder}; use replace (--replace) to "
            "overwrite it"),
        guard=lambda: _guard_shipped(folder, service_id, "replacing", force))
    default_service_registry.cache_clear()
    return result


@dataclass(frozen=True)
class ServiceAddResult:
    """What :func:`add_service` did."""

    dataset: ServiceDataset
    report: ServiceReport
    folder: Path
    replaced: bool


def add_service(path: str | os.PathLike[str], meta: Any, *, replace: bool = False,
                root: str | os.PathLike[str] | None = None, force: bool = False,
                columns: Mapping[str, str] | None = None,
                skip_unplaced: bool = False) -> ServiceAddResult:
    """Validate a site list with its metadata and add it to the registry atomically.

    Raises :class:`ServiceValidationError` (with ``.report``) when the file has errors
    (nothing is written), :class:`ServiceExistsError` for a duplicate id without
    ``replace``. ``skip_unplaced`` leaves out the sites that cannot be placed, listing them
    in the package's ``not_placed`` metadata.
    """
    dataset, report = load_service_file(path, meta, columns=columns,
                                        skip_unplaced=skip_unplaced)
    if meta is None and report.ok:
        report.error("metadata", "metadata missing: adding a service needs its service.yaml "
                     "keys")
    if dataset is None or not report.ok:
        raise ServiceValidationError(report)
    folder, replaced = install_service(dataset, replace=replace, root=root, force=force)
    return ServiceAddResult(dataset, report, folder, replaced)


def remove_service(service_id: str, *, root: str | os.PathLike[str] | None = None,
                   force: bool = False) -> Path:
    """Remove a service package (shipped services only with ``force``); returns its path."""
    _check_id(service_id)
    folder = service_registry_root(root)
    if not folder.is_dir():
        raise DataFileError(f"Service registry {folder} is missing")
    target = _remove_package(
        folder, service_id,
        missing_error=lambda: ServiceError(f"No service {service_id!r} in {folder}"),
        guard=lambda: _guard_shipped(folder, service_id, "removing", force))
    default_service_registry.cache_clear()
    return target


class ServiceRegistry:
    """Services on disk plus, optionally, ones added for this session only (dashboard
    uploads, never written to the shared folder). Metadata is read up front; sites on
    first use. A missing registry folder is an empty registry."""

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        self.root = service_registry_root(root)
        self._meta: dict[str, ServiceMeta] = {}
        self._folders: dict[str, Path] = {}
        self._session: dict[str, ServiceDataset] = {}
        self._cache: dict[str, ServiceDataset] = {}
        self._errors: list[str] = []
        if self.root.is_dir():
            self._scan()

    def _scan(self) -> None:
        folders = sorted(p for p in self.root.iterdir() if p.is_dir())
        for folder in folders:
            if folder.name.startswith("."):
                continue
            try:
                meta = read_service_meta(folder)
            except ServiceError as exc:
                self._errors.append(str(exc))
                continue
            self._meta[meta.id] = meta
            self._folders[meta.id] = folder
        for folder in folders:
            # ".replaced-<id>-<token>": serve the previous package until recovery
            if not folder.name.startswith(REPLACED_PREFIX):
                continue
            service_id = folder.name[len(REPLACED_PREFIX):].rpartition("-")[0]
            if service_id in self._meta or not SERVICE_ID.match(service_id):
                continue
            try:
                self._meta[service_id] = read_service_meta(folder, expected_id=service_id)
                self._folders[service_id] = folder
            except ServiceError:
                continue

    @property
    def errors(self) -> list[str]:
        """Packages that could not be read (reported, not fatal for the others)."""
        return list(self._errors)

    def ids(self) -> list[str]:
        """Every service id: on disk, then this session's."""
        return [*self._meta, *(i for i in self._session if i not in self._meta)]

    def metas(self) -> list[ServiceMeta]:
        """Metadata of every service."""
        return [self.meta(i) for i in self.ids()]

    def meta(self, service_id: str) -> ServiceMeta:
        """One service's metadata; ``KeyError`` with close matches for an unknown id."""
        if service_id in self._session:
            return self._session[service_id].meta
        try:
            return self._meta[service_id]
        except KeyError:
            import difflib

            close = difflib.get_close_matches(str(service_id), self.ids(), n=5, cutoff=0.5)
            hint = f" Did you mean: {', '.join(close)}?" if close else ""
            raise KeyError(f"Unknown service {service_id!r}.{hint}") from None

    def get(self, service_id: str) -> ServiceDataset:
        """The service with its sites (read and checked on first use)."""
        if service_id in self._session:
            return self._session[service_id]
        meta = self.meta(service_id)
        if service_id not in self._cache:
            self._cache[service_id] = ServiceDataset(
                meta, read_service_sites(self._folders[service_id], meta))
        return self._cache[service_id]

    def folder(self, service_id: str) -> Path | None:
        """The package folder (``None`` for a session service)."""
        self.meta(service_id)
        return self._folders.get(service_id) if service_id not in self._session else None

    def is_session(self, service_id: str) -> bool:
        """Whether the service was added for this session only."""
        return service_id in self._session

    def add_session_service(self, dataset: ServiceDataset) -> None:
        """Register a service for this registry instance only (an upload)."""
        if dataset.meta.id in self._meta:
            raise ServiceError(f"Service id {dataset.meta.id!r} is already used by a service "
                               "in the registry; choose another id")
        self._session[dataset.meta.id] = dataset

    def discard_session_service(self, service_id: str) -> bool:
        """Drop a session service; ``False`` if there was none."""
        return self._session.pop(service_id, None) is not None


@data_cache(maxsize=2)
def default_service_registry() -> ServiceRegistry:
    """The shared registry of the data directory (read-only; sessions make their own)."""
    return ServiceRegistry()
