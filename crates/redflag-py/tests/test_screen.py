"""The Python package against the `redflag` command: same input, same pack, the same
alerts and files, byte for byte."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

import redflag

from conftest import DEMO, run_cli

# The run's own times: the only bytes that differ between two runs.
TIMES = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")


def blank_times(b: bytes) -> bytes:
    return TIMES.sub(b"<time>", b)


def demo_inputs():
    return {
        "path": DEMO,
        "paths": [DEMO],
        "polars": pl.read_csv(DEMO),
        "lazy": pl.scan_csv(DEMO),
        "pandas": pd.read_csv(DEMO),
        "arrow": pacsv.read_csv(DEMO),
    }


@pytest.mark.parametrize("kind", list(demo_inputs()))
def test_every_input_gives_the_cli_alerts(kind: str, cli_demo: Path, tmp_path: Path) -> None:
    data = demo_inputs()[kind]
    res = redflag.screen(data)
    res.write(tmp_path, formats=["csv"])
    assert (tmp_path / "alerts.csv").read_bytes() == (cli_demo / "alerts.csv").read_bytes()
    assert res.manifest["rows_screened"] == 4000


def test_alerts_frame_holds_alerts_csv(cli_demo: Path) -> None:
    res = redflag.screen(DEMO)
    a = res.alerts
    want = pl.read_csv(cli_demo / "alerts.csv", infer_schema=False)
    assert a.columns == want.columns
    assert a.height == want.height > 0
    shown = a.with_columns(
        pl.col("ts").dt.strftime("%Y-%m-%dT%H:%M:%S"),
        pl.col("amount_base").map_elements(lambda v: f"{v:.2f}", return_dtype=pl.String),
    )
    assert shown.equals(want)


def test_write_gives_the_cli_files(cli_demo: Path, tmp_path: Path) -> None:
    res = redflag.screen(DEMO)
    written = res.write(tmp_path, formats=("json", "csv", "md", "html"))
    assert written["cases"] == res.manifest["cases"] == res.cases.height
    names = sorted(p.name for p in cli_demo.iterdir())
    assert sorted(p.name for p in tmp_path.iterdir()) == names
    for name in names:
        ours = blank_times((tmp_path / name).read_bytes())
        theirs = blank_times((cli_demo / name).read_bytes())
        assert ours == theirs, name


def test_options_as_the_cli_takes_them(cli, tmp_path: Path) -> None:
    out = tmp_path / "cli"
    run_cli(
        cli, "screen", DEMO, "--out", str(out), "-q", "--set", "reporting_threshold=8000",
        "--set", "STR-01.near_threshold_ratio=0.8", "--only", "STR-01,STR-02,TF-01",
        "--min-score", "3", "--list", "sanctions=samples/watchlist-demo.csv",
    )
    res = redflag.screen(
        DEMO,
        params={"reporting_threshold": 8000, "STR-01.near_threshold_ratio": 0.8},
        only="STR-01,STR-02,TF-01",
        min_score=3,
        lists={"sanctions": "samples/watchlist-demo.csv"},
    )
    res.write(tmp_path / "py", formats=["json", "csv"])
    for name in ("alerts.csv", "cases.json", "manifest.json"):
        assert blank_times((tmp_path / "py" / name).read_bytes()) == blank_times((out / name).read_bytes()), name
    assert res.manifest["rules_run"] == ["STR-01", "STR-02", "TF-01"]
    assert res.cases["score"].min() >= 3


def test_weights_as_the_cli_lays_them(cli, tmp_path: Path) -> None:
    weights = tmp_path / "w.yaml"
    weights.write_text("default: 1\nrules:\n  STR-01: 0\n  DRG-01: 4.5\n")
    out = tmp_path / "cli"
    run_cli(cli, "screen", DEMO, "--out", str(out), "-q", "--weights", str(weights))
    res = redflag.screen(DEMO, weights=weights)
    res.write(tmp_path / "py", formats=["json", "csv"])
    for name in ("alerts.csv", "cases.json", "manifest.json"):
        assert blank_times((tmp_path / "py" / name).read_bytes()) == blank_times((out / name).read_bytes()), name
    assert res.manifest["weights"][0] == str(weights)
    cases = json.loads((tmp_path / "py" / "cases.json").read_text())["cases"]
    parts = [p for c in cases for p in c["score_parts"]]
    assert any(p["rule_id"] == "DRG-01" and p["weight"] == 4.5 for p in parts)
    assert all(p["contribution"] == 0 for p in parts if p["rule_id"] == "STR-01")
    plain = redflag.screen(DEMO)
    assert plain.cases["score"].to_list() != res.cases["score"].to_list()
    txns, labels = redflag.generate(rows=4_000, accounts=400, days=60, seed=3)
    txns.write_parquet(tmp_path / "g.parquet")
    labels.write_csv(tmp_path / "g-labels.csv")
    run_cli(
        cli, "evaluate", str(tmp_path / "g.parquet"), "--labels", str(tmp_path / "g-labels.csv"),
        "--weights", str(weights), "--out", str(tmp_path / "e.json"), "-q",
    )
    ours = redflag.evaluate(tmp_path / "g.parquet", labels=tmp_path / "g-labels.csv", weights=weights)
    assert ours == json.loads((tmp_path / "e.json").read_text())
    plain_eval = redflag.evaluate(tmp_path / "g.parquet", labels=tmp_path / "g-labels.csv")
    assert plain_eval["ranking"]["cases"] == ours["ranking"]["cases"]
    with pytest.raises(redflag.RedflagError, match="STR-99"):
        bad = tmp_path / "bad.yaml"
        bad.write_text("rules:\n  STR-99: 1\n")
        redflag.screen(DEMO, weights=bad)


def test_a_threshold_changes_what_fires() -> None:
    base = redflag.screen(DEMO, only=["STR-01"])
    lower = redflag.screen(DEMO, only=["STR-01"], params={"reporting_threshold": 5000})
    assert base.manifest["alerts_per_rule"]["STR-01"] != lower.manifest["alerts_per_rule"]["STR-01"]
    assert lower.manifest["params"]["reporting_threshold"] == 5000


def test_lists_of_values_and_a_pack_object() -> None:
    pack = redflag.Pack.builtin()
    res = redflag.screen(DEMO, rules=pack, lists={"sanctions": "samples/watchlist-demo.csv"})
    assert "SAN-01" in res.manifest["rules_run"]
    narrowed = pack.configure(only=["STR-01"], params={"reporting_threshold": 9000})
    assert len(narrowed) == 1 and narrowed.params["reporting_threshold"] == 9000
    names = pack.rules.filter(pl.col("kind") == "filter")["id"].to_list()
    assert names
    some = [r for r in pack.rules["id"]][:3]
    res = redflag.screen(DEMO, rules=pack.configure(only=some))
    assert set(res.manifest["rules_run"]) <= set(some)
    lists = {l["name"]: l for l in redflag.screen(DEMO, only=some, lists={"my_list": ["A", "B", "A", " "]}).manifest["lists"]}
    assert lists["my_list"]["values"] == 2 and lists["my_list"]["source"] == "(values)"


def test_cases_frame_is_cases_json(cli_demo: Path) -> None:
    res = redflag.screen(DEMO)
    cases = json.loads((cli_demo / "cases.json").read_text())["cases"]
    df = res.cases
    assert df.height == len(cases)
    assert df.columns == list(cases[0].keys())
    assert df["case_id"].to_list() == [c["case_id"] for c in cases]
    assert df["rank"].to_list() == list(range(1, len(cases) + 1))
    assert df["accounts"].to_list() == [c["accounts"] for c in cases]
    first = df.row(0, named=True)
    assert [a["alert_id"] for a in first["alerts"]] == [a["alert_id"] for a in cases[0]["alerts"]]
    assert [t["txn_id"] for t in first["transactions"]] == [t["txn_id"] for t in cases[0]["transactions"]]


def test_no_case_gives_empty_frames_with_columns() -> None:
    res = redflag.screen(DEMO, min_score=1e9)
    assert res.cases.height == 0 and "case_id" in res.cases.columns
    assert res.alerts.height == 0 and res.alerts.columns[0] == "case_id"
    assert len(res) == 0


def test_quarantine(tmp_path: Path) -> None:
    bad = pl.read_csv(DEMO, infer_schema=False).with_columns(
        pl.when(pl.col("txn_id") == "T00000002").then(pl.lit("not a date")).otherwise(pl.col("ts")).alias("ts")
    )
    res = redflag.screen(bad)
    q = res.quarantine
    assert q.height == 1 and res.manifest["rows_quarantined"] == 1
    assert "reason" in q.columns
    res.write(tmp_path)
    assert pl.read_csv(tmp_path / "quarantine.csv").height == 1


def test_repr_html_renders_the_ranked_cases() -> None:
    res = redflag.screen(DEMO)
    h = res._repr_html_()
    assert h.count("<tr>") == 1 + 20
    top = res.cases.row(0, named=True)
    assert top["case_id"] in h and "more cases" in h
    assert "redflag" in repr(res)
    page = res.to_html()
    assert page.startswith("<!DOCTYPE html>") or page.lower().startswith("<!doctype html>")
    assert top["case_id"] in page
    assert top["case_id"] in res.to_markdown()


BAD_PACK = """pack: test
version: "1"
base_currency: USD
params:
  reporting_threshold: 10000
rules:
  - id: X-1
    title: big cash
    kind: filter
    severity: high
    where: "channel = 'cash_in' AND ammount >= $reporting_threshold"
"""


def test_a_bad_pack_names_the_field(tmp_path: Path, cli) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD_PACK)
    with pytest.raises(redflag.PackError) as e:
        redflag.Pack.load(bad)
    msg = str(e.value)
    assert "bad.yaml:11:" in msg and "rule X-1" in msg and "field `rules[0].where`" in msg, msg
    assert "did you mean `amount`" in msg, msg
    assert isinstance(e.value, redflag.RedflagError)
    assert [(p["rule_id"], p["line"], p["field"]) for p in e.value.problems] == [("X-1", 11, "rules[0].where")]
    # The message is the CLI's.
    out = run_cli(cli, "screen", DEMO, "--rules", str(bad), "--out", str(tmp_path / "o"), check=False)
    assert out.returncode == 2
    with pytest.raises(redflag.PackError) as e2:
        redflag.screen(DEMO, rules=bad)
    assert out.stderr.startswith("error: " + str(e2.value))
    good = tmp_path / "good.yaml"
    good.write_text(BAD_PACK.replace("ammount", "amount"))
    res = redflag.screen(DEMO, rules=good)
    assert res.manifest["rules_run"] == ["X-1"] and redflag.Pack.load(good).rules.height == 1


def test_messages_are_the_cli_messages(cli, tmp_path: Path) -> None:
    out = run_cli(cli, "screen", DEMO, "--set", "reporting_treshold=1", "--out", str(tmp_path), check=False)
    with pytest.raises(redflag.ParameterError) as e:
        redflag.screen(DEMO, params={"reporting_treshold": 1})
    assert out.stderr.startswith("error: " + str(e.value) + "\n")
    assert "did you mean `reporting_threshold`" in str(e.value)
    df = pl.read_csv(DEMO).drop("amount")
    with pytest.raises(redflag.InputError, match="required column `amount` is missing"):
        redflag.screen(df)
    with pytest.raises(redflag.ParameterError, match="unknown preset; did you mean `amlworld`"):
        redflag.screen(DEMO, preset="amlworl")


def test_errors_chain_their_cause(tmp_path: Path) -> None:
    with pytest.raises(redflag.FileError) as e:
        redflag.Pack.load(tmp_path / "missing.yaml")
    assert isinstance(e.value.__cause__, OSError)
    assert str(tmp_path / "missing.yaml") in str(e.value)
    with pytest.raises(TypeError, match="cannot screen a int"):
        redflag.screen(42)


def test_evaluate_and_generate() -> None:
    ev = redflag.evaluate(DEMO, labels="samples/demo-labels.csv")
    assert ev["rows"] == 4000 and ev["labelled_txns"] > 0
    assert {r["rule_id"] for r in ev["rules"]} >= {"STR-01"}
    assert 0 < ev["overall"]["recall"] <= 1
    labels = pl.read_csv("samples/demo-labels.csv")
    assert redflag.evaluate(pl.read_csv(DEMO), labels=labels)["overall"] == ev["overall"]
    sw = redflag.evaluate(DEMO, labels="samples/demo-labels.csv", sweep="STR-01.reporting_threshold=8000..10000:1000")
    assert [p["value"] for p in sw["points"]] == [8000, 9000, 10000]

    txns, lab = redflag.generate(rows=3000, accounts=200, days=120, seed=3)
    assert txns.height == 3000 and lab.height > 0
    assert {"txn_id", "ts", "amount", "orig_account", "bene_account"} <= set(txns.columns)
    again, _ = redflag.generate(rows=3000, accounts=200, days=120, seed=3)
    assert again.equals(txns)
    ev = redflag.evaluate(txns, labels=lab)
    assert ev["rows"] == 3000 and ev["overall"]["recall"] > 0
    with pytest.raises(ValueError, match="give labels"):
        redflag.evaluate(DEMO)
    plain, none = redflag.generate(rows=500, accounts=50, days=30, typologies=[])
    assert none.height == 0 and plain.height == 500


def test_generate_realistic_profile(cli, tmp_path: Path) -> None:
    """The realistic profile gives the frames `redflag generate --profile realistic` writes."""
    txns, lab = redflag.generate(rows=20_000, accounts=2_000, days=90, seed=4, profile="realistic")
    assert txns.height == 20_000
    assert {"fan-in", "fan-out", "cycle"} <= set(lab["pattern"].drop_nulls().to_list())
    assert (lab["typology"] == "decoy").any()
    out = tmp_path / "r.csv"
    subprocess.run(
        [str(cli), "generate", "--profile", "realistic", "--rows", "20000", "--accounts", "2000",
         "--days", "90", "--seed", "4", "--out", str(out), "--quiet"],
        check=True,
    )
    written = pl.read_csv(out, infer_schema_length=0)
    assert written["txn_id"].to_list() == txns["txn_id"].to_list()
    assert written["orig_account"].to_list() == txns["orig_account"].cast(pl.String).to_list()
    with pytest.raises(ValueError, match="profile"):
        redflag.generate(rows=100, accounts=10, days=10, profile="hard")


def test_generated_frames_round_trip(cli, tmp_path: Path) -> None:
    """A generated frame screens as the CLI screens the same data from a file."""
    txns, _ = redflag.generate(rows=5000, accounts=400, days=90, seed=5)
    path = tmp_path / "t.parquet"
    txns.write_parquet(path)
    run_cli(cli, "screen", str(path), "--out", str(tmp_path / "cli"), "-q")
    redflag.screen(txns).write(tmp_path / "py", formats=["csv"])
    assert (tmp_path / "py" / "alerts.csv").read_bytes() == (tmp_path / "cli" / "alerts.csv").read_bytes()


def test_ctrl_c_stops_the_run() -> None:
    txns, _ = redflag.generate(rows=200_000, accounts=20_000, days=180, seed=7)
    redflag.screen(txns, only=["STR-01"])  # warm
    t1 = time.monotonic()
    full = redflag.screen(txns)
    whole = time.monotonic() - t1
    assert full.manifest["rows_screened"] == 200_000
    # Ctrl-C a quarter of the way through a run as long as the one just timed, with
    # Python's own handler (a process started in the background of a shell without job
    # control inherits SIGINT ignored, and Python then installs none).
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    timer = threading.Timer(whole / 4, lambda: os.kill(os.getpid(), signal.SIGINT))
    try:
        t0 = time.monotonic()
        timer.start()
        with pytest.raises(KeyboardInterrupt):
            redflag.screen(txns)
        stopped = time.monotonic() - t0
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, previous)
    assert stopped < whole, (stopped, whole)


def test_the_gil_is_released_while_screening() -> None:
    ticks = []
    stop = threading.Event()

    def tick() -> None:
        while not stop.is_set():
            ticks.append(time.monotonic())
            time.sleep(0.01)

    t = threading.Thread(target=tick)
    t.start()
    txns, _ = redflag.generate(rows=50_000, accounts=5_000, days=90, seed=2)
    n = len(ticks)
    t0 = time.monotonic()
    redflag.screen(txns)
    took = time.monotonic() - t0
    stop.set()
    t.join()
    # The other thread kept running: up to a tick every 10 ms of the screening (a tenth
    # of that on a loaded machine); with the GIL held it would tick once or not at all.
    assert len(ticks) - n > max(5, took / 0.01 * 0.1), (len(ticks) - n, took)


def test_pack_rules_frame(cli) -> None:
    pack = redflag.Pack.builtin()
    rules = pack.rules
    assert rules.columns == ["id", "kind", "severity", "typologies", "title"]
    assert rules.schema["typologies"] == pl.List(pl.String)
    listed = run_cli(cli, "rules", "list").stdout.splitlines()[1:]
    assert rules["id"].to_list() == [l.split()[0] for l in listed]
    assert pack.id == "fatf-core" and "fatf-core" in repr(pack)
    assert pack.catalogue() == Path("rules/README.md").read_text()


def typed_frames():
    p = pl.read_csv(DEMO)
    d = pd.read_csv(DEMO)
    return {
        "pandas category and datetime64": d.assign(channel=d["channel"].astype("category"), ts=pd.to_datetime(d["ts"])),
        "pandas extra list column": d.assign(extra=[[1, 2]] * len(d)),
        "polars categorical, date, datetime": p.with_columns(
            pl.col("channel").cast(pl.Categorical), pl.col("opened").str.to_date(), pl.col("ts").str.to_datetime()
        ),
        "polars decimal, int32, struct": p.with_columns(
            pl.col("amount").cast(pl.Decimal(18, 2)), pl.col("mcc").cast(pl.Int32), pl.struct("amount", "currency").alias("s")
        ),
        "arrow dictionary": pacsv.read_csv(DEMO).set_column(
            5, "channel", pacsv.read_csv(DEMO).column("channel").combine_chunks().dictionary_encode()
        ),
    }


@pytest.mark.parametrize("kind", list(typed_frames()))
def test_typed_columns_cross_as_the_file_reads(kind: str) -> None:
    want = redflag.screen(DEMO).alerts
    got = redflag.screen(typed_frames()[kind]).alerts
    assert got.equals(want)


def test_an_empty_frame_screens_to_nothing() -> None:
    res = redflag.screen(pl.read_csv(DEMO).head(0))
    assert res.manifest["rows_read"] == 0 and len(res) == 0 and res.alerts.height == 0


def test_goaml_drafts_as_the_cli_writes_them(cli, tmp_path: Path) -> None:
    args = ["--format", "json,goaml", "--goaml-config", "samples/goaml-config.yaml", "--min-score", "5", "-q"]
    run_cli(cli, "screen", DEMO, "--out", str(tmp_path / "cli"), *args)
    res = redflag.screen(DEMO, min_score=5)
    res.write(tmp_path / "py", formats=["json", "goaml"], goaml_config="samples/goaml-config.yaml")
    drafts = sorted(p.name for p in (tmp_path / "cli" / "goaml").iterdir())
    assert drafts and sorted(p.name for p in (tmp_path / "py" / "goaml").iterdir()) == drafts
    submitted = re.compile(rb"<submission_date>[^<]*</submission_date>")  # when the draft was made

    def read(p: Path) -> bytes:
        return submitted.sub(b"", p.read_bytes())

    for name in drafts:
        assert read(tmp_path / "py" / "goaml" / name) == read(tmp_path / "cli" / "goaml" / name), name
    with pytest.raises(ValueError, match="needs goaml_config"):
        res.write(tmp_path / "x", formats=["goaml"])
    with pytest.raises(ValueError, match="format `pdf`: unknown"):
        res.write(tmp_path / "x", formats=["pdf"])
