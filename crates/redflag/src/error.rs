//! The one error type of the library.

use std::path::PathBuf;

/// A place in a rule pack or a mapping file: file, line and column (1-based).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Location {
    /// The file, as the user named it.
    pub file: PathBuf,
    /// 1-based line, 0 when unknown.
    pub line: usize,
    /// 1-based column, 0 when unknown.
    pub column: usize,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.file.display())?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
            if self.column > 0 {
                write!(f, ":{}", self.column)?;
            }
        }
        Ok(())
    }
}

/// One problem found while checking a rule pack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackProblem {
    /// Where it is.
    pub location: Location,
    /// The rule it belongs to, when it belongs to one.
    pub rule_id: Option<String>,
    /// The field (`rules[3].window`, `params.reporting_threshold`).
    pub field: String,
    /// What is wrong, with a hint how to fix it.
    pub message: String,
}

impl std::fmt::Display for PackProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: ", self.location)?;
        if let Some(id) = &self.rule_id {
            write!(f, "rule {id}: ")?;
        }
        if !self.field.is_empty() {
            write!(f, "field `{}`: ", self.field)?;
        }
        write!(f, "{}", self.message)
    }
}

/// Everything that can go wrong. Every variant names what the user touched.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read or written.
    #[error("{path}: {action}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What was being done (`reading`, `writing`, `creating the output folder`).
        action: &'static str,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The rule pack has problems; all of them are listed.
    #[error("{} problem(s) in rule pack {}:\n{}", problems.len(), file.display(), problems.iter().map(|p| format!("  {p}")).collect::<Vec<_>>().join("\n"))]
    Pack {
        /// The pack file.
        file: PathBuf,
        /// Every problem found.
        problems: Vec<PackProblem>,
    },
    /// A weights file (`--weights`) has problems; all of them are listed.
    #[error("{} problem(s) in weights file {}:\n{}", problems.len(), file.display(), problems.iter().map(|p| format!("  {p}")).collect::<Vec<_>>().join("\n"))]
    Weights {
        /// The weights file.
        file: PathBuf,
        /// Every problem found.
        problems: Vec<PackProblem>,
    },
    /// An input file cannot be screened as a whole.
    #[error("{path}: {message}")]
    Input {
        /// The file.
        path: PathBuf,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// A required column is missing from an input.
    #[error("{path}: required column `{column}` is missing{hint}; the file has: {}", available.join(", "))]
    MissingColumn {
        /// The file.
        path: PathBuf,
        /// The canonical column that is needed.
        column: String,
        /// The source columns the file has.
        available: Vec<String>,
        /// Extra words ("(mapped from `Amount`)").
        hint: String,
    },
    /// A mapping file is wrong.
    #[error("{location}: {message}")]
    Mapping {
        /// Where.
        location: Location,
        /// What is wrong.
        message: String,
    },
    /// An FX rate table is wrong.
    #[error("{path}: line {line}: {message}")]
    Fx {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A parameter override, a list binding or a rule selection is wrong.
    #[error("{what} `{value}`: {message}")]
    Override {
        /// `parameter override`, `list binding`, `rule selection`, `preset` or
        /// `parameter sweep`.
        what: &'static str,
        /// What the user wrote.
        value: String,
        /// What is wrong.
        message: String,
    },
    /// A partition folder or shard output that cannot be used as it is.
    #[error("{}: {message}", path.display())]
    Shard {
        /// The folder or file.
        path: PathBuf,
        /// What is wrong, and what to do.
        message: String,
    },
    /// Strict mode was asked for and rows were quarantined.
    #[error("{count} row(s) could not be screened and strict mode is on; first: {first}; without strict mode, quarantine.csv lists every reason")]
    Strict {
        /// How many rows.
        count: u64,
        /// The first reason, with file and row.
        first: String,
    },
    /// The output folder holds an input under the name of a file the run writes.
    #[error("{}: the output folder would overwrite this input; choose another output folder", path.display())]
    OutputOverInput {
        /// The input.
        path: PathBuf,
    },
    /// Two packs of one run hold a rule with the same id.
    #[error(
        "rule {rule_id} is in pack {first} and in pack {second}; rule ids must be unique across the packs of a run"
    )]
    PackMerge {
        /// The rule id.
        rule_id: String,
        /// The pack (or packs, joined with `+`) merged so far.
        first: String,
        /// The pack being merged.
        second: String,
    },
    /// A rule failed while it ran.
    #[error("rule {rule_id}: {message}")]
    Rule {
        /// The rule.
        rule_id: String,
        /// What went wrong.
        message: String,
    },
    /// A rule failed on the data while it ran; the data engine's error is the cause.
    #[error("rule {rule_id}: {context}")]
    RuleData {
        /// The rule.
        rule_id: String,
        /// What the rule was doing (`evaluating \`threshold\``).
        context: String,
        /// The cause.
        #[source]
        source: polars::error::PolarsError,
    },
    /// A reference list is wrong.
    #[error("list `{name}` ({}): {message}", path.display())]
    List {
        /// The list name.
        name: String,
        /// Its file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The data engine failed; the context says where.
    #[error("{context}: {source}")]
    Polars {
        /// What was being done.
        context: String,
        /// The cause.
        #[source]
        source: polars::error::PolarsError,
    },
    /// A goAML configuration file is wrong, or lacks a code a draft needs.
    #[error("{location}: goAML configuration: {message}")]
    GoamlConfig {
        /// Where (line 0 when the problem is a missing entry).
        location: Location,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// A watch-list file cannot be read as a list: the file and the line (and the XML
    /// element, the CSV column) where it goes wrong.
    #[error("{}: {place}: {message}", path.display())]
    WatchList {
        /// The file.
        path: PathBuf,
        /// Where in it: `line 12, column 5, element <INDIVIDUAL>`, `line 1 (header)`.
        place: String,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// An output file cannot be written where it should go (a folder or a link in its
    /// place, a name that would leave the output folder, two files of one name).
    #[error("{}: {message}", path.display())]
    Output {
        /// The file (or folder) in the output folder.
        path: PathBuf,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// The run was cancelled through its [`crate::Cancel`] flag (a Ctrl-C); nothing was
    /// written.
    #[error("the run was cancelled before it finished; nothing was written")]
    Cancelled,
    /// A report could not be rendered from saved results.
    #[error("{path}: {message}")]
    Results {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Adds context to polars errors.
pub(crate) trait PolarsContext<T> {
    fn ctx(self, context: impl FnOnce() -> String) -> Result<T>;
}

impl<T> PolarsContext<T> for polars::error::PolarsResult<T> {
    fn ctx(self, context: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|source| Error::Polars {
            context: context(),
            source,
        })
    }
}

/// Adds a rule's id and what it was doing to polars errors.
pub(crate) trait RuleContext<T> {
    fn rule_ctx(self, rule_id: &str, context: impl FnOnce() -> String) -> Result<T>;
}

impl<T> RuleContext<T> for polars::error::PolarsResult<T> {
    fn rule_ctx(self, rule_id: &str, context: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|source| Error::RuleData {
            rule_id: rule_id.to_string(),
            context: context(),
            source,
        })
    }
}

/// The closest of `candidates` to `word`, when one is close enough to be a likely typo.
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lw = word.to_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(&lw, &c.to_lowercase()), c))
        .filter(|(s, _)| *s >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0).then_with(|| b.1.cmp(a.1)))
        .map(|(_, c)| c)
}

/// `"; did you mean `x`?"` or nothing.
pub(crate) fn suggestion<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    match did_you_mean(word, candidates) {
        Some(c) => format!("; did you mean `{c}`?"),
        None => String::new(),
    }
}

/// The field an "unknown field" message names.
pub(crate) fn unknown_field_in(msg: &str) -> Option<String> {
    let start = msg.find("unknown field `")? + "unknown field `".len();
    let end = msg[start..].find('`')?;
    Some(msg[start..start + end].to_string())
}

/// A serde message made helpful: an unknown field gets its near name and the known
/// ones (`fields`), an unknown variant its near name.
pub(crate) fn improve_serde_message(msg: &str, fields: &[&str]) -> String {
    let msg = msg.trim().to_string();
    if let Some(f) = unknown_field_in(&msg) {
        return format!(
            "unknown field `{f}`{}; known fields: {}",
            suggestion(&f, fields.iter().copied()),
            fields.join(", ")
        );
    }
    if msg.contains("unknown variant") {
        if let Some(v) = unknown_variant_in(&msg) {
            let options: Vec<&str> = ["low", "medium", "high", "critical", "in", "out", "both"]
                .into_iter()
                .collect();
            if let Some(s) = did_you_mean(&v, options) {
                return format!("{msg}; did you mean `{s}`?");
            }
        }
    }
    msg
}

fn unknown_variant_in(msg: &str) -> Option<String> {
    let start = msg.find("unknown variant `")? + "unknown variant `".len();
    let end = msg[start..].find('`')?;
    Some(msg[start..start + end].to_string())
}
