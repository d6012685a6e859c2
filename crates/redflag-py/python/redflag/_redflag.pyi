"""Type stubs of ``redflag._redflag``, the native part of the package. Use the functions
of ``redflag`` itself: they normalise their arguments and return polars frames."""

from typing import Any, Dict, List, Optional, Sequence, Tuple

__version__: str

class RedflagError(Exception):
    """Any error of redflag; its message is the one the ``redflag`` command prints."""

class PackError(RedflagError):
    """A rule pack is wrong, or two packs clash."""

    problems: List[Dict[str, Any]]
    """Each problem: ``file``, ``line``, ``column``, ``rule_id``, ``field``, ``message``."""

class ParameterError(RedflagError):
    """A parameter override, a list binding, a rule selection, a preset or a sweep is wrong."""

class InputError(RedflagError):
    """An input cannot be screened: layout, missing column, mapping, FX table, strict mode."""

class ListError(RedflagError):
    """A reference list or a watch list cannot be read."""

class FileError(RedflagError):
    """A file cannot be read or written; or the output folder would overwrite an input."""

class RuleError(RedflagError):
    """A rule failed while it ran, or the data engine failed."""

class ReportError(RedflagError):
    """A report cannot be rendered: a goAML configuration, saved results."""

class CancelledError(RedflagError):
    """The run was cancelled before it finished; nothing was written."""

class ArrowStream:
    """A frame handed over through the Arrow C stream interface; read once."""

    def __arrow_c_stream__(self, requested_schema: Optional[object] = None) -> object:
        """A PyCapsule holding an ``ArrowArrayStream``."""

class Screen:
    """A screening's result: cases, alerts, quarantine, manifest."""

    def alerts(self) -> ArrowStream:
        """The rows of alerts.csv."""
    def quarantine(self) -> ArrowStream:
        """The rows that could not be screened."""
    def cases_json(self) -> str:
        """The cases, as cases.json holds them (a JSON array)."""
    def manifest_json(self) -> str:
        """The manifest, as manifest.json."""
    def case_count(self) -> int:
        """How many cases."""
    def write(self, out_dir: str, formats: List[str], goaml_config: Optional[str] = None) -> str:
        """Writes the CLI's files; returns the manifest written, as JSON."""
    def report(self, format: str) -> str:
        """``report.html`` (``"html"``) or ``report.md`` (``"md"``) as text."""

class Pack:
    """A rule pack."""

    @staticmethod
    def builtin() -> "Pack":
        """The built-in ``fatf-core`` pack."""
    @staticmethod
    def load(path: str) -> "Pack":
        """A pack file, checked."""
    def configured(
        self,
        sets: List[str],
        lists: List[Tuple[str, Optional[str], Optional[List[str]]]],
        only: List[str],
    ) -> "Pack":
        """The pack with overrides, bindings and a rule selection applied."""
    @property
    def id(self) -> str: ...
    @property
    def version(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def base_currency(self) -> str: ...
    @property
    def source(self) -> str: ...
    def params_json(self) -> str:
        """Pack-wide parameters, as JSON."""
    def rules(self) -> ArrowStream:
        """One row a rule: id, kind, severity, typologies, title."""
    def catalogue(self) -> str:
        """The catalogue in Markdown."""
    def __len__(self) -> int: ...

def screen(
    paths: Optional[List[str]],
    frame: Optional[Any],
    name: str,
    pack: Optional[Pack],
    rules: Sequence[str],
    preset: Optional[str],
    mapping: Optional[str],
    fx: Optional[str],
    sets: List[str],
    lists: List[Tuple[str, Optional[str], Optional[List[str]]]],
    only: List[str],
    min_score: float,
    threads: Optional[int],
    weights: Optional[str] = None,
) -> Screen:
    """Screens paths or a frame (an object with ``__arrow_c_stream__``)."""

def evaluate(
    paths: Optional[List[str]],
    frame: Optional[Any],
    name: str,
    labels_path: Optional[str],
    labels_frame: Optional[Any],
    label_column: Optional[str],
    rules: Sequence[str],
    preset: Optional[str],
    mapping: Optional[str],
    fx: Optional[str],
    sets: List[str],
    lists: List[Tuple[str, Optional[str], Optional[List[str]]]],
    only: List[str],
    sweep: Optional[str],
    weights: Optional[str] = None,
) -> str:
    """Precision and recall against labels, as JSON (evaluation.json)."""

def generate(
    rows: int,
    accounts: int,
    days: int,
    seed: int,
    start: str,
    fraction: float,
    typologies: Optional[List[str]],
    profile: str,
) -> Tuple[ArrowStream, ArrowStream]:
    """Synthetic transactions and their labels."""

def shard_batch(
    frame: Any, spec: str, shards: int, name: str
) -> Tuple[List[Tuple[int, bytes]], bytes, List[str], List[str], int, int, Optional[int]]:
    """A batch (with ``_row``) read, checked and split by shard: (parts by shard, the
    cross-account stage's as shard ``shards``; quarantine as Parquet; ids of the screened
    rows; columns present; rows read; rows quarantined; the earliest time of its screened
    rows in ms, or None)."""

def shard_partition(
    spec: str,
    shards: int,
    present: List[str],
    name: str,
    rows_read: int,
    rows_quarantined: int,
    first_time: Optional[int],
    id: str,
) -> str:
    """The description of a partition made batch by batch, as JSON; ``first_time``: the
    earliest of the batches' first times."""

def shard_peer_tally(parts: List[bytes], spec: str, partition: str, unit: int) -> str:
    """What shard ``unit``'s accounts (its rows: Parquet bytes from each batch) give to the
    statistics of the partition's peer groups, as JSON."""

def shard_peer_groups(partition: str, tallies: List[str]) -> str:
    """The partition's description (JSON) with the statistics of its peer groups, from
    every shard's tally."""

def shard_run(parts: List[bytes], spec: str, partition: str, unit: int) -> List[Tuple[str, bytes]]:
    """Shard ``unit`` (or the cross-account stage, ``unit`` = the shard count) screened
    on its rows (Parquet bytes from each batch): the run's files."""

def shard_merge(
    runs: List[List[Tuple[str, bytes]]], quarantines: List[bytes], spec: str, min_score: float, started_at: str
) -> Screen:
    """Every unit's run and the batches' quarantines merged: the screening."""
