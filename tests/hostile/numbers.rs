//! Hostile-input tests: numbers.

#[allow(unused_imports)]
use crate::support::*;
