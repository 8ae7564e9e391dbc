//! The monthly refund budget (退税计划指标; MODEL.md §5 and §13).
//!
//! Claims join the queue on `t4` and are paid on working days, strictly from the
//! head, while the month's remaining budget covers them; budgets reset on each
//! month's first day and unpaid claims carry over. A claim larger than a whole
//! month's budget is paid when it reaches the head in a month in which nothing has
//! been paid yet, using up that month.

use std::collections::VecDeque;

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

/// Pays claims from the budget. `arrivals` must be in queue order: by `t4`, then
/// claim order. Returns each claim's payment day (indexed like `arrivals`),
/// [`NEVER`] if unpaid by day `end − 1`.
pub fn pay(
    cal: &Calendar,
    first: i32,
    end: i32,
    monthly: f64,
    arrivals: &[Waiting],
    levels: usize,
    paid_on: &mut Vec<i32>,
) {
    paid_on.clear();
    paid_on.resize(arrivals.len(), NEVER);
    let mut queues: Vec<VecDeque<usize>> = vec![VecDeque::new(); levels.max(1)];
    let mut next = 0;
    let mut remaining = monthly;
    let mut paid_this_month = false;
    for d in first..end {
        if d == first || cal.is_month_start(d) {
            remaining = monthly;
            paid_this_month = false;
        }
        while next < arrivals.len() && arrivals[next].t4 <= d {
            queues[arrivals[next].priority as usize].push_back(next);
            next += 1;
        }
        if !cal.is_working(d) {
            continue;
        }
        'serve: for queue in &mut queues {
            while let Some(&i) = queue.front() {
                let a = arrivals[i].amount;
                if a <= remaining {
                    remaining -= a;
                } else if !paid_this_month && a > monthly {
                    remaining = 0.0;
                } else {
                    break 'serve;
                }
                paid_this_month = true;
                paid_on[i] = d;
                queue.pop_front();
            }
        }
    }
}

/// A warning when the monthly budget is far below demand: under half the average
/// monthly refunds the population claims (Σ annual exports × refund rate × cash
/// share / 12, at season and demand factor 1). The queue then grows without
/// bound and the window measures how long the backlog is, not the policy.
pub fn demand_warning(s: &Scenario, exporters: &[Exporter]) -> Option<String> {
    let monthly = s.policy.quota.as_ref()?.monthly;
    let demand: f64 = exporters
        .iter()
        .map(|e| e.annual_exports * e.refund_per_fob(s))
        .sum::<f64>()
        / 12.0;
    (demand > 0.0 && monthly < 0.5 * demand).then(|| {
        let share = 100.0 * monthly / demand;
        format!(
            "the monthly refund budget (policy.quota.monthly = {:.0} yuan) is {} of the CNY {} of refunds the exporters claim in an average month; the queue grows all year and the results measure the backlog — raise policy.quota.monthly (e.g. to {:.0}, 1.1 × demand) or remove policy.quota",
            monthly,
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
        let mut paid = Vec::new();
        pay(&c, 0, 200, 100.0, &arrivals, 1, &mut paid);
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
        let mut paid = Vec::new();
        pay(&c, 0, 200, 100.0, &arrivals, 2, &mut paid);
        assert!(paid[1] < paid[0], "{paid:?}");
        // The head that does not fit blocks smaller claims behind it (no skipping).
        let arrivals = vec![w(0, 0, 60.0, 0), w(1, 0, 60.0, 0), w(2, 0, 10.0, 0)];
        pay(&c, 0, 200, 100.0, &arrivals, 1, &mut paid);
        assert_eq!(paid[0], 0);
        assert!(paid[2] >= paid[1] && paid[1] > 0);
    }

    #[test]
    fn a_claim_bigger_than_the_budget_uses_up_a_fresh_month() {
        let c = cal();
        let arrivals = vec![w(0, 0, 50.0, 0), w(1, 0, 250.0, 0), w(2, 0, 10.0, 0)];
        let mut paid = Vec::new();
        pay(&c, 0, 200, 100.0, &arrivals, 1, &mut paid);
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
}
