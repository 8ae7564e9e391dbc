//! Reading what users write, below both [`crate::scenario`] and
//! [`crate::population`]: amounts in yuan (`"3亿"`, `"300万"`), user text made
//! safe for one-line messages, file digests, and the population CSV reader.
//!
//! Nothing here knows the scenario model, so both the scenario builder and the
//! population draw can use it without importing each other.

pub mod amount;
pub mod population_csv;

pub use amount::{amount, parse_amount};

use sha2::{Digest, Sha256};

/// `s` with control characters (newlines, tabs) escaped, for a one-line message.
pub fn printable(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_debug().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// A user's text for a message: one line, at most 60 characters.
pub fn clip(s: &str) -> String {
    let head: String = s.chars().take(60).collect();
    let more = if s.chars().count() > 60 { "…" } else { "" };
    format!("{}{more}", printable(&head))
}

/// Hex sha256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
