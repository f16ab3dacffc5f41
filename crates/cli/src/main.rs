//! `iotctl`: the command-line tool for devices and the local hub.
//!
//! Each subcommand lives in its own module with a `clap::Args` struct and a `run` function that
//! writes to a caller-supplied output and returns [`CliError`]; `main` maps errors to exit codes.
//!
//! Exit codes: 0 on success, 2 for bad arguments (clap's own errors and values the SDK rejects),
//! 1 for anything else.

mod api_cmd;
mod error;
mod hub_cmd;
mod sign;

use std::io::Write as _;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::error::CliError;

/// The command line: one subcommand.
#[derive(Debug, Parser)]
#[command(
    name = "iotctl",
    version,
    about = "Command-line tool for Tencent Cloud IoT Explorer devices and the local hub",
    propagate_version = true
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Compute the MQTT client id, username and password of a key (PSK) device.
    Sign(sign::SignArgs),
    /// Run the local hub (MQTT broker, data-template service, HTTP API) until Ctrl-C.
    Hub(hub_cmd::HubArgs),
    /// Manage products on a running hub.
    Product(api_cmd::ProductArgs),
    /// Manage devices on a running hub.
    Device(api_cmd::DeviceArgs),
    /// List the hub's devices and whether they are online.
    Devices(api_cmd::DevicesArgs),
    /// Set properties of a device through the hub (queued while it is offline).
    Control(api_cmd::ControlArgs),
    /// Call an action on a connected device through the hub.
    Action(api_cmd::ActionArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let result = match &cli.command {
        Command::Sign(args) => sign::run(args, &mut out),
        Command::Hub(args) => hub_cmd::run(args, &mut out),
        Command::Product(args) => api_cmd::product(args, &mut out),
        Command::Device(args) => api_cmd::device(args, &mut out),
        Command::Devices(args) => api_cmd::devices(args, &mut out),
        Command::Control(args) => api_cmd::control(args, &mut out),
        Command::Action(args) => api_cmd::action(args, &mut out),
    }
    .and_then(|()| out.flush().map_err(CliError::Output));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            error.exit_code()
        }
    }
}
