"""The same audit on Apache Spark (``local[*]``) and on DuckDB gives identical counts.

Spark needs Java 17 and the ``pyspark`` package: both are installed by ``.ci/run``, so in CI
(``CI=true``) a missing Spark is a failure, not a skip."""

from __future__ import annotations

import os
import shutil

import pandas as pd
import pytest

from analysis.audit.engine import clean_activity, connect, count_activity, open_activity
from analysis.audit.results import run_audit
from analysis.audit.run import simulated_example

IN_CI = os.environ.get("CI", "").lower() == "true"


def spark_available() -> str | None:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "pyspark is not installed"
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return "no Java runtime (install openjdk-17-jre-headless)"
    return None


@pytest.fixture(scope="module")
def spark_engine():
    problem = spark_available()
    if problem:
        if IN_CI:
            pytest.fail(f"Spark is required in CI: {problem}")
        pytest.skip(problem)
    engine = connect("spark")
    yield engine
    engine.con._session.stop()


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    folder = tmp_path_factory.mktemp("spark")
    frame = simulated_example(20_000, "E08000010", seed=3)  # Wigan
    path = folder / "records.parquet"
    frame.to_parquet(path, index=False)
    csv = folder / "records.csv"
    frame.to_csv(csv, index=False)
    return path, csv


def counts_on(engine, source):
    return count_activity(engine, clean_activity(engine, open_activity(engine, source)))


@pytest.mark.parametrize("kind", ["parquet", "csv"])
def test_spark_and_duckdb_count_the_same(spark_engine, records, kind):
    source = records[0] if kind == "parquet" else records[1]
    duck = connect("duckdb")
    try:
        on_duck = counts_on(duck, source)
    finally:
        duck.close()
    on_spark = counts_on(spark_engine, source)
    assert on_duck.rows == on_spark.rows == 20_000
    pd.testing.assert_frame_equal(on_duck.cells, on_spark.cells)
    pd.testing.assert_frame_equal(on_duck.areas, on_spark.areas)
    pd.testing.assert_frame_equal(on_duck.ethnicity, on_spark.ethnicity)
    assert on_duck.splits.keys() == on_spark.splits.keys() == {"site"}
    pd.testing.assert_frame_equal(on_duck.splits["site"], on_spark.splits["site"])
    assert on_duck.dates == on_spark.dates
    # and therefore the same findings
    a = run_audit(on_duck, area_code="E08000010")
    b = run_audit(on_spark, area_code="E08000010")
    pd.testing.assert_frame_equal(a.by_quintile, b.by_quintile)
    assert a.excluded == b.excluded
