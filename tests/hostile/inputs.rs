//! Hostile-input tests: inputs.

#[allow(unused_imports)]
use crate::support::*;
