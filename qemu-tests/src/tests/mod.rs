//! The on-target tests, by module. Each module has a `run(&mut Runner)` group.
//!
//! Vectors and thing models come from the shared reference files, compiled into flash with
//! `include_str!` and parsed on the target with `iot_core::json`.

mod codec;
mod credentials;
mod json;
mod model;
mod runtime;

use core::fmt;

use iot_core::json::{Object, Value};

use crate::harness::{Failure, Group, Runner};
use crate::{ok, some};

/// Every test group, in the order they run.
pub const GROUPS: &[(&str, Group)] = &[
    ("json", json::run),
    ("credentials", credentials::run),
    ("model", model::run),
    ("codec", codec::run),
    ("runtime", runtime::run),
];

/// `shared/vectors/credentials.json`.
const CREDENTIALS_JSON: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/vectors/credentials.json"
));

/// `shared/vectors/messages.json`.
const MESSAGES_JSON: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/vectors/messages.json"
));

/// `shared/models/env-monitor.json`: the thing model of the environment monitor.
const ENV_MONITOR_MODEL: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/models/env-monitor.json"
));

/// Bytes of the files above, all in flash.
pub const EMBEDDED_BYTES: usize =
    CREDENTIALS_JSON.len() + MESSAGES_JSON.len() + ENV_MONITOR_MODEL.len();

/// Runs a test that parses `text` (the file `name`) and returns the top-level value, or `None`
/// (the test failed) so that the caller skips the tests that need it.
fn parse_file(r: &mut Runner, name: &str, text: &'static str) -> Option<Value<'static>> {
    let mut parsed = None;
    r.test(format_args!("vectors::{name} parses on target"), || {
        parsed = Some(ok!(Value::parse(text.as_bytes())));
        Ok(())
    });
    parsed
}

/// The escape-free string member `key` of a vector.
fn text<'a>(vector: Object<'a>, key: &str) -> Result<&'a str, Failure> {
    let value = some!(vector.get(key), "the vector has no `{key}`");
    let string = some!(value.as_str(), "`{key}` is not a string");
    Ok(some!(string.as_plain(), "`{key}` has escapes"))
}

/// The unsigned integer member `key` of a vector.
fn unsigned(vector: Object<'_>, key: &str) -> Result<u64, Failure> {
    let value = some!(vector.get(key), "the vector has no `{key}`");
    Ok(some!(
        value.as_number().and_then(|n| n.as_u64()),
        "`{key}` is not an unsigned integer"
    ))
}

/// The `json` text of the entry `name` of messages.json, unescaped into `buf`.
fn message<'b>(name: &str, buf: &'b mut [u8]) -> Result<&'b str, Failure> {
    let doc = ok!(Value::parse(MESSAGES_JSON.as_bytes()));
    let entries = some!(doc.as_array(), "messages.json is not an array");
    let entry = some!(
        entries.iter().filter_map(|e| e.as_object()).find(|e| e
            .get("name")
            .and_then(|n| n.as_str())
            .is_some_and(|n| n.eq_str(name))),
        "messages.json has no entry named {name}"
    );
    let json = some!(
        entry.get("json").and_then(|j| j.as_str()),
        "`{name}` has no json"
    );
    Ok(ok!(json.unescape_into(buf)))
}

/// A fixed-capacity text buffer for checking `Display` output without a heap.
pub struct TextBuf<const N: usize> {
    buf: [u8; N],
    len: usize,
}

impl<const N: usize> TextBuf<N> {
    /// An empty buffer.
    pub const fn new() -> Self {
        Self {
            buf: [0; N],
            len: 0,
        }
    }

    /// `value` formatted with `Display`, or `None` if it does not fit.
    pub fn display(value: impl fmt::Display) -> Option<Self> {
        let mut out = Self::new();
        fmt::write(&mut out, format_args!("{value}")).ok()?;
        Some(out)
    }

    /// The text written so far.
    pub fn as_str(&self) -> &str {
        // Only whole `&str`s are appended, so the contents are UTF-8.
        self.buf
            .get(..self.len)
            .and_then(|b| core::str::from_utf8(b).ok())
            .unwrap_or("")
    }
}

impl<const N: usize> fmt::Write for TextBuf<N> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        let dst = self.buf.get_mut(self.len..end).ok_or(fmt::Error)?;
        dst.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

impl<const N: usize> fmt::Debug for TextBuf<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}
