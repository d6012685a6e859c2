//! Time windows and durations of rules (`7d`, `24h`).

/// A window or duration that does not read: what was written and how to write it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct WindowError(String);

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
        Ok(Window { ms: n * unit_ms })
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
