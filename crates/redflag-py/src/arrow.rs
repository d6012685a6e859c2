//! Frames across the Arrow C stream interface, both ways, without copying the buffers:
//! a Python object with `__arrow_c_stream__` (polars, pyarrow, pandas through pyarrow)
//! becomes a polars `DataFrame`; a `DataFrame` becomes an [`ArrowStream`], which Python
//! polars (`pl.DataFrame(obj)`) and pyarrow read the same way.
#![allow(unsafe_code)] // The C data interface is raw pointers handed over by contract.

use std::ffi::CStr;

use polars::prelude::*;
use polars_arrow::array::{Array, StructArray};
use polars_arrow::datatypes::{ArrowDataType, Field as ArrowFieldT};
use polars_arrow::ffi::{export_iterator, ArrowArrayStream, ArrowArrayStreamReader};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyCapsule;

const STREAM: &CStr = c"arrow_array_stream";

/// Reads a Python object that implements the Arrow PyCapsule interface into a frame.
pub fn frame_from_py(obj: &Bound<'_, PyAny>) -> PyResult<DataFrame> {
    if !obj.hasattr("__arrow_c_stream__")? {
        return Err(PyTypeError::new_err(format!(
            "cannot read a {} as a frame: give a path, a polars DataFrame or LazyFrame, a pandas DataFrame or a pyarrow Table",
            obj.get_type().name()?
        )));
    }
    let capsule = obj.call_method0("__arrow_c_stream__")?;
    let capsule = capsule
        .cast::<PyCapsule>()
        .map_err(|_| PyTypeError::new_err("__arrow_c_stream__ did not return a PyCapsule"))?;
    let ptr = capsule.pointer_checked(Some(STREAM))?.cast::<ArrowArrayStream>();
    // SAFETY: the capsule holds an ArrowArrayStream (its name says so). Its content is
    // moved out and an empty (released) stream left behind, as the interface asks of a
    // consumer; the capsule's destructor then finds nothing to release.
    let stream = unsafe { std::ptr::replace(ptr.as_ptr(), ArrowArrayStream::empty()) };
    read_stream(stream).map_err(|e| PyValueError::new_err(format!("reading the frame through Arrow: {e}")))
}

fn read_stream(stream: ArrowArrayStream) -> PolarsResult<DataFrame> {
    // SAFETY: the stream comes from a producer of the C stream interface.
    let mut reader = unsafe { ArrowArrayStreamReader::try_new(Box::new(stream))? };
    let fields = match reader.field().dtype() {
        ArrowDataType::Struct(fields) => fields.clone(),
        other => polars_bail!(ComputeError: "the stream holds {other:?}, not a table"),
    };
    let mut chunks: Vec<Vec<Box<dyn Array>>> = vec![Vec::new(); fields.len()];
    // SAFETY: as above.
    while let Some(batch) = unsafe { reader.next() } {
        let batch = batch?;
        let Some(sa) = batch.as_any().downcast_ref::<StructArray>() else {
            polars_bail!(ComputeError: "a batch of the stream is not a struct array");
        };
        // A table's rows are never null as a whole; a stream that says otherwise is not
        // read rather than read wrongly.
        if sa.validity().is_some_and(|v| v.unset_bits() > 0) {
            polars_bail!(ComputeError: "the stream has null rows; fill or drop them first");
        }
        for (col, a) in chunks.iter_mut().zip(sa.values()) {
            col.push(a.clone());
        }
    }
    let columns = fields
        .iter()
        .zip(chunks)
        .map(|(f, arrays)| {
            if arrays.is_empty() {
                let dt = DataType::from_arrow_field(f);
                Ok(Column::new_empty(f.name.clone(), &dt))
            } else {
                Series::try_from((f, arrays)).map(Column::from)
            }
        })
        .collect::<PolarsResult<Vec<Column>>>()?;
    DataFrame::new_infer_height(columns)
}

/// A frame handed to Python through the Arrow C stream interface: `pl.DataFrame(s)`
/// or `pyarrow.table(s)` read it, once.
#[pyclass(module = "redflag._redflag")]
pub struct ArrowStream {
    frame: Option<DataFrame>,
}

impl ArrowStream {
    pub fn new(frame: DataFrame) -> ArrowStream {
        ArrowStream { frame: Some(frame) }
    }
}

#[pymethods]
impl ArrowStream {
    /// The Arrow PyCapsule interface: a capsule holding an `ArrowArrayStream`.
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_stream__<'py>(
        &mut self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        let _ = requested_schema; // The frame is given in its own types.
        let mut df = self
            .frame
            .take()
            .ok_or_else(|| PyValueError::new_err("this stream was already read"))?;
        df.rechunk_mut();
        let fields: Vec<ArrowFieldT> = df
            .columns()
            .iter()
            .map(|c| c.field().to_arrow(CompatLevel::newest()))
            .collect();
        let dtype = ArrowDataType::Struct(fields);
        let batches: Vec<PolarsResult<Box<dyn Array>>> = if df.height() == 0 {
            Vec::new()
        } else {
            df.iter_chunks(CompatLevel::newest(), false)
                .map(|b| {
                    let len = b.height();
                    let arrays = b.into_arrays();
                    Ok(StructArray::new(dtype.clone(), len, arrays, None).boxed())
                })
                .collect()
        };
        let stream = export_iterator(Box::new(batches.into_iter()), ArrowFieldT::new("".into(), dtype, false));
        PyCapsule::new_with_value(py, stream, STREAM)
    }
}
