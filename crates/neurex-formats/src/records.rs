//! Per-patient record files: one Parquet (or CSV) file per chunk of patients, written
//! atomically, so that a chunk on disk is always complete (the basis of resuming a run), and
//! read back column by column.

use crate::{FormatError, write_atomically};
use arrow::array::{Array, ArrayRef, Float64Array, Int64Array};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use std::path::Path;
use std::sync::Arc;

/// Columns of records: integer columns first, then floating-point columns, all of one length.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Records {
    /// Integer columns (name, values).
    pub ints: Vec<(String, Vec<i64>)>,
    /// Floating-point columns (name, values).
    pub floats: Vec<(String, Vec<f64>)>,
}

/// Write records to a `.parquet` or `.csv` file, atomically.
pub fn write_records(path: &Path, records: &Records) -> Result<(), FormatError> {
    let name = path.display().to_string();
    let enc = |e: &dyn std::fmt::Display| FormatError::Encode { path: name.clone(), message: e.to_string() };
    let format =
        crate::TableFormat::from_path(path).ok_or_else(|| FormatError::UnknownFormat { path: name.clone() })?;
    write_atomically(path, |f| match format {
        crate::TableFormat::Parquet => {
            let mut fields = Vec::new();
            let mut arrays: Vec<ArrayRef> = Vec::new();
            for (n, v) in &records.ints {
                fields.push(Field::new(n, DataType::Int64, false));
                arrays.push(Arc::new(Int64Array::from(v.clone())));
            }
            for (n, v) in &records.floats {
                fields.push(Field::new(n, DataType::Float64, false));
                arrays.push(Arc::new(Float64Array::from(v.clone())));
            }
            let schema = Arc::new(Schema::new(fields));
            let batch = RecordBatch::try_new(schema.clone(), arrays).map_err(|e| enc(&e))?;
            let props = WriterProperties::builder()
                .set_compression(Compression::ZSTD(ZstdLevel::try_new(3).map_err(|e| enc(&e))?))
                .set_created_by("neurex".into())
                .build();
            let mut w = ArrowWriter::try_new(f, schema, Some(props)).map_err(|e| enc(&e))?;
            w.write(&batch).map_err(|e| enc(&e))?;
            w.close().map_err(|e| enc(&e))?;
            Ok(())
        }
        crate::TableFormat::Csv => {
            let mut w = csv::Writer::from_writer(std::io::BufWriter::new(f));
            let header: Vec<&str> =
                records.ints.iter().map(|c| c.0.as_str()).chain(records.floats.iter().map(|c| c.0.as_str())).collect();
            w.write_record(&header).map_err(|e| enc(&e))?;
            let rows = records
                .ints
                .first()
                .map(|c| c.1.len())
                .or_else(|| records.floats.first().map(|c| c.1.len()))
                .unwrap_or(0);
            for r in 0..rows {
                let row: Vec<String> = records
                    .ints
                    .iter()
                    .map(|c| c.1[r].to_string())
                    .chain(records.floats.iter().map(|c| format!("{}", c.1[r])))
                    .collect();
                w.write_record(&row).map_err(|e| enc(&e))?;
            }
            w.flush().map_err(|e| FormatError::Io { path: name.clone(), source: e })
        }
    })
}

/// Read records written by [`write_records`] to a Parquet file.
pub fn read_records(path: &Path) -> Result<Records, FormatError> {
    let name = path.display().to_string();
    let enc = |e: &dyn std::fmt::Display| FormatError::Encode { path: name.clone(), message: e.to_string() };
    let file = std::fs::File::open(path).map_err(|source| FormatError::Io { path: name.clone(), source })?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| enc(&e))?.build().map_err(|e| enc(&e))?;
    let mut out = Records::default();
    let mut first = true;
    for batch in reader {
        let batch = batch.map_err(|e| enc(&e))?;
        for (k, field) in batch.schema().fields().iter().enumerate() {
            let col = batch.column(k);
            match field.data_type() {
                DataType::Int64 => {
                    let a = col.as_any().downcast_ref::<Int64Array>().ok_or_else(|| enc(&"bad Int64 column"))?;
                    if first {
                        out.ints.push((field.name().clone(), Vec::new()));
                    }
                    let slot =
                        out.ints.iter_mut().find(|c| c.0 == *field.name()).ok_or_else(|| enc(&"column set changed"))?;
                    slot.1.extend(a.values().iter().copied());
                }
                DataType::Float64 => {
                    let a = col.as_any().downcast_ref::<Float64Array>().ok_or_else(|| enc(&"bad Float64 column"))?;
                    if first {
                        out.floats.push((field.name().clone(), Vec::new()));
                    }
                    let slot = out
                        .floats
                        .iter_mut()
                        .find(|c| c.0 == *field.name())
                        .ok_or_else(|| enc(&"column set changed"))?;
                    slot.1.extend(a.values().iter().copied());
                }
                other => return Err(enc(&format!("column `{}` has unsupported type {other}", field.name()))),
            }
        }
        first = false;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_through_parquet_bit_for_bit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("part.parquet");
        let r = Records {
            ints: vec![("index".into(), vec![0, 1, 2])],
            floats: vec![("x".into(), vec![0.1, f64::NAN, -3.5e-300])],
        };
        write_records(&path, &r).unwrap();
        let back = read_records(&path).unwrap();
        assert_eq!(back.ints, r.ints);
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&back.floats[0].1), bits(&r.floats[0].1));
    }
}
