//! Terminal safety: everything the CLI prints passes through [`clean`] (or the writer
//! [`Clean`]), so data cannot drive the terminal. Control characters (C0 but newline and
//! tab, DEL, C1) become visible escapes such as `\u{1b}`: an escape sequence in an
//! account id prints as harmless text, and bytes that are not UTF-8 print as `�`.

use std::borrow::Cow;
use std::io::Write;

/// Whether `c` would be taken by a terminal as a control: C0 (newline and tab excepted),
/// DEL and C1.
fn is_unsafe(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t') || matches!(c, '\u{80}'..='\u{9f}')
}

/// `s` with every control character written as a visible escape (`\u{1b}`).
pub fn clean(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_unsafe(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A writer that cleans what goes through it ([`clean`]); a UTF-8 sequence cut between
/// two writes is held until its end comes.
pub struct Clean<W: Write> {
    inner: W,
    pending: Vec<u8>,
}

impl<W: Write> Clean<W> {
    /// Cleans what is written to `inner`.
    pub fn new(inner: W) -> Clean<W> {
        Clean {
            inner,
            pending: Vec::new(),
        }
    }
}

impl<W: Write> Write for Clean<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.pending.extend_from_slice(buf);
        let mut out = String::new();
        let mut rest: &[u8] = &self.pending;
        loop {
            match std::str::from_utf8(rest) {
                Ok(s) => {
                    out.push_str(&clean(s));
                    rest = &[];
                    break;
                }
                Err(e) => {
                    let (good, bad) = rest.split_at(e.valid_up_to());
                    out.push_str(&clean(std::str::from_utf8(good).unwrap_or_default()));
                    match e.error_len() {
                        Some(n) => {
                            out.push('\u{fffd}');
                            rest = &bad[n..];
                        }
                        // An incomplete sequence at the end: kept for the next write.
                        None => {
                            rest = bad;
                            break;
                        }
                    }
                }
            }
        }
        let keep = rest.to_vec();
        self.inner.write_all(out.as_bytes())?;
        self.pending = keep;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// A progress bar over `len` items called `what` (a fixed word), for a terminal.
pub fn bar(len: u64, what: &str) -> indicatif::ProgressBar {
    let pb = indicatif::ProgressBar::new(len);
    pb.set_style(
        indicatif::ProgressStyle::with_template(&format!("{{bar:30}} {{pos}}/{{len}} {what} {{msg}}"))
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    pb
}

/// A spinner saying what is being done (a fixed text), for a terminal; it is cleared when
/// dropped.
pub fn spinner(what: &str) -> Spinner {
    let pb = indicatif::ProgressBar::new_spinner();
    pb.set_message(what.to_string());
    pb.enable_steady_tick(std::time::Duration::from_millis(120));
    Spinner(pb)
}

/// A spinner on the terminal, cleared when dropped.
pub struct Spinner(indicatif::ProgressBar);

impl Drop for Spinner {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_become_visible_escapes() {
        assert_eq!(
            clean("ACC\u{1b}[2J\u{1b}]0;pwned\u{7}-1"),
            "ACC\\u{1b}[2J\\u{1b}]0;pwned\\u{7}-1"
        );
        assert_eq!(clean("a\u{9b}31m\u{7f}b\rc"), "a\\u{9b}31m\\u{7f}b\\u{d}c");
        assert_eq!(clean("line\n\tТалант €"), "line\n\tТалант €");
    }

    #[test]
    fn the_writer_cleans_across_split_writes() {
        let mut w = Clean::new(Vec::new());
        let text = "é\u{9b}x\u{1b}y".as_bytes();
        for b in text {
            w.write_all(std::slice::from_ref(b)).unwrap();
        }
        w.write_all(b"\xff!").unwrap();
        assert_eq!(String::from_utf8(w.inner).unwrap(), "é\\u{9b}x\\u{1b}y\u{fffd}!");
    }
}
