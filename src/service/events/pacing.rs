//! How deliveries are paced: when a failed one is retried ([`retry_delay`]), and each
//! webhook's share of the delivery worker, so that one receiver that hangs or fails
//! does not slow the deliveries to the others.
//!
//! - **Share.** A webhook has at most [`share`] deliveries in flight in a process, an
//!   eighth of `PROFILES_WEBHOOK_CONCURRENCY` (at least one): seven receivers that never
//!   answer hold at most seven eighths of the slots until their timeouts free them, and
//!   the others are sent in the rest at once.
//! - **Backoff.** After a failed attempt, a webhook's deliveries that were never
//!   attempted wait, as long as a delivery's retry would (the retry delay for its
//!   failures in a row), while its retries still go when due, each on its own schedule.
//!   A success ends the wait, and so does switching the webhook back on (which clears
//!   its `failing_since`). So a dead receiver gets one probe per backoff, not its whole
//!   queue one timeout after another.
//! - **Turns.** Webhooks are offered the free slots in turn, a different one first at
//!   each claim, so that none is always last when slots are scarce.
//!
//! Kept in memory by each worker: a restarted process, or another replica, starts afresh.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// The longest wait between retries.
const MAX_RETRY_DELAY: Duration = Duration::from_secs(12 * 3600);

/// The delay before retry number `failed` (1 after the first failed attempt): the base
/// times 4^(failed−1), at most 12 hours, times a random factor in [0.8, 1.2) so that
/// deliveries failed together do not come back together.
pub(crate) fn retry_delay(base: Duration, failed: u32) -> Duration {
    let exponential = base.saturating_mul(4u32.saturating_pow(failed.saturating_sub(1))).min(MAX_RETRY_DELAY);
    exponential.mul_f64(0.8 + 0.4 * fastrand::f64())
}

/// How many deliveries of one webhook a process sends at once, out of `concurrency`.
pub(crate) fn share(concurrency: u32) -> usize {
    (concurrency as usize / 8).max(1)
}

/// What the worker knows of the webhooks it sends to.
pub(crate) struct Pacing {
    share: usize,
    retry_base: Duration,
    webhooks: HashMap<Uuid, Pace>,
    /// Which webhook is offered slots first at the next claim.
    turn: usize,
}

/// One webhook's deliveries in flight, and its failures since its last success.
#[derive(Default)]
struct Pace {
    in_flight: usize,
    failures: u32,
    /// Until when its deliveries never attempted wait.
    new_ones_wait_until: Option<DateTime<Utc>>,
}

impl Pacing {
    pub(crate) fn new(concurrency: u32, retry_base: Duration) -> Self {
        Pacing { share: share(concurrency), retry_base, webhooks: HashMap::new(), turn: 0 }
    }

    /// `webhooks` in the order they are offered slots at this claim (each claim starts
    /// one further along).
    pub(crate) fn in_turn<T>(&mut self, mut webhooks: Vec<T>) -> Vec<T> {
        if !webhooks.is_empty() {
            let first = self.turn % webhooks.len();
            webhooks.rotate_left(first);
            self.turn = self.turn.wrapping_add(1);
        }
        webhooks
    }

    /// How many more deliveries of `webhook` may be in flight.
    pub(crate) fn room(&self, webhook: Uuid) -> usize {
        self.share.saturating_sub(self.webhooks.get(&webhook).map_or(0, |pace| pace.in_flight))
    }

    /// Whether `webhook`'s deliveries never attempted wait at `now`. `failing` is what
    /// the database says: a webhook switched back on is not, and its wait is over.
    pub(crate) fn holds_new_ones(&mut self, webhook: Uuid, failing: bool, now: DateTime<Utc>) -> bool {
        let Some(pace) = self.webhooks.get_mut(&webhook) else { return false };
        if !failing {
            (pace.failures, pace.new_ones_wait_until) = (0, None);
        }
        pace.new_ones_wait_until.is_some_and(|until| until > now)
    }

    /// Counts a delivery of `webhook` as in flight.
    pub(crate) fn claimed(&mut self, webhook: Uuid) {
        self.webhooks.entry(webhook).or_default().in_flight += 1;
    }

    /// Counts an attempt of `webhook`, ended at `now`, as done. After a failure, returns
    /// when its deliveries never attempted may go again.
    pub(crate) fn finished(&mut self, webhook: Uuid, succeeded: bool, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let pace = self.webhooks.entry(webhook).or_default();
        pace.in_flight = pace.in_flight.saturating_sub(1);
        let until = if succeeded {
            (pace.failures, pace.new_ones_wait_until) = (0, None);
            None
        } else {
            pace.failures = pace.failures.saturating_add(1);
            let delay = chrono::Duration::from_std(retry_delay(self.retry_base, pace.failures))
                .unwrap_or_else(|_| chrono::Duration::hours(12));
            pace.new_ones_wait_until = Some(now + delay);
            pace.new_ones_wait_until
        };
        if pace.in_flight == 0 && pace.failures == 0 {
            // Nothing left to remember: the map holds only webhooks in flight or failing.
            self.webhooks.remove(&webhook);
        }
        until
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_grow_fourfold_with_jitter_and_a_ceiling() {
        let base = Duration::from_secs(30);
        for failed in 1..=8 {
            let nominal = base.saturating_mul(4u32.pow(failed - 1)).min(MAX_RETRY_DELAY);
            for _ in 0..50 {
                let delay = retry_delay(base, failed);
                assert!(delay >= nominal.mul_f64(0.8) && delay < nominal.mul_f64(1.2), "{failed}: {delay:?}");
            }
        }
        // Eight attempts with the defaults span about a day.
        let total: Duration = (1..8).map(|n| base.saturating_mul(4u32.pow(n - 1)).min(MAX_RETRY_DELAY)).sum();
        assert!(total > Duration::from_secs(20 * 3600) && total < Duration::from_secs(28 * 3600), "{total:?}");
    }

    #[test]
    fn a_webhook_has_an_eighth_of_the_slots_and_at_least_one() {
        assert_eq!([1, 8, 15, 16, 64].map(share), [1, 1, 1, 2, 8]);
        let mut pacing = Pacing::new(16, Duration::from_secs(30));
        let (hook, other) = (Uuid::from_u128(1), Uuid::from_u128(2));
        pacing.claimed(hook);
        pacing.claimed(hook);
        assert_eq!((pacing.room(hook), pacing.room(other)), (0, 2));
        pacing.finished(hook, true, Utc::now());
        assert_eq!(pacing.room(hook), 1);
    }

    #[test]
    fn a_failure_holds_new_deliveries_back_until_a_success_or_the_webhook_is_switched_on() {
        let mut pacing = Pacing::new(16, Duration::from_secs(30));
        let hook = Uuid::from_u128(1);
        let now = Utc::now();
        pacing.claimed(hook);
        let until = pacing.finished(hook, false, now).expect("a wait");
        // The first retry's delay, 30 s give or take a fifth; the next one four times it.
        assert!(until > now + chrono::Duration::seconds(23) && until < now + chrono::Duration::seconds(37));
        assert!(pacing.holds_new_ones(hook, true, now));
        assert!(!pacing.holds_new_ones(hook, true, until));
        pacing.claimed(hook);
        let later = pacing.finished(hook, false, until).expect("a longer wait");
        assert!(later > until + chrono::Duration::seconds(90));
        assert!(!pacing.holds_new_ones(hook, false, until), "switched back on");
        pacing.claimed(hook);
        pacing.finished(hook, false, until);
        assert_eq!(pacing.finished(hook, true, until), None);
        assert!(!pacing.holds_new_ones(hook, true, until), "a success ends the wait");
        assert!(pacing.webhooks.is_empty(), "nothing kept of a webhook that is well and idle");
    }

    #[test]
    fn each_claim_offers_slots_to_another_webhook_first() {
        let mut pacing = Pacing::new(16, Duration::from_secs(30));
        assert_eq!(pacing.in_turn(vec![1, 2, 3]), [1, 2, 3]);
        assert_eq!(pacing.in_turn(vec![1, 2, 3]), [2, 3, 1]);
        assert_eq!(pacing.in_turn(Vec::<u8>::new()), Vec::<u8>::new());
    }
}
