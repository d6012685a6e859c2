"""`redflag.spark.screen` in Spark's local mode (local[2]): the shards run as Spark tasks,
and what they find is what `redflag.screen` finds on the same rows, alert for alert and
case for case (docs/spark.md)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Iterator

import polars as pl
import pytest

import redflag
import redflag.spark

WATCHLIST = "samples/watchlist-demo.csv"


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("redflag-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    yield session
    session.stop()


def _generated(tmp_path: Path) -> Path:
    tx, _ = redflag.generate(rows=20_000, accounts=1_500, days=150, seed=5)
    p = tmp_path / "tx.parquet"
    _late_start(tx, shard=1, shards=3).write_parquet(p)
    return p


def _fnv(account: str) -> int:
    """The FNV-1a 64-bit hash of an account, as the partition format names it."""
    h = 0xCBF29CE484222325
    for b in account.encode():
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def _late_start(tx: pl.DataFrame, shard: int, shards: int) -> pl.DataFrame:
    """The transactions without those of `shard`'s accounts in the first three weeks: that
    shard's first transaction is later than the data's, from which baselines count their
    periods."""
    first = tx["ts"].min()
    owned = [
        pl.col(c).map_elements(lambda a: _fnv(a) % shards == shard, return_dtype=pl.Boolean).fill_null(False)
        for c in ("orig_account", "bene_account")
    ]
    early = pl.col("ts") < pl.lit(first) + pl.duration(days=21)
    return tx.filter(~(early & (owned[0] | owned[1])))


def test_spark_finds_what_a_single_run_finds(spark: Any, root: Path, tmp_path: Path) -> None:
    data = _generated(tmp_path)
    lists = {"sanctions": str(root / WATCHLIST)}
    single = redflag.screen(str(data), lists=lists)
    # Network and peer rules (the cross-account stage) and per-account rules all fire.
    rules = set(single.alerts["rule_id"].to_list())
    assert {"FLW-04", "STR-05", "FLW-02B", "DRG-02", "STR-01", "SAN-01", "BEH-01"} <= rules
    frame = spark.read.parquet(str(data)).repartition(3)
    res = redflag.spark.screen(frame, shards=3, lists=lists)
    assert res.result.alerts.equals(single.alerts)
    assert res.result.cases.equals(single.cases)
    assert res.alerts.count() == single.alerts.height
    assert res.cases.count() == single.cases.height
    top = res.cases.orderBy("rank").first()
    assert top["case_id"] == single.cases["case_id"][0]
    assert res.manifest["sharding"]["shards"] == 3
    assert res.manifest["rows_screened"] == single.manifest["rows_screened"]


def test_spark_reads_a_preset_layout_and_quarantines_bad_rows(spark: Any, root: Path, tmp_path: Path) -> None:
    src = root / "tests/data/amlworld-head.csv"
    fx = root / "samples/fx-amlworld.csv"
    single = redflag.screen(str(src), preset="amlworld", fx=str(fx))
    # The layout as the preset names it (the second `Account` column is `Account.1`).
    text = pl.read_csv(src, infer_schema_length=0).rename({"Account_duplicated_0": "Account.1"})
    # One row with an amount that is not a number: quarantined on both sides.
    text = text.with_columns(
        pl.when(pl.int_range(pl.len()) == 7).then(pl.lit("n/a")).otherwise(pl.col("Amount Paid")).alias("Amount Paid")
    )
    # In the frame's order, over Spark partitions: ids are generated from row numbers.
    frame = spark.createDataFrame(text.to_pandas())
    assert frame.rdd.getNumPartitions() >= 2
    res = redflag.spark.screen(frame, shards=2, preset="amlworld", fx=str(fx))
    direct = redflag.screen(text, preset="amlworld", fx=str(fx))
    assert res.result.alerts.equals(direct.alerts)
    assert res.result.cases.equals(direct.cases)
    assert res.manifest["rows_quarantined"] == 1
    assert res.result.quarantine.height == 1
    assert single.alerts.height > 0
    # With score weights: the merge on the driver scores the cases as a single run does.
    weights = tmp_path / "w.yaml"
    fired = sorted(set(direct.alerts["rule_id"].to_list()))
    weights.write_text(f"default: 0\nrules:\n  {fired[0]}: 5\n")
    weighted = redflag.spark.screen(frame, shards=2, preset="amlworld", fx=str(fx), weights=weights)
    direct_weighted = redflag.screen(text, preset="amlworld", fx=str(fx), weights=weights)
    assert weighted.result.cases.equals(direct_weighted.cases)
    assert weighted.manifest["weights"][0] == str(weights)
    assert weighted.result.cases["score"].to_list() != res.result.cases["score"].to_list()


def test_spark_refuses_ids_repeated_across_partitions(spark: Any, tmp_path: Path) -> None:
    tx, _ = redflag.generate(rows=2_000, accounts=200, days=60, seed=3)
    # Row 1,500 takes row 3's id: the two fall in different Spark partitions.
    first_id = tx["txn_id"][3]
    repeated = tx.with_columns(
        pl.when(pl.int_range(pl.len()) == 1_500).then(pl.lit(first_id)).otherwise(pl.col("txn_id")).alias("txn_id")
    )
    frame = spark.createDataFrame(repeated.to_pandas())
    assert frame.rdd.getNumPartitions() == 2
    with pytest.raises(redflag.InputError, match="repeated across its partitions"):
        redflag.spark.screen(frame, shards=2)
