//! The population: domestic customers (individuals, organisations, NPOs,
//! money-service businesses) with stable names, banks, home regions and
//! branches; the institutions they pay (utilities, mobile operators, the tax
//! service, their bank's loan book); and the foreign counterparties.

use crate::data::{
    self, CARD_MCCS, FEMALE_FIRST, FOREIGN_REGIONS, HOME_COUNTRIES, HOME_REGIONS, MALE_FIRST, OCCUPATIONS, ORG_PREFIX,
    ORG_SECTORS, SURNAMES, TRADE_PARTNERS, VASPS,
};
use crate::rng::{Rng, Weighted};

/// "No party", "no location", "no narrative", "no scheme".
pub(crate) const NONE: u32 = u32::MAX;
/// "No merchant category".
pub(crate) const NO_MCC: u8 = u8::MAX;
/// "Not a home region".
pub(crate) const NO_REGION: u16 = u16::MAX;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CustomerType {
    Individual,
    Organisation,
    Npo,
    Msb,
}

impl CustomerType {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            CustomerType::Individual => "individual",
            CustomerType::Organisation => "organisation",
            CustomerType::Npo => "npo",
            CustomerType::Msb => "msb",
        }
    }
}

/// An account holder: a domestic customer (`customer` is set) or a foreign
/// counterparty.
#[derive(Debug, Clone)]
pub(crate) struct Party {
    pub(crate) account: String,
    pub(crate) name: String,
    pub(crate) country: &'static str,
    pub(crate) bank: &'static str,
    pub(crate) customer: Option<CustomerType>,
    pub(crate) occupation: Option<&'static str>,
    /// Home region (index into `World::regions`), `NO_REGION` abroad.
    pub(crate) region: u16,
    /// Home branch (a location), `NONE` abroad.
    pub(crate) branch: u32,
    /// Merchant category (index into `CARD_MCCS`) for card-accepting firms.
    pub(crate) mcc: u8,
    /// Activity or size weight.
    pub(crate) weight: f32,
    /// Account opening date, in days from the Unix epoch (customers only).
    pub(crate) opened: i32,
    /// Expected monthly turnover declared at onboarding (customers only; 0: none).
    pub(crate) turnover: f32,
}

/// The fields of a party that ordinary traffic reads for every
/// transaction, kept apart from the names so that they stay in cache.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Hot {
    pub(crate) branch: u32,
    pub(crate) region: u16,
    pub(crate) mcc: u8,
    pub(crate) customer: Option<CustomerType>,
}

/// Where a cash, ATM, card or money-transfer event takes place.
#[derive(Debug, Clone)]
pub(crate) struct Location {
    pub(crate) country: &'static str,
    pub(crate) region: &'static str,
    /// Branch or terminal id, for cash and ATM locations.
    pub(crate) branch: Option<String>,
}

/// A home region with its places and its customers.
#[derive(Debug, Clone, Default)]
pub(crate) struct Region {
    pub(crate) country_ix: usize,
    pub(crate) branches: Vec<u32>,
    pub(crate) atms: Vec<u32>,
    /// Location with no branch: card purchases in the region.
    pub(crate) place: u32,
    pub(crate) individuals: Vec<u32>,
    pub(crate) merchants: Vec<u32>,
}

/// The customers and institutions of one home country.
#[derive(Debug, Clone, Default)]
pub(crate) struct Country {
    pub(crate) code: &'static str,
    pub(crate) regions: Vec<u16>,
    pub(crate) individuals: Vec<u32>,
    pub(crate) orgs: Vec<u32>,
    pub(crate) org_weights: Weighted,
    pub(crate) merchants: Vec<u32>,
    pub(crate) npos: Vec<u32>,
    pub(crate) utilities: Vec<(u32, Utility)>,
    pub(crate) mobile_operators: Vec<u32>,
    pub(crate) treasury: u32,
    /// Loan book of each bank of the country, in `data::banks` order.
    pub(crate) loan_books: Vec<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Utility {
    Electricity,
    Water,
    Heating,
    Internet,
}

/// What a reserved (scheme) account should look like.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Identity {
    pub(crate) customer: CustomerType,
    pub(crate) occupation: &'static str,
}

#[derive(Debug, Clone)]
pub(crate) struct World {
    pub(crate) parties: Vec<Party>,
    hot: Vec<Hot>,
    pub(crate) locations: Vec<Location>,
    pub(crate) regions: Vec<Region>,
    pub(crate) countries: Vec<Country>,
    /// One (place, ATM) location pair per entry of `FOREIGN_REGIONS`.
    pub(crate) foreign_places: Vec<(u32, u32)>,
    /// Accounts set aside for planted schemes, in plan order.
    pub(crate) reserved: Vec<u32>,
    /// Background individuals, with their activity weights.
    pub(crate) individuals: Vec<u32>,
    pub(crate) individual_weights: Weighted,
    /// Background organisations of all types, with their size weights.
    pub(crate) orgs: Vec<u32>,
    pub(crate) org_weights: Weighted,
    /// Businesses that bank cash takings, with their size weights.
    pub(crate) cash_businesses: Vec<u32>,
    pub(crate) cash_business_weights: Weighted,
    pub(crate) npos: Vec<u32>,
    /// Employer of each population account (`NONE` if none).
    pub(crate) employer: Vec<u32>,
    pub(crate) landlords: Vec<u32>,
    /// Individuals with a family member working abroad.
    pub(crate) migrant_families: Vec<u32>,
    /// Foreign firms by trade-partner country (same order as `TRADE_PARTNERS`).
    pub(crate) foreign_firms: Vec<Vec<u32>>,
    pub(crate) vasps: Vec<u32>,
    account_width: usize,
}

fn digits(mut n: usize) -> usize {
    let mut d = 1;
    while n >= 10 {
        n /= 10;
        d += 1;
    }
    d
}

impl World {
    /// Builds the population. `identities` describes the reserved accounts
    /// (one per planted scheme), which take no part in background traffic.
    pub(crate) fn build(rng: &mut Rng, accounts: usize, identities: &[Identity]) -> World {
        let account_width = digits(accounts.saturating_mul(2) + 20_000).max(6);
        let mut w = World {
            parties: Vec::with_capacity(accounts + 1_000),
            hot: Vec::with_capacity(accounts + 1_000),
            locations: Vec::new(),
            regions: Vec::new(),
            countries: Vec::new(),
            foreign_places: Vec::new(),
            reserved: Vec::new(),
            individuals: Vec::new(),
            individual_weights: Weighted::default(),
            orgs: Vec::new(),
            org_weights: Weighted::default(),
            cash_businesses: Vec::new(),
            cash_business_weights: Weighted::default(),
            npos: Vec::new(),
            employer: Vec::new(),
            landlords: Vec::new(),
            migrant_families: Vec::new(),
            foreign_firms: Vec::new(),
            vasps: Vec::new(),
            account_width,
        };
        w.build_places(accounts);
        w.build_population(rng, accounts, identities);
        w.build_institutions(rng);
        w.build_foreign(rng, accounts);
        w
    }

    fn add_location(&mut self, country: &'static str, region: &'static str, branch: Option<String>) -> u32 {
        self.locations.push(Location {
            country,
            region,
            branch,
        });
        (self.locations.len() - 1) as u32
    }

    fn build_places(&mut self, accounts: usize) {
        for (ci, (code, _)) in HOME_COUNTRIES.iter().enumerate() {
            self.countries.push(Country {
                code,
                treasury: NONE,
                ..Country::default()
            });
            let total: f64 = HOME_REGIONS.iter().filter(|r| r.0 == *code).map(|r| r.2).sum();
            let country_share = HOME_COUNTRIES[ci].1;
            for (rc, region, share) in HOME_REGIONS.iter() {
                if rc != code {
                    continue;
                }
                let people = accounts as f64 * country_share * share / total;
                let n_branches = ((people / 2_500.0).round() as usize).clamp(2, 40);
                let mut r = Region {
                    country_ix: ci,
                    ..Region::default()
                };
                for b in 0..n_branches {
                    let id = format!("{region}-B{:02}", b + 1);
                    r.branches.push(self.add_location(code, region, Some(id)));
                }
                for a in 0..n_branches * 2 {
                    let id = format!("{region}-ATM{:03}", a + 1);
                    r.atms.push(self.add_location(code, region, Some(id)));
                }
                r.place = self.add_location(code, region, None);
                self.regions.push(r);
                let ri = (self.regions.len() - 1) as u16;
                self.countries[ci].regions.push(ri);
            }
        }
        for (country, region) in FOREIGN_REGIONS {
            let place = self.add_location(country, region, None);
            let atm = self.add_location(country, region, Some(format!("{region}-ATM001")));
            self.foreign_places.push((place, atm));
        }
    }

    /// Location pair (place, ATM) of a foreign region code.
    pub(crate) fn foreign_place(&self, region: &str) -> (u32, u32) {
        FOREIGN_REGIONS
            .iter()
            .position(|(_, r)| *r == region)
            .map_or((NONE, NONE), |i| self.foreign_places[i])
    }

    fn account_string(&self, country: &str, bank: &'static str, index: usize) -> String {
        let bank_no = data::banks(country)
            .iter()
            .position(|b| *b == bank)
            .map_or(1, |p| p + 1);
        format!("{country}{bank_no:02}ACC{index:0w$}", w = self.account_width)
    }

    /// Gives every party a new account number that says nothing of it: its country and
    /// bank as before, then a number drawn without replacement (a shuffled position,
    /// times 100, plus two random digits), in place of its position in the population.
    pub(crate) fn scramble_accounts(&mut self, rng: &mut Rng) {
        let n = self.parties.len();
        let mut nums: Vec<u64> = (0..n as u64).collect();
        rng.shuffle(&mut nums);
        let width = digits(n.saturating_mul(100)).max(8);
        for (p, k) in self.parties.iter_mut().zip(nums) {
            let bank_no = data::banks(p.country)
                .iter()
                .position(|b| *b == p.bank)
                .map_or(1, |x| x + 1);
            let num = k * 100 + rng.below(100);
            p.account = format!("{}{bank_no:02}{num:0width$}", p.country);
        }
    }

    /// Adds a party and returns its index. Its account number follows from
    /// its position, so it is unique.
    pub(crate) fn add_party(&mut self, mut p: Party) -> u32 {
        let index = self.parties.len();
        p.account = self.account_string(p.country, p.bank, index);
        self.hot.push(Hot {
            branch: p.branch,
            region: p.region,
            mcc: p.mcc,
            customer: p.customer,
        });
        self.parties.push(p);
        index as u32
    }

    /// Builds the customer population: sets aside the scheme accounts, draws every
    /// account's home, type, name and size, files the background customers into
    /// their pools, weighs the pools and links households to employers, landlords
    /// and migrant workers.
    fn build_population(&mut self, rng: &mut Rng, accounts: usize, identities: &[Identity]) {
        let reserved_of = self.reserve_accounts(rng, accounts, identities.len());
        let weights = self.population_weights();
        for &slot in &reserved_of {
            let identity = (slot != NONE).then(|| identities[slot as usize]);
            let (ci, ri) = weights.home(rng, &self.countries);
            let mut p = self.new_customer(rng, ci, ri);
            let customer = match identity {
                Some(id) => id.customer,
                None => draw_customer_type(rng),
            };
            p.customer = Some(customer);
            name_customer(rng, &mut p, customer, identity.is_none(), &weights);
            if let Some(id) = identity {
                cover_identity(rng, &mut p, customer, id);
            }
            let ix = self.add_party(p);
            if identity.is_none() {
                self.file_background(ix, ci, customer);
            }
        }
        self.weigh_pools();
        self.link_households(rng, accounts);
    }

    /// Sets aside one account for each of `wanted` planted schemes: a random
    /// subset (a partial shuffle), so that their numbers do not give them away.
    /// Returns, for each account, its slot in `reserved` or `NONE`.
    fn reserve_accounts(&mut self, rng: &mut Rng, accounts: usize, wanted: usize) -> Vec<u32> {
        let mut reserved_of = vec![NONE; accounts];
        let mut idx: Vec<u32> = (0..accounts as u32).collect();
        let k = wanted.min(accounts);
        for i in 0..k {
            let j = i + rng.index(accounts - i);
            idx.swap(i, j);
        }
        for (slot, &acct) in idx[..k].iter().enumerate() {
            reserved_of[acct as usize] = slot as u32;
        }
        self.reserved = idx[..k].to_vec();
        reserved_of
    }

    /// The weights customers are drawn with: home countries, each country's
    /// regions, occupations and merchant categories.
    fn population_weights(&self) -> PopulationWeights {
        let country: Vec<f64> = HOME_COUNTRIES.iter().map(|c| c.1).collect();
        let region: Vec<Vec<f64>> = self
            .countries
            .iter()
            .map(|c| {
                c.regions
                    .iter()
                    .map(|&r| {
                        let code = self.locations[self.regions[r as usize].place as usize].region;
                        HOME_REGIONS.iter().find(|x| x.1 == code).map_or(1.0, |x| x.2)
                    })
                    .collect()
            })
            .collect();
        let occupation: Vec<f64> = OCCUPATIONS.iter().map(|o| o.1).collect();
        let mcc: Vec<f64> = CARD_MCCS.iter().map(|m| m.share).collect();
        PopulationWeights {
            country,
            region,
            occupation,
            mcc,
        }
    }

    /// A customer of country `ci` living in region `ri`, at a branch of the region
    /// and a bank of the country (both drawn), with no name, type or profile yet.
    fn new_customer(&self, rng: &mut Rng, ci: usize, ri: u16) -> Party {
        let code = self.countries[ci].code;
        let branch = *rng.pick(&self.regions[ri as usize].branches);
        let bank = *rng.pick(data::banks(code));
        Party {
            account: String::new(),
            name: String::new(),
            country: code,
            bank,
            customer: None,
            occupation: None,
            region: ri,
            branch,
            mcc: NO_MCC,
            weight: 1.0,
            opened: 0,
            turnover: 0.0,
        }
    }

    /// Files a background customer into the pools of its region, its country and
    /// the whole population: individuals, organisations, merchants, cash
    /// businesses, NPOs.
    fn file_background(&mut self, ix: u32, ci: usize, customer: CustomerType) {
        let party = &self.parties[ix as usize];
        let region = &mut self.regions[party.region as usize];
        let country = &mut self.countries[ci];
        match customer {
            CustomerType::Individual => {
                region.individuals.push(ix);
                country.individuals.push(ix);
                self.individuals.push(ix);
            }
            CustomerType::Organisation | CustomerType::Npo | CustomerType::Msb => {
                country.orgs.push(ix);
                self.orgs.push(ix);
                if party.mcc != NO_MCC {
                    region.merchants.push(ix);
                    country.merchants.push(ix);
                }
                let cash = customer == CustomerType::Msb
                    || (party.mcc != NO_MCC && CARD_MCCS[party.mcc as usize].cash_business);
                if cash {
                    self.cash_businesses.push(ix);
                }
                if customer == CustomerType::Npo {
                    country.npos.push(ix);
                    self.npos.push(ix);
                }
            }
        }
    }

    /// The activity and size weights of the background pools, and of each
    /// country's employers (ordinary firms and merchants).
    fn weigh_pools(&mut self) {
        let weight = |ix: &u32| f64::from(self.parties[*ix as usize].weight);
        self.individual_weights = Weighted::new(self.individuals.iter().map(weight));
        self.org_weights = Weighted::new(self.orgs.iter().map(weight));
        self.cash_business_weights = Weighted::new(self.cash_businesses.iter().map(weight));
        for c in &mut self.countries {
            c.org_weights = Weighted::new(
                c.orgs
                    .iter()
                    .map(|ix| {
                        let p = &self.parties[*ix as usize];
                        // Employers are ordinary firms and merchants.
                        if p.customer == Some(CustomerType::Organisation) {
                            f64::from(p.weight)
                        } else {
                            0.0
                        }
                    })
                    .collect::<Vec<_>>(),
            );
        }
    }

    /// Employers, landlords, families of migrant workers: for each background
    /// individual, an employer of its country if salaried, and whether it lets
    /// a flat or has a family member working abroad.
    fn link_households(&mut self, rng: &mut Rng, accounts: usize) {
        self.employer = vec![NONE; accounts];
        for &ix in &self.individuals {
            let p = &self.parties[ix as usize];
            let salaried = World::salaried(p);
            let ci = self.regions[p.region as usize].country_ix;
            let c = &self.countries[ci];
            if salaried && !c.org_weights.is_empty() {
                self.employer[ix as usize] = c.orgs[c.org_weights.sample(rng)];
            }
            if rng.chance(0.04) {
                self.landlords.push(ix);
            }
            // Labour migrants work in Russia and Kazakhstan: about a quarter of
            // Tajik households, fewer Kyrgyz and Uzbek ones, few Kazakh ones.
            let migrant_share = match p.country {
                "KZ" => 0.03,
                "TJ" => 0.25,
                _ => 0.12,
            };
            if rng.chance(migrant_share) {
                self.migrant_families.push(ix);
            }
        }
    }

    fn build_institutions(&mut self, rng: &mut Rng) {
        for ci in 0..self.countries.len() {
            let code = self.countries[ci].code;
            let banks = data::banks(code);
            let capital_region = self.countries[ci].regions[0];
            let branch = self.regions[capital_region as usize].branches[0];
            let base = Party {
                account: String::new(),
                name: String::new(),
                country: code,
                bank: banks[0],
                customer: Some(CustomerType::Organisation),
                occupation: None,
                region: capital_region,
                branch,
                mcc: NO_MCC,
                weight: 1.0,
                opened: 0,
                turnover: 0.0,
            };
            let utilities = [
                (
                    Utility::Electricity,
                    "Electricity Distribution JSC",
                    "electricity supply",
                ),
                (Utility::Water, "Water Supply Enterprise", "water supply"),
                (Utility::Heating, "District Heating JSC", "heat supply"),
                (Utility::Internet, "Telecom Broadband JSC", "telecommunications"),
            ];
            for (kind, name, activity) in utilities {
                let bank = *rng.pick(banks);
                let p = Party {
                    name: format!("{code} {name}"),
                    occupation: Some(activity),
                    bank,
                    ..base.clone()
                };
                let ix = self.add_party(p);
                self.countries[ci].utilities.push((ix, kind));
            }
            for name in ["Mobile One", "Cell Plus"] {
                let bank = *rng.pick(banks);
                let p = Party {
                    name: format!("{code} {name}"),
                    occupation: Some("telecommunications"),
                    bank,
                    ..base.clone()
                };
                let ix = self.add_party(p);
                self.countries[ci].mobile_operators.push(ix);
            }
            // The tax service and the banks' own loan accounts are
            // institutions, not customers: rows paying them carry the
            // payer's profile.
            let p = Party {
                name: format!("{code} State Tax Service"),
                customer: None,
                ..base.clone()
            };
            self.countries[ci].treasury = self.add_party(p);
            for bank in banks {
                let p = Party {
                    name: format!("{bank} loan repayments"),
                    customer: None,
                    bank,
                    ..base.clone()
                };
                let ix = self.add_party(p);
                self.countries[ci].loan_books.push(ix);
            }
        }
    }

    /// A foreign party (no customer profile).
    pub(crate) fn add_foreign(&mut self, country: &'static str, bank: &'static str, name: String) -> u32 {
        self.add_party(Party {
            account: String::new(),
            name,
            country,
            bank,
            customer: None,
            occupation: None,
            region: NO_REGION,
            branch: NONE,
            mcc: NO_MCC,
            weight: 1.0,
            opened: 0,
            turnover: 0.0,
        })
    }

    fn build_foreign(&mut self, rng: &mut Rng, accounts: usize) {
        let per_country = (accounts / 400).clamp(6, 64);
        for (code, _) in TRADE_PARTNERS {
            let mut firms = Vec::with_capacity(per_country);
            let mut used = std::collections::HashSet::new();
            for _ in 0..per_country {
                let name = loop {
                    let n = foreign_firm_name(rng, code);
                    if used.insert(n.clone()) || used.len() > 200 {
                        break n;
                    }
                };
                let bank = *rng.pick(data::banks(code));
                firms.push(self.add_foreign(code, bank, name));
            }
            self.foreign_firms.push(firms);
        }
        for (code, name) in VASPS {
            let bank = data::banks(code)[0];
            let ix = self.add_foreign(code, bank, name.to_string());
            self.vasps.push(ix);
        }
    }

    /// Customer profiles: an opening date before the period (a month to fifteen years
    /// earlier, recent ones more likely) and an expected monthly turnover in line with
    /// the customer's occupation and size. Schemes may change their subjects' profiles.
    pub(crate) fn assign_profiles(&mut self, rng: &mut Rng, first_day: i32) {
        for p in &mut self.parties {
            let Some(kind) = p.customer else { continue };
            let age_days = (rng.lognormal(900.0, 1.0).clamp(30.0, 5_475.0)) as i32;
            p.opened = first_day - age_days;
            let w = f64::from(p.weight);
            let monthly = match kind {
                CustomerType::Individual => {
                    let occ = p.occupation.unwrap_or("");
                    let base = match occ {
                        "student" | "unemployed" | "homemaker" => 150.0,
                        "pensioner" => 250.0,
                        "IT specialist" | "engineer" | "doctor" => 900.0,
                        "trader" | "self-employed" => 1_200.0,
                        _ => 600.0,
                    };
                    base * rng.uniform(0.7, 1.4) * w.sqrt()
                }
                CustomerType::Organisation => 15_000.0 * w * rng.uniform(0.6, 1.5),
                CustomerType::Npo => 2_000.0 * w * rng.uniform(0.6, 1.5),
                CustomerType::Msb => 80_000.0 * w * rng.uniform(0.6, 1.5),
            };
            // Declared figures are round: to 100 under 10,000, to 1,000 above.
            let step = if monthly < 10_000.0 { 100.0 } else { 1_000.0 };
            p.turnover = ((monthly / step).round().max(1.0) * step) as f32;
        }
    }

    /// The expected monthly turnover that ordinary customers declared: about what they
    /// receive in their busiest calendar month (from `background`), declared with a
    /// customer's usual error (log-normal around 1.2 times it), rounded. Scheme subjects
    /// keep the figure of their cover profile (`assign_profiles`), which their scheme may
    /// change.
    pub(crate) fn declare_turnover(
        &mut self,
        rng: &mut Rng,
        background: &[crate::events::Event],
        clock: &crate::events::Clock,
    ) {
        let months = clock.months().len().max(1);
        let mut received = vec![0i64; self.parties.len() * months];
        let month_ix = |ts: i64| {
            let day = ((ts - clock.start_ms).div_euclid(crate::events::DAY_MS)).clamp(0, i64::from(clock.days) - 1);
            clock.month_index(day as u32).min(months - 1)
        };
        for e in background {
            if !e.channel.cash_debit() && (e.bene as usize) < self.parties.len() {
                received[e.bene as usize * months + month_ix(e.ts)] += e.cents;
            }
        }
        let mut reserved = vec![false; self.parties.len()];
        for &r in &self.reserved {
            reserved[r as usize] = true;
        }
        for (i, p) in self.parties.iter_mut().enumerate() {
            if p.customer.is_none() || reserved[i] {
                continue;
            }
            let busiest = received[i * months..(i + 1) * months]
                .iter()
                .max()
                .copied()
                .unwrap_or(0);
            let monthly = busiest as f64 / 100.0 * rng.lognormal(1.2, 0.3);
            let step = if monthly < 10_000.0 { 100.0 } else { 1_000.0 };
            p.turnover = ((monthly / step).round().max(1.0) * step) as f32;
        }
    }

    pub(crate) fn party(&self, ix: u32) -> &Party {
        &self.parties[ix as usize]
    }

    #[inline]
    pub(crate) fn hot(&self, ix: u32) -> Hot {
        self.hot[ix as usize]
    }

    /// Home country (index into `countries`) of a party; 0 abroad.
    pub(crate) fn country_of(&self, ix: u32) -> usize {
        let r = self.hot[ix as usize].region;
        if r == NO_REGION {
            0
        } else {
            self.regions[r as usize].country_ix
        }
    }

    /// A background individual, by activity weight.
    pub(crate) fn active_individual(&self, rng: &mut Rng) -> u32 {
        self.individuals[self.individual_weights.sample(rng)]
    }

    /// A background individual other than `not`, near `near`: same region
    /// with probability `local`, else same country, else anywhere.
    pub(crate) fn individual_near(&self, rng: &mut Rng, near: u32, local: f64, not: u32) -> u32 {
        let p = self.hot(near);
        for _ in 0..8 {
            let pool: &[u32] = if p.region != NO_REGION && rng.chance(local) {
                &self.regions[p.region as usize].individuals
            } else if p.region != NO_REGION && rng.chance(0.97) {
                &self.countries[self.country_of(near)].individuals
            } else {
                &self.individuals
            };
            if pool.is_empty() {
                continue;
            }
            let c = *rng.pick(pool);
            if c != not && c != near {
                return c;
            }
        }
        *rng.pick(&self.individuals)
    }

    /// A background organisation (any type) of the same country as `near`.
    /// Prefers ordinary firms (not NPOs or money-service businesses).
    pub(crate) fn org_near(&self, rng: &mut Rng, near: u32, not: u32) -> u32 {
        let c = &self.countries[self.country_of(near)];
        let pool: &[u32] = if c.orgs.is_empty() { &self.orgs } else { &c.orgs };
        let mut fallback = *rng.pick(pool);
        for _ in 0..16 {
            let o = *rng.pick(pool);
            if o != not && o != near {
                if self.hot(o).customer == Some(CustomerType::Organisation) {
                    return o;
                }
                fallback = o;
            }
        }
        fallback
    }

    /// Distinct background individuals, of the same country as `near` as
    /// far as the population allows, for which `keep` holds (when enough
    /// do).
    pub(crate) fn distinct_individuals(
        &self,
        rng: &mut Rng,
        near: u32,
        k: usize,
        keep: impl Fn(&Party) -> bool,
    ) -> Vec<u32> {
        let mut out: Vec<u32> = Vec::with_capacity(k);
        let mut tries = 0;
        while out.len() < k && tries < k * 50 {
            tries += 1;
            let c = self.individual_near(rng, near, 0.5, near);
            if !out.contains(&c) && (tries > k * 40 || keep(self.party(c))) {
                out.push(c);
            }
        }
        for &c in &self.individuals {
            if out.len() >= k {
                break;
            }
            if c != near && !out.contains(&c) {
                out.push(c);
            }
        }
        out
    }

    /// Whether a person is usually paid a salary.
    pub(crate) fn salaried(p: &Party) -> bool {
        OCCUPATIONS.iter().any(|o| Some(o.0) == p.occupation && o.2)
    }
}

/// The weights the population is drawn with.
struct PopulationWeights {
    /// Home countries (`HOME_COUNTRIES` order).
    country: Vec<f64>,
    /// The regions of each country (`Country::regions` order).
    region: Vec<Vec<f64>>,
    /// Occupations of individuals (`OCCUPATIONS` order).
    occupation: Vec<f64>,
    /// Merchant categories (`CARD_MCCS` order).
    mcc: Vec<f64>,
}

impl PopulationWeights {
    /// A home: a country (index into `countries`) and one of its regions.
    fn home(&self, rng: &mut Rng, countries: &[Country]) -> (usize, u16) {
        let ci = rng.weighted(&self.country);
        let ri = countries[ci].regions[rng.weighted(&self.region[ci])];
        (ci, ri)
    }
}

/// The type of a background customer: mostly individuals, then organisations,
/// a few NPOs and money-service businesses.
fn draw_customer_type(rng: &mut Rng) -> CustomerType {
    let x = rng.f64();
    if x < 0.88 {
        CustomerType::Individual
    } else if x < 0.97 {
        CustomerType::Organisation
    } else if x < 0.985 {
        CustomerType::Npo
    } else {
        CustomerType::Msb
    }
}

/// A customer's name, occupation and activity weight by its type. Background
/// organisations (`background`) are card-accepting merchants about half the time.
fn name_customer(rng: &mut Rng, p: &mut Party, customer: CustomerType, background: bool, w: &PopulationWeights) {
    match customer {
        CustomerType::Individual => {
            p.name = person_name(rng, 0.15);
            p.occupation = Some(OCCUPATIONS[rng.weighted(&w.occupation)].0);
            p.weight = rng.lognormal(1.0, 0.9).min(30.0) as f32;
        }
        CustomerType::Organisation => {
            let prefix = *rng.pick(&ORG_PREFIX);
            if background && rng.chance(0.45) {
                let m = rng.weighted(&w.mcc);
                let spec = &CARD_MCCS[m];
                p.mcc = m as u8;
                p.name = if rng.chance(0.5) {
                    format!("{} {}", spec.stem, prefix)
                } else {
                    format!("{} {}", prefix, spec.stem)
                };
                p.occupation = Some(spec.activity);
            } else {
                let (sector, activity) = *rng.pick(&ORG_SECTORS);
                p.name = org_name(rng, p.country, prefix, sector);
                p.occupation = Some(activity);
            }
            p.weight = rng.lognormal(1.0, 1.1).min(60.0) as f32;
        }
        CustomerType::Npo => {
            let prefix = *rng.pick(&ORG_PREFIX);
            p.name = if rng.chance(0.3) {
                format!("ОФ «{prefix}»")
            } else {
                format!("Public Foundation {prefix}")
            };
            p.occupation = Some("charity");
            p.weight = rng.lognormal(0.5, 0.8).min(10.0) as f32;
        }
        CustomerType::Msb => {
            let prefix = *rng.pick(&ORG_PREFIX);
            p.name = format!("{prefix} Exchange Office");
            p.occupation = Some("currency exchange");
            p.weight = rng.lognormal(2.0, 0.6).min(30.0) as f32;
        }
    }
}

/// A reserved account takes the occupation its scheme wants; an organisation
/// also takes a name that fits it.
fn cover_identity(rng: &mut Rng, p: &mut Party, customer: CustomerType, id: Identity) {
    p.occupation = Some(id.occupation);
    if customer == CustomerType::Organisation {
        let prefix = *rng.pick(&ORG_PREFIX);
        p.name = match id.occupation {
            "restaurant" => format!("Cafe {prefix}"),
            "retail" => format!("{prefix} Market"),
            activity => {
                let sector = ORG_SECTORS.iter().find(|s| s.1 == activity).map_or("Trade", |s| s.0);
                org_name(rng, p.country, prefix, sector)
            }
        };
    }
}

/// A person's name, in Latin script or (with probability `cyrillic`) in
/// Cyrillic.
pub(crate) fn person_name(rng: &mut Rng, cyrillic: f64) -> String {
    let cyr = rng.chance(cyrillic);
    let female = rng.chance(0.5);
    let first = if female {
        *rng.pick(&FEMALE_FIRST)
    } else {
        *rng.pick(&MALE_FIRST)
    };
    let sur = *rng.pick(&SURNAMES);
    let (f, s) = if cyr { (first.1, sur.1) } else { (first.0, sur.0) };
    let suffix = if female {
        if cyr {
            "а"
        } else {
            "a"
        }
    } else {
        ""
    };
    format!("{f} {s}{suffix}")
}

fn org_name(rng: &mut Rng, country: &str, prefix: &str, sector: &str) -> String {
    if rng.chance(0.25) {
        let form = match country {
            "KZ" => "ТОО",
            "UZ" => "ООО",
            _ => "ОсОО",
        };
        format!("{form} «{prefix} {sector}»")
    } else {
        let form = match country {
            "KZ" => "LLP",
            _ => "LLC",
        };
        format!("{prefix} {sector} {form}")
    }
}

fn foreign_firm_name(rng: &mut Rng, country: &str) -> String {
    let (words, forms): (&[&str], &[&str]) = match country {
        "TR" => (
            &[
                "Anadolu",
                "Marmara",
                "Ege",
                "Bosphorus",
                "Karadeniz",
                "Toros",
                "Kapadokya",
                "Yildiz",
            ],
            &["A.S.", "Ltd. Sti."],
        ),
        "CN" => (
            &[
                "Yiwu",
                "Guangzhou",
                "Urumqi",
                "Shenzhen",
                "Ningbo",
                "Harbin",
                "Kashgar",
                "Xiamen",
            ],
            &["Co., Ltd."],
        ),
        "RU" => (
            &["Volga", "Ural", "Sibir", "Neva", "Kama", "Baikal", "Oka", "Amur"],
            &["OOO"],
        ),
        "KZ" => (
            &[
                "Dala", "Steppe", "Altai", "Kaspi", "Saryarka", "Irtysh", "Tobol", "Esil",
            ],
            &["TOO"],
        ),
        "AE" => (
            &[
                "Gulf Star",
                "Desert Rose",
                "Al Noor",
                "Palm",
                "Creek",
                "Al Waha",
                "Marina",
                "Oasis",
            ],
            &["FZE", "General Trading LLC"],
        ),
        "DE" => (
            &["Nordwerk", "Rhein", "Elbe", "Spree", "Main", "Weser", "Isar", "Harz"],
            &["GmbH"],
        ),
        _ => (&["Global"], &["Ltd."]),
    };
    const SECTORS: [&str; 8] = [
        "Trading",
        "Textile",
        "Machinery",
        "Food",
        "Electronics",
        "Logistics",
        "Chemicals",
        "Building Materials",
    ];
    format!("{} {} {}", rng.pick(words), rng.pick(&SECTORS), rng.pick(forms))
}

/// A foreign firm for one of the planted geography schemes.
pub(crate) fn named_foreign_firm(rng: &mut Rng, country: &str) -> String {
    (*rng.pick(data::foreign_firms(country))).to_string()
}

/// A person abroad.
pub(crate) fn foreign_person(rng: &mut Rng, country: &str) -> String {
    match data::FOREIGN_PEOPLE.iter().find(|(c, _)| *c == country) {
        Some((_, names)) => (*rng.pick(names)).to_string(),
        None => person_name(rng, 0.0),
    }
}
