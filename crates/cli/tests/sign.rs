//! `iotctl sign` run as a process: outputs against the shared vectors (protocol.md §3.2, §8) and
//! exit codes of bad arguments.
#![allow(missing_docs)]

use std::process::{Command, Output};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;

const TUTORIAL: [&str; 6] = [
    "--product",
    "CS0SLTKSYA",
    "--device",
    "dev1",
    "--psk",
    "IyXmUW5sU/q1vnb5yzTkeQ==",
];
const TUTORIAL_PASSWORD: &str =
    "2debdc61b009ef8d09597f106f6f8ca36f101415459b0623780a81e711e7257c;hmacsha256";

fn iotctl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_iotctl"))
        .args(args)
        .env_remove("IOT_DEVICE_PSK")
        .output()
        .expect("iotctl runs")
}

fn sign(args: &[&str]) -> Output {
    let mut all = vec!["sign"];
    all.extend_from_slice(args);
    iotctl(&all)
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "exit {:?}, stderr: {}",
        output.status.code(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).expect("UTF-8 stdout")
}

fn json(output: &Output) -> Value {
    let text = stdout(output);
    assert_eq!(text.lines().count(), 1, "exactly one line: {text}");
    serde_json::from_str(&text).expect("stdout is JSON")
}

/// Splits the labelled text output into (label, value) pairs.
fn labelled(output: &Output) -> Vec<(String, String)> {
    stdout(output)
        .lines()
        .map(|line| {
            let (label, value) = line.split_once(": ").expect("label: value");
            (label.to_owned(), value.to_owned())
        })
        .collect()
}

/// Asserts a usage failure: exit code 2, nothing on stdout, `argument` named in stderr.
fn assert_usage_error(output: &Output, argument: &str) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(2), "stderr: {stderr}");
    assert!(output.stdout.is_empty(), "stdout: {:?}", output.stdout);
    assert!(
        stderr.contains(argument),
        "{argument} not named in: {stderr}"
    );
    stderr
}

#[test]
fn tutorial_vector_as_json() {
    let mut args = TUTORIAL.to_vec();
    args.extend(["--connid", "ZR5GT", "--expiry", "2623045740", "--json"]);
    let value = json(&sign(&args));
    let object = value.as_object().expect("an object");
    assert_eq!(object.len(), 3);
    assert_eq!(value["clientid"], "CS0SLTKSYAdev1");
    assert_eq!(
        value["username"],
        "CS0SLTKSYAdev1;12010126;ZR5GT;2623045740"
    );
    assert_eq!(value["password"], TUTORIAL_PASSWORD);
    // Field order as documented.
    let text = stdout(&sign(&args));
    let positions: Vec<usize> = ["\"clientid\"", "\"username\"", "\"password\""]
        .iter()
        .map(|key| text.find(key).expect("key present"))
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{text}");
}

#[test]
fn tutorial_vector_as_text() {
    let mut args = TUTORIAL.to_vec();
    args.extend(["--connid", "ZR5GT", "--expiry", "2623045740"]);
    let lines = labelled(&sign(&args));
    let expected = [
        ("clientid", "CS0SLTKSYAdev1"),
        ("username", "CS0SLTKSYAdev1;12010126;ZR5GT;2623045740"),
        ("password", TUTORIAL_PASSWORD),
    ];
    assert_eq!(lines.len(), expected.len());
    for ((label, value), (want_label, want_value)) in lines.iter().zip(expected) {
        assert_eq!(label, want_label);
        assert_eq!(value, want_value);
    }
}

// Every mqtt_password vector through the command line.
#[test]
fn every_shared_vector() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/vectors/credentials.json"
    ))
    .expect("shared vectors are present");
    let vectors: Value = serde_json::from_str(&text).expect("valid JSON");
    for entry in vectors["mqtt_password"].as_array().expect("array") {
        let field = |key: &str| entry[key].as_str().expect("string field").to_owned();
        let expiry = entry["expiry"].as_u64().expect("expiry").to_string();
        let (product, device, psk) = (
            field("product_id"),
            field("device_name"),
            field("device_psk"),
        );
        let (method, sdkappid, connid) = (field("method"), field("sdkappid"), field("connid"));
        let value = json(&sign(&[
            "--product",
            &product,
            "--device",
            &device,
            "--psk",
            &psk,
            "--method",
            &method,
            "--sdkappid",
            &sdkappid,
            "--connid",
            &connid,
            "--expiry",
            &expiry,
            "--json",
        ]));
        assert_eq!(value["clientid"], entry["clientid"], "{entry}");
        assert_eq!(value["username"], entry["username"], "{entry}");
        assert_eq!(value["password"], entry["password"], "{entry}");
    }
}

#[test]
fn psk_from_environment() {
    let output = Command::new(env!("CARGO_BIN_EXE_iotctl"))
        .args([
            "sign",
            "--product",
            "CS0SLTKSYA",
            "--device",
            "dev1",
            "--connid",
            "ZR5GT",
            "--expiry",
            "2623045740",
            "--json",
        ])
        .env("IOT_DEVICE_PSK", "IyXmUW5sU/q1vnb5yzTkeQ==")
        .output()
        .expect("iotctl runs");
    assert_eq!(json(&output)["password"], TUTORIAL_PASSWORD);

    // A bad PSK from the environment is reported without echoing it.
    let output = Command::new(env!("CARGO_BIN_EXE_iotctl"))
        .args(["sign", "--product", "CS0SLTKSYA", "--device", "dev1"])
        .env("IOT_DEVICE_PSK", "top$ecret")
        .output()
        .expect("iotctl runs");
    let stderr = assert_usage_error(&output, "IOT_DEVICE_PSK");
    assert!(!stderr.contains("top$ecret"), "{stderr}");
}

#[test]
fn default_expiry_is_an_hour_from_now_and_connid_is_random() {
    let before = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs();
    let first = json(&sign(&[&TUTORIAL[..], &["--json"]].concat()));
    let second = json(&sign(&[&TUTORIAL[..], &["--json"]].concat()));
    let after = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs();

    let fields = |value: &Value| -> Vec<String> {
        value["username"]
            .as_str()
            .expect("username")
            .split(';')
            .map(str::to_owned)
            .collect()
    };
    let (a, b) = (fields(&first), fields(&second));
    assert_eq!(a.len(), 4);
    assert_eq!(a[0], "CS0SLTKSYAdev1");
    assert_eq!(a[1], "12010126");
    for connid in [&a[2], &b[2]] {
        assert_eq!(connid.len(), 5);
        assert!(
            connid.bytes().all(|c| c.is_ascii_alphanumeric()),
            "{connid}"
        );
    }
    assert_ne!(a[2], b[2], "two runs should draw different connids");
    let expiry: u64 = a[3].parse().expect("decimal expiry");
    assert!((before + 3600..=after + 3600).contains(&expiry), "{expiry}");

    let with_ttl = json(&sign(&[&TUTORIAL[..], &["--ttl", "60", "--json"]].concat()));
    let expiry: u64 = fields(&with_ttl)[3].parse().expect("decimal expiry");
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs();
    assert!((before + 60..=now + 60).contains(&expiry), "{expiry}");

    let never = json(&sign(&[&TUTORIAL[..], &["--never", "--json"]].concat()));
    assert_eq!(fields(&never)[3], "2147483647");
}

#[test]
fn bad_psk_exits_2_naming_psk() {
    // 16 × "QUFB" is 48 bytes ("AAA" each), the most allowed; "QQ==" adds one more.
    let too_long = "QUFB".repeat(16) + "QQ==";
    for (psk, detail) in [
        ("IyXmUW5s!/q1vnb5yzTkeQ==", "base64"),
        (too_long.as_str(), "49 bytes"),
        ("", "empty"),
    ] {
        let output = sign(&["--product", "CS0SLTKSYA", "--device", "dev1", "--psk", psk]);
        let stderr = assert_usage_error(&output, "--psk");
        assert!(stderr.contains(detail), "{detail}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
        if !psk.is_empty() {
            assert!(!stderr.contains(psk), "secret echoed: {stderr}");
        }
    }
}

#[test]
fn bad_identifiers_exit_2_naming_the_argument() {
    let psk = "IyXmUW5sU/q1vnb5yzTkeQ==";
    let output = sign(&["--product", "CS0SLTKSYA", "--device", "gerät", "--psk", psk]);
    assert_usage_error(&output, "--device");
    let long = "P".repeat(33);
    let output = sign(&["--product", &long, "--device", "dev1", "--psk", psk]);
    assert_usage_error(&output, "--product");
    let output = sign(&[&TUTORIAL[..], &["--connid", "ab;cd"]].concat());
    let stderr = assert_usage_error(&output, "--connid");
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
}

#[test]
fn clap_errors_exit_2_naming_the_argument() {
    let output = sign(&[&TUTORIAL[..], &["--expiry", "1", "--ttl", "5"]].concat());
    assert_usage_error(&output, "--expiry");
    let output = sign(&[&TUTORIAL[..], &["--never", "--ttl", "5"]].concat());
    assert_usage_error(&output, "--never");
    let output = sign(&[&TUTORIAL[..], &["--method", "hmacmd5"]].concat());
    assert_usage_error(&output, "--method");
    let output = sign(&[&TUTORIAL[..], &["--sdkappid", "4294967296"]].concat());
    assert_usage_error(&output, "--sdkappid");
    let output = sign(&[&TUTORIAL[..], &["--expiry", "soon"]].concat());
    assert_usage_error(&output, "--expiry");
    let output = sign(&["--product", "CS0SLTKSYA", "--device", "dev1"]);
    assert_usage_error(&output, "--psk");
}
