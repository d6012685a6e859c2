#!/usr/bin/env bash
# Runs the DuckDB comparison of docs/performance.md side by side, alternating, on one file:
#   DuckDB with STR-01, FLW-02 and FLW-03 written as SQL (benches/duckdb_compare.py),
#   redflag on the same three rules (--only), and redflag with the whole default pack.
# Prints each run's time and peak memory, the medians, the ratios to DuckDB's median, and
# whether both tools flag the same accounts for each of the three rules.
#
# usage: benches/compare-duckdb.sh FILE.parquet [RUNS]   (RUNS: 3 by default)
# Needs a release build (cargo build --release -p redflag-cli) and Python 3 with duckdb;
# a virtual environment with duckdb is made under ~/.cache/bench-venv when none is there
# (or set PYTHON to one that has it). CARGO_TARGET_DIR is honoured.
set -euo pipefail
file=${1:?usage: compare-duckdb.sh FILE.parquet [RUNS]}
runs=${2:-3}
here=$(cd "$(dirname "$0")" && pwd)
bin=${REDFLAG:-${CARGO_TARGET_DIR:-$here/../target}/release/redflag}
[ -x "$bin" ] || { echo "no release binary at $bin: cargo build --release -p redflag-cli" >&2; exit 2; }
py=${PYTHON:-$HOME/.cache/bench-venv/bin/python}
if ! "$py" -c "import duckdb" 2>/dev/null; then
  python3 -m venv "$HOME/.cache/bench-venv"
  "$HOME/.cache/bench-venv/bin/pip" install -q duckdb
  py=$HOME/.cache/bench-venv/bin/python
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# One timed command: appends "label seconds kilobytes" to $work/times.
timed() {
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o "$work/t" "$@" >/dev/null 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
  echo "$label $(cat "$work/t")" >>"$work/times"
  printf '%-16s %8s s %8s MB\n' "$label" "$(cut -d' ' -f1 "$work/t")" "$(( $(cut -d' ' -f2 "$work/t") / 1024 ))"
}

for i in $(seq 1 "$runs"); do
  echo "run $i/$runs"
  timed duckdb-3 "$py" "$here/duckdb_compare.py" "$file" "$work/duck.json"
  timed redflag-3 "$bin" screen "$file" --only STR-01,FLW-02,FLW-03 --out "$work/o3" --quiet
  timed redflag-all "$bin" screen "$file" --out "$work/oall" --quiet
done

"$py" - "$work" <<'PY'
import csv, json, statistics, sys
work = sys.argv[1]
rows = [l.split() for l in open(f"{work}/times")]
med = {}
for label in ("duckdb-3", "redflag-3", "redflag-all"):
    t = [float(r[1]) for r in rows if r[0] == label]
    m = [int(r[2]) / 1024 for r in rows if r[0] == label]
    med[label] = statistics.median(t)
    print(f"{label:12} time {min(t):6.1f}-{max(t):6.1f} s (median {med[label]:6.1f})   peak {min(m):6.0f}-{max(m):6.0f} MB")
print(f"redflag, 3 rules:   {med['redflag-3'] / med['duckdb-3']:.2f} x DuckDB's time (median)")
print(f"redflag, all rules: {med['redflag-all'] / med['duckdb-3']:.2f} x DuckDB's time for its 3 rules")
duck = json.load(open(f"{work}/duck.json"))["accounts"]
ours = {k: set() for k in duck}
with open(f"{work}/o3/alerts.csv", newline="") as f:
    for r in csv.DictReader(f):
        if r["rule_id"] in ours:
            ours[r["rule_id"]].add(r["account"])
for rule, accounts in duck.items():
    same = set(accounts) == ours[rule]
    print(f"{rule}: DuckDB {len(accounts)} accounts, redflag {len(ours[rule])}: {'the same' if same else 'DIFFERENT'}")
PY
