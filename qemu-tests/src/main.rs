//! iot-core and the device runtime on a Cortex-M0 (QEMU `microbit`) and an RV32IMC core (QEMU
//! `sifive_e`).
//!
//! The firmware runs the test groups of [`tests::GROUPS`] and prints over semihosting; the last
//! line is `N passed, M failed`, and the exit status (through semihosting `exit`) is 0 only if
//! every test passed. `run.sh` builds and runs both targets. See README.md.
#![no_std]
#![no_main]
#![deny(unsafe_code)]

mod harness;
mod rt;
mod tests;

use semihosting::{print, println};

/// The program, on either core: run every test group, report memory use, exit.
fn run() -> ! {
    println!(
        "iot-core on-target tests: {} on QEMU machine {}",
        env!("QEMU_TESTS_TARGET"),
        env!("QEMU_TESTS_MACHINE")
    );
    let mut runner = harness::Runner::new();
    let mut peaks = [0; tests::GROUPS.len()];
    let mut painted = 0;
    for ((_, group), peak) in tests::GROUPS.iter().zip(&mut peaks) {
        // Painted afresh for each group, always from this frame, so each group is measured on
        // its own; the figure counts from the top of the stack, so it includes this frame.
        let paint = rt::paint_stack();
        painted = paint.painted();
        group(&mut runner);
        *peak = paint.peak();
    }
    let memory = rt::Memory::get();
    println!(
        "flash: {} B of {} B (code, constants and {} B of test vectors and models)",
        memory.flash_used(),
        memory.flash_size(),
        tests::EMBEDDED_BYTES
    );
    println!(
        "RAM: {} B statics (.data {} B, .bss {} B) + {} B stack peak, of {} B ({} B of stack painted)",
        memory.static_ram(),
        memory.data_size(),
        memory.bss_size(),
        peaks.iter().max().copied().unwrap_or(0),
        memory.ram_size(),
        painted
    );
    print!("stack peak by group:");
    for ((name, _), peak) in tests::GROUPS.iter().zip(peaks) {
        print!(" {name} {peak} B");
    }
    println!();
    runner.finish()
}
