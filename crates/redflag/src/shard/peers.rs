//! The statistics of peer groups, worked out over every shard before any shard screens:
//! a rule that compares each account with its peers (baselines with `peer_by`) then runs
//! on each shard's own accounts, as the single run runs it over all of them.

use super::{shard_dataset, shard_of, PartData, PartitionInfo};
use crate::engine::Prepared;
use crate::error::Result;
use crate::kinds::PeerTally;
use crate::pack::Pack;

/// What shard `index`'s accounts, in `data` (the shard's transactions), give to the
/// statistics of the peer groups of the partition's rules that compare accounts with
/// their peers ([`PartitionInfo::peer_rules`]); `pack` is the pack the partition was made
/// for. Every shard's tallies, joined ([`PeerTally::join`]), give the statistics
/// ([`set_peer_groups`]).
pub fn peer_tally(
    info: &PartitionInfo,
    index: u32,
    data: &PartData,
    pack: &Pack,
    threads: Option<usize>,
) -> Result<PeerTally> {
    if info.peer_rules.is_empty() {
        return Ok(PeerTally::default());
    }
    let sub = pack.only(&info.peer_rules)?;
    crate::util::threads::with_threads(threads, || {
        let name = format!("shard {index}");
        let columns = Some(crate::run::columns_read(&sub));
        let (ds, _) = shard_dataset(data, info, &name, threads, columns)?;
        let shards = info.shards;
        let owns = |a: &str| shard_of(a, shards) == index;
        let prep = Prepared::owned(&ds, &owns)?;
        crate::run::peer_tally(&sub, &prep)
    })
}

/// Records in `info` the statistics of its peer groups, from the tally of every shard.
pub fn set_peer_groups(info: &mut PartitionInfo, tally: &PeerTally) {
    info.whole.peer_groups = tally.groups();
}
