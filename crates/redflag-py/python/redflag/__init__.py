"""redflag: screen financial transactions against FATF-style money-laundering and
terrorist-financing red-flag rules, in process, on files or data frames.

The same engine, rules and outputs as the ``redflag`` command::

    import redflag
    res = redflag.screen("samples/demo.csv")
    res.cases            # polars DataFrame, one row per case, ranked
    res.alerts           # the rows of alerts.csv
    res.write("out/")    # the CLI's files, byte for byte

Frames cross into the Rust engine through the Arrow C stream interface (polars, pyarrow,
pandas through pyarrow) without copying their buffers; results come back as polars
DataFrames the same way. Errors are ``RedflagError`` and its subclasses, with the
messages the command prints. Red flags are signals to weigh, never verdicts.
"""

from __future__ import annotations

import html as _html
import io as _io
import json as _json
import os as _os
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union, cast

import polars as pl

from . import _redflag
from ._redflag import (
    CancelledError,
    FileError,
    InputError,
    ListError,
    PackError,
    ParameterError,
    RedflagError,
    ReportError,
    RuleError,
)

__version__: str = _redflag.__version__

__all__ = [
    "screen",
    "evaluate",
    "generate",
    "Pack",
    "Result",
    "RedflagError",
    "PackError",
    "ParameterError",
    "InputError",
    "ListError",
    "FileError",
    "RuleError",
    "ReportError",
    "CancelledError",
    "__version__",
]

PathLike = Union[str, "_os.PathLike[str]"]
#: What ``screen`` and ``evaluate`` read: a path, several paths or glob patterns, a polars
#: DataFrame or LazyFrame, a pandas DataFrame, a pyarrow Table, or any object with
#: ``__arrow_c_stream__``.
Data = Any
#: Parameter overrides: ``{"reporting_threshold": 15000, "STR-01.min_deposits_7d": 3}``.
Params = Mapping[str, Union[int, float, bool, str]]
#: Lists bound by name: a path (a reference list, one value a line, or a watch list) or a
#: list of values.
Lists = Mapping[str, Union[PathLike, Iterable[str]]]

# The fields of a case in cases.json, in order: the columns of an empty ``cases`` frame.
_CASE_COLUMNS = (
    "case_id",
    "rank",
    "accounts",
    "score",
    "severity",
    "typologies",
    "rule_ids",
    "first_ts",
    "last_ts",
    "txn_count",
    "total_amount_base",
    "counterparties",
    "countries",
    "summary",
    "transactions",
    "alerts",
)


def _is_path(x: Any) -> bool:
    return isinstance(x, (str, _os.PathLike))


def _data(data: Data) -> Tuple[Optional[List[str]], Any, str]:
    """(paths, frame, name) for the native functions."""
    if _is_path(data):
        return [_os.fspath(data)], None, ""
    if isinstance(data, (list, tuple)) and data and all(_is_path(d) for d in data):
        return [_os.fspath(d) for d in data], None, ""
    if isinstance(data, pl.LazyFrame):
        return None, data.collect(), "polars.LazyFrame"
    if isinstance(data, pl.DataFrame):
        return None, data, "polars.DataFrame"
    module = type(data).__module__.split(".")[0]
    if module == "pandas" and type(data).__name__ == "DataFrame":
        import pyarrow as pa  # type: ignore[import-untyped]  # pandas frames cross through pyarrow, once

        return None, pa.Table.from_pandas(data, preserve_index=False), "pandas.DataFrame"
    if hasattr(data, "__arrow_c_stream__"):
        return None, data, f"{module}.{type(data).__name__}"
    raise TypeError(
        f"cannot screen a {type(data).__name__}: give a path (or several, or a glob), a polars "
        "DataFrame or LazyFrame, a pandas DataFrame or a pyarrow Table"
    )


def _param_text(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _sets(params: Optional[Params]) -> List[str]:
    return [f"{k}={_param_text(v)}" for k, v in (params or {}).items()]


def _lists(lists: Optional[Lists]) -> List[Tuple[str, Optional[str], Optional[List[str]]]]:
    out: List[Tuple[str, Optional[str], Optional[List[str]]]] = []
    for name, v in (lists or {}).items():
        if isinstance(v, (str, _os.PathLike)):
            out.append((name, _os.fspath(v), None))
        else:
            out.append((name, None, [str(x) for x in v]))
    return out


def _only(only: Union[None, str, Iterable[str]]) -> List[str]:
    if only is None:
        return []
    if isinstance(only, str):
        return [s.strip() for s in only.split(",") if s.strip()]
    return list(only)


def _rules(rules: Union[None, PathLike, Sequence[PathLike], "Pack"]) -> Tuple[Any, List[str]]:
    """(native pack, pack paths)."""
    if rules is None:
        return None, []
    if isinstance(rules, Pack):
        return rules._native, []
    if isinstance(rules, (str, _os.PathLike)):
        return None, [_os.fspath(rules)]
    return None, [_os.fspath(r) for r in rules]


def _path(p: Optional[PathLike]) -> Optional[str]:
    return None if p is None else _os.fspath(p)


def _frame(stream: Any) -> pl.DataFrame:
    return pl.DataFrame(stream)


class Pack:
    """A rule pack: the built-in ``fatf-core`` pack or a pack file (YAML or TOML), checked.

    ``pack.rules`` lists its rules (as ``redflag rules list``); give a pack to ``screen``
    as ``rules=pack``.
    """

    def __init__(self, native: _redflag.Pack) -> None:
        self._native = native

    @classmethod
    def builtin(cls) -> "Pack":
        """The built-in ``fatf-core`` pack, with its lists."""
        return cls(_redflag.Pack.builtin())

    @classmethod
    def load(cls, path: PathLike) -> "Pack":
        """Reads and checks a pack file; a ``PackError`` lists every problem with its file,
        line, column, rule and field (``err.problems``)."""
        return cls(_redflag.Pack.load(_os.fspath(path)))

    def configure(
        self,
        *,
        params: Optional[Params] = None,
        lists: Optional[Lists] = None,
        only: Union[None, str, Iterable[str]] = None,
    ) -> "Pack":
        """A copy with parameters overridden, lists bound and only some rules kept, checked
        again (as ``--set``, ``--list`` and ``--only``)."""
        return Pack(self._native.configured(_sets(params), _lists(lists), _only(only)))

    @property
    def id(self) -> str:
        """The pack's id."""
        return self._native.id

    @property
    def version(self) -> str:
        """The pack's version."""
        return self._native.version

    @property
    def title(self) -> str:
        """The pack's title."""
        return self._native.title

    @property
    def base_currency(self) -> str:
        """The currency amounts are compared in."""
        return self._native.base_currency

    @property
    def source(self) -> str:
        """Where the pack came from (``builtin:...`` or its path)."""
        return self._native.source

    @property
    def params(self) -> Dict[str, Any]:
        """Pack-wide parameters and their values."""
        return cast(Dict[str, Any], _json.loads(self._native.params_json()))

    @property
    def rules(self) -> pl.DataFrame:
        """One row a rule: ``id``, ``kind``, ``severity``, ``typologies`` (a list), ``title``."""
        return _frame(self._native.rules())

    def catalogue(self) -> str:
        """The pack's catalogue in Markdown, as ``redflag rules doc`` writes it."""
        return self._native.catalogue()

    def __len__(self) -> int:
        return len(self._native)

    def __repr__(self) -> str:
        return f"<redflag.Pack {self.id} {self.version}: {len(self)} rules>"


class Result:
    """What a screening found: ranked cases, their alerts, the quarantined rows, the
    manifest; ``write`` writes the files the ``redflag`` command writes."""

    def __init__(self, native: _redflag.Screen) -> None:
        self._native = native
        self._cache: Dict[str, Any] = {}

    @property
    def cases(self) -> pl.DataFrame:
        """One row per case, ranked (the fields of cases.json's cases; ``accounts``,
        ``rule_ids``, ``transactions``, ``alerts`` ... are lists, alerts and transactions
        lists of structs)."""
        if "cases" not in self._cache:
            if self._native.case_count() == 0:
                df = pl.DataFrame({c: [] for c in _CASE_COLUMNS})
            else:
                text = self._native.cases_json().encode()
                df = pl.read_json(_io.BytesIO(text), infer_schema_length=None)
            self._cache["cases"] = df
        return cast(pl.DataFrame, self._cache["cases"])

    @property
    def alerts(self) -> pl.DataFrame:
        """The rows of alerts.csv: one per alert and transaction, in case rank order
        (``ts`` as a datetime, ``amount_base`` not rounded)."""
        if "alerts" not in self._cache:
            self._cache["alerts"] = _frame(self._native.alerts())
        return cast(pl.DataFrame, self._cache["alerts"])

    @property
    def quarantine(self) -> pl.DataFrame:
        """The rows that could not be screened, with their file, row and reason (the
        columns of quarantine.csv)."""
        if "quarantine" not in self._cache:
            self._cache["quarantine"] = _frame(self._native.quarantine())
        return cast(pl.DataFrame, self._cache["quarantine"])

    @property
    def manifest(self) -> Dict[str, Any]:
        """The run's manifest, as manifest.json: pack, parameters, lists, inputs with their
        sha256, row counts, rules run and not applicable, alerts per rule."""
        if "manifest" not in self._cache:
            self._cache["manifest"] = _json.loads(self._native.manifest_json())
        return cast(Dict[str, Any], self._cache["manifest"])

    def write(
        self,
        out_dir: PathLike,
        formats: Iterable[str] = ("json", "csv"),
        *,
        goaml_config: Optional[PathLike] = None,
    ) -> Dict[str, Any]:
        """Writes the files ``redflag screen --out OUT_DIR --format ...`` writes, byte for
        byte (the run's times aside), whole or not at all: ``manifest.json``,
        ``quarantine.csv`` when rows were set aside, and per format ``cases.json`` (json),
        ``alerts.csv`` (csv), ``report.md`` (md), ``report.html`` (html), goAML drafts
        (goaml, with ``goaml_config``). Returns the manifest written."""
        text = self._native.write(_os.fspath(out_dir), list(formats), _path(goaml_config))
        return cast(Dict[str, Any], _json.loads(text))

    def to_html(self) -> str:
        """The self-contained HTML report (report.html) as text."""
        return self._native.report("html")

    def to_markdown(self) -> str:
        """The Markdown report (report.md) as text."""
        return self._native.report("md")

    def __len__(self) -> int:
        return self._native.case_count()

    def __repr__(self) -> str:
        m = self.manifest
        return (
            f"<redflag.Result: {m['rows_screened']} rows screened, {m['rows_quarantined']} quarantined; "
            f"{m['alerts']} alerts in {m['cases']} cases; pack {m['pack']['id']} {m['pack']['version']}>"
        )

    def _repr_html_(self, top: int = 20) -> str:
        """The ranked cases as a table, for notebooks."""
        m = self.manifest
        e = _html.escape
        head = (
            f"<p><b>redflag</b>: {m['rows_screened']} rows screened, {m['rows_quarantined']} quarantined; "
            f"{m['alerts']} alerts in {m['cases']} cases; pack {e(m['pack']['id'])} {e(m['pack']['version'])}</p>"
        )
        cols = ("rank", "case_id", "score", "severity", "accounts", "txn_count", "total_amount_base", "rule_ids", "summary")
        rows = []
        cases = self.cases
        for r in cases.head(top).select(cols).iter_rows(named=True):
            cells = []
            for c in cols:
                v = r[c]
                if isinstance(v, list):
                    v = ", ".join(str(x) for x in v)
                elif isinstance(v, float):
                    v = f"{v:,.2f}"
                cells.append(f"<td>{e(str(v))}</td>")
            rows.append("<tr>" + "".join(cells) + "</tr>")
        more = f"<p>… and {cases.height - top} more cases</p>" if cases.height > top else ""
        table = (
            "<table><thead><tr>"
            + "".join(f"<th>{c}</th>" for c in cols)
            + "</tr></thead><tbody>"
            + "".join(rows)
            + "</tbody></table>"
        )
        return head + table + more


def screen(
    data: Data,
    *,
    rules: Union[None, PathLike, Sequence[PathLike], Pack] = None,
    preset: Optional[str] = None,
    mapping: Optional[PathLike] = None,
    fx: Optional[PathLike] = None,
    params: Optional[Params] = None,
    lists: Optional[Lists] = None,
    only: Union[None, str, Iterable[str]] = None,
    min_score: Optional[float] = None,
    threads: Optional[int] = None,
    weights: Optional[PathLike] = None,
) -> Result:
    """Screens transactions with a rule pack, as ``redflag screen`` does.

    data: a path, several paths or glob patterns (CSV, Parquet, NDJSON), a polars
        DataFrame or LazyFrame (collected), a pandas DataFrame, a pyarrow Table.
    rules: pack files run one after the other, or a ``Pack``; default the built-in pack.
    preset: a mapping preset (``canonical``, ``amlworld``); mapping: a mapping file.
    fx: FX rates into the base currency (``currency,rate_to_base[,date]``).
    params: parameter overrides, ``{"reporting_threshold": 15000, "STR-01.min_deposits_7d": 3}``.
    lists: lists bound by name, to a path or to a list of values.
    only: only these rules (ids or aliases; a list or ``"STR-01,STR-02"``).
    min_score: leave out cases scoring under this.
    threads: worker threads (default: all cores); the result is the same whatever the count.
    weights: a weights file laid over the case score (as ``redflag tune`` writes it and
        ``screen --weights`` reads it; docs/cases.md): per-rule factors, recorded in the
        manifest, with each case's ``score_parts``.

    The GIL is released while screening; Ctrl-C stops the run before its next rule and
    raises ``KeyboardInterrupt``.
    """
    paths, frame, name = _data(data)
    native_pack, pack_paths = _rules(rules)
    return Result(
        _redflag.screen(
            paths,
            frame,
            name,
            native_pack,
            pack_paths,
            preset,
            _path(mapping),
            _path(fx),
            _sets(params),
            _lists(lists),
            _only(only),
            0.0 if min_score is None else float(min_score),
            threads,
            _path(weights),
        )
    )


def evaluate(
    data: Data,
    *,
    labels: Union[None, PathLike, Any] = None,
    label_column: Optional[str] = None,
    rules: Union[None, PathLike] = None,
    preset: Optional[str] = None,
    mapping: Optional[PathLike] = None,
    fx: Optional[PathLike] = None,
    params: Optional[Params] = None,
    lists: Optional[Lists] = None,
    only: Union[None, str, Iterable[str]] = None,
    sweep: Optional[str] = None,
    weights: Optional[PathLike] = None,
) -> Dict[str, Any]:
    """Precision and recall of a pack against labelled transactions, as ``redflag
    evaluate`` (the dict is evaluation.json).

    labels: a labels file (CSV or Parquet: ``txn_id,scheme_id,typology[,account,role,pattern]``)
        or a frame with those columns, such as the second frame of ``generate``; or
    label_column: a column of the data that is true for laundering rows.
    sweep: ``"RULE.PARAM=START..END:STEP"`` re-runs one rule over a range of one parameter.
    weights: a weights file: the case ranking's figures are those of the weighted score.
    The other arguments are those of ``screen``.
    """
    paths, frame, name = _data(data)
    labels_path: Optional[str] = None
    labels_frame: Any = None
    if labels is not None:
        if isinstance(labels, (str, _os.PathLike)):
            labels_path = _os.fspath(labels)
        else:
            _, labels_frame, _ = _data(labels)
    if isinstance(rules, Pack):
        raise TypeError("evaluate takes pack files as rules; give the pack's path")
    _, pack_paths = _rules(rules)
    text = _redflag.evaluate(
        paths,
        frame,
        name,
        labels_path,
        labels_frame,
        label_column,
        pack_paths,
        preset,
        _path(mapping),
        _path(fx),
        _sets(params),
        _lists(lists),
        _only(only),
        sweep,
        _path(weights),
    )
    return cast(Dict[str, Any], _json.loads(text))


def generate(
    *,
    rows: int = 100_000,
    accounts: int = 10_000,
    days: int = 180,
    seed: int = 1,
    start: str = "2025-01-01",
    fraction: float = 0.01,
    typologies: Optional[Iterable[str]] = None,
    profile: str = "easy",
) -> Tuple[pl.DataFrame, pl.DataFrame]:
    """Synthetic transactions with planted, labelled schemes, as ``redflag generate``:
    (transactions in the canonical layout, labels ``txn_id,scheme_id,typology,account,role,pattern``).

    The same seed and options give the same frames. typologies: plant only these (rule
    ids, AMLworld pattern names or ``decoy``); an empty list plants nothing. profile:
    ``easy`` (one scheme for each rule) or ``realistic`` (the AMLworld shapes among
    ordinary look-alikes, as ``redflag generate --profile realistic``; docs/evaluation.md).
    """
    typ = None if typologies is None else [t for t in typologies if t.lower() != "none"]
    txns, labels = _redflag.generate(rows, accounts, days, seed, start, fraction, typ, profile)
    return _frame(txns), _frame(labels)
