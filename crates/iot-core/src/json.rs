//! Zero-copy JSON: a validating scanner that hands out borrowed views, and a writer into a caller's buffer.
//!
//! The data-template protocol (protocol.md §4.3) carries small JSON objects whose `params` are open-ended:
//! any property id of the thing model, with values of nine types. A derive-based decoder such as
//! `serde-json-core` needs the shape at compile time and cannot unescape strings in place, so down-messages
//! are read through this module instead, the smoltcp way:
//!
//! * [`Value::parse`] checks the whole text once (UTF-8, grammar, escapes, nesting ≤ [`MAX_DEPTH`]). After that,
//!   no accessor can fail or panic: views ([`Object`], [`Array`], [`Str`], [`Number`]) only re-walk text that
//!   is known to be well formed.
//! * Strings are kept escaped; [`Str::chars`] and [`Str::unescape_into`] decode them on demand.
//! * [`Writer`] emits JSON into `&mut [u8]` without allocating. It keeps counting past the end of the buffer, so a
//!   short buffer reports exactly how many bytes the message needs.
//!
//! ```
//! use iot_core::json::Value;
//!
//! let doc = Value::parse(br#"{"method":"control","params":{"power":1,"name":"a\"b"}}"#).unwrap();
//! let params = doc.as_object().unwrap().get("params").unwrap().as_object().unwrap();
//! let mut ids = params.iter().map(|(id, _)| id.raw());
//! assert_eq!(ids.next(), Some("power"));
//! let name = params.get("name").unwrap().as_str().unwrap();
//! let mut buf = [0u8; 8];
//! assert_eq!(name.unescape_into(&mut buf).unwrap(), "a\"b");
//! ```

use core::fmt;

/// How deeply objects and arrays may nest. Thing-model values nest at most three levels inside a message
/// (message → `params` → struct → array of structs); the bound keeps the validator's stack use fixed.
pub const MAX_DEPTH: usize = 16;

/// Why a text is not acceptable JSON. Offsets count bytes from the start of the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum JsonError {
    /// The text stops in the middle of a value.
    #[error("JSON ends early at byte {offset}; the message is truncated")]
    UnexpectedEnd {
        /// Where more input was expected.
        offset: usize,
    },
    /// A byte that cannot stand where it stands.
    #[error("unexpected byte 0x{byte:02x} at byte {offset}; the payload is not valid JSON")]
    UnexpectedByte {
        /// Position of the byte.
        offset: usize,
        /// The byte found.
        byte: u8,
    },
    /// A backslash escape that JSON does not define, or a `\u` without four hex digits.
    #[error("invalid string escape at byte {offset}")]
    InvalidEscape {
        /// Position of the backslash.
        offset: usize,
    },
    /// A malformed number (leading zeros, a lone `-`, a `.` or exponent without digits).
    #[error("invalid number at byte {offset}")]
    InvalidNumber {
        /// Position of the number's first byte.
        offset: usize,
    },
    /// Objects and arrays nest deeper than [`MAX_DEPTH`].
    #[error("JSON nests deeper than {max} levels at byte {offset}", max = MAX_DEPTH)]
    TooDeep {
        /// Position of the opening bracket that went too deep.
        offset: usize,
    },
    /// Something follows the top-level value.
    #[error("trailing data after the JSON value at byte {offset}")]
    TrailingData {
        /// Position of the first byte after the value.
        offset: usize,
    },
    /// The text is not UTF-8.
    #[error("JSON text is not valid UTF-8 (byte {offset})")]
    InvalidUtf8 {
        /// Position of the first invalid byte.
        offset: usize,
    },
}

/// A JSON value borrowed from validated text.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Value<'a> {
    /// `null`
    Null,
    /// `true` or `false`
    Bool(bool),
    /// A number, kept as its text.
    Number(Number<'a>),
    /// A string, kept escaped.
    String(Str<'a>),
    /// An object.
    Object(Object<'a>),
    /// An array.
    Array(Array<'a>),
}

impl<'a> Value<'a> {
    /// Validates `text` as one JSON value (surrounding white space allowed) and returns a view of it.
    ///
    /// # Errors
    /// [`JsonError`] says what is wrong and where.
    pub fn parse(text: &'a [u8]) -> Result<Self, JsonError> {
        let text = core::str::from_utf8(text).map_err(|e| JsonError::InvalidUtf8 {
            offset: e.valid_up_to(),
        })?;
        Self::parse_str(text)
    }

    /// Like [`Value::parse`], for text that is already a `str`.
    ///
    /// # Errors
    /// [`JsonError`] says what is wrong and where.
    pub fn parse_str(text: &'a str) -> Result<Self, JsonError> {
        Self::validate(text, |v| v.value(0))
    }

    /// Like [`Value::parse`], and when the value is an object, hands each of its members to `member` as it is
    /// validated, in order (duplicates included). A caller that needs a few top-level members this way reads the
    /// text once instead of validating it and then walking it again.
    ///
    /// `member` may be called for the leading members of a text that then fails validation; its results are
    /// only meaningful when this returns `Ok`.
    ///
    /// ```
    /// use iot_core::json::Value;
    ///
    /// let mut method = None;
    /// let doc = Value::parse_visiting(br#"{"method":"control","params":{}}"#, |key, value| {
    ///     if key.raw() == "method" {
    ///         method = value.as_str();
    ///     }
    /// })
    /// .unwrap();
    /// assert!(doc.as_object().is_some());
    /// assert_eq!(method.unwrap().raw(), "control");
    /// ```
    ///
    /// # Errors
    /// [`JsonError`] says what is wrong and where.
    pub fn parse_visiting(
        text: &'a [u8],
        member: impl FnMut(Str<'a>, Self),
    ) -> Result<Self, JsonError> {
        let text = core::str::from_utf8(text).map_err(|e| JsonError::InvalidUtf8 {
            offset: e.valid_up_to(),
        })?;
        Self::validate_visiting(text, member)
    }

    /// [`Value::parse_str`], telling `member` about the top-level members of an object.
    #[inline]
    fn validate_visiting(
        text: &'a str,
        mut member: impl FnMut(Str<'a>, Self),
    ) -> Result<Self, JsonError> {
        Self::validate(text, |v| {
            if v.peek() != Some(b'{') {
                return v.value(0);
            }
            v.object(1, &mut |key: Span, value: Span| {
                let (Some(key), Some(value)) = (text.get(key.0..key.1), text.get(value.0..value.1))
                else {
                    return;
                };
                member(Str { quoted: key }, Self::from_validated(value));
            })
        })
    }

    /// Validates `text` as one value surrounded by optional white space, the value itself by `value` (plain
    /// [`Validator::value`] for [`Value::parse_str`], so that it compiles to no extra copy of the validator).
    #[inline]
    fn validate(
        text: &'a str,
        value: impl FnOnce(&mut Validator<'a>) -> Result<(), JsonError>,
    ) -> Result<Self, JsonError> {
        let bytes = text.as_bytes();
        let mut v = Validator { bytes, pos: 0 };
        v.skip_ws();
        let start = v.pos;
        value(&mut v)?;
        let end = v.pos;
        v.skip_ws();
        if v.pos != bytes.len() {
            return Err(JsonError::TrailingData { offset: v.pos });
        }
        Ok(Self::from_validated(text.get(start..end).unwrap_or("null")))
    }

    /// Builds a view over text that [`Validator`] accepted, trimmed to exactly one value.
    #[inline]
    fn from_validated(text: &'a str) -> Self {
        match text.as_bytes().first() {
            Some(b'{') => Value::Object(Object { raw: text }),
            Some(b'[') => Value::Array(Array { raw: text }),
            Some(b'"') => Value::String(Str { quoted: text }),
            Some(b't') => Value::Bool(true),
            Some(b'f') => Value::Bool(false),
            Some(b'n') | None => Value::Null,
            Some(_) => Value::Number(Number { raw: text }),
        }
    }

    /// The value's JSON text, exactly as received (strings with their quotes and escapes).
    #[inline]
    pub fn raw(&self) -> &'a str {
        match self {
            Value::Null => "null",
            Value::Bool(true) => "true",
            Value::Bool(false) => "false",
            Value::Number(n) => n.raw,
            Value::String(s) => s.quoted,
            Value::Object(o) => o.raw,
            Value::Array(a) => a.raw,
        }
    }

    /// The kind of value, for error messages.
    pub fn kind(&self) -> ValueKind {
        match self {
            Value::Null => ValueKind::Null,
            Value::Bool(_) => ValueKind::Bool,
            Value::Number(_) => ValueKind::Number,
            Value::String(_) => ValueKind::String,
            Value::Object(_) => ValueKind::Object,
            Value::Array(_) => ValueKind::Array,
        }
    }

    /// `true`/`false`, or the integers `0`/`1` the protocol uses for bool (protocol.md §10.6, §11.5).
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            Value::Number(n) => match n.raw {
                "0" => Some(false),
                "1" => Some(true),
                _ => None,
            },
            _ => None,
        }
    }

    /// An integer value (no fraction or exponent) that fits `i64`.
    #[inline]
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Number(n) => n.as_i64(),
            _ => None,
        }
    }

    /// Any number as `f64`.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(n) => n.as_f64(),
            _ => None,
        }
    }

    /// The number view.
    #[inline]
    pub fn as_number(&self) -> Option<Number<'a>> {
        match self {
            Value::Number(n) => Some(*n),
            _ => None,
        }
    }

    /// The string view.
    #[inline]
    pub fn as_str(&self) -> Option<Str<'a>> {
        match self {
            Value::String(s) => Some(*s),
            _ => None,
        }
    }

    /// The object view.
    #[inline]
    pub fn as_object(&self) -> Option<Object<'a>> {
        match self {
            Value::Object(o) => Some(*o),
            _ => None,
        }
    }

    /// The array view.
    #[inline]
    pub fn as_array(&self) -> Option<Array<'a>> {
        match self {
            Value::Array(a) => Some(*a),
            _ => None,
        }
    }

    /// Whether this is `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
}

impl fmt::Debug for Value<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let other = self;
        f.write_str(other.raw())
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for Value<'_> {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "{=str}", self.raw())
    }
}

/// The kind of a JSON value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ValueKind {
    /// `null`
    Null,
    /// `true`/`false`
    Bool,
    /// a number
    Number,
    /// a string
    String,
    /// an object
    Object,
    /// an array
    Array,
}

impl fmt::Display for ValueKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Null => "null",
            Self::Bool => "bool",
            Self::Number => "number",
            Self::String => "string",
            Self::Object => "object",
            Self::Array => "array",
        })
    }
}

/// A JSON number, kept as its validated text.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Number<'a> {
    raw: &'a str,
}

impl<'a> Number<'a> {
    /// The number's text.
    #[inline]
    pub fn raw(&self) -> &'a str {
        self.raw
    }

    /// Whether the text has no fraction and no exponent.
    pub fn is_integer(&self) -> bool {
        !self.raw.bytes().any(|b| matches!(b, b'.' | b'e' | b'E'))
    }

    /// The value as `i64`, when it is written as an integer that fits.
    #[inline]
    pub fn as_i64(&self) -> Option<i64> {
        if self.is_integer() {
            self.raw.parse().ok()
        } else {
            None
        }
    }

    /// The value as `u64`, when it is written as a non-negative integer that fits.
    pub fn as_u64(&self) -> Option<u64> {
        if self.is_integer() {
            self.raw.parse().ok()
        } else {
            None
        }
    }

    /// The value as `f64` (large integers lose precision; overflow gives infinity, which is returned as `None`).
    pub fn as_f64(&self) -> Option<f64> {
        crate::float::parse_f64(self.raw)
    }
}

impl fmt::Debug for Number<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.raw)
    }
}

/// A JSON string, kept escaped as it was received. Decode it with [`Str::chars`] or [`Str::unescape_into`].
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Str<'a> {
    /// The string with its quotes, as validated.
    quoted: &'a str,
}

impl<'a> Str<'a> {
    /// The string's contents between the quotes, escapes left as received.
    #[inline]
    pub fn raw(&self) -> &'a str {
        self.quoted
            .get(1..self.quoted.len().saturating_sub(1))
            .unwrap_or("")
    }

    /// The string as JSON text, quotes included.
    #[inline]
    pub fn quoted(&self) -> &'a str {
        self.quoted
    }

    /// Whether the contents hold any backslash escape.
    #[inline]
    pub fn is_escaped(&self) -> bool {
        self.raw().as_bytes().contains(&b'\\')
    }

    /// The contents as a `&str` when no unescaping is needed.
    #[inline]
    pub fn as_plain(&self) -> Option<&'a str> {
        if self.is_escaped() {
            None
        } else {
            Some(self.raw())
        }
    }

    /// The unescaped characters.
    pub fn chars(&self) -> StrChars<'a> {
        StrChars {
            rest: self.raw().chars(),
        }
    }

    /// The length of the unescaped text in UTF-8 bytes.
    pub fn unescaped_len(&self) -> usize {
        self.chars().map(char::len_utf8).sum()
    }

    /// The number of unescaped characters (what a thing model's string `max` limits).
    pub fn char_count(&self) -> usize {
        self.chars().count()
    }

    /// Compares the unescaped contents with `other`.
    pub fn eq_str(&self, other: &str) -> bool {
        if !self.is_escaped() {
            return self.raw() == other;
        }
        self.chars().eq(other.chars())
    }

    /// Unescapes into `buf` and returns the text written.
    ///
    /// # Errors
    /// [`BufferTooSmall`] with the exact size needed.
    pub fn unescape_into<'b>(&self, buf: &'b mut [u8]) -> Result<&'b str, BufferTooSmall> {
        let capacity = buf.len();
        let needed = self.unescaped_len();
        let too_small = BufferTooSmall { needed, capacity };
        let dst = buf.get_mut(..needed).ok_or(too_small)?;
        if let Some(plain) = self.as_plain() {
            dst.copy_from_slice(plain.as_bytes());
        } else {
            let mut at = 0;
            for c in self.chars() {
                let n = c.len_utf8();
                if let Some(slot) = dst.get_mut(at..at + n) {
                    c.encode_utf8(slot);
                }
                at += n;
            }
        }
        // Only whole characters were written, so this cannot fail; map it anyway rather than unwrap.
        core::str::from_utf8(dst).map_err(|_| too_small)
    }

    /// Unescapes into a fixed-capacity string.
    ///
    /// # Errors
    /// [`BufferTooSmall`] when the text needs more than `N` bytes.
    pub fn to_heapless<const N: usize>(&self) -> Result<heapless::String<N>, BufferTooSmall> {
        let mut out = heapless::String::new();
        for c in self.chars() {
            out.push(c).map_err(|_| BufferTooSmall {
                needed: self.unescaped_len(),
                capacity: N,
            })?;
        }
        Ok(out)
    }

    /// Unescapes into an owned `String`.
    #[cfg(feature = "alloc")]
    pub fn to_string_unescaped(&self) -> alloc::string::String {
        self.chars().collect()
    }
}

impl fmt::Debug for Str<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.quoted)
    }
}

impl fmt::Display for Str<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use fmt::Write;
        for c in self.chars() {
            f.write_char(c)?;
        }
        Ok(())
    }
}

/// Iterator over the unescaped characters of a [`Str`].
#[derive(Clone)]
pub struct StrChars<'a> {
    rest: core::str::Chars<'a>,
}

impl StrChars<'_> {
    fn hex4(&mut self) -> Option<u32> {
        let mut v = 0u32;
        for _ in 0..4 {
            let d = self.rest.next()?.to_digit(16)?;
            v = (v << 4) | d;
        }
        Some(v)
    }
}

impl Iterator for StrChars<'_> {
    type Item = char;

    fn next(&mut self) -> Option<char> {
        let c = self.rest.next()?;
        if c != '\\' {
            return Some(c);
        }
        Some(match self.rest.next()? {
            'n' => '\n',
            't' => '\t',
            'r' => '\r',
            'b' => '\u{8}',
            'f' => '\u{c}',
            'u' => {
                let hi = self.hex4()?;
                if (0xD800..0xDC00).contains(&hi) {
                    // A high surrogate must be followed by `\uDC00`–`\uDFFF`; otherwise it stands alone and is
                    // replaced, as JSON allows unpaired surrogates that UTF-8 cannot carry.
                    let save = self.rest.clone();
                    if self.rest.next() == Some('\\') && self.rest.next() == Some('u') {
                        if let Some(lo) = self.hex4() {
                            if (0xDC00..0xE000).contains(&lo) {
                                let cp = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                                return Some(
                                    char::from_u32(cp).unwrap_or(char::REPLACEMENT_CHARACTER),
                                );
                            }
                        }
                    }
                    self.rest = save;
                    char::REPLACEMENT_CHARACTER
                } else {
                    char::from_u32(hi).unwrap_or(char::REPLACEMENT_CHARACTER)
                }
            }
            // `"`, `\\` and `/` stand for themselves.
            other => other,
        })
    }
}

/// A JSON object view.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Object<'a> {
    raw: &'a str,
}

impl<'a> Object<'a> {
    /// `{}`.
    pub const EMPTY: Object<'static> = Object { raw: "{}" };

    /// The object's text, braces included.
    #[inline]
    pub fn raw(&self) -> &'a str {
        self.raw
    }

    /// Members in order of appearance.
    pub fn iter(&self) -> ObjectIter<'a> {
        ObjectIter {
            walker: Walker::inside(self.raw),
        }
    }

    /// The first member named `key` (compared after unescaping).
    pub fn get(&self, key: &str) -> Option<Value<'a>> {
        self.iter().find(|(k, _)| k.eq_str(key)).map(|(_, v)| v)
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    /// Whether the object has no members.
    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }
}

impl fmt::Debug for Object<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.raw)
    }
}

impl<'a> IntoIterator for Object<'a> {
    type Item = (Str<'a>, Value<'a>);
    type IntoIter = ObjectIter<'a>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// Iterator over an [`Object`]'s members.
#[derive(Clone)]
pub struct ObjectIter<'a> {
    walker: Walker<'a>,
}

impl<'a> Iterator for ObjectIter<'a> {
    type Item = (Str<'a>, Value<'a>);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let w = &mut self.walker;
        w.skip_ws();
        let key = w.take_string()?;
        w.skip_ws();
        if !w.eat(b':') {
            return w.stop();
        }
        w.skip_ws();
        let value = Value::from_validated(w.take_value()?);
        w.skip_ws();
        w.eat(b',');
        Some((key, value))
    }
}

/// A JSON array view.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Array<'a> {
    raw: &'a str,
}

impl<'a> Array<'a> {
    /// The array's text, brackets included.
    #[inline]
    pub fn raw(&self) -> &'a str {
        self.raw
    }

    /// Elements in order.
    pub fn iter(&self) -> ArrayIter<'a> {
        ArrayIter {
            walker: Walker::inside(self.raw),
        }
    }

    /// Element `index`.
    pub fn get(&self, index: usize) -> Option<Value<'a>> {
        self.iter().nth(index)
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    /// Whether the array has no elements.
    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }
}

impl fmt::Debug for Array<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.raw)
    }
}

impl<'a> IntoIterator for Array<'a> {
    type Item = Value<'a>;
    type IntoIter = ArrayIter<'a>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// Iterator over an [`Array`]'s elements.
#[derive(Clone)]
pub struct ArrayIter<'a> {
    walker: Walker<'a>,
}

impl<'a> Iterator for ArrayIter<'a> {
    type Item = Value<'a>;

    fn next(&mut self) -> Option<Self::Item> {
        let w = &mut self.walker;
        w.skip_ws();
        let value = Value::from_validated(w.take_value()?);
        w.skip_ws();
        w.eat(b',');
        Some(value)
    }
}

/// Walks the inside of a validated object or array. It never fails: on anything unexpected (which validation
/// rules out) it simply stops.
#[derive(Clone)]
struct Walker<'a> {
    text: &'a str,
    pos: usize,
    end: usize,
}

impl<'a> Walker<'a> {
    /// Positions the walker after the opening bracket of `container`, stopping before its closing one.
    fn inside(container: &'a str) -> Self {
        Walker {
            text: container,
            pos: 1,
            end: container.len().saturating_sub(1),
        }
    }

    #[inline]
    fn peek(&self) -> Option<u8> {
        if self.pos < self.end {
            self.text.as_bytes().get(self.pos).copied()
        } else {
            None
        }
    }

    #[inline]
    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    #[inline]
    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn stop<T>(&mut self) -> Option<T> {
        self.pos = self.end;
        None
    }

    /// Takes the string starting at the current position (an object's key).
    #[inline]
    fn take_string(&mut self) -> Option<Str<'a>> {
        let start = self.pos;
        let bytes = self.text.as_bytes().get(..self.end)?;
        if bytes.get(start) != Some(&b'"') {
            return self.stop();
        }
        let end = skip_string(bytes, start + 1)?;
        self.pos = end;
        Some(Str {
            quoted: self.text.get(start..end)?,
        })
    }

    /// Takes the text of the value starting at the current position.
    #[inline]
    fn take_value(&mut self) -> Option<&'a str> {
        let start = self.pos;
        let bytes = self.text.as_bytes();
        let end = skip_validated(bytes, start, self.end)?;
        self.pos = end;
        self.text.get(start..end)
    }
}

/// Returns the end of the validated value starting at `start` (and ending before `limit`), without recursion.
#[inline]
fn skip_validated(bytes: &[u8], start: usize, limit: usize) -> Option<usize> {
    let bytes = bytes.get(..limit)?;
    match *bytes.get(start)? {
        b'"' => skip_string(bytes, start + 1),
        b'{' | b'[' => skip_container(bytes, start),
        b't' | b'n' => Some(start + 4).filter(|&end| end <= limit),
        b'f' => Some(start + 5).filter(|&end| end <= limit),
        _ => {
            // A number: it runs to the next delimiter (or the end).
            let mut i = start + 1;
            while let Some(&b) = bytes.get(i) {
                if matches!(b, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r') {
                    break;
                }
                i += 1;
            }
            Some(i)
        }
    }
}

/// From just after a validated string's opening quote, the index just past its closing quote.
#[inline]
fn skip_string(bytes: &[u8], mut i: usize) -> Option<usize> {
    loop {
        i = find_string_stop(bytes, i);
        if *bytes.get(i)? == b'"' {
            return Some(i + 1);
        }
        // A backslash (validated strings hold no control bytes): the next byte is escaped (for `\uXXXX` the hex
        // digits are plain bytes anyway).
        i += 2;
    }
}

/// The index of the first quote, backslash or control byte at or after `i` (`bytes.len()` if none): eight bytes
/// at a time while they last, then one at a time.
#[inline]
fn find_string_stop(bytes: &[u8], mut i: usize) -> usize {
    while let Some(chunk) = bytes.get(i..i + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let stops = string_stops(u64::from_le_bytes(word));
        if stops != 0 {
            // The lowest flag is always a real stop byte.
            return i + (stops.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while let Some(&b) = bytes.get(i) {
        if b == b'"' || b == b'\\' || b < 0x20 {
            break;
        }
        i += 1;
    }
    i
}

/// From a validated container's opening bracket, the index just past its closing bracket.
///
/// Only brackets of the container's own kind are counted: in valid JSON the other kind is balanced inside it, so
/// three bytes (quote, open, close) are all the search needs.
fn skip_container(bytes: &[u8], start: usize) -> Option<usize> {
    let open = *bytes.get(start)?;
    let close = if open == b'{' { b'}' } else { b']' };
    let mut depth = 0usize;
    let mut i = start;
    while let Some(rest) = bytes.get(i..) {
        i += rest
            .iter()
            .position(|&b| b == b'"' || b == open || b == close)?;
        match *bytes.get(i)? {
            b'"' => {
                i = skip_string(bytes, i + 1)?;
                continue;
            }
            b if b == open => depth += 1,
            _ => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
        }
        i += 1;
    }
    None
}

/// Flags (bit 7 of each byte) the bytes of `word` that are a quote, a backslash or a control character — SWAR: the
/// high bit of `(x - 0x01) & !x` survives only for a zero byte `x`. A borrow can flag a byte just above a real hit,
/// never below one, so the lowest flag (first byte, as `word` is loaded little-endian) is always exact.
#[inline(always)]
fn string_stops(word: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let quote = word ^ (ONES * u64::from(b'"'));
    let backslash = word ^ (ONES * u64::from(b'\\'));
    let zero_byte = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
    // Bytes below 0x20: subtracting 0x20 borrows into the high bit only for them (bytes ≥ 0x80 are masked by `!word`).
    let control = word.wrapping_sub(ONES * 0x20) & !word & HIGH;
    zero_byte(quote) | zero_byte(backslash) | control
}

/// Byte offsets `start..end` of a validated token.
type Span = (usize, usize);

/// The one-pass validator behind [`Value::parse`]. Recursion is bounded by [`MAX_DEPTH`].
struct Validator<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Validator<'_> {
    #[inline]
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    #[inline]
    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn end(&self) -> JsonError {
        JsonError::UnexpectedEnd { offset: self.pos }
    }

    fn unexpected(&self) -> JsonError {
        match self.peek() {
            Some(byte) => JsonError::UnexpectedByte {
                offset: self.pos,
                byte,
            },
            None => self.end(),
        }
    }

    fn expect_byte(&mut self, b: u8) -> Result<(), JsonError> {
        if self.peek() == Some(b) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    fn value(&mut self, depth: usize) -> Result<(), JsonError> {
        match self.peek() {
            None => Err(self.end()),
            Some(b'{') => self.object(depth + 1, &mut |_: Span, _: Span| {}),
            Some(b'[') => self.array(depth + 1),
            Some(b'"') => self.string(),
            Some(b't') => self.literal(b"true"),
            Some(b'f') => self.literal(b"false"),
            Some(b'n') => self.literal(b"null"),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.unexpected()),
        }
    }

    fn literal(&mut self, word: &[u8]) -> Result<(), JsonError> {
        for &b in word {
            self.expect_byte(b)?;
        }
        Ok(())
    }

    /// Validates an object, telling `member` where each member's key (quotes included) and value lie.
    #[inline]
    fn object(
        &mut self,
        depth: usize,
        member: &mut impl FnMut(Span, Span),
    ) -> Result<(), JsonError> {
        if depth > MAX_DEPTH {
            return Err(JsonError::TooDeep { offset: self.pos });
        }
        self.pos += 1; // '{'
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(());
        }
        loop {
            self.skip_ws();
            if self.peek() != Some(b'"') {
                return Err(self.unexpected());
            }
            let key_start = self.pos;
            self.string()?;
            let key = (key_start, self.pos);
            self.skip_ws();
            self.expect_byte(b':')?;
            self.skip_ws();
            let value_start = self.pos;
            self.value(depth)?;
            member(key, (value_start, self.pos));
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => return Err(self.unexpected()),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<(), JsonError> {
        if depth > MAX_DEPTH {
            return Err(JsonError::TooDeep { offset: self.pos });
        }
        self.pos += 1; // '['
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(());
        }
        loop {
            self.skip_ws();
            self.value(depth)?;
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => return Err(self.unexpected()),
            }
        }
    }

    fn string(&mut self) -> Result<(), JsonError> {
        let bytes = self.bytes;
        let mut i = self.pos + 1; // past the opening quote
        loop {
            i = find_string_stop(bytes, i);
            self.pos = i;
            match bytes.get(i) {
                None => return Err(self.end()),
                Some(b'"') => {
                    self.pos = i + 1;
                    return Ok(());
                }
                Some(b'\\') => {
                    self.escape()?;
                    i = self.pos;
                }
                // RFC 8259 §7: control characters must be escaped.
                Some(_) => return Err(self.unexpected()),
            }
        }
    }

    /// Checks the escape at the current backslash and moves past it.
    #[cold]
    fn escape(&mut self) -> Result<(), JsonError> {
        let at = self.pos;
        self.pos += 1;
        match self.peek() {
            None => return Err(self.end()),
            Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => self.pos += 1,
            Some(b'u') => {
                self.pos += 1;
                for _ in 0..4 {
                    match self.peek() {
                        Some(h) if h.is_ascii_hexdigit() => self.pos += 1,
                        None => return Err(self.end()),
                        Some(_) => return Err(JsonError::InvalidEscape { offset: at }),
                    }
                }
            }
            Some(_) => return Err(JsonError::InvalidEscape { offset: at }),
        }
        Ok(())
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
        self.pos - start
    }

    fn number(&mut self) -> Result<(), JsonError> {
        let start = self.pos;
        let bad = JsonError::InvalidNumber { offset: start };
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => {
                self.pos += 1;
                if matches!(self.peek(), Some(b'0'..=b'9')) {
                    return Err(bad);
                }
            }
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(bad),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if self.digits() == 0 {
                return Err(bad);
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(bad);
            }
        }
        Ok(())
    }
}

/// The caller's buffer cannot hold the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[error("buffer holds {capacity} bytes but {needed} are needed; pass a larger buffer")]
pub struct BufferTooSmall {
    /// Bytes the output needs.
    pub needed: usize,
    /// Bytes the buffer holds.
    pub capacity: usize,
}

/// Writes JSON into a caller's buffer without allocating.
///
/// Writing never fails part-way: bytes past the end of the buffer are counted but dropped, and
/// [`Writer::finish`] reports the exact size needed. A writer over an empty buffer therefore measures a message.
///
/// ```
/// use iot_core::json::Writer;
///
/// let mut buf = [0u8; 32];
/// let mut w = Writer::new(&mut buf);
/// w.raw("{\"a\":");
/// w.string("x\"y");
/// w.raw("}");
/// let n = w.finish().unwrap();
/// assert_eq!(&buf[..n], br#"{"a":"x\"y"}"#);
/// ```
pub struct Writer<'b> {
    buf: &'b mut [u8],
    len: usize,
}

impl<'b> Writer<'b> {
    /// A writer that fills `buf` from its start.
    pub fn new(buf: &'b mut [u8]) -> Self {
        Writer { buf, len: 0 }
    }

    /// Bytes written so far, counting any that did not fit.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing has been written.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether everything written so far fits the buffer.
    pub fn fits(&self) -> bool {
        self.len <= self.buf.len()
    }

    /// Appends bytes as they are.
    pub fn bytes(&mut self, bytes: &[u8]) {
        let end = self.len + bytes.len();
        if let Some(dst) = self.buf.get_mut(self.len..end) {
            dst.copy_from_slice(bytes);
        } else if let Some(dst) = self.buf.get_mut(self.len..) {
            // Partial tail: fill what fits so the buffer's contents stay a prefix of the message.
            let n = dst.len();
            dst.copy_from_slice(bytes.get(..n).unwrap_or(&[]));
        }
        self.len = end;
    }

    /// Appends text as it is (the caller guarantees it is valid JSON in place).
    pub fn raw(&mut self, text: &str) {
        self.bytes(text.as_bytes());
    }

    /// Appends `text` as a quoted JSON string, escaping `"`, `\` and control characters.
    pub fn string(&mut self, text: &str) {
        self.bytes(b"\"");
        self.string_contents(text);
        self.bytes(b"\"");
    }

    /// Appends the escaped contents of a string, without quotes.
    pub fn string_contents(&mut self, text: &str) {
        let bytes = text.as_bytes();
        let mut run = 0;
        for (i, &b) in bytes.iter().enumerate() {
            let escape: &[u8] = match b {
                b'"' => b"\\\"",
                b'\\' => b"\\\\",
                b'\n' => b"\\n",
                b'\r' => b"\\r",
                b'\t' => b"\\t",
                0x08 => b"\\b",
                0x0c => b"\\f",
                0x00..=0x1f => b"",
                _ => continue,
            };
            self.bytes(bytes.get(run..i).unwrap_or(&[]));
            if escape.is_empty() {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                let hi = HEX.get(usize::from(b >> 4)).copied().unwrap_or(b'0');
                let lo = HEX.get(usize::from(b & 0xf)).copied().unwrap_or(b'0');
                self.bytes(&[b'\\', b'u', b'0', b'0', hi, lo]);
            } else {
                self.bytes(escape);
            }
            run = i + 1;
        }
        self.bytes(bytes.get(run..).unwrap_or(&[]));
    }

    /// Appends a JSON string given as escaped contents (from a received [`Str`]), re-emitting it verbatim.
    pub fn str_view(&mut self, s: &Str<'_>) {
        self.raw(s.quoted());
    }

    /// Appends a signed integer.
    pub fn i64(&mut self, v: i64) {
        let mut b = itoa::Buffer::new();
        self.raw(b.format(v));
    }

    /// Appends an unsigned integer.
    pub fn u64(&mut self, v: u64) {
        let mut b = itoa::Buffer::new();
        self.raw(b.format(v));
    }

    /// Appends a float in the shortest form that reads back to the same value.
    ///
    /// # Errors
    /// [`NonFinite`] for NaN and infinities, which JSON cannot express.
    pub fn f64(&mut self, v: f64) -> Result<(), NonFinite> {
        if !v.is_finite() {
            return Err(NonFinite);
        }
        let mut b = ryu::Buffer::new();
        self.raw(b.format_finite(v));
        Ok(())
    }

    /// Appends a bool as the protocol sends it: `0` or `1` (protocol.md §11.5).
    pub fn bool_as_int(&mut self, v: bool) {
        self.bytes(if v { b"1" } else { b"0" });
    }

    /// Finishes and returns the message length.
    ///
    /// # Errors
    /// [`BufferTooSmall`] with the exact size needed when the message did not fit.
    pub fn finish(self) -> Result<usize, BufferTooSmall> {
        if self.fits() {
            Ok(self.len)
        } else {
            Err(BufferTooSmall {
                needed: self.len,
                capacity: self.buf.len(),
            })
        }
    }
}

/// A float that JSON cannot carry (NaN or infinite).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[error("NaN and infinite floats cannot be sent in JSON; check the sensor reading")]
pub struct NonFinite;

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Value<'_>, JsonError> {
        Value::parse(s.as_bytes())
    }

    #[test]
    fn scalars() {
        assert_eq!(parse("null").unwrap(), Value::Null);
        assert_eq!(parse(" true ").unwrap().as_bool(), Some(true));
        assert_eq!(parse("false").unwrap().as_bool(), Some(false));
        assert_eq!(parse("1").unwrap().as_bool(), Some(true));
        assert_eq!(parse("0").unwrap().as_bool(), Some(false));
        assert_eq!(parse("2").unwrap().as_bool(), None);
        assert_eq!(parse("-12").unwrap().as_i64(), Some(-12));
        assert_eq!(parse("2.5").unwrap().as_i64(), None);
        assert_eq!(parse("2.5").unwrap().as_f64(), Some(2.5));
        assert_eq!(parse("1e3").unwrap().as_f64(), Some(1000.0));
        assert_eq!(parse("1e999").unwrap().as_f64(), None);
        assert_eq!(
            parse("18446744073709551615")
                .unwrap()
                .as_number()
                .unwrap()
                .as_u64(),
            Some(u64::MAX)
        );
        assert_eq!(parse("18446744073709551615").unwrap().as_i64(), None);
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "",
            " ",
            "{",
            "}",
            "[1,]",
            "{\"a\":}",
            "{\"a\" 1}",
            "{a:1}",
            "01",
            "-",
            "1.",
            ".5",
            "1e",
            "+1",
            "tru",
            "nul",
            "\"abc",
            "\"\\x\"",
            "\"\\u12G4\"",
            "[1 2]",
            "{\"a\":1,}",
            "1 2",
            "\"a\nb\"",
            "NaN",
        ] {
            assert!(parse(bad).is_err(), "accepted {bad:?}");
        }
        assert_eq!(parse("[1] x"), Err(JsonError::TrailingData { offset: 4 }));
        assert_eq!(
            Value::parse(b"\"\xff\""),
            Err(JsonError::InvalidUtf8 { offset: 1 })
        );
    }

    #[test]
    fn depth_is_bounded() {
        let mut deep = [0u8; 2 * (MAX_DEPTH + 1)];
        let (open, close) = deep.split_at_mut(MAX_DEPTH + 1);
        open.fill(b'[');
        close.fill(b']');
        assert!(matches!(
            Value::parse(&deep),
            Err(JsonError::TooDeep { .. })
        ));
        assert!(Value::parse(&deep[1..deep.len() - 1]).is_ok());
    }

    #[test]
    fn objects_and_arrays() {
        let v = parse(r#" { "a" : [1, {"b":"}]"}, "x\"y"] , "c":{} , "d" : [ ] } "#).unwrap();
        let o = v.as_object().unwrap();
        assert_eq!(o.len(), 3);
        let a = o.get("a").unwrap().as_array().unwrap();
        assert_eq!(a.len(), 3);
        assert_eq!(a.get(0).unwrap().as_i64(), Some(1));
        let inner = a.get(1).unwrap().as_object().unwrap();
        assert!(inner.get("b").unwrap().as_str().unwrap().eq_str("}]"));
        assert!(a.get(2).unwrap().as_str().unwrap().eq_str("x\"y"));
        assert!(o.get("c").unwrap().as_object().unwrap().is_empty());
        assert!(o.get("d").unwrap().as_array().unwrap().is_empty());
        assert!(o.get("missing").is_none());
        assert_eq!(o.get("c").unwrap().raw(), "{}");
    }

    #[test]
    fn visiting_sees_what_iterating_sees() {
        extern crate std;
        use std::vec::Vec;
        let texts: [&[u8]; 5] = [
            br#" { "a" : [1, {"b":"}]"}, "x\"y"] , "c":{} , "d" : [ ], "a": null, "e\u0041": -1.5e3 } "#,
            br#"{}"#,
            br#"[{"not":"top-level"}]"#,
            br#""text""#,
            br#"{"method":"control","clientToken":"t","params":{"x":{"y":[true,false]}}}"#,
        ];
        for text in texts {
            let mut seen = Vec::new();
            let v = Value::parse_visiting(text, |k, v| seen.push((k, v))).unwrap();
            assert_eq!(v, Value::parse(text).unwrap());
            let iterated: Vec<_> = v
                .as_object()
                .map(|o| o.iter().collect())
                .unwrap_or_default();
            assert_eq!(seen, iterated, "{}", core::str::from_utf8(text).unwrap());
        }
        // Errors are those of `parse`, wherever the text breaks.
        for text in [
            &br#"{"a":1,"b":}"#[..],
            br#"{"a":1} x"#,
            b"{\"a\":\"\xff\"}",
            br#"{"a":[1,]}"#,
        ] {
            assert_eq!(Value::parse_visiting(text, |_, _| {}), Value::parse(text));
            assert!(Value::parse(text).is_err());
        }
    }

    #[test]
    fn unescapes_strings() {
        let v = parse(r#""a\n\t\"\\\/\u00e9\ud83d\ude00\ud800x""#).unwrap();
        let s = v.as_str().unwrap();
        let mut buf = [0u8; 32];
        let out = s.unescape_into(&mut buf).unwrap();
        assert_eq!(out, "a\n\t\"\\/é😀\u{fffd}x");
        assert_eq!(s.unescaped_len(), out.len());
        let mut small = [0u8; 3];
        assert_eq!(
            s.unescape_into(&mut small),
            Err(BufferTooSmall {
                needed: out.len(),
                capacity: 3
            })
        );
        assert_eq!(s.to_heapless::<32>().unwrap().as_str(), out);
        assert!(s.to_heapless::<4>().is_err());
        let plain = parse("\"plain\"").unwrap().as_str().unwrap();
        assert_eq!(plain.as_plain(), Some("plain"));
        assert_eq!(plain.unescape_into(&mut buf).unwrap(), "plain");
        assert!(plain.unescape_into(&mut small).is_err());
    }

    #[test]
    fn escaped_keys_match() {
        let v = parse(r#"{"a\u0062":1}"#).unwrap();
        assert_eq!(v.as_object().unwrap().get("ab").unwrap().as_i64(), Some(1));
    }

    #[test]
    fn writer_escapes_and_counts() {
        let mut buf = [0u8; 64];
        let mut w = Writer::new(&mut buf);
        w.string("q\"b\\n\n\u{1}é");
        let n = w.finish().unwrap();
        let text = core::str::from_utf8(&buf[..n]).unwrap();
        assert_eq!(text, "\"q\\\"b\\\\n\\n\\u0001é\"");
        let back = parse(text).unwrap().as_str().unwrap();
        assert!(back.eq_str("q\"b\\n\n\u{1}é"));

        let mut tiny = [0u8; 4];
        let mut w = Writer::new(&mut tiny);
        w.raw("{\"abc\":1}");
        assert_eq!(
            w.finish(),
            Err(BufferTooSmall {
                needed: 9,
                capacity: 4
            })
        );
        assert_eq!(&tiny, b"{\"ab");

        let mut none: [u8; 0] = [];
        let mut w = Writer::new(&mut none);
        w.i64(-42);
        assert!(w.f64(f64::NAN).is_err());
        w.f64(2.8).unwrap();
        assert_eq!(w.len(), 6);
    }
}
