//! Decimal text to `f64`.
//!
//! By default this is `core`'s parser: correctly rounded, and about 15 KB of code and tables on a Cortex-M0
//! (`docs/benchmarks.md`, firmware sizes). The `compact-floats` feature swaps in [`parse_compact`], a few hundred
//! bytes: exact (bit for bit the same as `core`) whenever the significant digits fit 2^53 and the decimal
//! exponent is within ±22 — which covers every value a thing model or a sensor normally carries, such as `25.5`,
//! `-0.001` or `1e6` — and within 4 units in the last place beyond that (the worst cases sit near the ends of
//! `f64`'s range; the tests below sweep every decimal exponent). Like `ryu`'s `small` feature, it
//! trades exactness in rare cases for flash.

/// `text` as a finite `f64`: an optional sign, digits with an optional `.`, and an optional exponent. `None` for
/// anything else, and for values beyond `f64`'s range (`inf` and `NaN` are never accepted).
#[inline]
pub(crate) fn parse_f64(text: &str) -> Option<f64> {
    #[cfg(feature = "compact-floats")]
    {
        parse_compact(text)
    }
    #[cfg(not(feature = "compact-floats"))]
    {
        // `core` accepts exactly this grammar too, plus `inf`, `infinity` and `nan`, which the filter drops.
        text.parse::<f64>().ok().filter(|f| f.is_finite())
    }
}

/// Powers of ten that `f64` holds exactly.
const EXACT_POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// Significant digits kept; the rest only move the exponent (an error below 1e-19, relative).
const MAX_DIGITS: u32 = 19;

/// The compact parser (see the module documentation). Same accepted texts as [`parse_f64`].
#[cfg_attr(not(feature = "compact-floats"), allow(dead_code))]
pub(crate) fn parse_compact(text: &str) -> Option<f64> {
    let b = text.as_bytes();
    let (negative, mut i) = match b.first() {
        Some(b'-') => (true, 1),
        Some(b'+') => (false, 1),
        _ => (false, 0),
    };
    let mut mantissa: u64 = 0;
    let mut kept: u32 = 0;
    let mut exp10: i64 = 0;
    let mut digits = 0usize;
    let mut fraction = false;
    while let Some(&c) = b.get(i) {
        match c {
            b'0'..=b'9' => {
                digits += 1;
                let d = u64::from(c - b'0');
                if mantissa == 0 && d == 0 {
                    // Leading zeros are not significant.
                } else if kept < MAX_DIGITS {
                    mantissa = mantissa * 10 + d;
                    kept += 1;
                } else {
                    // Dropped: an integer digit scales the value up.
                    exp10 += 1;
                }
                if fraction {
                    exp10 -= 1;
                }
            }
            b'.' if !fraction => fraction = true,
            _ => break,
        }
        i += 1;
    }
    if digits == 0 {
        return None;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        let exp_negative = match b.get(i) {
            Some(b'-') => {
                i += 1;
                true
            }
            Some(b'+') => {
                i += 1;
                false
            }
            _ => false,
        };
        let start = i;
        let mut exp: i64 = 0;
        while let Some(&c) = b.get(i) {
            if !c.is_ascii_digit() {
                break;
            }
            // Saturates far beyond any finite f64 exponent.
            exp = (exp * 10 + i64::from(c - b'0')).min(1_000_000);
            i += 1;
        }
        if i == start {
            return None;
        }
        exp10 += if exp_negative { -exp } else { exp };
    }
    if i != b.len() {
        return None;
    }
    let magnitude = scale(mantissa, exp10)?;
    Some(if negative { -magnitude } else { magnitude })
}

/// `mantissa × 10^exp10`, or `None` when that overflows `f64`.
fn scale(mantissa: u64, exp10: i64) -> Option<f64> {
    if mantissa == 0 {
        return Some(0.0);
    }
    // 19 digits × 10^exp10 is below the smallest subnormal (about 4.9e-324) or above f64::MAX (about 1.8e308).
    if exp10 < -343 {
        return Some(0.0);
    }
    if exp10 > 309 {
        return None;
    }
    #[allow(clippy::cast_precision_loss)] // rounds to nearest: exact below 2^53
    let mut v = mantissa as f64;
    let mut e = exp10;
    // Exact when the mantissa fits 2^53 and |e| ≤ 22: one correctly rounded multiply or divide.
    while e > 22 {
        v *= 1e22;
        e -= 22;
    }
    while e < -22 {
        // Into the subnormal range in two steps at most, so precision is lost only where f64 has none.
        v /= 1e22;
        e += 22;
    }
    let p = *EXACT_POW10.get(usize::try_from(e.unsigned_abs()).ok()?)?;
    v = if e >= 0 { v * p } else { v / p };
    v.is_finite().then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::format;

    fn ulps(a: f64, b: f64) -> u64 {
        a.to_bits().abs_diff(b.to_bits())
    }

    #[test]
    fn exact_where_the_fast_path_applies() {
        for text in [
            "0",
            "-0",
            "25.5",
            "-0.001",
            "1e6",
            "1E+6",
            "123456789.125",
            "9007199254740992",
            "0.1",
            "3.14159",
            "1e22",
            "1e-22",
            "4.5e-3",
            "+7",
            "7.",
            ".5",
            "00012.5000",
        ] {
            let core: f64 = text.parse().unwrap();
            assert_eq!(
                parse_compact(text).map(f64::to_bits),
                Some(core.to_bits()),
                "{text}"
            );
            assert_eq!(
                parse_f64(text).map(f64::to_bits),
                Some(core.to_bits()),
                "{text}"
            );
        }
    }

    #[test]
    fn close_everywhere_else() {
        // A deterministic spread over the whole range: every decimal exponent, long mantissas.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for exp in -330i32..=308 {
            for _ in 0..8 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let text = format!("{}.{:017}e{exp}", x % 10, x % 100_000_000_000_000_000);
                let core: f64 = text.parse().unwrap();
                let ours = parse_compact(&text);
                if core.is_finite() {
                    let ours = ours.unwrap_or(f64::NAN);
                    // Subnormals have fewer bits, so compare them absolutely.
                    let ok = if core.abs() < f64::MIN_POSITIVE {
                        (ours - core).abs() <= 4.0 * 4.9e-324
                    } else {
                        ulps(ours, core) <= 4
                    };
                    assert!(ok, "{text}: {ours:e} vs {core:e}");
                } else {
                    assert_eq!(ours, None, "{text}");
                }
            }
        }
    }

    #[test]
    fn round_trips_shortest_output() {
        // What the codec writes (shortest round-trip text) reads back exactly for typical readings.
        for i in 0..20_000u32 {
            let v = f64::from(i) * 0.37 - 1234.5;
            let text = format!("{v}");
            let back = parse_compact(&text).unwrap();
            assert!(ulps(back, v) <= 1, "{text}");
            let short = f64::from(i) / 10.0;
            assert_eq!(parse_compact(&format!("{short}")), Some(short));
        }
    }

    #[test]
    fn accepts_the_same_texts_as_core() {
        // Every string of up to five symbols over the grammar's alphabet (and some strays).
        let alphabet = b"01.9+-eEinf x";
        let mut text = std::vec::Vec::new();
        for len in 1..=5u32 {
            for mut n in 0..(alphabet.len() as u64).pow(len) {
                text.clear();
                for _ in 0..len {
                    text.push(alphabet[(n % alphabet.len() as u64) as usize]);
                    n /= alphabet.len() as u64;
                }
                let text = core::str::from_utf8(&text).unwrap();
                let core = text.parse::<f64>().ok().filter(|f| f.is_finite());
                assert_eq!(parse_compact(text).is_some(), core.is_some(), "{text:?}");
                if let (Some(ours), Some(core)) = (parse_compact(text), core) {
                    // Exponents up to 99 here: beyond ±22 the contract is 4 ulps.
                    assert!(ulps(ours, core) <= 4, "{text:?}");
                }
            }
        }
    }

    #[test]
    fn refuses_what_is_not_a_decimal() {
        for text in [
            "", "-", "+", ".", "e5", "1e", "1e+", "1.2.3", "1x", "inf", "-inf", "NaN", "infinity",
            " 1", "1 ", "0x10", "1e400", "-1e400",
        ] {
            assert_eq!(parse_compact(text), None, "{text:?}");
            assert_eq!(parse_f64(text), None, "{text:?}");
        }
        assert_eq!(parse_compact("1e-400"), Some(0.0));
    }
}
