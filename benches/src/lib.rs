//! Benchmarks only: see `benches/codec.rs`. Cargo needs a library or binary target in every package, so this
//! empty library stands in for one.
#![no_std]
