//! End-to-end tests of the hub: an in-process hub on 127.0.0.1 with OS-picked ports, plain MQTT clients as devices
//! and HTTP calls to the API. One test binary keeps linking cheap.

mod common;

mod api;
mod auth;
mod authorization;
mod data_template;
mod mqtt5;
mod persistence;
mod robustness;
