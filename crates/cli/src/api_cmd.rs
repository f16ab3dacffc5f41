//! `iotctl product add`, `device add`, `devices`, `control`, `action`: clients of the hub's HTTP API (docs/hub.md).
//!
//! ```text
//! iotctl device add CS0SLTKSYA kitchen        # prints the new device's PSK
//! iotctl control CS0SLTKSYA/dev1 report_interval=10 alarm_enabled=1
//! iotctl action CS0SLTKSYA/dev1 calibrate sensor=MQ7
//! ```
//!
//! Values in `key=value` are read as JSON when they parse as JSON (`10`, `1.5`, `true`, `"text"`, `{...}`) and as
//! strings otherwise (`sensor=MQ7`).

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand};
use serde_json::{json, Map, Value};

use crate::error::CliError;

/// Environment variable read when `--hub` is not given.
pub const HUB_ENV: &str = "IOT_HUB_URL";

/// How long a request may take: control and action wait for the device (5 s by default) on the hub's side.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// The hub to talk to.
#[derive(Debug, Args)]
pub struct HubUrl {
    /// Base URL of the hub's HTTP API.
    #[arg(long = "hub", env = HUB_ENV, value_name = "URL", default_value = "http://127.0.0.1:8080", global = true)]
    url: String,
}

/// Arguments of `iotctl product`.
#[derive(Debug, Args)]
pub struct ProductArgs {
    #[command(subcommand)]
    command: ProductCommand,
    #[command(flatten)]
    hub: HubUrl,
}

#[derive(Debug, Subcommand)]
enum ProductCommand {
    /// Register a product from its thing-model JSON (console export with profile.ProductId).
    Add {
        /// The thing-model file.
        #[arg(long, value_name = "FILE")]
        model: PathBuf,
    },
}

/// Arguments of `iotctl device`.
#[derive(Debug, Args)]
pub struct DeviceArgs {
    #[command(subcommand)]
    command: DeviceCommand,
    #[command(flatten)]
    hub: HubUrl,
}

#[derive(Debug, Subcommand)]
enum DeviceCommand {
    /// Register a device; prints its new PSK (16 random bytes, base64).
    Add {
        /// Product id, e.g. CS0SLTKSYA.
        product: String,
        /// Device name: 1 to 48 letters, digits or _ - . : @.
        name: String,
    },
}

/// Arguments of `iotctl devices`.
#[derive(Debug, Args)]
pub struct DevicesArgs {
    #[command(flatten)]
    hub: HubUrl,
}

/// Arguments of `iotctl control`.
#[derive(Debug, Args)]
pub struct ControlArgs {
    /// The device as PRODUCT/DEVICE, e.g. CS0SLTKSYA/dev1.
    target: String,
    /// Properties to set, as key=value.
    #[arg(required = true, value_name = "KEY=VALUE")]
    values: Vec<String>,
    #[command(flatten)]
    hub: HubUrl,
}

/// Arguments of `iotctl action`.
#[derive(Debug, Args)]
pub struct ActionArgs {
    /// The device as PRODUCT/DEVICE, e.g. CS0SLTKSYA/dev1.
    target: String,
    /// Action id from the thing model, e.g. calibrate.
    action: String,
    /// Input parameters, as key=value.
    #[arg(value_name = "KEY=VALUE")]
    values: Vec<String>,
    #[command(flatten)]
    hub: HubUrl,
}

/// Splits `PRODUCT/DEVICE`.
fn target(text: &str) -> Result<(&str, &str), CliError> {
    match text.split_once('/') {
        Some((product, device))
            if !product.is_empty() && !device.is_empty() && !device.contains('/') =>
        {
            Ok((product, device))
        }
        _ => Err(CliError::argument(
            "PRODUCT/DEVICE",
            format!("{text:?} is not PRODUCT/DEVICE, e.g. CS0SLTKSYA/dev1"),
        )),
    }
}

/// Builds a params object from `key=value` arguments.
fn params(values: &[String]) -> Result<Value, CliError> {
    let mut params = Map::new();
    for item in values {
        let Some((key, value)) = item.split_once('=').filter(|(k, _)| !k.is_empty()) else {
            return Err(CliError::argument(
                "KEY=VALUE",
                format!("{item:?} is not key=value"),
            ));
        };
        let value = serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.to_owned()));
        params.insert(key.to_owned(), value);
    }
    Ok(Value::Object(params))
}

/// Sends a request and returns the JSON body of a 2xx answer; other answers become [`CliError::Api`].
fn call(hub: &HubUrl, method: &str, path: &str, body: Option<Vec<u8>>) -> Result<Value, CliError> {
    let url = format!("{}{path}", hub.url.trim_end_matches('/'));
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(REQUEST_TIMEOUT))
        .build()
        .into();
    let response = match body {
        Some(body) if method == "POST" => agent
            .post(&url)
            .header("content-type", "application/json")
            .send(&body[..]),
        _ => agent.get(&url).call(),
    };
    let mut response = response.map_err(|e| {
        CliError::Api(format!(
            "cannot reach the hub at {url}: {e}; is `iotctl hub` running?"
        ))
    })?;
    let status = response.status().as_u16();
    let text = response
        .body_mut()
        .read_to_string()
        .map_err(|e| CliError::Api(format!("{url}: {e}")))?;
    let body: Value = serde_json::from_str(&text)
        .map_err(|_| CliError::Api(format!("{url} answered {status} with non-JSON: {text}")))?;
    if (200..300).contains(&status) {
        Ok(body)
    } else {
        let reason = body
            .get("error")
            .and_then(Value::as_str)
            .unwrap_or("no reason given");
        let code = body
            .get("code")
            .map(|c| format!(" (code {c})"))
            .unwrap_or_default();
        Err(CliError::Api(format!(
            "hub refused the request ({status}): {reason}{code}"
        )))
    }
}

fn print(out: &mut impl Write, text: impl std::fmt::Display) -> Result<(), CliError> {
    writeln!(out, "{text}").map_err(CliError::Output)
}

/// `iotctl product add --model FILE`.
pub fn product(args: &ProductArgs, out: &mut impl Write) -> Result<(), CliError> {
    match &args.command {
        ProductCommand::Add { model } => {
            let text = std::fs::read(model).map_err(|e| {
                CliError::argument("--model", format!("cannot read {}: {e}", model.display()))
            })?;
            let body = call(&args.hub, "POST", "/api/products", Some(text))?;
            print(out, body["product_id"].as_str().unwrap_or_default())
        }
    }
}

/// `iotctl device add PRODUCT NAME`.
pub fn device(args: &DeviceArgs, out: &mut impl Write) -> Result<(), CliError> {
    match &args.command {
        DeviceCommand::Add { product, name } => {
            let body = json!({ "name": name }).to_string().into_bytes();
            let answer = call(
                &args.hub,
                "POST",
                &format!("/api/products/{product}/devices"),
                Some(body),
            )?;
            print(out, answer["psk"].as_str().unwrap_or_default())
        }
    }
}

/// `iotctl devices`.
pub fn devices(args: &DevicesArgs, out: &mut impl Write) -> Result<(), CliError> {
    let list = call(&args.hub, "GET", "/api/devices", None)?;
    for device in list.as_array().map(Vec::as_slice).unwrap_or_default() {
        let name = format!(
            "{}/{}",
            device["product_id"].as_str().unwrap_or_default(),
            device["device_name"].as_str().unwrap_or_default()
        );
        let online = if device["online"] == json!(true) {
            "online"
        } else {
            "offline"
        };
        print(out, format!("{name:<40} {online}"))?;
    }
    Ok(())
}

/// `iotctl control PRODUCT/DEVICE key=value…`.
pub fn control(args: &ControlArgs, out: &mut impl Write) -> Result<(), CliError> {
    let (product, device) = target(&args.target)?;
    let body = json!({ "params": params(&args.values)? })
        .to_string()
        .into_bytes();
    let answer = call(
        &args.hub,
        "POST",
        &format!("/api/devices/{product}/{device}/control"),
        Some(body),
    )?;
    print(out, answer)
}

/// `iotctl action PRODUCT/DEVICE ACTION key=value…`.
pub fn action(args: &ActionArgs, out: &mut impl Write) -> Result<(), CliError> {
    let (product, device) = target(&args.target)?;
    let body = json!({ "params": params(&args.values)? })
        .to_string()
        .into_bytes();
    let path = format!("/api/devices/{product}/{device}/actions/{}", args.action);
    let answer = call(&args.hub, "POST", &path, Some(body))?;
    print(out, answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_values_become_json_params() {
        let values = [
            "report_interval=10",
            "alarm_enabled=true",
            "sensor=MQ7",
            "ratio=1.5",
            "name=\"a=b\"",
        ];
        let values: Vec<String> = values.iter().map(|s| (*s).to_owned()).collect();
        assert_eq!(
            params(&values).unwrap(),
            json!({"report_interval":10,"alarm_enabled":true,"sensor":"MQ7","ratio":1.5,"name":"a=b"})
        );
        assert!(params(&["novalue".to_owned()]).is_err());
        assert!(params(&["=1".to_owned()]).is_err());
    }

    #[test]
    fn target_is_product_slash_device() {
        assert_eq!(target("CS0SLTKSYA/dev1").unwrap(), ("CS0SLTKSYA", "dev1"));
        for bad in ["CS0SLTKSYA", "/dev1", "CS0SLTKSYA/", "a/b/c"] {
            assert!(target(bad).is_err(), "{bad}");
        }
    }
}
