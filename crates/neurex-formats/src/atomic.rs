//! Write-then-rename, so that readers never see a half-written file.

use crate::FormatError;
use std::io::Write;
use std::path::Path;

/// Create `path` by writing into a temporary file in the same directory and renaming it
/// into place when `write` succeeds. On failure nothing is left behind.
pub fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut std::fs::File) -> Result<(), FormatError>,
) -> Result<(), FormatError> {
    let name = path.display().to_string();
    let io = |source| FormatError::Io { path: name.clone(), source };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    if !dir.is_dir() {
        return Err(io(std::io::Error::new(std::io::ErrorKind::NotFound, "the directory does not exist")));
    }
    let file_name = path.file_name().map(|f| f.to_string_lossy().to_string()).unwrap_or_else(|| "out".into());
    let tmp = dir.join(format!(".{file_name}.{}.partial", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp).map_err(io)?;
        write(&mut f)?;
        f.flush().map_err(io)?;
        f.sync_all().map_err(io)?;
        std::fs::rename(&tmp, path).map_err(io)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
