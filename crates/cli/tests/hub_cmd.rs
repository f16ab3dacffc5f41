//! `iotctl hub` as a process: a stop signal shuts it down cleanly, and an address or database it cannot use is
//! a one-line error with exit code 1.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};

const IOTCTL: &str = env!("CARGO_BIN_EXE_iotctl");

/// Starts `iotctl hub` with an in-memory database on OS-picked ports; returns the process and the MQTT address.
fn start(
    extra: &[&str],
) -> (
    std::process::Child,
    BufReader<std::process::ChildStdout>,
    String,
) {
    let mut child = Command::new(IOTCTL)
        .args(["hub", "--memory", "--http", "127.0.0.1:0"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("iotctl starts");
    let mut out = BufReader::new(child.stdout.take().expect("stdout is piped"));
    let mut line = String::new();
    out.read_line(&mut line).expect("first line");
    let mqtt = line
        .trim()
        .strip_prefix("MQTT broker on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    (child, out, mqtt)
}

#[cfg(unix)]
#[test]
fn sigterm_stops_the_hub_cleanly() {
    let (mut child, mut out, _) = start(&["--mqtt", "127.0.0.1:0"]);
    // The shell's own `kill`: no procps needed.
    let status = Command::new("sh")
        .args(["-c", &format!("kill -TERM {}", child.id())])
        .status()
        .expect("sh runs");
    assert!(status.success());
    let exit = child.wait().expect("iotctl exits");
    let mut rest = String::new();
    out.read_to_string(&mut rest).expect("stdout readable");
    assert!(exit.success(), "exit {exit:?}, stdout {rest:?}");
    assert!(rest.ends_with("hub stopped\n"), "{rest:?}");
}

#[test]
fn a_busy_mqtt_port_is_a_clear_error() {
    let (mut first, _out, mqtt) = start(&["--mqtt", "127.0.0.1:0"]);
    let second = Command::new(IOTCTL)
        .args(["hub", "--memory", "--http", "127.0.0.1:0", "--mqtt", &mqtt])
        .output()
        .expect("iotctl runs");
    let _ = first.kill();
    let _ = first.wait();
    assert_eq!(second.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(
        stderr.contains(&format!("cannot listen for MQTT on {mqtt}"))
            && stderr.contains("pick a free address with --mqtt"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

#[test]
fn a_busy_http_port_is_a_clear_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let http = listener.local_addr().expect("bound").to_string();
    let output = Command::new(IOTCTL)
        .args(["hub", "--memory", "--mqtt", "127.0.0.1:0", "--http", &http])
        .output()
        .expect("iotctl runs");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("cannot listen for HTTP on {http}"))
            && stderr.contains("pick a free address with --http"),
        "{stderr}"
    );
}

#[test]
fn a_database_path_that_cannot_be_opened_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let db = dir.path().join("missing-directory").join("hub.db");
    let output = Command::new(IOTCTL)
        .args([
            "hub",
            "--mqtt",
            "127.0.0.1:0",
            "--http",
            "127.0.0.1:0",
            "--db",
        ])
        .arg(&db)
        .output()
        .expect("iotctl runs");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("cannot open the hub database") && stderr.contains("check the path"),
        "{stderr}"
    );
}
