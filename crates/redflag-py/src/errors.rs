//! The library's errors as Python exceptions: one family under `RedflagError`, a class
//! for each group of variants, the message the CLI prints (without its flag hints), and
//! the cause chained as `__cause__`.

use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyOSError, PyRuntimeError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use redflag::Error;

create_exception!(
    _redflag,
    RedflagError,
    PyException,
    "Any error of redflag. Its message is the one the `redflag` command prints."
);
create_exception!(
    _redflag,
    PackError,
    RedflagError,
    "A rule pack is wrong (`problems` lists each one: file, line, column, rule, field, message), or two packs clash."
);
create_exception!(
    _redflag,
    ParameterError,
    RedflagError,
    "A parameter override, a list binding, a rule selection, a preset name or a sweep is wrong."
);
create_exception!(
    _redflag,
    InputError,
    RedflagError,
    "An input cannot be screened: its layout, a missing column, the mapping, the FX table, strict mode."
);
create_exception!(
    _redflag,
    ListError,
    RedflagError,
    "A reference list or a watch list cannot be read."
);
create_exception!(
    _redflag,
    FileError,
    RedflagError,
    "A file cannot be read or written; the output folder would overwrite an input."
);
create_exception!(
    _redflag,
    RuleError,
    RedflagError,
    "A rule failed while it ran, or the data engine failed."
);
create_exception!(
    _redflag,
    ReportError,
    RedflagError,
    "A report cannot be rendered: a goAML configuration, saved results."
);
create_exception!(
    _redflag,
    CancelledError,
    RedflagError,
    "The run was cancelled before it finished; nothing was written."
);

/// The exception class of a library error.
fn class_of<'py>(py: Python<'py>, e: &Error) -> Bound<'py, pyo3::types::PyType> {
    match e {
        Error::Pack { .. } | Error::PackMerge { .. } | Error::Weights { .. } => py.get_type::<PackError>(),
        Error::Override { .. } => py.get_type::<ParameterError>(),
        Error::Input { .. }
        | Error::MissingColumn { .. }
        | Error::Mapping { .. }
        | Error::Fx { .. }
        | Error::Strict { .. }
        | Error::Shard { .. } => py.get_type::<InputError>(),
        Error::List { .. } | Error::WatchList { .. } => py.get_type::<ListError>(),
        Error::Io { .. } | Error::OutputOverInput { .. } => py.get_type::<FileError>(),
        Error::GoamlConfig { .. } | Error::Results { .. } => py.get_type::<ReportError>(),
        Error::Cancelled => py.get_type::<CancelledError>(),
        _ => py.get_type::<RuleError>(),
    }
}

/// A library error as a Python exception, its sources chained as `__cause__`.
pub fn to_py(e: Error) -> PyErr {
    Python::attach(|py| {
        let err = PyErr::from_type(class_of(py, &e), e.to_string());
        if let Error::Pack { problems, .. } | Error::Weights { problems, .. } = &e {
            let _ = set_problems(py, &err, problems);
        }
        err.set_cause(py, cause_of(py, std::error::Error::source(&e)));
        err
    })
}

/// `problems` on a PackError: one dict a problem.
fn set_problems(py: Python<'_>, err: &PyErr, problems: &[redflag::PackProblem]) -> PyResult<()> {
    let list = PyList::empty(py);
    for p in problems {
        let d = PyDict::new(py);
        d.set_item("file", p.location.file.display().to_string())?;
        d.set_item("line", p.location.line)?;
        d.set_item("column", p.location.column)?;
        d.set_item("rule_id", p.rule_id.clone())?;
        d.set_item("field", p.field.clone())?;
        d.set_item("message", p.message.clone())?;
        list.append(d)?;
    }
    err.value(py).setattr("problems", list)
}

/// The chain of causes, outermost first, as Python exceptions each the `__cause__` of
/// the one before: an I/O error as `OSError` (with its errno), anything else as
/// `RuntimeError`.
fn cause_of(py: Python<'_>, src: Option<&(dyn std::error::Error + 'static)>) -> Option<PyErr> {
    let s = src?;
    let err = match s.downcast_ref::<std::io::Error>() {
        Some(io) => match io.raw_os_error() {
            Some(code) => PyOSError::new_err((code, io.to_string())),
            None => PyOSError::new_err(io.to_string()),
        },
        None => PyRuntimeError::new_err(s.to_string()),
    };
    err.set_cause(py, cause_of(py, s.source()));
    Some(err)
}

/// Registers the exception classes in the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("RedflagError", py.get_type::<RedflagError>())?;
    m.add("PackError", py.get_type::<PackError>())?;
    m.add("ParameterError", py.get_type::<ParameterError>())?;
    m.add("InputError", py.get_type::<InputError>())?;
    m.add("ListError", py.get_type::<ListError>())?;
    m.add("FileError", py.get_type::<FileError>())?;
    m.add("RuleError", py.get_type::<RuleError>())?;
    m.add("ReportError", py.get_type::<ReportError>())?;
    m.add("CancelledError", py.get_type::<CancelledError>())?;
    Ok(())
}
