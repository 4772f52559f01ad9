//! The service's one clock: the time of writes and of the delivery worker, and "today"
//! for birthdays. Production reads the system clock; tests fix "today" and move "now"
//! forward ([`Clock::advance`]) instead of waiting for time to pass.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, NaiveDate, SubsecRound, TimeDelta, Utc};
use tokio::sync::watch;

/// A clock, shared by its clones: advancing one advances them all.
#[derive(Clone, Debug)]
pub struct Clock(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    /// "Today" for birthdays when fixed (tests).
    fixed_today: Option<NaiveDate>,
    /// How far [`Clock::advance`] has moved this clock ahead of the system's, in µs.
    ahead: AtomicI64,
    /// Changes whenever the clock is advanced (what waits on the clock looks again).
    advanced: watch::Sender<u64>,
}

impl Default for Clock {
    fn default() -> Self {
        Clock::system()
    }
}

impl Clock {
    /// The system clock.
    pub fn system() -> Clock {
        Clock::new(None)
    }

    /// The system clock, with "today" fixed at `today` (tests).
    pub fn with_today(today: NaiveDate) -> Clock {
        Clock::new(Some(today))
    }

    fn new(fixed_today: Option<NaiveDate>) -> Clock {
        Clock(Arc::new(Inner { fixed_today, ahead: AtomicI64::new(0), advanced: watch::Sender::new(0) }))
    }

    /// The time now, to the microsecond: what both databases store, so a value read
    /// back equals the value written (cursors depend on it).
    pub fn now(&self) -> DateTime<Utc> {
        let ahead = TimeDelta::microseconds(self.0.ahead.load(Ordering::SeqCst));
        (Utc::now() + ahead).trunc_subsecs(6)
    }

    /// "Today" for birthday fields: the fixed date, or the UTC date of [`Clock::now`].
    pub(crate) fn today(&self) -> NaiveDate {
        self.0.fixed_today.unwrap_or_else(|| self.now().date_naive())
    }

    /// Moves "now" forward by `by` (tests: a retry or a retention comes due at once),
    /// and wakes what waits on the clock.
    pub fn advance(&self, by: std::time::Duration) {
        let micros = i64::try_from(by.as_micros()).unwrap_or(i64::MAX);
        self.0.ahead.fetch_add(micros, Ordering::SeqCst);
        self.0.advanced.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Changes whenever the clock is advanced: a wait until a time on this clock also
    /// waits on it, and looks again when it changes.
    pub(crate) fn advanced(&self) -> watch::Receiver<u64> {
        self.0.advanced.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn now_is_in_microseconds_and_advances_for_every_clone() {
        let clock = Clock::with_today(NaiveDate::from_ymd_opt(2021, 12, 7).expect("a date"));
        let other = clock.clone();
        let before = other.now();
        assert_eq!(before.timestamp_subsec_nanos() % 1000, 0);
        let advanced = other.advanced();
        clock.advance(std::time::Duration::from_secs(3600));
        assert!(advanced.has_changed().expect("open"));
        assert!(other.now() - before >= TimeDelta::hours(1));
        assert_eq!(other.today(), NaiveDate::from_ymd_opt(2021, 12, 7).expect("a date"), "today stays fixed");
    }
}
