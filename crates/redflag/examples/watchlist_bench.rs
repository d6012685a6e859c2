//! Times watch-list screening at scale: distinct fictional party names against a
//! fictional list (see `benches/watchlist_data.rs`).
//!
//! ```sh
//! cargo run --release -p redflag --example watchlist_bench -- --names 1000000 --entries 20000
//! ```
//!
//! Prints the time to build the index and to screen, the matches found, and how many of
//! the planted copies of listed names (other script, spelling or order) were found.

use std::time::Instant;

use redflag::watchlist::{Matcher, Party};

#[path = "../../../benches/watchlist_data.rs"]
mod data;

fn arg(args: &[String], name: &str, default: usize) -> usize {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(|v| v.parse().unwrap_or_else(|_| panic!("{name} takes a number, not `{v}`")))
        .unwrap_or(default)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let names_n = arg(&args, "--names", 1_000_000);
    let entries_n = arg(&args, "--entries", 20_000);
    let min_score = arg(&args, "--min-score", 80) as f64;
    let planted_every = arg(&args, "--planted-every", 1000);

    let t = Instant::now();
    let pools = data::Pools::new(3, 600, 40_000);
    let list = data::list(entries_n, 7, &pools);
    let names = data::party_names(names_n, 11, &list, &pools, planted_every);
    println!(
        "generated {} list entries and {} distinct party names in {:.2} s",
        list.entries.len(),
        names.len(),
        t.elapsed().as_secs_f64()
    );

    let t = Instant::now();
    let matcher = Matcher::new(&list, min_score);
    let build = t.elapsed().as_secs_f64();
    println!(
        "index: {} entries, {} distinct tokens, built in {build:.2} s",
        matcher.len(),
        matcher.vocabulary()
    );

    let parties: Vec<Party> = names.iter().map(|n| Party::new(n)).collect();
    let t = Instant::now();
    let found = matcher.screen_all(&parties);
    let screen = t.elapsed().as_secs_f64();
    let with_match = found.iter().filter(|m| !m.is_empty()).count();
    let planted: Vec<usize> = (0..names.len()).step_by(planted_every.max(1)).collect();
    let planted_found = planted.iter().filter(|&&i| !found[i].is_empty()).count();
    println!(
        "screened {} names against {} entries in {screen:.2} s ({:.0} names/s); {} names matched at min score {min_score}",
        names.len(),
        matcher.len(),
        names.len() as f64 / screen,
        with_match
    );
    if planted_every > 0 {
        println!(
            "planted copies of listed names found: {planted_found} of {}",
            planted.len()
        );
    }
    println!("total (index + screening): {:.2} s", build + screen);
}
