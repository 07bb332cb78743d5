"""NHS hospitals as a shipped service: the NHS.uk hospital list (NHS and independent sector,
2022) read through the same reader and registry as an analyst's site list
(:mod:`analysis.ingest.services`), so the shipped layer proves that path, and written to
``data/services/registry/nhs_hospitals_2022/``.

Two quirks of the pack's copy are handled here and logged, not left to the reader: every
data row carries one more cell than the header, a leading 0, 1, 2 … row number written by
pandas without a header cell (it is dropped after checking that it counts the rows); and the
pack's README calls the file latin-1, but its bytes are valid UTF-8 ("St Bartholomew’s"
with a typographic apostrophe, which latin-1 would turn into "â€™"), so it is decoded as
UTF-8 and as latin-1 only when it is not valid UTF-8; the log says which.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from analysis.build.raw import BuildLog, RawDataError, _raw

HOSPITALS_ID = "nhs_hospitals_2022"
RAW_FILE = "england/nhs_hospitals_2022.csv"
COLUMNS = {"site_id": "OrganisationCode", "name": "OrganisationName", "site_type": "Sector",
           "postcode": "Postcode", "latitude": "Latitude", "longitude": "Longitude",
           "parent_code": "ParentODSCode", "parent": "ParentName"}
META: dict[str, Any] = {
    "id": HOSPITALS_ID,
    "title": "Hospitals (NHS.uk list, 2022)",
    "description": "Hospitals listed on the NHS website in 2022, NHS and independent sector: "
                   "acute, community and mental health hospitals, each with its ODS code, "
                   "address, postcode, coordinates and parent organisation. A site count, not "
                   "beds or services: the list says nothing about a hospital's size or "
                   "whether it has an emergency department.",
    "service_kind": "hospital",
    "source": "NHS.uk hospital list (Hospital.csv, NHS website datasets), 2022, as in the "
              "Fairshare data pack",
    "publisher": "NHS England (NHS website)",
    "source_url": "https://www.nhs.uk/about-us/nhs-website-datasets/",
    "licence": "Open Government Licence v3.0",
    "period": "2022",
    "area": "E92000001",
    "catchment_km": 20,
    "built_by": "fairshare data build",
    "notes": "site_type is the list's Sector (NHS Sector or Independent Sector). Points are "
             "the list's own latitude/longitude where given (the postcode's otherwise); areas "
             "come from the postcode through the embedded postcode index.",
}


def _without_row_numbers(data: bytes, log: BuildLog) -> bytes:
    """The CSV without the header-less leading row-number column, when every data row has
    exactly one cell more than the header and that cell counts 0, 1, 2 …"""
    try:
        text, encoding = data.decode("utf-8-sig"), "UTF-8"
    except UnicodeDecodeError:
        text, encoding = data.decode("latin-1"), "latin-1"
    log.cover("hospitals_encoding", read_as=encoding)
    records = list(csv.reader(io.StringIO(text, newline="")))
    header, body = records[0], [r for r in records[1:] if any(c.strip() for c in r)]
    widths = {len(r) for r in body}
    if widths != {len(header) + 1}:
        log.cover("hospitals_row_numbers", dropped=False, widths=sorted(widths))
        return text.encode("utf-8")
    numbers = [r[0] for r in body]
    if numbers != [str(i) for i in range(len(body))]:
        raise RawDataError(f"{RAW_FILE}: every row has one cell more than the header, but the "
                           "extra first cells are not the row numbers 0, 1, 2 …")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(r[1:] for r in body)
    log.cover("hospitals_row_numbers", dropped=True, rows=len(body))
    return out.getvalue().encode("utf-8")


def build_hospitals(raw_dir: Path, log: BuildLog):
    """The NHS.uk hospital list as a :class:`~analysis.ingest.ServiceDataset`, placed by
    the service reader; raises :class:`RawDataError` with the reader's report when the list
    does not validate. Sites that cannot be placed are left out and listed (``not_placed``
    in the package metadata and the build log)."""
    from analysis.ingest import read_service_bytes

    data = _without_row_numbers(_raw(raw_dir, RAW_FILE).read_bytes(), log)
    dataset, report = read_service_bytes(data, Path(RAW_FILE).name, META, columns=COLUMNS,
                                         skip_unplaced=True)
    if dataset is None or not report.ok:
        raise RawDataError(f"{RAW_FILE} did not validate as a service list:\n"
                           f"{report.to_text()}")
    sites = dataset.sites
    log.cover("hospitals", rows=report.rows, placed=report.geocoded, outside=report.outside,
              not_placed=report.not_placed, placement=report.placement,
              by_country=sites["country"].fillna("none").value_counts().to_dict(),
              by_sector=sites["site_type"].fillna("none").value_counts().to_dict(),
              warnings=[i.to_text() for i in report.warnings][:20])
    return dataset


def write_hospitals(dataset, out_dir: Path) -> dict[str, dict[str, Any]]:
    """Install the hospitals package into ``out_dir/services/registry`` (atomically,
    replacing a previous build); returns the manifest ``files`` entries."""
    from analysis.ingest import install_service

    folder, _ = install_service(dataset, replace=True, force=True,
                                root=Path(out_dir) / "services" / "registry")
    # the sites file itself, so that the manifest's checksum covers it
    return {f"services/registry/{folder.name}/sites.parquet": {"rows": int(len(dataset.sites))}}
