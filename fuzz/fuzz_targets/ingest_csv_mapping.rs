//! CSV ingest through a mapping (a preset or a mapping file): the first byte chooses the
//! mapping, the rest is the file. No panic, rows read = screened + quarantined, an error
//! names the file; what ingests, screens.
#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use redflag::Mapping;
use redflag_fuzz::{check_ingest, check_screen, file, ingest_options};

/// A bank statement in Windows-1251: `;`, decimal comma, thousands by space, a debit or
/// credit column, a date format, value maps.
const STATEMENT: &str = r#"
name: statement
encoding: windows-1251
delimiter: ";"
decimal_comma: true
thousands_separator: " "
columns:
  ts: { from: "Дата", format: "%d.%m.%Y %H:%M" }
  amount: "Сумма"
  orig_account: "Счёт"
  bene_account: "Корр"
  currency: { value: RUB }
  channel: { from: "Type", values: { "Cash deposit": cash_in, "SWIFT": wire }, other: other }
direction:
  column: "Д/К"
  credit: ["К", "C"]
"#;

/// No header, signed amounts, columns by position.
const SIGNED: &str = r#"
name: signed
has_header: false
delimiter: "|"
columns:
  txn_id: column_1
  ts: column_2
  amount: column_3
  currency: column_4
  orig_account: column_5
  bene_account: column_6
direction:
  signed_amount: true
passthrough: false
"#;

fn mappings() -> &'static [Mapping] {
    static M: OnceLock<Vec<Mapping>> = OnceLock::new();
    M.get_or_init(|| {
        vec![
            Mapping::preset("canonical").expect("preset"),
            Mapping::preset("amlworld").expect("preset"),
            Mapping::parse(STATEMENT, Path::new("statement.yaml")).expect("statement mapping"),
            Mapping::parse(SIGNED, Path::new("signed.yaml")).expect("signed mapping"),
        ]
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let ms = mappings();
    let mapping = ms[pick as usize % ms.len()].clone();
    let path = file("mapped.csv", rest);
    if let Some(ds) = check_ingest(&path, &ingest_options(Some(mapping))) {
        check_screen(&ds);
    }
});
