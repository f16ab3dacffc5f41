//! `iotctl`: the command-line tool for devices and the local hub.
//!
//! Each subcommand lives in its own module with a `clap::Args` struct and a `run` function that
//! writes to a caller-supplied output and returns [`CliError`]; `main` maps errors to exit codes.
//!
//! Exit codes: 0 on success, 2 for bad arguments (clap's own errors and values the SDK rejects),
//! 1 for anything else.

mod error;
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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let result = match &cli.command {
        Command::Sign(args) => sign::run(args, &mut out),
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
