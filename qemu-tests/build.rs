//! Puts the memory map of the QEMU machine for the target being built where `link.x` (from
//! cortex-m-rt or riscv-rt) finds it as `memory.x`, and links with `link.x`.

use std::{env, fs, path::PathBuf};

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let target = env::var("TARGET").unwrap_or_default();
    let arch = env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let (memory, machine) = match arch.as_str() {
        "arm" => ("memory/microbit.x", "microbit"),
        "riscv32" => ("memory/sifive_e.x", "sifive_e"),
        // A host build (e.g. an editor's `cargo check`) has nothing to link.
        _ => return,
    };
    println!("cargo:rerun-if-changed={memory}");
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    fs::copy(memory, out.join("memory.x")).expect("copy the memory map into OUT_DIR");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rustc-link-arg-bins=-Tlink.x");
    if arch == "arm" {
        // cortex-m-rt: keep sections at their addresses without page alignment padding.
        println!("cargo:rustc-link-arg-bins=--nmagic");
    }
    println!("cargo:rustc-env=QEMU_TESTS_TARGET={target}");
    println!("cargo:rustc-env=QEMU_TESTS_MACHINE={machine}");
}
