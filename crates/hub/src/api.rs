//! The HTTP API (axum). Every route answers JSON; errors are `{"error": "...", "code": 403|406}` where `code` is
//! present when the thing model refused the request. The routes are documented in `docs/hub.md`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Map, Value};

use crate::service::{ControlOutcome, Service, ServiceError};

/// Default and largest `limit` of the history and events routes.
const DEFAULT_LIMIT: u32 = 100;
const MAX_LIMIT: u32 = 10_000;

/// The API's routes over a service.
pub fn router(service: Arc<Service>) -> Router {
    Router::new()
        .route("/api/products", get(list_products).post(add_product))
        .route("/api/products/{product}/devices", post(add_device))
        .route("/api/devices", get(list_devices))
        .route("/api/devices/{product}/{device}", get(device_status))
        .route("/api/devices/{product}/{device}/control", post(control))
        .route(
            "/api/devices/{product}/{device}/actions/{action}",
            post(action),
        )
        .route("/api/devices/{product}/{device}/history", get(history))
        .route("/api/devices/{product}/{device}/events", get(events))
        .with_state(service)
}

struct ApiError(StatusCode, Value);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(self.1)).into_response()
    }
}

fn bad_request(reason: impl Into<String>) -> ApiError {
    ApiError(StatusCode::BAD_REQUEST, json!({ "error": reason.into() }))
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        let status = match &e {
            ServiceError::NotFound(_) => StatusCode::NOT_FOUND,
            ServiceError::Invalid { .. } => StatusCode::BAD_REQUEST,
            ServiceError::Conflict(_) | ServiceError::Offline(_) => StatusCode::CONFLICT,
            ServiceError::Timeout { .. } => StatusCode::GATEWAY_TIMEOUT,
            ServiceError::Store(_) | ServiceError::Random(_) | ServiceError::Internal(_) => {
                log::error!("API request failed: {e}");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        let mut body = json!({ "error": e.to_string() });
        match &e {
            ServiceError::Invalid {
                code: Some(code), ..
            } => body["code"] = json!(code),
            ServiceError::Timeout { client_token, .. } => body["clientToken"] = json!(client_token),
            _ => {}
        }
        Self(status, body)
    }
}

type ApiResult = Result<Response, ApiError>;

/// Parses a JSON request body and takes its `params` object.
fn params_of(body: &Bytes) -> Result<Value, ApiError> {
    let body: Value =
        serde_json::from_slice(body).map_err(|e| bad_request(format!("body is not JSON: {e}")))?;
    match body.get("params") {
        Some(params @ Value::Object(_)) => Ok(params.clone()),
        _ => Err(bad_request(r#"body must be {"params":{...}}"#)),
    }
}

fn limit_of(query: &HashMap<String, String>) -> Result<u32, ApiError> {
    match query.get("limit") {
        None => Ok(DEFAULT_LIMIT),
        Some(text) => match text.parse::<u32>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            _ => Err(bad_request(format!(
                "limit must be a number from 1 to {MAX_LIMIT}"
            ))),
        },
    }
}

async fn list_products(State(service): State<Arc<Service>>) -> ApiResult {
    Ok(Json(json!(service.product_ids())).into_response())
}

async fn add_product(State(service): State<Arc<Service>>, body: Bytes) -> ApiResult {
    let text = String::from_utf8(body.to_vec())
        .map_err(|_| bad_request("thing model must be UTF-8 JSON"))?;
    let product_id = service.add_product(text).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "product_id": product_id })),
    )
        .into_response())
}

async fn add_device(
    State(service): State<Arc<Service>>,
    Path(product): Path<String>,
    body: Bytes,
) -> ApiResult {
    let body: Value =
        serde_json::from_slice(&body).map_err(|e| bad_request(format!("body is not JSON: {e}")))?;
    let Some(name) = body.get("name").and_then(Value::as_str) else {
        return Err(bad_request(r#"body must be {"name":"<device name>"}"#));
    };
    let psk = service.add_device(&product, name).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "product_id": product, "device_name": name, "psk": psk })),
    )
        .into_response())
}

async fn list_devices(State(service): State<Arc<Service>>) -> ApiResult {
    let devices: Vec<Value> = service
        .devices()
        .await?
        .into_iter()
        .map(|(d, online)| json!({ "product_id": d.product_id, "device_name": d.device_name, "online": online }))
        .collect();
    Ok(Json(Value::Array(devices)).into_response())
}

async fn device_status(
    State(service): State<Arc<Service>>,
    Path((product, device)): Path<(String, String)>,
) -> ApiResult {
    let status = service.device_status(&product, &device).await?;
    let mut reported = Map::new();
    let mut reported_at = Map::new();
    for value in status.reported {
        reported_at.insert(value.property.clone(), json!(value.timestamp_ms));
        reported.insert(value.property, value.value);
    }
    let pending: Map<String, Value> = status.pending_control.into_iter().collect();
    Ok(Json(json!({
        "product_id": product,
        "device_name": device,
        "online": status.online,
        "reported": reported,
        "reported_at": reported_at,
        "pending_control": pending,
        "info": status.info.unwrap_or_else(|| json!({})),
        "firmware_version": status.firmware_version,
    }))
    .into_response())
}

async fn control(
    State(service): State<Arc<Service>>,
    Path((product, device)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    let params = params_of(&body)?;
    match service.control(&product, &device, params).await? {
        ControlOutcome::Replied {
            client_token,
            code,
            status,
        } => Ok(
            Json(json!({ "clientToken": client_token, "code": code, "status": status }))
                .into_response(),
        ),
        ControlOutcome::Pending { client_token } => Ok((
            StatusCode::ACCEPTED,
            Json(json!({ "clientToken": client_token, "pending": true })),
        )
            .into_response()),
    }
}

async fn action(
    State(service): State<Arc<Service>>,
    Path((product, device, action)): Path<(String, String, String)>,
    body: Bytes,
) -> ApiResult {
    let params = params_of(&body)?;
    let outcome = service.action(&product, &device, &action, params).await?;
    let mut body = json!({
        "clientToken": outcome.client_token,
        "code": outcome.code,
        "status": outcome.status,
        "response": outcome.response,
    });
    if let Some(error) = outcome.response_error {
        body["response_error"] = json!({ "code": error.code, "reason": error.reason });
    }
    Ok(Json(body).into_response())
}

async fn history(
    State(service): State<Arc<Service>>,
    Path((product, device)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult {
    let Some(property) = query.get("property").cloned() else {
        return Err(bad_request(
            "query parameter property=<property id> is required",
        ));
    };
    let limit = limit_of(&query)?;
    let values = service
        .history(&product, &device, property.clone(), limit)
        .await?;
    let values: Vec<Value> = values
        .into_iter()
        .map(|v| json!({ "value": v.value, "timestamp": v.timestamp_ms }))
        .collect();
    Ok(Json(json!({ "property": property, "values": values })).into_response())
}

async fn events(
    State(service): State<Arc<Service>>,
    Path((product, device)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult {
    let limit = limit_of(&query)?;
    let events: Vec<Value> = service
        .events(&product, &device, limit)
        .await?
        .into_iter()
        .map(|e| json!({ "eventId": e.event_id, "type": e.event_type, "params": e.params, "timestamp": e.timestamp_ms }))
        .collect();
    Ok(Json(json!({ "events": events })).into_response())
}
