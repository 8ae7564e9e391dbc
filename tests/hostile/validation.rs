//! Hostile-input tests: validation.

#[allow(unused_imports)]
use crate::support::*;
