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

/// Whether `s` has more than `max` characters (a text of at most `max` bytes never has).
fn too_long(s: &str, max: usize) -> bool {
    s.len() > max && s.chars().nth(max).is_some()
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
        text_fields!(c, &mut |s: &String, max: usize| long |= too_long(s, max), &);
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

/// Clips, in place, the cases of `cf` whose text is too long for a report, and returns
/// those cases as they were, to put back with [`restore`] once the reports are rendered:
/// only the cases that need it are copied, not the whole run.
pub(crate) fn clip_in_place(cf: &mut CasesFile) -> Vec<(usize, Case)> {
    let mut originals = Vec::new();
    for (i, c) in cf.cases.iter_mut().enumerate() {
        let mut long = false;
        text_fields!(&*c, &mut |s: &String, max: usize| long |= too_long(s, max), &);
        if long {
            let mut clipped = c.clone();
            clip_case(&mut clipped);
            originals.push((i, std::mem::replace(c, clipped)));
        }
    }
    originals
}

/// Puts back the cases [`clip_in_place`] clipped.
pub(crate) fn restore(cf: &mut CasesFile, originals: Vec<(usize, Case)>) {
    for (i, c) in originals {
        cf.cases[i] = c;
    }
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
