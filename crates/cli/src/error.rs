//! Errors of the `iotctl` subcommands and their exit codes.

use std::process::ExitCode;

/// What went wrong in a subcommand.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// A command-line argument (or the environment variable standing in for it) has a value the
    /// SDK rejects. Exit code 2, as for clap's own usage errors.
    #[error("invalid value for {argument}: {message}")]
    Argument {
        /// The argument as typed, e.g. `--psk`.
        argument: &'static str,
        /// Why the value was rejected; never contains the value of a secret argument.
        message: String,
    },
    /// The system clock is before 1970, so "now + TTL" has no meaning.
    #[error("the system clock is before 1970-01-01; set the clock or pass --expiry or --never")]
    Clock,
    /// Credentials could not be built for a reason other than an argument (exit code 1).
    #[error("cannot sign: {0}")]
    Sign(#[source] iot_core::credentials::CredentialsError),
    /// The local hub could not start.
    #[error("cannot start the hub: {0}")]
    Hub(#[source] hub::HubError),
    /// The async runtime that waits for the hub could not start.
    #[error("cannot start the async runtime: {0}")]
    Runtime(#[source] std::io::Error),
    /// The stop signals (Ctrl-C, SIGTERM) cannot be watched, so the hub could not be stopped cleanly.
    #[error("cannot watch for Ctrl-C and SIGTERM: {0}")]
    Signals(#[source] std::io::Error),
    /// A request to the hub's HTTP API failed or was refused.
    #[error("{0}")]
    Api(String),
    /// Writing the result failed.
    #[error("cannot write output: {0}")]
    Output(#[source] std::io::Error),
}

impl CliError {
    /// An [`CliError::Argument`] for `argument` with `error`'s message.
    pub fn argument(argument: &'static str, error: impl std::fmt::Display) -> Self {
        Self::Argument {
            argument,
            message: error.to_string(),
        }
    }

    /// 2 for argument errors (as clap uses), 1 otherwise.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Self::Argument { .. } => ExitCode::from(2),
            Self::Clock
            | Self::Sign(_)
            | Self::Output(_)
            | Self::Hub(_)
            | Self::Runtime(_)
            | Self::Signals(_)
            | Self::Api(_) => ExitCode::FAILURE,
        }
    }
}
