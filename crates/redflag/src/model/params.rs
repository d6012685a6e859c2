//! Parameter values, numbers in a rule's own fields, and parameter overrides.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{suggestion, Error, Result};

/// A parameter value: a number, a string or a boolean.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ParamValue {
    /// A number.
    Number(f64),
    /// A boolean.
    Bool(bool),
    /// A string.
    Text(String),
}

impl ParamValue {
    /// Parses a command-line value: a number when it reads as one, `true`/`false`, else text.
    pub fn parse(s: &str) -> ParamValue {
        if let Ok(n) = s.trim().replace('_', "").parse::<f64>() {
            if n.is_finite() {
                return ParamValue::Number(n);
            }
        }
        match s.trim() {
            "true" => ParamValue::Bool(true),
            "false" => ParamValue::Bool(false),
            other => ParamValue::Text(other.to_string()),
        }
    }

    /// What is wrong with the value of parameter `name`, if anything: a number that is
    /// not finite, or text that names another parameter (`$other`), which parameter values
    /// cannot do.
    pub fn problem(&self, name: &str) -> Option<String> {
        match self {
            ParamValue::Number(n) if !n.is_finite() => Some(format!(
                "parameter `{name}` is `{n}`, not a finite number; give a number such as 10000"
            )),
            ParamValue::Text(t) if t.trim_start().starts_with('$') => Some(format!(
                "parameter `{name}` is `{t}`: a parameter's value cannot name another parameter; write the value itself"
            )),
            _ => None,
        }
    }

    /// The kind of value, as an error message names it.
    pub fn type_name(&self) -> &'static str {
        match self {
            ParamValue::Number(_) => "a number",
            ParamValue::Bool(_) => "true or false",
            ParamValue::Text(_) => "text",
        }
    }

    /// The value as a SQL literal.
    pub fn to_sql(&self) -> String {
        match self {
            ParamValue::Number(n) => format_sql_number(*n),
            ParamValue::Bool(b) => b.to_string().to_uppercase(),
            ParamValue::Text(s) => format!("'{}'", s.replace('\'', "''")),
        }
    }

    /// The value as an analyst reads it in an explanation.
    pub fn display(&self) -> String {
        match self {
            ParamValue::Number(n) => crate::util::format::number(*n),
            ParamValue::Bool(b) => b.to_string(),
            ParamValue::Text(s) => s.clone(),
        }
    }
}

fn format_sql_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// A number in a rule's own field: written out, or a `$param` of the pack or the rule.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum NumField {
    /// A number.
    Value(f64),
    /// `$name`: a parameter.
    Param(String),
}

impl Serialize for NumField {
    /// As written: a whole number without a decimal point, a parameter as `$name`.
    fn serialize<S: serde::Serializer>(&self, ser: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            NumField::Value(v) if v.fract() == 0.0 && v.abs() < 9.0e15 => ser.serialize_i64(*v as i64),
            NumField::Value(v) => ser.serialize_f64(*v),
            NumField::Param(p) => ser.serialize_str(p),
        }
    }
}

impl NumField {
    /// The number, the parameter looked up.
    pub fn resolve(&self, params: &BTreeMap<String, ParamValue>) -> std::result::Result<f64, String> {
        match self {
            NumField::Value(v) => Ok(*v),
            NumField::Param(p) => {
                let name = p
                    .trim()
                    .strip_prefix('$')
                    .ok_or_else(|| format!("`{p}` is neither a number nor a parameter (write a number, or `$name`)"))?;
                match params.get(name) {
                    Some(ParamValue::Number(v)) => Ok(*v),
                    Some(other) => Err(format!("parameter `${name}` is `{}`, not a number", other.display())),
                    None => Err(format!(
                        "unknown parameter `${name}`{}; define it under `params:` of the pack or of the rule",
                        suggestion(name, params.keys().map(String::as_str))
                    )),
                }
            }
        }
    }
}

/// A parameter override: `NAME=VALUE` (pack-wide) or `RULE.NAME=VALUE` (one rule).
#[derive(Debug, Clone, PartialEq)]
pub struct ParamOverride {
    /// The rule id, for a rule-level override.
    pub rule: Option<String>,
    /// The parameter.
    pub name: String,
    /// The value.
    pub value: ParamValue,
}

impl std::str::FromStr for ParamOverride {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let (key, value) = s.split_once('=').ok_or_else(|| Error::Override {
            what: "parameter override",
            value: s.to_string(),
            message: "write NAME=VALUE or RULE.NAME=VALUE, such as reporting_threshold=15000".into(),
        })?;
        let key = key.trim();
        // Rule ids contain dashes and digits, parameter names do not contain dots.
        let (rule, name) = match key.rsplit_once('.') {
            Some((r, n)) => (Some(r.to_string()), n.to_string()),
            None => (None, key.to_string()),
        };
        if name.is_empty() {
            return Err(Error::Override {
                what: "parameter override",
                value: s.to_string(),
                message: "the parameter name is empty".into(),
            });
        }
        if let Ok(n) = value.trim().replace('_', "").parse::<f64>() {
            if !n.is_finite() {
                return Err(Error::Override {
                    what: "parameter override",
                    value: s.to_string(),
                    message: format!("`{}` is not a finite number; give a number such as 15000", value.trim()),
                });
            }
        }
        let value = ParamValue::parse(value);
        if let Some(m) = value.problem(&name) {
            return Err(Error::Override {
                what: "parameter override",
                value: s.to_string(),
                message: m,
            });
        }
        Ok(ParamOverride { rule, name, value })
    }
}
