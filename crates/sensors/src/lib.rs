//! MQ-series gas sensor and DHT11 drivers (being written).
#![no_std]
