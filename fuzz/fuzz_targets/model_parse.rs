//! Thing-model exports from the outside are parsed or refused without panicking; an accepted model checks an
//! object built from its own text without panicking either.
#![no_main]

use iot_core::json::Value;
use iot_core::model::ThingModel;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = core::str::from_utf8(data) else {
        return;
    };
    let Ok(model) = ThingModel::parse(text) else {
        return;
    };
    for p in model.properties() {
        let _ = (
            p.data_type().min(),
            p.data_type().max(),
            p.data_type().element(),
        );
        for m in p.data_type().members() {
            let _ = m.data_type().kind();
        }
    }
    // Every object in the export doubles as candidate params for every check.
    if let Ok(Value::Object(root)) = Value::parse_str(text) {
        for (_, v) in root.iter() {
            if let Some(o) = v.as_object() {
                let _ = model.check_report(o);
                let _ = model.check_control(o);
                for e in model.events() {
                    let _ = model.check_event(e.id(), None, o);
                }
                for a in model.actions() {
                    let _ = model.check_action_input(a.id(), o);
                    let _ = model.check_action_output(a.id(), o);
                }
            }
        }
    }
});
