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
        // Saturating: a slice may repeat one large value many times, so the total can exceed `usize` on 32-bit
        // targets; a saturated length then fails `finish` as too large.
        let end = self.len.saturating_add(src.len());
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
        self.len = self.len.saturating_add(1);
    }

    /// Appends a string's contents JSON-escaped (RFC 8259 §7: `"`, `\` and control characters), no quotes.
    #[inline]
    pub(crate) fn escaped(&mut self, text: &str) {
        let bytes = text.as_bytes();
        // Branch-free scan: most strings (tokens, versions, names) need no escaping and go out in one copy.
        if bytes.iter().fold(false, |any, &b| any | needs_escape(b)) {
            self.escaped_slow(bytes);
        } else {
            self.put(bytes);
        }
    }

    #[cold]
    #[inline(never)]
    fn escaped_slow(&mut self, bytes: &[u8]) {
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
    #[inline]
    pub(crate) fn string(&mut self, text: &str) {
        self.byte(b'"');
        self.escaped(text);
        self.byte(b'"');
    }

    /// The next `N` bytes of the buffer, when they all exist (nothing is written or counted).
    #[inline(always)]
    fn window<const N: usize>(&mut self) -> Option<&mut [u8; N]> {
        self.buf
            .get_mut(self.len..)
            .and_then(|rest| rest.first_chunk_mut::<N>())
    }

    /// Fast path for the commonest member, `<sep>"<id>":<integer>`, with one bounds check for the whole member.
    ///
    /// Handles ids of up to 16 bytes (the caller has validated them) when at least 48 bytes remain; returns `false`
    /// without counting anything otherwise, and the caller takes the general path.
    #[inline(always)]
    pub(crate) fn int_member(&mut self, sep: u8, id: &[u8], v: i64) -> bool {
        // sep + quote + id (<= 16) + quote + colon + sign and 19 digits = 41 <= 48.
        const WINDOW: usize = 48;
        let n = id.len();
        if n > 16 {
            return false;
        }
        let Some(w) = self.window::<WINDOW>() else {
            return false;
        };
        let Some((head, rest)) = w.split_first_chunk_mut::<2>() else {
            return false;
        };
        *head = [sep, b'"'];
        let Some((name, rest)) = rest.split_at_mut_checked(n) else {
            return false;
        };
        copy(name, id);
        let Some((colon, digits)) = rest.split_first_chunk_mut::<2>() else {
            return false;
        };
        *colon = *b"\":";
        let Some(written) = write_int(digits, v) else {
            return false;
        };
        // Cannot overflow: the 48-byte window exists, so `len + 48 <= buf.len()`.
        self.len += 4 + n + written;
        true
    }

    /// Appends a signed integer.
    #[inline]
    pub(crate) fn i64(&mut self, v: i64) {
        let written = self.window::<20>().and_then(|w| write_int(w, v));
        match written {
            Some(n) => self.len = self.len.saturating_add(n),
            None => {
                let mut b = itoa::Buffer::new();
                self.put(b.format(v).as_bytes());
            }
        }
    }

    /// Appends an unsigned integer.
    #[inline]
    pub(crate) fn u64(&mut self, v: u64) {
        match i64::try_from(v) {
            Ok(v) => self.i64(v),
            Err(_) => {
                let mut b = itoa::Buffer::new();
                self.put(b.format(v).as_bytes());
            }
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

/// Writes `v` at the start of `dst` (which holds at least 20 bytes) and returns the length.
#[inline(always)]
fn write_int(dst: &mut [u8], v: i64) -> Option<usize> {
    match u16::try_from(v) {
        Ok(small) if small < 10_000 => write_small(dst, small),
        _ => {
            let mut b = itoa::Buffer::new();
            let text = b.format(v).as_bytes();
            dst.get_mut(..text.len())?.copy_from_slice(text);
            Some(text.len())
        }
    }
}

/// `"00"`, `"01"`, … `"99"`: two digits per load.
static PAIRS: [[u8; 2]; 100] = {
    let mut pairs = [[0u8; 2]; 100];
    let mut i = 0;
    while i < 100 {
        pairs[i] = [b'0' + (i / 10) as u8, b'0' + (i % 10) as u8];
        i += 1;
    }
    pairs
};

/// Writes `v` (below 10 000: most sensor readings, enum values and intervals) and returns its length.
#[inline(always)]
fn write_small(dst: &mut [u8], v: u16) -> Option<usize> {
    let pair = |i: u16| PAIRS.get(usize::from(i)).copied().unwrap_or(*b"00");
    if v < 10 {
        *dst.first_mut()? = b'0' + v as u8;
        Some(1)
    } else if v < 100 {
        *dst.first_chunk_mut::<2>()? = pair(v);
        Some(2)
    } else if v < 1000 {
        let [t, o] = pair(v % 100);
        *dst.first_chunk_mut::<3>()? = [b'0' + (v / 100) as u8, t, o];
        Some(3)
    } else {
        let ([a, b], [c, d]) = (pair(v / 100), pair(v % 100));
        *dst.first_chunk_mut::<4>()? = [a, b, c, d];
        Some(4)
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
pub(crate) fn copy(dst: &mut [u8], src: &[u8]) {
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
