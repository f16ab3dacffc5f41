//! The node's settings: command line, environment variables and an optional TOML file.
//!
//! Precedence, highest first: a command-line flag, its environment variable, the `--config` file, the default.
//! With no connection setting at all the node starts the local hub in-process and uses its demo device; any of
//! `--host`, `--product`, `--device` or `--psk` (or their variables, or a `[connection]` table in the file)
//! selects a remote broker instead: the real IoT Explorer or an external hub.

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

use clap::Parser;
use iot_core::credentials::{validate_device_name, validate_product_id, CredentialsError, Psk};
use serde::Deserialize;

use crate::hardware::HardwareConfig;

/// MQTT port without TLS (protocol.md §3.1).
pub const PORT_TCP: u16 = 1883;
/// MQTT port with TLS (protocol.md §3.1).
pub const PORT_TLS: u16 = 8883;
/// Default MQTT address of the embedded hub (the same as `iotctl hub`).
pub const HUB_MQTT_DEFAULT: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), PORT_TCP);
/// Default HTTP address of the embedded hub (the same as `iotctl hub`).
pub const HUB_HTTP_DEFAULT: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 8080);
/// File name of the embedded hub's database inside the data directory.
pub const HUB_DB_FILE: &str = "linux-node-hub.db";

/// The command line. Every option also reads an environment variable, so secrets can stay out of shell history.
#[derive(Debug, Clone, Default, Parser)]
#[command(
    name = "linux-node",
    version,
    about = "The environment monitor on Linux: reports MQ-2/MQ-135/MQ-4/MQ-7 and DHT11 readings to Tencent Cloud \
             IoT Explorer or to a local hub, and obeys its controls",
    after_help = "With no connection option the node starts a local hub in-process (its demo device \
                  CS0SLTKSYA/dev1) and runs on simulated sensors. See docs/getting-started.md."
)]
pub struct Args {
    /// TOML file with any of the settings below and the hardware wiring (`[sensors]`, `[alarm]`).
    #[arg(long, env = "IOT_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Broker host; default `{ProductId}.iotcloud.tencentdevices.com` (IoT Explorer, China region).
    #[arg(long, env = "IOT_HOST")]
    pub host: Option<String>,
    /// Broker port; default 1883, or 8883 with `--tls`.
    #[arg(long, env = "IOT_PORT")]
    pub port: Option<u16>,
    /// ProductId, as shown in the console.
    #[arg(long = "product", env = "IOT_PRODUCT_ID", value_name = "PRODUCT_ID")]
    pub product_id: Option<String>,
    /// DeviceName, as shown in the console.
    #[arg(long = "device", env = "IOT_DEVICE_NAME", value_name = "DEVICE_NAME")]
    pub device_name: Option<String>,
    /// The device's PSK (device secret, base64). Prefer the environment variable.
    #[arg(
        long = "psk",
        env = "IOT_DEVICE_PSK",
        value_name = "PSK",
        hide_env_values = true
    )]
    pub device_psk: Option<String>,
    /// Connect with TLS (port 8883) and check the broker against the Tencent IoT CA.
    #[arg(long, env = "IOT_TLS", num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub tls: Option<bool>,
    /// PEM file with the CA to trust instead of the bundled Tencent IoT CA (e.g. for a TLS-enabled local broker).
    #[arg(long, env = "IOT_CA_FILE", value_name = "FILE")]
    pub ca_file: Option<PathBuf>,

    /// Report interval in seconds until the cloud sets `report_interval` (1–3600).
    #[arg(long, env = "IOT_REPORT_INTERVAL", value_name = "SECS")]
    pub report_interval: Option<u32>,

    /// Simulated sensors: seed of the random stream.
    #[arg(long, env = "IOT_SIM_SEED")]
    pub seed: Option<u64>,
    /// Simulated sensors: start a smoke spike this many seconds after start (raises `gas_alarm`).
    #[arg(long, env = "IOT_SIMULATE_SMOKE_AT", value_name = "SECS")]
    pub simulate_smoke_at: Option<u64>,
    /// Read the real sensors described in the config file's `[sensors]` table instead of simulating them.
    #[arg(long, env = "IOT_HARDWARE", num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub hardware: Option<bool>,

    /// Embedded hub: MQTT listen address (default 127.0.0.1:1883, or a free port if that is taken).
    #[arg(long, env = "IOT_HUB_MQTT", value_name = "ADDR")]
    pub hub_mqtt: Option<SocketAddr>,
    /// Embedded hub: HTTP API listen address (default 127.0.0.1:8080, or a free port if that is taken).
    #[arg(long, env = "IOT_HUB_HTTP", value_name = "ADDR")]
    pub hub_http: Option<SocketAddr>,
    /// Embedded hub: database file (default: `linux-node-hub.db` in the user's data directory).
    #[arg(
        long,
        env = "IOT_HUB_DB",
        value_name = "FILE",
        conflicts_with = "hub_memory"
    )]
    pub hub_db: Option<PathBuf>,
    /// Embedded hub: keep everything in memory (nothing survives the run).
    #[arg(long, env = "IOT_HUB_MEMORY", num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub hub_memory: Option<bool>,
}

/// The TOML file. Every table and key is optional; unknown keys are refused so that typos do not go unnoticed.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// A remote broker (IoT Explorer or an external hub).
    pub connection: Option<ConnectionFile>,
    /// Node behaviour.
    #[serde(default)]
    pub node: NodeFile,
    /// The embedded hub (used when there is no `[connection]`).
    #[serde(default)]
    pub hub: HubFile,
    /// Where the readings come from.
    #[serde(default)]
    pub sensors: SensorsFile,
    /// The alarm output pin (hardware only).
    pub alarm: Option<crate::hardware::AlarmPinConfig>,
}

/// `[connection]`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ConnectionFile {
    /// Broker host.
    pub host: Option<String>,
    /// Broker port.
    pub port: Option<u16>,
    /// ProductId.
    pub product_id: Option<String>,
    /// DeviceName.
    pub device_name: Option<String>,
    /// Device PSK (base64). Keep the file readable by its owner only.
    pub device_psk: Option<String>,
    /// TLS on or off.
    pub tls: Option<bool>,
    /// CA file to trust instead of the bundled Tencent IoT CA.
    pub ca_file: Option<PathBuf>,
}

/// `[node]`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct NodeFile {
    /// Initial report interval, seconds.
    pub report_interval_secs: Option<u32>,
}

/// `[hub]`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct HubFile {
    /// MQTT listen address.
    pub mqtt: Option<SocketAddr>,
    /// HTTP listen address.
    pub http: Option<SocketAddr>,
    /// Database file.
    pub db: Option<PathBuf>,
    /// In-memory database.
    pub memory: Option<bool>,
}

/// `[sensors]`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SensorsFile {
    /// `"simulated"` (default) or `"hardware"`.
    pub source: Option<SensorSourceKind>,
    /// Simulator settings.
    #[serde(default)]
    pub simulated: SimulatedFile,
    /// Hardware wiring, needed when `source = "hardware"`.
    pub hardware: Option<HardwareConfig>,
}

/// Where readings come from.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SensorSourceKind {
    /// The seeded simulator.
    Simulated,
    /// Real sensors through the Linux GPIO character device and IIO.
    Hardware,
}

/// `[sensors.simulated]`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SimulatedFile {
    /// Seed of the random stream.
    pub seed: Option<u64>,
    /// Smoke spike this many seconds after start.
    pub smoke_at_secs: Option<u64>,
}

/// A device secret that never shows up in `Debug` output or logs.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(text: impl Into<String>) -> Self {
        Self(text.into())
    }

    /// The secret text, for signing only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// A device's identity and secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceCredentials {
    /// ProductId.
    pub product_id: String,
    /// DeviceName.
    pub device_name: String,
    /// PSK, base64.
    pub device_psk: Secret,
}

/// A remote broker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remote {
    /// Host name or address.
    pub host: String,
    /// Port.
    pub port: u16,
    /// TLS on or off.
    pub tls: bool,
    /// CA file overriding the bundled Tencent IoT CA.
    pub ca_file: Option<PathBuf>,
    /// The device.
    pub device: DeviceCredentials,
}

/// Where the embedded hub keeps its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HubDatabase {
    /// A database file.
    File(PathBuf),
    /// In memory.
    InMemory,
}

/// The embedded hub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbeddedHub {
    /// MQTT listen address.
    pub mqtt: SocketAddr,
    /// HTTP listen address.
    pub http: SocketAddr,
    /// Whether the addresses were chosen by the user (no fallback to free ports then).
    pub addresses_given: bool,
    /// Database.
    pub database: HubDatabase,
}

/// What the node connects to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Start the local hub in-process and use its demo device.
    Embedded(EmbeddedHub),
    /// Connect to a remote broker.
    Remote(Remote),
}

/// Simulator settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Simulated {
    /// Seed.
    pub seed: u64,
    /// Smoke spike this many ms after start.
    pub smoke_at_ms: Option<u64>,
}

/// Where readings come from.
#[derive(Debug, Clone, PartialEq)]
pub enum SensorSource {
    /// The seeded simulator.
    Simulated(Simulated),
    /// Real sensors.
    Hardware(Box<HardwareConfig>),
}

/// Every setting, resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Where to connect.
    pub target: Target,
    /// Where readings come from.
    pub sensors: SensorSource,
    /// The alarm output pin.
    pub alarm: Option<crate::hardware::AlarmPinConfig>,
    /// Initial report interval, seconds.
    pub report_interval_secs: u32,
}

/// Default simulator seed.
pub const DEFAULT_SEED: u64 = 0x5EED;
/// Default report interval: the thing model's `report_interval` start value (models/env-monitor.json).
pub const DEFAULT_REPORT_INTERVAL_SECS: u32 = 5;

/// Why the settings cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The config file could not be read.
    #[error("cannot read the config file {path}: {source}; check the path given to --config")]
    Read {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The config file is not valid TOML for this node.
    #[error("config file {path} is not valid: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message (line, column, what was expected).
        message: String,
    },
    /// A remote connection lacks a setting.
    #[error("connecting to a broker needs {what}; give {flag} or set {env} (or `{key}` in [connection])")]
    Missing {
        /// What is missing.
        what: &'static str,
        /// Its flag.
        flag: &'static str,
        /// Its environment variable.
        env: &'static str,
        /// Its config-file key.
        key: &'static str,
    },
    /// A ProductId, DeviceName or PSK is malformed.
    #[error("{0}")]
    Credentials(#[from] CredentialsError),
    /// The report interval is outside the thing model's range.
    #[error(
        "report interval {0} s is outside 1–3600 s (the thing model's range); pick a value in it"
    )]
    ReportInterval(u32),
    /// Hardware sensors were asked for without their wiring.
    #[error(
        "hardware sensors need their wiring in the config file's [sensors.hardware] table; see \
         docs/getting-started.md"
    )]
    NoHardware,
    /// The alarm pin was configured with simulated sensors.
    #[error("the [alarm] pin is only used with hardware sensors; remove it or set sensors.source = \"hardware\"")]
    AlarmWithoutHardware,
    /// No data directory for the hub's database.
    #[error(
        "cannot find the user's data directory for the hub's database (is HOME set?); give --hub-db FILE \
         or --hub-memory"
    )]
    NoDataDir,
}

impl FileConfig {
    /// Parses TOML text.
    ///
    /// # Errors
    /// [`ConfigError::Parse`] naming `path`.
    pub fn parse(text: &str, path: &Path) -> Result<Self, ConfigError> {
        toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            message: e.to_string(),
        })
    }

    /// Reads and parses a file.
    ///
    /// # Errors
    /// [`ConfigError::Read`] or [`ConfigError::Parse`].
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text, path)
    }
}

/// The IoT Explorer MQTT host of a product (China region, protocol.md §3.1).
pub fn explorer_host(product_id: &str) -> String {
    format!("{product_id}.iotcloud.tencentdevices.com")
}

/// The default database of the embedded hub: `linux-node-hub.db` under `$XDG_DATA_HOME/iot-explorer-rs`
/// (`~/.local/share/iot-explorer-rs` when unset).
pub fn default_hub_db() -> Option<PathBuf> {
    dirs::data_dir().map(|dir| dir.join("iot-explorer-rs").join(HUB_DB_FILE))
}

impl Settings {
    /// Reads `--config` (when given) and resolves everything.
    ///
    /// # Errors
    /// Any [`ConfigError`].
    pub fn from_args(args: &Args) -> Result<Self, ConfigError> {
        let file = match &args.config {
            Some(path) => FileConfig::load(path)?,
            None => FileConfig::default(),
        };
        Self::resolve(args, &file)
    }

    /// Merges the command line (flags and environment, as clap read them) over the file.
    ///
    /// # Errors
    /// Any [`ConfigError`] but `Read`/`Parse`.
    pub fn resolve(args: &Args, file: &FileConfig) -> Result<Self, ConfigError> {
        let connection = file.connection.clone().unwrap_or_default();
        let remote_asked = file.connection.is_some()
            || args.host.is_some()
            || args.product_id.is_some()
            || args.device_name.is_some()
            || args.device_psk.is_some();
        let target = if remote_asked {
            Target::Remote(remote(args, connection)?)
        } else {
            Target::Embedded(embedded(args, &file.hub)?)
        };

        let report_interval_secs = args
            .report_interval
            .or(file.node.report_interval_secs)
            .unwrap_or(DEFAULT_REPORT_INTERVAL_SECS);
        if !(1..=3600).contains(&report_interval_secs) {
            return Err(ConfigError::ReportInterval(report_interval_secs));
        }

        let hardware = match args.hardware {
            Some(on) => on,
            None => file.sensors.source == Some(SensorSourceKind::Hardware),
        };
        let sensors = if hardware {
            let wiring = file
                .sensors
                .hardware
                .clone()
                .ok_or(ConfigError::NoHardware)?;
            SensorSource::Hardware(Box::new(wiring))
        } else {
            let sim = &file.sensors.simulated;
            SensorSource::Simulated(Simulated {
                seed: args.seed.or(sim.seed).unwrap_or(DEFAULT_SEED),
                smoke_at_ms: args
                    .simulate_smoke_at
                    .or(sim.smoke_at_secs)
                    .map(|secs| secs.saturating_mul(1000)),
            })
        };
        if file.alarm.is_some() && !hardware {
            return Err(ConfigError::AlarmWithoutHardware);
        }
        Ok(Self {
            target,
            sensors,
            alarm: file.alarm.clone(),
            report_interval_secs,
        })
    }
}

fn remote(args: &Args, file: ConnectionFile) -> Result<Remote, ConfigError> {
    let product_id = args
        .product_id
        .clone()
        .or(file.product_id)
        .ok_or(ConfigError::Missing {
            what: "the ProductId",
            flag: "--product",
            env: "IOT_PRODUCT_ID",
            key: "product_id",
        })?;
    validate_product_id(&product_id)?;
    let device_name =
        args.device_name
            .clone()
            .or(file.device_name)
            .ok_or(ConfigError::Missing {
                what: "the DeviceName",
                flag: "--device",
                env: "IOT_DEVICE_NAME",
                key: "device_name",
            })?;
    validate_device_name(&device_name)?;
    let psk = args
        .device_psk
        .clone()
        .or(file.device_psk)
        .ok_or(ConfigError::Missing {
            what: "the device PSK",
            flag: "--psk",
            env: "IOT_DEVICE_PSK",
            key: "device_psk",
        })?;
    // Decode once now so that a mistyped secret is reported before connecting.
    Psk::from_base64(&psk)?;
    let tls = args.tls.or(file.tls).unwrap_or(false);
    let port = args
        .port
        .or(file.port)
        .unwrap_or(if tls { PORT_TLS } else { PORT_TCP });
    let host = args
        .host
        .clone()
        .or(file.host)
        .unwrap_or_else(|| explorer_host(&product_id));
    Ok(Remote {
        host,
        port,
        tls,
        ca_file: args.ca_file.clone().or(file.ca_file),
        device: DeviceCredentials {
            product_id,
            device_name,
            device_psk: Secret::new(psk),
        },
    })
}

fn embedded(args: &Args, file: &HubFile) -> Result<EmbeddedHub, ConfigError> {
    let mqtt = args.hub_mqtt.or(file.mqtt);
    let http = args.hub_http.or(file.http);
    let memory = args.hub_memory.or(file.memory).unwrap_or(false);
    let database = if memory {
        HubDatabase::InMemory
    } else {
        match args.hub_db.clone().or_else(|| file.db.clone()) {
            Some(path) => HubDatabase::File(path),
            None => HubDatabase::File(default_hub_db().ok_or(ConfigError::NoDataDir)?),
        }
    };
    Ok(EmbeddedHub {
        mqtt: mqtt.unwrap_or(HUB_MQTT_DEFAULT),
        http: http.unwrap_or(HUB_HTTP_DEFAULT),
        addresses_given: mqtt.is_some() || http.is_some(),
        database,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Args {
        let mut argv = vec!["linux-node"];
        argv.extend_from_slice(list);
        Args::try_parse_from(argv).unwrap()
    }

    #[test]
    fn no_arguments_start_the_embedded_hub_on_simulated_sensors() {
        let settings = Settings::resolve(&args(&[]), &FileConfig::default()).unwrap();
        let Target::Embedded(hub) = &settings.target else {
            panic!("expected the embedded hub, got {:?}", settings.target);
        };
        assert_eq!(hub.mqtt, HUB_MQTT_DEFAULT);
        assert_eq!(hub.http, HUB_HTTP_DEFAULT);
        assert!(!hub.addresses_given);
        match &hub.database {
            HubDatabase::File(path) => assert!(path.ends_with("iot-explorer-rs/linux-node-hub.db")),
            HubDatabase::InMemory => panic!("default database should be a file"),
        }
        assert_eq!(
            settings.sensors,
            SensorSource::Simulated(Simulated {
                seed: DEFAULT_SEED,
                smoke_at_ms: None
            })
        );
        assert_eq!(settings.report_interval_secs, 5);
    }

    #[test]
    fn product_device_and_psk_connect_to_explorer() {
        let settings = Settings::resolve(
            &args(&[
                "--product",
                "CS0SLTKSYA",
                "--device",
                "dev1",
                "--psk",
                "IyXmUW5sU/q1vnb5yzTkeQ==",
            ]),
            &FileConfig::default(),
        )
        .unwrap();
        let Target::Remote(remote) = settings.target else {
            panic!("expected a remote target");
        };
        assert_eq!(remote.host, "CS0SLTKSYA.iotcloud.tencentdevices.com");
        assert_eq!(remote.port, 1883);
        assert!(!remote.tls);
        assert_eq!(remote.device.device_name, "dev1");
        assert_eq!(
            remote.device.device_psk.expose(),
            "IyXmUW5sU/q1vnb5yzTkeQ=="
        );
    }

    #[test]
    fn tls_switches_the_default_port() {
        let settings = Settings::resolve(
            &args(&[
                "--product",
                "CS0SLTKSYA",
                "--device",
                "dev1",
                "--psk",
                "IyXmUW5sU/q1vnb5yzTkeQ==",
                "--tls",
            ]),
            &FileConfig::default(),
        )
        .unwrap();
        let Target::Remote(remote) = settings.target else {
            panic!("expected a remote target");
        };
        assert!(remote.tls);
        assert_eq!(remote.port, 8883);
    }

    #[test]
    fn flags_override_the_file_and_the_file_fills_the_rest() {
        let file = FileConfig::parse(
            r#"
            [connection]
            host = "127.0.0.1"
            port = 11883
            product_id = "CS0SLTKSYA"
            device_name = "dev1"
            device_psk = "IyXmUW5sU/q1vnb5yzTkeQ=="

            [node]
            report_interval_secs = 30

            [sensors.simulated]
            seed = 9
            smoke_at_secs = 20
            "#,
            Path::new("node.toml"),
        )
        .unwrap();
        let settings = Settings::resolve(&args(&["--port", "2883", "--seed", "4"]), &file).unwrap();
        let Target::Remote(remote) = &settings.target else {
            panic!("expected a remote target");
        };
        assert_eq!(remote.host, "127.0.0.1");
        assert_eq!(remote.port, 2883);
        assert_eq!(settings.report_interval_secs, 30);
        assert_eq!(
            settings.sensors,
            SensorSource::Simulated(Simulated {
                seed: 4,
                smoke_at_ms: Some(20_000)
            })
        );
    }

    #[test]
    fn a_partial_remote_setting_names_what_is_missing() {
        let err = Settings::resolve(&args(&["--product", "CS0SLTKSYA"]), &FileConfig::default())
            .unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains("DeviceName") && message.contains("--device"),
            "{message}"
        );
    }

    #[test]
    fn a_bad_psk_is_refused_without_echoing_it() {
        let err = Settings::resolve(
            &args(&[
                "--product",
                "CS0SLTKSYA",
                "--device",
                "dev1",
                "--psk",
                "not*base64",
            ]),
            &FileConfig::default(),
        )
        .unwrap_err();
        assert!(matches!(
            err,
            ConfigError::Credentials(CredentialsError::PskNotBase64 { .. })
        ));
        assert!(!err.to_string().contains("not*base64"));
    }

    #[test]
    fn the_psk_never_shows_in_debug_output() {
        let settings = Settings::resolve(
            &args(&[
                "--product",
                "CS0SLTKSYA",
                "--device",
                "dev1",
                "--psk",
                "IyXmUW5sU/q1vnb5yzTkeQ==",
            ]),
            &FileConfig::default(),
        )
        .unwrap();
        let debug = format!("{settings:?}");
        assert!(!debug.contains("IyXmUW5sU"), "{debug}");
        assert!(debug.contains("<redacted>"));
    }

    #[test]
    fn report_interval_outside_the_model_range_is_refused() {
        let err = Settings::resolve(&args(&["--report-interval", "0"]), &FileConfig::default())
            .unwrap_err();
        assert!(matches!(err, ConfigError::ReportInterval(0)));
    }

    #[test]
    fn unknown_keys_in_the_file_are_refused() {
        let err =
            FileConfig::parse("[connection]\nhots = \"x\"\n", Path::new("node.toml")).unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains("node.toml") && message.contains("hots"),
            "{message}"
        );
    }

    #[test]
    fn hardware_needs_its_wiring_and_the_alarm_needs_hardware() {
        let err = Settings::resolve(&args(&["--hardware"]), &FileConfig::default()).unwrap_err();
        assert!(matches!(err, ConfigError::NoHardware));
        let file = FileConfig::parse(
            "[alarm]\nchip = \"/dev/gpiochip0\"\nline = 17\n",
            Path::new("node.toml"),
        )
        .unwrap();
        let err = Settings::resolve(&args(&[]), &file).unwrap_err();
        assert!(matches!(err, ConfigError::AlarmWithoutHardware));
    }

    #[test]
    fn hub_options_pin_the_addresses_and_the_database() {
        let settings = Settings::resolve(
            &args(&["--hub-mqtt", "127.0.0.1:0", "--hub-memory"]),
            &FileConfig::default(),
        )
        .unwrap();
        let Target::Embedded(hub) = settings.target else {
            panic!("expected the embedded hub");
        };
        assert!(hub.addresses_given);
        assert_eq!(hub.mqtt.port(), 0);
        assert_eq!(hub.database, HubDatabase::InMemory);
    }
}
