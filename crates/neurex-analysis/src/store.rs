//! Where per-patient results go: a store of chunks of consecutive patients. The CLI stores
//! each chunk as a Parquet file written atomically; tests use [`MemoryStore`]. A chunk is
//! either wholly stored or absent, which is what makes resuming exact.

use crate::trial::PatientRecord;
use std::collections::BTreeMap;

/// A store of chunks of patient records.
pub trait ChunkStore {
    /// Is chunk `chunk` stored?
    fn has(&self, chunk: u64) -> bool;
    /// Store a chunk (all or nothing).
    fn save(&mut self, chunk: u64, records: &[PatientRecord]) -> Result<(), String>;
    /// Read a stored chunk back.
    fn load(&self, chunk: u64) -> Result<Vec<PatientRecord>, String>;
}

/// Chunks kept in memory.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    /// Chunk index → records.
    pub chunks: BTreeMap<u64, Vec<PatientRecord>>,
}

impl ChunkStore for MemoryStore {
    fn has(&self, chunk: u64) -> bool {
        self.chunks.contains_key(&chunk)
    }
    fn save(&mut self, chunk: u64, records: &[PatientRecord]) -> Result<(), String> {
        self.chunks.insert(chunk, records.to_vec());
        Ok(())
    }
    fn load(&self, chunk: u64) -> Result<Vec<PatientRecord>, String> {
        self.chunks.get(&chunk).cloned().ok_or_else(|| "not stored".to_string())
    }
}

/// Several stores read as one (merging shards): a chunk is read from the first that has it.
pub struct MergedStore<'a> {
    /// The stores.
    pub parts: Vec<&'a dyn ChunkStore>,
}

impl ChunkStore for MergedStore<'_> {
    fn has(&self, chunk: u64) -> bool {
        self.parts.iter().any(|s| s.has(chunk))
    }
    fn save(&mut self, _chunk: u64, _records: &[PatientRecord]) -> Result<(), String> {
        Err("a merged store is read-only".into())
    }
    fn load(&self, chunk: u64) -> Result<Vec<PatientRecord>, String> {
        self.parts.iter().find(|s| s.has(chunk)).ok_or_else(|| "in none of the merged stores".to_string())?.load(chunk)
    }
}
