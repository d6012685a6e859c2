#!/usr/bin/env bash
# outputs.sh BIN OUT [DATA]: every output of a set of runs of the redflag binary BIN, in
# folder OUT, with run times, paths and goAML submission dates blanked, so that two builds'
# folders compare with `diff -r`. DATA is an optional larger input (such as a generated
# 1M-row Parquet file) screened with json, csv, md and html. See CONTRIBUTING.md.
set -u
BIN=$(realpath "$1"); OUT=$(realpath -m "$2"); GEN=${3:+$(realpath "$3")}
if [ -e "$OUT" ] && [ ! -f "$OUT/demo.rc" ]; then
  echo "$OUT exists and is not an earlier output of this script: name a new folder" >&2; exit 2
fi
cd "$(dirname "$0")/.."
rm -rf "$OUT"; mkdir -p "$OUT"
run() { local name=$1; shift; "$BIN" "$@" > "$OUT/$name.stdout" 2> "$OUT/$name.stderr"; echo $? > "$OUT/$name.rc"; }
run demo screen samples/demo.csv --format json,csv,md,html,goaml --goaml-config samples/goaml-config.yaml --out "$OUT/demo" --threads 2
run demo1 screen samples/demo.csv --format json,csv,md,html --out "$OUT/demo-t1" --threads 1
run redact screen samples/demo.csv --format json,csv,md,html --redact --out "$OUT/redact"
run sanctions screen samples/demo.csv --list sanctions=samples/watchlist-demo.csv --format json,csv,md,html --out "$OUT/sanctions"
run only screen samples/demo.csv --only STR-01,STR-02 --min-score 5 --fail-on high --out "$OUT/only"
run set screen samples/demo.csv --set reporting_threshold=15000 --out "$OUT/set"
run aml screen ${AMLWORLD:-../shared/data/amlworld/HI-Small_Trans.head.csv} --preset amlworld --fx samples/fx-amlworld.csv --format json,csv,md --out "$OUT/aml"
run report report --from "$OUT/demo" --format md,html --out "$OUT/report"
run rules-list rules list
run rules-show rules show STR-01
run rules-show-net rules show FLW-04
run rules-show-seq rules show TF-01
run rules-doc rules doc
run rules-check rules check rules/fatf-core.yaml
run lists-check lists check samples/watchlist-un.xml
if [ -n "$GEN" ]; then
  run gen1m screen "$GEN" --format json,csv,md,html --out "$OUT/gen1m"
fi
# Times and the tool's own run times differ between runs: blank them.
find "$OUT" -name '*.json' -o -name '*.md' -o -name '*.html' -o -name "*.stdout" -o -name "*.xml" -o -name "*.stderr" | while read -r f; do
  sed -i -E -e "s|$OUT|OUT|g" -e 's/<submission_date>[^<]*</<submission_date>T</' -e 's/"(started|finished|start_time|end_time|started_at|finished_at|generated_at)": *"[^"]*"/"\1": "T"/g' -e 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z/TIME/g' -e 's/in [0-9.]+ ?m?s\b/in T/g' "$f"
done
