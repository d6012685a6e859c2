"""docs/python.md runs as written: its Python blocks, in order, in one namespace, from
the repository root."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import ROOT


def blocks() -> list[str]:
    text = (ROOT / "docs" / "python.md").read_text()
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def test_the_walkthrough_runs_as_written(capsys) -> None:
    code = blocks()
    assert len(code) >= 8
    ns: dict = {}
    for i, block in enumerate(code):
        exec(compile(block, f"docs/python.md block {i + 1}", "exec"), ns)
    # What the text says the blocks show.
    assert repr(ns["res"]).startswith("<redflag.Result: 4000 rows screened, 0 quarantined;")
    assert ns["changed"] == {"DRG-01": (3, 6), "DRG-01P": (5, 10), "STR-01": (1, 0), "STR-03": (1, 2)}
    assert ns["moved"].height > 0
    assert ns["manifest"]["cases"] == ns["res"].cases.height
    times = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")
    written = (Path(ns["out"]) / "report.html").read_text()
    assert times.sub("", written) == times.sub("", ns["html"])
    assert "did you mean `reporting_threshold`" in capsys.readouterr().out
