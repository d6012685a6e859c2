//! End-to-end tests of the library: one binary, one module a subject. They call
//! `redflag` as a crate; the tests that run the `redflag` binary are in `tests/cli`.

#[path = "../common/mod.rs"]
mod common;

mod baseline;
mod catalogue;
mod degrade;
mod fixtures;
mod fuzz_regressions;
mod hostile_input;
mod ingest;
mod kinds;
mod network;
mod pack;
mod projection;
mod props;
mod ranking;
mod sequence;
mod setup;
mod shards;
mod tune;
mod versioning;
mod watchlist;
