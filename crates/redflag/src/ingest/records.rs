//! CSV records as a CSV reader counts them (RFC 4180, read leniently), so that a broken
//! quote costs at most its own line:
//!
//! - a quote opens a quoted field only at the start of a field; a quote inside an unquoted
//!   field (`pipe 12" long`) is a plain character, and so is text after a closing quote;
//!   such a record is kept, rewritten with every field quoted, so that the frame reader
//!   reads the same values;
//! - a quoted field may run over several lines; when it never closes, or when the record
//!   it makes has another field count than the header, its quote is taken as stray: the
//!   line where it opened is set aside, and the lines it swallowed are read again one line
//!   a record;
//! - a record with another field count than the header is set aside with its line.

/// One record of the text: where it is, its first line, its field count, and what is
/// wrong with its quoting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Record {
    /// Byte range, the line end included.
    pub(super) start: usize,
    pub(super) end: usize,
    /// Its first line (1-based).
    pub(super) line: usize,
    /// Lines it runs over.
    pub(super) lines: usize,
    /// Fields.
    pub(super) fields: usize,
    /// A quote inside an unquoted field, or text after a closing quote.
    pub(super) stray: bool,
    /// A quoted field that is not closed (at the end of the text, or, read one line a
    /// record, at the end of its line).
    pub(super) unclosed: bool,
}

/// What the scanner knows of the record being read.
struct State {
    start: usize,
    line: usize,
    lines: usize,
    fields: usize,
    field_start: bool,
    in_q: bool,
    after_close: bool,
    blank: bool,
    stray: bool,
}

impl State {
    fn new(start: usize, line: usize) -> State {
        State {
            start,
            line,
            lines: 1,
            fields: 1,
            field_start: true,
            in_q: false,
            after_close: false,
            blank: true,
            stray: false,
        }
    }

    fn record(&self, end: usize, unclosed: bool) -> Record {
        Record {
            start: self.start,
            end,
            line: self.line,
            lines: self.lines,
            fields: self.fields,
            stray: self.stray,
            unclosed,
        }
    }
}

/// The records of `text[from..to]`, whose first line is `line`; blank lines are skipped.
/// `one_line`: a line end closes the record even inside quotes (the record is then
/// unclosed). Each record is handed to `out` in order.
pub(super) fn scan(
    text: &[u8],
    (sep, quote): (u8, Option<u8>),
    (from, to): (usize, usize),
    line: usize,
    one_line: bool,
    out: &mut impl FnMut(Record),
) {
    let mut s = State::new(from, line);
    let mut line = line;
    let mut i = from;
    while i < to {
        let b = text[i];
        if s.in_q {
            if Some(b) == quote {
                if i + 1 < to && text[i + 1] == b {
                    i += 2;
                    continue;
                }
                s.in_q = false;
                s.after_close = true;
            } else if b == b'\n' {
                line += 1;
                if one_line {
                    out(s.record(i + 1, true));
                    s = State::new(i + 1, line);
                } else {
                    s.lines += 1;
                }
            }
            i += 1;
            continue;
        }
        if b == b'\n' {
            line += 1;
            if !s.blank {
                out(s.record(i + 1, false));
            }
            s = State::new(i + 1, line);
        } else if b == sep {
            s.fields += 1;
            s.field_start = true;
            s.after_close = false;
            s.blank = false;
        } else if Some(b) == quote {
            if s.field_start {
                s.in_q = true;
            } else {
                s.stray = true;
            }
            s.field_start = false;
            s.after_close = false;
            s.blank = false;
        } else if b != b'\r' {
            s.stray |= s.after_close;
            s.field_start = false;
            s.after_close = false;
            s.blank = false;
        }
        i += 1;
    }
    if s.in_q || (!s.blank && s.start < to) {
        out(s.record(to, s.in_q));
    }
}

/// The records of `text[from..to]` ([`scan`]) in a list.
fn records(text: &[u8], delims: (u8, Option<u8>), range: (usize, usize), line: usize, one_line: bool) -> Vec<Record> {
    let mut out = Vec::new();
    scan(text, delims, range, line, one_line, &mut |r| out.push(r));
    out
}

/// The fields of a record as a lenient CSV reader reads them (quotes removed, doubled
/// quotes undoubled, stray quotes kept as characters).
pub(super) fn fields(rec: &[u8], sep: u8, quote: u8) -> Vec<Vec<u8>> {
    let rec = rec.strip_suffix(b"\n").unwrap_or(rec);
    let rec = rec.strip_suffix(b"\r").unwrap_or(rec);
    let mut out = Vec::new();
    let mut cur = Vec::new();
    let mut field_start = true;
    let mut in_q = false;
    let mut i = 0;
    while i < rec.len() {
        let b = rec[i];
        if in_q {
            if b == quote {
                if rec.get(i + 1) == Some(&quote) {
                    cur.push(quote);
                    i += 2;
                    continue;
                }
                in_q = false;
            } else {
                cur.push(b);
            }
        } else if b == sep {
            out.push(std::mem::take(&mut cur));
            field_start = true;
            i += 1;
            continue;
        } else if b == quote && field_start {
            in_q = true;
        } else {
            cur.push(b);
        }
        field_start = false;
        i += 1;
    }
    out.push(cur);
    out
}

/// A record written again with every non-empty field quoted (empty fields stay empty, a
/// missing value), so that a reader that knows only well-formed quoting reads the values
/// a lenient reader reads.
pub(super) fn requoted(rec: &[u8], sep: u8, quote: u8) -> Vec<u8> {
    let mut out = Vec::with_capacity(rec.len() + 8);
    for (k, f) in fields(rec, sep, quote).iter().enumerate() {
        if k > 0 {
            out.push(sep);
        }
        if f.is_empty() {
            continue;
        }
        out.push(quote);
        for &b in f {
            out.push(b);
            if b == quote {
                out.push(quote);
            }
        }
        out.push(quote);
    }
    out.push(b'\n');
    out
}

/// The records kept (with the text a reader reads them from) and those set aside.
#[derive(Debug, Default)]
pub(super) struct Sorted {
    /// The header, then the records kept.
    pub(super) text: Vec<u8>,
    /// Record numbers of the records kept (the header is record 0).
    pub(super) rows: Vec<u32>,
    /// Record numbers and reasons of the records set aside.
    pub(super) rejected: Vec<(u32, String)>,
}

impl Sorted {
    fn keep(&mut self, text: &[u8], r: &Record, sep: u8, quote: Option<u8>) {
        let rec = &text[r.start..r.end];
        match quote {
            Some(q) if r.stray => self.text.extend_from_slice(&requoted(rec, sep, q)),
            _ => {
                self.text.extend_from_slice(rec);
                if !self.text.ends_with(b"\n") {
                    self.text.push(b'\n');
                }
            }
        }
    }

    /// One record: kept, set aside, or (a quote that swallowed lines) its first line set
    /// aside and the lines it swallowed read again one line a record.
    fn sort(&mut self, text: &[u8], r: &Record, n_fields: usize, sep: u8, quote: Option<u8>) {
        let next = self.rows.len() + self.rejected.len() + 1;
        let rec = next as u32;
        let l = r.line;
        let broken = r.unclosed || (r.lines > 1 && (r.fields != n_fields || r.stray));
        let first_end = text[r.start..r.end]
            .iter()
            .position(|b| *b == b'\n')
            .map(|p| r.start + p + 1)
            .unwrap_or(r.end);
        if broken && first_end < r.end {
            let why = if r.unclosed {
                format!(
                    "line {l}: a quote opened on this line is never closed; the lines after it are read on their own"
                )
            } else {
                format!(
                    "line {l}: a quote opened on this line runs on to line {}, which breaks the record; the lines after it are read on their own",
                    l + r.lines - 1
                )
            };
            self.rejected.push((rec, why));
            for sub in records(text, (sep, quote), (first_end, r.end), l + 1, true) {
                self.sort(text, &sub, n_fields, sep, quote);
            }
        } else if r.unclosed {
            self.rejected
                .push((rec, format!("line {l}: a quoted field is never closed")));
        } else if r.fields != n_fields {
            self.rejected.push((
                rec,
                format!("line {l}: {} fields where the header has {n_fields}", r.fields),
            ));
        } else {
            self.keep(text, r, sep, quote);
            self.rows.push(rec);
        }
    }
}

/// Sorts the records of `text` (header first) into those kept and those set aside; `None`
/// when every record is well formed with the header's field count (the text is then read
/// as it is).
pub(super) fn sort_records(text: &[u8], sep: u8, quote: Option<u8>, n_fields: usize) -> Option<Sorted> {
    // First without keeping the records: most files are well formed.
    let (mut first, mut clean) = (true, true);
    scan(text, (sep, quote), (0, text.len()), 1, false, &mut |r| {
        clean &= first || (r.fields == n_fields && !r.stray && !r.unclosed);
        first = false;
    });
    if clean {
        return None;
    }
    let mut out = Sorted {
        text: Vec::with_capacity(text.len() + 64),
        ..Default::default()
    };
    // Sorted as they are scanned: no list of every record is kept.
    let mut header = true;
    scan(text, (sep, quote), (0, text.len()), 1, false, &mut |r| {
        if std::mem::take(&mut header) {
            out.text.extend_from_slice(&text[r.start..r.end]);
            if !out.text.ends_with(b"\n") {
                out.text.push(b'\n');
            }
        } else {
            out.sort(text, &r, n_fields, sep, quote);
        }
    });
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(text: &str, n: usize) -> Sorted {
        sort_records(text.as_bytes(), b',', Some(b'"'), n).expect("something to sort")
    }

    /// Well-formed CSV, quoted fields over several lines and doubled quotes included, is
    /// read as it is.
    #[test]
    fn well_formed_text_is_read_as_it_is() {
        let t = "a,b,c\n1,\"x, y\",3\n2,\"two\nlines\",4\n\n3,\"say \"\"hi\"\"\",5\r\n";
        assert!(sort_records(t.as_bytes(), b',', Some(b'"'), 3).is_none());
        let recs = records(t.as_bytes(), (b',', Some(b'"')), (0, t.len()), 1, false);
        assert_eq!(recs.len(), 4);
        assert_eq!((recs[2].line, recs[2].lines), (3, 2));
        assert_eq!(recs[3].line, 6);
    }

    /// A quote inside an unquoted field is a character: the record is kept, requoted.
    #[test]
    fn stray_quote_inside_a_field_is_a_character() {
        let s = sorted("a,b,c\n1,pipe 12\" long,3\n2,x,4\n", 3);
        assert_eq!(s.rows, vec![1, 2]);
        assert!(s.rejected.is_empty());
        assert_eq!(
            String::from_utf8(s.text).unwrap(),
            "a,b,c\n\"1\",\"pipe 12\"\" long\",\"3\"\n2,x,4\n"
        );
    }

    /// A quote that opens a field and never closes costs its own line only.
    #[test]
    fn unclosed_quote_costs_its_own_line() {
        let s = sorted("a,b,c\n1,\"open,3\n2,x,4\n3,y,5\n", 3);
        assert_eq!(s.rows, vec![2, 3]);
        assert_eq!(s.rejected.len(), 1);
        assert!(
            s.rejected[0].1.starts_with("line 2: a quote opened"),
            "{:?}",
            s.rejected
        );
        assert_eq!(String::from_utf8(s.text).unwrap(), "a,b,c\n2,x,4\n3,y,5\n");
    }

    /// A quote opened at a field's start and closed by a stray quote lines later costs
    /// its own line; the lines between are read on their own.
    #[test]
    fn quote_closed_lines_later_costs_its_own_line() {
        let s = sorted("a,b,c\n1,\"open,3\n2,x,4\n3,pipe 12\" long,5\n4,z,6\n", 3);
        assert_eq!(s.rows, vec![2, 3, 4]);
        assert_eq!(s.rejected, vec![(1, s.rejected[0].1.clone())]);
        assert!(s.rejected[0].1.contains("runs on to line 4"), "{:?}", s.rejected);
    }

    /// Text after a closing quote is kept, as a lenient reader keeps it.
    #[test]
    fn text_after_a_closing_quote_is_kept() {
        assert_eq!(
            fields(b"\"ab\"cd,e\n", b',', b'"'),
            vec![b"abcd".to_vec(), b"e".to_vec()]
        );
        let s = sorted("a,b\n\"ab\"cd,e\n", 2);
        assert_eq!(String::from_utf8(s.text).unwrap(), "a,b\n\"abcd\",\"e\"\n");
    }
}
