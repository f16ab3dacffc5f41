//! iot-core on a Cortex-M0 (QEMU `microbit`) and an RV32IMC core (QEMU `sifive_e`).
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

use semihosting::println;

/// The program, on either core: run every test group, report memory use, exit.
fn run() -> ! {
    let paint = rt::paint_stack();
    println!(
        "iot-core on-target tests: {} on QEMU machine {}",
        env!("QEMU_TESTS_TARGET"),
        env!("QEMU_TESTS_MACHINE")
    );
    let mut runner = harness::Runner::new();
    for group in tests::GROUPS {
        group(&mut runner);
    }
    let memory = rt::Memory::get();
    println!(
        "flash: {} B of {} B (code, constants and {} B of test vectors and models)",
        memory.flash_used(),
        memory.flash_size(),
        tests::EMBEDDED_BYTES
    );
    println!(
        "RAM: {} B statics (.data {} B, .bss {} B) + {} B stack peak, of {} B; {} B of stack were painted",
        memory.static_ram(),
        memory.data_size(),
        memory.bss_size(),
        paint.peak(),
        memory.ram_size(),
        paint.painted()
    );
    runner.finish()
}
