//! Screening speed: the default pack over generated transactions.
//!
//! `cargo bench -p redflag --bench screen` runs 100k and 1M transactions. For larger
//! runs, generate a file and time the command (see docs/performance.md).

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use redflag::{Dataset, IngestOptions, Pack};
use redflag_synth::{generate, SynthConfig};

fn data(transactions: usize, accounts: usize) -> Dataset {
    let cfg = SynthConfig {
        seed: 7,
        transactions,
        accounts,
        days: 180,
        ..SynthConfig::default()
    };
    let synth = generate(&cfg).expect("generate");
    Dataset::from_frame(synth.transactions, "bench", &IngestOptions::default()).expect("dataset")
}

fn bench(c: &mut Criterion) {
    let pack = Pack::builtin().expect("pack");
    let mut g = c.benchmark_group("screen_default_pack");
    g.sample_size(10);
    for (n, accounts) in [(100_000usize, 10_000usize), (1_000_000, 100_000)] {
        let ds = data(n, accounts);
        g.bench_function(format!("{n}_transactions"), |b| {
            b.iter_batched(
                || (),
                |_| redflag::screen(&pack, &ds).expect("screen"),
                BatchSize::PerIteration,
            )
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
