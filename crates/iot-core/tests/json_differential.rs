//! The zero-copy JSON reader against `serde_json` as the reference: every document `serde_json` writes reads back
//! as the same tree, and on edited documents both accept or refuse alike.

use iot_core::json::Value;
use proptest::prelude::*;
use serde_json::Value as Ref;

/// Rebuilds our view as a `serde_json` tree (strings unescaped through `Str::chars`).
fn to_ref(v: Value<'_>) -> Ref {
    match v {
        Value::Null => Ref::Null,
        Value::Bool(b) => Ref::Bool(b),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => Ref::from(i),
            (None, Some(u)) => Ref::from(u),
            _ => serde_json::Number::from_f64(n.as_f64().unwrap_or(f64::NAN))
                .map_or(Ref::Null, Ref::Number),
        },
        Value::String(s) => Ref::String(s.chars().collect()),
        Value::Array(a) => Ref::Array(a.iter().map(to_ref).collect()),
        Value::Object(o) => {
            let mut map = serde_json::Map::new();
            for (k, v) in o.iter() {
                // First occurrence wins, as in `Object::get`; `serde_json` keeps the last, so generated documents
                // avoid duplicate keys (a map has none).
                map.entry(k.chars().collect::<String>())
                    .or_insert_with(|| to_ref(v));
            }
            Ref::Object(map)
        }
    }
}

/// Strings that exercise every path of the string scanner: plain runs longer and shorter than a word, quotes,
/// backslashes, control characters, and multi-byte UTF-8.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9_]{0,20}",
        "[ -~]{0,24}",
        prop::collection::vec(
            prop_oneof![
                Just('"'),
                Just('\\'),
                Just('\n'),
                Just('\u{1}'),
                Just('\u{1f}'),
                Just('\u{7f}'),
                Just('é'),
                Just('温'),
                Just('😀'),
                prop::char::range('a', 'z'),
            ],
            0..24,
        )
        .prop_map(|cs| cs.into_iter().collect()),
    ]
}

fn number() -> impl Strategy<Value = Ref> {
    prop_oneof![
        any::<i64>().prop_map(Ref::from),
        any::<u64>().prop_map(Ref::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Ref::Null, Ref::Number)),
    ]
}

fn document() -> impl Strategy<Value = Ref> {
    let leaf = prop_oneof![
        Just(Ref::Null),
        any::<bool>().prop_map(Ref::Bool),
        number(),
        text().prop_map(Ref::String),
    ];
    leaf.prop_recursive(5, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Ref::Array),
            prop::collection::vec((text(), inner), 0..6)
                .prop_map(|members| Ref::Object(members.into_iter().collect())),
        ]
    })
}

/// An edit that keeps the text UTF-8 (our reader checks UTF-8 up front; `serde_json` only where it reads strings).
#[derive(Debug, Clone)]
enum Edit {
    Replace(usize, char),
    Insert(usize, char),
    Remove(usize),
    Truncate(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    let c = prop_oneof![
        prop::sample::select(vec![
            '"', '\\', '{', '}', '[', ']', ':', ',', ' ', '\n', '\u{1}', '0', '1', '-', '+', '.',
            'e', 'E', 'u', 't', 'n', 'f', 'x',
        ]),
        prop::char::range('a', 'f'),
    ];
    prop_oneof![
        (any::<usize>(), c.clone()).prop_map(|(i, c)| Edit::Replace(i, c)),
        (any::<usize>(), c).prop_map(|(i, c)| Edit::Insert(i, c)),
        any::<usize>().prop_map(Edit::Remove),
        any::<usize>().prop_map(Edit::Truncate),
    ]
}

fn apply(text: &str, edit: &Edit) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    let at = |i: usize, len: usize| if len == 0 { 0 } else { i % len };
    match *edit {
        Edit::Replace(i, c) if !chars.is_empty() => {
            let i = at(i, chars.len());
            chars[i] = c;
        }
        Edit::Insert(i, c) => {
            let i = at(i, chars.len() + 1);
            chars.insert(i, c);
        }
        Edit::Remove(i) if !chars.is_empty() => {
            let i = at(i, chars.len());
            chars.remove(i);
        }
        Edit::Truncate(i) => chars.truncate(at(i, chars.len() + 1)),
        _ => {}
    }
    chars.into_iter().collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn reads_what_serde_json_writes(doc in document(), pretty in any::<bool>()) {
        let text = if pretty {
            serde_json::to_string_pretty(&doc).unwrap()
        } else {
            serde_json::to_string(&doc).unwrap()
        };
        let ours = Value::parse(text.as_bytes());
        prop_assert!(ours.is_ok(), "{text}: {ours:?}");
        let ours = to_ref(ours.unwrap());
        if cfg!(feature = "compact-floats") {
            prop_assert!(same(&ours, &doc), "{:?} vs {:?}", ours, doc);
        } else {
            prop_assert_eq!(ours, doc);
        }
    }

    #[test]
    fn accepts_and_refuses_like_serde_json(doc in document(), edits in prop::collection::vec(edit(), 1..4)) {
        let mut text = serde_json::to_string(&doc).unwrap();
        for e in &edits {
            text = apply(&text, e);
        }
        let reference = serde_json::from_str::<serde::de::IgnoredAny>(&text).is_ok();
        let ours = Value::parse(text.as_bytes());
        prop_assert_eq!(ours.is_ok(), reference, "{:?}: ours {:?}", text, ours);
        if let Ok(v) = ours {
            // Whatever is accepted can be walked, and walks the same as `serde_json` reads it.
            // `serde_json` refuses numbers beyond `f64` when it builds a tree (JSON itself has no such limit).
            let reference: Ref = match serde_json::from_str(&text) {
                Ok(r) => r,
                Err(e) => {
                    prop_assert!(e.to_string().starts_with("number out of range"), "{}", e);
                    return Ok(());
                }
            };
            if !has_duplicate_keys(&text) {
                let ours = to_ref(v);
                prop_assert!(same(&ours, &reference), "{:?} vs {:?}", ours, reference);
            }
        }
    }
}

/// Equal trees, except that floats may differ in the last places: `serde_json` (without its `float_roundtrip`
/// feature) does not always round decimal text to the nearest `f64`, and neither does our `compact-floats`.
fn same(a: &Ref, b: &Ref) -> bool {
    match (a, b) {
        (Ref::Number(x), Ref::Number(y)) if x.is_f64() || y.is_f64() => {
            let (x, y) = (
                x.as_f64().unwrap_or(f64::NAN),
                y.as_f64().unwrap_or(f64::NAN),
            );
            // Within a few units in the last place (counted in bits, so subnormals compare fairly too).
            x == y || (x.signum() == y.signum() && x.to_bits().abs_diff(y.to_bits()) <= 4)
        }
        (Ref::Array(x), Ref::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y))
        }
        (Ref::Object(x), Ref::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

/// Whether any object in `text` repeats a key (where first-wins and last-wins readers legitimately differ).
fn has_duplicate_keys(text: &str) -> bool {
    fn walk(v: Value<'_>) -> bool {
        match v {
            Value::Object(o) => {
                let keys: Vec<String> = o.iter().map(|(k, _)| k.chars().collect()).collect();
                let mut sorted = keys.clone();
                sorted.sort();
                sorted.dedup();
                sorted.len() != keys.len() || o.iter().any(|(_, v)| walk(v))
            }
            Value::Array(a) => a.iter().any(walk),
            _ => false,
        }
    }
    Value::parse(text.as_bytes()).is_ok_and(walk)
}

/// The word-at-a-time string scan finds the first stop byte wherever it sits in the word, whatever surrounds it.
#[test]
fn string_scan_finds_every_stop_byte_at_every_offset() {
    let fillers: [&[u8]; 3] = [b"a", "é".as_bytes(), b"~"];
    for filler in fillers {
        for stop in [b'"', b'\\', 0x00, 0x01, 0x0a, 0x1f] {
            for offset in 0..20 {
                let mut body = Vec::new();
                while body.len() < offset {
                    body.extend_from_slice(filler);
                }
                let plain = body.len();
                body.push(stop);
                body.extend_from_slice(b"zzzzzzzzzzzzzzzz\"");
                let mut text = vec![b'"'];
                text.extend_from_slice(&body);
                let got = Value::parse(&text);
                match stop {
                    // `"` ends the string early: what follows is trailing data.
                    b'"' => assert!(
                        matches!(got, Err(iot_core::json::JsonError::TrailingData { offset }) if offset == plain + 2),
                        "{got:?}"
                    ),
                    // `\z` is not an escape JSON defines; the error names the backslash.
                    b'\\' => assert_eq!(
                        got,
                        Err(iot_core::json::JsonError::InvalidEscape { offset: plain + 1 })
                    ),
                    _ => assert_eq!(
                        got,
                        Err(iot_core::json::JsonError::UnexpectedByte {
                            offset: plain + 1,
                            byte: stop
                        })
                    ),
                }
            }
        }
    }
}
