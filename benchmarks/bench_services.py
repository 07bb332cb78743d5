"""Services benchmark: read, check and place a 50,000-site list, and measure access to a new
service for every LSOA 2021 in England.

The site list is real postcodes sampled from the embedded index (live, terminated and
Welsh ones in their real proportions), written the way downloaded lists carry them (lower
case, no space, doubled spaces), 0.5% of them not postcodes at all, with a capacity column;
it goes through the whole reader (CSV parsing, column detection, postcode and capacity
checks, placing, the site table) with ``skip_unplaced``. A second list gives the same sites
as latitude/longitude only, placed by point in polygon. The access run is a new service of
10,000 sites across England with capacities: nearest site, sites within 10 km and E2SFCA
(10 km) for all 33,755 LSOAs. Targets on the project's 2-core machine: placing 50,000
sites ≤ 2 s; access across England ≤ 3 s. First calls include loading the postcode index
or the geography pack and are shown separately.

    .venv/bin/python benchmarks/bench_services.py [--sites 50000] [--seed 11]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analysis.access.service_access import access_to_service  # noqa: E402
from analysis.data import geocode_postcodes, load_postcode_index  # noqa: E402
from analysis.ingest import read_service_bytes  # noqa: E402

META = {"id": "bench_sites", "title": "Benchmark sites", "description": "Synthetic.",
        "service_kind": "site", "source": "benchmark", "licence": "OGL", "period": "2024",
        "capacity_unit": "staff"}


def site_list(index: pd.DataFrame, rows: int, rng: np.random.Generator) -> pd.DataFrame:
    """A downloaded-looking site list of real postcodes with messy spellings."""
    real = index["postcode"].to_numpy()[rng.integers(0, len(index), rows)].astype(str)
    style = rng.integers(0, 4, rows)
    cells = np.select([style == 0, style == 1, style == 2],
                      [real, np.char.lower(real), np.char.replace(real, " ", "")],
                      default=np.char.replace(real, " ", "  ")).astype(object)
    bad = rng.random(rows) < 0.005
    cells[bad] = "not known"
    return pd.DataFrame({"Site ID": [f"S{i:06d}" for i in range(rows)],
                         "Name": [f"Benchmark site {i}" for i in range(rows)],
                         "Postcode": cells, "Staff": rng.integers(1, 30, rows)})


def timed(label: str, action):
    start = time.perf_counter()
    result = action()
    print(f"{label:<52} {time.perf_counter() - start:7.2f} s")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)

    index = timed("load the postcode index (first use)", load_postcode_index)
    frame = site_list(index, args.sites, rng)
    data = frame.to_csv(index=False).encode()
    print(f"site list: {args.sites:,} rows, {len(data) / 1e6:.1f} MB of CSV")
    timed("geocode 1,000 postcodes (warms PROJ)",
          lambda: geocode_postcodes(frame["Postcode"].head(1000).astype(str)))
    dataset, report = timed(f"read, check and place {args.sites:,} sites by postcode",
                            lambda: read_service_bytes(data, "sites.csv", META,
                                                       skip_unplaced=True))
    assert report.ok, report.to_text(limit=5)
    print(f"  placed {report.geocoded:,} ({report.placed_share:.1%}); outside England and "
          f"Scotland {report.outside:,}; not placed {len(report.not_placed):,}")
    for how, count in report.placement.items():
        print(f"    {how}: {count:,}")

    located = dataset.sites.dropna(subset=["latitude"]).head(args.sites)
    by_xy = pd.DataFrame({"Site ID": located["site_id"], "Latitude": located["latitude"],
                          "Longitude": located["longitude"]})
    xy = by_xy.to_csv(index=False).encode()
    timed(f"read and place {len(by_xy):,} sites by coordinates (first: pack)",
          lambda: read_service_bytes(xy, "xy.csv", META, skip_unplaced=True))
    _, xy_report = timed(f"read and place {len(by_xy):,} sites by coordinates",
                         lambda: read_service_bytes(xy, "xy.csv", META, skip_unplaced=True))
    print(f"  placed {xy_report.geocoded:,}; outside {xy_report.outside:,}")

    england = dataset.sites[dataset.sites["country"] == "E"]
    new = england.sample(min(10_000, len(england)), random_state=args.seed).reset_index(
        drop=True)
    new = new.assign(site_id=[f"N{i:05d}" for i in range(len(new))])
    service = {"id": "bench_new", "title": "New service", "capacity_unit": "staff",
               "area": "E92000001"}
    timed(f"access across England, {len(new):,} sites (first: pack)",
          lambda: access_to_service(new, service=service, area="E92000001"))
    result = timed(f"access across England, {len(new):,} sites",
                   lambda: access_to_service(new, service=service, area="E92000001"))
    print(f"  {result.summary()}")
    print(f"  E2SFCA: {result.e2sfca_summary}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(f"peak RSS {peak:,.0f} MB")


if __name__ == "__main__":
    main()
