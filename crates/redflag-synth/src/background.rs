//! Ordinary traffic: salaries, rent, utilities, loan repayments and
//! remittances from labour migrants (monthly series), then card spending,
//! transfers between people, cash, business payments and foreign trade.

use chrono::NaiveDate;

use crate::data::{self, CARD_MCCS, MONTHS_EN, TRADE_PARTNERS};
use crate::events::{
    cents, Channel, Clock, Event, Month, Narratives, Profile, Timing, MCC_ATM_IX, MCC_CRYPTO_IX, REMITTANCE_SEASON,
};
use crate::rng::{Rng, Weighted};
use crate::world::{person_name, Utility, World, NONE};

/// Shares of the background rows taken by the monthly series.
const SALARY: f64 = 0.07;
const RENT: f64 = 0.02;
const UTILITIES: f64 = 0.04;
const LOANS: f64 = 0.015;
const REMITTANCES: f64 = 0.05;

#[derive(Debug, Clone, Copy)]
enum OneOff {
    Card,
    P2p,
    MobileTopUp,
    MobileTransfer,
    Atm,
    CashInPersonal,
    CashInBusiness,
    CashOut,
    WireDomestic,
    Tax,
    WireForeign,
    Cheque,
    Crypto,
    Donation,
    RemitOut,
}

/// Relative weights of the one-off kinds.
const ONE_OFFS: [(OneOff, f64); 15] = [
    (OneOff::Card, 0.34),
    (OneOff::P2p, 0.12),
    (OneOff::MobileTopUp, 0.04),
    (OneOff::MobileTransfer, 0.03),
    (OneOff::Atm, 0.11),
    (OneOff::CashInPersonal, 0.035),
    (OneOff::CashInBusiness, 0.035),
    (OneOff::CashOut, 0.02),
    (OneOff::WireDomestic, 0.03),
    (OneOff::Tax, 0.005),
    (OneOff::WireForeign, 0.012),
    (OneOff::Cheque, 0.005),
    (OneOff::Crypto, 0.003),
    (OneOff::Donation, 0.005),
    (OneOff::RemitOut, 0.005),
];

/// Log-normal amount in cents, clamped to [min, max].
fn amount(rng: &mut Rng, median: f64, sigma: f64, min: f64, max: f64) -> i64 {
    cents(rng.lognormal_in(median, sigma, min, max))
}

/// Like `amount`, but redrawn while it falls in [lo, hi) (in units).
fn amount_outside(rng: &mut Rng, median: f64, sigma: f64, min: f64, max: f64, lo: f64, hi: f64) -> i64 {
    let (lo, hi) = (cents(lo), cents(hi));
    let mut a = amount(rng, median, sigma, min, max);
    for _ in 0..16 {
        if a < lo || a >= hi {
            return a;
        }
        a = amount(rng, median, sigma, min, max);
    }
    if a >= lo && a < hi {
        a = hi + (a - lo);
    }
    a
}

struct Texts {
    salary: Vec<[u32; 2]>,
    rent: Vec<[u32; 2]>,
    loan: [u32; 2],
    utility: [[u32; 2]; 4],
    remittance: [u32; 3],
    p2p: Vec<u32>,
    donation: Vec<u32>,
    tax: [u32; 2],
    takings: [u32; 2],
    withdrawal: u32,
    top_up: u32,
    goods: Vec<u32>,
    cheque: u32,
    family: [u32; 2],
}

impl Texts {
    fn new(narr: &mut Narratives, months: &[Month]) -> Self {
        let mm = |m: &Month| format!("{:02}.{}", m.month, m.year);
        let en = |m: &Month| format!("{} {}", MONTHS_EN[(m.month - 1) as usize], m.year);
        Texts {
            salary: months
                .iter()
                .map(|m| {
                    [
                        narr.id(&format!("salary for {}", en(m))),
                        narr.id(&format!("заработная плата за {}", mm(m))),
                    ]
                })
                .collect(),
            rent: months
                .iter()
                .map(|m| {
                    [
                        narr.id(&format!("rent {}", en(m))),
                        narr.id(&format!("аренда квартиры за {}", mm(m))),
                    ]
                })
                .collect(),
            loan: [narr.id("loan repayment"), narr.id("погашение кредита")],
            utility: [
                [narr.id("electricity bill"), narr.id("оплата за электроэнергию")],
                [narr.id("water bill"), narr.id("оплата за воду")],
                [narr.id("heating bill"), narr.id("оплата за отопление")],
                [narr.id("internet subscription"), narr.id("оплата за интернет")],
            ],
            remittance: [narr.id("for family"), narr.id("помощь семье"), narr.id("перевод")],
            p2p: [
                "for lunch",
                "debt",
                "gift",
                "долг",
                "подарок",
                "за обед",
                "rent share",
                "тойго",
                "thanks",
            ]
            .iter()
            .map(|t| narr.id(t))
            .collect(),
            donation: [
                "donation",
                "sadaqa",
                "садака",
                "пожертвование",
                "zakat",
                "charity",
                "хайрия",
            ]
            .iter()
            .map(|t| narr.id(t))
            .collect(),
            tax: [narr.id("tax payment"), narr.id("налоговый платеж")],
            takings: [narr.id("cash takings"), narr.id("выручка")],
            withdrawal: narr.id("cash withdrawal"),
            top_up: narr.id("mobile top-up"),
            goods: [
                "payment for goods",
                "prepayment for goods",
                "оплата за товар",
                "payment for services",
                "оплата за услуги",
                "freight charges",
            ]
            .iter()
            .map(|t| narr.id(t))
            .collect(),
            cheque: narr.id("payment by cheque"),
            family: [narr.id("to family"), narr.id("for studies")],
        }
    }
}

pub(crate) struct Background<'a> {
    rng: Rng,
    world: &'a mut World,
    clock: &'a Clock,
    timing: &'a Timing,
    events: &'a mut Vec<Event>,
    months: Vec<Month>,
    texts: Texts,
}

impl<'a> Background<'a> {
    pub(crate) fn new(
        rng: Rng,
        world: &'a mut World,
        clock: &'a Clock,
        timing: &'a Timing,
        narr: &'a mut Narratives,
        events: &'a mut Vec<Event>,
    ) -> Self {
        let months = clock.months();
        let texts = Texts::new(narr, &months);
        Background {
            rng,
            world,
            clock,
            timing,
            events,
            months,
            texts,
        }
    }

    /// Adds `n` background transactions.
    pub(crate) fn generate(mut self, n: usize) {
        if self.world.individuals.is_empty() || n == 0 {
            return;
        }
        let start = self.events.len();
        let mut perm = self.world.individuals.clone();
        self.rng.shuffle(&mut perm);
        let quota = |share: f64| (n as f64 * share) as usize;
        self.salaries(quota(SALARY));
        self.rents(quota(RENT), &perm);
        self.utilities(quota(UTILITIES), &perm);
        self.loans(quota(LOANS), &perm);
        self.remittances(quota(REMITTANCES));
        let done = self.events.len() - start;
        let kinds = Weighted::new(ONE_OFFS.iter().map(|k| k.1));
        for _ in done..n {
            let k = ONE_OFFS[kinds.sample(&mut self.rng)].0;
            self.one_off(k);
        }
    }

    fn monthly_len(&self) -> usize {
        self.months.len()
    }

    fn salaries(&mut self, quota: usize) {
        let mut employees: Vec<u32> = self
            .world
            .individuals
            .iter()
            .copied()
            .filter(|&i| self.world.employer[i as usize] != NONE)
            .collect();
        self.rng.shuffle(&mut employees);
        let per = self.monthly_len();
        let mut count = 0;
        for emp in employees {
            if count + per > quota {
                break;
            }
            let employer = self.world.employer[emp as usize];
            let dom = [5, 10, 15, 20, 25, 28][(employer as usize * 7) % 6];
            let batch = 9 * 3600 + (employer % 150) * 60;
            let lang = usize::from(employer % 5 < 2);
            let occ = self.world.party(emp).occupation.unwrap_or("");
            let factor = if matches!(occ, "IT specialist" | "engineer" | "doctor") {
                1.5
            } else {
                1.0
            };
            let base = self.rng.lognormal_in(430.0 * factor, 0.45, 120.0, 6000.0);
            for (mi, m) in self.months.clone().iter().enumerate() {
                let Some(day) = self.clock.payday(*m, dom) else {
                    continue;
                };
                let sec = batch + self.rng.below(1200) as u32;
                let amt = cents(base * self.rng.uniform(0.97, 1.05));
                let ev = Event::new(self.clock.ts(day, sec), amt, Channel::Wire, employer, emp)
                    .saying(self.texts.salary[mi][lang]);
                self.events.push(ev);
                count += 1;
            }
        }
    }

    fn rents(&mut self, quota: usize, perm: &[u32]) {
        if self.world.landlords.is_empty() {
            return;
        }
        let per = self.monthly_len();
        let mut count = 0;
        for &tenant in perm {
            if count + per > quota {
                break;
            }
            let landlord = *self.rng.pick(&self.world.landlords);
            if landlord == tenant {
                continue;
            }
            let rent = (self.rng.lognormal_in(220.0, 0.45, 60.0, 1500.0) / 10.0).round() * 10.0;
            let channel = *self
                .rng
                .pick(&[Channel::P2p, Channel::P2p, Channel::Wire, Channel::Mobile]);
            let dom = self.rng.int(1, 5) as u32;
            let lang = self.rng.index(2);
            for (mi, m) in self.months.clone().iter().enumerate() {
                let Some(day) = date_day(self.clock, *m, dom) else {
                    continue;
                };
                let sec = self.timing.second(&mut self.rng, Profile::Personal);
                let ev = Event::new(self.clock.ts(day, sec), cents(rent), channel, tenant, landlord)
                    .saying(self.texts.rent[mi][lang]);
                self.events.push(ev);
                count += 1;
            }
        }
    }

    fn utilities(&mut self, quota: usize, perm: &[u32]) {
        let per = self.monthly_len();
        let mut count = 0;
        // Walk the population from the other end than rent payers.
        for &payer in perm.iter().rev() {
            if count + per > quota {
                break;
            }
            let ci = self.world.country_of(payer);
            let utils = self.world.countries[ci].utilities.clone();
            let how_many = self.rng.int(1, 3) as usize;
            let lang = self.rng.index(2);
            for &(utility, kind) in utils.iter().take(how_many) {
                if count + per > quota {
                    break;
                }
                let (median, seasonal) = match kind {
                    Utility::Electricity => (18.0, true),
                    Utility::Water => (6.0, false),
                    Utility::Heating => (30.0, true),
                    Utility::Internet => (12.0, false),
                };
                let base = self.rng.lognormal(median, 0.4);
                let channel = if self.rng.chance(0.65) {
                    Channel::Mobile
                } else {
                    Channel::Wire
                };
                let dom = self.rng.int(8, 25) as u32;
                let text = self.texts.utility[kind as usize][lang];
                for m in self.months.clone() {
                    let Some(day) = date_day(self.clock, m, dom) else {
                        continue;
                    };
                    let winter = matches!(m.month, 11 | 12 | 1 | 2 | 3);
                    let f = if seasonal && winter { 1.7 } else { 1.0 };
                    let amt = cents((base * f * self.rng.uniform(0.8, 1.2)).clamp(1.0, 400.0));
                    let sec = self.timing.second(&mut self.rng, Profile::Personal);
                    let ev = Event::new(self.clock.ts(day, sec), amt, channel, payer, utility).saying(text);
                    self.events.push(ev);
                    count += 1;
                }
            }
        }
    }

    fn loans(&mut self, quota: usize, perm: &[u32]) {
        let per = self.monthly_len();
        let mut count = 0;
        let mid = perm.len() / 2;
        for &borrower in perm[mid..].iter().chain(perm[..mid].iter()) {
            if count + per > quota {
                break;
            }
            let p = self.world.party(borrower);
            let ci = self.world.country_of(borrower);
            let banks = data::banks(p.country);
            let bank_pos = banks.iter().position(|b| *b == p.bank).unwrap_or(0);
            let Some(&book) = self.world.countries[ci].loan_books.get(bank_pos) else {
                continue;
            };
            let installment = self.rng.lognormal_in(110.0, 0.6, 20.0, 1500.0);
            let dom = self.rng.int(1, 28) as u32;
            let lang = self.rng.index(2);
            for m in self.months.clone() {
                let Some(day) = date_day(self.clock, m, dom) else {
                    continue;
                };
                let sec = self.timing.second(&mut self.rng, Profile::Personal);
                let ev = Event::new(
                    self.clock.ts(day, sec),
                    cents(installment),
                    Channel::Internal,
                    borrower,
                    book,
                )
                .saying(self.texts.loan[lang]);
                self.events.push(ev);
                count += 1;
            }
        }
    }

    fn remittances(&mut self, quota: usize) {
        let mut families = self.world.migrant_families.clone();
        self.rng.shuffle(&mut families);
        let per = self.monthly_len();
        let mut count = 0;
        for family in families {
            let twice = self.rng.chance(0.3);
            let expect = if twice { 2 * per } else { per };
            if count + expect > quota {
                break;
            }
            let home = self.world.party(family).country;
            let country = if home != "KZ" && self.rng.chance(0.25) {
                "KZ"
            } else {
                "RU"
            };
            let region = if country == "KZ" {
                "KZ-75"
            } else {
                *self.rng.pick(&["RU-MOW", "RU-MOW", "RU-SPE", "RU-SVE", "RU-NVS"])
            };
            let place = self.world.foreign_place(region).0;
            let name = person_name(&mut self.rng, 0.2);
            let sender = self.world.add_foreign(country, data::mvts_operator(country), name);
            let base = self.rng.lognormal_in(260.0, 0.5, 40.0, 2500.0);
            let round = self.rng.chance(0.35);
            let per_month = if twice { 2 } else { 1 };
            for m in self.months.clone() {
                for _ in 0..per_month {
                    let dom = self.rng.int(1, 28) as u32;
                    let Some(day) = date_day(self.clock, m, dom) else {
                        continue;
                    };
                    let mut a = base * self.rng.uniform(0.7, 1.3) * REMITTANCE_SEASON[self.clock.month0(day)];
                    if round {
                        a = ((a / 50.0).round() * 50.0).max(50.0);
                    }
                    let sec = self.timing.second(&mut self.rng, Profile::Personal);
                    let mut ev = Event::new(self.clock.ts(day, sec), cents(a), Channel::Mvts, sender, family).at(place);
                    if self.rng.chance(0.4) {
                        ev = ev.saying(*self.rng.pick(&self.texts.remittance));
                    }
                    self.events.push(ev);
                    count += 1;
                }
            }
        }
    }

    fn push(&mut self, ev: Event) {
        self.events.push(ev);
    }

    fn ts(&mut self, p: Profile) -> i64 {
        self.timing.ts(&mut self.rng, self.clock, p)
    }

    /// One transaction of a one-off kind, drawn by its stage.
    fn one_off(&mut self, kind: OneOff) {
        match kind {
            OneOff::Card => self.card_purchase(),
            OneOff::P2p | OneOff::MobileTransfer => self.personal_transfer(kind),
            OneOff::MobileTopUp => self.mobile_top_up(),
            OneOff::Atm => self.atm_withdrawal(),
            OneOff::CashInPersonal => self.personal_cash_deposit(),
            OneOff::CashInBusiness => self.takings_deposit(),
            OneOff::CashOut => self.cash_withdrawal(),
            OneOff::WireDomestic | OneOff::Cheque => self.business_payment(kind),
            OneOff::Tax => self.tax_payment(),
            OneOff::WireForeign => self.foreign_trade_wire(),
            OneOff::Crypto => self.crypto_purchase(),
            OneOff::Donation => self.donation(),
            OneOff::RemitOut => self.remittance_out(),
        }
    }

    /// A card purchase by an active individual at a merchant of its region (mostly)
    /// or its country, its amount by the merchant's category; a person-to-person
    /// transfer instead where the country has no merchants.
    fn card_purchase(&mut self) {
        let w = &*self.world;
        let rng = &mut self.rng;
        let payer = w.active_individual(rng);
        let region = &w.regions[w.hot(payer).region as usize];
        let country = &w.countries[region.country_ix];
        let pool: &[u32] = if !region.merchants.is_empty() && rng.chance(0.85) {
            &region.merchants
        } else if !country.merchants.is_empty() {
            &country.merchants
        } else {
            return self.one_off(OneOff::P2p);
        };
        let merchant = *rng.pick(pool);
        let m = w.hot(merchant);
        let spec = &CARD_MCCS[m.mcc as usize];
        let a = amount(rng, spec.median, spec.sigma, spec.min, spec.max);
        let loc = w.regions[m.region as usize].place;
        let mcc = m.mcc;
        let ts = self.ts(Profile::Retail);
        self.push(Event::new(ts, a, Channel::Card, payer, merchant).at(loc).with_mcc(mcc));
    }

    /// A small transfer between individuals, mostly neighbours: person to person
    /// (`P2p`) or by mobile (`MobileTransfer`), sometimes with a narrative.
    fn personal_transfer(&mut self, kind: OneOff) {
        let w = &*self.world;
        let rng = &mut self.rng;
        let payer = w.active_individual(rng);
        let payee = w.individual_near(rng, payer, 0.6, payer);
        let (channel, median) = if matches!(kind, OneOff::P2p) {
            (Channel::P2p, 40.0)
        } else {
            (Channel::Mobile, 25.0)
        };
        let a = amount(rng, median, 1.0, 1.0, 3000.0);
        let narrative = if rng.chance(0.3) {
            *rng.pick(&self.texts.p2p)
        } else {
            NONE
        };
        let ts = self.ts(Profile::Personal);
        self.push(Event::new(ts, a, channel, payer, payee).saying(narrative));
    }

    /// A mobile top-up paid to an operator of the payer's country.
    fn mobile_top_up(&mut self) {
        let w = &*self.world;
        let rng = &mut self.rng;
        let payer = w.active_individual(rng);
        let ops = &w.countries[w.country_of(payer)].mobile_operators;
        let op = *rng.pick(ops);
        let a = amount(rng, 5.0, 0.5, 1.0, 40.0);
        let text = self.texts.top_up;
        let ts = self.ts(Profile::Personal);
        self.push(Event::new(ts, a, Channel::Mobile, payer, op).saying(text));
    }

    /// An ATM withdrawal: mostly in the holder's home region, else elsewhere in its
    /// country, sometimes abroad (unrounded amounts).
    fn atm_withdrawal(&mut self) {
        let w = &*self.world;
        let rng = &mut self.rng;
        let holder = w.active_individual(rng);
        let home = &w.regions[w.hot(holder).region as usize];
        let country = w.countries[home.country_ix].code;
        let x = rng.f64();
        let abroad = *rng.pick(&["TR-34", "TR-07", "AE-DU", "RU-MOW", "KZ-75", "DE-BE"]);
        let (loc, a) = if x < 0.88 || (x >= 0.98 && abroad.starts_with(country)) {
            (*rng.pick(&home.atms), round10(amount(rng, 60.0, 0.8, 10.0, 1000.0)))
        } else if x < 0.98 {
            let c = &w.countries[home.country_ix];
            let r = &w.regions[*rng.pick(&c.regions) as usize];
            (*rng.pick(&r.atms), round10(amount(rng, 60.0, 0.8, 10.0, 1000.0)))
        } else {
            let atm = w.foreign_place(abroad).1;
            (atm, amount(rng, 120.0, 0.6, 20.0, 800.0))
        };
        let ts = self.ts(Profile::Atm);
        self.push(
            Event::new(ts, a, Channel::Atm, holder, NONE)
                .at(loc)
                .with_mcc(MCC_ATM_IX),
        );
    }

    /// An individual's cash deposit, mostly at its own branch, its amount kept out of
    /// the band just under the reporting threshold.
    fn personal_cash_deposit(&mut self) {
        let w = &*self.world;
        let rng = &mut self.rng;
        let holder = w.active_individual(rng);
        let p = w.hot(holder);
        let loc = if rng.chance(0.8) {
            p.branch
        } else {
            *rng.pick(&w.regions[p.region as usize].branches)
        };
        let a = amount_outside(rng, 250.0, 1.0, 10.0, 15_000.0, 8_800.0, 10_000.0);
        let ts = self.ts(Profile::Branch);
        self.push(Event::new(ts, a, Channel::CashIn, holder, holder).at(loc));
    }

    /// A cash business banking its takings at its branch, by size weight, its amount
    /// kept out of the band just under the threshold; an individual's deposit instead
    /// where there are no cash businesses.
    fn takings_deposit(&mut self) {
        let w = &*self.world;
        let rng = &mut self.rng;
        if w.cash_businesses.is_empty() {
            return self.one_off(OneOff::CashInPersonal);
        }
        let biz = w.cash_businesses[w.cash_business_weights.sample(rng)];
        let p = w.hot(biz);
        let loc = if rng.chance(0.98) {
            p.branch
        } else {
            *rng.pick(&w.regions[p.region as usize].branches)
        };
        let a = amount_outside(rng, 1100.0, 0.7, 50.0, 30_000.0, 8_800.0, 10_000.0);
        let narrative = if rng.chance(0.5) {
            *rng.pick(&self.texts.takings)
        } else {
            NONE
        };
        let ts = self.ts(Profile::Takings);
        self.push(Event::new(ts, a, Channel::CashIn, biz, biz).at(loc).saying(narrative));
    }

    /// A cash withdrawal at the holder's branch, by an individual or an organisation.
    fn cash_withdrawal(&mut self) {
        let w = &*self.world;
        let rng = &mut self.rng;
        let (holder, a) = if rng.chance(0.6) || w.orgs.is_empty() {
            (w.active_individual(rng), amount(rng, 300.0, 0.9, 20.0, 8000.0))
        } else {
            (
                w.orgs[w.org_weights.sample(rng)],
                amount(rng, 800.0, 0.9, 50.0, 20_000.0),
            )
        };
        let loc = w.hot(holder).branch;
        let narrative = if rng.chance(0.4) { self.texts.withdrawal } else { NONE };
        let ts = self.ts(Profile::Branch);
        self.push(
            Event::new(ts, a, Channel::CashOut, holder, NONE)
                .at(loc)
                .saying(narrative),
        );
    }

    /// An organisation's domestic payment: a wire for goods to another firm
    /// (`WireDomestic`) or a cheque to a person or firm (`Cheque`); a person-to-person
    /// transfer instead where there are no organisations.
    fn business_payment(&mut self, kind: OneOff) {
        let w = &*self.world;
        let rng = &mut self.rng;
        if w.orgs.is_empty() {
            return self.one_off(OneOff::P2p);
        }
        let payer = w.orgs[w.org_weights.sample(rng)];
        let (channel, payee, a, narrative) = if matches!(kind, OneOff::WireDomestic) {
            let payee = w.org_near(rng, payer, payer);
            let a = amount(rng, 2500.0, 1.1, 50.0, 250_000.0);
            (Channel::Wire, payee, a, *rng.pick(&self.texts.goods))
        } else {
            let payee = if rng.chance(0.5) {
                w.individual_near(rng, payer, 0.5, payer)
            } else {
                w.org_near(rng, payer, payer)
            };
            (
                Channel::Cheque,
                payee,
                amount(rng, 600.0, 0.8, 50.0, 8000.0),
                self.texts.cheque,
            )
        };
        let ts = self.ts(Profile::Office);
        self.push(Event::new(ts, a, channel, payer, payee).saying(narrative));
    }

    /// An organisation's tax payment to its country's treasury.
    fn tax_payment(&mut self) {
        let w = &*self.world;
        let rng = &mut self.rng;
        if w.orgs.is_empty() {
            return self.one_off(OneOff::P2p);
        }
        let payer = w.orgs[w.org_weights.sample(rng)];
        let tre = w.countries[w.country_of(payer)].treasury;
        let a = amount(rng, 400.0, 1.2, 10.0, 50_000.0);
        let text = self.texts.tax[rng.index(2)];
        let ts = self.ts(Profile::Office);
        self.push(Event::new(ts, a, Channel::Wire, payer, tre).saying(text));
    }

    /// A trade wire between an organisation and a foreign firm of another country,
    /// either way round.
    fn foreign_trade_wire(&mut self) {
        let w = &*self.world;
        let rng = &mut self.rng;
        if w.orgs.is_empty() || w.foreign_firms.is_empty() {
            return self.one_off(OneOff::P2p);
        }
        let org = w.orgs[w.org_weights.sample(rng)];
        let home = w.countries[w.country_of(org)].code;
        let weights: Vec<f64> = TRADE_PARTNERS
            .iter()
            .map(|t| if t.0 == home { 0.0 } else { t.1 })
            .collect();
        let ci = rng.weighted(&weights);
        let firm = *rng.pick(&w.foreign_firms[ci]);
        let a = amount(rng, 8000.0, 1.0, 500.0, 500_000.0);
        let narrative = *rng.pick(&self.texts.goods);
        let (o, b) = if rng.chance(0.6) { (org, firm) } else { (firm, org) };
        let ts = self.ts(Profile::Office);
        self.push(Event::new(ts, a, Channel::Wire, o, b).saying(narrative));
    }

    /// An individual's payment to a virtual-asset service provider, its amount kept
    /// out of the band just under 1,000.
    fn crypto_purchase(&mut self) {
        let w = &*self.world;
        let rng = &mut self.rng;
        let payer = w.active_individual(rng);
        let vasp = *rng.pick(&w.vasps);
        let a = amount_outside(rng, 150.0, 1.0, 10.0, 5000.0, 850.0, 1000.0);
        let ts = self.ts(Profile::Personal);
        self.push(Event::new(ts, a, Channel::Crypto, payer, vasp).with_mcc(MCC_CRYPTO_IX));
    }

    /// An individual's donation to an NPO, of its country where there is one.
    fn donation(&mut self) {
        let w = &*self.world;
        let rng = &mut self.rng;
        if w.npos.is_empty() {
            return self.one_off(OneOff::P2p);
        }
        let payer = w.active_individual(rng);
        let local = &w.countries[w.country_of(payer)].npos;
        let npo = if local.is_empty() {
            *rng.pick(&w.npos)
        } else {
            *rng.pick(local)
        };
        let a = amount(rng, 12.0, 0.8, 1.0, 200.0);
        let channel = if rng.chance(0.5) { Channel::P2p } else { Channel::Mobile };
        let narrative = if rng.chance(0.8) {
            *rng.pick(&self.texts.donation)
        } else {
            NONE
        };
        let ts = self.ts(Profile::Personal);
        self.push(Event::new(ts, a, channel, payer, npo).saying(narrative));
    }

    /// A money transfer to a new recipient in Russia or Kazakhstan, paid out at a
    /// money-transfer operator.
    fn remittance_out(&mut self) {
        let w = &*self.world;
        let rng = &mut self.rng;
        let payer = w.active_individual(rng);
        let country = if rng.chance(0.7) { "RU" } else { "KZ" };
        let region = if country == "RU" { "RU-MOW" } else { "KZ-75" };
        let place = w.foreign_place(region).0;
        let name = person_name(rng, 0.2);
        let a = amount(rng, 150.0, 0.8, 20.0, 2000.0);
        let narrative = *rng.pick(&self.texts.family);
        let ts = self.ts(Profile::Personal);
        let receiver = self.world.add_foreign(country, data::mvts_operator(country), name);
        self.push(
            Event::new(ts, a, Channel::Mvts, payer, receiver)
                .at(place)
                .saying(narrative),
        );
    }
}

/// Rounds cents to a multiple of 10 currency units (ATM notes).
fn round10(a: i64) -> i64 {
    (((a as f64) / 1000.0).round() as i64).max(1) * 1000
}

/// Day index of a day-of-month in `m`, if inside the period.
fn date_day(clock: &Clock, m: Month, dom: u32) -> Option<u32> {
    NaiveDate::from_ymd_opt(m.year, m.month, dom).and_then(|d| clock.day_of(d))
}
