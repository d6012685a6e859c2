//! Turns the compact events into the canonical transaction frame and the
//! label frame.
//!
//! String columns that repeat a party's account or name, a narrative or a
//! branch are gathered from a dictionary, so each row costs one view and no
//! copy of the text.

use std::fmt::Write as _;

use polars::prelude::*;

use crate::events::{mcc_str, Event, Narratives, ROLE_CORE};
use crate::schemes::SchemeRec;
use crate::world::{World, NONE};

fn digits(mut n: usize) -> usize {
    let mut d = 1;
    while n >= 10 {
        n /= 10;
        d += 1;
    }
    d
}

fn idx(values: impl Iterator<Item = u32>) -> IdxCa {
    IdxCa::from_iter_options(
        PlSmallStr::from_static("idx"),
        values.map(|v| (v != NONE).then_some(v as IdxSize)),
    )
}

fn gather(dict: &StringChunked, name: &str, values: impl Iterator<Item = u32>) -> PolarsResult<Column> {
    let taken = dict.take(&idx(values))?;
    Ok(taken.with_name(name.into()).into_series().into_column())
}

fn strings<'a>(name: &str, values: impl Iterator<Item = Option<&'a str>>) -> Column {
    StringChunked::from_iter_options(name.into(), values)
        .into_series()
        .into_column()
}

/// Sorts the events by time (stable, so ties keep their generation order),
/// numbers them, and builds the transaction and label frames.
pub(crate) fn build(
    world: &World,
    narr: &Narratives,
    schemes: &[SchemeRec],
    mut events: Vec<Event>,
) -> PolarsResult<(DataFrame, DataFrame)> {
    events.sort_by_key(|e| e.ts);
    let n = events.len();
    let width = digits(n).max(8);
    let parties = &world.parties;
    let locations = &world.locations;

    let mut ids = StringChunkedBuilder::new("txn_id".into(), n);
    let mut buf = String::with_capacity(16);
    for i in 0..n {
        buf.clear();
        let _ = write!(buf, "T{:0width$}", i + 1);
        ids.append_value(&buf);
    }
    let txn_id = ids.finish();

    let ts = Int64Chunked::from_vec("ts".into(), events.iter().map(|e| e.ts).collect())
        .into_datetime(TimeUnit::Milliseconds, None)
        .into_series()
        .into_column();
    let amounts: Vec<f64> = events.iter().map(|e| e.cents as f64 / 100.0).collect();
    let amount = Float64Chunked::from_vec("amount".into(), amounts.clone())
        .into_series()
        .into_column();
    let amount_base = Float64Chunked::from_vec("amount_base".into(), amounts)
        .into_series()
        .into_column();
    let currency = StringChunked::full("currency".into(), "USD", n)
        .into_series()
        .into_column();
    let channel = strings("channel", events.iter().map(|e| Some(e.channel.as_str())));

    let accounts = StringChunked::from_iter_values("".into(), parties.iter().map(|p| p.account.as_str()));
    let names = StringChunked::from_iter_values("".into(), parties.iter().map(|p| p.name.as_str()));
    let orig_acct = |e: &Event| if e.channel.cash_credit() { NONE } else { e.orig };
    let bene_acct = |e: &Event| if e.channel.cash_debit() { NONE } else { e.bene };
    let orig_account = gather(&accounts, "orig_account", events.iter().map(orig_acct))?;
    let bene_account = gather(&accounts, "bene_account", events.iter().map(bene_acct))?;
    let orig_name = gather(&names, "orig_name", events.iter().map(|e| e.orig))?;
    let bene_name = gather(&names, "bene_name", events.iter().map(bene_acct))?;
    drop(accounts);
    drop(names);

    let loc_country_of = |e: &Event| (e.loc != NONE).then(|| locations[e.loc as usize].country);
    let party_country = |p: u32| (p != NONE).then(|| parties[p as usize].country);
    let orig_country = strings("orig_country", events.iter().map(|e| party_country(orig_acct(e))));
    let bene_country = strings("bene_country", events.iter().map(|e| party_country(bene_acct(e))));
    let party_bank = |p: u32| (p != NONE).then(|| parties[p as usize].bank);
    let orig_bank = strings("orig_bank", events.iter().map(|e| party_bank(orig_acct(e))));
    let bene_bank = strings("bene_bank", events.iter().map(|e| party_bank(bene_acct(e))));

    let narratives = StringChunked::from_iter_values("".into(), narr.values.iter().map(String::as_str));
    let narrative = gather(&narratives, "narrative", events.iter().map(|e| e.narrative))?;

    // The customer profile belongs to the domestic customer on the row: the
    // beneficiary when it is one, else the originator. So every credit to a
    // customer's account carries that customer's own profile.
    let is_customer = |p: u32| p != NONE && parties[p as usize].customer.is_some();
    let customer = |e: &Event| {
        let (o, b) = (orig_acct(e), bene_acct(e));
        if is_customer(b) {
            b
        } else if is_customer(o) {
            o
        } else {
            NONE
        }
    };
    let customers: Vec<u32> = events.iter().map(customer).collect();
    let customer_type = strings(
        "customer_type",
        customers.iter().map(|&c| {
            if c == NONE {
                None
            } else {
                parties[c as usize].customer.map(|t| t.as_str())
            }
        }),
    );
    let occupation = strings(
        "occupation",
        customers.iter().map(|&c| {
            if c == NONE {
                None
            } else {
                parties[c as usize].occupation
            }
        }),
    );
    drop(customers);

    let loc_country = strings("loc_country", events.iter().map(loc_country_of));
    let loc_region = strings(
        "loc_region",
        events
            .iter()
            .map(|e| (e.loc != NONE).then(|| locations[e.loc as usize].region)),
    );
    let branches = StringChunked::from_iter_options("".into(), locations.iter().map(|l| l.branch.as_deref()));
    let branch_id = gather(&branches, "branch_id", events.iter().map(|e| e.loc))?;
    let mcc = strings("mcc", events.iter().map(|e| mcc_str(e.mcc)));

    // Labels, in transaction order.
    let mut l_txn = StringChunkedBuilder::new("txn_id".into(), 0);
    let mut l_scheme: Vec<&str> = Vec::new();
    let mut l_typology: Vec<&str> = Vec::new();
    let mut l_account: Vec<&str> = Vec::new();
    let mut l_role: Vec<&str> = Vec::new();
    for (i, e) in events.iter().enumerate() {
        if e.scheme == NONE {
            continue;
        }
        let Some(s) = schemes.get(e.scheme as usize) else {
            continue;
        };
        l_txn.append_value(txn_id.get(i).unwrap_or_default());
        l_scheme.push(&s.id);
        l_typology.push(s.typology);
        l_account.push(&parties[s.subject as usize].account);
        l_role.push(if e.role == ROLE_CORE { "core" } else { "support" });
    }
    let n_labels = l_scheme.len();
    let labels = DataFrame::new(
        n_labels,
        vec![
            l_txn.finish().into_series().into_column(),
            Column::new("scheme_id".into(), l_scheme),
            Column::new("typology".into(), l_typology),
            Column::new("account".into(), l_account),
            Column::new("role".into(), l_role),
        ],
    )?;

    let columns = vec![
        txn_id.into_series().into_column(),
        ts,
        amount,
        currency,
        amount_base,
        channel,
        orig_account,
        bene_account,
        orig_name,
        bene_name,
        orig_country,
        bene_country,
        orig_bank,
        bene_bank,
        narrative,
        customer_type,
        occupation,
        loc_country,
        loc_region,
        branch_id,
        mcc,
    ];
    let transactions = DataFrame::new(n, columns)?;
    Ok((transactions, labels))
}
