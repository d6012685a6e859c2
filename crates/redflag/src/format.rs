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
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|d| d.naive_utc().format("%Y-%m-%dT%H:%M:%S").to_string())
        .unwrap_or_else(|| ms.to_string())
}

/// Milliseconds since the epoch as `YYYY-MM-DD`.
pub fn date(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|d| d.naive_utc().format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| ms.to_string())
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
    }
}
