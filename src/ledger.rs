//! What the liquidity mechanisms see of a path: its claims, the per-claim
//! financing record, the fixed facts of the model ([`World`]) and the narrow
//! [`Ledger`] they book flows and held cash into.
//!
//! This module stands below both the engine and the mechanisms, so that no
//! mechanism imports the engine (the engine implements [`Ledger`] for its
//! accumulators and builds the [`World`] from its model).

use crate::calendar::Calendar;
use crate::metrics::M;
use crate::population::Exporter;
use crate::scenario::{Mechanism, Scenario};

/// A refund claim on one path.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Claim {
    /// Declared (shipment day).
    pub t0: i32,
    /// Filed.
    pub t2: i32,
    /// Reviewed (approved or denied).
    pub t3: i32,
    /// Ready for payment (treasury done); NEVER if denied.
    pub t4: i32,
    /// Paid; NEVER if denied or not paid by the end of the window.
    pub t5: i32,
    /// Exporter index.
    pub exporter: u32,
    /// Denied at `t3`.
    pub denied: bool,
    /// Held for supplier verification before `t3` (for refund records, §14).
    pub verified: bool,
    /// Refund claimed (CNY).
    pub r: f64,
}

impl Claim {
    /// The day the claim ends: paid (`t5`) or denied (`t3`).
    #[inline]
    pub fn end(&self) -> i32 {
        if self.denied { self.t3 } else { self.t5 }
    }
}

/// Where an exporter's flows are booked: its accumulation cell, one per
/// platform × actual class. Every reported group (total, platform, class, `1+7`)
/// is a union of cells, so each event is added once, to its cell, and the groups
/// are summed from the cells when the path finishes (in a fixed order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cell(pub u32);

impl Cell {
    /// The cell of an exporter on platform `platform` with actual class `class` (0–3).
    #[inline]
    pub fn new(platform: usize, class: usize) -> Self {
        Cell((platform * 4 + class) as u32)
    }

    /// Its index in the accumulators.
    #[inline]
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// Where mechanisms book what happens: flows by metric and the financing cash
/// exporters hold against pending claims. Implemented by the engine's
/// accumulators; generic (static dispatch) in the hot loop.
pub trait Ledger {
    /// Adds `amount` to a flow metric of an exporter's cell.
    fn flow(&mut self, g: Cell, m: M, amount: f64);
    /// Financing cash `amount` held by the exporter from day `from` until `to`.
    fn held(&mut self, g: Cell, from: i32, to: i32, amount: f64);
}

/// The fixed facts of a model that mechanisms need on every path.
#[derive(Debug, Clone, Copy)]
pub struct World<'a> {
    /// The scenario.
    pub scenario: &'a Scenario,
    /// Working-day arithmetic.
    pub cal: &'a Calendar,
    /// The exporters.
    pub exporters: &'a [Exporter],
    /// First simulated day (−warmup).
    pub first: i32,
    /// End of the window: days `0 .. end` are measured.
    pub end: i32,
    /// The accumulation cell of each exporter.
    pub cell_of: &'a [Cell],
}

impl World<'_> {
    /// The accumulation cell of exporter `ei` (where its flows are booked).
    #[inline]
    pub fn cell_of(&self, ei: usize) -> Cell {
        self.cell_of[ei]
    }
}

/// How a claim is financed on a path (one record per claim, in claim order).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Financing {
    /// The claim-backed mechanism that financed it (turnover, guarantee or
    /// service), if any.
    pub backed_by: Option<Mechanism>,
    /// Advance or loan principal.
    pub amount: f64,
    /// Day the cash reaches the exporter.
    pub cash_day: i32,
    /// Whether the claim ends on or before the cash day (no cash, no charges).
    pub cancelled: bool,
    /// Credit drawn against the claim.
    pub credit: f64,
    /// Day the credit was drawn (and reached the exporter).
    pub credit_day: i32,
    /// Whether the draw was lost in a default.
    pub credit_lost: bool,
    /// The claim's exporter and whether it is denied, copied when it is first
    /// financed, so that settling it reads this record only (unset while
    /// [`Financing::financed`] is false).
    pub(crate) exporter: u32,
    pub(crate) denied: bool,
}

impl Financing {
    /// Whether any mechanism financed the claim (advance, loan or credit draw).
    #[inline]
    pub fn financed(&self) -> bool {
        self.backed_by.is_some() || self.credit > 0.0
    }
}

/// Calendar days / 365: the day count of every fee and interest (MODEL.md §13).
#[inline]
pub fn years(days: i32) -> f64 {
    days.max(0) as f64 / 365.0
}
