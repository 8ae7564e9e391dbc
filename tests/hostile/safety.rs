//! Hostile-input tests: safety.

#[allow(unused_imports)]
use crate::support::*;
