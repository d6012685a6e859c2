//! Hashing.

use sha2::{Digest, Sha256};

/// Lower-case hex sha256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let d = Sha256::digest(bytes);
    d.iter().map(|b| format!("{b:02x}")).collect()
}
