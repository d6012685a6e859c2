//! End-to-end tests: one binary, one module a subject.

mod common;

mod baseline;
mod catalogue;
mod cli;
mod evaluate;
mod fixtures;
mod hostile_input;
mod ingest;
mod kinds;
mod network;
mod pack;
mod props;
mod report;
mod sequence;
mod versioning;
mod watchlist;
