//! `linux-node`: see the crate documentation and `docs/getting-started.md`.

use std::process::ExitCode;

use clap::Parser;
use linux_node::config::{Args, DeviceCredentials, Remote, Secret, SensorSource, Settings, Target};
use linux_node::hardware::{self, AlarmPin};
use linux_node::local_hub::{self, LocalHub};
use linux_node::node::{NodeSensors, NodeSpec, RunningNode, Tuning};
use linux_node::simulated;
use tokio::signal::unix::{signal, SignalKind};

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("linux-node: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<(), String> {
    let settings = Settings::from_args(args).map_err(|e| e.to_string())?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    rt.block_on(serve(settings))
}

async fn serve(settings: Settings) -> Result<(), String> {
    // The local hub, when no remote broker was given.
    let (hub, remote) = match &settings.target {
        Target::Embedded(embedded) => {
            let LocalHub { hub, moved } = local_hub::start(embedded)
                .await
                .map_err(|e| e.to_string())?;
            print!("{}", local_hub::banner(&hub, embedded, moved));
            let remote = Remote {
                host: hub.mqtt_addr().ip().to_string(),
                port: hub.mqtt_addr().port(),
                tls: false,
                ca_file: None,
                device: DeviceCredentials {
                    product_id: hub::DEMO_PRODUCT_ID.to_owned(),
                    device_name: hub::DEMO_DEVICE_NAME.to_owned(),
                    device_psk: Secret::new(hub::DEMO_DEVICE_PSK),
                },
            };
            (Some(hub), remote)
        }
        Target::Remote(remote) => {
            println!(
                "broker      {}://{}:{}\ndevice      {}/{}",
                if remote.tls { "mqtts" } else { "mqtt" },
                remote.host,
                remote.port,
                remote.device.product_id,
                remote.device.device_name
            );
            (None, remote.clone())
        }
    };

    let sensors = match &settings.sensors {
        SensorSource::Simulated(sim) => {
            let (simulator, suite) = simulated::room(sim.seed);
            if let Some(at_ms) = sim.smoke_at_ms {
                simulated::inject(&simulator, at_ms, simulated::SMOKE_SPIKE);
                println!(
                    "sensors     simulated (seed {}); smoke spike at {} s",
                    sim.seed,
                    at_ms / 1000
                );
            } else {
                println!("sensors     simulated (seed {}); --simulate-smoke-at SECS raises the gas alarm", sim.seed);
            }
            NodeSensors::Simulated(Box::new(suite))
        }
        SensorSource::Hardware(config) => {
            let suite = hardware::open_suite(config).map_err(|e| e.to_string())?;
            println!(
                "sensors     hardware: DHT on {} line {}",
                config.dht11.chip.display(),
                config.dht11.line
            );
            NodeSensors::Hardware(Box::new(suite))
        }
    };
    let alarm = settings
        .alarm
        .as_ref()
        .map(AlarmPin::open)
        .transpose()
        .map_err(|e| e.to_string())?;
    let tuning = Tuning {
        report_interval_ms: settings.report_interval_secs * 1000,
        // A local hub takes the offline queue as fast as it comes; the cloud allows 10 QoS 1 messages a second.
        publish_spacing_ms: if hub.is_some() {
            0
        } else {
            Tuning::default().publish_spacing_ms
        },
        ..Tuning::default()
    };
    let mut node = RunningNode::spawn(NodeSpec {
        remote,
        sensors,
        alarm,
        tuning,
        print: true,
    })
    .map_err(|e| e.to_string())?;

    // Run until Ctrl-C (or SIGTERM), or until the node stops on its own (a configuration error). One stream per
    // signal for the whole run, so that each delivery is seen exactly once.
    let mut events = node.take_events();
    let watch =
        |kind: SignalKind| signal(kind).map_err(|e| format!("cannot watch for signals: {e}"));
    let (mut interrupt, mut terminate) = (
        watch(SignalKind::interrupt())?,
        watch(SignalKind::terminate())?,
    );
    loop {
        tokio::select! {
            _ = interrupt.recv() => break,
            _ = terminate.recv() => break,
            event = events.recv() => if event.is_none() { break },
        }
    }
    println!(
        "stopping: delivering what is queued, then disconnecting (Ctrl-C again to quit at once)"
    );
    let stopping = tokio::task::spawn_blocking(move || node.stop());
    let result = tokio::select! {
        joined = stopping => joined.map_err(|e| format!("the node's thread failed: {e}"))?,
        _ = interrupt.recv() => std::process::exit(130),
    };
    if let Some(hub) = hub {
        hub.shutdown().await;
    }
    let summary = result.map_err(|e| e.to_string())?;
    let stats = summary.stats;
    println!(
        "stopped: {} reports and {} events queued, {} answered, {} refused, {} undelivered",
        stats.reports_queued,
        stats.events_queued,
        stats.answered,
        stats.refused,
        summary.undelivered
    );
    Ok(())
}
