//! `iot_core::json` on target: the writer and the parser round-trip each other, every message of
//! messages.json re-serialises byte for byte, and malformed input is refused with its offset.

use iot_core::json::{JsonError, NonFinite, Value, Writer, MAX_DEPTH};

use super::{message, parse_file, MESSAGES_JSON};
use crate::harness::{Failure, Outcome, Runner};
use crate::{check, check_eq, ok, some};

/// The JSON tests.
pub fn run(r: &mut Runner) {
    r.test("json::writer_parser_round_trip", writer_parser_round_trip);
    r.test(
        "json::writer_builds_the_seed_report",
        writer_builds_the_seed_report,
    );
    r.test(
        "json::writer_measures_a_short_buffer",
        writer_measures_a_short_buffer,
    );
    r.test("json::writer_refuses_non_finite_floats", || {
        let mut buf = [0u8; 8];
        let mut w = Writer::new(&mut buf);
        check_eq!(w.f64(f64::NAN), Err(NonFinite));
        check_eq!(w.f64(f64::INFINITY), Err(NonFinite));
        check_eq!(w.finish(), Ok(0));
        Ok(())
    });
    r.test(
        "json::parser_reports_errors_with_offsets",
        parser_reports_errors,
    );

    let Some(doc) = parse_file(r, "messages.json", MESSAGES_JSON) else {
        return;
    };
    let mut count = 0;
    for entry in doc.as_array().into_iter().flat_map(|a| a.iter()) {
        count += 1;
        let name = entry
            .as_object()
            .and_then(|e| e.get("name"))
            .and_then(|n| n.as_str())
            .and_then(|n| n.as_plain())
            .unwrap_or("?");
        r.test(
            format_args!("json::messages[{name}] re-serialises byte for byte"),
            || reserialise(entry),
        );
    }
    r.test("json::messages.json has messages", || {
        check!(count > 0, "messages.json is not a non-empty array");
        Ok(())
    });
}

/// A string with every kind of escape the writer produces, and non-ASCII text.
const AWKWARD: &str = "quote\" backslash\\ slash/ nl\n cr\r tab\t bs\u{8} ff\u{c} ctl\u{1} é 中 🙂";

fn writer_parser_round_trip() -> Outcome {
    let mut buf = [0u8; 256];
    let mut w = Writer::new(&mut buf);
    w.raw("{\"int\":");
    w.i64(-42);
    w.raw(",\"max\":");
    w.u64(u64::MAX);
    w.raw(",\"min\":");
    w.i64(i64::MIN);
    w.raw(",\"float\":");
    ok!(w.f64(-3.25));
    w.raw(",\"tiny\":");
    ok!(w.f64(1e-7));
    w.raw(",\"text\":");
    w.string(AWKWARD);
    w.raw(",\"flag\":");
    w.bool_as_int(true);
    w.raw(",\"nested\":[[1,2],[],[{\"k\":[true,false,null]}]]}");
    let len = ok!(w.finish());
    let text = some!(buf.get(..len));

    let doc = ok!(Value::parse(text));
    let obj = some!(doc.as_object());
    check_eq!(obj.len(), 8);
    check_eq!(some!(obj.get("int")).as_i64(), Some(-42));
    check_eq!(
        some!(obj.get("max")).as_number().and_then(|n| n.as_u64()),
        Some(u64::MAX)
    );
    check_eq!(some!(obj.get("min")).as_i64(), Some(i64::MIN));
    // Shortest round-trip formatting: the exact same doubles come back. (Compared without `{:?}`
    // of an `f64`, which would link core's float formatting: 17 KB of flash.)
    for (key, expected) in [("float", -3.25), ("tiny", 1e-7)] {
        let number = some!(some!(obj.get(key)).as_number());
        check!(
            number.as_f64() == Some(expected),
            "{key} was written as {}",
            number.raw()
        );
    }
    check_eq!(some!(obj.get("flag")).as_i64(), Some(1));

    let text = some!(some!(obj.get("text")).as_str());
    check!(text.is_escaped());
    let mut unescaped = [0u8; 96];
    check_eq!(ok!(text.unescape_into(&mut unescaped)), AWKWARD);
    check!(text.chars().eq(AWKWARD.chars()));
    check_eq!(text.char_count(), AWKWARD.chars().count());
    check!(text.eq_str(AWKWARD));

    let nested = some!(some!(obj.get("nested")).as_array());
    check_eq!(nested.len(), 3);
    let first = some!(some!(nested.get(0)).as_array());
    check_eq!(first.len(), 2);
    check_eq!(some!(first.get(1)).as_i64(), Some(2));
    check!(some!(some!(nested.get(1)).as_array()).is_empty());
    let inner = some!(some!(some!(nested.get(2)).as_array()).get(0));
    let k = some!(some!(some!(inner.as_object()).get("k")).as_array());
    check_eq!(k.len(), 3);
    check_eq!(some!(k.get(0)).as_bool(), Some(true));
    check_eq!(some!(k.get(1)).as_bool(), Some(false));
    check!(some!(k.get(2)).is_null());
    check!(k.get(3).is_none());
    Ok(())
}

/// Builds the environment monitor's report with the writer and compares it with the text in
/// messages.json.
fn writer_builds_the_seed_report() -> Outcome {
    let mut expected = [0u8; 256];
    let expected = message("report", &mut expected)?;
    let mut buf = [0u8; 256];
    let mut w = Writer::new(&mut buf);
    w.raw("{\"method\":");
    w.string("report");
    w.raw(",\"clientToken\":");
    w.string("123");
    w.raw(",\"params\":{");
    let readings: [(&str, i64); 6] = [
        ("MQ2", 30),
        ("MQ135", 95),
        ("MQ4", 30),
        ("MQ7", 20),
        ("DHT11_T", 14),
        ("DHT11_H", 70),
    ];
    for (i, (id, value)) in readings.iter().enumerate() {
        if i > 0 {
            w.raw(",");
        }
        w.string(id);
        w.raw(":");
        w.i64(*value);
    }
    w.raw("}}");
    let len = ok!(w.finish());
    check_eq!(core::str::from_utf8(some!(buf.get(..len))), Ok(expected));
    Ok(())
}

fn writer_measures_a_short_buffer() -> Outcome {
    let mut big = [0u8; 64];
    let mut w = Writer::new(&mut big);
    w.raw("{\"token\":");
    w.string("a\"b");
    w.raw("}");
    let needed = ok!(w.finish());
    check_eq!(
        some!(big.get(..needed)),
        b"{\"token\":\"a\\\"b\"}".as_slice()
    );

    let mut small = [0u8; 10];
    let mut w = Writer::new(&mut small);
    w.raw("{\"token\":");
    w.string("a\"b");
    w.raw("}");
    check!(!w.fits());
    let err = some!(w.finish().err());
    check_eq!(err.needed, needed);
    check_eq!(err.capacity, 10);
    // What fitted is a prefix of the message.
    check_eq!(small.as_slice(), some!(big.get(..10)));

    // A writer over no buffer measures.
    let mut w = Writer::new(&mut []);
    w.string("a\"b");
    check_eq!(w.len(), 6);
    Ok(())
}

fn parser_reports_errors() -> Outcome {
    check_eq!(
        Value::parse(b"{\"a\":[1,2"),
        Err(JsonError::UnexpectedEnd { offset: 9 })
    );
    check_eq!(
        Value::parse(b"{\"a\":1} x"),
        Err(JsonError::TrailingData { offset: 8 })
    );
    check_eq!(
        Value::parse(b"{\"a\":\"\\x\"}"),
        Err(JsonError::InvalidEscape { offset: 6 })
    );
    check_eq!(
        Value::parse(b"[01]"),
        Err(JsonError::InvalidNumber { offset: 1 })
    );
    check_eq!(
        Value::parse(b"[\"\xff\"]"),
        Err(JsonError::InvalidUtf8 { offset: 2 })
    );
    // MAX_DEPTH levels nest; one more is refused at its bracket.
    let mut deep = [b']'; 2 * (MAX_DEPTH + 1)];
    if let Some(open) = deep.get_mut(..MAX_DEPTH) {
        open.fill(b'[');
    }
    check!(Value::parse(some!(deep.get(..2 * MAX_DEPTH))).is_ok());
    if let Some(open) = deep.get_mut(..=MAX_DEPTH) {
        open.fill(b'[');
    }
    check_eq!(
        Value::parse(&deep),
        Err(JsonError::TooDeep { offset: MAX_DEPTH })
    );
    Ok(())
}

/// Unescapes one message of messages.json, parses it, writes it back through the writer (numbers
/// through itoa/ryu, strings unescaped and re-escaped) and compares with the original text less
/// its insignificant white space (the writer writes compact JSON).
fn reserialise(entry: Value<'static>) -> Outcome {
    let json = some!(entry
        .as_object()
        .and_then(|e| e.get("json"))
        .and_then(|j| j.as_str()));
    let mut original = [0u8; 512];
    let original = ok!(json.unescape_into(&mut original));
    let mut compact = [0u8; 512];
    let compact = compact_json(original, &mut compact)?;
    let doc = ok!(Value::parse(original.as_bytes()));
    let mut out = [0u8; 512];
    let mut w = Writer::new(&mut out);
    write_value(&mut w, doc, 0)?;
    let len = ok!(w.finish());
    check_eq!(core::str::from_utf8(some!(out.get(..len))), Ok(compact));
    Ok(())
}

/// `json` without the white space between tokens (strings are kept as they are).
fn compact_json<'b>(json: &str, out: &'b mut [u8]) -> Result<&'b str, Failure> {
    let mut len = 0;
    let (mut in_string, mut escaped) = (false, false);
    for &b in json.as_bytes() {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
        } else if matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
            continue;
        } else if b == b'"' {
            in_string = true;
        }
        *some!(out.get_mut(len), "message longer than {} bytes", out.len()) = b;
        len += 1;
    }
    Ok(ok!(core::str::from_utf8(some!(out.get(..len)))))
}

fn write_value(w: &mut Writer<'_>, value: Value<'_>, depth: usize) -> Result<(), Failure> {
    check!(depth <= MAX_DEPTH);
    match value {
        Value::Null => w.raw("null"),
        Value::Bool(b) => w.raw(if b { "true" } else { "false" }),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                w.i64(i);
            } else if let Some(u) = n.as_u64() {
                w.u64(u);
            } else {
                ok!(w.f64(some!(n.as_f64())));
            }
        }
        Value::String(s) => {
            let mut buf = [0u8; 256];
            w.string(ok!(s.unescape_into(&mut buf)));
        }
        Value::Object(o) => {
            w.raw("{");
            for (i, (key, member)) in o.iter().enumerate() {
                if i > 0 {
                    w.raw(",");
                }
                let mut buf = [0u8; 64];
                w.string(ok!(key.unescape_into(&mut buf)));
                w.raw(":");
                write_value(w, member, depth + 1)?;
            }
            w.raw("}");
        }
        Value::Array(a) => {
            w.raw("[");
            for (i, element) in a.iter().enumerate() {
                if i > 0 {
                    w.raw(",");
                }
                write_value(w, element, depth + 1)?;
            }
            w.raw("]");
        }
    }
    Ok(())
}
