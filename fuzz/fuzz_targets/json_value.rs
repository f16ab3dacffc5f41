//! The JSON validator accepts or refuses any bytes without panicking, and every view of an accepted document can be
//! walked to the end.
#![no_main]

use iot_core::json::Value;
use libfuzzer_sys::fuzz_target;

fn walk(v: Value<'_>, budget: &mut usize) {
    if *budget == 0 {
        return;
    }
    *budget -= 1;
    match v {
        Value::Object(o) => {
            for (k, v) in o.iter() {
                let _ = k.unescaped_len();
                walk(v, budget);
            }
        }
        Value::Array(a) => {
            for v in a.iter() {
                walk(v, budget);
            }
        }
        Value::String(s) => {
            let mut buf = [0u8; 64];
            let _ = s.unescape_into(&mut buf);
            let _ = s.to_heapless::<16>();
        }
        Value::Number(n) => {
            let _ = (n.as_i64(), n.as_u64(), n.as_f64());
        }
        Value::Bool(_) | Value::Null => {}
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(v) = Value::parse(data) {
        let mut budget = 10_000;
        walk(v, &mut budget);
    }
});
