//! The monthly refund budget (退税计划指标; MODEL.md §5 and §13).
//!
//! Claims join the queue on `t4` and are paid on working days, strictly from the
//! head, while the month's remaining budget covers them; budgets reset on each
//! month's first day and unpaid claims carry over. A claim larger than a whole
//! month's budget is paid when it reaches the head in a month in which nothing has
//! been paid yet, using up that month.

use chrono::Datelike;

use crate::calendar::{Calendar, NEVER};
use crate::population::Exporter;
use crate::scenario::Scenario;

/// A claim waiting for the budget.
#[derive(Debug, Clone, Copy)]
pub struct Waiting {
    /// Index of the claim.
    pub claim: u32,
    /// Day it joins the queue (`t4`).
    pub t4: i32,
    /// Amount.
    pub amount: f64,
    /// Priority level, 0 first (fifo: all 0; pilot_first: pilot 0, others 1; class: processing class).
    pub priority: u8,
}

/// What the budget did on one path: each claim's payment day and the months in
/// which it bound.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    /// Payment day of each claim (indexed like the arrivals), [`NEVER`] if unpaid
    /// by day `end − 1`.
    pub paid_on: Vec<i32>,
    /// For each month in which the budget bound — on some working day the head of
    /// the queue was ready but the month's remaining budget did not cover it — the
    /// last such day, in day order. A month binds within the measurement window
    /// when its day is ≥ 0 (`budget.binding_months`).
    pub binding: Vec<i32>,
}

/// Pays claims from the budget: `monthly[m]` is calendar month `m`'s amount
/// (January = 0). `arrivals` must be in queue order: by `t4`, then claim order.
///
/// MODEL.md §13: only working days pay; the queue is served strictly from its
/// head; a claim larger than a month's whole (positive) budget is paid when it
/// reaches the head in a month in which nothing has been paid yet, using up that
/// month. A month whose amount is 0 pays nothing (the big claim waits for a month
/// with a budget).
pub fn pay(
    cal: &Calendar,
    first: i32,
    end: i32,
    monthly: &[f64; 12],
    arrivals: &[Waiting],
    levels: usize,
    out: &mut Outcome,
) {
    let paid_on = &mut out.paid_on;
    paid_on.clear();
    paid_on.resize(arrivals.len(), NEVER);
    out.binding.clear();
    // Each level's queue: the arrivals that joined it, and its head. Nothing is
    // ever put back, so a list and a cursor serve as the queue.
    let mut queues: Vec<(Vec<u32>, usize)> = vec![(Vec::new(), 0); levels.max(1)];
    let mut next = 0;
    let mut budget = 0.0;
    let mut remaining = 0.0;
    let mut paid_this_month = false;
    let mut blocked_on: Option<i32> = None;
    for d in first..end {
        if d == first || cal.is_month_start(d) {
            out.binding.extend(blocked_on.take());
            budget = monthly[cal.date(d).month0() as usize];
            remaining = budget;
            paid_this_month = false;
        }
        while next < arrivals.len() && arrivals[next].t4 <= d {
            queues[arrivals[next].priority as usize].0.push(next as u32);
            next += 1;
        }
        if !cal.is_working(d) {
            continue;
        }
        'serve: for (queue, head) in &mut queues {
            while let Some(&i) = queue.get(*head) {
                let i = i as usize;
                let a = arrivals[i].amount;
                if a <= remaining {
                    remaining -= a;
                } else if !paid_this_month && a > budget && budget > 0.0 {
                    remaining = 0.0;
                } else {
                    blocked_on = Some(d);
                    break 'serve;
                }
                paid_this_month = true;
                paid_on[i] = d;
                *head += 1;
            }
        }
    }
    out.binding.extend(blocked_on);
}

/// A warning when the monthly budget is far below demand: under half the average
/// monthly refunds the population claims (Σ annual exports × refund rate × cash
/// share / 12, at season factor 1 and the fixed `economy.demand_factor`, else 1)
/// against the average of the twelve monthly amounts. The queue then grows
/// without bound and the window measures how long the backlog is, not the policy.
pub fn demand_warning(s: &Scenario, exporters: &[Exporter]) -> Option<String> {
    let quota = s.policy.quota.as_ref()?;
    let monthly = quota.mean_monthly();
    let demand: f64 = exporters
        .iter()
        .map(|e| e.annual_exports * e.refund_per_fob(s))
        .sum::<f64>()
        * s.economy.demand_factor.unwrap_or(1.0)
        / 12.0;
    (demand > 0.0 && monthly < 0.5 * demand).then(|| {
        let share = 100.0 * monthly / demand;
        format!(
            "the monthly refund budget (policy.quota.monthly = {:.0} yuan{}) is {} of the CNY {} of refunds the exporters claim in an average month; the queue grows all year and the results measure the backlog — raise policy.quota.monthly (e.g. to {:.0}, 1.1 × demand) or remove policy.quota",
            monthly,
            if quota.monthly.iter().any(|m| *m != monthly) {
                " on average over the 12 months"
            } else {
                ""
            },
            if share < 1.0 {
                "under 1%".to_string()
            } else {
                format!("{share:.0}%")
            },
            crate::report::cny_en(demand),
            (1.1 * demand).ceil()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::{OFFICIAL_CSV, WorkingDays, parse_official};
    use chrono::NaiveDate;
    use std::collections::BTreeMap;

    fn cal() -> Calendar {
        let start = NaiveDate::from_ymd_opt(2017, 3, 1).unwrap();
        Calendar::new(
            start,
            0,
            200,
            WorkingDays::MonFri,
            &parse_official(OFFICIAL_CSV).unwrap(),
            &[],
            &[],
        )
    }

    /// Payment days with the same amount every month.
    fn paid(c: &Calendar, monthly: f64, arrivals: &[Waiting], levels: usize) -> Vec<i32> {
        let mut out = Outcome::default();
        pay(c, 0, 200, &[monthly; 12], arrivals, levels, &mut out);
        out.paid_on
    }

    fn w(claim: u32, t4: i32, amount: f64, priority: u8) -> Waiting {
        Waiting {
            claim,
            t4,
            amount,
            priority,
        }
    }

    #[test]
    fn never_pays_more_than_a_month_and_pays_in_order() {
        let c = cal();
        // 40 claims of 30 on day 0 with a budget of 100 a month: 3 a month.
        let arrivals: Vec<Waiting> = (0..40).map(|i| w(i, 0, 30.0, 0)).collect();
        let paid = paid(&c, 100.0, &arrivals, 1);
        let mut by_month = std::collections::BTreeMap::<i32, f64>::new();
        for (i, d) in paid.iter().enumerate() {
            if *d != NEVER {
                *by_month.entry(c.month_of(*d)).or_default() += arrivals[i].amount;
                assert!(c.is_working(*d));
            }
        }
        assert!(by_month.values().all(|v| *v <= 100.0));
        assert_eq!(by_month.values().next(), Some(&90.0));
        // FIFO: payment days never decrease along the queue.
        let days: Vec<i32> = paid.iter().copied().filter(|d| *d != NEVER).collect();
        assert!(days.windows(2).all(|p| p[0] <= p[1]));
        assert_eq!(days.len(), 3 * 7, "March–September pay three claims each");
    }

    #[test]
    fn priority_levels_are_served_first_and_the_head_blocks() {
        let c = cal();
        // Both ready on day 0, the non-pilot claim first in claim order:
        // pilot_first pays the pilot claim first.
        let arrivals = vec![w(0, 0, 60.0, 1), w(1, 0, 60.0, 0)];
        let p = paid(&c, 100.0, &arrivals, 2);
        assert!(p[1] < p[0], "{p:?}");
        // The head that does not fit blocks smaller claims behind it (no skipping).
        let arrivals = vec![w(0, 0, 60.0, 0), w(1, 0, 60.0, 0), w(2, 0, 10.0, 0)];
        let p = paid(&c, 100.0, &arrivals, 1);
        assert_eq!(p[0], 0);
        assert!(p[2] >= p[1] && p[1] > 0);
    }

    #[test]
    fn a_claim_bigger_than_the_budget_uses_up_a_fresh_month() {
        let c = cal();
        let arrivals = vec![w(0, 0, 50.0, 0), w(1, 0, 250.0, 0), w(2, 0, 10.0, 0)];
        let paid = paid(&c, 100.0, &arrivals, 1);
        assert_eq!(paid[0], 0, "1 March 2017 is a Wednesday");
        assert_eq!(
            c.date(paid[1]).to_string(),
            "2017-04-01",
            "Saturday 1 April 2017 was a make-up workday"
        );
        assert_eq!(
            c.month_of(paid[2]),
            c.month_of(paid[1]) + 1,
            "the big claim used up April"
        );
    }

    /// Sum paid per calendar month (by `Calendar::month_of`) and payment count.
    fn by_month(c: &Calendar, arrivals: &[Waiting], paid: &[i32]) -> BTreeMap<i32, (f64, usize)> {
        let mut m = BTreeMap::<i32, (f64, usize)>::new();
        for (a, d) in arrivals.iter().zip(paid) {
            if *d != NEVER {
                let e = m.entry(c.month_of(*d)).or_default();
                e.0 += a.amount;
                e.1 += 1;
            }
        }
        m
    }

    #[test]
    fn twelve_monthly_amounts_are_each_months_own_and_a_zero_month_pays_nothing() {
        let c = cal();
        let arrivals: Vec<Waiting> = (0..40).map(|i| w(i, 0, 30.0, 0)).collect();
        // January first: March 100, April 0, May 50, June 1 (smaller than any claim).
        let mut monthly = [100.0; 12];
        monthly[3] = 0.0;
        monthly[4] = 50.0;
        monthly[5] = 1.0;
        let mut out = Outcome::default();
        pay(&c, 0, 200, &monthly, &arrivals, 1, &mut out);
        let m = by_month(&c, &arrivals, &out.paid_on);
        let march = c.month_of(0);
        assert_eq!(m[&march], (90.0, 3));
        assert!(!m.contains_key(&(march + 1)), "April's budget is 0: {m:?}");
        assert_eq!(
            m[&(march + 2)],
            (30.0, 1),
            "May: 30 of 50, the next 30 waits"
        );
        assert_eq!(
            m[&(march + 3)],
            (30.0, 1),
            "June's 1 yuan: the one-claim-larger-than-a-month rule pays one claim and uses up June"
        );
        assert_eq!(m[&(march + 4)], (90.0, 3));
        // Every month from March to September bound (claims were always waiting).
        let months: Vec<i32> = out.binding.iter().map(|d| c.month_of(*d)).collect();
        assert_eq!(months, (march..march + 7).collect::<Vec<_>>());
        assert!(out.binding.iter().all(|d| c.is_working(*d)));
    }

    #[test]
    fn a_budget_that_covers_every_claim_never_binds() {
        let c = cal();
        let arrivals: Vec<Waiting> = (0..40).map(|i| w(i, 5 * i as i32, 30.0, 0)).collect();
        let mut out = Outcome::default();
        pay(&c, 0, 200, &[1000.0; 12], &arrivals, 1, &mut out);
        assert!(out.binding.is_empty(), "{:?}", out.binding);
        // Each claim is paid on its first working day at or after t4.
        for (a, d) in arrivals.iter().zip(&out.paid_on) {
            assert!(*d >= a.t4 && c.is_working(*d));
            assert!((a.t4..*d).all(|x| !c.is_working(x)));
        }
    }

    #[test]
    fn a_month_binds_once_however_many_days_it_blocks() {
        let c = cal();
        // 4 claims of 60 with 100 a month: one a month, each month blocks on many days.
        let arrivals: Vec<Waiting> = (0..4).map(|i| w(i, 0, 60.0, 0)).collect();
        let mut out = Outcome::default();
        pay(&c, 0, 200, &[100.0; 12], &arrivals, 1, &mut out);
        let m = by_month(&c, &arrivals, &out.paid_on);
        assert!(m.values().all(|(_, n)| *n == 1), "{m:?}");
        // March, April and May block (a claim waits); June pays the last and stops.
        let months: Vec<i32> = out.binding.iter().map(|d| c.month_of(*d)).collect();
        let march = c.month_of(0);
        assert_eq!(months, vec![march, march + 1, march + 2]);
        // The last blocked day of March is its last working day.
        assert_eq!(c.date(out.binding[0]).to_string(), "2017-03-31");
    }
}
