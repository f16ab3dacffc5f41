//! The hub started in-process by the default run.

use std::net::SocketAddr;

use hub::{Database, Hub, HubConfig, HubError};

use crate::config::{EmbeddedHub, HubDatabase};

/// Why the embedded hub did not start.
#[derive(Debug, thiserror::Error)]
pub enum LocalHubError {
    /// The database directory could not be created.
    #[error("cannot create the hub's data directory {path}: {source}; give --hub-db FILE or --hub-memory")]
    DataDir {
        /// The directory.
        path: std::path::PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The hub refused to start.
    #[error("the local hub did not start: {0}")]
    Hub(#[from] HubError),
}

/// A running embedded hub and what it was started with.
#[derive(Debug)]
pub struct LocalHub {
    /// The hub.
    pub hub: Hub,
    /// Whether the default ports were taken and free ones were picked instead.
    pub moved: bool,
}

fn hub_config(settings: &EmbeddedHub, mqtt: SocketAddr, http: SocketAddr) -> HubConfig {
    HubConfig {
        mqtt_addr: mqtt,
        http_addr: http,
        database: match &settings.database {
            HubDatabase::File(path) => Database::File(path.clone()),
            HubDatabase::InMemory => Database::InMemory,
        },
        ..HubConfig::default()
    }
}

/// Starts the hub. When the addresses are the defaults and one is taken (another hub, a Mosquitto on 1883), it
/// starts again on free ports of the same interfaces rather than failing; the caller prints the real URLs.
///
/// # Errors
/// [`LocalHubError`].
pub async fn start(settings: &EmbeddedHub) -> Result<LocalHub, LocalHubError> {
    if let HubDatabase::File(path) = &settings.database {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| LocalHubError::DataDir {
                path: dir.to_owned(),
                source,
            })?;
        }
    }
    match Hub::start(hub_config(settings, settings.mqtt, settings.http)).await {
        Ok(hub) => Ok(LocalHub { hub, moved: false }),
        Err(HubError::Broker(_) | HubError::Http { .. }) if !settings.addresses_given => {
            let free = |addr: SocketAddr| SocketAddr::new(addr.ip(), 0);
            let hub = Hub::start(hub_config(
                settings,
                free(settings.mqtt),
                free(settings.http),
            ))
            .await?;
            Ok(LocalHub { hub, moved: true })
        }
        Err(e) => Err(e.into()),
    }
}

/// The lines printed after the hub started: where it listens and what to try.
pub fn banner(hub: &Hub, settings: &EmbeddedHub, moved: bool) -> String {
    let mqtt = hub.mqtt_addr();
    let http = format!("http://{}", hub.http_addr());
    let device = format!("{}/{}", hub::DEMO_PRODUCT_ID, hub::DEMO_DEVICE_NAME);
    let api = format!("{http}/api/devices/{device}");
    let database = match &settings.database {
        HubDatabase::File(path) => path.display().to_string(),
        HubDatabase::InMemory => "in memory (nothing is kept)".to_owned(),
    };
    // `iotctl` talks to http://127.0.0.1:8080 unless told otherwise.
    let hub_flag = if hub.http_addr() == crate::config::HUB_HTTP_DEFAULT {
        String::new()
    } else {
        format!(" --hub {http}")
    };
    let mut text = String::new();
    if moved {
        text.push_str(
            "note: the default ports 1883/8080 were taken, so the hub picked free ones\n",
        );
    }
    text.push_str(&format!(
        "local hub   MQTT mqtt://{mqtt}   HTTP {http}\n\
         database    {database}\n\
         device      {device} (the hub's demo device; simulated sensors)\n\
         try         curl -s {api}\n\
         \x20           curl -s {api}/history?property=MQ2\n\
         \x20           curl -s -X POST {api}/control -H 'content-type: application/json' -d '{{\"params\":{{\"report_interval\":2}}}}'\n\
         \x20           cargo run -p iotctl -- control {device} report_interval=2{hub_flag}\n\
         \x20           cargo run -p iotctl -- action {device} calibrate sensor=MQ2{hub_flag}\n\
         Ctrl-C stops the node and the hub.\n"
    ));
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn ephemeral() -> EmbeddedHub {
        EmbeddedHub {
            mqtt: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            http: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            addresses_given: true,
            database: HubDatabase::InMemory,
        }
    }

    #[tokio::test]
    async fn a_taken_default_port_moves_the_hub_to_free_ones() {
        let squatter = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let taken = squatter.local_addr().unwrap();
        let settings = EmbeddedHub {
            mqtt: taken,
            addresses_given: false,
            ..ephemeral()
        };
        let local = start(&settings).await.unwrap();
        assert!(local.moved);
        assert_ne!(local.hub.mqtt_addr(), taken);
        let text = banner(&local.hub, &settings, local.moved);
        assert!(
            text.contains(&format!("mqtt://{}", local.hub.mqtt_addr())),
            "{text}"
        );
        assert!(
            text.contains(&format!("--hub http://{}", local.hub.http_addr())),
            "{text}"
        );
        local.hub.shutdown().await;
    }

    #[tokio::test]
    async fn a_taken_port_the_user_chose_is_an_error() {
        let squatter = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let settings = EmbeddedHub {
            mqtt: squatter.local_addr().unwrap(),
            ..ephemeral()
        };
        let err = start(&settings).await.unwrap_err();
        assert!(
            matches!(err, LocalHubError::Hub(HubError::Broker(_))),
            "{err}"
        );
    }

    #[tokio::test]
    async fn the_database_directory_is_created() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested").join("hub.db");
        let settings = EmbeddedHub {
            database: HubDatabase::File(path.clone()),
            ..ephemeral()
        };
        let local = start(&settings).await.unwrap();
        local.hub.shutdown().await;
        assert!(path.exists());
    }
}
