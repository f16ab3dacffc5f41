//! Down-messages from the broker are decoded or refused without panicking; decoded params can be walked, checked
//! against the product's thing model, and their clientToken echoed into a reply.
#![no_main]

use iot_core::codec::{decode, ControlReply, Down, Encode, ParamsView, ReplyCode};
use iot_core::model::ThingModel;
use libfuzzer_sys::fuzz_target;

const MODEL: &str = include_str!("../../models/env-monitor.json");

fn walk(params: ParamsView<'_>, model: &ThingModel<'_>) {
    for (id, value) in params.iter() {
        let _ = (
            id.unescaped_len(),
            value.as_i64(),
            value.as_f64(),
            value.as_bool(),
            value.raw(),
        );
    }
    let _ = model.check_report(params.object());
    let _ = model.check_control(params.object());
}

static PARSED: std::sync::OnceLock<Option<ThingModel<'static>>> = std::sync::OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let Some(model) = PARSED.get_or_init(|| ThingModel::parse(MODEL).ok()) else {
        return;
    };
    let Ok(down) = decode(data) else {
        return;
    };
    let _ = down.method();
    match down {
        Down::Control(c) => {
            walk(c.params(), model);
            let reply = ControlReply {
                client_token: c.client_token().into(),
                code: ReplyCode::Success,
                status: None,
            };
            let mut buf = [0u8; 512];
            if let Ok(n) = reply.encode(&mut buf) {
                // What we send back must itself be well-formed JSON.
                assert!(iot_core::json::Value::parse(&buf[..n]).is_ok());
            }
        }
        Down::Action(a) => {
            walk(a.params(), model);
            let _ = model.check_action_input(a.action_id().raw(), a.params().object());
        }
        Down::GetStatusReply(g) => {
            if let Some(p) = g.reported() {
                walk(p, model);
            }
            if let Some(p) = g.control() {
                walk(p, model);
            }
        }
        Down::Time(t) => {
            let _ = t.accurate_time_ms(1, 2);
        }
        Down::UpdateFirmware(u) => {
            let _ = (u.md5(), u.file_size(), u.url().unescaped_len());
        }
        _ => {}
    }
});
