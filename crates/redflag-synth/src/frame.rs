//! Turns the compact events into the canonical transaction frame and the
//! label frame.
//!
//! String columns that repeat a party's account or name, a narrative or a
//! branch are gathered from a dictionary, so each row costs one view and no
//! copy of the text.

use std::collections::HashMap;

use polars::prelude::*;

use crate::events::{mcc_str, Event, Narratives, ALL_CHANNELS, MCC_END, ROLE_CORE};
use crate::schemes::SchemeRec;
use crate::world::{World, NONE, NO_MCC};

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

/// A column gathered from a dictionary by one code per row (`NONE` for
/// null).
fn gather(dict: &StringChunked, name: &str, codes: impl Iterator<Item = u32>) -> PolarsResult<Column> {
    let taken = dict.take(&idx(codes))?;
    Ok(taken.with_name(name.into()).into_series().into_column())
}

/// A small dictionary of static strings.
#[derive(Default)]
struct Dict {
    values: Vec<&'static str>,
    map: HashMap<&'static str, u32>,
}

impl Dict {
    fn id(&mut self, v: &'static str) -> u32 {
        *self.map.entry(v).or_insert_with(|| {
            self.values.push(v);
            (self.values.len() - 1) as u32
        })
    }

    fn opt(&mut self, v: Option<&'static str>) -> u32 {
        v.map_or(NONE, |v| self.id(v))
    }

    fn chunked(&self) -> StringChunked {
        StringChunked::from_iter_values("".into(), self.values.iter().copied())
    }
}

/// "T" and the row number, zero-padded to `width` digits.
fn txn_ids(n: usize, width: usize) -> StringChunked {
    let mut ids = StringChunkedBuilder::new("txn_id".into(), n);
    let mut buf = vec![b'0'; width + 1];
    buf[0] = b'T';
    for i in 1..=n {
        let mut k = i;
        let mut pos = width;
        while k > 0 && pos > 0 {
            buf[pos] = b'0' + (k % 10) as u8;
            k /= 10;
            pos -= 1;
        }
        // Only ASCII digits were written.
        ids.append_value(std::str::from_utf8(&buf).unwrap_or_default());
    }
    ids.finish()
}

/// The code of entry `i` of a per-party or per-place table (`NONE` stays `NONE`).
fn of(table: &[u32], i: u32) -> u32 {
    if i == NONE {
        NONE
    } else {
        table[i as usize]
    }
}

/// The originator's account on a row: none for a cash deposit.
fn orig_acct(e: &Event) -> u32 {
    if e.channel.cash_credit() {
        NONE
    } else {
        e.orig
    }
}

/// The beneficiary's account on a row: none for a cash withdrawal.
fn bene_acct(e: &Event) -> u32 {
    if e.channel.cash_debit() {
        NONE
    } else {
        e.bene
    }
}

/// Per-party and per-place codes, computed once, with their dictionaries.
/// Parties and locations share the country dictionary.
struct Codes {
    p_country: Vec<u32>,
    p_bank: Vec<u32>,
    p_type: Vec<u32>,
    p_occupation: Vec<u32>,
    l_country: Vec<u32>,
    l_region: Vec<u32>,
    countries: StringChunked,
    banks: StringChunked,
    types: StringChunked,
    occupations: StringChunked,
    regions: StringChunked,
}

impl Codes {
    /// Codes every party's country, bank, customer type and occupation (customers
    /// only), then every location's country and region.
    fn new(world: &World) -> Codes {
        let parties = &world.parties;
        let locations = &world.locations;
        let (mut countries, mut banks, mut types, mut occupations, mut regions) = (
            Dict::default(),
            Dict::default(),
            Dict::default(),
            Dict::default(),
            Dict::default(),
        );
        let p_country: Vec<u32> = parties.iter().map(|p| countries.id(p.country)).collect();
        let p_bank: Vec<u32> = parties.iter().map(|p| banks.id(p.bank)).collect();
        let p_type: Vec<u32> = parties
            .iter()
            .map(|p| types.opt(p.customer.map(|c| c.as_str())))
            .collect();
        let p_occupation: Vec<u32> = parties
            .iter()
            .map(|p| {
                if p.customer.is_some() {
                    occupations.opt(p.occupation)
                } else {
                    NONE
                }
            })
            .collect();
        let l_country: Vec<u32> = locations.iter().map(|l| countries.id(l.country)).collect();
        let l_region: Vec<u32> = locations.iter().map(|l| regions.id(l.region)).collect();
        Codes {
            p_country,
            p_bank,
            p_type,
            p_occupation,
            l_country,
            l_region,
            countries: countries.chunked(),
            banks: banks.chunked(),
            types: types.chunked(),
            occupations: occupations.chunked(),
            regions: regions.chunked(),
        }
    }
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
    let txn_id = txn_ids(n, digits(n).max(8));
    let [ts, amount, currency, amount_base] = amount_columns(&events);
    let codes = Codes::new(world);
    let channel = channel_column(&events)?;
    let parties = party_columns(world, &codes, &events)?;
    let narratives = StringChunked::from_iter_values("".into(), narr.values.iter().map(String::as_str));
    let narrative = gather(&narratives, "narrative", events.iter().map(|e| e.narrative))?;
    let profile = profile_columns(world, &codes, &events)?;
    let places = place_columns(world, &codes, &events)?;
    let labels = label_frame(world, schemes, &events, &txn_id)?;

    let mut columns = vec![
        txn_id.into_series().into_column(),
        ts,
        amount,
        currency,
        amount_base,
        channel,
    ];
    columns.extend(parties);
    columns.push(narrative);
    columns.extend(profile);
    columns.extend(places);
    let transactions = DataFrame::new(n, columns)?;
    Ok((transactions, labels))
}

/// The time, amount, currency and base-amount columns (`ts`, `amount`,
/// `currency`, `amount_base`): every amount in USD, so the base amount is the
/// amount.
fn amount_columns(events: &[Event]) -> [Column; 4] {
    let n = events.len();
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
    [ts, amount, currency, amount_base]
}

/// The `channel` column, from a dictionary of every channel in discriminant order.
fn channel_column(events: &[Event]) -> PolarsResult<Column> {
    let mut channels = Dict::default();
    for c in ALL_CHANNELS {
        channels.id(c.as_str());
    }
    gather(&channels.chunked(), "channel", events.iter().map(|e| e.channel as u32))
}

/// The columns of the two parties of each row: account, name, country and bank of
/// the originator and of the beneficiary. The originator of a cash deposit has a
/// name but no account, country or bank; the beneficiary of a cash withdrawal has
/// none of them.
fn party_columns(world: &World, codes: &Codes, events: &[Event]) -> PolarsResult<Vec<Column>> {
    let parties = &world.parties;
    let accounts = StringChunked::from_iter_values("".into(), parties.iter().map(|p| p.account.as_str()));
    let orig_account = gather(&accounts, "orig_account", events.iter().map(orig_acct))?;
    let bene_account = gather(&accounts, "bene_account", events.iter().map(bene_acct))?;
    drop(accounts);
    let names = StringChunked::from_iter_values("".into(), parties.iter().map(|p| p.name.as_str()));
    let orig_name = gather(&names, "orig_name", events.iter().map(|e| e.orig))?;
    let bene_name = gather(&names, "bene_name", events.iter().map(bene_acct))?;
    drop(names);

    let orig_country = gather(
        &codes.countries,
        "orig_country",
        events.iter().map(|e| of(&codes.p_country, orig_acct(e))),
    )?;
    let bene_country = gather(
        &codes.countries,
        "bene_country",
        events.iter().map(|e| of(&codes.p_country, bene_acct(e))),
    )?;
    let orig_bank = gather(
        &codes.banks,
        "orig_bank",
        events.iter().map(|e| of(&codes.p_bank, orig_acct(e))),
    )?;
    let bene_bank = gather(
        &codes.banks,
        "bene_bank",
        events.iter().map(|e| of(&codes.p_bank, bene_acct(e))),
    )?;
    Ok(vec![
        orig_account,
        bene_account,
        orig_name,
        bene_name,
        orig_country,
        bene_country,
        orig_bank,
        bene_bank,
    ])
}

/// The customer profile columns (`customer_type`, `occupation`, `opened`,
/// `expected_monthly_turnover`). The profile belongs to the domestic customer on
/// the row: the beneficiary when it is one, else the originator. So every credit
/// to a customer's account carries that customer's own profile.
fn profile_columns(world: &World, codes: &Codes, events: &[Event]) -> PolarsResult<Vec<Column>> {
    let parties = &world.parties;
    let is_customer = |p: u32| p != NONE && codes.p_type[p as usize] != NONE;
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
    let customer_type = gather(
        &codes.types,
        "customer_type",
        customers.iter().map(|&c| of(&codes.p_type, c)),
    )?;
    let occupation = gather(
        &codes.occupations,
        "occupation",
        customers.iter().map(|&c| of(&codes.p_occupation, c)),
    )?;
    let opened = Int32Chunked::from_iter_options(
        "opened".into(),
        customers
            .iter()
            .map(|&c| (c != NONE).then(|| parties[c as usize].opened)),
    )
    .into_date()
    .into_series()
    .into_column();
    let turnover = Float64Chunked::from_iter_options(
        "expected_monthly_turnover".into(),
        customers.iter().map(|&c| {
            (c != NONE && parties[c as usize].turnover > 0.0).then(|| f64::from(parties[c as usize].turnover))
        }),
    )
    .into_series()
    .into_column();
    Ok(vec![customer_type, occupation, opened, turnover])
}

/// The columns of where a row takes place (`loc_country`, `loc_region`,
/// `branch_id`) and its merchant category (`mcc`).
fn place_columns(world: &World, codes: &Codes, events: &[Event]) -> PolarsResult<Vec<Column>> {
    let loc_country = gather(
        &codes.countries,
        "loc_country",
        events.iter().map(|e| of(&codes.l_country, e.loc)),
    )?;
    let loc_region = gather(
        &codes.regions,
        "loc_region",
        events.iter().map(|e| of(&codes.l_region, e.loc)),
    )?;
    let branches = StringChunked::from_iter_options("".into(), world.locations.iter().map(|l| l.branch.as_deref()));
    let branch_id = gather(&branches, "branch_id", events.iter().map(|e| e.loc))?;
    let mut mccs = Dict::default();
    let mcc_codes: Vec<u32> = (0..MCC_END).map(|i| mccs.opt(mcc_str(i))).collect();
    let mcc = gather(
        &mccs.chunked(),
        "mcc",
        events.iter().map(|e| {
            if e.mcc == NO_MCC {
                NONE
            } else {
                mcc_codes[e.mcc as usize]
            }
        }),
    )?;
    Ok(vec![loc_country, loc_region, branch_id, mcc])
}

/// The label frame, in transaction order: one row per planted transaction with its
/// scheme, typology, subject account, role and pattern.
fn label_frame(
    world: &World,
    schemes: &[SchemeRec],
    events: &[Event],
    txn_id: &StringChunked,
) -> PolarsResult<DataFrame> {
    let mut l_txn = StringChunkedBuilder::new("txn_id".into(), 0);
    let mut l_scheme: Vec<&str> = Vec::new();
    let mut l_typology: Vec<&str> = Vec::new();
    let mut l_account: Vec<&str> = Vec::new();
    let mut l_role: Vec<&str> = Vec::new();
    let mut l_pattern: Vec<&str> = Vec::new();
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
        l_account.push(&world.parties[s.subject as usize].account);
        l_role.push(if e.role == ROLE_CORE { "core" } else { "support" });
        l_pattern.push(s.pattern);
    }
    let n_labels = l_scheme.len();
    DataFrame::new(
        n_labels,
        vec![
            l_txn.finish().into_series().into_column(),
            Column::new("scheme_id".into(), l_scheme),
            Column::new("typology".into(), l_typology),
            Column::new("account".into(), l_account),
            Column::new("role".into(), l_role),
            Column::new("pattern".into(), l_pattern),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::ALL_CHANNELS;

    #[test]
    fn txn_ids_are_padded_row_numbers() {
        let ids = txn_ids(1_001, 8);
        assert_eq!(ids.get(0), Some("T00000001"));
        assert_eq!(ids.get(9), Some("T00000010"));
        assert_eq!(ids.get(99), Some("T00000100"));
        assert_eq!(ids.get(1_000), Some("T00001001"));
    }

    #[test]
    fn channel_codes_follow_discriminants() {
        for (i, c) in ALL_CHANNELS.iter().enumerate() {
            assert_eq!(*c as usize, i);
        }
    }
}
