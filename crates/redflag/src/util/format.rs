//! How numbers and times read in explanations and reports.

/// A number as an analyst reads it: thousands separated; a whole number without decimals,
/// any other with two (`12,500`, `9,999.50`, `0.25`).
pub fn number(n: f64) -> String {
    if !n.is_finite() {
        return n.to_string();
    }
    let neg = n < 0.0;
    let r = (n.abs() * 100.0).round() / 100.0;
    let whole = r.trunc() as u64;
    let cents = ((r - r.trunc()) * 100.0).round() as u64;
    let digits = whole.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if cents > 0 {
        out.push_str(&format!(".{cents:02}"));
    }
    if neg && (whole > 0 || cents > 0) {
        format!("-{out}")
    } else {
        out
    }
}

/// Milliseconds since the epoch as `YYYY-MM-DDTHH:MM:SS` (UTC).
pub fn timestamp(ms: i64) -> String {
    let mut out = String::with_capacity(19);
    push_timestamp(&mut out, ms);
    out
}

/// [`timestamp`], appended to `out` (no allocation: outputs write millions of them).
pub fn push_timestamp(out: &mut String, ms: i64) {
    match civil(ms) {
        Some((y, m, d, secs)) => {
            push_date_parts(out, y, m, d);
            let (h, mi, s) = (secs / 3600, secs / 60 % 60, secs % 60);
            for (sep, v) in [('T', h), (':', mi), (':', s)] {
                out.push(sep);
                push2(out, v);
            }
        }
        None => out.push_str(&fallback(ms, "%Y-%m-%dT%H:%M:%S")),
    }
}

/// Milliseconds since the epoch as `YYYY-MM-DD`.
pub fn date(ms: i64) -> String {
    match civil(ms) {
        Some((y, m, d, _)) => {
            let mut out = String::with_capacity(10);
            push_date_parts(&mut out, y, m, d);
            out
        }
        None => fallback(ms, "%Y-%m-%d"),
    }
}

/// Times outside years 0–9999, as chrono writes them.
fn fallback(ms: i64, fmt: &str) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|d| d.naive_utc().format(fmt).to_string())
        .unwrap_or_else(|| ms.to_string())
}

/// (year, month, day, seconds into the day) of a time in years 0–9999, by the
/// days-to-civil algorithm of the proleptic Gregorian calendar (H. Hinnant,
/// "chrono-Compatible Low-Level Date Algorithms").
fn civil(ms: i64) -> Option<(i64, u32, u32, u32)> {
    // 0000-01-01 and 10000-01-01, in seconds since the epoch.
    const MIN: i64 = -62_167_219_200;
    const MAX: i64 = 253_402_300_800;
    let secs = ms.div_euclid(1000);
    if !(MIN..MAX).contains(&secs) {
        return None;
    }
    let days = secs.div_euclid(86_400);
    let in_day = secs.rem_euclid(86_400) as u32;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    Some((y, m, d, in_day))
}

fn push_date_parts(out: &mut String, y: i64, m: u32, d: u32) {
    let y = y as u32;
    push2(out, y / 100);
    push2(out, y % 100);
    out.push('-');
    push2(out, m);
    out.push('-');
    push2(out, d);
}

fn push2(out: &mut String, v: u32) {
    out.push(char::from(b'0' + (v / 10 % 10) as u8));
    out.push(char::from(b'0' + (v % 10) as u8));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_well() {
        assert_eq!(number(12500.0), "12,500");
        assert_eq!(number(9999.5), "9,999.50");
        assert_eq!(number(0.25), "0.25");
        assert_eq!(number(1234567.891), "1,234,567.89");
        assert_eq!(number(-1000.0), "-1,000");
        assert_eq!(number(0.0), "0");
        assert_eq!(number(999.999), "1,000");
    }

    #[test]
    fn timestamps_are_iso() {
        assert_eq!(timestamp(0), "1970-01-01T00:00:00");
        assert_eq!(date(86_400_000), "1970-01-02");
        assert_eq!(timestamp(-1), "1969-12-31T23:59:59");
    }

    #[test]
    fn timestamps_agree_with_chrono() {
        // A day in every five of years 0–9999 at an odd time of day, the edges, and times
        // outside.
        let chrono_ts = |ms: i64| fallback(ms, "%Y-%m-%dT%H:%M:%S");
        let chrono_date = |ms: i64| fallback(ms, "%Y-%m-%d");
        let first = -62_167_219_200_000i64;
        let last = 253_402_300_799_999i64;
        let mut ms = first;
        while ms <= last {
            assert_eq!(timestamp(ms), chrono_ts(ms), "{ms}");
            assert_eq!(date(ms), chrono_date(ms), "{ms}");
            ms += 5 * 86_400_000 + 3_723_001;
        }
        for ms in [first, first - 1, last, last + 1, 0, 999, -999, i64::MIN, i64::MAX] {
            assert_eq!(timestamp(ms), chrono_ts(ms), "{ms}");
            assert_eq!(date(ms), chrono_date(ms), "{ms}");
        }
    }
}
