//! Screens one unit of a partition (`redflag partition`) with the built-in pack: a shard
//! alone, without the cross-account stage, or the cross-account stage alone. Measures
//! what each unit costs (docs/performance.md, "In shards").
//!
//! ```sh
//! redflag partition big.parquet --shards 4 --out parts/
//! /usr/bin/time -f "%e s %M KB" cargo run --release -p redflag --example shard_unit -- parts/ cross
//! /usr/bin/time -f "%e s %M KB" cargo run --release -p redflag --example shard_unit -- parts/ 0
//! ```
//!
//! Prints the unit, its alerts and the time it took.

use redflag::shard::{screen_unit, Unit};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(dir), Some(which)) = (args.get(1), args.get(2)) else {
        return Err("give the partition folder and a unit: a shard number, or `cross`".into());
    };
    let unit = match which.as_str() {
        "cross" => Unit::Cross,
        i => Unit::Shard {
            index: i.parse()?,
            cross: false,
        },
    };
    let pack = redflag::Pack::builtin()?;
    let t = std::time::Instant::now();
    let run = screen_unit(std::path::Path::new(dir), unit, &pack, None, &redflag::Cancel::new())?;
    println!(
        "{unit:?}: {} alerts in {:.1} s",
        run.alerts.len(),
        t.elapsed().as_secs_f64()
    );
    Ok(())
}
