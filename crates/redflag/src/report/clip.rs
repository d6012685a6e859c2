//! Text from the data clipped for the reports: a narrative, a name, an account or an
//! explanation longer than its limit is cut there, and a visible marker says how much was
//! left out. The data outputs (`cases.json`, `alerts.csv`) keep every character.

use std::borrow::Cow;

use crate::cases::Case;
use crate::output::CasesFile;

/// The longest narrative a report shows, in characters.
pub const MAX_NARRATIVE: usize = 1000;
/// The longest party name, account, bank or transaction id a report shows.
pub const MAX_NAME: usize = 200;
/// The longest alert explanation or case summary a report shows.
pub const MAX_EXPLANATION: usize = 4000;

/// Calls `$f(field, limit)` on every text field of case `$c` that comes from the data.
macro_rules! text_fields {
    ($c:expr, $f:expr, $($r:tt)*) => {{
        let c = $c;
        let f = $f;
        f($($r)* c.summary, MAX_EXPLANATION);
        for a in $($r)* c.accounts { f(a, MAX_NAME); }
        for a in $($r)* c.counterparties { f(a, MAX_NAME); }
        for a in $($r)* c.alerts {
            f($($r)* a.account, MAX_NAME);
            f($($r)* a.explanation, MAX_EXPLANATION);
            for l in $($r)* a.linked_accounts { f(l, MAX_NAME); }
            for t in $($r)* a.txn_ids { f(t, MAX_NAME); }
        }
        for t in $($r)* c.transactions {
            f($($r)* t.txn_id, MAX_NAME);
            for v in [$($r)* t.orig_account, $($r)* t.bene_account, $($r)* t.orig_name, $($r)* t.bene_name,
                      $($r)* t.orig_bank, $($r)* t.bene_bank, $($r)* t.channel].into_iter().flatten() {
                f(v, MAX_NAME);
            }
            if let Some(n) = $($r)* t.narrative { f(n, MAX_NARRATIVE); }
        }
    }};
}

/// `s` cut to `max` characters with a marker, or `None` when it is no longer than that.
pub(crate) fn clipped(s: &str, max: usize) -> Option<String> {
    let n = s.chars().count();
    if n <= max {
        return None;
    }
    let mut t: String = s.chars().take(max).collect();
    t.push_str(&format!(
        " […clipped: {} more characters; cases.json has the whole text]",
        n - max
    ));
    Some(t)
}

/// The cases with their data's text clipped for a report; borrowed when nothing is too long.
pub(crate) fn for_reports(cf: &CasesFile) -> Cow<'_, CasesFile> {
    let mut long = false;
    for c in &cf.cases {
        text_fields!(c, &mut |s: &String, max: usize| long |= s.chars().nth(max).is_some(), &);
    }
    if !long {
        return Cow::Borrowed(cf);
    }
    let mut cf = cf.clone();
    for c in &mut cf.cases {
        clip_case(c);
    }
    Cow::Owned(cf)
}

fn clip_case(c: &mut Case) {
    text_fields!(
        c,
        &mut |s: &mut String, max: usize| {
            if let Some(t) = clipped(s, max) {
                *s = t;
            }
        },
        &mut
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_is_cut_with_a_marker() {
        assert_eq!(clipped("abc", 3), None);
        let t = clipped("абвгд", 2).unwrap();
        assert!(t.starts_with("аб […clipped: 3 more characters"), "{t}");
    }
}
