//! The engine: the prepared side views every rule shares, row masks and condition
//! staging, the scope a kind's `run` sees, gathering columns, and the alert builder.
//!
//! Accounts are encoded as integers once; each side's view is kept narrow (account key,
//! time, row index back into the transactions) and sorted once by (account, time, row).
//! Each rule's `where` runs over the transactions (all rules of a side in one pass; a term
//! that reads only dictionary-encoded text once per distinct value), its rows are picked
//! out of the sorted view in order, and only the columns its measures read are gathered
//! (and decoded) for them. Wide columns are read back only for the rows that alert.

mod alerts;
mod conditions;
mod gather;
mod mask;
mod prepared;
pub(crate) mod rolling;
mod scope;

pub(crate) use alerts::{dedup, display_value, fill, json_value, make_alert, AlertParts};
pub(crate) use conditions::condition_masks;
pub(crate) use gather::{gather, gather_rows, gather_rows_coded};
pub use mask::{Masks, RowMask};
pub use prepared::Prepared;
pub(crate) use prepared::{cat_codes, pair_key, PairHistory, NO_ACCOUNT};
pub(crate) use scope::read_columns;
pub use scope::Scope;

// What the engine's files share among themselves.
#[allow(unused_imports)]
use crate::schema::inputs_of as source_columns;
#[allow(unused_imports)]
use crate::util::threads::run_parallel;
#[allow(unused_imports)]
use conditions::NULL_CODE;
#[allow(unused_imports)]
use prepared::{code_vec, ts_col};
