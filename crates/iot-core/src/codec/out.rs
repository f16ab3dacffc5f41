//! The encoders' output buffer: a leaner cousin of [`crate::json::Writer`] tuned for short messages.
//!
//! Like `json::Writer` it never fails part-way: bytes past the end are counted and dropped, so one pass both
//! writes and measures. Unlike it, it copies short pieces with fixed-size moves instead of a `memcpy` call (a
//! report is ~30 pieces of 1–12 bytes, and the call overhead dominated), and it does not keep a partial prefix
//! when the buffer is short: the caller gets an error and the buffer's contents are unspecified.

use super::{CodecError, MAX_PAYLOAD_LEN};

/// Output cursor over a caller's buffer.
pub struct Out<'b> {
    buf: &'b mut [u8],
    len: usize,
}

impl<'b> Out<'b> {
    pub(crate) fn new(buf: &'b mut [u8]) -> Self {
        Out { buf, len: 0 }
    }

    /// Bytes produced so far, including any that did not fit.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Appends `src`.
    #[inline(always)]
    pub(crate) fn put(&mut self, src: &[u8]) {
        let end = self.len + src.len();
        if let Some(dst) = self.buf.get_mut(self.len..end) {
            copy(dst, src);
        }
        self.len = end;
    }

    /// Appends one byte.
    #[inline(always)]
    pub(crate) fn byte(&mut self, b: u8) {
        if let Some(slot) = self.buf.get_mut(self.len) {
            *slot = b;
        }
        self.len += 1;
    }

    /// Appends a string's contents JSON-escaped (RFC 8259 §7: `"`, `\` and control characters), no quotes.
    pub(crate) fn escaped(&mut self, text: &str) {
        let bytes = text.as_bytes();
        if !bytes.iter().any(|&b| needs_escape(b)) {
            self.put(bytes);
            return;
        }
        let mut run = 0;
        for (i, &b) in bytes.iter().enumerate() {
            if !needs_escape(b) {
                continue;
            }
            self.put(bytes.get(run..i).unwrap_or(&[]));
            match b {
                b'"' => self.put(b"\\\""),
                b'\\' => self.put(b"\\\\"),
                b'\n' => self.put(b"\\n"),
                b'\r' => self.put(b"\\r"),
                b'\t' => self.put(b"\\t"),
                0x08 => self.put(b"\\b"),
                0x0c => self.put(b"\\f"),
                _ => {
                    const HEX: &[u8; 16] = b"0123456789abcdef";
                    let hi = HEX.get(usize::from(b >> 4)).copied().unwrap_or(b'0');
                    let lo = HEX.get(usize::from(b & 0xf)).copied().unwrap_or(b'0');
                    self.put(&[b'\\', b'u', b'0', b'0', hi, lo]);
                }
            }
            run = i + 1;
        }
        self.put(bytes.get(run..).unwrap_or(&[]));
    }

    /// Appends a quoted, escaped JSON string.
    pub(crate) fn string(&mut self, text: &str) {
        self.byte(b'"');
        self.escaped(text);
        self.byte(b'"');
    }

    /// Appends a signed integer.
    #[inline]
    pub(crate) fn i64(&mut self, v: i64) {
        if let Ok(small) = u8::try_from(v) {
            self.small(small);
        } else {
            let mut b = itoa::Buffer::new();
            self.put(b.format(v).as_bytes());
        }
    }

    /// Appends an unsigned integer.
    #[inline]
    pub(crate) fn u64(&mut self, v: u64) {
        if let Ok(small) = u8::try_from(v) {
            self.small(small);
        } else {
            let mut b = itoa::Buffer::new();
            self.put(b.format(v).as_bytes());
        }
    }

    /// Integers 0–255, the usual sensor and enum values, without a formatting buffer.
    #[inline(always)]
    fn small(&mut self, v: u8) {
        let (h, t, o) = (b'0' + v / 100, b'0' + v / 10 % 10, b'0' + v % 10);
        if v >= 100 {
            self.put(&[h, t, o]);
        } else if v >= 10 {
            self.put(&[t, o]);
        } else {
            self.byte(o);
        }
    }

    /// Appends a finite `f64` in its shortest round-trip form.
    pub(crate) fn f64(&mut self, v: f64) -> Result<(), CodecError> {
        if !v.is_finite() {
            return Err(CodecError::NonFiniteFloat);
        }
        let mut b = ryu::Buffer::new();
        self.put(b.format_finite(v).as_bytes());
        Ok(())
    }

    /// Appends a finite `f32` in its shortest round-trip form (as `f32`).
    pub(crate) fn f32(&mut self, v: f32) -> Result<(), CodecError> {
        if !v.is_finite() {
            return Err(CodecError::NonFiniteFloat);
        }
        let mut b = ryu::Buffer::new();
        self.put(b.format_finite(v).as_bytes());
        Ok(())
    }

    /// The message length, once it is known to fit both the buffer and the protocol limit.
    pub(crate) fn finish(self) -> Result<usize, CodecError> {
        if self.len > self.buf.len() {
            return Err(CodecError::BufferTooSmall {
                needed: self.len,
                capacity: self.buf.len(),
            });
        }
        if self.len > MAX_PAYLOAD_LEN {
            return Err(CodecError::PayloadTooLarge {
                len: self.len,
                max: MAX_PAYLOAD_LEN,
            });
        }
        Ok(self.len)
    }
}

/// Whether a byte must be escaped inside a JSON string.
#[inline(always)]
pub(crate) fn needs_escape(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\'
}

/// Copies `src` into `dst` (same length). Pieces of up to 16 bytes use two overlapping fixed-size moves, which
/// compile to plain loads and stores; longer ones go through `copy_from_slice`.
#[inline(always)]
fn copy(dst: &mut [u8], src: &[u8]) {
    let n = src.len();
    if n > 16 || dst.len() != n {
        dst.copy_from_slice_checked(src);
    } else if n >= 8 {
        fixed::<8>(dst, src, n);
    } else if n >= 4 {
        fixed::<4>(dst, src, n);
    } else if n >= 2 {
        fixed::<2>(dst, src, n);
    } else if let (Some(d), Some(s)) = (dst.first_mut(), src.first()) {
        *d = *s;
    }
}

/// Copies the first and the last `K` bytes of `src` (they overlap when `n < 2K`), for `K <= n <= 2K`.
#[inline(always)]
fn fixed<const K: usize>(dst: &mut [u8], src: &[u8], n: usize) {
    let tail = n - K;
    if let (Some(d), Some(s)) = (dst.first_chunk_mut::<K>(), src.first_chunk::<K>()) {
        *d = *s;
    }
    if let (Some(d), Some(s)) = (
        dst.get_mut(tail..).and_then(|d| d.first_chunk_mut::<K>()),
        src.get(tail..).and_then(|s| s.first_chunk::<K>()),
    ) {
        *d = *s;
    }
}

/// `copy_from_slice` that does nothing instead of panicking on a length mismatch (which `Out::put` rules out).
trait CopyChecked {
    fn copy_from_slice_checked(&mut self, src: &[u8]);
}

impl CopyChecked for [u8] {
    #[inline(always)]
    fn copy_from_slice_checked(&mut self, src: &[u8]) {
        if self.len() == src.len() {
            self.copy_from_slice(src);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_every_short_length() {
        let src: [u8; 40] = core::array::from_fn(|i| i as u8 + 1);
        for n in 0..=40 {
            let mut buf = [0u8; 48];
            let mut out = Out::new(&mut buf);
            out.byte(0xff);
            out.put(&src[..n]);
            assert_eq!(out.finish(), Ok(n + 1));
            assert_eq!(&buf[1..=n], &src[..n], "length {n}");
            assert!(buf[n + 1..].iter().all(|&b| b == 0), "length {n} overran");
        }
    }

    #[test]
    fn counts_past_the_end() {
        let mut buf = [0u8; 3];
        let mut out = Out::new(&mut buf);
        out.put(b"abcdef");
        out.i64(-1234);
        assert_eq!(
            out.finish(),
            Err(CodecError::BufferTooSmall {
                needed: 11,
                capacity: 3
            })
        );
    }

    #[test]
    fn formats_integers() {
        for v in [
            0i64,
            7,
            9,
            10,
            99,
            100,
            255,
            256,
            -1,
            -255,
            i64::MIN,
            i64::MAX,
        ] {
            let mut buf = [0u8; 24];
            let mut out = Out::new(&mut buf);
            out.i64(v);
            let n = out.finish().unwrap();
            assert_eq!(
                core::str::from_utf8(&buf[..n]).unwrap().parse::<i64>(),
                Ok(v)
            );
        }
        let mut buf = [0u8; 24];
        let mut out = Out::new(&mut buf);
        out.u64(u64::MAX);
        let n = out.finish().unwrap();
        assert_eq!(&buf[..n], b"18446744073709551615");
    }

    #[test]
    fn escapes_strings() {
        let mut buf = [0u8; 64];
        let mut out = Out::new(&mut buf);
        out.string("a\"b\\c\n\u{1}\u{1f}é");
        let n = out.finish().unwrap();
        assert_eq!(&buf[..n], "\"a\\\"b\\\\c\\n\\u0001\\u001fé\"".as_bytes());
    }
}
