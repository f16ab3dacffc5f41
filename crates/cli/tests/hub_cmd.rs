//! `iotctl hub` as a process: a stop signal shuts it down cleanly, and an address or database it cannot use is
//! a one-line error with exit code 1.

use std::process::Command;

const IOTCTL: &str = env!("CARGO_BIN_EXE_iotctl");

/// Runs `iotctl hub` with `args`, expects it to fail at start, and returns its one-line error.
fn start_error(args: &[&str]) -> String {
    let output = Command::new(IOTCTL)
        .arg("hub")
        .args(args)
        .output()
        .expect("iotctl runs");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    stderr
}

#[cfg(unix)]
#[test]
fn sigterm_stops_the_hub_cleanly() {
    use std::io::{BufRead, BufReader, Read};
    use std::process::Stdio;

    let mut child = Command::new(IOTCTL)
        .args([
            "hub",
            "--memory",
            "--mqtt",
            "127.0.0.1:0",
            "--http",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("iotctl starts");
    let mut out = BufReader::new(child.stdout.take().expect("stdout is piped"));
    let mut first = String::new();
    out.read_line(&mut first).expect("first line");
    assert!(first.starts_with("MQTT broker on "), "{first:?}");
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
fn a_busy_port_is_a_clear_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let busy = taken.local_addr().expect("bound").to_string();
    for (flag, protocol) in [("--mqtt", "MQTT"), ("--http", "HTTP")] {
        let other = if flag == "--mqtt" { "--http" } else { "--mqtt" };
        let stderr = start_error(&["--memory", flag, &busy, other, "127.0.0.1:0"]);
        assert!(
            stderr.contains(&format!("cannot listen for {protocol} on {busy}"))
                && stderr.contains(&format!("pick a free address with {flag}")),
            "{stderr}"
        );
    }
}

#[test]
fn a_database_path_that_cannot_be_opened_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let db = dir.path().join("missing-directory").join("hub.db");
    let db = db.to_str().expect("a UTF-8 temporary path");
    let stderr = start_error(&["--mqtt", "127.0.0.1:0", "--http", "127.0.0.1:0", "--db", db]);
    assert!(
        stderr.contains("cannot open the hub database") && stderr.contains("check the path"),
        "{stderr}"
    );
}
