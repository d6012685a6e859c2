//! Planted schemes. Each runs on its own dedicated account (the subject),
//! crosses its rule's threshold clearly, and avoids the thresholds of the
//! other rules, so that a label names the one rule that should fire. Decoys
//! look suspicious at a glance and must not fire.

use crate::data;
use crate::events::{cents, Channel, Clock, Event, Narratives, MCC_ATM_IX, MCC_CRYPTO_IX, ROLE_CORE, ROLE_SUPPORT};
use crate::rng::Rng;
use crate::world::{foreign_person, named_foreign_firm, person_name, CustomerType, Identity, World, NONE};

/// The kinds of planted scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Str01,
    Str02,
    Str03,
    Flw02,
    Flw03,
    Flw05,
    Geo01,
    Geo02,
    Geo03,
    Geo04,
    Wir01,
    Drg01,
    Va01,
    Str04,
    Str05,
    Flw01,
    FanIn,
    FanOut,
    Cycle,
    ScatterGather,
    GatherScatter,
    Bipartite,
    Stack,
    Beh01,
    Beh02,
    Beh03,
    Beh04,
    Tf01,
    Tf02,
    Tf03,
    Ht01,
    Ht02,
    Ht03,
    Ht04,
    Drg02,
    Mul01,
    Tbml01,
    Txt01,
    San01,
    San02,
    Va01Cash,
    DecoyPayroll,
    DecoyCashBusiness,
    DecoyLargeCash,
    DecoyCharity,
    DecoyExchange,
    DecoyFamily,
}

/// Schemes that a rule must find, in plan order.
pub(crate) const TYPOLOGIES: [Kind; 41] = [
    Kind::Str01,
    Kind::Str02,
    Kind::Str03,
    Kind::Flw02,
    Kind::Flw03,
    Kind::Flw05,
    Kind::Geo01,
    Kind::Geo02,
    Kind::Geo03,
    Kind::Geo04,
    Kind::Wir01,
    Kind::Drg01,
    Kind::Va01,
    Kind::Str04,
    Kind::Str05,
    Kind::Flw01,
    Kind::FanIn,
    Kind::FanOut,
    Kind::Cycle,
    Kind::ScatterGather,
    Kind::GatherScatter,
    Kind::Bipartite,
    Kind::Stack,
    Kind::Beh01,
    Kind::Beh02,
    Kind::Beh03,
    Kind::Beh04,
    Kind::Tf01,
    Kind::Tf02,
    Kind::Tf03,
    Kind::Ht01,
    Kind::Ht02,
    Kind::Ht03,
    Kind::Ht04,
    Kind::Drg02,
    Kind::Mul01,
    Kind::Tbml01,
    Kind::Txt01,
    Kind::San01,
    Kind::San02,
    Kind::Va01Cash,
];

/// Look-alikes that no rule should find.
pub(crate) const DECOYS: [Kind; 6] = [
    Kind::DecoyPayroll,
    Kind::DecoyCashBusiness,
    Kind::DecoyLargeCash,
    Kind::DecoyCharity,
    Kind::DecoyExchange,
    Kind::DecoyFamily,
];

/// Typology label used for decoys.
pub const DECOY: &str = "decoy";

/// Rule ids (and the decoy label) that the generator plants: every family of the
/// typology catalogue, the AMLworld patterns under the rule that should catch them.
pub const PLANTED_TYPOLOGIES: [&str; 36] = [
    "STR-01", "STR-02", "STR-03", "STR-04", "STR-05", "FLW-01", "FLW-02", "FLW-03", "FLW-04", "FLW-05", "FLW-06",
    "BEH-01", "BEH-02", "BEH-03", "BEH-04", "GEO-01", "GEO-02", "GEO-03", "GEO-04", "TF-01", "TF-02", "TF-03", "HT-01",
    "HT-02", "HT-03", "HT-04", "DRG-01", "DRG-02", "MUL-01", "VA-01", "WIR-01", "TBML-01", "TXT-01", "SAN-01",
    "SAN-02", DECOY,
];

impl Kind {
    /// The name of the pattern: the typology for most, the AMLworld pattern name or the
    /// decoy's name for the others.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::DecoyPayroll => "payroll",
            Kind::DecoyCashBusiness => "cash-business",
            Kind::DecoyLargeCash => "large-cash",
            Kind::DecoyCharity => "charity",
            Kind::DecoyExchange => "currency-exchange",
            Kind::DecoyFamily => "family-remittance",
            Kind::FanIn => "fan-in",
            Kind::FanOut => "fan-out",
            Kind::Cycle => "cycle",
            Kind::ScatterGather => "scatter-gather",
            Kind::GatherScatter => "gather-scatter",
            Kind::Bipartite => "bipartite",
            Kind::Stack => "stack",
            Kind::Va01Cash => "cash-then-crypto",
            other => other.typology(),
        }
    }

    pub(crate) fn typology(self) -> &'static str {
        match self {
            Kind::Str01 => "STR-01",
            Kind::Str02 => "STR-02",
            Kind::Str03 => "STR-03",
            Kind::Flw02 => "FLW-02",
            Kind::Flw03 => "FLW-03",
            Kind::Flw05 => "FLW-05",
            Kind::Geo01 => "GEO-01",
            Kind::Geo02 => "GEO-02",
            Kind::Geo03 => "GEO-03",
            Kind::Geo04 => "GEO-04",
            Kind::Wir01 => "WIR-01",
            Kind::Drg01 => "DRG-01",
            Kind::Va01 | Kind::Va01Cash => "VA-01",
            Kind::Str04 => "STR-04",
            Kind::Str05 => "STR-05",
            Kind::Flw01 => "FLW-01",
            Kind::FanIn => "FLW-02",
            Kind::FanOut => "FLW-03",
            Kind::Cycle => "FLW-04",
            Kind::ScatterGather | Kind::GatherScatter | Kind::Bipartite | Kind::Stack => "FLW-06",
            Kind::Beh01 => "BEH-01",
            Kind::Beh02 => "BEH-02",
            Kind::Beh03 => "BEH-03",
            Kind::Beh04 => "BEH-04",
            Kind::Tf01 => "TF-01",
            Kind::Tf02 => "TF-02",
            Kind::Tf03 => "TF-03",
            Kind::Ht01 => "HT-01",
            Kind::Ht02 => "HT-02",
            Kind::Ht03 => "HT-03",
            Kind::Ht04 => "HT-04",
            Kind::Drg02 => "DRG-02",
            Kind::Mul01 => "MUL-01",
            Kind::Tbml01 => "TBML-01",
            Kind::Txt01 => "TXT-01",
            Kind::San01 => "SAN-01",
            Kind::San02 => "SAN-02",
            Kind::DecoyPayroll
            | Kind::DecoyCashBusiness
            | Kind::DecoyLargeCash
            | Kind::DecoyCharity
            | Kind::DecoyExchange
            | Kind::DecoyFamily => DECOY,
        }
    }

    /// What the subject account looks like; `nth` counts instances of the
    /// kind, and odd instances use the second variant.
    pub(crate) fn identity(self, nth: u32) -> Identity {
        let v = nth % 2;
        let (customer, occupation) = match self {
            Kind::Str01 if v == 0 => (CustomerType::Organisation, "retail"),
            Kind::Flw05 => (CustomerType::Organisation, "wholesale trade"),
            Kind::Geo01 => (CustomerType::Organisation, "wholesale trade"),
            Kind::Geo02 => (CustomerType::Organisation, "food processing"),
            Kind::Wir01 if v == 1 => (CustomerType::Organisation, "business services"),
            Kind::DecoyPayroll => (CustomerType::Organisation, "construction"),
            Kind::DecoyCashBusiness => (CustomerType::Organisation, "restaurant"),
            Kind::Drg01 => (
                CustomerType::Individual,
                if v == 0 { "driver" } else { "self-employed" },
            ),
            Kind::Str02 | Kind::Str03 | Kind::Str04 | Kind::Ht04 => (CustomerType::Individual, "trader"),
            Kind::Flw01 | Kind::Ht03 => (CustomerType::Organisation, "business services"),
            Kind::FanOut | Kind::Cycle | Kind::Tbml01 | Kind::San01 => (CustomerType::Organisation, "wholesale trade"),
            Kind::GatherScatter if v == 1 => (CustomerType::Organisation, "construction"),
            Kind::San02 => (CustomerType::Organisation, "food processing"),
            Kind::Beh02 => (CustomerType::Individual, if v == 0 { "student" } else { "pensioner" }),
            Kind::Mul01 => (CustomerType::Individual, "student"),
            Kind::Tf01 => (CustomerType::Individual, "construction worker"),
            Kind::Tf02 => (CustomerType::Individual, "driver"),
            Kind::Tf03 | Kind::DecoyCharity => (CustomerType::Npo, "charity"),
            Kind::DecoyExchange => (CustomerType::Msb, "currency exchange"),
            Kind::DecoyFamily => (CustomerType::Individual, "homemaker"),
            _ => (
                CustomerType::Individual,
                if v == 0 { "employee" } else { "self-employed" },
            ),
        };
        Identity { customer, occupation }
    }
}

/// The kinds that `names` select (typologies such as `STR-01`, pattern names such as
/// `cycle`, or `decoy`; any case); all kinds when `names` is empty.
pub(crate) fn select(names: &[String]) -> Result<Vec<Kind>, String> {
    let all: Vec<Kind> = TYPOLOGIES.iter().chain(DECOYS.iter()).copied().collect();
    if names.is_empty() {
        return Ok(all);
    }
    let mut out = Vec::new();
    for n in names {
        let n = n.trim();
        let hits: Vec<Kind> = all
            .iter()
            .copied()
            .filter(|k| k.typology().eq_ignore_ascii_case(n) || k.name().eq_ignore_ascii_case(n))
            .collect();
        if hits.is_empty() {
            let mut known: Vec<&str> = all.iter().map(|k| k.typology()).collect();
            known.extend(all.iter().map(|k| k.name()));
            known.sort_unstable();
            known.dedup();
            return Err(format!("unknown typology `{n}`; known: {}", known.join(", ")));
        }
        for k in hits {
            if !out.contains(&k) {
                out.push(k);
            }
        }
    }
    // Plan order follows the catalogue, whatever the order asked.
    out.sort_by_key(|k| all.iter().position(|a| a == k));
    Ok(out)
}

/// The `count` planned instances of the `kinds` selected, as (kind, nth instance of that
/// kind): every typology in turn, with the decoys every other round.
pub(crate) fn plan(count: usize, kinds: &[Kind]) -> Vec<(Kind, u32)> {
    let mut out = Vec::with_capacity(count);
    if kinds.is_empty() {
        return out;
    }
    let mut round = 0u32;
    while out.len() < count {
        for k in kinds.iter().filter(|k| k.typology() != DECOY) {
            if out.len() < count {
                out.push((*k, round));
            }
        }
        if round % 2 == 0 {
            for k in kinds.iter().filter(|k| k.typology() == DECOY) {
                if out.len() < count {
                    out.push((*k, round / 2));
                }
            }
        }
        round += 1;
    }
    out
}

/// A planted scheme instance.
#[derive(Debug, Clone)]
pub(crate) struct SchemeRec {
    pub(crate) id: String,
    pub(crate) typology: &'static str,
    /// The pattern's name (`cycle`, `scatter-gather`, `payroll`, or the typology).
    pub(crate) pattern: &'static str,
    pub(crate) subject: u32,
}

pub(crate) struct Planter<'a> {
    pub(crate) rng: Rng,
    pub(crate) world: &'a mut World,
    pub(crate) clock: &'a Clock,
    pub(crate) narr: &'a mut Narratives,
    pub(crate) events: &'a mut Vec<Event>,
    sid: u32,
    pub(crate) schemes: Vec<SchemeRec>,
}

impl<'a> Planter<'a> {
    pub(crate) fn new(
        rng: Rng,
        world: &'a mut World,
        clock: &'a Clock,
        narr: &'a mut Narratives,
        events: &'a mut Vec<Event>,
    ) -> Self {
        Planter {
            rng,
            world,
            clock,
            narr,
            events,
            sid: 0,
            schemes: Vec::new(),
        }
    }

    /// Plants the planned schemes on the reserved accounts. After the first
    /// full round, stops once `max_rows` rows are planted.
    pub(crate) fn plant(mut self, plan: &[(Kind, u32)], max_rows: usize) -> Vec<SchemeRec> {
        let first_round = {
            let mut kinds: Vec<Kind> = plan.iter().map(|p| p.0).collect();
            kinds.dedup();
            kinds.sort_by_key(|k| k.name());
            kinds.dedup();
            kinds.len()
        };
        for (i, &(kind, nth)) in plan.iter().enumerate() {
            if i >= first_round && self.events.len() >= max_rows {
                break;
            }
            let Some(&subject) = self.world.reserved.get(i) else {
                break;
            };
            self.sid = i as u32;
            self.schemes.push(SchemeRec {
                id: format!("S{:04}", i + 1),
                typology: kind.typology(),
                pattern: kind.name(),
                subject,
            });
            let v = nth % 2;
            match kind {
                Kind::Str01 => self.str01(subject, v),
                Kind::Str02 => self.str02(subject, v),
                Kind::Str03 => self.str03(subject, v),
                Kind::Flw02 => self.flw02(subject, v),
                Kind::Flw03 => self.flw03(subject, v),
                Kind::Flw05 => self.flw05(subject, v),
                Kind::Geo01 => self.geo01(subject, v),
                Kind::Geo02 => self.geo02(subject, v),
                Kind::Geo03 => self.geo03(subject, nth),
                Kind::Geo04 => self.geo04(subject, nth),
                Kind::Wir01 => self.wir01(subject, v),
                Kind::Drg01 => self.drg01(subject, v),
                Kind::Va01 => self.va01(subject, v),
                Kind::DecoyPayroll => self.decoy_payroll(subject),
                Kind::DecoyCashBusiness => self.decoy_cash_business(subject),
                Kind::DecoyLargeCash => self.decoy_large_cash(subject, v),
                Kind::Str04 => self.str04(subject, v),
                Kind::Str05 => self.str05(subject, v),
                Kind::Flw01 => self.flw01(subject, v),
                Kind::FanIn => self.fan_in(subject, v),
                Kind::FanOut => self.fan_out(subject, v),
                Kind::Cycle => self.cycle(subject, v),
                Kind::ScatterGather => self.scatter_gather(subject, v),
                Kind::GatherScatter => self.gather_scatter(subject, v),
                Kind::Bipartite => self.bipartite(subject, v),
                Kind::Stack => self.stack(subject, v),
                Kind::Beh01 => self.beh01(subject, v),
                Kind::Beh02 => self.beh02(subject, v),
                Kind::Beh03 => self.beh03(subject, v),
                Kind::Beh04 => self.beh04(subject, v),
                Kind::Tf01 => self.tf01(subject, v),
                Kind::Tf02 => self.tf02(subject, v),
                Kind::Tf03 => self.tf03(subject, v),
                Kind::Ht01 => self.ht01(subject, v),
                Kind::Ht02 => self.ht02(subject, v),
                Kind::Ht03 => self.ht03(subject, v),
                Kind::Ht04 => self.ht04(subject, v),
                Kind::Drg02 => self.drg02(subject, v),
                Kind::Mul01 => self.mul01(subject, v),
                Kind::Tbml01 => self.tbml01(subject, v),
                Kind::Txt01 => self.txt01(subject, v),
                Kind::San01 => self.san01(subject, v),
                Kind::San02 => self.san02(subject, v),
                Kind::Va01Cash => self.va01_cash(subject, v),
                Kind::DecoyCharity => self.decoy_charity(subject),
                Kind::DecoyExchange => self.decoy_exchange(subject),
                Kind::DecoyFamily => self.decoy_family(subject),
            }
        }
        self.schemes
    }

    pub(crate) fn emit(&mut self, mut ev: Event, role: u8) {
        ev.scheme = self.sid;
        ev.role = role;
        self.events.push(ev);
    }

    /// A random time on `day` between the hours `h0` and `h1`.
    pub(crate) fn at(&mut self, day: u32, h0: u32, h1: u32) -> i64 {
        // Never past the period's last day, however a scheme adds up its days.
        let day = day.min(self.clock.days.saturating_sub(1));
        let sec = h0 * 3600 + self.rng.below(u64::from((h1 - h0) * 3600)) as u32;
        self.clock.ts(day, sec)
    }

    /// A first day leaving `span` days of room before the end.
    pub(crate) fn start_day(&mut self, span: u32) -> u32 {
        let room = self.clock.days.saturating_sub(span).max(1);
        self.rng.below(u64::from(room)) as u32
    }

    /// `day`, or the next weekday when it falls on a weekend.
    pub(crate) fn weekday(&self, mut day: u32) -> u32 {
        while self.clock.weekday(day) >= 5 && day + 1 < self.clock.days {
            day += 1;
        }
        day
    }

    pub(crate) fn text(&mut self, t: &str) -> u32 {
        self.narr.id(t)
    }

    pub(crate) fn uniform_cents(&mut self, lo: f64, hi: f64) -> i64 {
        cents(self.rng.uniform(lo, hi))
    }

    /// STR-01: repeated cash deposits of 9,000-9,999 into one account within
    /// 7 days, more than 24 h apart (so not STR-02), at one branch (not
    /// STR-03). Organisations make three; individuals two, under the
    /// 20,000 of DRG-01.
    fn str01(&mut self, subject: u32, v: u32) {
        let branch = self.world.party(subject).branch;
        let d0 = self.start_day(8);
        let offsets: Vec<u32> = if v == 0 {
            let second = self.rng.int(2, 3);
            vec![0, second as u32, self.rng.int(second + 2, 6) as u32]
        } else {
            vec![0, self.rng.int(2, 5) as u32]
        };
        for off in offsets {
            let ts = self.at(d0 + off, 9, 17);
            let a = self.uniform_cents(9_100.0, 9_950.0);
            self.emit(
                Event::new(ts, a, Channel::CashIn, subject, subject).at(branch),
                ROLE_CORE,
            );
        }
    }

    /// STR-02: two or three cash deposits on one day, each under 9,000,
    /// together 11,500-15,500, at one branch.
    fn str02(&mut self, subject: u32, v: u32) {
        let branch = self.world.party(subject).branch;
        let d = self.start_day(2);
        let d = self.weekday(d);
        let total = self.rng.uniform(11_500.0, 15_500.0);
        let parts: Vec<f64> = if v == 0 {
            let a = total * self.rng.uniform(0.45, 0.55);
            vec![a, total - a]
        } else {
            let w: Vec<f64> = (0..3).map(|_| self.rng.uniform(0.8, 1.2)).collect();
            let s: f64 = w.iter().sum();
            w.iter().map(|x| total * x / s).collect()
        };
        let k = parts.len() as u32;
        for (j, part) in parts.into_iter().enumerate() {
            let h0 = 9 + (j as u32) * (8 / k);
            let ts = self.at(d, h0, h0 + 8 / k);
            self.emit(
                Event::new(ts, cents(part), Channel::CashIn, subject, subject).at(branch),
                ROLE_CORE,
            );
        }
    }

    /// STR-03: four or five cash deposits within four days, 1,300-2,800
    /// each and at least 6,000 in all, at as many branches in two or three
    /// regions, brought by different people.
    fn str03(&mut self, subject: u32, v: u32) {
        let k: usize = if v == 0 { 4 } else { 5 };
        let n_regions = if v == 0 { 2 } else { 3 };
        let home = self.world.party(subject).region;
        let ci = self.world.country_of(subject);
        let mut regions = vec![home];
        let mut others: Vec<u16> = self.world.countries[ci]
            .regions
            .iter()
            .copied()
            .filter(|r| *r != home)
            .collect();
        self.rng.shuffle(&mut others);
        regions.extend(others.into_iter().take(n_regions - 1));
        let mut branches = Vec::with_capacity(k);
        let start = self.rng.index(8);
        for j in 0..k {
            let r = &self.world.regions[regions[j % regions.len()] as usize];
            branches.push(r.branches[(start + j / regions.len()) % r.branches.len()]);
        }
        // Distinct half-day slots over four days: at most three deposits in
        // any 24 hours.
        let mut slots: Vec<u32> = (0..8).collect();
        self.rng.shuffle(&mut slots);
        let mut slots: Vec<u32> = slots[..k].to_vec();
        slots.sort_unstable();
        let mut amounts: Vec<f64> = (0..k).map(|_| self.rng.uniform(1_300.0, 2_400.0)).collect();
        let sum: f64 = amounts.iter().sum();
        if sum < 6_000.0 {
            let f = 6_050.0 / sum;
            amounts.iter_mut().for_each(|a| *a *= f);
        }
        let depositors = self.world.distinct_individuals(&mut self.rng, subject, k, |_| true);
        let d0 = self.start_day(5);
        for j in 0..k {
            let day = d0 + slots[j] / 2;
            let (h0, h1) = if slots[j] % 2 == 0 { (9, 12) } else { (14, 17) };
            let ts = self.at(day, h0, h1);
            let by = depositors.get(j).copied().unwrap_or(subject);
            let ev = Event::new(ts, cents(amounts[j]), Channel::CashIn, by, subject).at(branches[j]);
            self.emit(ev, ROLE_CORE);
        }
    }

    /// FLW-02: 12-17 different people each send 40-480 within five days;
    /// about half is then taken out at an ATM.
    fn flw02(&mut self, subject: u32, v: u32) {
        let k = (if v == 0 { 12 } else { 15 }) + self.rng.index(3);
        let senders = self.world.distinct_individuals(&mut self.rng, subject, k, |_| true);
        let d0 = self.start_day(8);
        let mut total = 0;
        let mut last = 0;
        for s in senders {
            let day = d0 + self.rng.below(5) as u32;
            last = last.max(day);
            let ts = self.at(day, 8, 23);
            let a = cents(self.rng.lognormal_in(180.0, 0.5, 40.0, 480.0));
            total += a;
            let channel = if v == 1 && self.rng.chance(0.5) {
                Channel::Mobile
            } else {
                Channel::P2p
            };
            self.emit(Event::new(ts, a, channel, s, subject), ROLE_CORE);
        }
        let p = self.world.party(subject);
        let atms = self.world.regions[p.region as usize].atms.clone();
        let share = self.rng.uniform(0.4, 0.6);
        let out = (total as f64 * share / 2.0 / 1000.0).round() as i64 * 1000;
        for j in 0..2 {
            let ts = self.at(last + 1 + j, 9, 21);
            let atm = *self.rng.pick(&atms);
            let ev = Event::new(ts, out.max(1000), Channel::Atm, subject, NONE)
                .at(atm)
                .with_mcc(MCC_ATM_IX);
            self.emit(ev, ROLE_SUPPORT);
        }
    }

    /// FLW-03: a credit, then three days later 12-16 payments of 200-900 to
    /// as many people within five days, taking out about 60 % of it.
    fn flw03(&mut self, subject: u32, v: u32) {
        let k = 12 + self.rng.index(5);
        let payees = self.world.distinct_individuals(&mut self.rng, subject, k, |_| true);
        let d0 = self.start_day(10);
        let amounts: Vec<i64> = (0..payees.len())
            .map(|_| cents(self.rng.lognormal_in(420.0, 0.35, 200.0, 900.0)))
            .collect();
        let total: i64 = amounts.iter().sum();
        let payer = self.world.org_near(&mut self.rng, subject, subject);
        let credit = (total as f64 * self.rng.uniform(1.5, 1.8)) as i64;
        let ts = self.at(self.weekday(d0), 10, 16);
        let text = self.text("payment for services");
        self.emit(
            Event::new(ts, credit, Channel::Wire, payer, subject).saying(text),
            ROLE_SUPPORT,
        );
        for (p, a) in payees.into_iter().zip(amounts) {
            let day = d0 + 3 + self.rng.below(5) as u32;
            let ts = self.at(day, 8, 22);
            let channel = if v == 0 { Channel::P2p } else { Channel::Mobile };
            self.emit(Event::new(ts, a, channel, subject, p), ROLE_CORE);
        }
    }

    /// FLW-05: six or seven outgoing wires (or MVTS transfers) within 22
    /// days, every one a multiple of 1,000 between 2,000 and 9,000, to three
    /// or four recipients.
    fn flw05(&mut self, subject: u32, v: u32) {
        let k = if v == 0 { 6 } else { 7 };
        let d0 = self.start_day(24);
        let mut recipients: Vec<(u32, Channel, u32)> = Vec::new();
        for _ in 0..3 {
            let o = self.world.org_near(&mut self.rng, subject, subject);
            recipients.push((o, Channel::Wire, NONE));
        }
        if v == 1 {
            let name = person_name(&mut self.rng, 0.3);
            let r = self.world.add_foreign("RU", data::mvts_operator("RU"), name);
            let place = self.world.foreign_place("RU-MOW").0;
            recipients.push((r, Channel::Mvts, place));
        }
        let mut days: Vec<u32> = (0..22).collect();
        self.rng.shuffle(&mut days);
        let mut days = days[..k].to_vec();
        days.sort_unstable();
        let texts = [self.text("payment"), self.text("prepayment"), self.text("transfer")];
        for (j, day) in days.into_iter().enumerate() {
            let (to, channel, place) = recipients[j % recipients.len()];
            let a = 100_000 * self.rng.int(2, 9);
            let ts = self.at(self.weekday(d0 + day), 9, 18);
            let text = *self.rng.pick(&texts);
            self.emit(
                Event::new(ts, a, channel, subject, to).at(place).saying(text),
                ROLE_CORE,
            );
        }
    }

    /// GEO-01: a wire to Iran, or (second variant) one from North Korea.
    fn geo01(&mut self, subject: u32, v: u32) {
        let country = if v == 0 { "IR" } else { "KP" };
        let name = named_foreign_firm(&mut self.rng, country);
        let firm = self.world.add_foreign(country, data::banks(country)[0], name);
        let n = if v == 0 { 1 + self.rng.index(2) } else { 1 };
        let d0 = self.start_day(20);
        let text = self.text(if v == 0 {
            "payment for equipment"
        } else {
            "payment for goods"
        });
        for j in 0..n {
            let ts = self.at(self.weekday(d0 + 9 * j as u32), 9, 18);
            let a = cents(self.rng.lognormal_in(12_000.0, 0.5, 3_000.0, 60_000.0));
            let (o, b) = if v == 0 { (subject, firm) } else { (firm, subject) };
            self.emit(Event::new(ts, a, Channel::Wire, o, b).saying(text), ROLE_CORE);
        }
    }

    /// GEO-02: one or two wires to a firm in a country under increased
    /// monitoring (Viet Nam, Kenya).
    fn geo02(&mut self, subject: u32, v: u32) {
        let country = if v == 0 { "VN" } else { "KE" };
        let name = named_foreign_firm(&mut self.rng, country);
        let firm = self.world.add_foreign(country, data::banks(country)[0], name);
        let n = 1 + self.rng.index(2);
        let d0 = self.start_day(20);
        let text = self.text(if v == 0 {
            "payment for coffee beans"
        } else {
            "payment for tea"
        });
        for j in 0..n {
            let ts = self.at(self.weekday(d0 + 10 * j as u32), 9, 18);
            let a = cents(self.rng.lognormal_in(9_000.0, 0.6, 2_000.0, 60_000.0));
            self.emit(Event::new(ts, a, Channel::Wire, subject, firm).saying(text), ROLE_CORE);
        }
    }

    /// GEO-03: three or four money transfers within 20 days to people in
    /// Afghanistan, or paid out in Gaziantep (TR-27) on the Syrian border.
    /// (Syria and Iraq are also under FATF increased monitoring, so
    /// transfers there would trip GEO-02 as well.)
    fn geo03(&mut self, subject: u32, nth: u32) {
        let (country, region) = if nth % 2 == 0 {
            ("AF", *self.rng.pick(&["AF-KAB", "AF-BAL"]))
        } else {
            ("TR", "TR-27")
        };
        let place = self.world.foreign_place(region).0;
        let mut people = Vec::new();
        for _ in 0..(1 + self.rng.index(2)) {
            let name = foreign_person(&mut self.rng, country);
            people.push(self.world.add_foreign(country, data::mvts_operator(country), name));
        }
        let k = 3 + self.rng.index(2);
        let d0 = self.start_day(22);
        let mut days: Vec<u32> = (0..20).collect();
        self.rng.shuffle(&mut days);
        let mut days = days[..k].to_vec();
        days.sort_unstable();
        let text = self.text("to relatives");
        for (j, day) in days.into_iter().enumerate() {
            let ts = self.at(d0 + day, 9, 20);
            let a = cents(self.rng.lognormal_in(600.0, 0.4, 250.0, 1_500.0));
            let to = people[j % people.len()];
            let ev = Event::new(ts, a, Channel::Mvts, subject, to).at(place);
            let ev = if j == 0 { ev.saying(text) } else { ev };
            self.emit(ev, ROLE_CORE);
        }
    }

    /// GEO-04: two or three ATM withdrawals within five days in Syria, or
    /// in Kilis (TR-79) on the Syrian border.
    fn geo04(&mut self, subject: u32, nth: u32) {
        let region = if nth % 2 == 0 {
            *self.rng.pick(&["SY-ID", "SY-HL", "SY-RA"])
        } else {
            "TR-79"
        };
        let atm = self.world.foreign_place(region).1;
        let k = 2 + self.rng.index(2);
        let d0 = self.start_day(6);
        for j in 0..k {
            let ts = self.at(d0 + (j as u32) * 2, 8, 20);
            let a = cents(self.rng.lognormal_in(180.0, 0.4, 60.0, 400.0));
            let ev = Event::new(ts, a, Channel::Atm, subject, NONE)
                .at(atm)
                .with_mcc(MCC_ATM_IX);
            self.emit(ev, ROLE_CORE);
        }
    }

    /// WIR-01: incoming cross-border wires of 1,200-20,000 whose originator
    /// name is the placeholder "UNKNOWN" or empty.
    fn wir01(&mut self, subject: u32, v: u32) {
        let country = *self.rng.pick(&["AE", "TR", "RU"]);
        let name = if v == 0 { "UNKNOWN" } else { "" };
        let bank = *self.rng.pick(data::banks(country));
        let sender = self.world.add_foreign(country, bank, name.to_string());
        let n = if v == 0 { 1 } else { 2 };
        let d0 = self.start_day(20);
        let text = self.text("transfer");
        for j in 0..n {
            let ts = self.at(self.weekday(d0 + 8 * j), 9, 18);
            let a = cents(self.rng.lognormal_in(3_500.0, 0.5, 1_200.0, 20_000.0));
            self.emit(
                Event::new(ts, a, Channel::Wire, sender, subject).saying(text),
                ROLE_CORE,
            );
        }
    }

    /// DRG-01: seven or eight cash deposits of 2,600-5,800 over about three
    /// weeks, at least 24,000 in all and more than 90 % of the credits;
    /// some small transfers in and a few withdrawals.
    fn drg01(&mut self, subject: u32, v: u32) {
        let k = if v == 0 { 7 } else { 8 };
        let branch = self.world.party(subject).branch;
        let d0 = self.start_day(26);
        let mut amounts: Vec<f64> = (0..k).map(|_| self.rng.uniform(2_600.0, 4_400.0)).collect();
        let sum: f64 = amounts.iter().sum();
        if sum < 24_000.0 {
            let f = 24_100.0 / sum;
            amounts.iter_mut().for_each(|a| *a *= f);
        }
        let mut day = d0;
        for a in amounts {
            let ts = self.at(day, 9, 17);
            self.emit(
                Event::new(ts, cents(a), Channel::CashIn, subject, subject).at(branch),
                ROLE_CORE,
            );
            day += self.rng.int(2, 3) as u32;
        }
        for _ in 0..(1 + self.rng.index(2)) {
            let from = self.world.individual_near(&mut self.rng, subject, 0.6, subject);
            let day = d0 + self.rng.below(20) as u32;
            let ts = self.at(day, 9, 21);
            let a = self.uniform_cents(300.0, 1_200.0);
            self.emit(Event::new(ts, a, Channel::P2p, from, subject), ROLE_SUPPORT);
        }
        let p = self.world.party(subject);
        let atms = self.world.regions[p.region as usize].atms.clone();
        for _ in 0..(2 + self.rng.index(2)) {
            let day = d0 + 1 + self.rng.below(22) as u32;
            let ts = self.at(day, 9, 22);
            let a = 1000 * self.rng.int(20, 50);
            let atm = *self.rng.pick(&atms);
            let ev = Event::new(ts, a, Channel::Atm, subject, NONE)
                .at(atm)
                .with_mcc(MCC_ATM_IX);
            self.emit(ev, ROLE_SUPPORT);
        }
    }

    /// VA-01: three or four purchases of 905-995 each from a virtual-asset
    /// provider within five days, funded a week earlier.
    fn va01(&mut self, subject: u32, v: u32) {
        let k = if v == 0 { 3 } else { 4 };
        let vasp = *self.rng.pick(&self.world.vasps);
        let d0 = self.start_day(16);
        let amounts: Vec<i64> = (0..k).map(|_| self.uniform_cents(905.0, 995.0)).collect();
        let total: i64 = amounts.iter().sum();
        let funding = (total as f64 * self.rng.uniform(1.4, 1.7)) as i64;
        let text = self.text("payment for services");
        let ts = self.at(self.weekday(d0), 10, 17);
        let ev = if v == 0 {
            let from = self.world.individual_near(&mut self.rng, subject, 0.5, subject);
            Event::new(ts, funding, Channel::P2p, from, subject)
        } else {
            let from = self.world.org_near(&mut self.rng, subject, subject);
            Event::new(ts, funding, Channel::Wire, from, subject).saying(text)
        };
        self.emit(ev, ROLE_SUPPORT);
        let first = d0 + 7 + self.rng.below(3) as u32;
        for (j, a) in amounts.into_iter().enumerate() {
            let day = first + (j as u32 * 5) / k as u32;
            let ts = self.at(day, 8, 23);
            let ev = Event::new(ts, a, Channel::Crypto, subject, vasp).with_mcc(MCC_CRYPTO_IX);
            self.emit(ev, ROLE_CORE);
        }
    }

    /// Decoy: a company's monthly payroll to 14-21 employees, labelled
    /// salaries on one day. Looks like fan-out.
    fn decoy_payroll(&mut self, subject: u32) {
        let k = 14 + self.rng.index(8);
        let staff = self
            .world
            .distinct_individuals(&mut self.rng, subject, k, World::salaried);
        let salaries: Vec<f64> = staff
            .iter()
            .map(|_| self.rng.lognormal_in(450.0, 0.4, 150.0, 2_000.0))
            .collect();
        for m in self.clock.months() {
            let Some(day) = self.clock.payday(m, 25) else { continue };
            let text = self.text(&format!(
                "salary for {} {}",
                data::MONTHS_EN[(m.month - 1) as usize],
                m.year
            ));
            for (p, s) in staff.iter().zip(&salaries) {
                let ts = self.at(day, 10, 11);
                let a = cents(s * self.rng.uniform(0.98, 1.03));
                self.emit(Event::new(ts, a, Channel::Wire, subject, *p).saying(text), ROLE_CORE);
            }
        }
    }

    /// Decoy: a restaurant banking its takings (500-3,200) every working
    /// day for four weeks. Cash-intensive, but a business.
    fn decoy_cash_business(&mut self, subject: u32) {
        // Declared as what it is: a restaurant taking about 35,000 a month.
        self.world.parties[subject as usize].turnover = 40_000.0;
        let branch = self.world.party(subject).branch;
        let d0 = self.start_day(29);
        let text = self.text("cash takings");
        for day in d0..d0 + 28 {
            if self.clock.weekday(day) == 6 {
                continue;
            }
            let ts = self.at(day, 17, 19);
            let a = cents(self.rng.lognormal_in(1_400.0, 0.35, 500.0, 3_200.0));
            self.emit(
                Event::new(ts, a, Channel::CashIn, subject, subject)
                    .at(branch)
                    .saying(text),
                ROLE_CORE,
            );
        }
    }

    /// Decoy: one large cash deposit over the threshold (reported, not
    /// avoided), or a single one just under it.
    fn decoy_large_cash(&mut self, subject: u32, v: u32) {
        let branch = self.world.party(subject).branch;
        let d = self.start_day(2);
        let d = self.weekday(d);
        let ts = self.at(d, 10, 16);
        let (a, text) = if v == 0 {
            (self.uniform_cents(12_000.0, 17_500.0), self.text("sale of car"))
        } else {
            (self.uniform_cents(9_200.0, 9_800.0), self.text("savings"))
        };
        self.emit(
            Event::new(ts, a, Channel::CashIn, subject, subject)
                .at(branch)
                .saying(text),
            ROLE_CORE,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_round_has_every_kind() {
        let all = select(&[]).unwrap_or_default();
        let p = plan(TYPOLOGIES.len() + DECOYS.len(), &all);
        for k in TYPOLOGIES.iter().chain(DECOYS.iter()) {
            assert_eq!(p.iter().filter(|(x, _)| x == k).count(), 1, "{k:?}");
        }
        // Decoys come every other round.
        let p = plan(100, &all);
        let decoys = p.iter().filter(|(k, _)| k.typology() == DECOY).count();
        assert!(decoys * 5 < p.len(), "{decoys} decoys in {}", p.len());
    }

    #[test]
    fn typologies_are_listed() {
        for k in TYPOLOGIES {
            assert!(PLANTED_TYPOLOGIES.contains(&k.typology()));
        }
    }
}
