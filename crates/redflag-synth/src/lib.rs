//! Synthetic financial transactions with planted, labelled money-laundering
//! and terrorist-financing schemes, in redflag's canonical layout.
//!
//! The background is a domestic population (Kyrgyzstan, with some accounts
//! in Kazakhstan, Uzbekistan and Tajikistan) of individuals, organisations,
//! non-profits and money-service businesses, each with a profile (occupation,
//! account opening date, expected monthly turnover, home region and branch),
//! going about ordinary business: salaries, rent, utilities, loan repayments,
//! card spending, transfers between people, cash deposits and withdrawals,
//! business cash takings, business payments, remittances from labour migrants
//! working in Russia and Kazakhstan (about a quarter of Tajik households, an
//! eighth of Kyrgyz and Uzbek ones), and some foreign trade. Traffic follows a
//! weekly rhythm (branches closed on Sundays, shops busiest at weekends) and a
//! seasonal one (shops before the New Year and at Nowruz, cash after the
//! harvest, remittances in the building season).
//! Into it, [`generate`] plants schemes that each cross one rule of the
//! default pack clearly (see [`PLANTED_TYPOLOGIES`]), on dedicated accounts,
//! plus a few decoys that look suspicious but should not fire, and returns
//! a label table that names them.
//!
//! ```no_run
//! use redflag_synth::{generate, write_parquet, SynthConfig};
//!
//! let cfg = SynthConfig { seed: 7, transactions: 100_000, accounts: 10_000, ..SynthConfig::default() };
//! let mut data = generate(&cfg)?;
//! write_parquet(&mut data.transactions, "transactions.parquet")?;
//! # Ok::<(), redflag_synth::SynthError>(())
//! ```
//!
//! # Output
//!
//! `transactions` has the canonical columns, in this order: `txn_id`
//! (`T00000001`, …, numbered in time order), `ts` (datetime, ms, no zone),
//! `amount` (> 0, two decimals), `currency` (always `USD`), `amount_base`
//! (= `amount`), `channel`, `orig_account`, `bene_account`, `orig_name`,
//! `bene_name`, `orig_country`, `bene_country`, `orig_bank`, `bene_bank`,
//! `narrative`, `customer_type`, `occupation`, `opened` (date),
//! `expected_monthly_turnover`, `loc_country`, `loc_region`, `branch_id`,
//! `mcc`. Rows are sorted by `ts`, then `txn_id`.
//!
//! Conventions:
//! - A `cash_in` row has no `orig_account`, `orig_country` or `orig_bank`;
//!   `orig_name` is the person who brought the cash (usually the account
//!   holder). A `cash_out` or `atm` row has no beneficiary account, name,
//!   country or bank. Where the cash changed hands is in `loc_country`,
//!   `loc_region` and `branch_id`.
//! - `customer_type`, `occupation`, `opened` and `expected_monthly_turnover`
//!   describe the domestic customer on the
//!   row: the beneficiary when it is a customer, otherwise the originator
//!   (empty when neither is). Every credit to a customer's account thus
//!   carries that customer's profile; a debit carries it when the money
//!   leaves the customers (cash, abroad, the tax service, a loan account).
//! - `loc_country`, `loc_region` (ISO 3166-2) are set for cash, ATM and card
//!   rows and for money transfers (where the money was sent from or paid
//!   out); `branch_id` for branch cash and ATM rows (a terminal id); `mcc`
//!   for card (the merchant's), ATM (`6011`) and crypto (`6051`) rows.
//!
//! `labels` has one row per planted transaction: `txn_id`, `scheme_id`
//! (`S0001`, …), `typology` (the rule id the scheme targets, or `decoy`),
//! `account` (the scheme's subject account), `role` (`core` for the
//! transactions that make the pattern, `support` for the ones around it,
//! such as the credit that funds a fan-out, or an account's ordinary history
//! before a spike) and `pattern` (the AMLworld pattern or decoy name, else the
//! typology). [`SynthConfig::typologies`] selects schemes by typology or
//! pattern name.
//!
//! # Planted schemes
//!
//! Amounts are in the base currency; T = 10,000. Each scheme runs on its own
//! subject account, and instances alternate between two variants. `typology`
//! is the rule id of TYPOLOGIES.md that should find the scheme, whether or
//! not the pack in use has that rule; the AMLworld patterns carry the rule
//! that should catch them (bipartite and stack, which no single rule of the
//! catalogue names, go under FLW-06 with scatter-gather).
//!
//! | typology | what is planted |
//! |---|---|
//! | `STR-01` | 3 cash deposits of 9,100–9,950 within 7 days, more than 24 h apart, at one branch (an organisation); or 2 (an individual, so under DRG-01's 20,000) |
//! | `STR-02` | 2–3 cash deposits on one day, each under 9,000, 11,500–15,500 in all, one branch |
//! | `STR-03` | 4–5 cash deposits of 1,300–2,800 within 4 days, ≥ 6,000 in all, each at a different branch, in 2–3 regions, by different depositors |
//! | `FLW-02` | 12–17 different people send 40–480 each within 5 days (p2p, mobile); about half leaves at an ATM |
//! | `FLW-03` | a credit, then 12–16 payments of 200–900 to as many people within 5 days (about 60 % of the credit) |
//! | `FLW-05` | 6–7 outgoing wires (or MVTS) within 22 days, each a multiple of 1,000 (2,000–9,000) |
//! | `GEO-01` | 1–2 wires to a firm in Iran, or one from North Korea |
//! | `GEO-02` | 1–2 wires to a firm in Viet Nam or Kenya |
//! | `GEO-03` | 3–4 MVTS transfers of 250–1,500 within 20 days to Afghanistan, or paid out in Gaziantep (`TR-27`) |
//! | `GEO-04` | 2–3 ATM withdrawals within 5 days in Syria, or in Kilis (`TR-79`) |
//! | `WIR-01` | 1–2 incoming cross-border wires of 1,200–20,000 with originator name `UNKNOWN` or empty |
//! | `DRG-01` | an individual: 7–8 cash deposits over about three weeks, ≥ 24,000 and > 90 % of the credits |
//! | `VA-01` | 3–4 crypto purchases (MCC 6051) of 905–995 within 5 days, funded a week before |
//! | `STR-04` | 6–7 cash deposits of 1,200–2,400 four days apart, all outside the home region, by different people; each followed 26–50 h later by a wire abroad of 72–79 % of it |
//! | `STR-05` | 4–6 people send 1,000–2,900 each within 6 days; 3–12 days later 85–95 % goes abroad |
//! | `FLW-01` | 3–4 times a week apart, a wire of 3,000–15,000 in and 92–98 % of it out within 1–20 h |
//! | `FLW-02` `fan-in` | 10–14 accounts pay one within 6 days: 150–450 each, or 800–3,000 by wire (over FLW-02's median cap) |
//! | `FLW-03` `fan-out` | a firm pays 10–14 accounts 1,000–6,000 each, within 6 days or spread over 13 |
//! | `FLW-04` `cycle` | A → B → C (→ D) → A through firms, 1–5 days a hop, each hop 1–7 % smaller, 20,000–60,000 |
//! | `FLW-06` `scatter-gather` | the subject pays 3–6 people 2,000–8,000, who pass 92–97 % to one firm within 8 days |
//! | `FLW-06` `gather-scatter` | 3–5 people pay the subject, which pays as many others 85–95 % of it within 9 days |
//! | `FLW-06` `bipartite` | 3–4 senders (the subject among them) each pay each of 3–4 receivers within 8 days |
//! | `FLW-06` `stack` | two bipartite layers of three: senders → middle → last, the middle passing on 95 % |
//! | `BEH-01` | a monthly salary of 400–700 and card spending all period, then ≥ 18,000 by wire in the last month |
//! | `BEH-02` | a student or pensioner declared at 150 a month receives 3,500–6,000 within a month |
//! | `BEH-03` | two credits in the first week, silence until two weeks before the end, then 3,000–8,000 from abroad taken out (dormant ≥ 180 days from a 200-day period) |
//! | `BEH-04` | an account opened in the period receives 12,000–20,000, or from 20–24 people, within three weeks |
//! | `TF-01` | wages in, an air ticket or travel agency by card, then within two weeks what came in is withdrawn (cash, ATMs in Istanbul) or sent to Turkey |
//! | `TF-02` | a monthly salary, then a loan paid out or a car sold; within two weeks half withdrawn in cash, a third sent abroad |
//! | `TF-03` | a non-profit collects 32–45 donations of 10–95 in 12 days (sadaqa, zakat, пожертвование), then sends 75–88 % to people in Turkey |
//! | `HT-01` | 4–6 salary payments within 20 days from 3–5 employers, or from one for different named workers |
//! | `HT-02` | 9–12 card payments within 25 days at hotels, taxis and massage or escort services in 3–4 cities |
//! | `HT-03` | a firm pays air tickets or work-permit fees for 6–9 named people within 25 days |
//! | `HT-04` | 2–3 cash deposits of 2,500–6,000, each followed within 6–60 h by a transfer abroad of 82–88 % |
//! | `DRG-02` | 12–16 small transfers with drug slang (закладка, клад, меф, соль) from as many people within 6 days (a fan-in) |
//! | `MUL-01` | a student's account: 16–18 transfers in, each passed on within 10–50 minutes (p2p, crypto or ATM) |
//! | `TBML-01` | 3–4 wires of one round amount to one supplier abroad within 25 days, citing an invoice or contract |
//! | `VA-01` `cash-then-crypto` | a cash deposit of 1,500–4,000, then within 3–20 h a crypto purchase of 60–90 % of it (once, or twice a week apart) |
//! | `TXT-01` | 2–3 transfers with narratives of foreign-fighter support ("for the brothers in Sham", "на хиджру") |
//! | `SAN-01` | wires with a party of the invented watch list `samples/watchlist-demo.csv`, written in another script or order |
//! | `SAN-02` | a wire from or to a firm in Syria |
//! | `decoy` | `payroll`: a company's monthly payroll to 14–21 employees (looks like fan-out); `cash-business`: a restaurant banking 500–3,200 of takings daily for four weeks; `large-cash`: one cash deposit over T, or a single one just under it; `charity`: 30–45 donations spent at home on food and school supplies; `currency-exchange`: an exchange office banking 15,000–45,000 of cash a day, over the threshold; `family-remittance`: two or three relatives in Russia and Kazakhstan sending round hundreds twice a month |
//!
//! The first thirteen schemes avoid each other's thresholds (no two cash deposits within 24 h
//! summing to T outside STR-02, no individual's cash credits reaching
//! DRG-01's 20,000 outside DRG-01, no conflict country that is also on the
//! increased-monitoring list), so that each label names the one rule that
//! should fire.
//! The later ones keep clear of the neighbouring rules where the catalogue
//! draws a line between them (STR-04 against STR-03 and HT-04, HT-04 against
//! FLW-01 and DRG-01, TBML-01 against FLW-05), but some typologies share a
//! shape by nature: a TF-03 collection is also a fan-in (FLW-02), a mule
//! account (MUL-01) also passes money through (FLW-01). Such cross-hits count
//! as found in the evaluation's recall, not against it.
//!
//! # The realistic profile
//!
//! With [`Profile::Realistic`] (`redflag generate --profile realistic`) the population
//! and its ordinary traffic are the same, but what is planted is harder to find, in the
//! manner of AMLSim and IBM's AMLworld:
//!
//! - **Laundering**: the seven AMLworld shapes, in turn, `fraction` × `accounts` of them
//!   (at least one of each), labelled as in the default profile (`typology` FLW-02 for
//!   `fan-in`, FLW-03 for `fan-out`, FLW-04 for `cycle`, FLW-06 for `scatter-gather`,
//!   `gather-scatter`, `stack` and `bipartite`; `role` `core`; `account` the hub, the
//!   source or the first member). Sizes: fan-in and fan-out 4-16 counterparties, cycles
//!   of 4-10 accounts, scatter-gather through 4-14 middles, gather-scatter 2-8 payers and
//!   2-8 payees, stacks of three layers of 2-5, bipartite 2-6 by 2-6 (4-17 accounts in
//!   all). Each happens once, over 7-21 days, time-respecting (money is passed on after
//!   it arrives). Amounts start from a log-normal base (median 6,000, 1,200-48,000) and
//!   each transfer is up to 50 % above or below the base or the transfer it passes on,
//!   so nothing is conserved along a chain. The accounts are ordinary customers of any
//!   kind, with their ordinary traffic (half people, three in ten firms), and one in
//!   five an account opened 1-60 days before, for the purpose, that does nothing else.
//! - **Look-alikes**: three for each laundering pattern, of its shape, labelled
//!   `typology` `decoy` with their own `pattern`: `shop-sales` and `rent-collection`
//!   (fan-in), `payroll` and `supplier-run` (fan-out), `family-cycle` (cycle),
//!   `branch-supplier` (scatter-gather: a firm advances money to its people, who pay one
//!   supplier), `cooperative` (gather-scatter), `supply-chain` (stack) and `trade-group`
//!   (bipartite). Their amounts are of the same order (medians 1,800-7,000, varying
//!   30-50 %; payroll and rent keep each member's amount within 3 % from month to
//!   month), their channels and narratives are drawn as the laundering ones are (a wire
//!   when a firm takes part, else p2p or mobile; payroll and rent name the month). Seven
//!   in ten come back every month with the same members (a shop with new customers);
//!   the others happen once.
//! - **Declared turnover** covers what every customer receives, laundering included, so
//!   the declared figure alone does not single out the laundering accounts.
//! - **Account numbers** say nothing: every account (customers, institutions,
//!   counterparties abroad) is its country, two digits of its bank and a number drawn
//!   without replacement, with no `ACC` and no order that follows the population.
//!
//! `typologies` selects shapes by name or by rule id, and `decoy` the look-alikes (of the
//! shapes selected, or of all when none is); a typology of the default profile is an
//! error. The other schemes of the default profile are not planted.
//!
//! # Background patterns worth knowing
//!
//! Ordinary traffic contains patterns that a naive rule would flag:
//! merchants receive many small card payments from different customers,
//! utilities and mobile operators many small payments, non-profits many
//! small donations (fan-in); employers pay many employees on one day
//! (fan-out); cash businesses bank most of their income in cash. Rules need
//! to scope by channel, narrative or customer type to tell these apart; the
//! decoys are labelled instances of them. Background cash deposits never
//! fall in 8,800–9,999.99 and background crypto purchases never in
//! 850–999.99, so that near-threshold behaviour comes from the planted
//! schemes only.

mod background;
mod data;
mod events;
mod frame;
mod planted;
mod realistic;
mod rng;
mod schemes;
mod world;

use std::fs::File;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use polars::prelude::*;

pub use schemes::{DECOY, PLANTED_TYPOLOGIES};

use crate::background::Background;
use crate::events::{Clock, Event, Narratives, Timing};
use crate::rng::Rng;
use crate::schemes::Planter;
use crate::world::World;

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthConfig {
    /// Seed of the pseudo-random generator: the same configuration always
    /// gives the same data.
    pub seed: u64,
    /// Number of transactions (rows), planted ones included.
    pub transactions: usize,
    /// Number of domestic customer accounts. A few institutional accounts
    /// (utilities, the tax service, loan books) and foreign counterparties
    /// come on top.
    pub accounts: usize,
    /// Length of the period, in days.
    pub days: u32,
    /// First day of the period (timestamps start at its midnight).
    pub start: NaiveDate,
    /// Plant schemes and decoys.
    pub plant: bool,
    /// Share of the accounts that are subjects of planted schemes (each
    /// scheme has one subject account; its counterparties come from the
    /// background population). At least one instance of every scheme and
    /// decoy is planted whatever the share; planting also stops once planted
    /// rows reach a fifth of `transactions`. With [`Profile::Realistic`]: laundering
    /// patterns per account (at least one of each shape), each with three look-alikes
    /// (stopping once planted rows reach a quarter of `transactions`).
    pub fraction: f64,
    /// Plant only these typologies (rule ids such as `STR-01`, or `decoy` for the
    /// decoys); empty: all of them.
    pub typologies: Vec<String>,
    /// What to plant: the default profile's schemes, one for each rule of the catalogue,
    /// or the realistic profile's laundering shapes among look-alikes (see the crate
    /// docs).
    pub profile: Profile,
}

/// What [`generate`] plants.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Profile {
    /// One scheme for each rule of the catalogue, each crossing its rule's thresholds
    /// clearly, on accounts of its own, with a few decoys.
    #[default]
    Easy,
    /// The seven AMLworld shapes, laundering among ordinary look-alikes of the same
    /// shapes: amounts that change hop to hop, patterns over 1-3 weeks, account numbers
    /// that say nothing.
    Realistic,
}

impl Profile {
    /// The profile's name: `easy` or `realistic`.
    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Easy => "easy",
            Profile::Realistic => "realistic",
        }
    }
}

impl std::str::FromStr for Profile {
    type Err = SynthError;
    fn from_str(s: &str) -> Result<Profile, SynthError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "easy" | "default" => Ok(Profile::Easy),
            "realistic" => Ok(Profile::Realistic),
            other => Err(SynthError::Config(format!(
                "unknown profile `{other}`: write easy or realistic"
            ))),
        }
    }
}

impl Default for SynthConfig {
    fn default() -> Self {
        SynthConfig {
            seed: 1,
            transactions: 100_000,
            accounts: 10_000,
            days: 180,
            start: NaiveDate::from_ymd_opt(2025, 1, 1).unwrap_or_default(),
            plant: true,
            fraction: 0.01,
            typologies: Vec::new(),
            profile: Profile::Easy,
        }
    }
}

/// Generated data.
#[derive(Debug, Clone)]
pub struct Synthetic {
    /// Transactions in the canonical layout.
    pub transactions: DataFrame,
    /// One row per planted transaction: `txn_id`, `scheme_id`, `typology`,
    /// `account`, `role`, `pattern`.
    pub labels: DataFrame,
}

/// Errors of the generator.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    /// The configuration cannot be generated.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The output path has no known extension.
    #[error("unsupported output format for {}: use a .csv or .parquet file name", path.display())]
    Format { path: PathBuf },
    /// Writing a file failed.
    #[error("cannot write {}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Building or writing a frame failed.
    #[error(transparent)]
    Polars(#[from] PolarsError),
}

impl SynthConfig {
    fn validate(&self) -> Result<(), SynthError> {
        let err = |m: String| Err(SynthError::Config(m));
        if self.transactions == 0 {
            return err("transactions (rows) must be at least 1".into());
        }
        if self.accounts < 20 {
            return err(format!("accounts must be at least 20 (got {})", self.accounts));
        }
        if self.accounts > (u32::MAX / 4) as usize {
            return err(format!(
                "accounts must be at most {} (got {})",
                u32::MAX / 4,
                self.accounts
            ));
        }
        if self.days == 0 {
            return err("days must be at least 1".into());
        }
        if !self.fraction.is_finite() || !(0.0..=0.25).contains(&self.fraction) {
            return err(format!("fraction must be between 0 and 0.25 (got {})", self.fraction));
        }
        if self.plant && self.profile == Profile::Realistic {
            return self.validate_realistic();
        }
        if self.plant {
            schemes::select(&self.typologies).map_err(SynthError::Config)?;
            if self.days < 30 {
                return err(format!(
                    "planted schemes need a period of at least 30 days (got {}); raise days or plant nothing (no typologies)",
                    self.days
                ));
            }
            let n = self.scheme_count();
            if n > self.accounts / 4 {
                return err(format!(
                    "{n} planted schemes need at least {} accounts (got {}); raise accounts, lower fraction or plant nothing (no typologies)",
                    n * 4,
                    self.accounts
                ));
            }
        }
        Ok(())
    }

    /// The realistic profile's limits: a month or more, and a population large enough
    /// for patterns of up to 17 distinct accounts.
    fn validate_realistic(&self) -> Result<(), SynthError> {
        realistic::select(&self.typologies).map_err(SynthError::Config)?;
        if self.days < 30 {
            return Err(SynthError::Config(format!(
                "the realistic profile needs a period of at least 30 days (got {})",
                self.days
            )));
        }
        if self.accounts < 200 {
            return Err(SynthError::Config(format!(
                "the realistic profile needs at least 200 accounts (got {})",
                self.accounts
            )));
        }
        Ok(())
    }

    /// The kinds of scheme to plant.
    fn kinds(&self) -> Vec<schemes::Kind> {
        if self.plant {
            schemes::select(&self.typologies).unwrap_or_default()
        } else {
            Vec::new()
        }
    }

    /// Number of scheme instances to plant: at least one of every kind selected.
    fn scheme_count(&self) -> usize {
        let kinds = self.kinds().len();
        if kinds == 0 {
            return 0;
        }
        ((self.fraction * self.accounts as f64).round() as usize).max(kinds)
    }
}

/// Generates transactions (and labels) for `cfg`.
pub fn generate(cfg: &SynthConfig) -> Result<Synthetic, SynthError> {
    cfg.validate()?;
    match cfg.profile {
        Profile::Easy => generate_easy(cfg),
        Profile::Realistic => generate_realistic(cfg),
    }
}

/// The ordinary traffic that fills `events`, after the planted ones, up to the rows asked
/// for; an error when the planted `what` take more than half of them (`room` says how to
/// make room).
fn add_background(
    cfg: &SynthConfig,
    population: (&mut World, &Clock, &Timing, &mut Narratives),
    events: &mut Vec<Event>,
    (what, room): (&str, &str),
) -> Result<(), SynthError> {
    let planted = events.len();
    if planted > cfg.transactions / 2 {
        return Err(SynthError::Config(format!(
            "the planted {what} need {planted} transactions, more than half of the {} requested; {room}",
            cfg.transactions
        )));
    }
    let (world, clock, timing, narr) = population;
    Background::new(Rng::new(cfg.seed, 3), world, clock, timing, narr, events).generate(cfg.transactions - planted);
    Ok(())
}

/// The default profile.
fn generate_easy(cfg: &SynthConfig) -> Result<Synthetic, SynthError> {
    let clock = Clock::new(cfg.start, cfg.days);
    let timing = Timing::new();
    let plan = schemes::plan(cfg.scheme_count(), &cfg.kinds());
    let identities: Vec<_> = plan.iter().map(|(k, nth)| k.identity(*nth)).collect();
    let mut world = World::build(&mut Rng::new(cfg.seed, 1), cfg.accounts, &identities);
    world.assign_profiles(&mut Rng::new(cfg.seed, 4), clock.epoch_day());
    let mut narr = Narratives::default();
    let mut events = Vec::with_capacity(cfg.transactions + 64);

    let schemes = if cfg.plant {
        Planter::new(Rng::new(cfg.seed, 2), &mut world, &clock, &mut narr, &mut events)
            .plant(&plan, cfg.transactions / 5)
    } else {
        Vec::new()
    };
    let planted = events.len();
    let room = "raise transactions (rows) or plant nothing (no typologies)";
    add_background(
        cfg,
        (&mut world, &clock, &timing, &mut narr),
        &mut events,
        ("schemes", room),
    )?;
    world.declare_turnover(&mut Rng::new(cfg.seed, 5), &events[planted..], &clock);

    let (transactions, labels) = frame::build(&world, &narr, &schemes, events)?;
    Ok(Synthetic { transactions, labels })
}

/// The realistic profile: the population and its ordinary traffic as in the default
/// profile, the laundering patterns and their look-alikes among its accounts (and some
/// opened for the purpose), every account number scrambled.
fn generate_realistic(cfg: &SynthConfig) -> Result<Synthetic, SynthError> {
    let clock = Clock::new(cfg.start, cfg.days);
    let timing = Timing::new();
    let mut world = World::build(&mut Rng::new(cfg.seed, 1), cfg.accounts, &[]);
    world.assign_profiles(&mut Rng::new(cfg.seed, 4), clock.epoch_day());
    let mut narr = Narratives::default();
    let mut events = Vec::with_capacity(cfg.transactions + 64);
    let schemes = if cfg.plant {
        let sel = realistic::select(&cfg.typologies).map_err(SynthError::Config)?;
        let count = ((cfg.fraction * cfg.accounts as f64).round() as usize).max(sel.shapes.len());
        let mut planter = realistic::Planter {
            rng: Rng::new(cfg.seed, 6),
            world: &mut world,
            clock: &clock,
            narr: &mut narr,
            events: &mut events,
            schemes: Vec::new(),
        };
        planter.plant(&sel, count, cfg.transactions / 4);
        planter.schemes
    } else {
        Vec::new()
    };
    let room = "raise transactions (rows), lower fraction or plant nothing (no typologies)";
    add_background(
        cfg,
        (&mut world, &clock, &timing, &mut narr),
        &mut events,
        ("patterns", room),
    )?;
    // Every customer declared a turnover that covers what it receives, laundering
    // included (the accounts of a laundering network are kept in line with their
    // profile), so that the declared figure alone does not single them out.
    world.declare_turnover(&mut Rng::new(cfg.seed, 5), &events, &clock);
    world.scramble_accounts(&mut Rng::new(cfg.seed, 7));
    let (transactions, labels) = frame::build(&world, &narr, &schemes, events)?;
    Ok(Synthetic { transactions, labels })
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Parquet,
}

impl Format {
    /// The format a path's extension names (`.csv`, `.parquet`/`.pq`).
    pub fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" => Some(Format::Csv),
            "parquet" | "pq" => Some(Format::Parquet),
            _ => None,
        }
    }
}

/// Writes through a temporary file next to `path`, renamed into place when
/// complete, so that a file is written whole or not at all.
fn write_atomic(path: &Path, write: impl FnOnce(File) -> PolarsResult<()>) -> Result<(), SynthError> {
    let io = |source| SynthError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let file = File::create(&tmp).map_err(io)?;
    if let Err(e) = write(file) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e.into());
    }
    std::fs::rename(&tmp, path).map_err(io)
}

/// Writes a frame as CSV: a header, `ts` as `YYYY-MM-DDTHH:MM:SS`, amounts
/// with two decimals, nulls as empty fields.
pub fn write_csv(df: &mut DataFrame, path: impl AsRef<Path>) -> Result<(), SynthError> {
    write_atomic(path.as_ref(), |file| {
        CsvWriter::new(file)
            .include_header(true)
            .with_datetime_format(Some("%Y-%m-%dT%H:%M:%S".into()))
            .with_float_precision(Some(2))
            .finish(df)
    })
}

/// Writes a frame as Parquet (zstd).
pub fn write_parquet(df: &mut DataFrame, path: impl AsRef<Path>) -> Result<(), SynthError> {
    write_atomic(path.as_ref(), |file| {
        ParquetWriter::new(file)
            .with_compression(ParquetCompression::Zstd(None))
            .finish(df)
            .map(|_| ())
    })
}

/// Writes a frame in the format its file name names (`.csv` or `.parquet`).
pub fn write(df: &mut DataFrame, path: impl AsRef<Path>) -> Result<(), SynthError> {
    let path = path.as_ref();
    match Format::from_path(path) {
        Some(Format::Csv) => write_csv(df, path),
        Some(Format::Parquet) => write_parquet(df, path),
        None => Err(SynthError::Format {
            path: path.to_path_buf(),
        }),
    }
}
