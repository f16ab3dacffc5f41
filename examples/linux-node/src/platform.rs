//! The runtime's platform traits on Linux: a tokio clock, the alarm output, the RNG.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use iot_runtime::{Actuators, Clock};
use tokio::time::Instant;

use crate::hardware::AlarmPin;

/// Milliseconds since the node started, on tokio's timer; wall time from the system clock.
#[derive(Debug, Clone, Copy)]
pub struct TokioClock {
    start: Instant,
}

impl TokioClock {
    /// A clock starting at 0 now.
    pub fn new() -> Self {
        Self {
            start: Instant::now(),
        }
    }
}

impl Default for TokioClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for TokioClock {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    async fn sleep_until(&self, deadline_ms: u64) {
        tokio::time::sleep_until(self.start + Duration::from_millis(deadline_ms)).await;
    }

    fn unix_time_ms(&self) -> Option<u64> {
        let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH).ok()?;
        u64::try_from(since_epoch.as_millis()).ok()
    }
}

/// The node's outputs: the alarm pin when one is wired, otherwise nothing (the alarm is shown on the console).
#[derive(Debug, Default)]
pub struct NodeActuators {
    alarm: Option<AlarmPin>,
}

impl NodeActuators {
    /// Outputs with an optional alarm pin.
    pub fn new(alarm: Option<AlarmPin>) -> Self {
        Self { alarm }
    }
}

impl Actuators for NodeActuators {
    async fn set_alarm(&mut self, on: bool) {
        if let Some(pin) = &mut self.alarm {
            if let Err(e) = pin.set(on) {
                log::error!("cannot drive the alarm output: {e}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_clock_counts_from_zero_and_sleeps_to_its_deadline() {
        let clock = TokioClock::new();
        assert_eq!(clock.now_ms(), 0);
        clock.sleep_until(1_500).await;
        assert_eq!(clock.now_ms(), 1_500);
        // A deadline in the past returns at once.
        clock.sleep_until(10).await;
        assert_eq!(clock.now_ms(), 1_500);
        assert!(clock
            .unix_time_ms()
            .is_some_and(|ms| ms > 1_600_000_000_000));
    }
}
