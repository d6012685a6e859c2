//! Compact transaction records, the calendar, and time-of-day profiles.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};

use crate::data::{CARD_MCCS, MCC_ATM, MCC_CRYPTO, SCHEME_MCCS};
use crate::rng::{Rng, Weighted};
use crate::world::{NONE, NO_MCC};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Channel {
    CashIn,
    CashOut,
    Atm,
    Wire,
    Mvts,
    Card,
    Mobile,
    P2p,
    Crypto,
    Cheque,
    Internal,
}

/// Every channel, in discriminant order.
pub(crate) const ALL_CHANNELS: [Channel; 11] = [
    Channel::CashIn,
    Channel::CashOut,
    Channel::Atm,
    Channel::Wire,
    Channel::Mvts,
    Channel::Card,
    Channel::Mobile,
    Channel::P2p,
    Channel::Crypto,
    Channel::Cheque,
    Channel::Internal,
];

impl Channel {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Channel::CashIn => "cash_in",
            Channel::CashOut => "cash_out",
            Channel::Atm => "atm",
            Channel::Wire => "wire",
            Channel::Mvts => "mvts",
            Channel::Card => "card",
            Channel::Mobile => "mobile",
            Channel::P2p => "p2p",
            Channel::Crypto => "crypto",
            Channel::Cheque => "cheque",
            Channel::Internal => "internal",
        }
    }

    /// The originator side is cash (no account).
    pub(crate) fn cash_credit(self) -> bool {
        self == Channel::CashIn
    }

    /// The beneficiary side is cash (no account).
    pub(crate) fn cash_debit(self) -> bool {
        matches!(self, Channel::CashOut | Channel::Atm)
    }
}

/// Merchant category strings: the card categories, then ATM, then crypto.
pub(crate) fn mcc_str(code: u8) -> Option<&'static str> {
    let i = code as usize;
    if code == NO_MCC {
        None
    } else if i < CARD_MCCS.len() {
        Some(CARD_MCCS[i].code)
    } else if i == CARD_MCCS.len() {
        Some(MCC_ATM)
    } else if i == CARD_MCCS.len() + 1 {
        Some(MCC_CRYPTO)
    } else {
        SCHEME_MCCS.get(i - CARD_MCCS.len() - 2).copied()
    }
}

pub(crate) const MCC_ATM_IX: u8 = CARD_MCCS.len() as u8;
pub(crate) const MCC_CRYPTO_IX: u8 = CARD_MCCS.len() as u8 + 1;
/// The first of `SCHEME_MCCS`; the codes follow in order.
pub(crate) const MCC_SCHEME_IX: u8 = CARD_MCCS.len() as u8 + 2;
/// One past the last merchant category code.
pub(crate) const MCC_END: u8 = MCC_SCHEME_IX + SCHEME_MCCS.len() as u8;

/// The code of a scheme-only merchant category (`4121`, `7273`, `7297`, `4722`).
pub(crate) fn scheme_mcc(code: &str) -> u8 {
    SCHEME_MCCS
        .iter()
        .position(|c| *c == code)
        .map_or(NO_MCC, |p| MCC_SCHEME_IX + p as u8)
}

/// The code of a card merchant category (`7011`, `4511`, ...).
pub(crate) fn card_mcc(code: &str) -> u8 {
    CARD_MCCS
        .iter()
        .position(|m| m.code == code)
        .map_or(NO_MCC, |p| p as u8)
}

/// Role of a planted transaction in its scheme.
pub(crate) const ROLE_CORE: u8 = 0;
pub(crate) const ROLE_SUPPORT: u8 = 1;

/// One transaction, before it becomes a row. Parties, locations and
/// narratives are indices; amounts are in cents.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Event {
    pub(crate) ts: i64,
    pub(crate) cents: i64,
    pub(crate) orig: u32,
    pub(crate) bene: u32,
    pub(crate) loc: u32,
    pub(crate) narrative: u32,
    pub(crate) scheme: u32,
    pub(crate) channel: Channel,
    pub(crate) mcc: u8,
    pub(crate) role: u8,
}

impl Event {
    pub(crate) fn new(ts: i64, cents: i64, channel: Channel, orig: u32, bene: u32) -> Self {
        Event {
            ts,
            cents: cents.max(1),
            orig,
            bene,
            loc: NONE,
            narrative: NONE,
            scheme: NONE,
            channel,
            mcc: NO_MCC,
            role: ROLE_CORE,
        }
    }

    pub(crate) fn at(mut self, loc: u32) -> Self {
        self.loc = loc;
        self
    }

    pub(crate) fn with_mcc(mut self, mcc: u8) -> Self {
        self.mcc = mcc;
        self
    }

    pub(crate) fn saying(mut self, narrative: u32) -> Self {
        self.narrative = narrative;
        self
    }
}

/// Amount in cents from a value in currency units.
pub(crate) fn cents(x: f64) -> i64 {
    (x * 100.0).round() as i64
}

/// Interned narratives.
#[derive(Debug, Default)]
pub(crate) struct Narratives {
    map: HashMap<String, u32>,
    pub(crate) values: Vec<String>,
}

impl Narratives {
    pub(crate) fn id(&mut self, text: &str) -> u32 {
        if let Some(&i) = self.map.get(text) {
            return i;
        }
        let i = self.values.len() as u32;
        self.values.push(text.to_string());
        self.map.insert(text.to_string(), i);
        i
    }
}

pub(crate) const DAY_MS: i64 = 86_400_000;

/// The calendar of the generated period.
#[derive(Debug, Clone)]
pub(crate) struct Clock {
    pub(crate) start: NaiveDate,
    pub(crate) start_ms: i64,
    pub(crate) days: u32,
    /// Weekday (0 = Monday) of day 0.
    first_weekday: u32,
    /// Calendar month (0 = January) of each day.
    month: Vec<u8>,
}

/// A calendar month overlapping the period.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Month {
    pub(crate) year: i32,
    pub(crate) month: u32,
}

impl Clock {
    pub(crate) fn new(start: NaiveDate, days: u32) -> Self {
        let start_ms = start.and_hms_opt(0, 0, 0).map_or(0, |d| d.and_utc().timestamp_millis());
        let month = (0..days)
            .map(|d| (start + chrono::Days::new(u64::from(d))).month0() as u8)
            .collect();
        Clock {
            start,
            start_ms,
            days,
            first_weekday: start.weekday().num_days_from_monday(),
            month,
        }
    }

    /// Calendar month (0 = January) of `day`.
    pub(crate) fn month0(&self, day: u32) -> usize {
        self.month.get(day as usize).copied().unwrap_or(0) as usize
    }

    /// Index of `day`'s calendar month among `months()`.
    pub(crate) fn month_index(&self, day: u32) -> usize {
        let date = self.start + chrono::Days::new(u64::from(day));
        ((date.year() - self.start.year()) * 12 + date.month() as i32 - self.start.month() as i32).max(0) as usize
    }

    /// Days from the Unix epoch to day 0.
    pub(crate) fn epoch_day(&self) -> i32 {
        (self.start_ms.div_euclid(DAY_MS)) as i32
    }

    pub(crate) fn weekday(&self, day: u32) -> u32 {
        (self.first_weekday + day) % 7
    }

    /// Timestamp of `day` (from the start) at `second` of the day.
    pub(crate) fn ts(&self, day: u32, second: u32) -> i64 {
        self.start_ms + i64::from(day) * DAY_MS + i64::from(second) * 1000
    }

    /// Day index of a calendar date, if inside the period.
    pub(crate) fn day_of(&self, date: NaiveDate) -> Option<u32> {
        let d = (date - self.start).num_days();
        (d >= 0 && d < i64::from(self.days)).then_some(d as u32)
    }

    /// Calendar months overlapping the period.
    pub(crate) fn months(&self) -> Vec<Month> {
        let mut out = Vec::new();
        let mut y = self.start.year();
        let mut m = self.start.month();
        let last = self.start + chrono::Days::new(u64::from(self.days.saturating_sub(1)));
        loop {
            out.push(Month { year: y, month: m });
            if y > last.year() || (y == last.year() && m >= last.month()) {
                break;
            }
            m += 1;
            if m > 12 {
                m = 1;
                y += 1;
            }
        }
        out
    }

    /// Day index of day-of-month `dom` (clamped to the month's length) of
    /// `month`, moved back to the Friday when it falls on a weekend.
    pub(crate) fn payday(&self, month: Month, dom: u32) -> Option<u32> {
        let mut d = dom.max(1);
        let date = loop {
            if let Some(date) = NaiveDate::from_ymd_opt(month.year, month.month, d) {
                break date;
            }
            if d <= 28 {
                return None;
            }
            d -= 1;
        };
        let back = match date.weekday().num_days_from_monday() {
            5 => 1,
            6 => 2,
            _ => 0,
        };
        let date = date - chrono::Days::new(back);
        self.day_of(date)
    }
}

/// When in the week and the day a kind of transaction happens.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Profile {
    /// Bank branch: weekdays and Saturday morning, office hours.
    Branch,
    /// Shops and restaurants: every day, more at weekends and evenings.
    Retail,
    /// ATMs: every day, 6:00 to midnight.
    Atm,
    /// Transfers between people: every day, waking hours.
    Personal,
    /// Business payments: weekdays, office hours.
    Office,
    /// A business banking its takings: end of the working day.
    Takings,
}

pub(crate) struct Timing {
    weekday: [[f64; 7]; 6],
    /// Seasonal weight of each calendar month, by profile.
    season: [[f64; 12]; 6],
    hours: Vec<Weighted>,
}

/// Seasonal factor of labour migrants' remittances by calendar month: the building
/// season in Russia and Kazakhstan (April to October) and the New Year send more, the
/// winter less.
pub(crate) const REMITTANCE_SEASON: [f64; 12] = [0.8, 0.8, 0.9, 1.05, 1.15, 1.2, 1.2, 1.2, 1.15, 1.05, 0.9, 1.1];

impl Timing {
    pub(crate) fn new() -> Self {
        let hours = |ranges: &[(u32, u32, f64)]| {
            let mut w = [0.0; 24];
            for &(a, b, x) in ranges {
                for h in a..b {
                    w[h as usize] = x;
                }
            }
            Weighted::new(w)
        };
        Timing {
            weekday: [
                [1.0, 1.0, 1.0, 1.0, 1.0, 0.35, 0.0],
                [0.9, 0.9, 0.95, 1.0, 1.15, 1.35, 1.2],
                [0.9, 0.9, 0.9, 1.0, 1.25, 1.3, 1.0],
                [1.0, 0.95, 0.95, 1.0, 1.1, 1.1, 0.9],
                [1.0, 1.0, 1.0, 1.0, 0.95, 0.08, 0.02],
                [1.0, 1.0, 1.0, 1.0, 1.1, 0.8, 0.0],
            ],
            // Jan..Dec: shops peak before the New Year and at Nowruz (March), cash
            // deposits after the harvest (September, October), business payments at the
            // year end.
            season: [
                [0.85, 0.9, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.15, 1.15, 1.0, 1.1],
                [0.8, 0.85, 1.1, 1.0, 1.0, 1.0, 1.05, 1.05, 1.0, 1.0, 1.05, 1.35],
                [0.9, 0.9, 1.05, 1.0, 1.0, 1.0, 1.05, 1.05, 1.0, 1.0, 1.0, 1.25],
                [0.9, 0.9, 1.15, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.2],
                [0.8, 0.95, 1.0, 1.0, 1.0, 1.0, 0.95, 0.9, 1.0, 1.0, 1.05, 1.2],
                [0.85, 0.9, 1.05, 1.0, 1.0, 1.05, 1.1, 1.1, 1.0, 1.0, 1.0, 1.2],
            ],
            hours: vec![
                hours(&[(9, 10, 0.8), (10, 13, 1.3), (13, 14, 0.6), (14, 17, 1.1), (17, 18, 0.7)]),
                hours(&[(8, 11, 0.6), (11, 14, 1.2), (14, 17, 0.8), (17, 21, 1.5), (21, 22, 0.6)]),
                hours(&[(6, 8, 0.3), (8, 12, 0.9), (12, 19, 1.2), (19, 22, 1.0), (22, 24, 0.3)]),
                hours(&[(7, 9, 0.5), (9, 18, 1.0), (18, 22, 1.3), (22, 24, 0.4)]),
                hours(&[(9, 10, 0.8), (10, 13, 1.2), (13, 14, 0.5), (14, 18, 1.0)]),
                hours(&[(16, 17, 0.7), (17, 19, 1.5), (19, 20, 0.6)]),
            ],
        }
    }

    fn slot(p: Profile) -> usize {
        match p {
            Profile::Branch => 0,
            Profile::Retail => 1,
            Profile::Atm => 2,
            Profile::Personal => 3,
            Profile::Office => 4,
            Profile::Takings => 5,
        }
    }

    /// A random day of the period, with the profile's weekly rhythm.
    pub(crate) fn day(&self, rng: &mut Rng, clock: &Clock, p: Profile) -> u32 {
        let w = &self.weekday[Self::slot(p)];
        let s = &self.season[Self::slot(p)];
        let max = w.iter().cloned().fold(0.0, f64::max) * s.iter().cloned().fold(0.0, f64::max);
        let mut d = rng.below(u64::from(clock.days)) as u32;
        for _ in 0..16 {
            if rng.f64() * max < w[clock.weekday(d) as usize] * s[clock.month0(d)] {
                break;
            }
            d = rng.below(u64::from(clock.days)) as u32;
        }
        d
    }

    /// A random second of the day, with the profile's hours.
    pub(crate) fn second(&self, rng: &mut Rng, p: Profile) -> u32 {
        let h = self.hours[Self::slot(p)].sample(rng) as u32;
        h * 3600 + rng.below(3600) as u32
    }

    /// A random timestamp in the period.
    pub(crate) fn ts(&self, rng: &mut Rng, clock: &Clock, p: Profile) -> i64 {
        let d = self.day(rng, clock, p);
        clock.ts(d, self.second(rng, p))
    }
}
