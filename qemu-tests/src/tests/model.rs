//! `iot_core::model` on target: the environment monitor's thing model (shared/models) checks the
//! messages of messages.json, and refuses bad controls with the reply codes of protocol.md §4.4.

use iot_core::json::{Object, Value, ValueKind};
use iot_core::model::{ThingModel, TypeKind, Violation};

use super::{message, ENV_MONITOR_MODEL};
use crate::harness::{Failure, Outcome, Runner};
use crate::{check, check_eq, ok, some};

/// The thing-model tests.
pub fn run(r: &mut Runner) {
    r.test("model::env_monitor_parses", || {
        let model = ok!(ThingModel::parse(ENV_MONITOR_MODEL));
        check!(model.properties().count() > 0);
        check!(model.product_id().is_some());
        Ok(())
    });
    r.test("model::report_message_is_accepted", || {
        let model = ok!(ThingModel::parse(ENV_MONITOR_MODEL));
        let mut buf = [0u8; 512];
        let doc = ok!(Value::parse(message("report", &mut buf)?.as_bytes()));
        let params = member_object(doc, "params")?;
        check_eq!(params.len(), 6);
        check_eq!(model.check_report(params), Ok(()));
        Ok(())
    });
    r.test("model::control_message_is_accepted", || {
        let model = ok!(ThingModel::parse(ENV_MONITOR_MODEL));
        let mut buf = [0u8; 512];
        let doc = ok!(Value::parse(message("control", &mut buf)?.as_bytes()));
        check_eq!(model.check_control(member_object(doc, "params")?), Ok(()));
        Ok(())
    });
    r.test("model::bad_controls_get_403_or_406", bad_controls);
    r.test("model::event_messages_are_accepted", events);
    r.test("model::action_messages_are_accepted", actions);
}

/// The object member `key` of a message.
fn member_object<'a>(doc: Value<'a>, key: &str) -> Result<Object<'a>, Failure> {
    let member = some!(doc.as_object().and_then(|o| o.get(key)), "no `{key}`");
    Ok(some!(member.as_object(), "`{key}` is not an object"))
}

/// The escape-free string member `key` of a message.
fn member_str<'a>(doc: Value<'a>, key: &str) -> Result<&'a str, Failure> {
    let member = some!(doc.as_object().and_then(|o| o.get(key)), "no `{key}`");
    Ok(some!(
        member.as_str().and_then(|s| s.as_plain()),
        "`{key}` is not a plain string"
    ))
}

fn bad_controls() -> Outcome {
    let model = ok!(ThingModel::parse(ENV_MONITOR_MODEL));
    // (params, rejected id, violation, reply code)
    let cases: [(&str, &str, Violation, u16); 6] = [
        (r#"{"MQ2":10}"#, "MQ2", Violation::ReadOnly, 403),
        (
            r#"{"no_such_property":1}"#,
            "no_such_property",
            Violation::UnknownId,
            403,
        ),
        (
            r#"{"report_interval":0}"#,
            "report_interval",
            Violation::OutOfRange,
            406,
        ),
        (
            r#"{"report_interval":3601}"#,
            "report_interval",
            Violation::OutOfRange,
            406,
        ),
        (
            r#"{"report_interval":1.5}"#,
            "report_interval",
            Violation::NotAnInteger,
            406,
        ),
        (
            r#"{"report_interval":10,"smoke_threshold":10001}"#,
            "smoke_threshold",
            Violation::OutOfRange,
            406,
        ),
    ];
    for (params, id, violation, code) in cases {
        let doc = ok!(Value::parse(params.as_bytes()));
        let rejection = some!(
            model.check_control(some!(doc.as_object())).err(),
            "{params} was accepted"
        );
        check_eq!(rejection.id, id, "{params}");
        check_eq!(rejection.violation, violation, "{params}");
        check_eq!(rejection.code(), code, "{params}");
    }
    // Bools travel as 0 or 1 (protocol.md §11.5); anything else is the wrong type.
    for (params, found) in [
        (r#"{"alarm_enabled":2}"#, ValueKind::Number),
        (r#"{"alarm_enabled":"on"}"#, ValueKind::String),
    ] {
        let doc = ok!(Value::parse(params.as_bytes()));
        let rejection = some!(model.check_control(some!(doc.as_object())).err());
        let expected = Violation::WrongType {
            expected: TypeKind::Bool,
            found,
        };
        check_eq!(rejection.violation, expected, "{params}");
        check_eq!(rejection.code(), 406, "{params}");
    }
    Ok(())
}

fn events() -> Outcome {
    let model = ok!(ThingModel::parse(ENV_MONITOR_MODEL));
    let mut buf = [0u8; 512];
    let post = ok!(Value::parse(message("event_post", &mut buf)?.as_bytes()));
    let id = member_str(post, "eventId")?;
    let ty = member_str(post, "type")?;
    let params = member_object(post, "params")?;
    check_eq!(model.check_event(id, Some(ty), params), Ok(()));
    check_eq!(model.check_event(id, None, params), Ok(()));
    let other_type = if ty == "info" { "fault" } else { "info" };
    let rejection = some!(model.check_event(id, Some(other_type), params).err());
    check_eq!(rejection.violation, Violation::EventTypeMismatch);

    let mut buf = [0u8; 512];
    let posts = ok!(Value::parse(message("events_post", &mut buf)?.as_bytes()));
    let events = some!(posts
        .as_object()
        .and_then(|o| o.get("events"))
        .and_then(|e| e.as_array()));
    check!(events.len() > 1);
    for event in events.iter() {
        let id = member_str(event, "eventId")?;
        let ty = member_str(event, "type")?;
        check_eq!(
            model.check_event(id, Some(ty), member_object(event, "params")?),
            Ok(()),
            "event {id}"
        );
    }

    // A stringenum value outside the mapping.
    let doc = ok!(Value::parse(
        br#"{"sensor":"MQ99","value":1,"threshold":1}"#
    ));
    let rejection = some!(model.check_event(id, None, some!(doc.as_object())).err());
    check_eq!(rejection.violation, Violation::NotInMapping);
    check_eq!(rejection.code(), 406);
    Ok(())
}

fn actions() -> Outcome {
    let model = ok!(ThingModel::parse(ENV_MONITOR_MODEL));
    let mut buf = [0u8; 512];
    let action = ok!(Value::parse(message("action", &mut buf)?.as_bytes()));
    let id = member_str(action, "actionId")?;
    check_eq!(
        model.check_action_input(id, member_object(action, "params")?),
        Ok(())
    );
    let mut buf = [0u8; 512];
    let reply = ok!(Value::parse(message("action_reply", &mut buf)?.as_bytes()));
    check_eq!(
        model.check_action_output(id, member_object(reply, "response")?),
        Ok(())
    );
    let rejection = some!(model
        .check_action_input("no_such_action", member_object(action, "params")?)
        .err());
    check_eq!(rejection.code(), 403);
    Ok(())
}
