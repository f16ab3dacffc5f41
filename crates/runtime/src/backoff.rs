//! Reconnect back-off: exponential with jitter, capped, and never two CONNECTs within 5 s.

use crate::config::MIN_CONNECT_SPACING_MS;

/// When the next CONNECT may go out.
///
/// After the `n`-th consecutive failure (`n` from 0) the base delay is `min(max, min × 2ⁿ)`; the delay drawn is
/// uniform in `[base / 2, base]` ("equal jitter", so devices that lost the same broker do not come back in step),
/// and the attempt is never earlier than 5 s after the previous CONNECT (protocol.md §3.5, §10.11, §11.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    min_ms: u64,
    max_ms: u64,
    failures: u32,
    last_connect_at: Option<u64>,
}

impl Backoff {
    /// A back-off from `min_ms` to `max_ms` (both at least 1; `max_ms` is raised to `min_ms` if below).
    #[must_use]
    pub fn new(min_ms: u32, max_ms: u32) -> Self {
        let min_ms = u64::from(min_ms.max(1));
        Self {
            min_ms,
            max_ms: u64::from(max_ms).max(min_ms),
            failures: 0,
            last_connect_at: None,
        }
    }

    /// Consecutive failures so far.
    #[must_use]
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// The base delay (before jitter) after `failures` failures.
    #[must_use]
    pub fn base_delay_ms(&self, failures: u32) -> u64 {
        let factor = 1u64.checked_shl(failures.min(32)).unwrap_or(u64::MAX);
        self.min_ms.saturating_mul(factor).min(self.max_ms)
    }

    /// Records a CONNECT sent at `now`.
    pub fn connecting(&mut self, now: u64) {
        self.last_connect_at = Some(now);
    }

    /// Forgets the failures (the connection proved stable).
    pub fn reset(&mut self) {
        self.failures = 0;
    }

    /// Jumps to the cap: retrying soon will not help (credentials refused).
    pub fn saturate(&mut self) {
        while self.base_delay_ms(self.failures) < self.max_ms && self.failures < 32 {
            self.failures += 1;
        }
    }

    /// Counts one failure at `now` and returns when the next CONNECT is due. `random` is any 32-bit random value.
    pub fn next_attempt(&mut self, now: u64, random: u32) -> u64 {
        let base = self.base_delay_ms(self.failures);
        self.failures = self.failures.saturating_add(1);
        let half = base / 2;
        let jitter = u64::from(random) % (base - half + 1);
        let at = now.saturating_add(half + jitter);
        let earliest = self
            .last_connect_at
            .map_or(0, |t| t.saturating_add(MIN_CONNECT_SPACING_MS));
        at.max(earliest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_doubles_and_caps() {
        let b = Backoff::new(5_000, 60_000);
        let bases: heapless::Vec<u64, 6> = (0..6).map(|n| b.base_delay_ms(n)).collect();
        assert_eq!(
            bases.as_slice(),
            &[5_000, 10_000, 20_000, 40_000, 60_000, 60_000]
        );
    }

    #[test]
    fn jitter_stays_in_half_to_full_and_spacing_holds() {
        for random in [0, 1, 7_777, u32::MAX / 2, u32::MAX] {
            let mut b = Backoff::new(1_000, 60_000);
            b.connecting(10_000);
            // base 1 s, but a CONNECT went out at 10 s: not before 15 s.
            assert_eq!(b.next_attempt(10_100, random), 15_000);
            b.connecting(15_000);
            b.saturate();
            let at = b.next_attempt(15_000, random);
            assert!((45_000..=75_000).contains(&at), "{at}");
        }
    }

    #[test]
    fn reset_starts_over() {
        let mut b = Backoff::new(5_000, 60_000);
        for _ in 0..4 {
            b.next_attempt(0, 0);
        }
        assert_eq!(b.failures(), 4);
        b.reset();
        assert_eq!(b.next_attempt(100_000, 0), 102_500);
    }
}
