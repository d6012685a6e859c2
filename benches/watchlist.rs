//! Watch-list screening speed: fictional party names against a fictional 20,000-entry
//! list (see `watchlist_data.rs`), at SAN-01's score of 80.
//!
//! `cargo bench -p redflag --bench watchlist` times building the index and screening
//! 100,000 distinct names. The 1,000,000-name run is the release example
//! `cargo run --release -p redflag --example watchlist_bench` (figures in
//! `benches/README.md`).

use criterion::{criterion_group, criterion_main, Criterion};
use redflag::watchlist::{Matcher, Party};

#[path = "watchlist_data.rs"]
mod data;

fn bench(c: &mut Criterion) {
    let pools = data::Pools::new(3, 600, 40_000);
    let list = data::list(20_000, 7, &pools);
    let names = data::party_names(100_000, 11, &list, &pools, 1000);
    let parties: Vec<Party> = names.iter().map(|n| Party::new(n)).collect();
    let mut g = c.benchmark_group("watchlist");
    g.sample_size(10);
    g.bench_function("index_20000_entries", |b| b.iter(|| Matcher::new(&list, 80.0)));
    let matcher = Matcher::new(&list, 80.0);
    g.bench_function("screen_100000_names_20000_entries", |b| {
        b.iter(|| matcher.screen_all(&parties))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
