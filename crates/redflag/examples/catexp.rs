use polars::prelude::*;
use std::time::Instant;
fn rss() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap();
    s.lines()
        .find(|l| l.starts_with("VmRSS"))
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse::<u64>()
        .unwrap()
        / 1024
}
fn main() {
    let p = std::env::args().nth(1).unwrap();
    let t = Instant::now();
    let ds = redflag::ingest(&[p.into()], &redflag::IngestOptions::default()).unwrap();
    let mut df = ds.transactions;
    println!("ingest {:?} rss {} MB", t.elapsed(), rss());
    let names: Vec<String> = df.get_column_names().iter().map(|s| s.to_string()).collect();
    let cat = DataType::from_categories(polars::prelude::Categories::global());
    let t = Instant::now();
    for n in &names {
        if n == "txn_id" {
            continue;
        }
        let c = df.column(n).unwrap().clone();
        if c.dtype() == &DataType::String {
            let t1 = Instant::now();
            let cc = c.cast(&cat).unwrap();
            drop(c);
            df.replace(n, cc).unwrap();
            println!("{n} {:?} rss {}", t1.elapsed(), rss());
        }
    }
    println!("cast all {:?} rss {} MB", t.elapsed(), rss());
    let t = Instant::now();
    let sl = df.slice(0, 1_000_000);
    let mut exprs = vec![];
    for n in &names {
        if sl.column(n).unwrap().dtype().is_categorical() {
            exprs.push(col(n.as_str()).cast(DataType::String));
        }
    }
    let back = sl.lazy().with_columns(exprs).collect().unwrap();
    println!("back 1M {:?} rss {} MB {}", t.elapsed(), rss(), back.height());
    let t = Instant::now();
    let r = df
        .clone()
        .lazy()
        .select([
            col("channel").eq(lit("cash_in")).alias("a"),
            col("orig_country")
                .is_in(lit(Series::new("x".into(), ["KG", "RU"])).implode(false), false)
                .alias("b"),
        ])
        .collect();
    println!("direct cat exprs {:?} {:?}", t.elapsed(), r.map(|d| d.height()));
}
