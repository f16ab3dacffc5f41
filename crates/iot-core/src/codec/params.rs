//! Parameter values: [`ParamValue`] to send, [`ParamView`] to read (protocol.md §4.3 value encoding, §5 types).

use core::fmt;

use super::out::Out;
use super::CodecError;
use crate::json::{self, Array, Object, Str, Value, ValueKind};

/// Longest id accepted for a property, event, action or struct member, in bytes. The console limits identifiers
/// to far less; the bound only rejects garbage.
pub const MAX_ID_LEN: usize = 64;

/// Deepest nesting of struct and array values inside `params`: the JSON validator's [`json::MAX_DEPTH`] minus the
/// message object, `params` itself and one level of `events` array and element, so that everything encoded can be
/// decoded again.
const MAX_VALUE_DEPTH: usize = json::MAX_DEPTH - 4;

/// One parameter to send: a thing-model id and its value.
pub type Param<'a> = (&'a str, ParamValue<'a>);

/// A parameter value to send, one variant per thing-model type (protocol.md §5) plus pre-encoded JSON.
///
/// ```
/// use iot_core::codec::ParamValue;
///
/// let point = [("x", ParamValue::Float(1.5)), ("y", ParamValue::Float(2.0))];
/// let value = ParamValue::Struct(&point);
/// # let _ = value;
/// let history = [ParamValue::Int(1), ParamValue::Int(2)];
/// let _array = ParamValue::Array(&history);
/// let _from_int: ParamValue = 30i32.into();
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ParamValue<'a> {
    /// `int`: a JSON integer.
    Int(i64),
    /// `float`: the shortest decimal that reads back to the same `f64`. NaN and infinities are rejected.
    Float(f64),
    /// `float` from an `f32` reading: the shortest decimal that reads back to the same `f32` (`2.8`, not
    /// `2.799999952316284`).
    Float32(f32),
    /// `bool`: sent as `0`/`1` (protocol.md §11.5).
    Bool(bool),
    /// `string`: JSON-escaped.
    String(&'a str),
    /// `enum`: the integer key of the mapping.
    Enum(i64),
    /// `stringenum`: the string key of the mapping, JSON-escaped.
    StringEnum(&'a str),
    /// `timestamp`: milliseconds since the Unix epoch, sent as a number (protocol.md §11.6).
    Timestamp(u64),
    /// `struct`: a nested object of members.
    Struct(&'a [Param<'a>]),
    /// `array`: elements in order.
    Array(&'a [Self]),
    /// A JSON value taken from a received message (see [`ParamView::value`]), written as received.
    Raw(Value<'a>),
}

impl ParamValue<'_> {
    pub(crate) fn write(&self, out: &mut Out<'_>, depth: usize) -> Result<(), CodecError> {
        match *self {
            Self::Int(v) | Self::Enum(v) => out.i64(v),
            Self::Float(v) => out.f64(v)?,
            Self::Float32(v) => out.f32(v)?,
            Self::Bool(v) => out.byte(if v { b'1' } else { b'0' }),
            Self::String(s) | Self::StringEnum(s) => out.string(s),
            Self::Timestamp(ms) => out.u64(ms),
            Self::Struct(members) => {
                if depth >= MAX_VALUE_DEPTH {
                    return Err(CodecError::TooDeep {
                        max: MAX_VALUE_DEPTH,
                    });
                }
                write_params(out, members, "params", depth + 1)?;
            }
            Self::Array(items) => {
                if depth >= MAX_VALUE_DEPTH {
                    return Err(CodecError::TooDeep {
                        max: MAX_VALUE_DEPTH,
                    });
                }
                out.byte(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.byte(b',');
                    }
                    item.write(out, depth + 1)?;
                }
                out.byte(b']');
            }
            Self::Raw(v) => {
                if nesting(v.raw()) > MAX_VALUE_DEPTH.saturating_sub(depth) {
                    return Err(CodecError::TooDeep {
                        max: MAX_VALUE_DEPTH,
                    });
                }
                out.put(v.raw().as_bytes());
            }
        }
        Ok(())
    }
}

/// How deeply a validated JSON text nests (0 for a scalar).
fn nesting(text: &str) -> usize {
    let (mut depth, mut max, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for &b in text.as_bytes() {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                max = max.max(depth);
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

macro_rules! from_int {
    ($($t:ty),*) => {$(
        impl From<$t> for ParamValue<'_> {
            fn from(v: $t) -> Self {
                Self::Int(i64::from(v))
            }
        }
    )*};
}
from_int!(i8, i16, i32, i64, u8, u16, u32);

impl From<f64> for ParamValue<'_> {
    fn from(v: f64) -> Self {
        Self::Float(v)
    }
}

impl From<f32> for ParamValue<'_> {
    fn from(v: f32) -> Self {
        Self::Float32(v)
    }
}

impl From<bool> for ParamValue<'_> {
    fn from(v: bool) -> Self {
        Self::Bool(v)
    }
}

impl<'a> From<&'a str> for ParamValue<'a> {
    fn from(v: &'a str) -> Self {
        Self::String(v)
    }
}

impl<'a> From<Value<'a>> for ParamValue<'a> {
    fn from(v: Value<'a>) -> Self {
        Self::Raw(v)
    }
}

impl<'a> From<ParamView<'a>> for ParamValue<'a> {
    fn from(v: ParamView<'a>) -> Self {
        Self::Raw(v.value())
    }
}

/// Whether `id` is a plausible thing-model identifier: 1 to [`MAX_ID_LEN`] ASCII letters, digits or `_`.
#[inline(always)]
pub(crate) fn is_identifier(id: &str) -> bool {
    is_identifier_bytes(id.as_bytes())
}

#[inline(always)]
fn is_identifier_bytes(id: &[u8]) -> bool {
    match id.len() {
        0 => false,
        1..=8 => swar::is_identifier_short(id),
        9..=16 => swar::is_identifier_medium(id),
        n if n <= MAX_ID_LEN => id
            .iter()
            .all(|&b| ID_BYTE.get(usize::from(b)).copied().unwrap_or(false)),
        _ => false,
    }
}

/// Identifier checks four or eight bytes at a time in one integer ("SIMD within a register"): short ids are
/// checked with a few branch-free operations instead of a loop with a branch per byte.
mod swar {
    macro_rules! width {
        ($int:ty, $in_range:ident, $is_identifier:ident) => {
            /// Bytes of `x` (all below 0x80) that lie in `lo..=hi`, as their high bits. No byte carries into the
            /// next: each sum stays below 0x100.
            #[inline(always)]
            const fn $in_range(x: $int, lo: u8, hi: u8) -> $int {
                const ONES: $int = <$int>::MAX / 0xff;
                const HIGH: $int = ONES * 0x80;
                let at_least_lo = x + ONES * (0x80 - lo as $int);
                let above_hi = x + ONES * (0x7f - hi as $int);
                at_least_lo & !above_hi & HIGH
            }

            /// Whether every byte of `x` is an ASCII letter, digit or `_`.
            #[inline(always)]
            pub(super) const fn $is_identifier(x: $int) -> bool {
                const ONES: $int = <$int>::MAX / 0xff;
                const HIGH: $int = ONES * 0x80;
                if x & HIGH != 0 {
                    return false;
                }
                let digit = $in_range(x, b'0', b'9');
                let letter = $in_range(x | (ONES * 0x20), b'a', b'z');
                let y = x ^ (ONES * b'_' as $int);
                let underscore = !((y + ONES * 0x7f) | y) & HIGH;
                digit | letter | underscore == HIGH
            }
        };
    }

    width!(u32, in_range32, is_identifier32);
    width!(u64, in_range64, is_identifier64);

    /// 1 to 8 bytes: two overlapping loads into one word (missing bytes read as `_`), then one check.
    #[inline(always)]
    pub(super) fn is_identifier_short(id: &[u8]) -> bool {
        const PAD: u32 = u32::MAX / 0xff * b'_' as u32;
        if let (Some(head), Some(tail)) = (id.first_chunk::<4>(), id.last_chunk::<4>()) {
            if id.len() == 4 {
                return is_identifier32(u32::from_le_bytes(*head));
            }
            is_identifier64(
                u64::from(u32::from_le_bytes(*head)) | u64::from(u32::from_le_bytes(*tail)) << 32,
            )
        } else if let (Some(head), Some(tail)) = (id.first_chunk::<2>(), id.last_chunk::<2>()) {
            is_identifier32(
                u32::from(u16::from_le_bytes(*head)) | u32::from(u16::from_le_bytes(*tail)) << 16,
            )
        } else {
            id.first()
                .is_some_and(|&b| is_identifier32(u32::from(b) | (PAD << 8)))
        }
    }

    /// 9 to 16 bytes (as two overlapping eight-byte words).
    #[inline(always)]
    pub(super) fn is_identifier_medium(id: &[u8]) -> bool {
        match (id.first_chunk::<8>(), id.last_chunk::<8>()) {
            (Some(head), Some(tail)) => {
                is_identifier64(u64::from_le_bytes(*head))
                    & is_identifier64(u64::from_le_bytes(*tail))
            }
            _ => false,
        }
    }
}

/// Which bytes may appear in an identifier: ASCII letters, digits and `_` (one table load per byte).
static ID_BYTE: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0u8;
    loop {
        table[b as usize] = b.is_ascii_alphanumeric() || b == b'_';
        if b == u8::MAX {
            break table;
        }
        b += 1;
    }
};

/// Writes `{"id":value,...}`.
pub(crate) fn write_params(
    out: &mut Out<'_>,
    params: &[Param<'_>],
    field: &'static str,
    depth: usize,
) -> Result<(), CodecError> {
    let mut sep = b'{';
    for (id, value) in params {
        if !is_identifier(id) {
            return Err(CodecError::InvalidIdentifier { field });
        }
        match value {
            // Fast path: integer members, the bulk of sensor reports.
            ParamValue::Int(v) | ParamValue::Enum(v) if out.int_member(sep, id.as_bytes(), *v) => {}
            _ => {
                // Identifiers need no escaping.
                out.byte(sep);
                out.byte(b'"');
                out.put(id.as_bytes());
                out.put(b"\":");
                value.write(out, depth)?;
            }
        }
        sep = b',';
    }
    if sep == b'{' {
        out.put(b"{}");
    } else {
        out.byte(b'}');
    }
    Ok(())
}

/// Received parameters: a JSON object whose members iterate as `(id, value)`.
///
/// ```
/// use iot_core::codec::{decode, Down};
///
/// let Down::Control(c) = decode(br#"{"method":"control","clientToken":"t","params":{"a":1,"b":"x"}}"#)? else {
///     unreachable!()
/// };
/// let params = c.params();
/// assert_eq!(params.len(), 2);
/// assert_eq!(params.get("a").and_then(|v| v.as_i64()), Some(1));
/// let ids: Vec<&str> = params.iter().map(|(id, _)| id.raw()).collect();
/// assert_eq!(ids, ["a", "b"]);
/// # Ok::<(), iot_core::codec::CodecError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ParamsView<'a> {
    object: Object<'a>,
}

impl<'a> ParamsView<'a> {
    pub(crate) fn new(object: Object<'a>) -> Self {
        Self { object }
    }

    /// Members in order of appearance. Ids are [`json::Str`] views: compare them with [`Str::eq_str`].
    pub fn iter(&self) -> ParamsIter<'a> {
        ParamsIter {
            inner: self.object.iter(),
        }
    }

    /// The value of the first member named `id`.
    pub fn get(&self, id: &str) -> Option<ParamView<'a>> {
        self.object.get(id).map(ParamView)
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.object.len()
    }

    /// Whether there are no members.
    pub fn is_empty(&self) -> bool {
        self.object.is_empty()
    }

    /// The underlying object.
    pub fn object(&self) -> Object<'a> {
        self.object
    }

    /// The object's JSON text, exactly as received.
    pub fn raw(&self) -> &'a str {
        self.object.raw()
    }
}

impl fmt::Debug for ParamsView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.raw())
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for ParamsView<'_> {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "{=str}", self.raw())
    }
}

impl<'a> IntoIterator for ParamsView<'a> {
    type Item = (Str<'a>, ParamView<'a>);
    type IntoIter = ParamsIter<'a>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// Iterator over [`ParamsView`] members.
#[derive(Clone)]
pub struct ParamsIter<'a> {
    inner: json::ObjectIter<'a>,
}

impl<'a> Iterator for ParamsIter<'a> {
    type Item = (Str<'a>, ParamView<'a>);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        self.inner.next().map(|(id, v)| (id, ParamView(v)))
    }
}

/// One received parameter value. Accessors return `None` when the value is not of the asked type; none of them
/// fails otherwise or panics.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ParamView<'a>(Value<'a>);

impl<'a> ParamView<'a> {
    /// Wraps any JSON value.
    pub fn new(value: Value<'a>) -> Self {
        Self(value)
    }

    /// The JSON value.
    pub fn value(&self) -> Value<'a> {
        self.0
    }

    /// The JSON kind, for error messages and type checks.
    pub fn kind(&self) -> ValueKind {
        self.0.kind()
    }

    /// The value's JSON text, exactly as received.
    pub fn raw(&self) -> &'a str {
        self.0.raw()
    }

    /// An integer (`int`, `enum`) that fits `i64`; `None` for fractions, exponents and other types.
    #[inline]
    pub fn as_i64(&self) -> Option<i64> {
        match self.0 {
            Value::Number(n) => parse_i64(n.raw()),
            _ => None,
        }
    }

    /// A non-negative integer that fits `u64`.
    #[inline]
    pub fn as_u64(&self) -> Option<u64> {
        match self.0 {
            Value::Number(n) => parse_u64(n.raw()),
            _ => None,
        }
    }

    /// Any finite number as `f64` (`float`; integers convert too).
    pub fn as_f64(&self) -> Option<f64> {
        self.0.as_f64()
    }

    /// A `bool`, sent as `0`/`1` or `true`/`false` (protocol.md §10.6, §11.5).
    pub fn as_bool(&self) -> Option<bool> {
        self.0.as_bool()
    }

    /// A string (`string`, `stringenum`), still escaped; unescape with [`Str::unescape_into`] or [`Str::chars`].
    pub fn as_str(&self) -> Option<Str<'a>> {
        self.0.as_str()
    }

    /// A `timestamp` as sent, number or decimal string (protocol.md §10.5, §11.6). The unit is whatever the sender
    /// used: milliseconds by the current docs, seconds in older examples.
    pub fn as_timestamp(&self) -> Option<u64> {
        timestamp(self.0)
    }

    /// A `struct`: its members as parameters.
    pub fn as_struct(&self) -> Option<ParamsView<'a>> {
        self.0.as_object().map(ParamsView::new)
    }

    /// An `array`.
    pub fn as_array(&self) -> Option<ArrayView<'a>> {
        self.0.as_array().map(|array| ArrayView { array })
    }
}

impl fmt::Debug for ParamView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.raw())
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for ParamView<'_> {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "{=str}", self.raw())
    }
}

/// A received `array` value.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ArrayView<'a> {
    array: Array<'a>,
}

impl<'a> ArrayView<'a> {
    /// Elements in order.
    pub fn iter(&self) -> ArrayIter<'a> {
        ArrayIter {
            inner: self.array.iter(),
        }
    }

    /// Element `index`.
    pub fn get(&self, index: usize) -> Option<ParamView<'a>> {
        self.array.get(index).map(ParamView)
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.array.len()
    }

    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        self.array.is_empty()
    }

    /// The array's JSON text, exactly as received.
    pub fn raw(&self) -> &'a str {
        self.array.raw()
    }
}

impl fmt::Debug for ArrayView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.raw())
    }
}

impl<'a> IntoIterator for ArrayView<'a> {
    type Item = ParamView<'a>;
    type IntoIter = ArrayIter<'a>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// Iterator over an [`ArrayView`].
#[derive(Clone)]
pub struct ArrayIter<'a> {
    inner: json::ArrayIter<'a>,
}

impl<'a> Iterator for ArrayIter<'a> {
    type Item = ParamView<'a>;

    fn next(&mut self) -> Option<Self::Item> {
        self.inner.next().map(ParamView)
    }
}

/// A timestamp given as a non-negative integer or a string of decimal digits (protocol.md §10.5).
pub(crate) fn timestamp(value: Value<'_>) -> Option<u64> {
    match value {
        Value::Number(n) => parse_u64(n.raw()),
        Value::String(s) => parse_u64(s.as_plain()?),
        _ => None,
    }
}

/// Reads decimal digits in one pass; `None` for an empty text, any other byte, or overflow. Validated JSON numbers
/// have no leading zeros or `+`, so this agrees with `str::parse` on them, and rejects fractions and exponents.
#[inline]
pub(crate) fn parse_u64(text: &str) -> Option<u64> {
    let digits = text.as_bytes();
    if digits.is_empty() {
        return None;
    }
    let mut v: u64 = 0;
    for &b in digits {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(d))?;
    }
    Some(v)
}

/// [`parse_u64`] with an optional leading `-`, for `i64` (down to `i64::MIN`).
#[inline]
pub(crate) fn parse_i64(text: &str) -> Option<i64> {
    match text.strip_prefix('-') {
        Some(magnitude) => {
            let m = parse_u64(magnitude)?;
            // -(m) fits when m <= 2^63.
            0i64.checked_sub_unsigned(m)
        }
        None => i64::try_from(parse_u64(text)?).ok(),
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;

    fn encode(v: &ParamValue<'_>) -> Result<heapless::String<256>, CodecError> {
        let mut buf = [0u8; 256];
        let mut out = Out::new(&mut buf);
        v.write(&mut out, 0)?;
        let n = out.finish()?;
        let mut s = heapless::String::new();
        s.push_str(core::str::from_utf8(&buf[..n]).unwrap())
            .unwrap();
        Ok(s)
    }

    #[test]
    fn encodes_each_type() {
        assert_eq!(encode(&ParamValue::Int(-5)).unwrap(), "-5");
        assert_eq!(encode(&ParamValue::Float(2.8)).unwrap(), "2.8");
        assert_eq!(encode(&ParamValue::Float32(2.8)).unwrap(), "2.8");
        assert_eq!(encode(&ParamValue::Bool(true)).unwrap(), "1");
        assert_eq!(encode(&ParamValue::Bool(false)).unwrap(), "0");
        assert_eq!(encode(&ParamValue::String("a\"b")).unwrap(), r#""a\"b""#);
        assert_eq!(encode(&ParamValue::Enum(2)).unwrap(), "2");
        assert_eq!(
            encode(&ParamValue::StringEnum("high")).unwrap(),
            r#""high""#
        );
        assert_eq!(
            encode(&ParamValue::Timestamp(1_700_000_000_000)).unwrap(),
            "1700000000000"
        );
        let members = [("x", ParamValue::Int(1)), ("y", ParamValue::Int(2))];
        assert_eq!(
            encode(&ParamValue::Struct(&members)).unwrap(),
            r#"{"x":1,"y":2}"#
        );
        assert_eq!(encode(&ParamValue::Struct(&[])).unwrap(), "{}");
        let items = [ParamValue::Struct(&members), ParamValue::String("t")];
        assert_eq!(
            encode(&ParamValue::Array(&items)).unwrap(),
            r#"[{"x":1,"y":2},"t"]"#
        );
        assert_eq!(encode(&ParamValue::Array(&[])).unwrap(), "[]");
        let raw = Value::parse(br#" {"a" : [1, "\u00e9"]} "#).unwrap();
        assert_eq!(
            encode(&ParamValue::Raw(raw)).unwrap(),
            r#"{"a" : [1, "\u00e9"]}"#
        );
    }

    #[test]
    fn rejects_what_json_cannot_carry() {
        assert_eq!(
            encode(&ParamValue::Float(f64::NAN)),
            Err(CodecError::NonFiniteFloat)
        );
        assert_eq!(
            encode(&ParamValue::Float32(f32::INFINITY)),
            Err(CodecError::NonFiniteFloat)
        );
        for bad in ["", "a b", "a\"", "é", "x-y"] {
            let members = [(bad, ParamValue::Int(1))];
            assert_eq!(
                encode(&ParamValue::Struct(&members)),
                Err(CodecError::InvalidIdentifier { field: "params" }),
                "{bad:?}"
            );
        }
        let long = "a".repeat(MAX_ID_LEN + 1);
        let members = [(long.as_str(), ParamValue::Int(1))];
        assert!(encode(&ParamValue::Struct(&members)).is_err());
        let ok = "a".repeat(MAX_ID_LEN);
        let members = [(ok.as_str(), ParamValue::Int(1))];
        assert!(encode(&ParamValue::Struct(&members)).is_ok());
    }

    /// Calls `check` with `n` arrays nested around `1`.
    fn nested<'a>(n: usize, inner: ParamValue<'a>, check: &mut dyn FnMut(&ParamValue<'_>)) {
        if n == 0 {
            check(&inner);
        } else {
            let wrapper = [inner];
            nested(n - 1, ParamValue::Array(&wrapper), check);
        }
    }

    #[test]
    fn bounds_nesting() {
        nested(MAX_VALUE_DEPTH, ParamValue::Int(1), &mut |v| {
            assert!(encode(v).is_ok());
        });
        nested(MAX_VALUE_DEPTH + 1, ParamValue::Int(1), &mut |v| {
            assert_eq!(
                encode(v),
                Err(CodecError::TooDeep {
                    max: MAX_VALUE_DEPTH
                })
            );
        });

        let deep = Value::parse(b"[[[[[[[[[[[[[1]]]]]]]]]]]]]").unwrap();
        assert_eq!(nesting(deep.raw()), 13);
        assert!(encode(&ParamValue::Raw(deep)).is_err());
        let ok = Value::parse(b"[[[[[[[[[[[[\"]]]\"]]]]]]]]]]]]").unwrap();
        assert_eq!(nesting(ok.raw()), 12);
        assert!(encode(&ParamValue::Raw(ok)).is_ok());
    }

    #[test]
    fn word_checks_match_the_byte_table() {
        // Every byte value at every position of every short length, against the plain per-byte rule.
        let valid = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
        for len in 1..=20usize {
            for pos in 0..len {
                for byte in 0..=255u8 {
                    let mut id = [b'a'; 20];
                    id[pos] = byte;
                    let id = &id[..len];
                    assert_eq!(
                        is_identifier_bytes(id),
                        id.iter().all(|&b| valid(b)),
                        "len {len}, byte 0x{byte:02x} at {pos}"
                    );
                }
            }
        }
        assert!(!is_identifier_bytes(b""));
        assert!(is_identifier_bytes(&[b'Z'; MAX_ID_LEN]));
        assert!(!is_identifier_bytes(&[b'Z'; MAX_ID_LEN + 1]));
    }

    #[test]
    fn integer_parsing_agrees_with_std() {
        for text in [
            "0",
            "-0",
            "7",
            "-7",
            "42",
            "1500",
            "9223372036854775807",
            "9223372036854775808",
            "-9223372036854775808",
            "-9223372036854775809",
            "18446744073709551615",
            "18446744073709551616",
            "99999999999999999999999",
            "1.5",
            "1e3",
            "-",
            "",
            "-1.0",
            "12a",
        ] {
            assert_eq!(parse_i64(text), text.parse::<i64>().ok(), "i64 {text:?}");
            assert_eq!(
                parse_u64(text),
                text.parse::<u64>().ok().filter(|_| !text.starts_with('-')),
                "u64 {text:?}"
            );
        }
    }

    #[test]
    fn reads_timestamps_as_number_or_string() {
        let v =
            Value::parse(br#"[1700000000000, "1700000000000", "17a", "", -1, 1.5, null]"#).unwrap();
        let got: heapless::Vec<Option<u64>, 8> =
            v.as_array().unwrap().iter().map(timestamp).collect();
        assert_eq!(
            got.as_slice(),
            &[
                Some(1_700_000_000_000),
                Some(1_700_000_000_000),
                None,
                None,
                None,
                None,
                None
            ]
        );
    }
}
