//! Schemes for the rule families beyond the first pack's thirteen rules (funnel and smurf
//! accounts, pass-through, behaviour against history, terrorist financing, human
//! trafficking, drug slang, mules, trade, text, sanctions), the AMLworld network patterns
//! (fan-in, fan-out, cycle, scatter-gather, gather-scatter, bipartite, stack), and the
//! decoys of a charity, a currency exchange and a family remittance corridor.
//!
//! Each runs on its scheme's subject account; counterparties come from the background
//! population or are added for the scheme. Like the first schemes, each crosses its own
//! rule's thresholds (TYPOLOGIES.md) clearly; where another rule's thresholds are near,
//! the comment says which and how they are kept apart.

use crate::data::{self, MONTHS_EN, WATCHLISTED};
use crate::events::{card_mcc, cents, scheme_mcc, Channel, Event, MCC_ATM_IX, MCC_CRYPTO_IX, ROLE_CORE, ROLE_SUPPORT};
use crate::schemes::Planter;
use crate::world::{foreign_person, named_foreign_firm, person_name, CustomerType, Party, NONE, NO_MCC};

const HOUR_MS: i64 = 3_600_000;

impl Planter<'_> {
    /// An ATM of the subject's home region.
    fn home_atm(&mut self, subject: u32) -> u32 {
        let r = self.world.party(subject).region as usize;
        *self.rng.pick(&self.world.regions[r].atms)
    }

    /// A person abroad who receives money transfers, and where they are paid out.
    fn person_abroad(&mut self, country: &'static str) -> (u32, u32) {
        let name = foreign_person(&mut self.rng, country);
        let who = self.world.add_foreign(country, data::mvts_operator(country), name);
        let region = match country {
            "RU" => "RU-MOW",
            "TR" => "TR-34",
            "AE" => "AE-DU",
            _ => "KZ-75",
        };
        (who, self.world.foreign_place(region).0)
    }

    /// A firm abroad, from the named firms of its country.
    fn firm_abroad(&mut self, country: &'static str) -> u32 {
        let name = named_foreign_firm(&mut self.rng, country);
        let bank = *self.rng.pick(data::banks(country));
        self.world.add_foreign(country, bank, name)
    }

    /// A new domestic business in `region` (a merchant the schemes pay by card).
    fn business_in(&mut self, region: u16, name: String, occupation: &'static str) -> u32 {
        let r = &self.world.regions[region as usize];
        let country = self.world.countries[r.country_ix].code;
        let branch = r.branches[0];
        let bank = *self.rng.pick(data::banks(country));
        self.world.add_party(Party {
            account: String::new(),
            name,
            country,
            bank,
            customer: Some(CustomerType::Organisation),
            occupation: Some(occupation),
            region,
            branch,
            mcc: NO_MCC,
            weight: 1.0,
            opened: self.clock.epoch_day() - 2_000,
            turnover: 20_000.0,
        })
    }

    /// `k` distinct background organisations near `subject`.
    fn distinct_orgs(&mut self, subject: u32, k: usize) -> Vec<u32> {
        let mut out: Vec<u32> = Vec::with_capacity(k);
        for _ in 0..k * 20 {
            if out.len() >= k {
                break;
            }
            let o = self.world.org_near(&mut self.rng, subject, subject);
            if !out.contains(&o) {
                out.push(o);
            }
        }
        out
    }

    /// A time `hours` (fractional) after `ts`.
    fn after(&mut self, ts: i64, min_h: f64, max_h: f64) -> i64 {
        ts + (self.rng.uniform(min_h, max_h) * HOUR_MS as f64) as i64
    }

    /// Ordinary history of an account that otherwise has none (scheme subjects take no
    /// part in background traffic): a monthly salary and some card spending, from day
    /// `from` up to (not including) day `to`, as support transactions.
    fn ordinary_history(&mut self, subject: u32, from: u32, to: u32, salary: f64) {
        let employer = self.world.org_near(&mut self.rng, subject, subject);
        let region = self.world.party(subject).region as usize;
        let ci = self.world.country_of(subject);
        let merchants = if self.world.regions[region].merchants.is_empty() {
            self.world.countries[ci].merchants.clone()
        } else {
            self.world.regions[region].merchants.clone()
        };
        let mut day = from;
        while day < to {
            let dom = self.clock.month0(day);
            let text = self.text(&format!("salary for {}", MONTHS_EN[dom]));
            let ts = self.at(self.weekday(day), 9, 12);
            let a = cents(salary * self.rng.uniform(0.97, 1.03));
            self.emit(
                Event::new(ts, a, Channel::Wire, employer, subject).saying(text),
                ROLE_SUPPORT,
            );
            for _ in 0..(2 + self.rng.index(3)) {
                if merchants.is_empty() {
                    break;
                }
                let m = *self.rng.pick(&merchants);
                let d = day + self.rng.below(28) as u32;
                if d >= to {
                    continue;
                }
                let mp = self.world.hot(m);
                let loc = self.world.regions[mp.region as usize].place;
                let spec = &data::CARD_MCCS[mp.mcc as usize % data::CARD_MCCS.len()];
                let a = cents(self.rng.lognormal_in(spec.median, spec.sigma, spec.min, spec.max));
                let ts = self.at(d, 10, 21);
                let ev = Event::new(ts, a, Channel::Card, subject, m).at(loc).with_mcc(mp.mcc);
                self.emit(ev, ROLE_SUPPORT);
            }
            day += 30;
        }
    }

    /// STR-04 funnel account: six or seven cash deposits of 1,200-2,400 over about 25
    /// days, every one outside the account's home region, brought by different people;
    /// each followed one to two days later by a wire abroad of 72-79 % of it. Deposits
    /// are four days apart, so no five days hold 5,000 or three depositors (STR-03), and
    /// what leaves stays under HT-04's 80 %.
    pub(crate) fn str04(&mut self, subject: u32, v: u32) {
        let k = if v == 0 { 6 } else { 7 };
        let home = self.world.party(subject).region;
        let ci = self.world.country_of(subject);
        let mut others: Vec<u16> = self.world.countries[ci]
            .regions
            .iter()
            .copied()
            .filter(|r| *r != home)
            .collect();
        if others.is_empty() {
            others.push(home);
        }
        self.rng.shuffle(&mut others);
        let firm = self.firm_abroad(if v == 0 { "CN" } else { "TR" });
        let text = self.text("payment for goods");
        let depositors = self.world.distinct_individuals(&mut self.rng, subject, k, |_| true);
        let d0 = self.start_day(k as u32 * 4 + 3);
        for j in 0..k {
            let region = others[j % others.len()] as usize;
            let branch = *self.rng.pick(&self.world.regions[region].branches);
            let ts = self.at(d0 + 4 * j as u32, 9, 17);
            let a = self.uniform_cents(1_200.0, 2_400.0);
            let by = depositors.get(j).copied().unwrap_or(subject);
            self.emit(Event::new(ts, a, Channel::CashIn, by, subject).at(branch), ROLE_CORE);
            let out_ts = self.after(ts, 26.0, 50.0);
            let out = (a as f64 * self.rng.uniform(0.72, 0.79)) as i64;
            self.emit(
                Event::new(out_ts, out, Channel::Wire, subject, firm).saying(text),
                ROLE_CORE,
            );
        }
    }

    /// STR-05 smurf consolidation: four to six people each send 1,000-2,900 within six
    /// days; three to twelve days later 85-95 % of it goes abroad (a wire to a firm in
    /// Syria, a conflict zone, for STR-05H; or a money transfer to a person in Turkey).
    /// Under ten senders, so not FLW-02.
    pub(crate) fn str05(&mut self, subject: u32, v: u32) {
        let k = 4 + self.rng.index(3);
        let feeders = self.world.distinct_individuals(&mut self.rng, subject, k, |_| true);
        let d0 = self.start_day(22);
        let mut total = 0;
        let mut last = d0;
        for f in feeders {
            let day = d0 + self.rng.below(6) as u32;
            last = last.max(day);
            let ts = self.at(day, 8, 22);
            let a = self.uniform_cents(1_000.0, 2_900.0);
            total += a;
            self.emit(Event::new(ts, a, Channel::P2p, f, subject), ROLE_CORE);
        }
        let share = self.rng.uniform(0.85, 0.95);
        let day = last + 3 + self.rng.below(9) as u32;
        let ts = self.at(day, 10, 17);
        let ev = if v == 0 {
            let firm = self.firm_abroad("SY");
            let text = self.text("prepayment for goods");
            Event::new(ts, (total as f64 * share) as i64, Channel::Wire, subject, firm).saying(text)
        } else {
            let (who, place) = self.person_abroad("TR");
            Event::new(ts, (total as f64 * share) as i64, Channel::Mvts, subject, who).at(place)
        };
        self.emit(ev, ROLE_CORE);
    }

    /// FLW-01 rapid pass-through: three or four times a week apart, a wire of
    /// 3,000-15,000 comes in and within 1-20 hours 92-98 % of it leaves in one or two
    /// payments (to a firm, or to people).
    pub(crate) fn flw01(&mut self, subject: u32, v: u32) {
        let episodes = 3 + v;
        let d0 = self.start_day(7 * episodes + 2);
        let payer = self.world.org_near(&mut self.rng, subject, subject);
        let texts = [self.text("payment under contract"), self.text("payment for goods")];
        for j in 0..episodes {
            let ts = self.at(self.weekday(d0 + 7 * j), 9, 13);
            let a = self.uniform_cents(3_000.0, 15_000.0);
            self.emit(
                Event::new(ts, a, Channel::Wire, payer, subject).saying(texts[0]),
                ROLE_CORE,
            );
            let out = (a as f64 * self.rng.uniform(0.92, 0.98)) as i64;
            let parts = if v == 0 { 1 } else { 2 };
            for p in 0..parts {
                let ts = self.after(ts, 1.0 + 8.0 * p as f64, 9.0 + 11.0 * p as f64);
                let part = out / parts as i64;
                let ev = if v == 0 {
                    let to = self.world.org_near(&mut self.rng, subject, payer);
                    Event::new(ts, part, Channel::Wire, subject, to).saying(texts[1])
                } else {
                    let to = self.world.individual_near(&mut self.rng, subject, 0.5, subject);
                    Event::new(ts, part, Channel::P2p, subject, to)
                };
                self.emit(ev, ROLE_CORE);
            }
        }
    }

    /// AMLworld fan-in (FLW-02): 10-14 accounts pay one within six days. The first
    /// variant pays 150-450 each (under FLW-02's median of 500); the second 800-3,000
    /// by wire, as AMLworld's fan-ins often do, which a median cap misses.
    pub(crate) fn fan_in(&mut self, subject: u32, v: u32) {
        let k = 10 + self.rng.index(5);
        let senders = self.world.distinct_individuals(&mut self.rng, subject, k, |_| true);
        let d0 = self.start_day(10);
        let mut total = 0;
        for s in senders {
            let ts = {
                let day = d0 + self.rng.below(6) as u32;
                self.at(day, 8, 22)
            };
            let (a, ch) = if v == 0 {
                (self.uniform_cents(150.0, 450.0), Channel::P2p)
            } else {
                (self.uniform_cents(800.0, 3_000.0), Channel::Wire)
            };
            total += a;
            self.emit(Event::new(ts, a, ch, s, subject), ROLE_CORE);
        }
        let to = self.world.org_near(&mut self.rng, subject, subject);
        let ts = self.at(self.weekday(d0 + 8), 10, 16);
        let text = self.text("payment for goods");
        self.emit(
            Event::new(ts, (total as f64 * 0.9) as i64, Channel::Wire, subject, to).saying(text),
            ROLE_SUPPORT,
        );
    }

    /// AMLworld fan-out (FLW-03): a firm is paid once, then pays 10-14 accounts
    /// 1,000-6,000 each: within six days (first variant), or spread over twelve days
    /// (second), where a seven-day window holds fewer than ten.
    pub(crate) fn fan_out(&mut self, subject: u32, v: u32) {
        let k = 10 + self.rng.index(5);
        let mut payees = self.world.distinct_individuals(&mut self.rng, subject, k / 2, |_| true);
        payees.extend(self.distinct_orgs(subject, k - k / 2));
        let spread = if v == 0 { 6 } else { 13 };
        let d0 = self.start_day(spread + 4);
        let amounts: Vec<i64> = payees.iter().map(|_| self.uniform_cents(1_000.0, 6_000.0)).collect();
        let total: i64 = amounts.iter().sum();
        let payer = self.world.org_near(&mut self.rng, subject, subject);
        let text = self.text("payment under contract");
        let ts = self.at(self.weekday(d0), 9, 12);
        self.emit(
            Event::new(ts, (total as f64 * 1.1) as i64, Channel::Wire, payer, subject).saying(text),
            ROLE_SUPPORT,
        );
        let pay = self.text("payment for services");
        for (j, (p, a)) in payees.into_iter().zip(amounts).enumerate() {
            let day = if v == 0 {
                d0 + 1 + self.rng.below(spread as u64) as u32
            } else {
                d0 + 1 + j as u32
            };
            let ts = self.at(day, 9, 18);
            self.emit(Event::new(ts, a, Channel::Wire, subject, p).saying(pay), ROLE_CORE);
        }
    }

    /// AMLworld cycle (FLW-04): money goes round A → B → C (→ D) → A through firms, by
    /// wire, 1-5 days a hop, each hop 1-7 % less than the one before, all within 30 days.
    pub(crate) fn cycle(&mut self, subject: u32, v: u32) {
        let hops = 3 + v as usize;
        let mut ring = vec![subject];
        ring.extend(self.distinct_orgs(subject, hops - 1));
        ring.push(subject);
        let d0 = self.start_day(5 * hops as u32 + 2);
        let texts = [
            self.text("payment for goods"),
            self.text("return of prepayment"),
            self.text("loan under agreement"),
        ];
        let mut a = self.uniform_cents(20_000.0, 60_000.0);
        let mut day = d0;
        for h in 0..hops {
            let ts = self.at(self.weekday(day), 9, 18);
            let text = texts[h % texts.len()];
            self.emit(
                Event::new(ts, a, Channel::Wire, ring[h], ring[h + 1]).saying(text),
                ROLE_CORE,
            );
            a = (a as f64 * self.rng.uniform(0.93, 0.99)) as i64;
            day += 1 + self.rng.below(5) as u32;
        }
    }

    /// AMLworld scatter-gather (FLW-06): the subject splits a sum over three to five
    /// people within two days, and each passes 92-97 % on to one firm within the next
    /// six days.
    pub(crate) fn scatter_gather(&mut self, subject: u32, v: u32) {
        let k = 3 + v as usize + self.rng.index(2);
        let mids = self.world.distinct_individuals(&mut self.rng, subject, k, |_| true);
        let sink = self.world.org_near(&mut self.rng, subject, subject);
        let d0 = self.start_day(10);
        let text = self.text("payment for goods");
        for m in mids {
            let ts = {
                let day = d0 + self.rng.below(2) as u32;
                self.at(day, 9, 20)
            };
            let a = self.uniform_cents(2_000.0, 8_000.0);
            self.emit(Event::new(ts, a, Channel::P2p, subject, m), ROLE_CORE);
            let ts2 = {
                let day = d0 + 2 + self.rng.below(6) as u32;
                self.at(day, 9, 18)
            };
            let b = (a as f64 * self.rng.uniform(0.92, 0.97)) as i64;
            self.emit(Event::new(ts2, b, Channel::Wire, m, sink).saying(text), ROLE_CORE);
        }
    }

    /// AMLworld gather-scatter (FLW-06): three to five accounts pay the subject within
    /// three days, and it pays as many others out within the following six.
    pub(crate) fn gather_scatter(&mut self, subject: u32, v: u32) {
        let k = 3 + self.rng.index(3);
        let people = self.world.distinct_individuals(&mut self.rng, subject, 2 * k, |_| true);
        let (sources, dests) = people.split_at(k.min(people.len()));
        let d0 = self.start_day(10);
        let mut total = 0;
        for &s in sources {
            let ts = {
                let day = d0 + self.rng.below(3) as u32;
                self.at(day, 9, 20)
            };
            let a = self.uniform_cents(2_000.0, 8_000.0);
            total += a;
            self.emit(Event::new(ts, a, Channel::P2p, s, subject), ROLE_CORE);
        }
        let n = dests.len().max(1) as f64;
        let text = self.text("payment for services");
        for &d in dests {
            let ts = {
                let day = d0 + 3 + self.rng.below(6) as u32;
                self.at(day, 9, 20)
            };
            let a = (total as f64 * self.rng.uniform(0.85, 0.95) / n) as i64;
            let ch = if v == 0 { Channel::P2p } else { Channel::Wire };
            self.emit(Event::new(ts, a, ch, subject, d).saying(text), ROLE_CORE);
        }
    }

    /// AMLworld bipartite (labelled FLW-06): three senders (the subject among them) each
    /// pay each of three receivers 1,000-4,000 within eight days.
    pub(crate) fn bipartite(&mut self, subject: u32, v: u32) {
        let n = 3 + v as usize;
        let people = self
            .world
            .distinct_individuals(&mut self.rng, subject, 2 * n - 1, |_| true);
        let mut senders = vec![subject];
        senders.extend(people.iter().take(n - 1).copied());
        let receivers: Vec<u32> = people.iter().skip(n - 1).copied().collect();
        let d0 = self.start_day(10);
        for &s in &senders {
            for &r in &receivers {
                let ts = {
                    let day = d0 + self.rng.below(8) as u32;
                    self.at(day, 9, 21)
                };
                let a = self.uniform_cents(1_000.0, 4_000.0);
                self.emit(Event::new(ts, a, Channel::P2p, s, r), ROLE_CORE);
            }
        }
    }

    /// AMLworld stack (labelled FLW-06): two layers of bipartite transfers: three
    /// senders (the subject among them) pay three accounts, which within the next five
    /// days pay three more, passing on about 95 % of what they got.
    pub(crate) fn stack(&mut self, subject: u32, v: u32) {
        let n = 3;
        let people = self
            .world
            .distinct_individuals(&mut self.rng, subject, 3 * n - 1, |_| true);
        let mut first = vec![subject];
        first.extend(people.iter().take(n - 1).copied());
        let middle: Vec<u32> = people.iter().skip(n - 1).take(n).copied().collect();
        let last: Vec<u32> = people.iter().skip(2 * n - 1).copied().collect();
        let d0 = self.start_day(10);
        let ch = if v == 0 { Channel::P2p } else { Channel::Mobile };
        let mut got = vec![0i64; middle.len()];
        for &s in &first {
            for (j, &m) in middle.iter().enumerate() {
                let ts = {
                    let day = d0 + self.rng.below(3) as u32;
                    self.at(day, 9, 21)
                };
                let a = self.uniform_cents(1_500.0, 4_000.0);
                got[j] += a;
                self.emit(Event::new(ts, a, ch, s, m), ROLE_CORE);
            }
        }
        let k = last.len().max(1) as f64;
        for (j, &m) in middle.iter().enumerate() {
            for &l in &last {
                let ts = {
                    let day = d0 + 3 + self.rng.below(5) as u32;
                    self.at(day, 9, 21)
                };
                let a = (got[j] as f64 * 0.95 / k) as i64;
                self.emit(Event::new(ts, a, ch, m, l), ROLE_CORE);
            }
        }
    }

    /// BEH-01 spike: a salary of 400-700 and card spending every month, then in the
    /// last month three or four wires of 5,000-12,000 (at least 18,000 in all) that
    /// leave again by wire.
    pub(crate) fn beh01(&mut self, subject: u32, v: u32) {
        let spike = self.clock.days.saturating_sub(28);
        let salary = self.rng.uniform(400.0, 700.0);
        self.ordinary_history(subject, 0, spike, salary);
        let k = 3 + v as usize;
        let mut amounts: Vec<f64> = (0..k).map(|_| self.rng.uniform(5_000.0, 12_000.0)).collect();
        let sum: f64 = amounts.iter().sum();
        if sum < 18_000.0 {
            amounts.iter_mut().for_each(|a| *a *= 18_100.0 / sum);
        }
        let payers = self.distinct_orgs(subject, k);
        let text = self.text("payment for services");
        let mut total = 0;
        for (j, a) in amounts.into_iter().enumerate() {
            let ts = self.at(self.weekday(spike + 5 * j as u32), 9, 17);
            let payer = payers.get(j).copied().unwrap_or(payers[0]);
            total += cents(a);
            self.emit(
                Event::new(ts, cents(a), Channel::Wire, payer, subject).saying(text),
                ROLE_CORE,
            );
        }
        let to = self.world.org_near(&mut self.rng, subject, subject);
        let ts = self.at(self.weekday(spike + 5 * k as u32 + 1), 9, 17);
        let goods = self.text("payment for goods");
        self.emit(
            Event::new(ts, (total as f64 * 0.8) as i64, Channel::Wire, subject, to).saying(goods),
            ROLE_SUPPORT,
        );
    }

    /// BEH-02 profile mismatch: a student (or a pensioner) declared to turn over 150 a
    /// month receives 3,500-6,000 within a month from four to six people, and takes
    /// some of it out at an ATM.
    pub(crate) fn beh02(&mut self, subject: u32, _v: u32) {
        self.world.parties[subject as usize].turnover = 150.0;
        let k = 4 + self.rng.index(3);
        let senders = self.world.distinct_individuals(&mut self.rng, subject, k, |_| true);
        let target = self.rng.uniform(3_500.0, 6_000.0);
        let d0 = self.start_day(30);
        for s in senders {
            let ts = {
                let day = d0 + self.rng.below(25) as u32;
                self.at(day, 9, 22)
            };
            let a = cents(target / k as f64 * self.rng.uniform(0.85, 1.15));
            self.emit(Event::new(ts, a, Channel::P2p, s, subject), ROLE_CORE);
        }
        for j in 0..2 {
            let atm = self.home_atm(subject);
            let ts = self.at(d0 + 10 + 12 * j, 9, 21);
            let a = 1000 * self.rng.int(50, 100);
            self.emit(
                Event::new(ts, a, Channel::Atm, subject, NONE)
                    .at(atm)
                    .with_mcc(MCC_ATM_IX),
                ROLE_SUPPORT,
            );
        }
    }

    /// BEH-03 dormant account reactivated: a few transactions in the first ten days,
    /// then nothing for as long as the period allows (180 days or more from a
    /// 215-day period), then a transfer from abroad of 3,000-8,000 that is taken out
    /// within ten days: at ATMs in Istanbul, or sent on to a person in Turkey.
    pub(crate) fn beh03(&mut self, subject: u32, v: u32) {
        let from = self.world.individual_near(&mut self.rng, subject, 0.5, subject);
        for j in 0..2 {
            let ts = self.at(1 + 4 * j, 9, 20);
            let a = self.uniform_cents(50.0, 300.0);
            self.emit(Event::new(ts, a, Channel::P2p, from, subject), ROLE_SUPPORT);
        }
        let wake = self.clock.days.saturating_sub(14).max(12);
        let (sender, place) = self.person_abroad("RU");
        let ts = self.at(wake, 10, 18);
        let a = self.uniform_cents(3_000.0, 8_000.0);
        self.emit(Event::new(ts, a, Channel::Mvts, sender, subject).at(place), ROLE_CORE);
        if v == 0 {
            let atm = self.world.foreign_place("TR-34").1;
            for j in 0..3 {
                let ts = self.at((wake + 2 + 2 * j).min(self.clock.days - 1), 8, 22);
                let b = cents(a as f64 / 100.0 * 0.3);
                self.emit(
                    Event::new(ts, b, Channel::Atm, subject, NONE)
                        .at(atm)
                        .with_mcc(MCC_ATM_IX),
                    ROLE_CORE,
                );
            }
        } else {
            let (who, place) = self.person_abroad("TR");
            let ts = self.after(ts, 20.0, 70.0);
            let b = (a as f64 * 0.95) as i64;
            self.emit(Event::new(ts, b, Channel::Mvts, subject, who).at(place), ROLE_CORE);
        }
    }

    /// BEH-04 new account velocity: an account opened during the period receives within
    /// three weeks either 12,000-20,000 in three to five transfers, or small sums from
    /// 20-24 different people; most of it leaves soon after.
    pub(crate) fn beh04(&mut self, subject: u32, v: u32) {
        let d0 = self.start_day(30);
        self.world.parties[subject as usize].opened = self.clock.epoch_day() + d0 as i32;
        let mut total = 0;
        if v == 0 {
            let k = 3 + self.rng.index(3);
            let target = self.rng.uniform(12_000.0, 20_000.0);
            let payers = self.distinct_orgs(subject, k);
            let text = self.text("payment for services");
            for (j, p) in payers.iter().enumerate() {
                let ts = self.at(self.weekday(d0 + 1 + 4 * j as u32), 9, 17);
                let a = cents(target / k as f64 * self.rng.uniform(0.9, 1.1));
                total += a;
                self.emit(Event::new(ts, a, Channel::Wire, *p, subject).saying(text), ROLE_CORE);
            }
        } else {
            let k = 20 + self.rng.index(5);
            let senders = self.world.distinct_individuals(&mut self.rng, subject, k, |_| true);
            for s in senders {
                let ts = {
                    let day = d0 + 1 + self.rng.below(21) as u32;
                    self.at(day, 8, 23)
                };
                let a = self.uniform_cents(50.0, 300.0);
                total += a;
                self.emit(Event::new(ts, a, Channel::P2p, s, subject), ROLE_CORE);
            }
        }
        let to = self.world.individual_near(&mut self.rng, subject, 0.3, subject);
        let ts = self.at(d0 + 23, 9, 20);
        self.emit(
            Event::new(ts, (total as f64 * 0.85) as i64, Channel::P2p, subject, to),
            ROLE_SUPPORT,
        );
    }

    /// TF-01 travel then depletion: wages and transfers in over a month, an air ticket
    /// or a travel agency paid by card, then within two weeks what came in is taken out:
    /// in cash at home and at ATMs in Istanbul, or sent by money transfer to Turkey.
    pub(crate) fn tf01(&mut self, subject: u32, v: u32) {
        let d0 = self.start_day(48);
        let employer = self.world.org_near(&mut self.rng, subject, subject);
        let text = self.text("salary");
        let mut got = 0;
        for j in 0..2 {
            let ts = self.at(self.weekday(d0 + 14 * j), 9, 12);
            let a = self.uniform_cents(600.0, 1_200.0);
            got += a;
            self.emit(
                Event::new(ts, a, Channel::Wire, employer, subject).saying(text),
                ROLE_SUPPORT,
            );
        }
        for _ in 0..(2 + self.rng.index(2)) {
            let from = self.world.individual_near(&mut self.rng, subject, 0.6, subject);
            let ts = {
                let day = d0 + self.rng.below(28) as u32;
                self.at(day, 9, 22)
            };
            let a = self.uniform_cents(300.0, 800.0);
            got += a;
            self.emit(Event::new(ts, a, Channel::P2p, from, subject), ROLE_SUPPORT);
        }
        let (merchant, mcc) = if v == 0 {
            let bank = data::banks("TR")[0];
            (
                self.world.add_foreign("TR", bank, "Anatolian Airlines".into()),
                card_mcc("4511"),
            )
        } else {
            let region = self.world.party(subject).region;
            let name = format!("{} Travel Agency", self.rng.pick(&data::ORG_PREFIX));
            (self.business_in(region, name, "travel agency"), scheme_mcc("4722"))
        };
        let region = self.world.party(subject).region as usize;
        let place = self.world.regions[region].place;
        let day = d0 + 30;
        let ts = self.at(day, 10, 22);
        let fare = self.uniform_cents(250.0, 700.0);
        self.emit(
            Event::new(ts, fare, Channel::Card, subject, merchant)
                .at(place)
                .with_mcc(mcc),
            ROLE_CORE,
        );
        // What leaves is measured against all that came in (a balance from before the
        // month pays the fare), as TF-01 measures it.
        let left = got.max(10_000);
        if v == 0 {
            let branch = self.world.party(subject).branch;
            let ts = self.at(day + 2, 9, 17);
            let cash = (left as f64 * 0.62) as i64;
            self.emit(
                Event::new(ts, cash, Channel::CashOut, subject, NONE).at(branch),
                ROLE_CORE,
            );
            let atm = self.world.foreign_place("TR-34").1;
            for j in 0..2 {
                let ts = self.at(day + 6 + 2 * j, 8, 22);
                let a = (left as f64 * 0.17) as i64;
                self.emit(
                    Event::new(ts, a, Channel::Atm, subject, NONE)
                        .at(atm)
                        .with_mcc(MCC_ATM_IX),
                    ROLE_CORE,
                );
            }
        } else {
            let (who, place) = self.person_abroad("TR");
            let ts = {
                let day = day + 3 + self.rng.below(8) as u32;
                self.at(day, 9, 20)
            };
            let a = (left as f64 * self.rng.uniform(0.9, 0.96)) as i64;
            self.emit(Event::new(ts, a, Channel::Mvts, subject, who).at(place), ROLE_CORE);
        }
    }

    /// TF-02 liquidation before leaving: a monthly salary of about 500, then a loan
    /// paid out (6,000-12,000) or a car sold (7,000-14,000), and within two weeks about
    /// half of it withdrawn in cash and a third sent to people abroad.
    pub(crate) fn tf02(&mut self, subject: u32, v: u32) {
        let end = self.clock.days.saturating_sub(16);
        let salary = self.rng.uniform(420.0, 600.0);
        self.ordinary_history(subject, 0, end, salary);
        let day = end + 1;
        let ts = self.at(self.weekday(day), 10, 16);
        let (a, ev) = if v == 0 {
            let ci = self.world.country_of(subject);
            let book = self.world.countries[ci].loan_books[0];
            let a = self.uniform_cents(6_000.0, 12_000.0);
            let text = self.text("loan disbursement");
            (a, Event::new(ts, a, Channel::Internal, book, subject).saying(text))
        } else {
            let buyer = self.world.individual_near(&mut self.rng, subject, 0.6, subject);
            let a = self.uniform_cents(7_000.0, 14_000.0);
            let text = self.text("sale of car");
            (a, Event::new(ts, a, Channel::P2p, buyer, subject).saying(text))
        };
        self.emit(ev, ROLE_CORE);
        let branch = self.world.party(subject).branch;
        let ts = {
            let day = day + 2 + self.rng.below(4) as u32;
            self.at(day, 9, 17)
        };
        let cash = (a as f64 * self.rng.uniform(0.45, 0.55)) as i64;
        self.emit(
            Event::new(ts, cash, Channel::CashOut, subject, NONE).at(branch),
            ROLE_CORE,
        );
        let (who, place) = self.person_abroad(if v == 0 { "TR" } else { "RU" });
        let ts = {
            let day = day + 6 + self.rng.below(6) as u32;
            self.at(day, 9, 20)
        };
        let sent = (a as f64 * self.rng.uniform(0.32, 0.4)) as i64;
        self.emit(Event::new(ts, sent, Channel::Mvts, subject, who).at(place), ROLE_CORE);
    }

    /// TF-03 collection then transfer abroad: a non-profit collects 32-45 donations of
    /// 10-95 from as many people within twelve days (narratives of donation, sadaqa,
    /// zakat), then within six days sends 75-88 % of it to people in Turkey.
    pub(crate) fn tf03(&mut self, subject: u32, v: u32) {
        let k = 32 + self.rng.index(14);
        let donors = self.world.distinct_individuals(&mut self.rng, subject, k, |_| true);
        let words = ["sadaqa", "садака", "пожертвование", "zakat", "donation", "хайрия"];
        let texts: Vec<u32> = words.iter().map(|w| self.text(w)).collect();
        let d0 = self.start_day(20);
        let mut total = 0;
        for d in donors {
            let ts = {
                let day = d0 + self.rng.below(12) as u32;
                self.at(day, 8, 23)
            };
            let a = cents(self.rng.lognormal_in(35.0, 0.6, 10.0, 95.0));
            total += a;
            let ch = if self.rng.chance(0.5) {
                Channel::P2p
            } else {
                Channel::Mobile
            };
            let text = *self.rng.pick(&texts);
            self.emit(Event::new(ts, a, ch, d, subject).saying(text), ROLE_CORE);
        }
        let parts = 1 + v as i64;
        let share = self.rng.uniform(0.75, 0.88);
        let text = self.text("humanitarian aid");
        for p in 0..parts {
            let (who, place) = self.person_abroad("TR");
            let ts = {
                let day = d0 + 12 + self.rng.below(5) as u32 + p as u32;
                self.at(day, 9, 19)
            };
            let a = (total as f64 * share / parts as f64) as i64;
            self.emit(
                Event::new(ts, a, Channel::Mvts, subject, who).at(place).saying(text),
                ROLE_CORE,
            );
        }
    }

    /// HT-01 many wages into one account: within 20 days, four to six salary payments
    /// of 250-450 arrive, from three to five employers (or from one employer, for
    /// different named workers); the money is withdrawn at ATMs.
    pub(crate) fn ht01(&mut self, subject: u32, v: u32) {
        let k = 4 + self.rng.index(3);
        let employers = if v == 0 {
            self.distinct_orgs(subject, k.min(5))
        } else {
            vec![self.world.org_near(&mut self.rng, subject, subject)]
        };
        let d0 = self.start_day(24);
        let month = MONTHS_EN[self.clock.month0(d0)];
        let mut total = 0;
        for j in 0..k {
            let worker = person_name(&mut self.rng, 0.0);
            let text = if v == 0 {
                self.text(&format!("salary for {month}"))
            } else {
                self.text(&format!("зарплата {worker}"))
            };
            let ts = self.at(self.weekday(d0 + 3 * j as u32), 9, 17);
            let a = self.uniform_cents(250.0, 450.0);
            total += a;
            let from = employers[j % employers.len()];
            self.emit(Event::new(ts, a, Channel::Wire, from, subject).saying(text), ROLE_CORE);
        }
        for j in 0..2 {
            let atm = self.home_atm(subject);
            let ts = self.at(d0 + 8 + 8 * j, 8, 22);
            let a = ((total as f64 * 0.4 / 1000.0).round() as i64).max(1) * 1000;
            self.emit(
                Event::new(ts, a, Channel::Atm, subject, NONE)
                    .at(atm)
                    .with_mcc(MCC_ATM_IX),
                ROLE_SUPPORT,
            );
        }
    }

    /// HT-02 trafficking expenses: 9-12 card payments within 25 days to hotels (7011),
    /// taxis (4121) and massage parlours (7297) or escort services (7273), in three or
    /// four cities.
    pub(crate) fn ht02(&mut self, subject: u32, v: u32) {
        let ci = self.world.country_of(subject);
        let mut regions = self.world.countries[ci].regions.clone();
        self.rng.shuffle(&mut regions);
        regions.truncate(3 + v as usize);
        let fourth = if v == 0 {
            ("7297", "Spa", "massage")
        } else {
            ("7273", "Escort", "dating service")
        };
        let kinds = [("7011", "Hotel", "hotel"), ("4121", "Taxi", "taxi"), fourth];
        let mut shops = Vec::new();
        for &r in &regions {
            for (code, stem, occ) in kinds {
                let name = format!("{stem} {}", self.rng.pick(&data::ORG_PREFIX));
                let ix = self.business_in(r, name, occ);
                let mcc = if code == "7011" {
                    card_mcc(code)
                } else {
                    scheme_mcc(code)
                };
                shops.push((ix, r, mcc, code));
            }
        }
        let k = 9 + self.rng.index(4);
        let d0 = self.start_day(27);
        for j in 0..k {
            let (shop, r, mcc, code) = shops[j % shops.len()];
            let ts = self.at(d0 + (j as u32 * 25) / k as u32, 12, 23);
            let a = match code {
                "7011" => self.uniform_cents(25.0, 90.0),
                "4121" => self.uniform_cents(3.0, 15.0),
                _ => self.uniform_cents(20.0, 80.0),
            };
            let place = self.world.regions[r as usize].place;
            self.emit(
                Event::new(ts, a, Channel::Card, subject, shop).at(place).with_mcc(mcc),
                ROLE_CORE,
            );
        }
    }

    /// HT-03 one payer for many migrants: within 25 days a firm pays air tickets (card,
    /// MCC 4511) or work-permit fees (a transfer to a migration service in Russia) for
    /// six to nine different named people.
    pub(crate) fn ht03(&mut self, subject: u32, v: u32) {
        let k = 6 + self.rng.index(4);
        let bank = data::banks("RU")[0];
        let airline = self.world.add_foreign("RU", bank, "Sky Steppe Airlines".into());
        let service = self
            .world
            .add_foreign("RU", bank, "Migration Services Centre Moscow".into());
        let region = self.world.party(subject).region as usize;
        let place = self.world.regions[region].place;
        let d0 = self.start_day(27);
        for j in 0..k {
            let who = person_name(&mut self.rng, 0.5);
            let ts = self.at(self.weekday(d0 + (j as u32 * 25) / k as u32), 9, 18);
            let ticket = (j + v as usize) % 2 == 0;
            if ticket {
                let text = self.text(&format!("air ticket Osh-Moscow for {who}"));
                let a = self.uniform_cents(180.0, 420.0);
                let ev = Event::new(ts, a, Channel::Card, subject, airline)
                    .at(place)
                    .with_mcc(card_mcc("4511"))
                    .saying(text);
                self.emit(ev, ROLE_CORE);
            } else {
                let text = self.text(&format!("оплата патента за {who}"));
                let a = self.uniform_cents(60.0, 140.0);
                self.emit(
                    Event::new(ts, a, Channel::Wire, subject, service).saying(text),
                    ROLE_CORE,
                );
            }
        }
    }

    /// HT-04 cash then wire abroad: two or three times, ten days or more apart, a cash
    /// deposit of 2,500-6,000, then within 6-60 hours a money transfer abroad of 82-88 %
    /// of it. (Under FLW-01's 90 %, and under DRG-01's 20,000 of cash a month.)
    pub(crate) fn ht04(&mut self, subject: u32, v: u32) {
        let episodes = 2 + v;
        let branch = self.world.party(subject).branch;
        let d0 = self.start_day(11 * episodes + 3);
        let country = if v == 0 { "RU" } else { "AE" };
        let (who, place) = self.person_abroad(country);
        for j in 0..episodes {
            let ts = self.at(self.weekday(d0 + 11 * j), 9, 16);
            let a = self.uniform_cents(2_500.0, 6_000.0);
            self.emit(
                Event::new(ts, a, Channel::CashIn, subject, subject).at(branch),
                ROLE_CORE,
            );
            let ts2 = self.after(ts, 6.0, 60.0);
            let b = (a as f64 * self.rng.uniform(0.82, 0.88)) as i64;
            self.emit(Event::new(ts2, b, Channel::Mvts, subject, who).at(place), ROLE_CORE);
        }
    }

    /// DRG-02 northern route: 12-16 small transfers (15-120) within 6 days from as many
    /// people with drug slang in the narrative (закладка, клад, меф, соль), taken out
    /// at an ATM. The transfers are a fan-in (FLW-02: 10 senders in 7 days, median under
    /// 500), which DRG-02 weighs for its slang.
    pub(crate) fn drg02(&mut self, subject: u32, _v: u32) {
        let k = 12 + self.rng.index(5);
        let words = ["за клад", "закладка", "меф 2г", "соль", "klad", "за кладик"];
        let texts: Vec<u32> = words.iter().map(|w| self.text(w)).collect();
        let buyers = self.world.distinct_individuals(&mut self.rng, subject, k, |_| true);
        let d0 = self.start_day(16);
        let mut total = 0;
        for b in buyers {
            let ts = {
                let day = d0 + self.rng.below(6) as u32;
                self.at(day, 10, 23)
            };
            let a = self.uniform_cents(15.0, 120.0);
            total += a;
            let text = *self.rng.pick(&texts);
            self.emit(Event::new(ts, a, Channel::P2p, b, subject).saying(text), ROLE_CORE);
        }
        let atm = self.home_atm(subject);
        let ts = self.at(d0 + 15, 8, 22);
        let a = ((total as f64 * 0.8 / 1000.0).round() as i64).max(1) * 1000;
        self.emit(
            Event::new(ts, a, Channel::Atm, subject, NONE)
                .at(atm)
                .with_mcc(MCC_ATM_IX),
            ROLE_SUPPORT,
        );
    }

    /// MUL-01 transit account: a student's account receives 16-18 transfers of 200-900
    /// from different people over 25 days, each passed on within 10-50 minutes (97 %)
    /// to one of two accounts or to a crypto exchange (second variant: at an ATM). At
    /// least 32 operations.
    pub(crate) fn mul01(&mut self, subject: u32, v: u32) {
        let k = 16 + self.rng.index(3);
        let senders = self.world.distinct_individuals(&mut self.rng, subject, k + 2, |_| true);
        let (droppers, senders) = senders.split_at(2.min(senders.len()));
        let vasp = *self.rng.pick(&self.world.vasps);
        let d0 = self.start_day(27);
        for (j, &s) in senders.iter().enumerate() {
            let ts = self.at(d0 + (j as u32 * 25) / k as u32, 9, 22);
            let a = self.uniform_cents(200.0, 900.0);
            self.emit(Event::new(ts, a, Channel::P2p, s, subject), ROLE_CORE);
            let ts2 = ts + (self.rng.uniform(10.0, 50.0) * 60_000.0) as i64;
            let b = (a as f64 * 0.97) as i64;
            let ev = match (v, j % 3) {
                (0, 2) => Event::new(ts2, b, Channel::Crypto, subject, vasp).with_mcc(MCC_CRYPTO_IX),
                (1, 2) => {
                    let atm = self.home_atm(subject);
                    Event::new(ts2, b, Channel::Atm, subject, NONE)
                        .at(atm)
                        .with_mcc(MCC_ATM_IX)
                }
                _ => Event::new(ts2, b, Channel::P2p, subject, droppers[j % droppers.len().max(1)]),
            };
            self.emit(ev, ROLE_CORE);
        }
    }

    /// TBML-01 repeated round invoices: three or four wires of one round amount
    /// (20,000-60,000, in thousands) to one supplier abroad within 25 days, each citing
    /// an invoice or a contract. (Under five, so not FLW-05.)
    pub(crate) fn tbml01(&mut self, subject: u32, v: u32) {
        let k = 3 + v;
        let firm = self.firm_abroad(if v == 0 { "CN" } else { "AE" });
        let a = 1_000 * 100 * self.rng.int(20, 60);
        let d0 = self.start_day(27);
        let contract = self.rng.int(100, 999);
        for j in 0..k {
            let text = if v == 0 {
                self.text(&format!("invoice INV-{contract}-{:02}", j + 1))
            } else {
                self.text(&format!("оплата по контракту №{contract} счет {}", j + 1))
            };
            let ts = self.at(self.weekday(d0 + 8 * j), 9, 17);
            self.emit(Event::new(ts, a, Channel::Wire, subject, firm).saying(text), ROLE_CORE);
        }
    }

    /// TXT-01 narrative lexicon: two or three transfers of 100-600 whose narratives use
    /// words of foreign-fighter support ("for the brothers in Sham", "на хиджру").
    pub(crate) fn txt01(&mut self, subject: u32, v: u32) {
        let words = [
            "for the brothers in Sham",
            "помощь братьям в Шаме",
            "на хиджру",
            "hijrah expenses",
        ];
        let k = 2 + v as usize;
        let d0 = self.start_day(20);
        for j in 0..k {
            let to = self.world.individual_near(&mut self.rng, subject, 0.4, subject);
            let text = self.text(words[(j + 2 * v as usize) % words.len()]);
            let ts = self.at(d0 + 6 * j as u32, 9, 22);
            let a = self.uniform_cents(100.0, 600.0);
            self.emit(Event::new(ts, a, Channel::P2p, subject, to).saying(text), ROLE_CORE);
        }
    }

    /// SAN-01 watch-list name: one or two wires with a party on the invented watch list
    /// of `samples/watchlist-demo.csv`, its name written in another script, spelling or
    /// word order than the list's.
    pub(crate) fn san01(&mut self, subject: u32, v: u32) {
        let (_, written, country) = *self.rng.pick(&WATCHLISTED);
        let bank = *self.rng.pick(data::banks(country));
        let party = self.world.add_foreign(country, bank, written.to_string());
        let d0 = self.start_day(20);
        let text = self.text(if v == 0 { "payment for goods" } else { "return of loan" });
        for j in 0..(1 + v) {
            let ts = self.at(self.weekday(d0 + 9 * j), 9, 17);
            let a = self.uniform_cents(5_000.0, 40_000.0);
            let (o, b) = if v == 0 { (subject, party) } else { (party, subject) };
            self.emit(Event::new(ts, a, Channel::Wire, o, b).saying(text), ROLE_CORE);
        }
    }

    /// SAN-02 embargoed jurisdiction: a wire from (or to) a firm in Syria.
    pub(crate) fn san02(&mut self, subject: u32, v: u32) {
        let firm = self.firm_abroad("SY");
        let d0 = self.start_day(5);
        let ts = self.at(self.weekday(d0), 9, 17);
        let a = self.uniform_cents(4_000.0, 30_000.0);
        let text = self.text("payment for dried fruit");
        let (o, b) = if v == 0 { (firm, subject) } else { (subject, firm) };
        self.emit(Event::new(ts, a, Channel::Wire, o, b).saying(text), ROLE_CORE);
    }

    /// VA-01, second form (`cash-then-crypto`): a cash deposit of 1,500-4,000, and 3-20
    /// hours later a purchase from a virtual-asset provider of 60-90 % of it; twice, a
    /// week apart, in the second variant.
    pub(crate) fn va01_cash(&mut self, subject: u32, v: u32) {
        let branch = self.world.party(subject).branch;
        let vasp = *self.rng.pick(&self.world.vasps);
        let d0 = self.start_day(10);
        for j in 0..(1 + v) {
            let ts = self.at(self.weekday(d0 + 7 * j), 9, 16);
            let a = self.uniform_cents(1_500.0, 4_000.0);
            self.emit(
                Event::new(ts, a, Channel::CashIn, subject, subject).at(branch),
                ROLE_CORE,
            );
            let ts2 = self.after(ts, 3.0, 20.0);
            let b = (a as f64 * self.rng.uniform(0.6, 0.9)) as i64;
            self.emit(
                Event::new(ts2, b, Channel::Crypto, subject, vasp).with_mcc(MCC_CRYPTO_IX),
                ROLE_CORE,
            );
        }
    }

    /// Decoy: a real charity collects 30-45 donations within two weeks and spends them
    /// at home on food packages and school supplies (looks like TF-03 and FLW-02).
    pub(crate) fn decoy_charity(&mut self, subject: u32) {
        self.world.parties[subject as usize].turnover = 2_500.0;
        let k = 30 + self.rng.index(16);
        let donors = self.world.distinct_individuals(&mut self.rng, subject, k, |_| true);
        let words = ["donation", "пожертвование", "sadaqa", "for the children's home"];
        let texts: Vec<u32> = words.iter().map(|w| self.text(w)).collect();
        let d0 = self.start_day(24);
        let mut total = 0;
        for d in donors {
            let ts = {
                let day = d0 + self.rng.below(14) as u32;
                self.at(day, 8, 23)
            };
            let a = cents(self.rng.lognormal_in(30.0, 0.7, 5.0, 90.0));
            total += a;
            let text = *self.rng.pick(&texts);
            self.emit(Event::new(ts, a, Channel::Mobile, d, subject).saying(text), ROLE_CORE);
        }
        let suppliers = self.distinct_orgs(subject, 2);
        let uses = [self.text("food packages for families"), self.text("school supplies")];
        for (j, s) in suppliers.into_iter().enumerate() {
            let ts = self.at(self.weekday(d0 + 15 + 3 * j as u32), 10, 16);
            let a = (total as f64 * 0.4) as i64;
            self.emit(
                Event::new(ts, a, Channel::Wire, subject, s).saying(uses[j % 2]),
                ROLE_CORE,
            );
        }
    }

    /// Decoy: a currency exchange office banks 15,000-45,000 of cash every working day
    /// for four weeks (over the threshold, reported) and buys currency from its bank.
    pub(crate) fn decoy_exchange(&mut self, subject: u32) {
        self.world.parties[subject as usize].turnover = 700_000.0;
        let branch = self.world.party(subject).branch;
        let d0 = self.start_day(29);
        let takings = self.text("cash from exchange operations");
        let buy = self.text("purchase of foreign currency");
        let ci = self.world.country_of(subject);
        let bank_book = self.world.countries[ci].loan_books[0];
        for day in d0..d0 + 28 {
            if self.clock.weekday(day) >= 5 {
                continue;
            }
            let ts = self.at(day, 17, 19);
            let a = self.uniform_cents(15_000.0, 45_000.0);
            self.emit(
                Event::new(ts, a, Channel::CashIn, subject, subject)
                    .at(branch)
                    .saying(takings),
                ROLE_CORE,
            );
            let ts2 = ts + 14 * HOUR_MS;
            let b = (a as f64 * 0.95) as i64;
            self.emit(
                Event::new(ts2, b, Channel::Internal, subject, bank_book).saying(buy),
                ROLE_CORE,
            );
        }
    }

    /// Decoy: a family remittance corridor: two or three relatives working in Russia
    /// and Kazakhstan each send 200-500, in round hundreds, twice a month all period.
    pub(crate) fn decoy_family(&mut self, subject: u32) {
        let k = 2 + self.rng.index(2);
        let texts = [self.text("помощь семье"), self.text("for family")];
        let mut senders = Vec::new();
        for j in 0..k {
            let (who, place) = self.person_abroad(if j == 1 { "KZ" } else { "RU" });
            senders.push((who, place, 100 * self.rng.int(2, 5)));
        }
        // The family declared the support it lives on.
        let monthly: i64 = senders.iter().map(|s| 2 * s.2).sum();
        self.world.parties[subject as usize].turnover = monthly as f32 * 1.2;
        let mut day = self.rng.below(10) as u32;
        while day < self.clock.days {
            for &(who, place, hundreds) in &senders {
                let d = (day + self.rng.below(4) as u32).min(self.clock.days - 1);
                let ts = self.at(d, 9, 22);
                let text = texts[self.rng.index(2)];
                self.emit(
                    Event::new(ts, hundreds * 100, Channel::Mvts, who, subject)
                        .at(place)
                        .saying(text),
                    ROLE_CORE,
                );
            }
            day += 15;
        }
    }
}
