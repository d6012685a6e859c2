//! Screening in shards (docs/sharding.md): partition, one run a shard, merge give the
//! single run's `alerts.csv` and cases, byte for byte, for any shard count; and what they
//! find does not change when rows are permuted, the input is split into files, or
//! accounts are renamed.

use std::path::{Path, PathBuf};

use polars::prelude::*;
use redflag::shard;
use redflag::{Cancel, Case, Dataset, IngestOptions, Mapping, Pack, ScreenOptions};

fn repo(p: &str) -> PathBuf {
    PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap())
        .join("../..")
        .join(p)
}

/// The built-in pack with the demo watch list bound, so that SAN-01 runs too.
fn pack() -> Pack {
    let list = redflag::ListSource::Path(repo("samples/watchlist-demo.csv"));
    Pack::builtin()
        .unwrap()
        .with_bindings(&[], &[("sanctions".to_string(), list)])
        .unwrap()
}

fn options(mapping: &str, fx: bool) -> IngestOptions {
    IngestOptions {
        mapping: Some(Mapping::preset(mapping).unwrap()),
        fx: fx.then(|| redflag::FxTable::load(repo("samples/fx-amlworld.csv")).unwrap()),
        base_currency: "USD".into(),
        threads: Some(2),
        columns: Some(redflag::columns_read(&pack())),
    }
}

/// What a run's outputs hold: `alerts.csv` and the cases of `cases.json`, as text.
fn outputs(cases: &[Case], data: &Dataset) -> (String, String) {
    (
        redflag::alerts_csv(cases, data).unwrap(),
        serde_json::to_string_pretty(cases).unwrap(),
    )
}

fn single(inputs: &[PathBuf], opts: &IngestOptions, pack: &Pack) -> (String, String) {
    let data = redflag::ingest(inputs, opts).unwrap();
    let s = redflag::screen(pack, &data).unwrap();
    outputs(&s.cases, &data)
}

/// Partition, each shard on its own (last first), merge.
fn by_hand(inputs: &[PathBuf], opts: &IngestOptions, pack: &Pack, n: u32, work: &Path) -> (String, String) {
    let data = redflag::ingest(inputs, opts).unwrap();
    let parts = work.join(format!("part-{n}"));
    let info = partition(inputs, opts, pack, n, &parts);
    assert_eq!(info.shards, n);
    assert_eq!(info.inputs, data.inputs);
    drop(data);
    let outs = screen_each(&parts, (0..n).rev(), pack, &work.join(format!("out-{n}")));
    let (s, data, partition) = redflag::merge_shards(&outs, pack, Some(1)).unwrap();
    assert_eq!(partition.id, info.id);
    outputs(&s.cases, &data)
}

/// Rows read and split at a time in the tests' partitions: small, so that a partition
/// is made of several groups.
const GROUP: usize = 3_000;

/// The partition of `inputs` in `n` shards into `dir`, read `GROUP` rows at a time.
fn partition(inputs: &[PathBuf], opts: &IngestOptions, pack: &Pack, n: u32, dir: &Path) -> shard::PartitionInfo {
    shard::partition_inputs(inputs, opts, pack, n, dir, GROUP, &|_| Ok(()))
        .unwrap()
        .0
}

/// Screens the shards `order` of the partition in `parts`, one after the other, each into
/// `{out}-{i}`; their output folders, in that order.
fn screen_each(parts: &Path, order: impl Iterator<Item = u32>, pack: &Pack, out: &Path) -> Vec<PathBuf> {
    order
        .map(|i| {
            let dir = PathBuf::from(format!("{}-{i}", out.display()));
            shard::screen_shard(parts, i, pack, Some(2), &Cancel::new())
                .unwrap()
                .write(&dir)
                .unwrap();
            dir
        })
        .collect()
}

fn generated(dir: &Path, seed: u64) -> PathBuf {
    let cfg = redflag_synth::SynthConfig {
        seed,
        transactions: 20_000,
        accounts: 1_500,
        days: 150,
        ..redflag_synth::SynthConfig::default()
    };
    let mut synth = redflag_synth::generate(&cfg).unwrap();
    // Empty and missing party names, which explanations show apart ('' and —).
    let names = synth.transactions.column("orig_name").unwrap().str().unwrap().clone();
    let blanked: StringChunked = names
        .iter()
        .enumerate()
        .map(|(i, v)| match i % 97 {
            0 => Some(""),
            1 => None,
            _ => v,
        })
        .collect();
    synth
        .transactions
        .with_column(blanked.with_name("orig_name".into()).into_column())
        .unwrap();
    let p = dir.join(format!("gen-{seed}.parquet"));
    redflag_synth::write(&mut synth.transactions, &p).unwrap();
    p
}

fn assert_same(a: &(String, String), b: &(String, String), what: &str) {
    assert!(a.0 == b.0, "{what}: alerts.csv differs");
    assert!(a.1 == b.1, "{what}: the cases differ");
}

/// The rules every kind brings fire on generated data, network and peer rules included:
/// the comparison below is not one of empty outputs.
fn assert_every_kind_fired(cases_json: &str) {
    for rule in [
        "STR-01", "FLW-04", "FLW-06", "STR-05", "FLW-02B", "DRG-02", "SAN-01", "TF-01", "BEH-01",
    ] {
        assert!(cases_json.contains(&format!("\"{rule}\"")), "{rule} found nothing");
    }
}

#[test]
fn shards_give_the_single_runs_alerts_and_cases_on_generated_data() {
    let dir = tempfile::tempdir().unwrap();
    let input = vec![generated(dir.path(), 5)];
    let opts = options("canonical", false);
    let whole = every_shard_count_agrees(&input, &opts, dir.path());
    assert_every_kind_fired(&whole.1);
}

/// 1, 2, 3 and 7 shards give the single run's outputs, which are returned.
fn every_shard_count_agrees(input: &[PathBuf], opts: &IngestOptions, work: &Path) -> (String, String) {
    let pack = pack();
    let whole = single(input, opts, &pack);
    for n in [1, 2, 3, 7] {
        assert_same(&whole, &by_hand(input, opts, &pack, n, work), &format!("{n} shards"));
    }
    whole
}

#[test]
fn shards_give_the_single_runs_alerts_and_cases_on_the_amlworld_layout() {
    let dir = tempfile::tempdir().unwrap();
    let input = vec![repo("tests/data/amlworld-head.csv")];
    let opts = options("amlworld", true);
    let whole = every_shard_count_agrees(&input, &opts, dir.path());
    assert!(whole.0.lines().count() > 10, "the AMLworld sample raises alerts");
}

/// `screen_sharded` (`redflag screen --shards N`): the same, and its working folder
/// inside the output folder is gone afterwards.
#[test]
fn screen_in_shards_on_one_machine_gives_the_single_run() {
    let dir = tempfile::tempdir().unwrap();
    let input = vec![generated(dir.path(), 6)];
    let opts = options("canonical", false);
    let pack = pack();
    let whole = single(&input, &opts, &pack);
    let out = dir.path().join("out");
    let (s, data, partition) =
        redflag::screen_sharded(&input, &opts, &pack, 3, &out, &ScreenOptions::default(), &|_, _| {}).unwrap();
    assert_eq!(partition.shards, 3);
    assert_same(&whole, &outputs(&s.cases, &data), "screen_sharded");
    assert_eq!(
        std::fs::read_dir(&out).unwrap().count(),
        0,
        "the working folder is removed"
    );
}

/// The files a run writes with `min_score`: `alerts.csv`, the list of cases of
/// `cases.json` as written (its text after the manifest), and the manifest's counts.
fn written(dir: &Path) -> (String, String, String) {
    let read = |n: &str| std::fs::read_to_string(dir.join(n)).unwrap();
    let cases = read("cases.json");
    let list = cases[cases.find("\"cases\": [").expect("a list of cases")..].to_string();
    let m: serde_json::Value = serde_json::from_str(&read("manifest.json")).unwrap();
    let counts = format!(
        "{} {} {} {} {}",
        m["cases"], m["alerts"], m["alerts_per_rule"], m["rules_run"], m["rules_not_applicable"]
    );
    (read("alerts.csv"), list, counts)
}

fn plain_outputs(min_score: f64) -> redflag::Outputs {
    let mut formats = redflag::Formats::default();
    formats.set("json");
    formats.set("csv");
    redflag::Outputs {
        formats,
        min_score,
        ..Default::default()
    }
}

/// The merge in bounded memory, cases built a few at a time (batches of 1, 40 and all
/// alert rows) and written from disk, writes the single run's `alerts.csv` and list of
/// cases, byte for byte, with and without a least score, and removes its working files.
#[test]
fn the_merge_in_bounded_memory_writes_the_single_runs_files() {
    let dir = tempfile::tempdir().unwrap();
    let input = vec![generated(dir.path(), 5)];
    let opts = options("canonical", false);
    let pack = pack();
    let data = redflag::ingest(&input, &opts).unwrap();
    let mut s = redflag::screen(&pack, &data).unwrap();
    let cases = s.cases.len();
    let parts = dir.path().join("p");
    partition(&input, &opts, &pack, 3, &parts);
    let outs = screen_each(&parts, 0..3, &pack, &dir.path().join("o"));
    for min_score in [0.0, 12.0, 1e9] {
        let one = dir.path().join(format!("single-{min_score}"));
        s.write(&pack, &data, &one, &plain_outputs(min_score)).unwrap();
        let whole = written(&one);
        for batch_rows in [1, 40, shard::BATCH_ROWS] {
            let work = tempfile::tempdir().unwrap();
            let store = shard::merge_bounded(&outs, &pack, Some(2), work.path(), batch_rows).unwrap();
            assert_eq!(store.entries().len(), cases);
            let out = dir.path().join(format!("bounded-{min_score}-{batch_rows}"));
            redflag::write_case_store(&store, &pack, &out, &plain_outputs(min_score)).unwrap();
            let what = format!("min score {min_score}, batches of {batch_rows} alert rows");
            let got = written(&out);
            assert!(got.0 == whole.0, "{what}: alerts.csv differs");
            assert!(got.1 == whole.1, "{what}: the cases differ");
            assert_eq!(got.2, whole.2, "{what}: the manifest's counts differ");
            let top = store.top(3, min_score).unwrap();
            let first: Vec<&str> = s
                .cases
                .iter()
                .filter(|c| c.score >= min_score)
                .take(3)
                .map(|c| c.case_id.as_str())
                .collect();
            assert_eq!(
                top.iter().map(|c| c.case_id.as_str()).collect::<Vec<_>>(),
                first,
                "{what}"
            );
            assert!(top.iter().zip(1..).all(|(c, r)| c.rank >= r), "{what}: ranks");
            drop(store);
            let left: Vec<_> = std::fs::read_dir(work.path())
                .unwrap()
                .map(|e| e.unwrap().file_name())
                .collect();
            assert_eq!(left.len(), 2, "{what}: only the two files of cases are left: {left:?}");
        }
    }
}

/// The cross-account stage keeps the rows its rules read a slice of its file at a time:
/// read in seven slices (as a cluster hands it over, in cells), it finds what it finds
/// read in one, alerts and the transactions they hold.
#[test]
fn the_cross_account_stage_read_in_slices_finds_what_it_finds_whole() {
    let dir = tempfile::tempdir().unwrap();
    let input = vec![generated(dir.path(), 5)];
    let opts = options("canonical", false);
    let pack = pack();
    let parts = dir.path().join("p");
    let info = partition(&input, &opts, &pack, 3, &parts);
    let file = parts.join("cross.parquet");
    let whole = read_parquet(&file);
    let step = whole.height().div_ceil(7);
    let cells: Vec<Vec<u8>> = (0..whole.height())
        .step_by(step)
        .map(|off| shard::parquet_bytes(whole.slice(off as i64, step)).unwrap())
        .collect();
    assert_eq!(cells.len(), 7);
    let run = |data: shard::PartData| {
        let work = shard::Work {
            cross: Some(data),
            ..Default::default()
        };
        shard::screen_work(&info, work, &pack, Some(2), &Cancel::new()).unwrap()
    };
    let (one, sliced) = (
        run(shard::PartData::File(file.clone())),
        run(shard::PartData::Cells(cells)),
    );
    assert!(one.alerts.iter().any(|a| a.alert.rule_id == "FLW-04"), "FLW-04 fires");
    assert!(one.alerts == sliced.alerts, "the alerts differ");
    assert!(
        one.transactions.equals_missing(&sliced.transactions),
        "the held transactions differ"
    );
}

/// Baselines count their periods from the midnight before the data's first transaction:
/// a shard whose accounts start three weeks later counts them from the same midnight as
/// the single run, not from its own first transaction.
#[test]
fn a_shard_whose_accounts_start_late_counts_periods_as_the_single_run_does() {
    let dir = tempfile::tempdir().unwrap();
    let df = read_parquet(&generated(dir.path(), 9));
    let first = df
        .column("ts")
        .unwrap()
        .cast(&DataType::Int64)
        .unwrap()
        .i64()
        .unwrap()
        .min()
        .unwrap();
    let late = first + 21 * 86_400_000;
    let ts = df.column("ts").unwrap().cast(&DataType::Int64).unwrap();
    let in_shard_1 = |c: &str| -> Vec<bool> {
        let col = df.column(c).unwrap().str().unwrap().clone();
        col.iter().map(|a| a.is_some_and(|a| fnv(a, 2) == 1)).collect()
    };
    let (orig, bene) = (in_shard_1("orig_account"), in_shard_1("bene_account"));
    let keep: BooleanChunked = ts
        .i64()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, t)| t.unwrap_or(0) >= late || !(orig[i] || bene[i]))
        .collect();
    let kept = df.filter(&keep).unwrap();
    assert!(kept.height() < df.height(), "rows of shard 1's accounts were taken out");
    let input = write_split(&kept, dir.path(), "late", kept.height());
    let opts = options("canonical", false);
    let pack = pack();
    let whole = single(&input, &opts, &pack);
    assert!(whole.1.contains("\"BEH-01\""), "BEH-01 found something");
    assert_same(&whole, &by_hand(&input, &opts, &pack, 2, dir.path()), "2 shards");
}

/// The statistics of peer groups a partition works out from its shards are the same
/// whatever the shard count, and a shard given a partition without them refuses to run
/// the rules that need them rather than compare with nothing.
#[test]
fn peer_groups_do_not_depend_on_the_shard_count() {
    let dir = tempfile::tempdir().unwrap();
    let input = vec![generated(dir.path(), 10)];
    let opts = options("canonical", false);
    let pack = pack();
    let groups = |n: u32| partition(&input, &opts, &pack, n, &dir.path().join(format!("p{n}"))).whole;
    let one = groups(1);
    assert_eq!(
        one.peer_groups.keys().collect::<Vec<_>>(),
        ["DRG-01P", "FLW-02B", "FLW-03B"]
    );
    assert!(
        one.peer_groups.values().all(|g| !g.is_empty()),
        "every peer rule has groups"
    );
    for n in [2, 7] {
        assert_eq!(groups(n), one, "{n} shards");
    }
    // partition.json without the groups: the shard fails, naming the rule.
    let p = dir.path().join("p2").join("partition.json");
    let mut info: serde_json::Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
    info["whole"]["peer_groups"] = serde_json::json!({});
    std::fs::write(&p, serde_json::to_vec(&info).unwrap()).unwrap();
    let err = shard::screen_shard(&dir.path().join("p2"), 1, &pack, Some(2), &Cancel::new())
        .unwrap_err()
        .to_string();
    assert!(err.contains("FLW-02B") && err.contains("peer groups"), "{err}");
}

/// Writes `df` as Parquet files of about `rows` rows each.
fn write_split(df: &DataFrame, dir: &Path, name: &str, rows: usize) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < df.height() {
        let mut part = df.slice(start as i64, rows);
        let p = dir.join(format!("{name}-{:03}.parquet", out.len()));
        ParquetWriter::new(std::fs::File::create(&p).unwrap())
            .finish(&mut part)
            .unwrap();
        out.push(p);
        start += rows;
    }
    out
}

fn read_parquet(p: &Path) -> DataFrame {
    ParquetReader::new(std::fs::File::open(p).unwrap()).finish().unwrap()
}

/// Rows permuted and the input split into eleven files: the sharded run finds what the
/// single run of the file as it was finds.
#[test]
fn permuting_rows_and_splitting_the_input_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let input = generated(dir.path(), 8);
    let opts = options("canonical", false);
    let pack = pack();
    let whole = single(std::slice::from_ref(&input), &opts, &pack);
    let df = read_parquet(&input);
    // A fixed permutation: a stride coprime with the row count.
    let n = df.height() as u64;
    let stride = (1..n).rev().find(|s| gcd(*s, n) == 1 && *s < n / 2).unwrap();
    let idx = IdxCa::from_vec("i".into(), (0..n).map(|i| ((i * stride) % n) as IdxSize).collect());
    let permuted = df.take(&idx).unwrap();
    let files = write_split(&permuted, dir.path(), "perm", (df.height() / 11) + 1);
    assert_eq!(files.len(), 11);
    let moved = by_hand(&files, &opts, &pack, 3, dir.path());
    let alone = single(&files, &opts, &pack);
    assert_same(&alone, &moved, "permuted and split, sharded and not");
    assert_same(&whole, &moved, "permuted and split");
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// Accounts renamed by a one-to-one map (which moves them to other shards): the same
/// cases, scores and transactions, under the new names.
#[test]
fn renaming_accounts_changes_nothing_but_the_names() {
    let dir = tempfile::tempdir().unwrap();
    let input = generated(dir.path(), 9);
    let opts = options("canonical", false);
    let pack = pack();
    let df = read_parquet(&input);
    let rename = |c: &str| -> Column {
        let ca = df.column(c).unwrap().str().unwrap().clone();
        let renamed: StringChunked = ca.apply_values(|v| format!("N{}", v.chars().rev().collect::<String>()).into());
        renamed.with_name(c.into()).into_column()
    };
    let mut renamed = df.clone();
    renamed.with_column(rename("orig_account")).unwrap();
    renamed.with_column(rename("bene_account")).unwrap();
    let renamed_file = write_split(&renamed, dir.path(), "renamed", df.height())[0].clone();
    let data = redflag::ingest(std::slice::from_ref(&input), &opts).unwrap();
    let before = redflag::screen(&pack, &data).unwrap().cases;
    let after: Vec<Case> = {
        let parts = dir.path().join("renamed-part");
        partition(std::slice::from_ref(&renamed_file), &opts, &pack, 5, &parts);
        let outs = screen_each(&parts, 0..5, &pack, &dir.path().join("renamed-out"));
        redflag::merge_shards(&outs, &pack, None).unwrap().0.cases
    };
    let back = |a: &str| -> String { a[1..].chars().rev().collect() };
    let key = |c: &Case, names: &dyn Fn(&str) -> String| {
        let mut accounts: Vec<String> = c.accounts.iter().map(|a| names(a)).collect();
        accounts.sort();
        let mut txns: Vec<String> = c.alerts.iter().flat_map(|a| a.txn_ids.clone()).collect();
        txns.sort();
        (
            accounts,
            format!("{:.6}", c.score),
            c.severity,
            c.rule_ids.clone(),
            txns,
        )
    };
    let mut want: Vec<_> = before.iter().map(|c| key(c, &|a| a.to_string())).collect();
    let mut got: Vec<_> = after.iter().map(|c| key(c, &back)).collect();
    want.sort();
    got.sort();
    assert!(want.len() > 50, "{} cases", want.len());
    assert_eq!(want, got);
}

/// The merge refuses what it cannot merge exactly: a missing or repeated shard, shards of
/// another partition, another pack; a shard is refused with another pack too.
#[test]
fn merge_refuses_incomplete_or_mixed_shards() {
    let dir = tempfile::tempdir().unwrap();
    let input = vec![repo("samples/demo.csv")];
    let opts = options("canonical", false);
    let pack = pack();
    let parts = dir.path().join("p");
    partition(&input, &opts, &pack, 3, &parts);
    let outs = screen_each(&parts, 0..3, &pack, &dir.path().join("o"));
    let err = |outs: &[PathBuf], pack: &Pack| redflag::merge_shards(outs, pack, None).unwrap_err().to_string();
    assert!(
        err(&outs[..2], &pack).contains("missing: shard 2"),
        "{}",
        err(&outs[..2], &pack)
    );
    let twice = vec![outs[0].clone(), outs[1].clone(), outs[1].clone(), outs[2].clone()];
    assert!(
        err(&twice, &pack).contains("shard 1 is also in"),
        "{}",
        err(&twice, &pack)
    );
    let other = pack.only(&["STR-01".to_string()]).unwrap();
    assert!(err(&outs, &other).contains("another pack"), "{}", err(&outs, &other));
    let e = shard::screen_shard(&parts, 0, &other, None, &Cancel::new()).unwrap_err();
    assert!(e.to_string().contains("made for another pack"), "{e}");
    let e = shard::screen_shard(&parts, 3, &pack, None, &Cancel::new()).unwrap_err();
    assert!(e.to_string().contains("shard 3 of a partition in 3 shards"), "{e}");
    // Shards of another partition of the same data and pack.
    let parts2 = dir.path().join("p2");
    partition(&input, &opts, &pack, 2, &parts2);
    let o = dir.path().join("q0");
    shard::screen_shard(&parts2, 0, &pack, None, &Cancel::new())
        .unwrap()
        .write(&o)
        .unwrap();
    let mixed = vec![outs[0].clone(), o];
    assert!(
        err(&mixed, &pack).contains("another partition"),
        "{}",
        err(&mixed, &pack)
    );
}

/// The plan: what follows payments through accounts goes to the cross-account stage; a
/// rule that screens other rules' alerts and reads only their rows goes to the merge;
/// the rest runs on the shards.
#[test]
fn the_plan_sends_rules_across_accounts_to_the_cross_account_stage() {
    let plan = shard::plan(&pack());
    assert_eq!(plan.cross, ["FLW-04", "FLW-06"]);
    // Fans-in of one hop (smurfing into an account) read the payments into their account
    // only: they run on the shards, whoever the payers are.
    for id in ["STR-05", "STR-05H"] {
        assert!(plan.local.iter().any(|x| x == id), "{id} is not per account");
    }
    for id in ["STR-01", "FLW-02", "BEH-01", "SAN-01", "TF-01", "GEO-01", "TBML-01"] {
        assert!(plan.local.iter().any(|x| x == id), "{id} is not per account");
    }
    // Baselines against peers run on the shards, with peer groups the partition works out
    // over every shard.
    assert_eq!(plan.peers, ["FLW-02B", "FLW-03B", "DRG-01P"]);
    assert!(plan.peers.iter().all(|id| plan.local.contains(id)));
    // DRG-02 screens the alerts of STR-* and FLW-* rules (network and peer ones among
    // them) and reads only the rows they hold: the merge runs it, and the cross-account
    // stage runs its own rules only.
    assert_eq!(plan.late, ["DRG-02"]);
    assert_eq!(plan.cross_run, plan.cross);
    assert!(!plan.local.iter().any(|x| x == "DRG-02"));
    // The hash is fixed: these values are part of the partition format.
    assert_eq!(
        ["", "a", "KG01ACC000174"].map(|a| shard::shard_of(a, 1_000_003)),
        [fnv("", 1_000_003), fnv("a", 1_000_003), fnv("KG01ACC000174", 1_000_003)]
    );
    assert_eq!(
        shard::shard_of("a", u32::MAX),
        (0xaf63_dc4c_8601_ec8c_u64 % u64::from(u32::MAX)) as u32
    );
}

/// FNV-1a, 64 bits, written out here as the reference the partition format names.
fn fnv(s: &str, n: u32) -> u32 {
    let mut h: u64 = 14_695_981_039_346_656_037;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(1_099_511_628_211);
    }
    (h % u64::from(n)) as u32
}

/// The partition reads its inputs a group of rows at a time: the groups, one after the
/// other, are the rows a whole read screens, and the quarantine and counts are the same,
/// duplicate ids included whether the first use is in the same group, an earlier group,
/// or an earlier file.
#[test]
fn a_streamed_read_gives_what_a_whole_read_gives() {
    let dir = tempfile::tempdir().unwrap();
    let line = |i: usize, id: usize, amount: &str| {
        format!(
            "T{id},2025-01-{:02}T10:00:00,{amount},USD,A{},B{}\n",
            1 + i % 28,
            i % 37,
            i % 41
        )
    };
    let mut first = String::from("txn_id,ts,amount,currency,orig_account,bene_account\n");
    for i in 0..10_000 {
        let id = match i {
            50 => 49,    // the row before, in the same group
            9_000 => 10, // a row of the first group
            _ => i,
        };
        let amount = if i % 997 == 5 { "NaN" } else { "120.50" };
        first.push_str(&line(i, id, amount));
    }
    let mut second = String::from("txn_id,ts,amount,currency,orig_account,bene_account\n");
    for i in 0..4_000 {
        // Ids of the first file, once, then new ones.
        let id = if i == 3_500 { 7_777 } else { 20_000 + i };
        second.push_str(&line(i, id, "99"));
    }
    let files = vec![dir.path().join("a.csv"), dir.path().join("b.csv")];
    std::fs::write(&files[0], first).unwrap();
    std::fs::write(&files[1], second).unwrap();
    let opts = IngestOptions {
        threads: Some(2),
        ..IngestOptions::default()
    };
    let whole = redflag::ingest(&files, &opts).unwrap();
    let mut groups = Vec::new();
    let streamed = redflag::ingest_streamed(&files, &opts, GROUP, &mut |g| {
        groups.push(redflag::schema::as_text(g).unwrap());
        Ok(())
    })
    .unwrap();
    assert!(groups.len() >= 3, "{} groups", groups.len());
    assert_eq!(streamed.inputs, whole.inputs);
    assert_eq!(streamed.present, whole.present);
    assert!(streamed.quarantine.equals_missing(&whole.quarantine));
    let reasons = whole.quarantine.column("reason").unwrap().str().unwrap().clone();
    let repeated = reasons.iter().flatten().filter(|r| r.starts_with("duplicate")).count();
    assert_eq!(repeated, 3, "three duplicate ids");
    let mut joined = groups.remove(0);
    for g in &groups {
        joined.vstack_mut(g).unwrap();
    }
    let want = redflag::schema::as_text(whole.transactions.clone()).unwrap();
    assert!(
        joined.equals_missing(&want),
        "the groups hold the rows a whole read screens"
    );
}
