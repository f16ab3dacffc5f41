//! What differs between the two cores: the reset entry (cortex-m-rt, riscv-rt), the fault
//! handlers, and the memory layout from the linker scripts, with stack painting to measure the
//! stack's high-water mark.
#![allow(unsafe_code)]

use core::ptr;

use semihosting::eprintln;

/// Exit status for a CPU fault (a panic exits with 101).
const FAULT_EXIT: i32 = 102;

#[cfg(target_arch = "arm")]
mod arch {
    use cortex_m_rt::{entry, exception, ExceptionFrame};

    #[entry]
    fn main() -> ! {
        crate::run()
    }

    /// Any fault on a Cortex-M0 escalates to `HardFault`: print where, and fail the run.
    #[exception]
    unsafe fn HardFault(frame: &ExceptionFrame) -> ! {
        super::eprintln!(
            "HardFault at pc {:#010x} (lr {:#010x})",
            frame.pc(),
            frame.lr()
        );
        semihosting::process::exit(super::FAULT_EXIT)
    }
}

#[cfg(target_arch = "riscv32")]
mod arch {
    use riscv::register::{mcause, mepc, mtval};

    #[riscv_rt::entry]
    fn main() -> ! {
        crate::run()
    }

    /// Any exception (illegal instruction, misaligned or faulting access): print where, and
    /// fail the run.
    #[export_name = "ExceptionHandler"]
    fn exception_handler(_frame: &riscv_rt::TrapFrame) -> ! {
        super::eprintln!(
            "CPU exception (mcause {:#x}) at pc {:#010x} (mtval {:#010x})",
            mcause::read().bits(),
            mepc::read(),
            mtval::read()
        );
        semihosting::process::exit(super::FAULT_EXIT)
    }
}

// Symbols from the linker scripts: link.x of cortex-m-rt and riscv-rt (same names in both) and
// memory/*.x. Only their addresses are used.
extern "C" {
    static _qt_flash_start: u8;
    static _qt_flash_end: u8;
    static _qt_ram_start: u8;
    static _qt_ram_end: u8;
    /// Load address (in flash) of `.data`.
    static __sidata: u8;
    static __sdata: u8;
    static __edata: u8;
    static __sbss: u8;
    static __ebss: u8;
    /// End of the statically allocated RAM (the heap would start here; it is empty).
    static __sheap: u8;
    /// Initial stack pointer: the stack grows down from here to `__sheap`.
    static _stack_start: u8;
}

/// The memory layout of the running image, in addresses.
#[derive(Debug, Clone, Copy)]
pub struct Memory {
    flash: (usize, usize),
    ram: (usize, usize),
    data_load: usize,
    data: (usize, usize),
    bss: (usize, usize),
    stack: (usize, usize),
}

impl Memory {
    /// Reads the layout from the linker symbols.
    pub fn get() -> Self {
        let a = |p: *const u8| p as usize;
        Self {
            flash: (
                a(ptr::addr_of!(_qt_flash_start)),
                a(ptr::addr_of!(_qt_flash_end)),
            ),
            ram: (
                a(ptr::addr_of!(_qt_ram_start)),
                a(ptr::addr_of!(_qt_ram_end)),
            ),
            data_load: a(ptr::addr_of!(__sidata)),
            data: (a(ptr::addr_of!(__sdata)), a(ptr::addr_of!(__edata))),
            bss: (a(ptr::addr_of!(__sbss)), a(ptr::addr_of!(__ebss))),
            stack: (a(ptr::addr_of!(__sheap)), a(ptr::addr_of!(_stack_start))),
        }
    }

    /// Flash size of the machine, in bytes.
    pub fn flash_size(&self) -> usize {
        self.flash.1 - self.flash.0
    }

    /// Flash the image occupies: code, read-only data and the initial values of `.data`.
    pub fn flash_used(&self) -> usize {
        self.data_load + self.data_size() - self.flash.0
    }

    /// RAM size of the machine, in bytes.
    pub fn ram_size(&self) -> usize {
        self.ram.1 - self.ram.0
    }

    /// Size of `.data`.
    pub fn data_size(&self) -> usize {
        self.data.1 - self.data.0
    }

    /// Size of `.bss`.
    pub fn bss_size(&self) -> usize {
        self.bss.1 - self.bss.0
    }

    /// RAM taken by statics of any kind (`.data`, `.bss`, `.uninit`).
    pub fn static_ram(&self) -> usize {
        self.stack.0 - self.ram.0
    }
}

/// The word the free stack is filled with.
const PAINT: u32 = 0xCCCC_CCCC;

/// Bytes left unpainted below the painting function's own locals, so it never writes over its
/// own frame.
const PAINT_MARGIN: usize = 256;

/// The part of the stack that [`paint_stack`] filled.
#[derive(Debug, Clone, Copy)]
pub struct StackPaint {
    /// Lowest painted address (the stack limit).
    start: usize,
    /// One past the highest painted word.
    end: usize,
    /// Initial stack pointer.
    top: usize,
}

/// Fills the free stack below the caller with [`PAINT`], for [`StackPaint::peak`].
///
/// Call it once, early, from a shallow frame: what the caller and its callers use at that point
/// is counted as used.
#[inline(never)]
pub fn paint_stack() -> StackPaint {
    let memory = Memory::get();
    let marker = 0u32;
    let here = ptr::addr_of!(marker) as usize;
    let start = (memory.stack.0 + 3) & !3;
    let end = here.saturating_sub(PAINT_MARGIN) & !3;
    let mut at = start;
    while at < end {
        // SAFETY: `at` is a word-aligned address between the end of the statics and
        // `PAINT_MARGIN` bytes below this function's locals: free stack that no Rust object
        // occupies. Nothing else runs (no interrupts are enabled), and the stack only grows
        // into this range after this function has returned.
        unsafe { ptr::with_exposed_provenance_mut::<u32>(at).write_volatile(PAINT) };
        at += 4;
    }
    StackPaint {
        start,
        end,
        top: memory.stack.1,
    }
}

impl StackPaint {
    /// The most stack used since [`paint_stack`], in bytes: from the initial stack pointer down
    /// to the lowest word that no longer holds the paint. If the stack never went below the
    /// painted range, this is an upper bound (the range's top).
    pub fn peak(&self) -> usize {
        let mut at = self.start;
        // SAFETY: `at` is a word-aligned address in the range `paint_stack` wrote, plain RAM
        // below the caller's frame (which called `paint_stack` from the same depth). Reading it
        // as a `u32` is always defined; the stack of the callees that ran there is dead.
        while at < self.end
            && unsafe { ptr::with_exposed_provenance::<u32>(at).read_volatile() } == PAINT
        {
            at += 4;
        }
        self.top - at
    }

    /// Bytes of stack that were free (painted) when painting.
    pub fn painted(&self) -> usize {
        self.end - self.start
    }
}
