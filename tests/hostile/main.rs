//! Hostile-input tests: every way a user (or an attacker) can misuse refundsim
//! that once lost data, panicked, hung, ran out of memory or misled, each pinned
//! by a test named for the behaviour it guarantees. One crate so the list can
//! grow; one module per area.

#[path = "../support/mod.rs"]
mod support;

mod inputs;
mod numbers;
mod safety;
mod validation;
