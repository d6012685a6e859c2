//! Text columns read from their dictionary pages straight into codes.
//!
//! Parquet writers store a text column of repeated values (a channel, a country, the
//! name on an account's payments) as a dictionary page per column chunk and, for each row,
//! an index into it. Read as polars text, each row becomes a 16-byte view, which the
//! encoding into the compact type (`schema::compact`) then looks up again. Here each
//! dictionary value is coded once, and each row's index mapped through that table: four
//! bytes a row, no text per row. A column chunk whose data pages are not all
//! dictionary-coded (writers fall back to plain pages when a dictionary grows too large)
//! is read as text and encoded as `schema::compact` encodes it.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::ops::Range;

use polars::io::parquet::read::_internal::to_deserializer;
use polars::io::parquet::read::FileMetadata;
use polars::prelude::*;
use polars_arrow::array::{DictionaryArray, Utf8ViewArray};
use polars_arrow::bitmap::Bitmap;
use polars_arrow::datatypes::{ArrowDataType, Field};
use polars_buffer::Buffer;
use polars_parquet::read::{ColumnChunkMetadata, Filter};

use super::super::finish::blanks_as_missing;
use super::super::map::CodedColumn;
use crate::schema;

/// Rows `rows` of the text column `column` of the Parquet file `file`, whose metadata is
/// `meta`, as a column of the compact type.
pub(super) fn read_coded(
    file: &mut File,
    meta: &FileMetadata,
    column: &CodedColumn,
    rows: Range<usize>,
) -> PolarsResult<Column> {
    let to = schema::compact_dtype();
    let mut out = Column::new_empty(column.name.as_str().into(), &to);
    for (group, within) in groups_over(meta, rows) {
        let chunk = column_chunk(meta, group, &column.name)?;
        let bytes = chunk_bytes(file, chunk)?;
        let whole = within.start == 0 && within.end == meta.row_groups[group].num_rows();
        let filter = (!whole).then(|| Filter::Range(within));
        let part = match from_dictionary(chunk, bytes.clone(), filter.clone(), column, &to) {
            Ok(part) => part,
            // Pages that are not all dictionary-coded: read as text.
            Err(_) => from_text(chunk, bytes, filter, column, &to)?,
        };
        out.append_owned(part)?;
    }
    Ok(out)
}

/// The row groups that rows `rows` of the file lie in, each with the range of its own
/// rows they cover.
fn groups_over(meta: &FileMetadata, rows: Range<usize>) -> Vec<(usize, Range<usize>)> {
    let mut start = 0;
    let mut groups = Vec::new();
    for (g, group) in meta.row_groups.iter().enumerate() {
        let end = start + group.num_rows();
        let (from, to) = (rows.start.max(start), rows.end.min(end));
        if from < to {
            groups.push((g, from - start..to - start));
        }
        start = end;
    }
    groups
}

/// The chunk of column `name` in row group `group`: one, for a column that is not nested.
fn column_chunk<'m>(meta: &'m FileMetadata, group: usize, name: &str) -> PolarsResult<&'m ColumnChunkMetadata> {
    let mut chunks = meta.row_groups[group]
        .columns_under_root_iter(name)
        .ok_or_else(|| polars_err!(ColumnNotFound: "row group {group} has no column `{name}`"))?;
    match (chunks.next(), chunks.next()) {
        (Some(chunk), None) => Ok(chunk),
        _ => polars_bail!(ComputeError: "column `{name}` is nested, not text"),
    }
}

/// The bytes of a column chunk (its place in the file was checked against the file when
/// the file was opened: `pages::check_file`).
fn chunk_bytes(file: &mut File, chunk: &ColumnChunkMetadata) -> PolarsResult<Buffer<u8>> {
    let range = chunk.byte_range();
    let len = usize::try_from(range.end - range.start)
        .map_err(|_| polars_err!(ComputeError: "a column chunk larger than memory"))?;
    let mut bytes = vec![0u8; len];
    file.seek(SeekFrom::Start(range.start))?;
    file.read_exact(&mut bytes)?;
    Ok(Buffer::from(bytes))
}

/// In a chunk's table of codes: a dictionary value no row has named yet.
const UNSET: u32 = u32::MAX;
/// In a chunk's table of codes, and its rows' codes: no value (missing, or empty in a key
/// column). No code of the global categories reaches it: they would not fit in memory.
const MISSING: u32 = u32::MAX - 1;

/// A chunk whose data pages are all dictionary-coded, as codes: each dictionary value
/// coded once, each row's index mapped through them. An error for any other chunk.
fn from_dictionary(
    chunk: &ColumnChunkMetadata,
    bytes: Buffer<u8>,
    filter: Option<Filter>,
    column: &CodedColumn,
    to: &DataType,
) -> PolarsResult<Column> {
    let DataType::Categorical(_, mapping) = to else {
        polars_bail!(ComputeError: "the compact type {to} is not categorical");
    };
    // polars' field for its categorical type: the decoder that keeps dictionary indices.
    let field = to.to_arrow_field(column.name.as_str().into(), CompatLevel::newest());
    let (arrays, _) = to_deserializer(vec![(chunk, bytes)], field, filter)?;
    let mut codes = Vec::new();
    for array in &arrays {
        let dict = array
            .as_any()
            .downcast_ref::<DictionaryArray<u32>>()
            .ok_or_else(|| polars_err!(ComputeError: "not read as a dictionary"))?;
        let values = dict
            .values()
            .as_any()
            .downcast_ref::<Utf8ViewArray>()
            .ok_or_else(|| polars_err!(ComputeError: "a dictionary of other values than text"))?;
        // Each dictionary value coded when a row first names it.
        let mut table = vec![UNSET; values.len()];
        let mut code = |key: u32| -> PolarsResult<u32> {
            let slot = table.get_mut(key as usize).ok_or_else(
                || polars_err!(ComputeError: "the file is corrupt (an index past the end of its dictionary)"),
            )?;
            if *slot == UNSET {
                *slot = match values.get(key as usize) {
                    Some(v) if !(column.blank_is_null && v.is_empty()) => mapping.insert_cat(v)?,
                    _ => MISSING,
                };
            }
            Ok(*slot)
        };
        let keys = dict.keys();
        codes.reserve(keys.len());
        match keys.validity() {
            None => {
                for &key in keys.values().iter() {
                    codes.push(code(key)?);
                }
            }
            Some(valid) => {
                for (&key, is_valid) in keys.values().iter().zip(valid.iter()) {
                    codes.push(if is_valid { code(key)? } else { MISSING });
                }
            }
        }
    }
    let validity = codes.contains(&MISSING).then(|| {
        let validity: Bitmap = codes.iter().map(|&c| c != MISSING).collect();
        codes.iter_mut().filter(|c| **c == MISSING).for_each(|c| *c = 0);
        validity
    });
    Ok(schema::coded_column(column.name.as_str().into(), codes, validity, to))
}

/// A chunk read as text, then encoded.
fn from_text(
    chunk: &ColumnChunkMetadata,
    bytes: Buffer<u8>,
    filter: Option<Filter>,
    column: &CodedColumn,
    to: &DataType,
) -> PolarsResult<Column> {
    let field = Field::new(column.name.as_str().into(), ArrowDataType::Utf8View, true);
    let (arrays, _) = to_deserializer(vec![(chunk, bytes)], field, filter)?;
    let series = Series::from_arrow_chunks(column.name.as_str().into(), arrays)?;
    let text = series.str()?;
    match column.blank_is_null.then(|| blanks_as_missing(text)).flatten() {
        Some(cleaned) => schema::encode_column(&cleaned, to),
        None => schema::encode_column(text, to),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::{Dataset, IngestOptions};

    /// A frame whose text columns a Parquet writer stores as dictionaries (few values,
    /// some empty, some missing), as plain pages (a value per row) and both (a dictionary
    /// in the first row groups, a value per row after).
    fn frame(n: usize) -> DataFrame {
        let pick = |i: usize, of: &[&'static str]| of[i * 7 % of.len()];
        let channel: Vec<Option<&str>> = (0..n)
            .map(|i| Some(pick(i, &["wire", "cash_in", "", "card"])).filter(|_| i % 11 != 3))
            .collect();
        let narrative: Vec<Option<&str>> = (0..n)
            .map(|i| Some(pick(i, &["rent", "", "gift", "loan"])).filter(|_| i % 13 != 5))
            .collect();
        let orig_name: Vec<String> = (0..n).map(|i| format!("customer number {i}")).collect();
        let bene_name: Vec<String> = (0..n)
            .map(|i| match i < n / 2 {
                true => pick(i, &["ACME LTD", "Globex", ""]).to_string(),
                false => format!("payee {i}"),
            })
            .collect();
        df!(
            "txn_id" => (0..n).map(|i| format!("t{i}")).collect::<Vec<_>>(),
            "ts" => (0..n).map(|i| format!("2026-01-{:02} 10:00:00", 1 + i % 28)).collect::<Vec<_>>(),
            "amount" => (0..n).map(|i| 10.0 + i as f64).collect::<Vec<_>>(),
            "orig_account" => (0..n).map(|i| format!("A{}", i % 50)).collect::<Vec<_>>(),
            "bene_account" => (0..n).map(|i| format!("B{}", i % 70)).collect::<Vec<_>>(),
            "channel" => channel,
            "narrative" => narrative,
            "orig_name" => orig_name,
            "bene_name" => bene_name,
        )
        .unwrap()
    }

    /// The same rows read from Parquet, their text columns as codes, and handed over as
    /// a frame (text encoded by `schema::compact`), give the same transactions, whatever
    /// the batches (which here cut row groups in the middle).
    #[test]
    fn text_read_as_codes_equals_text_encoded() {
        let n = 5000;
        let mut df = frame(n);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.parquet");
        ParquetWriter::new(std::fs::File::create(&path).unwrap())
            .with_row_group_size(Some(1200))
            .finish(&mut df)
            .unwrap();
        let opts = IngestOptions::default();
        let expected = schema::as_text(Dataset::from_frame(df, "t", &opts).unwrap().transactions).unwrap();
        let mapping = crate::ingest::input_mapping(&opts);
        let raw = crate::ingest::read_file(&path, &mapping, &Default::default()).unwrap();
        let coded: Vec<&str> = raw
            .parquet
            .as_ref()
            .unwrap()
            .coded
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(coded, ["channel", "narrative", "orig_name", "bene_name"]);
        for batch in [700, 1200, n] {
            let raw = crate::ingest::read_file(&path, &mapping, &Default::default()).unwrap();
            let mut read = Some(raw);
            let mut next = |_| Ok(read.take().unwrap());
            let got = crate::ingest::finish::finish_inputs_in(1, &mut next, &mapping, &opts, batch).unwrap();
            let got = schema::as_text(got.transactions).unwrap();
            assert!(got.equals_missing(&expected), "batch {batch}: {got:?}\n{expected:?}");
        }
    }

    /// Which chunks are read from their dictionary: all of a column of few values, none
    /// of a column of a value per row, the first of a column that changes.
    #[test]
    fn chunks_not_all_dictionary_coded_are_refused() {
        let mut df = frame(4800);
        let mut buf = Vec::new();
        ParquetWriter::new(&mut buf)
            .with_row_group_size(Some(1200))
            .finish(&mut df)
            .unwrap();
        let meta = polars_parquet::read::read_metadata(&mut std::io::Cursor::new(&buf)).unwrap();
        let to = schema::compact_dtype();
        let dictionary_coded = |name: &str| -> Vec<bool> {
            (0..meta.row_groups.len())
                .map(|g| {
                    let chunk = column_chunk(&meta, g, name).unwrap();
                    let r = chunk.byte_range();
                    let bytes = Buffer::from(buf[r.start as usize..r.end as usize].to_vec());
                    let column = CodedColumn {
                        name: name.into(),
                        blank_is_null: false,
                    };
                    from_dictionary(chunk, bytes, None, &column, &to).is_ok()
                })
                .collect()
        };
        assert_eq!(dictionary_coded("channel"), [true; 4]);
        assert_eq!(dictionary_coded("orig_name"), [false; 4]);
        assert_eq!(dictionary_coded("bene_name"), [true, true, false, false]);
    }
}
