//! Random streams. Each virtual patient has its own ChaCha8 stream, selected by the patient
//! index from the master seed, so a patient does not depend on which thread ran it, on how
//! many patients came before it, or on which shard it fell in.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The random stream of patient `index` under `master_seed`.
pub fn patient_rng(master_seed: u64, index: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(master_seed);
    rng.set_stream(index);
    rng
}

/// A stream for a purpose other than drawing patients (randomisation blocks, resampling), kept
/// apart from the patient streams by a different key derived from the master seed.
pub fn purpose_rng(master_seed: u64, purpose: u64, index: u64) -> ChaCha8Rng {
    // SplitMix64 finaliser of (seed, purpose): a different key for each purpose.
    let mut z = master_seed ^ purpose.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    let mut rng = ChaCha8Rng::seed_from_u64(z);
    rng.set_stream(index);
    rng
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngExt;

    #[test]
    fn a_patient_stream_depends_only_on_seed_and_index() {
        let a: Vec<u64> = (0..4).map(|_| 0).scan(patient_rng(7, 3), |r, _: u64| Some(r.random::<u64>())).collect();
        let b: Vec<u64> = (0..4).map(|_| 0).scan(patient_rng(7, 3), |r, _: u64| Some(r.random::<u64>())).collect();
        assert_eq!(a, b);
        let c: u64 = patient_rng(7, 4).random();
        let d: u64 = patient_rng(8, 3).random();
        assert_ne!(a[0], c);
        assert_ne!(a[0], d);
        let e: u64 = purpose_rng(7, 1, 3).random();
        assert_ne!(a[0], e);
    }
}
