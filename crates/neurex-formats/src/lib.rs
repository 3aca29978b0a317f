//! Output formats for time series: wide CSV and Parquet tables (`time_h`, then one column
//! per variable) and SVG plots. Every file is written to a temporary sibling and renamed into
//! place only when complete, so a failed run never leaves a partial file behind.

mod atomic;
mod plot;
mod records;
mod table;

pub use atomic::write_atomically;
pub use plot::{Panel, Series, plot_panels};
pub use records::{Records, read_records, write_records};
pub use table::{Table, TableFormat, write_table};

/// Why writing failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FormatError {
    /// File system error.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// An encoder failed.
    #[error("{path}: {message}")]
    Encode {
        /// The file.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// The file name does not say which format to write.
    #[error("{path}: unknown output format (use a .csv or .parquet file name)")]
    UnknownFormat {
        /// The file.
        path: String,
    },
}
