//! Any text given to `Topic::parse` is accepted or refused, never a panic; accepted topics print back to the same
//! text.
#![no_main]

use core::fmt::Write;

use iot_core::topic::Topic;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = core::str::from_utf8(data) else {
        return;
    };
    if let Ok(topic) = Topic::parse(text) {
        let mut out = String::new();
        write!(out, "{topic}").expect("writing to a String cannot fail");
        assert_eq!(
            out, text,
            "a parsed topic must print back as it was received"
        );
    }
});
