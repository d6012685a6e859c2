//! Rule packs: loading, validation, parameters, lists and overrides.
//!
//! A pack is a YAML file (TOML accepted) as described in docs/packs.md. Loading checks
//! everything at once and reports every problem with its file, line, column, rule id
//! and field, and the near name where a name is unknown.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{improve_serde_message, suggestion, unknown_field_in, Error, Location, PackProblem, Result};
use crate::model::{
    clause_problem, explain_without, matches_any, placeholders, Dropped, ParamOverride, ParamValue, RefList, Rule,
    RuleDef, ScoreWeights, TYPOLOGIES,
};
use crate::schema;
use crate::util::hash::sha256_hex;

/// The default pack's source, built into the library with its lists.
const BUILTIN_PACK: &str = include_str!("../../../rules/fatf-core.yaml");
const BUILTIN_PACK_NAME: &str = "rules/fatf-core.yaml";
/// The default pack's lists, by path relative to the pack.
const BUILTIN_LISTS: &[(&str, &str)] = &[
    (
        "lists/lexicons/donation-ar.txt",
        include_str!("../../../rules/lists/lexicons/donation-ar.txt"),
    ),
    (
        "lists/lexicons/donation-en.txt",
        include_str!("../../../rules/lists/lexicons/donation-en.txt"),
    ),
    (
        "lists/lexicons/donation-kk.txt",
        include_str!("../../../rules/lists/lexicons/donation-kk.txt"),
    ),
    (
        "lists/lexicons/donation-ky.txt",
        include_str!("../../../rules/lists/lexicons/donation-ky.txt"),
    ),
    (
        "lists/lexicons/donation-ru.txt",
        include_str!("../../../rules/lists/lexicons/donation-ru.txt"),
    ),
    (
        "lists/lexicons/donation-tr.txt",
        include_str!("../../../rules/lists/lexicons/donation-tr.txt"),
    ),
    (
        "lists/lexicons/donation-uz.txt",
        include_str!("../../../rules/lists/lexicons/donation-uz.txt"),
    ),
    (
        "lists/lexicons/drg-ar.txt",
        include_str!("../../../rules/lists/lexicons/drg-ar.txt"),
    ),
    (
        "lists/lexicons/drg-en.txt",
        include_str!("../../../rules/lists/lexicons/drg-en.txt"),
    ),
    (
        "lists/lexicons/drg-kk.txt",
        include_str!("../../../rules/lists/lexicons/drg-kk.txt"),
    ),
    (
        "lists/lexicons/drg-ky.txt",
        include_str!("../../../rules/lists/lexicons/drg-ky.txt"),
    ),
    (
        "lists/lexicons/drg-ru.txt",
        include_str!("../../../rules/lists/lexicons/drg-ru.txt"),
    ),
    (
        "lists/lexicons/drg-tr.txt",
        include_str!("../../../rules/lists/lexicons/drg-tr.txt"),
    ),
    (
        "lists/lexicons/drg-uz.txt",
        include_str!("../../../rules/lists/lexicons/drg-uz.txt"),
    ),
    (
        "lists/lexicons/ht-ar.txt",
        include_str!("../../../rules/lists/lexicons/ht-ar.txt"),
    ),
    (
        "lists/lexicons/ht-en.txt",
        include_str!("../../../rules/lists/lexicons/ht-en.txt"),
    ),
    (
        "lists/lexicons/ht-kk.txt",
        include_str!("../../../rules/lists/lexicons/ht-kk.txt"),
    ),
    (
        "lists/lexicons/ht-ky.txt",
        include_str!("../../../rules/lists/lexicons/ht-ky.txt"),
    ),
    (
        "lists/lexicons/ht-ru.txt",
        include_str!("../../../rules/lists/lexicons/ht-ru.txt"),
    ),
    (
        "lists/lexicons/ht-tr.txt",
        include_str!("../../../rules/lists/lexicons/ht-tr.txt"),
    ),
    (
        "lists/lexicons/ht-uz.txt",
        include_str!("../../../rules/lists/lexicons/ht-uz.txt"),
    ),
    (
        "lists/lexicons/tf-ar.txt",
        include_str!("../../../rules/lists/lexicons/tf-ar.txt"),
    ),
    (
        "lists/lexicons/tf-en.txt",
        include_str!("../../../rules/lists/lexicons/tf-en.txt"),
    ),
    (
        "lists/lexicons/tf-kk.txt",
        include_str!("../../../rules/lists/lexicons/tf-kk.txt"),
    ),
    (
        "lists/lexicons/tf-ky.txt",
        include_str!("../../../rules/lists/lexicons/tf-ky.txt"),
    ),
    (
        "lists/lexicons/tf-ru.txt",
        include_str!("../../../rules/lists/lexicons/tf-ru.txt"),
    ),
    (
        "lists/lexicons/tf-tr.txt",
        include_str!("../../../rules/lists/lexicons/tf-tr.txt"),
    ),
    (
        "lists/lexicons/tf-uz.txt",
        include_str!("../../../rules/lists/lexicons/tf-uz.txt"),
    ),
    (
        "lists/northern-route.txt",
        include_str!("../../../rules/lists/northern-route.txt"),
    ),
    (
        "lists/low-income-occupations.txt",
        include_str!("../../../rules/lists/low-income-occupations.txt"),
    ),
    (
        "lists/fatf-call-for-action.txt",
        include_str!("../../../rules/lists/fatf-call-for-action.txt"),
    ),
    (
        "lists/fatf-increased-monitoring.txt",
        include_str!("../../../rules/lists/fatf-increased-monitoring.txt"),
    ),
    (
        "lists/conflict-zones.txt",
        include_str!("../../../rules/lists/conflict-zones.txt"),
    ),
    (
        "lists/conflict-border-regions.txt",
        include_str!("../../../rules/lists/conflict-border-regions.txt"),
    ),
    (
        "lists/unknown-country-codes.txt",
        include_str!("../../../rules/lists/unknown-country-codes.txt"),
    ),
    (
        "lists/cash-intensive-customer-types.txt",
        include_str!("../../../rules/lists/cash-intensive-customer-types.txt"),
    ),
    (
        "lists/placeholder-names.txt",
        include_str!("../../../rules/lists/placeholder-names.txt"),
    ),
    (
        "lists/embargoed.txt",
        include_str!("../../../rules/lists/embargoed.txt"),
    ),
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PackFile {
    pack: String,
    version: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default = "default_base")]
    base_currency: String,
    #[serde(default)]
    params: BTreeMap<String, ParamValue>,
    #[serde(default)]
    lists: BTreeMap<String, ListFiles>,
    #[serde(default)]
    rules: Vec<serde_yaml_ng::Value>,
}

/// A list's file, or several files read as one list (such as a lexicon in several
/// languages).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum ListFiles {
    One(String),
    Many(Vec<String>),
}

impl ListFiles {
    fn paths(&self) -> Vec<&str> {
        match self {
            ListFiles::One(p) => vec![p.as_str()],
            ListFiles::Many(v) => v.iter().map(String::as_str).collect(),
        }
    }
}

fn default_base() -> String {
    "USD".into()
}

/// A checked rule pack.
#[derive(Debug, Clone)]
pub struct Pack {
    /// The pack id.
    pub id: String,
    /// Its version.
    pub version: String,
    /// One line.
    pub title: String,
    /// Longer text.
    pub description: String,
    /// The currency of `amount_base`.
    pub base_currency: String,
    /// Where it came from (a path, or `builtin:rules/fatf-core.yaml`).
    pub source: String,
    /// sha256 of the pack file's bytes.
    pub sha256: String,
    /// Pack-wide parameters in force.
    pub params: BTreeMap<String, ParamValue>,
    /// Lists, by name.
    pub lists: BTreeMap<String, RefList>,
    /// The rules, in pack order.
    pub rules: Vec<Rule>,
    /// Watch lists bound for `watchlist` rules, by name (`--list NAME=PATH` with a UN
    /// XML, OpenSanctions or plain watch-list CSV file).
    pub watch_lists: BTreeMap<String, std::sync::Arc<crate::watchlist::WatchList>>,
    /// Score weights laid over the pack ([`Pack::with_weights`], `--weights`); `None`:
    /// the score without weights.
    pub weights: Option<std::sync::Arc<ScoreWeights>>,
    /// The source text, for locating problems.
    text: String,
    file: PathBuf,
    is_toml: bool,
}

impl Pack {
    /// The default pack that ships with redflag, with its lists.
    pub fn builtin() -> Result<Pack> {
        let lists = BUILTIN_LISTS
            .iter()
            .map(|(p, t)| (p.to_string(), t.to_string()))
            .collect::<BTreeMap<_, _>>();
        Pack::parse(
            BUILTIN_PACK,
            Path::new(BUILTIN_PACK_NAME),
            &format!("builtin:{BUILTIN_PACK_NAME}"),
            false,
            |rel| {
                lists
                    .get(rel)
                    .cloned()
                    .ok_or_else(|| format!("no built-in list file `{rel}`"))
            },
        )
    }

    /// Loads a pack file (`.yaml`, `.yml` or `.toml`); lists are read relative to it.
    pub fn load(path: impl AsRef<Path>) -> Result<Pack> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            action: "reading the rule pack",
            source,
        })?;
        let text = String::from_utf8(bytes).map_err(|e| Error::Pack {
            file: path.to_path_buf(),
            problems: vec![PackProblem {
                location: Location {
                    file: path.to_path_buf(),
                    ..Default::default()
                },
                rule_id: None,
                field: String::new(),
                message: format!(
                    "not UTF-8 text (first bad byte at offset {}); save the pack as UTF-8",
                    e.utf8_error().valid_up_to()
                ),
            }],
        })?;
        let is_toml = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("toml"));
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Pack::parse(&text, path, &path.display().to_string(), is_toml, |rel| {
            let p = dir.join(rel);
            std::fs::read_to_string(&p).map_err(|e| format!("cannot read `{}`: {e}", p.display()))
        })
    }

    /// Parses a pack from text. `read_list` reads a list file by its path relative to the pack.
    pub fn parse(
        text: &str,
        file: &Path,
        source: &str,
        is_toml: bool,
        read_list: impl Fn(&str) -> std::result::Result<String, String>,
    ) -> Result<Pack> {
        let loc = |line: usize, column: usize| Location {
            file: file.to_path_buf(),
            line,
            column,
        };
        let fail = |problems: Vec<PackProblem>| Error::Pack {
            file: file.to_path_buf(),
            problems,
        };
        if text.trim().is_empty() {
            return Err(fail(vec![PackProblem {
                location: loc(0, 0),
                rule_id: None,
                field: String::new(),
                message: "the pack is empty; a pack needs `pack`, `version` and `rules`".into(),
            }]));
        }
        let parsed: std::result::Result<PackFile, (Location, String)> = if is_toml {
            toml::from_str::<PackFile>(text).map_err(|e| {
                let (line, col) = e.span().map(|s| line_col(text, s.start)).unwrap_or((0, 0));
                (loc(line, col), improve_serde_message(e.message(), PACK_FIELDS))
            })
        } else {
            serde_yaml_ng::from_str::<PackFile>(text).map_err(|e| {
                let (line, col) = e.location().map(|l| (l.line(), l.column())).unwrap_or((0, 0));
                let msg = e.to_string();
                // serde_yaml appends " at line L column C"; the location says it already.
                let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
                (loc(line, col), improve_serde_message(&msg, PACK_FIELDS))
            })
        };
        let pf = parsed.map_err(|(location, message)| {
            fail(vec![PackProblem {
                location,
                rule_id: None,
                field: String::new(),
                message,
            }])
        })?;

        let mut problems = Vec::new();
        let mut lists = BTreeMap::new();
        for (name, src) in &pf.lists {
            let mut texts = Vec::new();
            for rel in src.paths() {
                match read_list(rel) {
                    Ok(t) => texts.push(t),
                    Err(msg) => problems.push(PackProblem {
                        location: locate_key(text, None, name, is_toml, file),
                        rule_id: None,
                        field: format!("lists.{name}"),
                        message: format!("{msg}; list paths are relative to the pack file"),
                    }),
                }
            }
            if texts.len() == src.paths().len() {
                let source = src.paths().join(", ");
                lists.insert(name.clone(), RefList::parse(name, &source, &texts.join("\n")));
            }
        }
        let mut defs = Vec::new();
        for (i, v) in pf.rules.iter().enumerate() {
            let id_guess = v.get("id").and_then(|x| x.as_str()).map(str::to_string);
            match serde_yaml_ng::from_value::<RuleDef>(v.clone()) {
                Ok(d) => defs.push(d),
                Err(e) => {
                    let msg = improve_serde_message(&e.to_string(), &crate::kinds::all_fields());
                    let field = unknown_field_in(&e.to_string()).unwrap_or_default();
                    let location = match &id_guess {
                        Some(id) if !field.is_empty() => locate_key(text, Some(id), &field, is_toml, file),
                        Some(id) => locate_key(text, Some(id), "id", is_toml, file),
                        None => loc(0, 0),
                    };
                    problems.push(PackProblem {
                        location,
                        rule_id: id_guess.clone(),
                        field: if field.is_empty() {
                            format!("rules[{i}]")
                        } else {
                            format!("rules[{i}].{field}")
                        },
                        message: msg,
                    });
                }
            }
        }
        let mut pack = Pack {
            id: pf.pack,
            version: pf.version,
            title: pf.title,
            description: pf.description,
            base_currency: pf.base_currency,
            source: source.to_string(),
            sha256: sha256_hex(text.as_bytes()),
            params: pf.params,
            lists,
            rules: Vec::new(),
            watch_lists: BTreeMap::new(),
            weights: None,
            text: text.to_string(),
            file: file.to_path_buf(),
            is_toml,
        };
        let (rules, more) = pack.check_rules(&defs, &[]);
        problems.extend(more);
        if !problems.is_empty() {
            return Err(fail(problems));
        }
        pack.rules = rules;
        Ok(pack)
    }

    /// Applies parameter overrides and list bindings (`NAME=PATH`, files) and checks the
    /// pack again.
    pub fn with_overrides(&self, sets: &[ParamOverride], lists: &[(String, PathBuf)]) -> Result<Pack> {
        let bound: Vec<(String, ListSource)> = lists
            .iter()
            .map(|(n, p)| (n.clone(), ListSource::Path(p.clone())))
            .collect();
        self.with_bindings(sets, &bound)
    }

    /// Applies parameter overrides and list bindings, from files or from values, and
    /// checks the pack again.
    pub fn with_bindings(&self, sets: &[ParamOverride], lists: &[(String, ListSource)]) -> Result<Pack> {
        if sets.is_empty() && lists.is_empty() {
            // Nothing to bind: the rules were checked when the pack was read.
            return Ok(self.clone());
        }
        let mut pack = self.clone();
        for (name, source) in lists {
            self.bind_list(&mut pack, name, source)?;
        }
        let ids: Vec<&str> = self.rules.iter().map(|r| r.id()).collect();
        for s in sets {
            if let Some(r) = &s.rule {
                let rule = self.rule(r).ok_or_else(|| Error::Override {
                    what: "parameter override",
                    value: format!("{r}.{}", s.name),
                    message: format!(
                        "no rule `{r}` in pack {}{}",
                        self.id,
                        suggestion(r, ids.iter().copied())
                    ),
                })?;
                if !rule.params.contains_key(&s.name) {
                    return Err(Error::Override {
                        what: "parameter override",
                        value: format!("{r}.{}", s.name),
                        message: format!(
                            "rule {} has no parameter `{}`{}; its parameters: {}",
                            rule.id(),
                            s.name,
                            suggestion(&s.name, rule.params.keys().map(String::as_str)),
                            rule.params.keys().cloned().collect::<Vec<_>>().join(", ")
                        ),
                    });
                }
            } else if !self.params.contains_key(&s.name) {
                let rule_level: Vec<&str> = self
                    .rules
                    .iter()
                    .filter(|r| r.def.params.contains_key(&s.name))
                    .map(|r| r.id())
                    .collect();
                let hint = if rule_level.is_empty() {
                    String::new()
                } else {
                    format!(
                        "; it is a rule parameter of {}: write RULE.{}=VALUE",
                        rule_level.join(", "),
                        s.name
                    )
                };
                return Err(Error::Override {
                    what: "parameter override",
                    value: s.name.clone(),
                    message: format!(
                        "pack {} has no parameter `{}`{}{hint}; its parameters: {}",
                        self.id,
                        s.name,
                        suggestion(&s.name, self.params.keys().map(String::as_str)),
                        self.params.keys().cloned().collect::<Vec<_>>().join(", ")
                    ),
                });
            }
        }
        let mut sets = sets.to_vec();
        for s in &mut sets {
            let before = match &s.rule {
                Some(r) => self.rule(r).and_then(|rule| rule.params.get(&s.name)),
                None => self.params.get(&s.name),
            };
            if let Some(before) = before {
                s.value = same_type(s, before)?;
            }
        }
        let sets = &sets[..];
        for s in sets.iter().filter(|s| s.rule.is_none()) {
            pack.params.insert(s.name.clone(), s.value.clone());
        }
        let defs: Vec<RuleDef> = self.rules.iter().map(|r| r.def.clone()).collect();
        let (rules, problems) = pack.check_rules(&defs, sets);
        if !problems.is_empty() {
            return Err(Error::Pack {
                file: pack.file.clone(),
                problems,
            });
        }
        pack.rules = rules;
        Ok(pack)
    }

    /// Binds one list into `pack`: a file is a watch list when a `watchlist` rule reads
    /// the name or its content says so, else a reference list; values are a reference list.
    fn bind_list(&self, pack: &mut Pack, name: &str, source: &ListSource) -> Result<()> {
        let for_watchlist_rule = self
            .rules
            .iter()
            .any(|r| crate::kinds::of(r).watch_list(r) == Some(name));
        let path = match source {
            ListSource::Path(p) => p,
            ListSource::Values(values) => {
                if for_watchlist_rule {
                    return Err(Error::List {
                        name: name.to_string(),
                        path: PathBuf::from("(values)"),
                        message: "a watch list is read from a file (UN Consolidated List XML, OpenSanctions \
                                  targets.simple.csv or a watch-list CSV), not from a list of values"
                            .into(),
                    });
                }
                pack.lists
                    .insert(name.to_string(), RefList::from_values(name, "(values)", values));
                return Ok(());
            }
        };
        // A watch list (UN XML, OpenSanctions or plain watch-list CSV) is told by its
        // content; anything else is a reference list, one value a line.
        let bytes = std::fs::read(path).map_err(|source| Error::Io {
            path: path.clone(),
            action: "reading the list",
            source,
        })?;
        let looks_like_watch_list = matches!(
            crate::watchlist::detect(&bytes),
            crate::watchlist::Detected::WatchList(_) | crate::watchlist::Detected::OtherXml
        );
        if for_watchlist_rule || looks_like_watch_list {
            let wl = crate::watchlist::WatchList::parse(&bytes, path)?;
            pack.bind_watch_list(name, wl, &path.display().to_string());
        } else {
            let l = RefList::load(name, path)?;
            pack.lists.insert(name.to_string(), l);
        }
        Ok(())
    }

    /// Binds a watch list under a name for the `watchlist` rules that read it (the API's
    /// `--list NAME=PATH`).
    pub fn with_watch_list(&self, name: &str, list: crate::watchlist::WatchList) -> Pack {
        let mut pack = self.clone();
        let source = list
            .files
            .first()
            .map(|f| f.path.display().to_string())
            .unwrap_or_else(|| "api".into());
        pack.bind_watch_list(name, list, &source);
        pack
    }

    fn bind_watch_list(&mut self, name: &str, list: crate::watchlist::WatchList, source: &str) {
        // Recorded with the reference lists, so that the manifest names it with its sha256.
        let sha = if list.files.len() == 1 {
            list.files[0].sha256.clone()
        } else {
            sha256_hex(
                list.files
                    .iter()
                    .map(|f| f.sha256.as_str())
                    .collect::<Vec<_>>()
                    .join("\n")
                    .as_bytes(),
            )
        };
        self.lists.insert(
            name.to_string(),
            RefList {
                name: name.to_string(),
                source: source.to_string(),
                sha256: sha,
                values: Vec::new(),
            },
        );
        self.watch_lists.insert(name.to_string(), std::sync::Arc::new(list));
    }

    /// Keeps only the rules named (ids or aliases). A rule that screens other rules' alerts
    /// (`on_alerts_of`) keeps those rules too.
    pub fn only(&self, ids: &[String]) -> Result<Pack> {
        let mut pack = self.clone();
        let mut keep = BTreeSet::new();
        for id in ids {
            let r = self.rule(id).ok_or_else(|| Error::Override {
                what: "rule selection",
                value: id.clone(),
                message: format!(
                    "no rule `{id}` in pack {}{}",
                    self.id,
                    suggestion(id, self.rules.iter().map(|r| r.id()))
                ),
            })?;
            keep.insert(r.id().to_string());
            // A rule that screens other rules' alerts brings them along: it has nothing
            // to screen without them.
            for other in &self.rules {
                if matches_any(other.id(), &r.def.on_alerts_of) && other.id() != r.id() {
                    keep.insert(other.id().to_string());
                }
            }
        }
        pack.rules.retain(|r| keep.contains(r.id()));
        Ok(pack)
    }

    /// Several packs run as one: the first pack's rules, then each next pack's, in order;
    /// lists and pack-wide parameters of a later pack fill only names not yet bound; the id
    /// joins the ids with `+`. Rule ids must not clash. No pack: the built-in one.
    pub fn merge(packs: Vec<Pack>) -> Result<Pack> {
        let mut packs = packs.into_iter();
        let Some(mut first) = packs.next() else {
            return Pack::builtin();
        };
        let mut merged = false;
        for p in packs {
            for r in p.rules {
                if first.rule(r.id()).is_some() {
                    return Err(Error::PackMerge {
                        rule_id: r.id().to_string(),
                        first: first.id.clone(),
                        second: p.id.clone(),
                    });
                }
                first.rules.push(r);
            }
            for (k, v) in p.lists {
                first.lists.entry(k).or_insert(v);
            }
            for (k, v) in p.params {
                first.params.entry(k).or_insert(v);
            }
            first.id = format!("{}+{}", first.id, p.id);
            merged = true;
        }
        if merged {
            // Each pack's rules were checked with its own parameters: checked again with
            // the merged ones, which [`Pack::with_bindings`] does not redo when it binds
            // nothing.
            let defs: Vec<RuleDef> = first.rules.iter().map(|r| r.def.clone()).collect();
            let (rules, problems) = first.check_rules(&defs, &[]);
            if !problems.is_empty() {
                return Err(Error::Pack {
                    file: first.file.clone(),
                    problems,
                });
            }
            first.rules = rules;
        }
        Ok(first)
    }

    /// A rule by id or alias.
    pub fn rule(&self, id: &str) -> Option<&Rule> {
        self.rules
            .iter()
            .find(|r| r.def.id.eq_ignore_ascii_case(id))
            .or_else(|| {
                self.rules
                    .iter()
                    .find(|r| r.def.aliases.iter().any(|a| a.eq_ignore_ascii_case(id)))
            })
    }

    /// The rule checked again for data that lacks the columns `absent` (none of them in
    /// its `optional_columns`): the parts that read one and may be dropped are dropped
    /// (docs/packs.md, "When the data lacks a column"), and its explanation loses what
    /// names a dropped measure. `None` when nothing can be dropped; the rule returned may
    /// still read absent columns (its core), which makes it not applicable.
    pub fn degrade(&self, rule: &Rule, absent: &BTreeSet<String>) -> Option<(Rule, Vec<Dropped>)> {
        let kind_impl = crate::kinds::get(rule.kind.name())?;
        let mut cx = crate::kinds::Checker::new(&rule.params, &self.lists);
        cx.absent = absent.clone();
        let kind = kind_impl.check(&rule.def, &mut cx);
        if !cx.problems.is_empty() || cx.dropped.is_empty() {
            return None;
        }
        let dropped = std::mem::take(&mut cx.dropped);
        let measures: Vec<String> = dropped
            .iter()
            .filter_map(|d| d.part.strip_prefix("measures.").map(str::to_string))
            .collect();
        let mut def = rule.def.clone();
        def.explain = explain_without(&def.explain, &measures);
        Some((
            Rule {
                def,
                side: cx.side,
                kind,
                params: rule.params.clone(),
                columns: cx.columns,
                lists: cx.lists_used,
                conditions: cx.conditions,
                names: rule.names.clone(),
            },
            dropped,
        ))
    }

    /// The location of a rule field in the pack file.
    pub fn locate(&self, rule_id: Option<&str>, field: &str) -> Location {
        locate_key(&self.text, rule_id, field, self.is_toml, &self.file)
    }

    /// Checks every rule of the pack: the common fields, the kind and its fields, the
    /// parameters in force with `sets` applied, and `on_alerts_of`. The checked rules and
    /// every problem found, in the order of the rules.
    fn check_rules(&self, defs: &[RuleDef], sets: &[ParamOverride]) -> (Vec<Rule>, Vec<PackProblem>) {
        let mut problems = Vec::new();
        let mut rules = Vec::new();
        let mut seen_ids: BTreeMap<String, usize> = BTreeMap::new();
        for (name, v) in &self.params {
            if let Some(message) = v.problem(name) {
                problems.push(PackProblem {
                    location: self.locate(None, name),
                    rule_id: None,
                    field: format!("params.{name}"),
                    message,
                });
            }
        }
        // Each rule's parameters and kind, on the worker threads (a kind's check has polars
        // compile its expressions: most of the cost of loading a pack), in rule order.
        let order: Vec<usize> = (0..defs.len()).collect();
        let mut own = crate::util::threads::run_parallel(&order, |i| {
            let d = &defs[i];
            let mut found: Vec<(String, String)> = Vec::new();
            let mut p = |field: &str, message: String| found.push((field.to_string(), message));
            for (name, v) in &d.params {
                if let Some(m) = v.problem(name) {
                    p(&format!("params.{name}"), m);
                }
            }
            let rule = self.check_kind(d, self.params_in_force(d, sets), &mut p);
            (rule, found)
        });
        own.sort_by_key(|(i, _)| *i);
        for ((i, d), (_, (rule, found))) in defs.iter().enumerate().zip(own) {
            let mut p = |field: &str, message: String| {
                problems.push(PackProblem {
                    location: self.locate(Some(&d.id), field.split(['.', '[']).next().unwrap_or(field)),
                    rule_id: Some(d.id.clone()),
                    field: format!("rules[{i}].{field}"),
                    message,
                })
            };
            check_common_fields(d, i, &mut seen_ids, &mut p);
            for (field, message) in found {
                p(&field, message);
            }
            rules.extend(rule);
        }
        self.check_on_alerts_of(defs, &mut problems);
        (rules, problems)
    }

    /// The parameters in force for a rule: the pack's, the rule's own, then the `--set`
    /// overrides that name the rule (by id or alias).
    fn params_in_force(&self, d: &RuleDef, sets: &[ParamOverride]) -> BTreeMap<String, ParamValue> {
        let mut params = self.params.clone();
        params.extend(d.params.clone());
        for s in sets {
            if let Some(r) = &s.rule {
                let matches = d.id.eq_ignore_ascii_case(r) || d.aliases.iter().any(|a| a.eq_ignore_ascii_case(r));
                if matches {
                    params.insert(s.name.clone(), s.value.clone());
                }
            }
        }
        params
    }

    /// Checks a rule through its kind: the kind exists, every field belongs to it, the
    /// kind's own checks, and the explanation's placeholders. The checked rule, or `None`
    /// when the kind is unknown or a field is known to no kind.
    fn check_kind(
        &self,
        d: &RuleDef,
        params: BTreeMap<String, ParamValue>,
        p: &mut impl FnMut(&str, String),
    ) -> Option<Rule> {
        let kind_name = d.kind.as_str();
        let mut cx = crate::kinds::Checker::new(&params, &self.lists);
        let Some(kind_impl) = crate::kinds::get(kind_name) else {
            let known: Vec<&str> = crate::kinds::names().collect();
            p(
                "kind",
                format!(
                    "unknown kind `{kind_name}`{}; available kinds: {}",
                    suggestion(kind_name, known.iter().copied()),
                    known.join(", ")
                ),
            );
            return None;
        };
        // Fields the kind does not own, and fields no kind has.
        let mut unknown = false;
        let mut own = d.clone();
        for f in d.fields.keys() {
            if kind_impl.fields().iter().any(|k| k.name == f) {
                continue;
            }
            own.fields.remove(f);
            let owners = crate::kinds::owners(f);
            if owners.is_empty() {
                unknown = true;
                let known = crate::kinds::all_fields();
                p(
                    f,
                    format!(
                        "unknown field `{f}`{}; known fields: {}",
                        suggestion(f, known.iter().copied()),
                        known.join(", ")
                    ),
                );
            } else {
                p(
                    f,
                    format!(
                        "field `{f}` is not used by kind `{kind_name}`; remove it or use kind `{}`",
                        owners.join("` or `")
                    ),
                );
            }
        }
        if unknown {
            return None;
        }
        let kind = kind_impl.check(&own, &mut cx);
        check_placeholders(d, &params, &cx.placeholders, p);
        let problems_of_kind = std::mem::take(&mut cx.problems);
        for (field, message) in problems_of_kind {
            p(&field, message);
        }
        Some(Rule {
            def: d.clone(),
            side: cx.side,
            kind,
            params: params.clone(),
            columns: cx.columns,
            lists: cx.lists_used,
            conditions: cx.conditions,
            names: cx.placeholders.into_iter().collect(),
        })
    }

    /// `on_alerts_of`: each pattern names other rules, which do not screen alerts
    /// themselves (one level, so the order of the run is fixed).
    fn check_on_alerts_of(&self, defs: &[RuleDef], problems: &mut Vec<PackProblem>) {
        for (i, d) in defs.iter().enumerate() {
            for pat in &d.on_alerts_of {
                let targets: Vec<&RuleDef> = defs
                    .iter()
                    .filter(|o| o.id != d.id && matches_any(&o.id, std::slice::from_ref(pat)))
                    .collect();
                let message = if targets.is_empty() {
                    Some(format!(
                        "`{pat}` names no other rule of the pack{}",
                        suggestion(pat, defs.iter().map(|o| o.id.as_str()))
                    ))
                } else {
                    targets.iter().find(|t| !t.on_alerts_of.is_empty()).map(|t| {
                        format!(
                            "`{pat}` names {}, which itself screens other rules' alerts; only one level is allowed",
                            t.id
                        )
                    })
                };
                if let Some(message) = message {
                    problems.push(PackProblem {
                        location: self.locate(Some(&d.id), "on_alerts_of"),
                        rule_id: Some(d.id.clone()),
                        field: format!("rules[{i}].on_alerts_of"),
                        message,
                    });
                }
            }
        }
    }
}

/// The fields every rule has: its id and aliases unused by earlier rules (`seen_ids`,
/// upper-cased), id and title not empty, known typologies and optional columns.
fn check_common_fields(
    d: &RuleDef,
    i: usize,
    seen_ids: &mut BTreeMap<String, usize>,
    p: &mut impl FnMut(&str, String),
) {
    for name in std::iter::once(&d.id).chain(d.aliases.iter()) {
        if let Some(prev) = seen_ids.insert(name.to_uppercase(), i) {
            p(
                "id",
                format!("id `{name}` is already used by rules[{prev}]; ids are never reused"),
            );
        }
    }
    if d.id.trim().is_empty() {
        p("id", "the id is empty".into());
    }
    if d.title.trim().is_empty() {
        p("title", "the title is empty".into());
    }
    for t in &d.typologies {
        if !TYPOLOGIES.contains(&t.as_str()) {
            p(
                "typologies",
                format!(
                    "unknown typology `{t}`{}; known: {}",
                    suggestion(t, TYPOLOGIES.iter().copied()),
                    TYPOLOGIES.join(", ")
                ),
            );
        }
    }
    for c in &d.optional_columns {
        if !schema::is_known_column(c) {
            p(
                "optional_columns",
                format!("unknown column `{c}`{}", suggestion(c, schema::all_columns())),
            );
        }
    }
}

/// The explanation's placeholders: each must be a parameter in force, one of `window`,
/// `account`, `side`, `rule_id`, or a placeholder the kind provides.
fn check_placeholders(
    d: &RuleDef,
    params: &BTreeMap<String, ParamValue>,
    of_kind: &[String],
    p: &mut impl FnMut(&str, String),
) {
    if let Some(m) = clause_problem(&d.explain) {
        p(
            "explain",
            format!("{m}; write an optional clause as `[[ in {{n_countries|country|countries}}]]`"),
        );
    }
    let mut known: Vec<String> = params.keys().cloned().collect();
    known.extend(["window", "account", "side", "rule_id"].map(String::from));
    known.extend(of_kind.iter().cloned());
    for ph in placeholders(&d.explain) {
        if !known.iter().any(|k| k == &ph) {
            p(
                "explain",
                format!(
                    "unknown placeholder `{{{ph}}}`{}",
                    suggestion(&ph, known.iter().map(String::as_str))
                ),
            );
        }
    }
}

const PACK_FIELDS: &[&str] = &[
    "pack",
    "version",
    "title",
    "description",
    "base_currency",
    "params",
    "lists",
    "rules",
];

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map(|l| l.chars().count()).unwrap_or(0) + 1;
    (line, col)
}

/// Finds `field` of the rule `rule_id` (or a top-level key when `rule_id` is `None`) in a
/// pack's text, by scanning lines: rules start at their `id:` line.
/// An override's value, of the type of the value it replaces: a number or true/false
/// where the pack has one (else an error that names both), text where the pack has text
/// (a number written is then text).
fn same_type(s: &ParamOverride, before: &ParamValue) -> Result<ParamValue> {
    let name = match &s.rule {
        Some(r) => format!("{r}.{}", s.name),
        None => s.name.clone(),
    };
    match (before, &s.value) {
        (ParamValue::Text(_), ParamValue::Number(n)) => Ok(ParamValue::Text(format!("{n}"))),
        (ParamValue::Text(_), ParamValue::Bool(b)) => Ok(ParamValue::Text(b.to_string())),
        (a, b) if std::mem::discriminant(a) == std::mem::discriminant(b) => Ok(s.value.clone()),
        (a, b) => Err(Error::Override {
            what: "parameter override",
            value: format!("{name}={}", b.display()),
            message: format!(
                "parameter `{}` is {} in the pack ({}); `{}` is {}: give {}",
                s.name,
                a.type_name(),
                a.display(),
                b.display(),
                b.type_name(),
                a.type_name()
            ),
        }),
    }
}

fn locate_key(text: &str, rule_id: Option<&str>, field: &str, is_toml: bool, file: &Path) -> Location {
    let lines: Vec<&str> = text.lines().collect();
    let key_at = |line: &str, key: &str| -> Option<usize> {
        let trimmed = line.trim_start();
        let (trimmed, extra) = match trimmed.strip_prefix("- ") {
            Some(t) => (t.trim_start(), line.len() - t.trim_start().len()),
            None => (trimmed, line.len() - trimmed.len()),
        };
        let k = trimmed.strip_prefix(key)?;
        let k = k.trim_start();
        if k.starts_with(':') || (is_toml && k.starts_with('=')) {
            Some(extra + 1)
        } else {
            None
        }
    };
    let value_is = |line: &str, id: &str| -> bool {
        let v = line.trim_start().trim_start_matches("- ").trim_start();
        let v = v.strip_prefix("id").map(str::trim_start);
        match v.and_then(|v| v.strip_prefix(':').or_else(|| v.strip_prefix('='))) {
            Some(rest) => rest.trim().trim_matches(|c| c == '"' || c == '\'') == id,
            None => false,
        }
    };
    let mk = |line: usize, column: usize| Location {
        file: file.to_path_buf(),
        line,
        column,
    };
    match rule_id {
        None => {
            for (i, l) in lines.iter().enumerate() {
                if let Some(c) = key_at(l, field) {
                    return mk(i + 1, c);
                }
            }
            mk(0, 0)
        }
        Some(id) => {
            let Some(start) = lines.iter().position(|l| value_is(l, id)) else {
                return mk(0, 0);
            };
            let end = lines[start + 1..]
                .iter()
                .position(|l| key_at(l, "id").is_some() && l.trim_start().starts_with('-') || l.trim() == "[[rules]]")
                .map(|e| e + start + 1)
                .unwrap_or(lines.len());
            // The rule block begins at its `- ` line, which may be before the id line.
            let block_start = (0..=start)
                .rev()
                .find(|&i| lines[i].trim_start().starts_with("- ") || lines[i].trim() == "[[rules]]")
                .unwrap_or(start);
            for (i, l) in lines.iter().enumerate().take(end).skip(block_start) {
                if let Some(c) = key_at(l, field) {
                    return mk(i + 1, c);
                }
            }
            mk(start + 1, 1)
        }
    }
}

/// Where a list bound by name comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListSource {
    /// A file (`--list NAME=PATH`): a watch list or a reference list, one value a line.
    Path(PathBuf),
    /// Values given in code: a reference list.
    Values(Vec<String>),
}

/// A list binding `NAME=PATH` as written: the name and the path, each trimmed.
pub fn parse_binding(s: &str) -> Result<(String, PathBuf)> {
    s.split_once('=')
        .map(|(n, p)| (n.trim().to_string(), PathBuf::from(p.trim())))
        .ok_or_else(|| Error::Override {
            what: "list binding",
            value: s.to_string(),
            message: "write NAME=PATH".into(),
        })
}

/// A weights file as written (docs/cases.md, "Weights").
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WeightsFile {
    #[serde(default)]
    default: Option<serde_yaml_ng::Value>,
    #[serde(default)]
    rules: BTreeMap<String, serde_yaml_ng::Value>,
    #[serde(default)]
    measures: BTreeMap<String, serde_yaml_ng::Value>,
}

/// The fields a weights file may have.
const WEIGHTS_FIELDS: &[&str] = &["default", "rules", "measures"];

impl Pack {
    /// The pack with the score weights of a weights file (YAML; docs/cases.md,
    /// "Weights") laid over it. Every problem is reported with the file, line and rule:
    /// an unknown rule id (with the closest one), a weight that is not a finite number at
    /// least 0, an unknown field.
    pub fn with_weights(&self, path: impl AsRef<Path>) -> Result<Pack> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| Error::Io {
            path: path.to_path_buf(),
            action: "reading",
            source: e,
        })?;
        let text = String::from_utf8(bytes).map_err(|e| Error::Weights {
            file: path.to_path_buf(),
            problems: vec![PackProblem {
                location: Location {
                    file: path.to_path_buf(),
                    line: 0,
                    column: 0,
                },
                rule_id: None,
                field: String::new(),
                message: format!("not UTF-8 text: {e}"),
            }],
        })?;
        let weights = self.parse_weights(&text, path)?;
        let mut pack = self.clone();
        pack.weights = Some(std::sync::Arc::new(weights));
        Ok(pack)
    }

    /// Checks a weights file's text against the pack's rules.
    pub fn parse_weights(&self, text: &str, file: &Path) -> Result<ScoreWeights> {
        let loc = |line: usize| Location {
            file: file.to_path_buf(),
            line,
            column: 0,
        };
        let problem = |line: usize, rule_id: Option<&str>, field: String, message: String| PackProblem {
            location: loc(line),
            rule_id: rule_id.map(str::to_string),
            field,
            message,
        };
        let fail = |problems: Vec<PackProblem>| Error::Weights {
            file: file.to_path_buf(),
            problems,
        };
        let wf: WeightsFile = serde_yaml_ng::from_str(text).map_err(|e| {
            let line = e.location().map_or(0, |l| l.line());
            let msg = e.to_string();
            let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
            fail(vec![problem(
                line,
                None,
                String::new(),
                improve_serde_message(&msg, WEIGHTS_FIELDS),
            )])
        })?;
        let mut problems = Vec::new();
        let default_weight = match &wf.default {
            None => 1.0,
            Some(v) => match weight_value(v) {
                Ok(w) => w,
                Err(m) => {
                    problems.push(problem(key_line(text, "default"), None, "default".into(), m));
                    1.0
                }
            },
        };
        let mut rules = BTreeMap::new();
        for (id, v) in &wf.rules {
            let line = key_line(text, id);
            let Some(rule) = self.rule(id) else {
                let ids = self.rules.iter().map(|r| r.id());
                problems.push(problem(
                    line,
                    Some(id),
                    format!("rules.{id}"),
                    format!("no rule `{id}` in pack {}{}", self.id, suggestion(id, ids)),
                ));
                continue;
            };
            match weight_value(v) {
                Ok(w) => {
                    rules.insert(rule.id().to_string(), w);
                }
                Err(m) => problems.push(problem(line, Some(rule.id()), format!("rules.{id}"), m)),
            }
        }
        let measures = self.measure_weights(&wf.measures, text, &mut |line, rule_id, field, message| {
            problems.push(problem(line, rule_id, field, message))
        });
        if !problems.is_empty() {
            return Err(fail(problems));
        }
        Ok(ScoreWeights {
            source: file.display().to_string(),
            sha256: sha256_hex(text.as_bytes()),
            default_weight,
            rules,
            measures,
        })
    }

    /// A weights file's `measures`: `RULE.MEASURE: weight`, the rule one of the pack's
    /// (by id or alias), the measure one its alerts carry; by rule id, then measure.
    fn measure_weights(
        &self,
        written: &BTreeMap<String, serde_yaml_ng::Value>,
        text: &str,
        problem: WeightsProblem<'_>,
    ) -> BTreeMap<String, BTreeMap<String, f64>> {
        let mut out: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
        for (key, v) in written {
            let line = key_line(text, key);
            let field = format!("measures.{key}");
            let (rule, measure) = match self.rule_measure(key) {
                Ok(found) => found,
                Err((rule_id, message)) => {
                    problem(line, rule_id.as_deref(), field, message);
                    continue;
                }
            };
            match weight_value(v) {
                Ok(w) => {
                    out.entry(rule.id().to_string())
                        .or_default()
                        .insert(measure.to_string(), w);
                }
                Err(m) => problem(line, Some(rule.id()), field, m),
            }
        }
        out
    }

    /// The rule and measure `RULE.MEASURE` names (the rule by id or alias; the measure one
    /// its alerts carry), or the rule id written (when there is one) and what is wrong,
    /// with the closest name.
    pub fn rule_measure<'k>(&self, key: &'k str) -> std::result::Result<(&Rule, &'k str), (Option<String>, String)> {
        let Some((id, measure)) = key.split_once('.') else {
            return Err((
                None,
                format!("`{key}`: name a rule and one of its measures, such as `FLW-06.lone_pairs`"),
            ));
        };
        let Some(rule) = self.rule(id) else {
            let ids = self.rules.iter().map(|r| r.id());
            return Err((
                Some(id.to_string()),
                format!("no rule `{id}` in pack {}{}", self.id, suggestion(id, ids)),
            ));
        };
        if !rule.names.contains(measure) {
            return Err((
                Some(rule.id().to_string()),
                format!(
                    "rule {} has no measure `{measure}`{}",
                    rule.id(),
                    suggestion(measure, rule.names.iter().map(String::as_str))
                ),
            ));
        }
        Ok((rule, measure))
    }
}

/// Reports a problem of a weights file: (line, rule id, field, message).
type WeightsProblem<'a> = &'a mut dyn FnMut(usize, Option<&str>, String, String);

/// A weight as written: a finite number, at least 0.
fn weight_value(v: &serde_yaml_ng::Value) -> std::result::Result<f64, String> {
    let w = v
        .as_f64()
        .ok_or_else(|| "a weight is a number (such as 1.5); 1 leaves the rule as it is".to_string())?;
    if !w.is_finite() {
        return Err(format!("weight {w} is not a finite number"));
    }
    if w < 0.0 {
        return Err(format!(
            "weight {w} is negative; a weight is at least 0 (0 takes the rule out of the score)"
        ));
    }
    Ok(w)
}

/// The 1-based line where `key:` is written (first match), 0 when not found.
fn key_line(text: &str, key: &str) -> usize {
    text.lines()
        .position(|l| {
            let t = l.trim_start();
            let t = t.strip_prefix('"').or_else(|| t.strip_prefix('\'')).unwrap_or(t);
            t.strip_prefix(key)
                .map(|r| r.trim_start_matches(['"', '\'']))
                .is_some_and(|r| r.trim_start().starts_with(':'))
        })
        .map_or(0, |i| i + 1)
}
