//! The sizes and counts a Parquet file claims, checked before polars decodes it.
//!
//! polars-parquet trusts the counts in a page header: a data page's `num_values` is a
//! thrift `i32` that it casts to `usize`, so a negative count becomes a count near 2^64,
//! and decoding the page's validity reserves a bitmap of 2^61 bytes. That allocation
//! fails, and a failed allocation aborts the process: no `catch_unwind` can turn it into
//! an error. So before polars reads a page, every column chunk is checked against the
//! file, and every page header in it against its column chunk: a count or a size that is
//! negative, or that cannot fit what holds it, makes the file an error that says where.
//!
//! The page headers are read here as polars reads them (thrift compact protocol, the
//! fields of `PageHeader` and of the headers and statistics inside it, each read with the
//! type polars reads it with), so that the counts checked are the counts polars uses.

use polars::io::parquet::read::FileMetadata;
use std::ops::Range;

/// The largest uncompressed page accepted: 64 times the file's length, plus 64 MiB. Writers
/// cut pages at about 1 MiB; a page that decompresses to more than this from a file of
/// this size is not a page any writer makes.
fn max_uncompressed_page(file_len: usize) -> i64 {
    (file_len as i64).saturating_mul(64).saturating_add(64 << 20)
}

/// How deep thrift structures may nest in a page header (polars-parquet allows 64).
const MAX_DEPTH: u32 = 64;

/// Checks the column chunks of the file at `path` that are read (those of the top-level
/// columns `read`, or all) and every page header in them, reading one column chunk at a
/// time. `Err` says what is wrong and where.
pub(super) fn check_file(path: &std::path::Path, meta: &FileMetadata, read: Option<&[String]>) -> Result<(), String> {
    use std::io::{Read, Seek};
    let mut file = std::fs::File::open(path).map_err(|e| format!("cannot open the file ({e})"))?;
    let file_len = file
        .metadata()
        .map_err(|e| format!("cannot read the file ({e})"))?
        .len() as usize;
    // One column chunk's bytes at a time: the file is never held whole.
    let mut chunk_bytes = |range: &Range<usize>| -> Result<Vec<u8>, String> {
        let mut buf = vec![0u8; range.len()];
        file.seek(std::io::SeekFrom::Start(range.start as u64))
            .and_then(|_| file.read_exact(&mut buf))
            .map_err(|e| format!("cannot read bytes {}..{} of the file ({e})", range.start, range.end))?;
        Ok(buf)
    };
    check_chunks(file_len, meta, read, &mut chunk_bytes)
}

/// [`check_file`] on a file's bytes.
#[cfg(test)]
fn check(bytes: &[u8], meta: &FileMetadata, read: Option<&[String]>) -> Result<(), String> {
    check_chunks(bytes.len(), meta, read, &mut |r| Ok(bytes[r.clone()].to_vec()))
}

/// Reads the bytes of a range of the file.
type ChunkReader<'a> = dyn FnMut(&Range<usize>) -> Result<Vec<u8>, String> + 'a;

/// The checks of [`check_file`] on a file of `file_len` bytes whose column chunks
/// `chunk_bytes` reads.
fn check_chunks(
    file_len: usize,
    meta: &FileMetadata,
    read: Option<&[String]>,
    chunk_bytes: &mut ChunkReader<'_>,
) -> Result<(), String> {
    for (g, rg) in meta.row_groups.iter().enumerate() {
        for chunk in rg.parquet_columns() {
            let descriptor = chunk.descriptor();
            let top = descriptor.path_in_schema.first().map(|n| n.as_str());
            if read.is_some_and(|read| !read.iter().any(|c| Some(c.as_str()) == top)) {
                continue;
            }
            let name = descriptor.path_in_schema.join(".");
            let at = |what: String| format!("row group {g}, column `{name}`: {what}");
            let num_values = chunk.num_values();
            if num_values < 0 {
                return Err(at(format!("the column chunk claims {num_values} values")));
            }
            // A column that repeats nothing has one value (or null) a row.
            let flat = descriptor.descriptor.max_rep_level == 0;
            if flat && num_values as u64 > rg.num_rows() as u64 {
                return Err(at(format!(
                    "the column chunk claims {num_values} values in a row group of {} rows",
                    rg.num_rows()
                )));
            }
            let start = chunk.dictionary_page_offset().unwrap_or(chunk.data_page_offset());
            let size = chunk.compressed_size();
            let range = usize::try_from(start)
                .ok()
                .zip(usize::try_from(size).ok())
                .and_then(|(s, n)| Some(s..s.checked_add(n)?))
                .filter(|r| r.end <= file_len);
            let Some(range) = range else {
                return Err(at(format!(
                    "the column chunk claims {size} bytes from byte {start}, outside the file of {file_len} bytes"
                )));
            };
            check_pages(&chunk_bytes(&range)?, num_values, file_len)
                .map_err(|(offset, what)| at(format!("the page at byte {}: {what}", range.start + offset)))?;
        }
    }
    Ok(())
}

/// Walks the pages of one column chunk as polars does (until the data pages hold the
/// chunk's values), checking each header. `Err` holds the offset of the page in `chunk`.
fn check_pages(chunk: &[u8], num_values: i64, file_len: usize) -> Result<(), (usize, String)> {
    let mut pos = 0;
    let mut seen: i64 = 0;
    while seen < num_values && pos < chunk.len() {
        let mut t = Thrift {
            buf: chunk,
            pos,
            depth: 0,
            pending: None,
        };
        let h = t
            .page_header()
            .ok_or_else(|| (pos, "the page header cannot be read".to_string()))?;
        let fail = |what: String| (pos, what);
        let body = t.pos;
        let (Some(kind), Some(uncompressed), Some(compressed)) = (h.kind, h.uncompressed, h.compressed) else {
            return Err(fail("the page header lacks its type or its sizes".into()));
        };
        if compressed < 0 || compressed as usize > chunk.len() - body {
            return Err(fail(format!(
                "the page claims {compressed} bytes where its column chunk has {} left",
                chunk.len() - body
            )));
        }
        if uncompressed < 0 || i64::from(uncompressed) > max_uncompressed_page(file_len) {
            return Err(fail(format!(
                "the page claims {uncompressed} bytes uncompressed, from a file of {file_len} bytes"
            )));
        }
        for (field, v) in h.counts.iter() {
            if *v < 0 {
                return Err(fail(format!("the page header claims {v} for `{field}`")));
            }
        }
        // The count polars adds up for the page (0 for a page that is not a data page).
        let values = match kind {
            DATA_PAGE => h.v1_values,
            DATA_PAGE_V2 => h.v2.as_ref().map(|v2| v2.num_values),
            _ => Some(0),
        };
        let Some(values) = values else {
            return Err(fail(format!("a page of type {kind} lacks its header")));
        };
        if i64::from(values) > num_values - seen {
            return Err(fail(format!(
                "the page claims {values} values, more than the {} its column chunk has left",
                num_values - seen
            )));
        }
        if let Some(v2) = &h.v2 {
            if v2.num_nulls > v2.num_values || v2.num_rows > v2.num_values {
                return Err(fail(format!(
                    "the page claims {} nulls and {} rows in {} values",
                    v2.num_nulls, v2.num_rows, v2.num_values
                )));
            }
            if i64::from(v2.def_len) + i64::from(v2.rep_len) > i64::from(uncompressed.min(compressed)) {
                return Err(fail(format!(
                    "the page's levels claim {} bytes, more than the page",
                    i64::from(v2.def_len) + i64::from(v2.rep_len)
                )));
            }
        }
        if let Some(dict) = h.dict_values {
            // A dictionary is plain-encoded: at least one bit a value.
            if i64::from(dict) > 8 * i64::from(uncompressed) + 8 {
                return Err(fail(format!(
                    "the dictionary page claims {dict} values in {uncompressed} bytes"
                )));
            }
        }
        seen += i64::from(values);
        pos = body + compressed as usize;
    }
    Ok(())
}

/// Page types (parquet.thrift `PageType`).
const DATA_PAGE: i32 = 0;
const DATA_PAGE_V2: i32 = 3;

/// Thrift compact-protocol types.
const T_TRUE: u8 = 1;
const T_FALSE: u8 = 2;
const T_BYTE: u8 = 3;
const T_I16: u8 = 4;
const T_I32: u8 = 5;
const T_I64: u8 = 6;
const T_DOUBLE: u8 = 7;
const T_BINARY: u8 = 8;
const T_LIST: u8 = 9;
const T_SET: u8 = 10;
const T_MAP: u8 = 11;
const T_STRUCT: u8 = 12;

/// What a page header says, as polars reads it.
#[derive(Default)]
struct PageHeader {
    kind: Option<i32>,
    uncompressed: Option<i32>,
    compressed: Option<i32>,
    /// `num_values` of the v1 data page header.
    v1_values: Option<i32>,
    v2: Option<V2>,
    /// `num_values` of the dictionary page header.
    dict_values: Option<i32>,
    /// Every count read, by name, to be checked for a negative value.
    counts: Vec<(&'static str, i32)>,
}

/// The counts of a v2 data page header.
#[derive(Default)]
struct V2 {
    num_values: i32,
    num_nulls: i32,
    num_rows: i32,
    def_len: i32,
    rep_len: i32,
}

/// A reader of the thrift compact protocol over a byte slice that reads as polars'
/// generated code does: a field it knows is read with the type it expects, whatever type
/// the field's header says, and a field it does not know is skipped by the type its
/// header says. Every method returns `None` where polars' reader fails, and also where
/// the two readers could differ (a varint too long or too large for its type), so that a
/// header read here is the header polars reads.
struct Thrift<'a> {
    buf: &'a [u8],
    pos: usize,
    depth: u32,
    /// The value of the last boolean field header, until a boolean is read.
    pending: Option<bool>,
}

impl Thrift<'_> {
    fn byte(&mut self) -> Option<u8> {
        let b = *self.buf.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }

    /// An unsigned varint of at most `bits` bits.
    fn varint(&mut self, bits: u32) -> Option<u64> {
        let mut v: u64 = 0;
        for i in 0..bits.div_ceil(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return (bits == 64 || v >> bits == 0).then_some(v);
            }
        }
        None
    }

    /// A zigzag varint of at most `bits` bits.
    fn int(&mut self, bits: u32) -> Option<i64> {
        let v = self.varint(bits)?;
        Some((v >> 1) as i64 ^ -((v & 1) as i64))
    }

    fn i32(&mut self) -> Option<i32> {
        i32::try_from(self.int(32)?).ok()
    }

    fn bool(&mut self) -> Option<bool> {
        if let Some(b) = self.pending.take() {
            return Some(b);
        }
        match self.byte()? {
            T_TRUE => Some(true),
            T_FALSE => Some(false),
            _ => None,
        }
    }

    /// A length (of a binary or a collection) that fits what is left of the buffer.
    fn len(&mut self) -> Option<usize> {
        let n = usize::try_from(self.varint(32)?).ok()?;
        (n <= self.buf.len() - self.pos).then_some(n)
    }

    /// The next field of a struct: `Some(None)` at its end, else its type and id.
    fn field(&mut self, last: &mut i16) -> Option<Option<(u8, i16)>> {
        let b = self.byte()?;
        let ty = b & 0x0f;
        match ty {
            0 => return Some(None),
            T_TRUE | T_FALSE => self.pending = Some(ty == T_TRUE),
            T_BYTE..=T_STRUCT => {}
            _ => return None,
        }
        let delta = i16::from(b >> 4);
        let id = if delta == 0 {
            i16::try_from(self.int(16)?).ok()?
        } else {
            last.checked_add(delta)?
        };
        *last = id;
        Some(Some((ty, id)))
    }

    /// The type of a collection's elements (a boolean is 1 there, never 2).
    fn element(t: u8) -> Option<u8> {
        (t == T_TRUE || (T_BYTE..=T_STRUCT).contains(&t)).then_some(t)
    }

    /// Skips a value of type `ty`.
    fn skip(&mut self, ty: u8) -> Option<()> {
        match ty {
            T_TRUE | T_FALSE => {
                self.bool()?;
            }
            T_BYTE => {
                self.byte()?;
            }
            T_I16 => {
                self.int(16)?;
            }
            T_I32 => {
                self.int(32)?;
            }
            T_I64 => {
                self.int(64)?;
            }
            T_DOUBLE => {
                self.pos = self.pos.checked_add(8).filter(|&p| p <= self.buf.len())?;
            }
            T_BINARY => {
                let n = self.len()?;
                self.pos += n;
            }
            T_LIST | T_SET => {
                let h = self.byte()?;
                let elem = Self::element(h & 0x0f)?;
                let n = match h >> 4 {
                    15 => self.len()?,
                    n => usize::from(n),
                };
                self.nested(|t| (0..n).try_for_each(|_| t.skip(elem)))?;
            }
            T_MAP => {
                let n = self.len()?;
                if n > 0 {
                    let kv = self.byte()?;
                    let (k, v) = (Self::element(kv >> 4)?, Self::element(kv & 0x0f)?);
                    self.nested(|t| (0..n).try_for_each(|_| t.skip(k).and_then(|_| t.skip(v))))?;
                }
            }
            T_STRUCT => {
                self.fields(|t, ty, _| t.skip(ty))?;
            }
            _ => return None,
        }
        Some(())
    }

    /// Reads the fields of a struct up to its end, each by `f(self, type, id)`, one level
    /// deeper (refusing nesting past `MAX_DEPTH`).
    fn fields(&mut self, mut f: impl FnMut(&mut Self, u8, i16) -> Option<()>) -> Option<()> {
        self.nested(|t| {
            let mut last = 0;
            while let Some((ty, id)) = t.field(&mut last)? {
                f(t, ty, id)?;
            }
            Some(())
        })
    }

    fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> Option<T>) -> Option<T> {
        if self.depth >= MAX_DEPTH {
            return None;
        }
        self.depth += 1;
        let r = f(self);
        self.depth -= 1;
        r
    }

    /// `Statistics`: its counts and values are not used here, only read past.
    fn statistics(&mut self) -> Option<()> {
        self.fields(|t, ty, id| match id {
            1 | 2 | 5 | 6 => t.len().map(|n| t.pos += n),
            3 | 4 => t.int(64).map(drop),
            7 | 8 => t.bool().map(drop),
            _ => t.skip(ty),
        })
    }

    /// `DataPageHeader`: `num_values` and the three encodings are required.
    fn data_page_header(&mut self) -> Option<i32> {
        let mut got = [None; 4];
        self.fields(|t, ty, id| match id {
            1..=4 => t.i32().map(|v| got[id as usize - 1] = Some(v)),
            5 => t.statistics(),
            _ => t.skip(ty),
        })?;
        got.iter().all(Option::is_some).then_some(got[0]?)
    }

    /// `DictionaryPageHeader`: `num_values` and the encoding are required.
    fn dictionary_page_header(&mut self) -> Option<i32> {
        let mut got = [None; 2];
        self.fields(|t, ty, id| match id {
            1 | 2 => t.i32().map(|v| got[id as usize - 1] = Some(v)),
            3 => t.bool().map(drop),
            _ => t.skip(ty),
        })?;
        got.iter().all(Option::is_some).then_some(got[0]?)
    }

    /// `DataPageHeaderV2`: its six counts and encoding are required.
    fn data_page_header_v2(&mut self) -> Option<V2> {
        let mut got = [None; 6];
        self.fields(|t, ty, id| match id {
            1..=6 => t.i32().map(|v| got[id as usize - 1] = Some(v)),
            7 => t.bool().map(drop),
            8 => t.statistics(),
            _ => t.skip(ty),
        })?;
        Some(V2 {
            num_values: got[0]?,
            num_nulls: got[1]?,
            num_rows: got[2]?,
            def_len: got[4]?,
            rep_len: got[5]?,
        })
        .filter(|_| got[3].is_some())
    }

    fn page_header(&mut self) -> Option<PageHeader> {
        let mut h = PageHeader::default();
        self.fields(|t, ty, id| {
            match id {
                1 => h.kind = Some(t.i32()?),
                2 => h.uncompressed = Some(t.i32()?),
                3 => h.compressed = Some(t.i32()?),
                4 => {
                    t.i32()?;
                }
                5 => {
                    let v = t.data_page_header()?;
                    h.counts.push(("num_values", v));
                    h.v1_values = Some(v);
                }
                6 => t.skip(T_STRUCT)?,
                7 => {
                    let v = t.dictionary_page_header()?;
                    h.counts.push(("num_values", v));
                    h.dict_values = Some(v);
                }
                8 => {
                    let v2 = t.data_page_header_v2()?;
                    h.counts.extend([
                        ("num_values", v2.num_values),
                        ("num_nulls", v2.num_nulls),
                        ("num_rows", v2.num_rows),
                        ("definition_levels_byte_length", v2.def_len),
                        ("repetition_levels_byte_length", v2.rep_len),
                    ]);
                    h.v2 = Some(v2);
                }
                _ => t.skip(ty)?,
            }
            Some(())
        })?;
        Some(h)
    }
}

#[cfg(test)]
mod tests {
    use polars::prelude::*;

    use super::*;

    /// A Parquet file as polars writes it (data pages v1): a dictionary-encoded text
    /// column with nulls, a float column, an integer column; small row groups and pages.
    /// With its metadata.
    fn written() -> (Vec<u8>, FileMetadata) {
        let n = 300;
        let mut df = df!(
            "id" => (0..n).map(|i| format!("T{i:05}")).collect::<Vec<_>>(),
            "kind" => (0..n).map(|i| (i % 7 != 0).then(|| ["a", "b", "c"][i % 3])).collect::<Vec<_>>(),
            "amount" => (0..n).map(|i| (i % 5 != 0).then_some(i as f64 * 1.5)).collect::<Vec<_>>(),
            "count" => (0..n as i64).collect::<Vec<_>>(),
        )
        .unwrap();
        let mut bytes = Vec::new();
        ParquetWriter::new(&mut bytes)
            .with_row_group_size(Some(128))
            .with_data_page_size(Some(512))
            .with_compression(ParquetCompression::Uncompressed)
            .set_parallel(false)
            .finish(&mut df)
            .unwrap();
        let meta = polars::io::parquet::read::ParquetReader::new(std::io::Cursor::new(bytes.clone()))
            .get_metadata()
            .unwrap()
            .as_ref()
            .clone();
        (bytes, meta)
    }

    /// The page headers of a column chunk, each with its offset in the file.
    fn headers(bytes: &[u8], meta: &FileMetadata) -> Vec<(usize, PageHeader)> {
        let mut out = Vec::new();
        for rg in &meta.row_groups {
            for chunk in rg.parquet_columns() {
                let start = chunk.dictionary_page_offset().unwrap_or(chunk.data_page_offset()) as usize;
                let end = start + chunk.compressed_size() as usize;
                let mut pos = start;
                while pos < end {
                    let mut t = Thrift {
                        buf: &bytes[..end],
                        pos,
                        depth: 0,
                        pending: None,
                    };
                    let h = t.page_header().expect("a header polars wrote reads");
                    let next = t.pos + h.compressed.unwrap() as usize;
                    out.push((pos, h));
                    pos = next;
                }
            }
        }
        out
    }

    #[test]
    fn files_polars_writes_pass_and_their_headers_read_as_written() {
        let (bytes, meta) = written();
        check(&bytes, &meta, None).unwrap();
        let hs = headers(&bytes, &meta);
        assert!(hs.len() > 8, "several pages a column chunk: {}", hs.len());
        let data: i64 = hs.iter().filter_map(|(_, h)| h.v1_values).map(i64::from).sum();
        assert_eq!(data, 4 * 300, "every value of every column");
        assert!(hs.iter().any(|(_, h)| h.dict_values.is_some()));
    }

    /// A zigzag varint.
    fn zigzag(v: i32, out: &mut Vec<u8>) {
        let mut z = ((v << 1) ^ (v >> 31)) as u32;
        while z >= 0x80 {
            out.push((z & 0x7f) as u8 | 0x80);
            z >>= 7;
        }
        out.push(z as u8);
    }

    /// A column chunk of one v2 data page of 16 bytes: its header (`PageHeader` with
    /// `data_page_header_v2` of `counts`: values, nulls, rows, encoding, definition and
    /// repetition level lengths), then the page.
    fn v2_chunk(counts: [i32; 6]) -> Vec<u8> {
        let mut b = Vec::new();
        for v in [3, 16, 16] {
            b.push(0x15);
            zigzag(v, &mut b);
        }
        b.push(0x5c);
        for v in counts {
            b.push(0x15);
            zigzag(v, &mut b);
        }
        b.extend([0, 0]);
        b.extend([0; 16]);
        b
    }

    #[test]
    fn a_v2_data_page_is_checked_by_its_counts() {
        check_pages(&v2_chunk([10, 2, 10, 0, 2, 0]), 10, 1000).unwrap();
        for (counts, says) in [
            ([-1, 0, 0, 0, 0, 0], "claims -1 for `num_values`"),
            ([10, -3, 10, 0, 2, 0], "claims -3 for `num_nulls`"),
            ([10, 2, 10, 0, 2, -1], "claims -1 for `repetition_levels_byte_length`"),
            ([10, 11, 10, 0, 2, 0], "11 nulls"),
            ([11, 0, 11, 0, 2, 0], "more than the 10"),
            ([10, 2, 10, 0, 17, 0], "levels claim 17 bytes"),
        ] {
            let (at, err) = check_pages(&v2_chunk(counts), 10, 1000).unwrap_err();
            assert_eq!(at, 0);
            assert!(err.contains(says), "{counts:?}: {err}");
        }
        // A header without its required counts is not read.
        let mut b = v2_chunk([10, 2, 10, 0, 2, 0]);
        b.truncate(6);
        b.extend([0x5c, 0x15, 0x14, 0, 0]);
        assert!(check_pages(&b, 10, 1000).unwrap_err().1.contains("cannot be read"));
    }

    /// Writes `v` as a zigzag varint of exactly as many bytes as the one at `at`.
    fn patch_i32(bytes: &mut [u8], at: usize, v: i32) -> bool {
        let len = bytes[at..].iter().position(|b| b & 0x80 == 0).unwrap() + 1;
        let mut z = ((v << 1) ^ (v >> 31)) as u32 as u64;
        for i in 0..len {
            let last = i + 1 == len;
            bytes[at + i] = (z & 0x7f) as u8 | if last { 0 } else { 0x80 };
            z >>= 7;
        }
        z == 0
    }

    /// The offset of the `num_values` varint of the data page header (v1) at `page`.
    fn v1_num_values_at(bytes: &[u8], page: usize) -> usize {
        // PageHeader: type, sizes (maybe crc), then field 5: DataPageHeader, whose first
        // field is num_values (as polars writes them, each with a one-byte field header).
        let mut t = Thrift {
            buf: bytes,
            pos: page,
            depth: 0,
            pending: None,
        };
        let mut last = 0;
        while let Some((ty, id)) = t.field(&mut last).unwrap() {
            if id == 5 {
                let mut inner = 0;
                let (_, first) = t.field(&mut inner).unwrap().unwrap();
                assert_eq!(first, 1);
                return t.pos;
            }
            t.skip(ty).unwrap();
        }
        panic!("no data page header at {page}");
    }

    #[test]
    fn a_negative_or_too_large_value_count_is_refused() {
        let (bytes, meta) = written();
        // A data page whose count takes two bytes (from 64 to 8,191 values).
        let (page, at) = headers(&bytes, &meta)
            .into_iter()
            .filter(|(_, h)| h.v1_values.is_some_and(|v| v >= 64))
            .map(|(page, _)| (page, v1_num_values_at(&bytes, page)))
            .next()
            .unwrap();
        for (v, says) in [(-7, "claims -7 for `num_values`"), (8_000, "more than the")] {
            let mut b = bytes.clone();
            assert!(patch_i32(&mut b, at, v));
            let err = check(&b, &meta, None).unwrap_err();
            assert!(err.contains(says), "{v}: {err}");
            assert!(err.contains(&format!("the page at byte {page}")), "{err}");
        }
    }

    /// No byte of a page, changed to any of a few values, makes the check panic.
    #[test]
    fn the_check_never_panics_on_a_corrupt_page() {
        let (bytes, meta) = written();
        let first = meta.row_groups[0].parquet_columns()[0]
            .dictionary_page_offset()
            .unwrap_or(4) as usize;
        for at in first..bytes.len() - 8 - 64 {
            for v in [0x00, 0x0c, 0x15, 0x7f, 0x80, 0xff] {
                let mut b = bytes.clone();
                b[at] = v;
                let _ = check(&b, &meta, None);
            }
        }
    }
}
