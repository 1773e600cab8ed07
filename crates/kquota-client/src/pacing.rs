//! Client-side pacing of fetches from a broker that enforces a `consumer_byte_rate` quota.
//!
//! Why pacing: a throttled Fetch comes back empty (the broker drops the data and un-records its
//! bytes, `KafkaApis.handleFetchRequest`), and the broker's rate is a sum over about eleven
//! one-second samples (`quota.window.num` × `quota.window.size.seconds`). A consumer that simply
//! fetches whenever the broker lets it falls into a saw-tooth: the moment the old samples expire
//! it takes a whole window's worth in one burst, then spends the next window on empty throttled
//! fetches. Measured against Kafka 4.1 that averages about 75 % of the quota, in bursts.
//!
//! After the first throttle from a broker, [`FetchPacer`] spaces the fetches to that broker at an
//! estimate of the quota. The first estimate is the bytes received from the broker over the last
//! window divided by the window (right after the burst, that is close to the quota). From then
//! on the estimate follows the broker's answer in the way TCP follows congestion: it creeps up
//! 1 % a second while the broker lets fetches through, and drops 5 % at a throttle. The
//! broker's rate lags by a whole window, so after each change the pacer holds for one window
//! and ignores further throttles (the broker is still counting what came before). After three
//! windows without a throttle the pacer steps aside: the quota is gone, or far above the
//! consumer's pace. A consumer that is never throttled is never paced.
//!
//! The pacer is plain state over timestamps and byte counts (no I/O), so it is tested with a
//! made-up clock.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// The broker's default quota window: `quota.window.num` (11) × `quota.window.size.seconds` (1).
pub(crate) const QUOTA_WINDOW: Duration = Duration::from_secs(11);
/// How fast the estimate grows while the broker does not throttle, per second.
const RAMP_PER_SEC: f64 = 0.01;
/// The share of the estimate kept at a throttle.
const DECREASE: f64 = 0.95;
/// Windows without a throttle after which pacing stops.
const IDLE_WINDOWS: u32 = 3;

/// Spacing of fetches to one broker; see the module documentation.
#[derive(Debug)]
pub(crate) struct FetchPacer {
    window: Duration,
    /// Bytes received per response within the last `window`.
    received: VecDeque<(Instant, u64)>,
    /// Estimated quota in bytes/s, once the broker has throttled.
    rate: Option<f64>,
    /// The last response (for the ramp).
    last: Option<Instant>,
    /// The last throttle (to step aside after [`IDLE_WINDOWS`] windows without one).
    last_throttle: Option<Instant>,
    /// Until then, throttles do not change the estimate (the broker's window still holds the
    /// traffic from before the last change).
    hold_until: Option<Instant>,
}

impl FetchPacer {
    /// A pacer for a broker whose quota window is `window`.
    pub(crate) fn new(window: Duration) -> Self {
        Self {
            window,
            received: VecDeque::new(),
            rate: None,
            last: None,
            last_throttle: None,
            hold_until: None,
        }
    }

    /// The current estimate of the quota in bytes/s, if the broker has throttled.
    pub(crate) fn rate(&self) -> Option<f64> {
        self.rate
    }

    /// Records a Fetch response of `bytes` (as the broker counts them) with its
    /// `throttle_ms`, and returns how long to wait before the next fetch to this broker. The
    /// throttle itself is waited out by the connection layer (KIP-219), not here.
    pub(crate) fn on_response(&mut self, now: Instant, bytes: u64, throttle_ms: i32) -> Duration {
        while self
            .received
            .front()
            .is_some_and(|(t, _)| now.saturating_duration_since(*t) > self.window)
        {
            self.received.pop_front();
        }
        if bytes > 0 {
            self.received.push_back((now, bytes));
        }
        let since_last = self
            .last
            .map_or(Duration::ZERO, |t| now.saturating_duration_since(t));
        self.last = Some(now);
        if throttle_ms > 0 {
            self.last_throttle = Some(now);
            if self.hold_until.is_some_and(|t| now < t) {
                return Duration::ZERO;
            }
            let estimate = match self.rate {
                Some(rate) => Some(rate * DECREASE),
                None => {
                    let sum: u64 = self.received.iter().map(|(_, b)| b).sum();
                    (sum > 0).then(|| sum as f64 / self.window.as_secs_f64())
                }
            };
            if estimate.is_some() {
                self.rate = estimate;
                self.hold_until = Some(now + self.window);
            }
            return Duration::ZERO;
        }
        if self
            .last_throttle
            .is_some_and(|t| now.saturating_duration_since(t) > IDLE_WINDOWS * self.window)
        {
            self.rate = None;
            self.last_throttle = None;
            self.hold_until = None;
        }
        match self.rate.as_mut() {
            Some(rate) if bytes > 0 => {
                // Ramp by the time that passed, at most one second's worth at once.
                *rate *= 1.0 + RAMP_PER_SEC * since_last.as_secs_f64().min(1.0);
                Duration::from_secs_f64(bytes as f64 / *rate)
            }
            _ => Duration::ZERO,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn never_throttled_means_never_paced() {
        let mut p = FetchPacer::new(QUOTA_WINDOW);
        let t0 = Instant::now();
        for i in 0..100 {
            assert_eq!(p.on_response(t0 + ms(i), 1_000_000, 0), Duration::ZERO);
        }
        assert_eq!(p.rate(), None);
    }

    #[test]
    fn a_throttle_after_a_burst_paces_at_the_window_average() {
        let mut p = FetchPacer::new(QUOTA_WINDOW);
        let t0 = Instant::now();
        // A burst of 55 KiB (one window at 5 KiB/s), then a throttle.
        for i in 0..55 {
            p.on_response(t0 + ms(i), 1024, 0);
        }
        assert_eq!(p.on_response(t0 + ms(60), 0, 900), Duration::ZERO);
        let rate = p.rate().unwrap();
        assert!((rate - 55.0 * 1024.0 / 11.0).abs() < 1.0, "{rate}");
        // The next 1 KiB fetch waits about 1024 / 5120 s.
        let wait = p.on_response(t0 + ms(1000), 1024, 0);
        assert!(wait > ms(180) && wait < ms(210), "{wait:?}");
    }

    #[test]
    fn the_estimate_ramps_up_and_drops_at_a_throttle_after_the_hold() {
        let mut p = FetchPacer::new(QUOTA_WINDOW);
        let t0 = Instant::now();
        for i in 0..11 {
            p.on_response(t0 + Duration::from_secs(i), 1000, 0);
        }
        p.on_response(t0 + Duration::from_secs(11), 0, 500);
        let first = p.rate().unwrap();
        assert!((first - 11_000.0 / 11.0).abs() < 1.0, "{first}");
        // Throttles within the hold (one window) leave the estimate alone.
        p.on_response(t0 + Duration::from_secs(12), 0, 1000);
        p.on_response(t0 + Duration::from_secs(13), 0, 1000);
        assert_eq!(p.rate(), Some(first));
        let mut t = t0 + Duration::from_secs(13);
        for _ in 0..10 {
            t += Duration::from_secs(1);
            p.on_response(t, 1000, 0);
        }
        let ramped = p.rate().unwrap();
        assert!(
            ramped > first * 1.09 && ramped < first * 1.12,
            "{first} -> {ramped}"
        );
        // Past the hold, a throttle takes 5 % off.
        t += ms(10);
        p.on_response(t, 0, 200);
        let again = p.rate().unwrap();
        assert!((again - ramped * 0.95).abs() < 1e-6, "{ramped} -> {again}");
    }

    #[test]
    fn steps_aside_after_three_windows_without_a_throttle() {
        let mut p = FetchPacer::new(QUOTA_WINDOW);
        let t0 = Instant::now();
        p.on_response(t0, 1000, 0);
        p.on_response(t0 + ms(1), 0, 1000);
        assert!(p.rate().is_some());
        assert!(p.on_response(t0 + Duration::from_secs(5), 1000, 0) > Duration::ZERO);
        assert!(p.on_response(t0 + Duration::from_secs(30), 1000, 0) > Duration::ZERO);
        let later = t0 + Duration::from_secs(34);
        assert_eq!(p.on_response(later, 1000, 0), Duration::ZERO);
        assert_eq!(p.rate(), None);
    }

    #[test]
    fn a_first_throttle_with_nothing_received_sets_no_estimate() {
        let mut p = FetchPacer::new(QUOTA_WINDOW);
        let t0 = Instant::now();
        // The very first fetch is throttled: nothing to estimate from, so no pacing yet.
        assert_eq!(p.on_response(t0, 0, 20), Duration::ZERO);
        assert_eq!(p.rate(), None);
        assert_eq!(p.on_response(t0 + ms(30), 2000, 0), Duration::ZERO);
        p.on_response(t0 + ms(40), 0, 300);
        assert!((p.rate().unwrap() - 2000.0 / 11.0).abs() < 1e-6);
    }
}
