//! End-to-end tests of the command line: one binary, one module a subject. Each test
//! runs the `redflag` binary; the tests that call the library only are in `tests/library`.

mod catalogue;
mod cli;
mod degrade;
mod evaluate;
mod hostile_input;
mod hostile_output;
mod report;
mod shards;
mod tune;
mod versioning;
mod watchlist;
