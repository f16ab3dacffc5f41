//! `iotctl sign`: MQTT credentials of a key (PSK) device (protocol.md §3.2, defaults of §11).
//!
//! ```text
//! iotctl sign --product CS0SLTKSYA --device dev1 --psk IyXmUW5sU/q1vnb5yzTkeQ== \
//!     --connid ZR5GT --expiry 2623045740 --json
//! {"clientid":"CS0SLTKSYAdev1","username":"CS0SLTKSYAdev1;12010126;ZR5GT;2623045740","password":"2debdc61…;hmacsha256"}
//! ```
//!
//! The PSK may come from the `IOT_DEVICE_PSK` environment variable instead of `--psk`, which keeps
//! it out of shell history and process listings.

use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

use clap::{ArgGroup, Args, ValueEnum};
use iot_core::credentials::{
    ConnId, CredentialsError, DeviceIdentity, Expiry, Field, SdkAppId, SignMethod, SignOptions,
    DEFAULT_TTL_SECS,
};
use serde::Serialize;

use crate::error::CliError;

/// Environment variable read when `--psk` is not given.
pub const PSK_ENV: &str = "IOT_DEVICE_PSK";

/// Arguments of `iotctl sign`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("expiry_choice").args(["expiry", "ttl", "never"])))]
#[command(after_help = "\
The username is {clientid};{sdkappid};{connid};{expiry} and the password is the hex HMAC of \
the username keyed with the decoded PSK, followed by ;hmacsha256 or ;hmacsha1.

Set IOT_DEVICE_PSK instead of passing --psk to keep the secret out of shell history.")]
pub struct SignArgs {
    /// Product id from the console, e.g. CS0SLTKSYA.
    #[arg(long, value_name = "PRODUCT_ID")]
    product: String,

    /// Device name from the console.
    #[arg(long, value_name = "DEVICE_NAME")]
    device: String,

    /// Device secret (PSK) in base64, as shown in the console.
    #[arg(long, env = PSK_ENV, hide_env_values = true, value_name = "BASE64")]
    psk: String,

    /// HMAC for the password.
    #[arg(long, value_enum, default_value_t = Method::Hmacsha256)]
    method: Method,

    /// sdkappid field of the username; the official SDKs send 21010406.
    #[arg(long, value_name = "N", default_value_t = SdkAppId::DEFAULT.0)]
    sdkappid: u32,

    /// connid field of the username: 1 to 32 ASCII letters and digits [default: 5 random characters].
    #[arg(long, value_name = "CONNID")]
    connid: Option<String>,

    /// Expiry as Unix time in seconds [default: now + 3600].
    #[arg(long, value_name = "UNIX_SECONDS")]
    expiry: Option<u64>,

    /// Expiry as seconds from now.
    #[arg(long, value_name = "SECONDS")]
    ttl: Option<u64>,

    /// Expiry 2147483647, for devices without a reliable clock.
    #[arg(long)]
    never: bool,

    /// Print one JSON object {"clientid":…,"username":…,"password":…} instead of labelled lines.
    #[arg(long)]
    json: bool,
}

/// `--method` values, named as in the password suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Method {
    /// HMAC-SHA256 (default).
    #[value(name = "hmacsha256")]
    Hmacsha256,
    /// HMAC-SHA1, as the official SDKs send.
    #[value(name = "hmacsha1")]
    Hmacsha1,
}

impl From<Method> for SignMethod {
    fn from(method: Method) -> Self {
        match method {
            Method::Hmacsha256 => Self::HmacSha256,
            Method::Hmacsha1 => Self::HmacSha1,
        }
    }
}

/// The `--json` output, in this field order.
#[derive(Serialize)]
struct Output<'a> {
    clientid: &'a str,
    username: &'a str,
    password: &'a str,
}

/// Signs and writes the credentials to `out`.
pub fn run(args: &SignArgs, out: &mut impl Write) -> Result<(), CliError> {
    let device = DeviceIdentity::new(&args.product, &args.device, &args.psk)
        .map_err(|error| argument_error(&error))?;
    let conn_id = match &args.connid {
        Some(conn_id) => ConnId::new(conn_id).map_err(|error| argument_error(&error))?,
        None => ConnId::random(&mut rand::rng()),
    };
    let expiry = match (args.expiry, args.ttl, args.never) {
        (_, _, true) => Expiry::Never,
        (Some(at), _, _) => Expiry::At(at),
        (None, ttl, false) => Expiry::after(unix_now()?, ttl.unwrap_or(DEFAULT_TTL_SECS)),
    };
    let options = SignOptions::new(conn_id, expiry)
        .with_method(args.method.into())
        .with_sdk_app_id(SdkAppId(args.sdkappid));
    let creds = device.sign(&options).map_err(CliError::Sign)?;

    if args.json {
        let output = Output {
            clientid: creds.client_id(),
            username: creds.username(),
            password: creds.password(),
        };
        serde_json::to_writer(&mut *out, &output).map_err(|e| CliError::Output(e.into()))?;
        writeln!(out).map_err(CliError::Output)?;
    } else {
        writeln!(out, "clientid: {}", creds.client_id()).map_err(CliError::Output)?;
        writeln!(out, "username: {}", creds.username()).map_err(CliError::Output)?;
        writeln!(out, "password: {}", creds.password()).map_err(CliError::Output)?;
    }
    Ok(())
}

/// Names the argument a credentials error came from.
fn argument_error(error: &CredentialsError) -> CliError {
    let argument = match error {
        CredentialsError::PskEmpty
        | CredentialsError::PskNotBase64 { .. }
        | CredentialsError::PskTooLong { .. } => "--psk (or IOT_DEVICE_PSK)",
        CredentialsError::Empty { field }
        | CredentialsError::TooLong { field, .. }
        | CredentialsError::NonAscii { field, .. }
        | CredentialsError::IllegalCharacter { field, .. } => match field {
            Field::ProductId => "--product",
            Field::DeviceName => "--device",
            Field::ConnId => "--connid",
            _ => return CliError::Sign(*error),
        },
        _ => return CliError::Sign(*error),
    };
    CliError::argument(argument, error)
}

/// Seconds since the Unix epoch.
fn unix_now() -> Result<u64, CliError> {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .map_err(|_| CliError::Clock)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Harness {
        #[command(flatten)]
        sign: SignArgs,
    }

    fn run_with(args: &[&str]) -> Result<String, CliError> {
        let harness = Harness::try_parse_from(std::iter::once("sign").chain(args.iter().copied()))
            .map_err(|e| CliError::argument("parse", e))?;
        let mut out = Vec::new();
        run(&harness.sign, &mut out)?;
        Ok(String::from_utf8(out).expect("UTF-8 output"))
    }

    #[test]
    fn never_and_sha1() {
        let text = run_with(&[
            "--product",
            "CS0SLTKSYA",
            "--device",
            "dev1",
            "--psk",
            "IyXmUW5sU/q1vnb5yzTkeQ==",
            "--connid",
            "Xy7Qp",
            "--never",
            "--method",
            "hmacsha1",
            "--sdkappid",
            "21010406",
        ])
        .expect("signs");
        assert_eq!(
            text,
            "clientid: CS0SLTKSYAdev1\n\
             username: CS0SLTKSYAdev1;21010406;Xy7Qp;2147483647\n\
             password: ca0c851caae3b5684649e361961c8aee1937b967;hmacsha1\n"
        );
    }

    #[test]
    fn errors_name_their_argument_without_the_secret() {
        let error = run_with(&["--product", "P", "--device", "d", "--psk", "c2VjcmV0!"])
            .expect_err("bad psk");
        let message = error.to_string();
        assert!(message.starts_with("invalid value for --psk"), "{message}");
        assert!(!message.contains("c2VjcmV0"), "{message}");
        let error = run_with(&["--product", "P", "--device", "d/1", "--psk", "c2VjcmV0"])
            .expect_err("bad device");
        assert!(error.to_string().contains("--device"), "{error}");
        assert_eq!(error.exit_code(), std::process::ExitCode::from(2));
    }
}
