//! One claim's path through the tax bureau (MODEL.md §5): documents, filing,
//! review, verification hold, denial, treasury. The refund budget is in
//! [`crate::budget`]; it needs all claims at once.
//!
//! Each claim has its own stream; stage `k` always uses the `k`-th uniform of it
//! (see [`Stage`]), so changing one stage's distribution moves only that stage.

use crate::calendar::{Calendar, NEVER};
use crate::dist::Durations;
use crate::population::Exporter;
use crate::rng::Stream;
use crate::scenario::{Filing, Scenario};

/// The position of each stage's uniform in the claim's stream.
#[derive(Debug, Clone, Copy)]
#[repr(usize)]
pub enum Stage {
    /// Days to complete documents.
    Docs = 0,
    /// Filing day within the window (monthly) or filing lag (continuous).
    Filing = 1,
    /// Review working days.
    Review = 2,
    /// Whether a verification hold happens.
    VerificationHappens = 3,
    /// Length of the hold.
    VerificationDays = 4,
    /// Whether the claim is denied.
    Denial = 5,
    /// Treasury working days.
    Treasury = 6,
}

/// Number of uniforms every claim draws, used or not.
pub const STAGES: usize = 7;

/// The refund-speed policy compiled for fast inversion.
#[derive(Debug, Clone)]
pub struct Timeline {
    docs: Durations,
    monthly_window: Option<u32>,
    filing_lag: Durations,
    review: [Durations; 4],
    verification_prob: [f64; 4],
    verification_days: Durations,
    denial_prob: [f64; 4],
    treasury: Durations,
}

/// A claim's stage days up to the treasury.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stages {
    /// Documents complete.
    pub t1: i32,
    /// Filed.
    pub t2: i32,
    /// Reviewed (approved or denied), after any verification hold.
    pub t3: i32,
    /// Denied at `t3`.
    pub denied: bool,
    /// Held for supplier verification (函调) before `t3`.
    pub verified: bool,
    /// Treasury ready to pay ([`NEVER`] if denied).
    pub t4: i32,
}

/// Calendar days per working day (5 of 7), to put working-day stages on the
/// calendar-day scale of `warmup_days`.
const CALENDAR_PER_WORKDAY: f64 = 7.0 / 5.0;

/// The longest typical delay from shipment to treasury, in calendar days: for the
/// slowest processing class in use, the mean documents time, the mean wait to
/// filing (monthly: half a month to the next month plus half the filing window;
/// continuous: the mean lag), that class's mean review, the mean verification hold
/// (when that class can get one) and the mean treasury time. Returns the days and
/// their breakdown.
pub fn typical_delay(s: &Scenario) -> (f64, String) {
    let p = &s.policy;
    let docs = p.docs.mean();
    let filing = match &p.filing {
        Filing::Monthly { window_workdays } => {
            365.25 / 24.0 + 0.5 * *window_workdays as f64 * CALENDAR_PER_WORKDAY
        }
        Filing::Continuous { lag } => lag.mean(),
    };
    let treasury = p.treasury.mean() * CALENDAR_PER_WORKDAY;
    let hold = p.verification_days.mean();
    let (class, review, verification) = p
        .class_treatment
        .iter()
        .map(|&c| {
            let k = c as usize - 1;
            let v = if p.verification_prob[k] > 0.0 {
                hold
            } else {
                0.0
            };
            (k, p.review[k].mean() * CALENDAR_PER_WORKDAY, v)
        })
        .max_by(|a, b| (a.1 + a.2).total_cmp(&(b.1 + b.2)))
        .unwrap_or((0, 0.0, 0.0));
    let total = docs + filing + review + verification + treasury;
    let roman = ["I", "II", "III", "IV"][class];
    (
        total,
        format!(
            "documents {docs:.0} + filing {filing:.0} + class {roman} review {review:.0} + verification {verification:.0} + treasury {treasury:.0} calendar days"
        ),
    )
}

/// A warning when `warmup_days` is shorter than [`typical_delay`]: claims of the
/// slowest class shipped before the warm-up would still be in the pipeline on day
/// 0, so the window starts with the pipeline not yet full and measures too little
/// money tied up early on.
pub fn warmup_warning(s: &Scenario) -> Option<String> {
    let (days, parts) = typical_delay(s);
    (f64::from(s.warmup_days) < days).then(|| {
        format!(
            "scenario.warmup_days = {} is shorter than the longest typical delay, {days:.0} days ({parts}); the pipeline is not full on {} and early-window metrics are too low — set warmup_days to at least {:.0}",
            s.warmup_days,
            s.start_date,
            days.ceil()
        )
    })
}

impl Timeline {
    /// Compiles the scenario's policy.
    pub fn new(s: &Scenario) -> Self {
        let p = &s.policy;
        let (monthly_window, lag) = match &p.filing {
            Filing::Monthly { window_workdays } => (Some(*window_workdays), Durations::Fixed(0)),
            Filing::Continuous { lag } => (None, Durations::new(lag)),
        };
        Timeline {
            docs: Durations::new(&p.docs),
            monthly_window,
            filing_lag: lag,
            review: p.review.each_ref().map(Durations::new),
            verification_prob: p.verification_prob,
            verification_days: Durations::new(&p.verification_days),
            denial_prob: p.denial_prob,
            treasury: Durations::new(&p.treasury),
        }
    }

    /// The stage days of a claim declared on `t0`, from the claim's stream.
    #[inline]
    pub fn stages(&self, cal: &Calendar, e: &Exporter, t0: i32, st: &mut Stream) -> Stages {
        let mut u = [0.0; STAGES];
        for x in &mut u {
            *x = st.uniform();
        }
        self.stages_from(cal, e, t0, &u)
    }

    /// The stage days for given uniforms (pure: no randomness).
    #[inline]
    pub fn stages_from(&self, cal: &Calendar, e: &Exporter, t0: i32, u: &[f64; STAGES]) -> Stages {
        let t1 = t0.saturating_add(self.docs.days(u[Stage::Docs as usize]));
        let t2 = match self.monthly_window {
            Some(w) => cal.monthly_filing_day(t1, w, u[Stage::Filing as usize]),
            None => t1.saturating_add(self.filing_lag.days(u[Stage::Filing as usize])),
        };
        let mut t3 = cal.add_workdays(t2, self.review[e.pclass].days(u[Stage::Review as usize]));
        let verified = u[Stage::VerificationHappens as usize] < self.verification_prob[e.pclass];
        if verified {
            t3 = t3.saturating_add(
                self.verification_days
                    .days(u[Stage::VerificationDays as usize]),
            );
        }
        let denied = u[Stage::Denial as usize] < self.denial_prob[e.class];
        let t4 = if denied || t3 == NEVER {
            NEVER
        } else {
            cal.add_workdays(t3, self.treasury.days(u[Stage::Treasury as usize]))
        };
        Stages {
            t1,
            t2,
            t3,
            denied,
            verified,
            t4,
        }
    }
}
