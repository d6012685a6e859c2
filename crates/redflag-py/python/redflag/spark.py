"""Screening a Spark DataFrame on the cluster it lives on (docs/spark.md).

    import redflag.spark
    res = redflag.spark.screen(spark.read.parquet("s3://bank/payments/"), preset="amlworld")
    res.alerts.show()       # a Spark DataFrame: the rows of alerts.csv
    res.cases               # a Spark DataFrame: one row a case, ranked
    res.manifest            # dict, as manifest.json
    res.result.write("out/", ("json", "csv", "html"))   # the CLI's files

The transactions are read and checked on the executors, a Spark partition at a time, and
split by a stable hash of the account into shards; each shard screens its own accounts
on an executor (``groupBy(shard).applyInArrow``), the rules across accounts run once as a
unit of their own, and the driver merges what they found into the cases a single run of
the same data would give. The ``redflag`` package must be installed on the executors.
"""

from __future__ import annotations

import importlib
import json as _json
import uuid as _uuid
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

import pyarrow as pa  # type: ignore[import-untyped]

from . import Lists, Pack, Params, PathLike, Result, _lists, _only, _path, _redflag, _sets
from ._redflag import InputError

__all__ = ["screen", "SparkResult"]

# What the map stage gives, a row per item: a shard's part of a Spark partition
# (``part``: ``unit`` the shard, or the shard count for the cross-account stage; ``body``
# Parquet bytes), the partition's quarantine, its counts (``meta``: JSON), and the
# transaction id of each screened row (``id``), for finding ids repeated across
# partitions.
_MAPPED = pa.schema(
    [("kind", pa.string()), ("unit", pa.int32()), ("body", pa.binary()), ("txn_id", pa.string())]
)
_MAPPED_DDL = "kind string, unit int, body binary, txn_id string"
# What a unit's run gives: its files, a row each.
_RUN = pa.schema([("unit", pa.int32()), ("name", pa.string()), ("body", pa.binary())])
_RUN_DDL = "unit int, name string, body binary"
_COUNTS = pa.schema([("p", pa.int32()), ("count", pa.int64())])
_NAME = "spark DataFrame"
_IDS_PER_BATCH = 100_000


class SparkResult:
    """What ``redflag.spark.screen`` found: ``alerts`` and ``cases`` as Spark DataFrames
    (the columns of ``Result.alerts`` and ``Result.cases``), the ``manifest``, and the
    ``result`` as ``redflag.screen`` gives it (for ``write``, ``to_html``)."""

    def __init__(self, result: Result, spark: Any) -> None:
        self.result = result
        self.manifest: Dict[str, Any] = result.manifest
        self.alerts: Any = _to_spark(spark, result.alerts)
        self.cases: Any = _to_spark(spark, result.cases.drop(["alerts", "transactions"], strict=False))

    def __len__(self) -> int:
        return len(self.result)

    def __repr__(self) -> str:
        return f"<redflag.spark.SparkResult: {len(self.result)} cases>"


def screen(
    df: Any,
    *,
    shards: Optional[int] = None,
    rules: Union[None, PathLike, Sequence[PathLike]] = None,
    params: Optional[Params] = None,
    lists: Optional[Lists] = None,
    only: Union[None, str, Iterable[str]] = None,
    preset: Optional[str] = None,
    mapping: Optional[PathLike] = None,
    fx: Optional[PathLike] = None,
    min_score: Optional[float] = None,
    threads: Optional[int] = None,
    weights: Optional[PathLike] = None,
) -> SparkResult:
    """Screens a Spark DataFrame of transactions, in any layout a preset or mapping
    describes, on the executors; the result is the one ``redflag.screen`` gives for the
    same rows (alerts and cases identical), with the manifest.

    shards: how many shards (default: the DataFrame's partition count); rules, params,
    lists, only, preset, mapping, fx, min_score, threads, weights: as ``redflag.screen``
    (paths must be readable on the executors too). The data must hold transaction ids.
    """
    if isinstance(rules, Pack):
        raise TypeError("rules: give pack paths (the executors load them), not a Pack")
    spec = _spec(rules, params, lists, only, preset, mapping, fx, threads, weights)
    n = int(shards) if shards is not None else max(1, int(df.rdd.getNumPartitions()))
    if n < 1:
        raise ValueError("shards must be at least 1")
    started = _now()
    # Columns by position while in Spark: a name such as `Account.1` would read as a field.
    names = [str(c) for c in df.columns]
    base = df.toDF(*[f"_c{i}" for i in range(len(names))])
    offsets = _offsets(base)
    # Kept on the executors' disks, not in their memory: the mapped rows are read twice
    # or three times (ids, peer groups, shards), a unit's at a time.
    disk = importlib.import_module("pyspark").StorageLevel.DISK_ONLY
    mapped = base.mapInArrow(_map_batches(spec, n, names, offsets), _MAPPED_DDL).persist(disk)
    try:
        partition, quarantines = _partition(df, mapped, spec, n)
        partition = _peer_groups(mapped, spec, partition)
        runs = _run_units(mapped, spec, partition, n)
    finally:
        mapped.unpersist()
    native = _redflag.shard_merge(
        runs, quarantines, spec, 0.0 if min_score is None else float(min_score), started
    )
    return SparkResult(Result(native), df.sparkSession)


def _spec(
    rules: Union[None, PathLike, Sequence[PathLike]],
    params: Optional[Params],
    lists: Optional[Lists],
    only: Union[None, str, Iterable[str]],
    preset: Optional[str],
    mapping: Optional[PathLike],
    fx: Optional[PathLike],
    threads: Optional[int],
    weights: Optional[PathLike] = None,
) -> str:
    paths: List[str] = []
    if isinstance(rules, (str,)) or hasattr(rules, "__fspath__"):
        paths = [str(_path(rules))]
    elif rules is not None:
        paths = [str(_path(r)) for r in rules]
    return _json.dumps(
        {
            "rules": paths,
            "preset": preset,
            "mapping": _path(mapping),
            "fx": _path(fx),
            "sets": _sets(params),
            "lists": _lists(lists),
            "only": _only(only),
            "threads": threads,
            "weights": _path(weights),
        }
    )


def _count_rows(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """A Spark partition's id and row count (run as the map stage runs, on the same
    partitions)."""
    pid = importlib.import_module("pyspark").TaskContext.get().partitionId()
    rows = sum(b.num_rows for b in batches)
    yield pa.RecordBatch.from_pydict({"p": [pid], "count": [rows]}, schema=_COUNTS)


def _offsets(base: Any) -> Dict[int, Tuple[int, int]]:
    """Each Spark partition's first row in the whole DataFrame, and its row count: the
    rows are numbered as a single run numbers the records of one input."""
    counts = base.mapInArrow(_count_rows, "p int, count long").collect()
    out: Dict[int, Tuple[int, int]] = {}
    first = 0
    for r in sorted(counts, key=lambda r: int(r["p"])):
        out[int(r["p"])] = (first, int(r["count"]))
        first += int(r["count"])
    return out


def _map_batches(spec: str, n: int, names: List[str], offsets: Dict[int, Tuple[int, int]]) -> Any:
    """The map stage, run on the executors: a Spark partition's rows numbered, read,
    checked and split by shard (its columns named `names` again)."""

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        got = list(batches)
        if not got:
            return
        table = pa.Table.from_batches(got).rename_columns(names)
        pid = importlib.import_module("pyspark").TaskContext.get().partitionId()
        first, count = offsets.get(pid, (-1, -1))
        if count != table.num_rows:
            raise InputError(
                f"{_NAME}: partition {pid} holds {table.num_rows} rows, not the {count} it held when "
                "counted: the DataFrame is not deterministic; persist or checkpoint it first"
            )
        table = table.append_column("_row", pa.array(range(first, first + count), type=pa.int64()))
        parts, quarantine, ids, present, rows_read, rows_q, earliest = _redflag.shard_batch(table, spec, n, _NAME)
        for unit, body in parts:
            yield _mapped_batch(["part"], [unit], [body], [None])
        yield _mapped_batch(["quarantine"], [None], [quarantine], [None])
        meta = _json.dumps(
            {"present": present, "rows_read": rows_read, "rows_quarantined": rows_q, "first_time": earliest}
        )
        yield _mapped_batch(["meta"], [None], [meta.encode()], [None])
        for i in range(0, len(ids), _IDS_PER_BATCH):
            chunk = ids[i : i + _IDS_PER_BATCH]
            k = len(chunk)
            yield _mapped_batch(["id"] * k, [None] * k, [None] * k, chunk)

    return run


def _mapped_batch(kind: List[str], unit: List[Any], body: List[Any], txn_id: List[Any]) -> pa.RecordBatch:
    return pa.RecordBatch.from_pydict(
        {"kind": kind, "unit": unit, "body": body, "txn_id": txn_id}, schema=_MAPPED
    )


def _partition(df: Any, mapped: Any, spec: str, n: int) -> Tuple[str, List[bytes]]:
    """The partition's description from the map stage's counts, and its quarantines; an
    id repeated across Spark partitions is an error (within one, it is quarantined)."""
    repeated = (
        mapped.filter("kind = 'id'").groupBy("txn_id").count().filter("count > 1").limit(5).collect()
    )
    if repeated:
        ids = ", ".join(repr(r["txn_id"]) for r in repeated)
        raise InputError(
            f"{_NAME}: transaction ids repeated across its partitions ({ids}): remove the "
            "repeated rows, or screen the data with the redflag command, which quarantines them"
        )
    metas = [_json.loads(bytes(r["body"])) for r in mapped.filter("kind = 'meta'").select("body").collect()]
    if metas:
        present = metas[0]["present"]
    else:
        present = _present_of_empty(df, spec, n)
    rows_read = sum(int(m["rows_read"]) for m in metas)
    rows_q = sum(int(m["rows_quarantined"]) for m in metas)
    firsts = [int(m["first_time"]) for m in metas if m["first_time"] is not None]
    first = min(firsts) if firsts else None
    partition = _redflag.shard_partition(spec, n, present, _NAME, rows_read, rows_q, first, _uuid.uuid4().hex)
    quarantines = [bytes(r["body"]) for r in mapped.filter("kind = 'quarantine'").select("body").collect()]
    return partition, quarantines


def _present_of_empty(df: Any, spec: str, n: int) -> List[str]:
    """The columns an empty DataFrame's layout supplies."""
    empty = df.limit(0).toArrow()
    table = empty.append_column("_row", pa.array([], type=pa.int64()))
    return list(_redflag.shard_batch(table, spec, n, _NAME)[3])


def _peer_groups(mapped: Any, spec: str, partition: str) -> str:
    """The partition with the statistics of its peer groups (baselines against peers),
    from what each shard's accounts give, worked out on the executors before any shard
    screens."""
    described = _json.loads(partition)
    if not described["peer_rules"]:
        return partition

    def tally(table: pa.Table) -> pa.Table:
        unit = int(table.column("unit")[0].as_py())
        bodies = [b for b in table.column("body").to_pylist()]
        body = _redflag.shard_peer_tally(bodies, spec, partition, unit).encode()
        return pa.Table.from_pydict({"unit": [unit], "name": ["tally"], "body": [body]}, schema=_RUN)

    n = int(described["shards"])
    parts = mapped.filter(f"kind = 'part' AND unit < {n}").select("unit", "body")
    rows = parts.groupBy("unit").applyInArrow(tally, _RUN_DDL).collect()
    return _redflag.shard_peer_groups(partition, [bytes(r["body"]).decode() for r in rows])


def _run_units(mapped: Any, spec: str, partition: str, n: int) -> List[List[Tuple[str, bytes]]]:
    """Each shard, and the cross-account stage (unit ``n``), screened on the executors;
    a unit no row falls in is screened here, on no rows."""
    has_cross = bool(_json.loads(partition)["cross_rules"])

    def run(table: pa.Table) -> pa.Table:
        unit = int(table.column("unit")[0].as_py())
        bodies = [b for b in table.column("body").to_pylist()]
        files = _redflag.shard_run(bodies, spec, partition, unit)
        return pa.Table.from_pydict(
            {"unit": [unit] * len(files), "name": [f for f, _ in files], "body": [b for _, b in files]},
            schema=_RUN,
        )

    parts = mapped.filter("kind = 'part'").select("unit", "body")
    rows = parts.groupBy("unit").applyInArrow(run, _RUN_DDL).collect()
    runs: Dict[int, List[Tuple[str, bytes]]] = {}
    for r in rows:
        runs.setdefault(int(r["unit"]), []).append((str(r["name"]), bytes(r["body"])))
    for unit in list(range(n)) + ([n] if has_cross else []):
        if unit not in runs:
            runs[unit] = [(name, bytes(body)) for name, body in _redflag.shard_run([], spec, partition, unit)]
    return [runs[u] for u in sorted(runs)]


def _to_spark(spark: Any, frame: Any) -> Any:
    """A polars frame as a Spark DataFrame."""
    return spark.createDataFrame(frame.to_arrow())


def _now() -> str:
    import datetime

    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
