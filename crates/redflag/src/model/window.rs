//! Time windows and durations of rules (`7d`, `24h`).

/// A window or duration that does not read: what was written and how to write it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct WindowError(String);

/// The longest window or duration, in days: ten years. Time arithmetic on windows
/// (`ts - window`, `ts + within`) then stays far inside the range of times.
pub const MAX_WINDOW_DAYS: i64 = 3660;

const MAX_WINDOW_MS: i64 = MAX_WINDOW_DAYS * 86_400_000;

/// A trailing time window, such as `7d`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Window {
    /// Length in milliseconds.
    pub ms: i64,
}

impl Window {
    /// Parses `30s`, `15m`, `24h`, `7d`, `2w`.
    pub fn parse(s: &str) -> std::result::Result<Window, WindowError> {
        let t = s.trim();
        let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
        let (num, unit) = t.split_at(split);
        let n: i64 = num.parse().map_err(|_| {
            WindowError(format!(
                "bad window `{s}`: write a whole number and a unit, such as 30m, 24h, 7d or 2w"
            ))
        })?;
        let unit_ms = match unit.trim() {
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            "w" => 7 * 86_400_000,
            other => {
                return Err(WindowError(format!(
                    "bad window `{s}`: unknown unit `{other}`; use s (seconds), m (minutes), h (hours), d (days) or w (weeks), such as 7d"
                )))
            }
        };
        if n <= 0 {
            return Err(WindowError(format!("bad window `{s}`: it must be longer than zero")));
        }
        match n.checked_mul(unit_ms) {
            Some(ms) if ms <= MAX_WINDOW_MS => Ok(Window { ms }),
            _ => Err(WindowError(format!(
                "bad window `{s}`: it is longer than {MAX_WINDOW_DAYS} days (ten years), the longest a window or duration may be; write it in days, such as 365d"
            ))),
        }
    }
}

impl std::fmt::Display for Window {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ms = self.ms;
        for (unit, len, word) in [
            ("d", 86_400_000, "day"),
            ("h", 3_600_000, "hour"),
            ("m", 60_000, "minute"),
            ("s", 1_000, "second"),
        ] {
            if ms % len == 0 {
                let n = ms / len;
                let _ = unit;
                return write!(f, "{n} {word}{}", if n == 1 { "" } else { "s" });
            }
        }
        write!(f, "{ms} ms")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Windows up to ten years read; longer ones, and ones whose milliseconds overflow,
    /// are refused with a way to write them.
    #[test]
    fn windows_are_bounded() {
        assert_eq!(Window::parse("3660d").unwrap().ms, MAX_WINDOW_MS);
        assert_eq!(Window::parse("7d").unwrap().ms, 7 * 86_400_000);
        for bad in [
            "3661d",
            "106751991168d",
            "9223372036854776s",
            "9223372036854775807w",
            "99999999999999999999d",
        ] {
            let e = Window::parse(bad).unwrap_err().to_string();
            assert!(e.contains(&format!("`{bad}`")), "{e}");
        }
        assert!(Window::parse("106751991168d")
            .unwrap_err()
            .to_string()
            .contains("ten years"));
    }
}
