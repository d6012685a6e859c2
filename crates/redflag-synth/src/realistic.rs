//! The `realistic` profile: the seven laundering shapes of AMLworld and AMLSim (fan-in,
//! fan-out, cycle, scatter-gather, gather-scatter, stack, bipartite) hidden among
//! ordinary look-alikes of the same shapes, in the same amount ranges, with the same
//! channels and narratives, over the ordinary traffic of the population.
//!
//! A shape is drawn as edges between the *slots* of its participants, grouped as the
//! shape wants them (a hub and its counterparties, the members of a ring, the layers of
//! a stack), at a relative time `t` in [0, 1] of the pattern's span and with an amount.
//! Laundering and look-alikes use the same shapes; what differs is who takes part
//! (accounts of any kind with no prior link, some of them opened for the purpose,
//! against shops, landlords, employers, families and trading partners), whether the
//! pattern comes back month after month with the same members, and how much the amounts
//! vary.

use crate::data::MONTHS_EN;
use crate::events::{cents, Channel, Clock, Event, Narratives, ROLE_CORE};
use crate::rng::Rng;
use crate::schemes::{SchemeRec, DECOY};
use crate::world::{person_name, CustomerType, Party, World, NONE, NO_MCC};

/// The laundering shapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    FanIn,
    FanOut,
    Cycle,
    ScatterGather,
    GatherScatter,
    Stack,
    Bipartite,
}

/// Every shape, in plan order.
pub(crate) const SHAPES: [Shape; 7] = [
    Shape::FanIn,
    Shape::FanOut,
    Shape::Cycle,
    Shape::ScatterGather,
    Shape::GatherScatter,
    Shape::Stack,
    Shape::Bipartite,
];

impl Shape {
    /// The pattern's name, as AMLworld writes it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Shape::FanIn => "fan-in",
            Shape::FanOut => "fan-out",
            Shape::Cycle => "cycle",
            Shape::ScatterGather => "scatter-gather",
            Shape::GatherScatter => "gather-scatter",
            Shape::Stack => "stack",
            Shape::Bipartite => "bipartite",
        }
    }

    /// The rule of the catalogue that should find it (as in the default profile).
    pub(crate) fn typology(self) -> &'static str {
        match self {
            Shape::FanIn => "FLW-02",
            Shape::FanOut => "FLW-03",
            Shape::Cycle => "FLW-04",
            _ => "FLW-06",
        }
    }

    /// The sizes of the shape's groups of participants; slot 0 (the first of the first
    /// group) is the subject. Fan-in and fan-out: the hub, then 4-16 counterparties;
    /// cycle: 4-10 members; scatter-gather: the source, 4-14 middles, the sink;
    /// gather-scatter: the hub, 2-8 payers, 2-8 payees; stack: three layers of 2-5;
    /// bipartite: 2-6 payers and 2-6 payees.
    fn sizes(self, rng: &mut Rng) -> Vec<usize> {
        let n = |rng: &mut Rng, lo: i64, hi: i64| rng.int(lo, hi) as usize;
        match self {
            Shape::FanIn | Shape::FanOut => vec![1, n(rng, 4, 16)],
            Shape::Cycle => vec![n(rng, 4, 10)],
            Shape::ScatterGather => vec![1, n(rng, 4, 14), 1],
            Shape::GatherScatter => vec![1, n(rng, 2, 8), n(rng, 2, 8)],
            Shape::Stack => vec![n(rng, 2, 5), n(rng, 2, 5), n(rng, 2, 5)],
            Shape::Bipartite => vec![n(rng, 2, 6), n(rng, 2, 6)],
        }
    }
}

/// One transfer of a shape, between slots.
#[derive(Debug, Clone, Copy)]
struct Edge {
    from: usize,
    to: usize,
    /// When, as a share of the span.
    t: f64,
    amount: f64,
}

/// The first slot of each group.
fn offsets(sizes: &[usize]) -> Vec<usize> {
    sizes
        .iter()
        .scan(0, |acc, s| {
            let o = *acc;
            *acc += s;
            Some(o)
        })
        .collect()
}

/// The edges of a shape over groups of `sizes`: amounts around `base`, and where money
/// is passed on, each hop `vary` (a share) above or below what came in.
fn flows(shape: Shape, sizes: &[usize], rng: &mut Rng, base: f64, vary: f64) -> Vec<Edge> {
    let hop = |rng: &mut Rng, x: f64| x * rng.uniform(1.0 - vary, 1.0 + vary);
    let off = offsets(sizes);
    let group = |g: usize| off[g]..off[g] + sizes[g];
    let mut out = Vec::new();
    match shape {
        Shape::FanIn | Shape::FanOut => {
            for s in group(1) {
                let (from, to) = if shape == Shape::FanIn { (s, 0) } else { (0, s) };
                let amount = hop(rng, base);
                out.push(Edge {
                    from,
                    to,
                    t: rng.f64(),
                    amount,
                });
            }
        }
        Shape::Cycle => {
            let k = sizes[0];
            let mut ts: Vec<f64> = (0..k).map(|_| rng.f64()).collect();
            ts.sort_by(f64::total_cmp);
            let mut a = base;
            for (i, t) in ts.into_iter().enumerate() {
                out.push(Edge {
                    from: i,
                    to: (i + 1) % k,
                    t,
                    amount: a,
                });
                a = hop(rng, a);
            }
        }
        Shape::ScatterGather => {
            let sink = off[2];
            for m in group(1) {
                let a = hop(rng, base);
                out.push(Edge {
                    from: 0,
                    to: m,
                    t: rng.uniform(0.0, 0.4),
                    amount: a,
                });
                let b = hop(rng, a);
                out.push(Edge {
                    from: m,
                    to: sink,
                    t: rng.uniform(0.5, 1.0),
                    amount: b,
                });
            }
        }
        Shape::GatherScatter => {
            let mut total = 0.0;
            for s in group(1) {
                let a = hop(rng, base);
                total += a;
                out.push(Edge {
                    from: s,
                    to: 0,
                    t: rng.uniform(0.0, 0.45),
                    amount: a,
                });
            }
            let share = total / sizes[2] as f64;
            for d in group(2) {
                let b = hop(rng, share);
                out.push(Edge {
                    from: 0,
                    to: d,
                    t: rng.uniform(0.55, 1.0),
                    amount: b,
                });
            }
        }
        Shape::Stack => {
            let mut got = vec![0.0; sizes[1]];
            for x in group(0) {
                for (j, y) in group(1).enumerate() {
                    let a = hop(rng, base);
                    got[j] += a;
                    out.push(Edge {
                        from: x,
                        to: y,
                        t: rng.uniform(0.0, 0.4),
                        amount: a,
                    });
                }
            }
            for (j, y) in group(1).enumerate() {
                let share = got[j] / sizes[2] as f64;
                for z in group(2) {
                    let b = hop(rng, share);
                    out.push(Edge {
                        from: y,
                        to: z,
                        t: rng.uniform(0.5, 1.0),
                        amount: b,
                    });
                }
            }
        }
        Shape::Bipartite => {
            for x in group(0) {
                for y in group(1) {
                    let a = hop(rng, base);
                    out.push(Edge {
                        from: x,
                        to: y,
                        t: rng.f64(),
                        amount: a,
                    });
                }
            }
        }
    }
    out
}

/// Who fills a group of slots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    /// A person.
    Person,
    /// A firm.
    Firm,
    /// A person or a firm, even odds.
    Either,
    /// A relative: a person of the group's first member's region.
    Relative,
    /// Laundering: a person (half), a firm (three in ten) or an account opened for the
    /// purpose shortly before (one in five).
    Anyone,
}

/// The ordinary look-alikes of the shapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LookAlike {
    ShopSales,
    Rent,
    Payroll,
    SupplierRun,
    FamilyCycle,
    BranchSupplier,
    Cooperative,
    SupplyChain,
    TradeGroup,
}

/// Every look-alike.
pub(crate) const LOOKALIKES: [LookAlike; 9] = [
    LookAlike::ShopSales,
    LookAlike::Rent,
    LookAlike::Payroll,
    LookAlike::SupplierRun,
    LookAlike::FamilyCycle,
    LookAlike::BranchSupplier,
    LookAlike::Cooperative,
    LookAlike::SupplyChain,
    LookAlike::TradeGroup,
];

/// How a look-alike (or a laundering pattern) is drawn.
struct Style {
    /// Who fills each group of the shape.
    who: &'static [Who],
    /// Median of the base amount (log-normal, sigma 0.7, clamped to a fifth and eight
    /// times it).
    median: f64,
    /// How much an amount varies around the base or the hop before it (a share).
    vary: f64,
    /// Span of one occurrence in days: at least, at most.
    span: (u32, u32),
    /// Comes back every month with the same members (and, with `fixed`, the same
    /// amounts within 3 %), in seven cases of ten; else happens once.
    monthly: bool,
    fixed: bool,
}

const LAUNDERING: Style = Style {
    who: &[Who::Anyone, Who::Anyone, Who::Anyone],
    median: 6_000.0,
    vary: 0.5,
    span: (7, 21),
    monthly: false,
    fixed: false,
};

impl LookAlike {
    pub(crate) fn name(self) -> &'static str {
        match self {
            LookAlike::ShopSales => "shop-sales",
            LookAlike::Rent => "rent-collection",
            LookAlike::Payroll => "payroll",
            LookAlike::SupplierRun => "supplier-run",
            LookAlike::FamilyCycle => "family-cycle",
            LookAlike::BranchSupplier => "branch-supplier",
            LookAlike::Cooperative => "cooperative",
            LookAlike::SupplyChain => "supply-chain",
            LookAlike::TradeGroup => "trade-group",
        }
    }

    pub(crate) fn shape(self) -> Shape {
        match self {
            LookAlike::ShopSales | LookAlike::Rent => Shape::FanIn,
            LookAlike::Payroll | LookAlike::SupplierRun => Shape::FanOut,
            LookAlike::FamilyCycle => Shape::Cycle,
            LookAlike::BranchSupplier => Shape::ScatterGather,
            LookAlike::Cooperative => Shape::GatherScatter,
            LookAlike::SupplyChain => Shape::Stack,
            LookAlike::TradeGroup => Shape::Bipartite,
        }
    }

    fn style(self) -> Style {
        use Who::*;
        let s = |who, median, vary, span, monthly, fixed| Style {
            who,
            median,
            vary,
            span,
            monthly,
            fixed,
        };
        match self {
            LookAlike::ShopSales => s(&[Firm, Person], 2_500.0, 0.5, (7, 21), true, false),
            LookAlike::Rent => s(&[Person, Either], 1_800.0, 0.4, (3, 7), true, true),
            LookAlike::Payroll => s(&[Firm, Person], 2_200.0, 0.5, (1, 1), true, true),
            LookAlike::SupplierRun => s(&[Firm, Firm], 7_000.0, 0.5, (5, 15), true, false),
            LookAlike::FamilyCycle => s(&[Relative], 3_000.0, 0.5, (7, 21), true, false),
            LookAlike::BranchSupplier => s(&[Firm, Person, Firm], 5_000.0, 0.3, (7, 21), true, false),
            LookAlike::Cooperative => s(&[Firm, Person, Firm], 4_000.0, 0.4, (7, 21), true, false),
            LookAlike::SupplyChain => s(&[Firm, Firm, Firm], 6_000.0, 0.4, (10, 21), true, false),
            LookAlike::TradeGroup => s(&[Firm, Firm], 5_000.0, 0.4, (7, 21), true, false),
        }
    }

    /// The look-alikes of a shape.
    fn of(shape: Shape) -> Vec<LookAlike> {
        LOOKALIKES.iter().copied().filter(|l| l.shape() == shape).collect()
    }
}

/// What the realistic profile plants: laundering shapes and, with `lookalikes`, the
/// ordinary look-alikes of those shapes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Selection {
    pub(crate) shapes: Vec<Shape>,
    pub(crate) lookalikes: bool,
}

/// The shapes that `names` select (pattern names such as `cycle`, the rule ids they go
/// under such as `FLW-06`, `decoy` for the look-alikes; any case); all when empty.
pub(crate) fn select(names: &[String]) -> Result<Selection, String> {
    if names.is_empty() {
        return Ok(Selection {
            shapes: SHAPES.to_vec(),
            lookalikes: true,
        });
    }
    let mut sel = Selection {
        shapes: Vec::new(),
        lookalikes: false,
    };
    for n in names.iter().map(|n| n.trim()) {
        if n.eq_ignore_ascii_case(DECOY) || LOOKALIKES.iter().any(|l| l.name().eq_ignore_ascii_case(n)) {
            sel.lookalikes = true;
            continue;
        }
        let hits: Vec<Shape> = SHAPES
            .iter()
            .copied()
            .filter(|s| s.name().eq_ignore_ascii_case(n) || s.typology().eq_ignore_ascii_case(n))
            .collect();
        if hits.is_empty() {
            let mut known: Vec<&str> = SHAPES.iter().flat_map(|s| [s.name(), s.typology()]).collect();
            known.push(DECOY);
            known.sort_unstable();
            known.dedup();
            return Err(format!(
                "the realistic profile plants no `{n}`; it knows: {}",
                known.join(", ")
            ));
        }
        sel.shapes.extend(hits);
    }
    sel.shapes.sort_by_key(|s| SHAPES.iter().position(|x| x == s));
    sel.shapes.dedup();
    Ok(sel)
}

/// Look-alike instances planted for each laundering pattern (of its shape).
pub(crate) const LOOKALIKES_PER_PATTERN: usize = 3;

/// Plants the realistic profile's patterns.
pub(crate) struct Planter<'a> {
    pub(crate) rng: Rng,
    pub(crate) world: &'a mut World,
    pub(crate) clock: &'a Clock,
    pub(crate) narr: &'a mut Narratives,
    pub(crate) events: &'a mut Vec<Event>,
    pub(crate) schemes: Vec<SchemeRec>,
}

impl Planter<'_> {
    /// Plants `count` laundering patterns, the shapes in turn, then (with look-alikes
    /// selected) `LOOKALIKES_PER_PATTERN` look-alikes for each, the kinds of its shape in
    /// turn, stopping once planted rows reach `max_rows` (after one of each kind).
    pub(crate) fn plant(&mut self, sel: &Selection, count: usize, max_rows: usize) {
        let shapes: Vec<Shape> = if sel.shapes.is_empty() {
            SHAPES.to_vec()
        } else {
            sel.shapes.clone()
        };
        if !sel.shapes.is_empty() {
            for i in 0..count {
                self.laundering(shapes[i % shapes.len()]);
            }
        }
        if !sel.lookalikes {
            return;
        }
        let kinds: Vec<LookAlike> = shapes.iter().flat_map(|s| LookAlike::of(*s)).collect();
        let total = (count.max(1) * LOOKALIKES_PER_PATTERN).max(kinds.len());
        for i in 0..total {
            if i >= kinds.len() && self.events.len() >= max_rows {
                break;
            }
            let kind = if i < kinds.len() {
                kinds[i]
            } else {
                let own = LookAlike::of(shapes[i % shapes.len()]);
                own[(i / shapes.len()) % own.len()]
            };
            self.lookalike(kind);
        }
    }

    fn record(&mut self, typology: &'static str, pattern: &'static str, subject: u32) -> u32 {
        let sid = self.schemes.len() as u32;
        self.schemes.push(SchemeRec {
            id: format!("S{:04}", sid + 1),
            typology,
            pattern,
            subject,
        });
        sid
    }

    /// One laundering pattern: a one-off, over 1-3 weeks, among accounts of any kind.
    fn laundering(&mut self, shape: Shape) {
        let sizes = shape.sizes(&mut self.rng);
        let span = self.rng.int(i64::from(LAUNDERING.span.0), i64::from(LAUNDERING.span.1)) as u32;
        let d0 = self.start_day(span);
        let who = vec![Who::Anyone; sizes.len()];
        let members = self.members(&sizes, &who, d0);
        let sid = self.record(shape.typology(), shape.name(), members[0]);
        let base = self.base(LAUNDERING.median);
        let edges = flows(shape, &sizes, &mut self.rng, base, LAUNDERING.vary);
        self.emit_all(sid, &members, &edges, d0, span, 0.0, None);
    }

    /// One look-alike: once, or every month of the period with the same members.
    fn lookalike(&mut self, kind: LookAlike) {
        let style = kind.style();
        let shape = kind.shape();
        let sizes = shape.sizes(&mut self.rng);
        let span = self.rng.int(i64::from(style.span.0), i64::from(style.span.1)) as u32;
        let monthly = style.monthly && self.rng.chance(0.7);
        let d0 = if monthly {
            self.rng
                .below(u64::from(30.min(self.clock.days.saturating_sub(span).max(1)))) as u32
        } else {
            self.start_day(span)
        };
        let mut members = self.members(&sizes, style.who, d0);
        let sid = self.record(DECOY, kind.name(), members[0]);
        let base = self.base(style.median);
        let mut edges = flows(shape, &sizes, &mut self.rng, base, style.vary);
        let mut day = d0;
        while day + span <= self.clock.days {
            let month = Some(self.clock.month0(day));
            self.emit_all(
                sid,
                &members,
                &edges,
                day,
                span,
                if style.fixed { 0.03 } else { 0.0 },
                month,
            );
            if !monthly {
                break;
            }
            day += self.rng.int(28, 32) as u32;
            if kind == LookAlike::ShopSales {
                // A shop's customers change; its shape does not.
                members = self.members(&sizes, style.who, day);
            }
            if !style.fixed {
                edges = flows(shape, &sizes, &mut self.rng, base, style.vary);
            }
        }
    }

    /// A first day leaving `span` days of room before the end.
    fn start_day(&mut self, span: u32) -> u32 {
        let room = self.clock.days.saturating_sub(span).max(1);
        self.rng.below(u64::from(room)) as u32
    }

    /// A base amount around `median`.
    fn base(&mut self, median: f64) -> f64 {
        self.rng.lognormal_in(median, 0.7, median / 5.0, median * 8.0)
    }

    /// Distinct accounts for the slots of groups `sizes`, filled as `who` says (the last
    /// entry for any further group). New accounts open within 60 days before `day`.
    fn members(&mut self, sizes: &[usize], who: &[Who], day: u32) -> Vec<u32> {
        let mut out: Vec<u32> = Vec::with_capacity(sizes.iter().sum());
        for (g, &n) in sizes.iter().enumerate() {
            let w = who.get(g).or(who.last()).copied().unwrap_or(Who::Anyone);
            for _ in 0..n {
                let mut pick = NONE;
                for _ in 0..64 {
                    let c = self.account(w, out.first().copied(), day);
                    if !out.contains(&c) {
                        pick = c;
                        break;
                    }
                }
                if pick == NONE {
                    pick = self.fresh(day);
                }
                out.push(pick);
            }
        }
        out
    }

    fn account(&mut self, who: Who, first: Option<u32>, day: u32) -> u32 {
        let w = &*self.world;
        let person = |rng: &mut Rng| *rng.pick(&w.individuals);
        let firm = |rng: &mut Rng| {
            if w.orgs.is_empty() {
                person(rng)
            } else {
                *rng.pick(&w.orgs)
            }
        };
        match who {
            Who::Person => person(&mut self.rng),
            Who::Firm => firm(&mut self.rng),
            Who::Either if self.rng.chance(0.5) => firm(&mut self.rng),
            Who::Either => person(&mut self.rng),
            Who::Relative => match first {
                Some(f) => w.individual_near(&mut self.rng, f, 0.8, f),
                None => person(&mut self.rng),
            },
            Who::Anyone => {
                let x = self.rng.f64();
                if x < 0.2 {
                    self.fresh(day)
                } else if x < 0.5 {
                    firm(&mut self.rng)
                } else {
                    person(&mut self.rng)
                }
            }
        }
    }

    /// A person's account opened within the 60 days before `day`, at the home branch of
    /// a background customer's region, that takes no part in ordinary traffic.
    fn fresh(&mut self, day: u32) -> u32 {
        let like = *self.rng.pick(&self.world.individuals);
        let p = self.world.party(like).clone();
        let opened = self.clock.epoch_day() + day as i32 - self.rng.int(1, 60) as i32;
        let name = person_name(&mut self.rng, 0.15);
        self.world.add_party(Party {
            account: String::new(),
            name,
            country: p.country,
            bank: p.bank,
            customer: Some(CustomerType::Individual),
            occupation: p.occupation,
            region: p.region,
            branch: p.branch,
            mcc: NO_MCC,
            weight: 1.0,
            opened,
            turnover: p.turnover,
        })
    }

    /// Emits the edges of one occurrence starting on `d0` over `span` days: times mapped
    /// into 8:00-21:00 of the days (in edge order), amounts `jitter` (a share) apart from
    /// the edges', channel and narrative by the parties.
    #[allow(clippy::too_many_arguments)]
    fn emit_all(
        &mut self,
        sid: u32,
        members: &[u32],
        edges: &[Edge],
        d0: u32,
        span: u32,
        jitter: f64,
        month: Option<usize>,
    ) {
        for e in edges {
            let pos = e.t.clamp(0.0, 0.999_999) * f64::from(span);
            let day = (d0 + pos as u32).min(self.clock.days.saturating_sub(1));
            let second = 8.0 * 3600.0 + pos.fract() * 13.0 * 3600.0;
            let ts = self.clock.ts(day, 0) + (second * 1000.0) as i64;
            let a = e.amount
                * if jitter > 0.0 {
                    self.rng.uniform(1.0 - jitter, 1.0 + jitter)
                } else {
                    1.0
                };
            let (o, b) = (members[e.from], members[e.to]);
            let (channel, text) = self.channel_text(o, b, sid, month);
            let mut ev = Event::new(ts, cents(a), channel, o, b).saying(text);
            ev.scheme = sid;
            ev.role = ROLE_CORE;
            self.events.push(ev);
        }
    }

    /// A wire when a firm takes part, else a transfer between people (p2p, or mobile one
    /// time in three); the narrative as such parties write it, or none. Payroll and rent
    /// name the month.
    fn channel_text(&mut self, o: u32, b: u32, sid: u32, month: Option<usize>) -> (Channel, u32) {
        let firm = |p: u32| self.world.party(p).customer != Some(CustomerType::Individual);
        let (fo, fb) = (firm(o), firm(b));
        let pattern = self.schemes.get(sid as usize).map_or("", |s| s.pattern);
        let month = MONTHS_EN[month.unwrap_or(0) % 12];
        let text = match pattern {
            "payroll" => format!("salary for {month}"),
            "rent-collection" => format!("rent for {month}"),
            _ => {
                let pool: &[&str] = match (fo, fb) {
                    (true, true) => &[
                        "payment for goods",
                        "payment under contract",
                        "prepayment",
                        "payment for services",
                    ],
                    (true, false) => &["payment for services", "loan", "", "bonus"],
                    (false, true) => &["payment for goods", "payment for services", "", "prepayment"],
                    (false, false) => &["", "", "transfer", "return of debt", "for family", "loan"],
                };
                (*self.rng.pick(pool)).to_string()
            }
        };
        let channel = if fo || fb {
            Channel::Wire
        } else if self.rng.chance(1.0 / 3.0) {
            Channel::Mobile
        } else {
            Channel::P2p
        };
        let id = if text.is_empty() { NONE } else { self.narr.id(&text) };
        (channel, id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rng() -> Rng {
        Rng::new(3, 9)
    }

    #[test]
    fn every_shape_has_a_lookalike() {
        for s in SHAPES {
            assert!(!LookAlike::of(s).is_empty(), "{s:?}");
        }
    }

    #[test]
    fn sizes_stay_in_range() {
        let mut r = rng();
        for s in SHAPES {
            for _ in 0..200 {
                let sizes = s.sizes(&mut r);
                let total: usize = sizes.iter().sum();
                assert!((4..=17).contains(&total), "{s:?} {sizes:?}");
            }
        }
    }

    #[test]
    fn cycles_close_and_respect_time() {
        let mut r = rng();
        let e = flows(Shape::Cycle, &[6], &mut r, 1_000.0, 0.5);
        assert_eq!(e.len(), 6);
        for w in e.windows(2) {
            assert_eq!(w[0].to, w[1].from);
            assert!(w[0].t <= w[1].t);
        }
        assert_eq!(e[5].to, e[0].from);
    }

    #[test]
    fn chains_pass_on_after_receiving() {
        let mut r = rng();
        for shape in [Shape::ScatterGather, Shape::GatherScatter, Shape::Stack] {
            let sizes = shape.sizes(&mut r);
            let e = flows(shape, &sizes, &mut r, 1_000.0, 0.5);
            for out in &e {
                let inflow: Vec<&Edge> = e.iter().filter(|x| x.to == out.from).collect();
                if !inflow.is_empty() {
                    assert!(inflow.iter().all(|i| i.t < out.t), "{shape:?}");
                }
            }
        }
    }

    #[test]
    fn selection_by_name_and_rule() {
        let sel = select(&["FLW-06".into()]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(sel.shapes.len(), 4);
        assert!(!sel.lookalikes);
        let sel = select(&["cycle".into(), "decoy".into()]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(sel.shapes, vec![Shape::Cycle]);
        assert!(sel.lookalikes);
        assert!(select(&["STR-01".into()]).is_err());
    }
}
