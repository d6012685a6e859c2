//! A run's set-up as a user gives it — the CLI's flags, the Python package's arguments —
//! assembled the one way: the packs merged, parameters overridden, lists bound, rules
//! selected; the mapping and the FX table for reading the inputs.

use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::ingest::{FxTable, IngestOptions, Mapping};
use crate::model::ParamOverride;
use crate::pack::{ListSource, Pack};

/// What a screen or evaluate run is made of, as written by the user.
#[derive(Debug, Clone, Default)]
pub struct RunSpec {
    /// Rule packs (YAML or TOML), run one after the other; none: the built-in pack.
    pub packs: Vec<PathBuf>,
    /// Parameter overrides as written: `NAME=VALUE` (pack-wide) or `RULE.NAME=VALUE`.
    pub sets: Vec<String>,
    /// Lists bound by name: a file, or values.
    pub lists: Vec<(String, ListSource)>,
    /// Only these rules (ids or aliases); empty: all of them.
    pub only: Vec<String>,
    /// A mapping preset (`canonical`, `amlworld`).
    pub preset: Option<String>,
    /// A mapping file, for any other layout.
    pub mapping: Option<PathBuf>,
    /// FX rates into the base currency.
    pub fx: Option<PathBuf>,
    /// Worker threads (`None`: the machine's cores).
    pub threads: Option<usize>,
    /// A weights file laid over the pack: per-rule factors of the case score
    /// ([`Pack::with_weights`], docs/cases.md).
    pub weights: Option<PathBuf>,
}

impl RunSpec {
    /// The pack of the run: the packs loaded and merged (the built-in one when none is
    /// named), the overrides and bindings applied, then the rule selection.
    pub fn pack(&self) -> Result<Pack> {
        let packs: Vec<Pack> = self.packs.iter().map(Pack::load).collect::<Result<_>>()?;
        self.apply(Pack::merge(packs)?)
    }

    /// A pack loaded beforehand with this spec's overrides, bindings, weights and rule
    /// selection applied (`packs` is not read).
    pub fn apply(&self, pack: Pack) -> Result<Pack> {
        let sets: Vec<ParamOverride> = self.sets.iter().map(|s| s.parse()).collect::<Result<_>>()?;
        let mut pack = pack.with_bindings(&sets, &self.lists)?;
        if let Some(w) = &self.weights {
            pack = pack.with_weights(w)?;
        }
        if !self.only.is_empty() {
            pack = pack.only(&self.only)?;
        }
        Ok(pack)
    }

    /// The mapping the inputs are read with: the preset, else the mapping file, else the
    /// canonical layout. A preset and a file together are an error.
    pub fn mapping(&self) -> Result<Mapping> {
        match (&self.preset, &self.mapping) {
            (Some(p), Some(m)) => Err(Error::Override {
                what: "preset",
                value: p.clone(),
                message: format!(
                    "a preset and a mapping file ({}) were both given; give one of them",
                    m.display()
                ),
            }),
            (Some(p), None) => Mapping::preset(p),
            (None, Some(m)) => Mapping::load(m),
            (None, None) => Mapping::preset("canonical"),
        }
    }

    /// How the inputs are read for `pack`: its mapping, the FX table loaded, the pack's
    /// base currency, the thread count, and only the columns the pack reads.
    pub fn ingest_options(&self, pack: &Pack) -> Result<IngestOptions> {
        Ok(IngestOptions {
            mapping: Some(self.mapping()?),
            fx: self.fx.as_ref().map(FxTable::load).transpose()?,
            base_currency: pack.base_currency.clone(),
            threads: self.threads,
            columns: Some(crate::run::columns_read(pack)),
        })
    }
}
