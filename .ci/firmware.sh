#!/usr/bin/env bash
# Builds the firmware examples in release, prints their memory figures and the SDK's share of flash, and
# checks their formatting and lints.
#
#   bash .ci/firmware.sh [build|fmt|clippy|all]...     (default: build)
#
#   build   examples/rp2040-node   thumbv6m-none-eabi           (W5500 variant, the default features)
#           examples/esp32c3-node  riscv32imc-unknown-none-elf  (ESP32-C3)
#           examples/esp32c3-node  riscv32imac-unknown-none-elf (ESP32-C6; FIRMWARE_C6=0 skips it)
#           each with and without the `sdk` feature; prints .text/.data/.bss and flash, and
#           SDK share = flash(with sdk) − flash(without sdk), against the 24 KiB goal on thumbv6m.
#           Fails if the thumbv6m share grows past FIRMWARE_SDK_CEILING bytes (default 128 KiB,
#           a regression guard a little above the measured figure; docs/firmware.md).
#   fmt     cargo fmt --check in each example and in crates/embassy-node.
#   clippy  clippy -D warnings in each example for its target and feature sets (the Pico W variant
#           against empty placeholder firmware files: it checks the code, it is not a usable image), and
#           in crates/embassy-node (the examples' shared node) for both targets with its logger.
#
# Each example, and crates/embassy-node, is a standalone crate (excluded from the root workspace):
# cargo runs from inside its directory, so that it reads the example's `.cargo/config.toml` (target,
# linker script, runner) and uses its own Cargo.lock.
# Not built here: the Pico W image (needs the CYW43439 firmware files) and the classic ESP32 /
# ESP32-S3 (Xtensa, needs the espup toolchain); docs/firmware.md has the steps.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
export CARGO_TERM_COLOR=never
export CARGO_INCREMENTAL=0
GOAL=24576
CEILING=${FIRMWARE_SDK_CEILING:-131072}

# Placeholder credentials: the examples read them with env!() at build time. A node built with these
# is refused by the cloud (wrong PSK); real values are given the same way (docs/firmware.md).
export IOT_PRODUCT_ID=${IOT_PRODUCT_ID:-CIBUILD000}
export IOT_DEVICE_NAME=${IOT_DEVICE_NAME:-ci-node}
export IOT_DEVICE_PSK=${IOT_DEVICE_PSK:-AAAAAAAAAAAAAAAAAAAAAA==}
export WIFI_SSID=${WIFI_SSID:-ci-network}
export WIFI_PASSWORD=${WIFI_PASSWORD:-ci-password}

step() { printf '\n==> %s\n' "$*"; }

need_size() {
    if ! command -v size >/dev/null 2>&1; then
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq && apt-get install -y -qq --no-install-recommends binutils >/dev/null
    fi
}

# "text data bss" of an ELF, from its allocated sections (address ≠ 0). text: code and read-only data
# in flash, including code copied to RAM at boot (ESP `.rwtext`), the vector table, the RP2040's boot2
# and the ESP app descriptor; data: initialised RAM (its image is in flash too); bss: zeroed or
# uninitialised RAM. Left out: the ESP linker's address-space placeholders (`*_dummy`) and its stack
# region. GNU size reads ARM and RISC-V ELF files alike.
elf_sizes() {
    size -A "$1" | awk '
        NR > 2 && NF == 3 && $3 != 0 {
            name = $1; n = $2
            if (name ~ /_dummy$/ || name == ".stack") next
            if (name ~ /^\.(bss|noinit|uninit)/) bss += n
            else if (name ~ /^\.data/) data += n
            else text += n
        }
        END { printf "%d %d %d\n", text, data, bss }'
}

declare -A FLASH
ROWS=()

# build DIR TARGET LABEL CARGO-ARGS...: a release build from inside DIR; records its figures.
build() {
    local dir=$1 target=$2 label=$3
    shift 3
    local start=$SECONDS
    (cd "$dir" && cargo build --release --target "$target" "$@")
    local elf
    elf="$ROOT/$dir/target/$target/release/$(basename "$dir")"
    local text data bss
    read -r text data bss < <(elf_sizes "$elf")
    FLASH[$label]=$((text + data))
    ROWS+=("$(printf '%-34s %-29s %8d %6d %7d %8d %5ds' "$label" "$target" "$text" "$data" "$bss" \
        $((text + data)) $((SECONDS - start)))")
}

kib() { awk -v n="$1" 'BEGIN { printf "%.1f", n / 1024 }'; }

share() {
    local with=$1 without=$2
    echo $((FLASH[$with] - FLASH[$without]))
}

build_all() {
    need_size
    step "firmware: rp2040-node (thumbv6m-none-eabi, W5500)"
    build examples/rp2040-node thumbv6m-none-eabi "rp2040-node"
    build examples/rp2040-node thumbv6m-none-eabi "rp2040-node without sdk" --no-default-features --features w5500
    step "firmware: esp32c3-node (riscv32imc-unknown-none-elf, ESP32-C3)"
    build examples/esp32c3-node riscv32imc-unknown-none-elf "esp32c3-node"
    build examples/esp32c3-node riscv32imc-unknown-none-elf "esp32c3-node without sdk" --no-default-features --features esp32c3
    if [ "${FIRMWARE_C6:-1}" != 0 ]; then
        step "firmware: esp32c3-node (riscv32imac-unknown-none-elf, ESP32-C6)"
        build examples/esp32c3-node riscv32imac-unknown-none-elf "esp32c3-node esp32c6" --no-default-features --features sdk,esp32c6
        build examples/esp32c3-node riscv32imac-unknown-none-elf "esp32c3-node esp32c6 without sdk" --no-default-features --features esp32c6
    fi

    step "firmware sizes (bytes; flash = .text + .data; time = build time)"
    printf '%-34s %-29s %8s %6s %7s %8s %6s\n' firmware target .text .data .bss flash time
    printf '%s\n' "${ROWS[@]}"
    local rp esp
    rp=$(share "rp2040-node" "rp2040-node without sdk")
    esp=$(share "esp32c3-node" "esp32c3-node without sdk")
    echo
    printf 'SDK share of flash, thumbv6m (rp2040-node):    %6d B = %5s KiB (goal %s KiB: %s)\n' "$rp" "$(kib "$rp")" \
        "$(kib "$GOAL")" "$([ "$rp" -le "$GOAL" ] && echo met || echo "not met, $(kib $((rp - GOAL))) KiB over")"
    printf 'SDK share of flash, riscv32imc (esp32c3-node): %6d B = %5s KiB\n' "$esp" "$(kib "$esp")"
    if [ -n "${FLASH[esp32c3-node esp32c6]:-}" ]; then
        local c6
        c6=$(share "esp32c3-node esp32c6" "esp32c3-node esp32c6 without sdk")
        printf 'SDK share of flash, riscv32imac (esp32c6):     %6d B = %5s KiB\n' "$c6" "$(kib "$c6")"
    fi
    if [ "$rp" -gt "$CEILING" ]; then
        echo "error: the SDK's share on thumbv6m grew to $rp B, past the $CEILING B ceiling" \
            "(FIRMWARE_SDK_CEILING); find what grew (docs/firmware.md, \"Where the flash goes\")" >&2
        return 1
    fi
}

fmt_all() {
    for dir in examples/rp2040-node examples/esp32c3-node crates/embassy-node; do
        step "fmt: $dir"
        (cd "$dir" && cargo fmt --check)
    done
}

clippy_all() {
    step "clippy: rp2040-node (thumbv6m-none-eabi)"
    (
        cd examples/rp2040-node
        cargo clippy --release -- -D warnings
        cargo clippy --release --features onchip-adc -- -D warnings
        cargo clippy --release --no-default-features --features w5500 -- -D warnings
        # The Pico W variant, checked against empty firmware files.
        local blobs
        blobs=$(mktemp -d)
        touch "$blobs/43439A0.bin" "$blobs/43439A0_clm.bin" "$blobs/nvram_rp2040.bin"
        CYW43_FIRMWARE_DIR=$blobs cargo clippy --release --no-default-features --features sdk,pico-w -- -D warnings
        rm -r "$blobs"
    )
    step "clippy: esp32c3-node (riscv32imc-unknown-none-elf, riscv32imac-unknown-none-elf)"
    (
        cd examples/esp32c3-node
        cargo clippy --release -- -D warnings
        cargo clippy --release --no-default-features --features esp32c3 -- -D warnings
        if [ "${FIRMWARE_C6:-1}" != 0 ]; then
            cargo clippy --release --no-default-features --features sdk,esp32c6 \
                --target riscv32imac-unknown-none-elf -- -D warnings
        fi
    )
    step "clippy: embassy-node (thumbv6m-none-eabi with defmt, riscv32imc-unknown-none-elf with log)"
    (
        cd crates/embassy-node
        cargo clippy --target thumbv6m-none-eabi --features defmt -- -D warnings
        cargo clippy --target thumbv6m-none-eabi --features defmt,sdk,wifi -- -D warnings
        cargo clippy --target riscv32imc-unknown-none-elf --features log -- -D warnings
        cargo clippy --target riscv32imc-unknown-none-elf --features log,sdk,wifi -- -D warnings
    )
}

[ $# -eq 0 ] && set -- build
for cmd in "$@"; do
    case "$cmd" in
        build) build_all ;;
        fmt) fmt_all ;;
        clippy) clippy_all ;;
        all)
            fmt_all
            clippy_all
            build_all
            ;;
        *)
            echo "unknown subcommand: $cmd (build, fmt, clippy or all)" >&2
            exit 2
            ;;
    esac
done
