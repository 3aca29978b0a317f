//! Wide tables: `time_h`, then one column per variable.

use crate::{FormatError, write_atomically};
use arrow::array::{ArrayRef, Float64Array};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use std::path::Path;
use std::sync::Arc;

/// A time series table.
#[derive(Debug, Clone, Copy)]
pub struct Table<'a> {
    /// Variable names (without the time column).
    pub columns: &'a [String],
    /// Times (h).
    pub times: &'a [f64],
    /// One row per time.
    pub rows: &'a [Vec<f64>],
}

/// File formats for tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableFormat {
    /// Comma-separated values.
    Csv,
    /// Apache Parquet (zstd).
    Parquet,
}

impl TableFormat {
    /// The format a file name asks for.
    pub fn from_path(path: &Path) -> Option<TableFormat> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "csv" => Some(TableFormat::Csv),
            "parquet" | "pq" => Some(TableFormat::Parquet),
            _ => None,
        }
    }
}

/// Write a table to `path` in the format its extension names.
pub fn write_table(path: &Path, table: Table<'_>) -> Result<(), FormatError> {
    let name = path.display().to_string();
    let format = TableFormat::from_path(path).ok_or_else(|| FormatError::UnknownFormat { path: name.clone() })?;
    let enc = |e: &dyn std::fmt::Display| FormatError::Encode { path: name.clone(), message: e.to_string() };
    write_atomically(path, |f| match format {
        TableFormat::Csv => {
            let mut w = csv::Writer::from_writer(std::io::BufWriter::new(f));
            let header = std::iter::once("time_h").chain(table.columns.iter().map(String::as_str));
            w.write_record(header).map_err(|e| enc(&e))?;
            let mut rec = Vec::with_capacity(table.columns.len() + 1);
            for (t, row) in table.times.iter().zip(table.rows) {
                rec.clear();
                rec.push(format!("{t}"));
                rec.extend(row.iter().map(|v| format!("{v}")));
                w.write_record(&rec).map_err(|e| enc(&e))?;
            }
            w.flush().map_err(|e| enc(&e))
        }
        TableFormat::Parquet => {
            let mut fields = vec![Field::new("time_h", DataType::Float64, false)];
            fields.extend(table.columns.iter().map(|c| Field::new(c, DataType::Float64, false)));
            let schema = Arc::new(Schema::new(fields));
            let mut arrays: Vec<ArrayRef> = vec![Arc::new(Float64Array::from(table.times.to_vec()))];
            for j in 0..table.columns.len() {
                arrays.push(Arc::new(Float64Array::from_iter_values(table.rows.iter().map(|r| r[j]))));
            }
            let batch = RecordBatch::try_new(schema.clone(), arrays).map_err(|e| enc(&e))?;
            let props = WriterProperties::builder()
                .set_compression(Compression::ZSTD(ZstdLevel::try_new(3).map_err(|e| enc(&e))?))
                .build();
            let mut w = ArrowWriter::try_new(f, schema, Some(props)).map_err(|e| enc(&e))?;
            w.write(&batch).map_err(|e| enc(&e))?;
            w.close().map_err(|e| enc(&e))?;
            Ok(())
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_has_time_column_then_variables() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.csv");
        let cols = vec!["cortisol".to_string(), "hamd17".to_string()];
        let rows = vec![vec![1.0, 20.0], vec![2.0, 19.5]];
        write_table(&path, Table { columns: &cols, times: &[0.0, 1.0], rows: &rows }).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().next().unwrap(), "time_h,cortisol,hamd17");
        assert_eq!(text.lines().nth(2).unwrap(), "1,2,19.5");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no temporary file left");
    }

    #[test]
    fn parquet_round_trips_shape() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.parquet");
        let cols = vec!["a".to_string()];
        let rows = vec![vec![1.0], vec![2.0], vec![3.0]];
        write_table(&path, Table { columns: &cols, times: &[0.0, 1.0, 2.0], rows: &rows }).unwrap();
        let file = std::fs::File::open(&path).unwrap();
        let reader =
            parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file).unwrap().build().unwrap();
        let batches: Vec<_> = reader.collect::<Result<_, _>>().unwrap();
        assert_eq!(batches[0].num_rows(), 3);
        assert_eq!(batches[0].num_columns(), 2);
    }

    #[test]
    fn unknown_extension_is_an_error_and_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.xlsx");
        let err = write_table(&path, Table { columns: &[], times: &[], rows: &[] }).unwrap_err();
        assert!(err.to_string().contains(".csv"));
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
