//! A DHT line model shared by the DHT tests: what the sensor drives on the data
//! line after the host releases it, with datasheet timings and some jitter.
#![allow(dead_code)]

/// Levels the sensor drives after the host releases the line, as (high, µs)
/// segments; the last level holds forever.
#[derive(Debug, Clone)]
pub struct Waveform {
    segments: Vec<(bool, u64)>,
}

impl Waveform {
    /// A whole frame: 30 µs until the answer, 80 µs low, 80 µs high, 40 bits of
    /// ~50 µs low + 25–29 µs (0) or 68–72 µs (1) high, 50 µs low, then idle high.
    pub fn frame(bytes: [u8; 5]) -> Self {
        Self::truncated(bytes, 40, None)
    }

    /// A frame that stops after `bits` data bits; the line then holds `stuck`
    /// (or ends normally with `None`).
    pub fn truncated(bytes: [u8; 5], bits: u8, stuck: Option<bool>) -> Self {
        let mut segments = vec![(true, 30), (false, 80), (true, 80)];
        for i in 0..bits {
            let bit = bytes[usize::from(i / 8)] & (0x80 >> (i % 8)) != 0;
            let jitter = u64::from(i % 5);
            segments.push((false, 48 + jitter));
            segments.push((true, if bit { 68 + jitter } else { 25 + jitter }));
        }
        match stuck {
            Some(level) => segments.push((level, u64::MAX)),
            None => {
                segments.push((false, 50));
                segments.push((true, u64::MAX));
            }
        }
        Self { segments }
    }

    /// A sensor that never answers.
    pub fn silent() -> Self {
        Self {
            segments: vec![(true, u64::MAX)],
        }
    }

    /// The level `t` µs after release.
    pub fn level_at(&self, t: u64) -> bool {
        let mut start = 0u64;
        for &(level, len) in &self.segments {
            if t < start.saturating_add(len) {
                return level;
            }
            start = start.saturating_add(len);
        }
        true
    }

    /// The first time at or after `t` at which the line is at `level`.
    pub fn next_at(&self, t: u64, level: bool) -> Option<u64> {
        if self.level_at(t) == level {
            return Some(t);
        }
        let mut start = 0u64;
        for &(l, len) in &self.segments {
            if l == level && start.saturating_add(len) > t && start != u64::MAX {
                return Some(start.max(t));
            }
            start = start.saturating_add(len);
        }
        None
    }
}

/// The sample count of a blocking read of `w` polled once per µs: the read
/// ends at the first sample of the run after the 40th bit's high pulse (84th
/// run, counting the wait for the answer), or at the sample that makes a level
/// last more than `max_polls` samples.
pub fn samples_until_end(w: &Waveform, max_polls: u64) -> u64 {
    let mut level = true;
    let mut run = 0u64;
    let mut finished = 0u32;
    for t in 0.. {
        let l = w.level_at(t);
        if l == level {
            run += 1;
            if run > max_polls {
                return t + 1;
            }
        } else {
            finished += 1;
            if finished == 83 {
                return t + 1;
            }
            level = l;
            run = 1;
        }
    }
    unreachable!()
}

/// Build a DHT11 frame from humidity/temperature bytes with a correct checksum.
pub fn with_checksum(data: [u8; 4]) -> [u8; 5] {
    let sum = data.iter().fold(0u8, |a, b| a.wrapping_add(*b));
    [data[0], data[1], data[2], data[3], sum]
}
