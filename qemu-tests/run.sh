#!/usr/bin/env bash
# Builds the on-target tests for both cores and runs them under QEMU with semihosting:
#
#   thumbv6m-none-eabi           Cortex-M0, qemu-system-arm -machine microbit
#   riscv32imc-unknown-none-elf  RV32IMC,   qemu-system-riscv32 -machine sifive_e
#
# Fails if a build fails, a test fails (the firmware exits non-zero through semihosting), the
# firmware faults or panics, or a run takes longer than QEMU_TESTS_TIMEOUT seconds (default 120).
#
#   bash qemu-tests/run.sh                   # both targets
#   bash qemu-tests/run.sh thumbv6m-none-eabi
#
# The QEMU command lines are the runners in .cargo/config.toml. Cargo.lock pins the dependencies;
# cargo adds to it (without --locked) when iot-core gains a dependency.
set -euo pipefail

cd "$(dirname "$0")"
TIMEOUT=${QEMU_TESTS_TIMEOUT:-120}
TARGETS=("$@")
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=(thumbv6m-none-eabi riscv32imc-unknown-none-elf)

for tool in qemu-system-arm qemu-system-riscv32; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "error: $tool not found; install the Debian packages qemu-system-arm and qemu-system-misc" >&2
        exit 1
    fi
done

log=$(mktemp)
trap 'rm -f "$log"' EXIT
failed=()
total_passed=0
total_failed=0
for target in "${TARGETS[@]}"; do
    printf '\n--- %s: build\n' "$target"
    cargo build --release --target "$target"
    printf '\n--- %s: run under QEMU (timeout %ss)\n' "$target" "$TIMEOUT"
    start=$SECONDS
    status=0
    # `cargo run` only starts the runner here (the build is done); timeout ends QEMU with it.
    timeout --kill-after=10 "$TIMEOUT" cargo run --quiet --release --target "$target" | tee "$log" || status=$?
    elapsed=$((SECONDS - start))
    # The firmware's closing line: "N passed, M failed". A run that crashed has none; the test
    # that was running counts as failed.
    summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1 || true)
    if [ -n "$summary" ]; then
        read -r passed _ failed_count _ <<<"${summary//,/}"
        total_passed=$((total_passed + passed))
        total_failed=$((total_failed + failed_count))
    fi
    if [ "$status" -ne 0 ] && { [ -z "$summary" ] || [ "$failed_count" -eq 0 ]; }; then
        total_failed=$((total_failed + 1))
    fi
    case $status in
        0) echo "--- $target: passed in ${elapsed}s" ;;
        124 | 137) echo "--- $target: TIMED OUT after ${TIMEOUT}s" >&2; failed+=("$target") ;;
        101) echo "--- $target: PANICKED (exit status 101)" >&2; failed+=("$target") ;;
        102) echo "--- $target: CPU FAULT (exit status 102)" >&2; failed+=("$target") ;;
        *) echo "--- $target: FAILED (exit status $status)" >&2; failed+=("$target") ;;
    esac
done

echo
if [ ${#failed[@]} -ne 0 ]; then
    echo "qemu-tests failed on: ${failed[*]}" >&2
fi
echo "qemu-tests: $total_passed passed, $total_failed failed"
[ ${#failed[@]} -eq 0 ]
