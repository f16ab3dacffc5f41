//! A product's thing model, validated by `iot_core::model` — the same validator the device uses, so that device and
//! hub cannot disagree about what a valid message is.

use iot_core::json::Value as JsonView;
use iot_core::model::{ModelError, ThingModel};

use crate::acl::is_valid_product_id;

/// A message part that the thing model refuses, with its protocol reply code (protocol.md §4.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// 403 for an unknown identifier or a read-only property, 406 for a wrong type or a value out of range.
    pub code: u16,
    /// What was wrong, naming the identifier.
    pub reason: String,
}

/// Why a thing model cannot be registered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelRefusal {
    /// iot-core refused the JSON.
    #[error("thing model is invalid: {0}")]
    Invalid(ModelError),
    /// No `profile.ProductId`.
    #[error(
        "thing model has no profile.ProductId; export it from the console or add the product id"
    )]
    NoProductId,
    /// A ProductId that is not ten capital letters or digits.
    #[error("profile.ProductId {0:?} is not 10 capital letters or digits")]
    BadProductId(String),
}

/// An owned thing-model export that passed `ThingModel::parse`.
#[derive(Debug, Clone)]
pub struct ProductModel {
    text: String,
    product_id: String,
}

fn object_params(params: &str) -> Result<JsonView<'_>, Rejection> {
    let view = JsonView::parse(params.as_bytes()).map_err(|e| Rejection {
        code: 406,
        reason: format!("params are not valid JSON: {e}"),
    })?;
    if view.as_object().is_none() {
        return Err(Rejection {
            code: 406,
            reason: "params must be a JSON object".into(),
        });
    }
    Ok(view)
}

fn rejected(r: iot_core::model::Rejection<'_>) -> Rejection {
    Rejection {
        code: r.code(),
        reason: r.to_string(),
    }
}

impl ProductModel {
    /// Checks a console export and keeps it.
    pub fn parse(text: String) -> Result<Self, ModelRefusal> {
        let product_id = {
            let model = ThingModel::parse(&text).map_err(ModelRefusal::Invalid)?;
            let id = model.product_id().ok_or(ModelRefusal::NoProductId)?;
            if !is_valid_product_id(id) {
                return Err(ModelRefusal::BadProductId(id.into()));
            }
            id.to_owned()
        };
        Ok(Self { text, product_id })
    }

    /// `profile.ProductId`.
    pub fn product_id(&self) -> &str {
        &self.product_id
    }

    /// The export as registered.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Runs `check` on the parsed model and the params object. The text parsed in [`Self::parse`], so parsing it
    /// again cannot fail; if it did, the message is refused with 503 rather than accepted unchecked.
    fn check(
        &self,
        params: &str,
        check: impl FnOnce(&ThingModel<'_>, iot_core::json::Object<'_>) -> Result<(), Rejection>,
    ) -> Result<(), Rejection> {
        let model = ThingModel::parse(&self.text).map_err(|e| Rejection {
            code: 503,
            reason: format!("stored thing model is unreadable: {e}"),
        })?;
        let view = object_params(params)?;
        let Some(object) = view.as_object() else {
            return Err(Rejection {
                code: 406,
                reason: "params must be a JSON object".into(),
            });
        };
        check(&model, object)
    }

    /// `report` params (protocol.md §4.3).
    pub fn check_report(&self, params: &str) -> Result<(), Rejection> {
        self.check(params, |m, p| m.check_report(p).map_err(rejected))
    }

    /// `control` params: like a report, and only `rw` properties.
    pub fn check_control(&self, params: &str) -> Result<(), Rejection> {
        self.check(params, |m, p| m.check_control(p).map_err(rejected))
    }

    /// An event's params, and its type when the device sent one.
    pub fn check_event(
        &self,
        event_id: &str,
        event_type: Option<&str>,
        params: &str,
    ) -> Result<(), Rejection> {
        self.check(params, |m, p| {
            m.check_event(event_id, event_type, p).map_err(rejected)
        })
    }

    /// An action's input params.
    pub fn check_action_input(&self, action_id: &str, params: &str) -> Result<(), Rejection> {
        self.check(params, |m, p| {
            m.check_action_input(action_id, p).map_err(rejected)
        })
    }

    /// An action reply's `response` object against the action's output definition.
    pub fn check_action_output(&self, action_id: &str, response: &str) -> Result<(), Rejection> {
        self.check(response, |m, p| {
            m.check_action_output(action_id, p).map_err(rejected)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_monitor() -> ProductModel {
        ProductModel::parse(include_str!("../../../models/env-monitor.json").to_owned()).unwrap()
    }

    #[test]
    fn codes_follow_section_4_4() {
        let m = env_monitor();
        assert_eq!(m.product_id(), "CS0SLTKSYA");
        assert_eq!(m.check_report(r#"{"MQ2":30,"DHT11_T":14}"#), Ok(()));
        assert_eq!(m.check_report(r#"{"nope":1}"#).unwrap_err().code, 403);
        assert_eq!(m.check_report(r#"{"DHT11_T":99}"#).unwrap_err().code, 406);
        assert_eq!(m.check_report(r#"{"MQ2":"x"}"#).unwrap_err().code, 406);
        assert_eq!(m.check_report("[1]").unwrap_err().code, 406);
        assert_eq!(m.check_control(r#"{"report_interval":10}"#), Ok(()));
        assert_eq!(m.check_control(r#"{"MQ2":10}"#).unwrap_err().code, 403);
        assert_eq!(
            m.check_event(
                "gas_alarm",
                Some("alert"),
                r#"{"sensor":"MQ2","value":1,"threshold":2}"#
            ),
            Ok(())
        );
        assert_eq!(m.check_event("nope", None, "{}").unwrap_err().code, 403);
        assert_eq!(
            m.check_action_input("calibrate", r#"{"sensor":"MQ7"}"#),
            Ok(())
        );
        assert_eq!(
            m.check_action_input("calibrate", r#"{"sensor":"XX"}"#)
                .unwrap_err()
                .code,
            406
        );
        assert_eq!(
            m.check_action_output("calibrate", r#"{"r0":1.5,"result":0}"#),
            Ok(())
        );
    }

    #[test]
    fn models_without_a_valid_product_id_are_refused() {
        let text = include_str!("../../../models/env-monitor.json");
        let lower = text.replace("CS0SLTKSYA", "cs0sltksya");
        assert!(matches!(
            ProductModel::parse(lower),
            Err(ModelRefusal::BadProductId(_))
        ));
        assert!(matches!(
            ProductModel::parse("{".into()),
            Err(ModelRefusal::Invalid(_))
        ));
    }
}
