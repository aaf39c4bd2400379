#!/bin/bash
# Proves that Debian's gdb can debug the kernel in QEMU, and through it what no boot loader here
# can do: boots the ISO halted with QEMU's gdb stub on a free loopback port and attaches
# `gdb -batch` with the kernel ELF's symbols. MODE says what gdb then does:
#   read_magic   stops first in the NASM boot code at long_mode_entry, which must resolve to its
#                line in boot.asm (the assembly's DWARF line table), then at the C entry point
#                kernel_main, and reads the parameter multiboot2_magic by name; it must be the
#                multiboot2 loader magic that boot.asm passes in edi.
#   other_loader stops at _start, where eax must hold that magic, and puts a multiboot (version 1)
#                loader's magic there instead, as a loader other than multiboot2's would hand over:
#                boot.asm must say so on COM1 before any C code runs ("boot: not loaded by a
#                multiboot2 boot loader"), print nothing of the C kernel, and exit with the
#                failure code. GRUB's multiboot2 command always passes the right magic, and QEMU's
#                -kernel loads multiboot 1 images only, so gdb is the one way to reach that path.
# MAGIC is BOOT_MULTIBOOT2_LOADER_MAGIC of kernel/arch/x86_64/machine.bzl, in decimal.
#
#   gdb_attach_test.sh TOOL_PATHS.sh QEMU_RUN KERNEL.elf MAGIC MODE
#
# QEMU_RUN is a qemu_run launcher (tools/qemu.bzl) for the ISO holding KERNEL.elf: the runner
# starts QEMU as every boot test does, here in its gdb mode (--gdb --gdb-port), and this script
# only attaches gdb. TOOL_PATHS.sh is @host_tools//:tool_paths.sh, the pinned tool paths.
# The ELF must carry DWARF (built with -c dbg; tests/BUILD.bazel gets it through debug_build) and
# be the one inside the ISO. Notes on what works:
#   * A plain `break kernel_main` works, set at reset, long before GRUB loads the kernel: QEMU's
#     stub implements breakpoints itself (Z0 packets) instead of gdb writing an int3 into memory
#     that GRUB later overwrites. `hbreak` works as well.
#   * No `set architecture i386:x86-64` is needed: gdb takes it from the ELF, and QEMU 7.2's stub
#     for qemu-system-x86_64 always sends the 64-bit register set, also in real and protected
#     mode, so the switch to long mode does not upset the packet sizes; `set $eax` writes the low
#     half of rax in 32-bit code.
#   * Source lines print as "./kernel/main.c" (built with -fdebug-compilation-dir=.): run gdb from
#     the workspace root to see the source.
set -euo pipefail

# gdb's whole session (connect, boot through GRUB to kernel_main, read, kill) must fit in this,
# and QEMU must have exited this long after gdb let the kernel go on with another loader's magic.
GDB_SECONDS=20
EXIT_SECONDS=10

# The magic a multiboot (version 1) loader leaves in eax: a loader the kernel does not accept.
OTHER_LOADER_MAGIC=0x2badb002

if [ $# -ne 5 ] || { [ "$5" != read_magic ] && [ "$5" != other_loader ]; }; then
  echo "usage: $0 TOOL_PATHS.sh QEMU_RUN KERNEL.elf MAGIC read_magic|other_loader" >&2
  exit 2
fi
MAGIC_DECIMAL=$4
MAGIC_HEX=$(printf '0x%x' "$MAGIC_DECIMAL")
mode=$5
# shellcheck source=/dev/null
source "$1"
qemu_run=$2
elf=$3
for file in "$qemu_run" "$elf"; do
  if [ ! -f "$file" ]; then
    echo "gdb_attach_test: FAIL: $file not found" >&2
    exit 1
  fi
done

work=$(mktemp -d "${TEST_TMPDIR:-${TMPDIR:-/tmp}}/gdb_attach.XXXXXX")
runner_pid=
cleanup() {
  if [ -n "$runner_pid" ] && kill -0 "$runner_pid" 2>/dev/null; then
    kill -TERM "$runner_pid" 2>/dev/null || true # the runner stops QEMU's process group
  fi
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
start=$SECONDS

# Starts QEMU halted through the runner with its gdb stub on a free port and waits until the stub
# listens; another process may take the port between choosing and binding it, so try a few.
port=
for attempt in 1 2 3; do
  candidate=$("$PYTHON" -c '
import socket
with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])
')
  "$qemu_run" --gdb --gdb-port "$candidate" </dev/null >"$work/serial.log" 2>"$work/runner.log" &
  runner_pid=$!
  # Listening is seen in /proc/net/tcp, so no probe connection takes the stub's one client slot.
  if "$PYTHON" - "$candidate" "$runner_pid" <<'WAIT'; then
import os, sys, time
port, pid = int(sys.argv[1]), int(sys.argv[2])
deadline = time.monotonic() + 5
while time.monotonic() < deadline:
    with open("/proc/net/tcp") as table:
        for row in table.readlines()[1:]:
            local, state = row.split()[1], row.split()[3]
            if int(local.split(":")[1], 16) == port and state == "0A":
                sys.exit(0)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        sys.exit(1)
    time.sleep(0.05)
sys.exit(1)
WAIT
    port=$candidate
    break
  fi
  kill -TERM "$runner_pid" 2>/dev/null || true
  wait "$runner_pid" 2>/dev/null || true
  runner_pid=
  echo "gdb_attach_test: QEMU did not listen on port $candidate (attempt $attempt):"
  cat "$work/runner.log"
done
if [ -z "$port" ]; then
  echo "gdb_attach_test: FAIL: could not start QEMU's gdb stub" >&2
  exit 1
fi
echo "gdb_attach_test: runner (pid $runner_pid) started QEMU halted, gdb stub on 127.0.0.1:$port"

gdb_command=(
  "$GDB" -batch -nx
  -ex 'set pagination off'
  -ex 'set confirm off'
  -ex "target remote 127.0.0.1:$port"
)
if [ "$mode" = read_magic ]; then
  gdb_command+=(
    -ex 'break long_mode_entry'
    -ex 'break kernel_main'
    -ex 'continue'
    -ex 'continue'
    -ex 'info registers rip'
    -ex 'print multiboot2_magic'
    -ex 'print/x multiboot2_magic'
    -ex 'kill'
  )
else
  gdb_command+=(
    -ex 'break _start'
    -ex 'continue'
    -ex "print/x \$eax"
    -ex "set \$eax = $OTHER_LOADER_MAGIC"
    -ex "print/x \$eax"
    -ex 'continue'
  )
fi
gdb_command+=("$elf")
echo "gdb_attach_test: running: ${gdb_command[*]}"
status=0
# gdb wants a cache directory, and a Bazel test has no HOME.
XDG_CACHE_HOME=$work "$TIMEOUT" --kill-after=2 "$GDB_SECONDS" "${gdb_command[@]}" >"$work/gdb.log" 2>&1 || status=$?
sed 's/^/    gdb| /' "$work/gdb.log"

failures=()
if [ $status -eq 124 ] || [ $status -eq 137 ]; then
  failures+=("gdb did not finish within $GDB_SECONDS s (its breakpoint never reached?)")
fi
# gdb -batch keeps going after a failed command, so the output is what counts.
if grep -qE 'No symbol (table is loaded|"multiboot2_magic")' "$work/gdb.log"; then
  failures+=("$elf has no debug information: build it with -c dbg")
fi
if [ "$mode" = read_magic ]; then
  grep -qE '^Breakpoint 1, long_mode_entry \(\) at [^ ]*kernel/arch/x86_64/boot\.asm:[0-9]+' "$work/gdb.log" ||
    failures+=("gdb did not stop at long_mode_entry with its line in boot.asm (no DWARF from NASM?)")
  grep -qE '^Breakpoint 2, (0x[0-9a-f]+ in )?kernel_main \(' "$work/gdb.log" ||
    failures+=("gdb did not stop at the breakpoint in kernel_main")
  grep -qE '^rip +0x[0-9a-f]+ +0x[0-9a-f]+ <kernel_main(\+[0-9]+)?>' "$work/gdb.log" ||
    failures+=("rip is not inside kernel_main")
  grep -qxF "\$1 = $MAGIC_DECIMAL" "$work/gdb.log" ||
    failures+=("multiboot2_magic did not read back as $MAGIC_DECIMAL")
  grep -qxF "\$2 = $MAGIC_HEX" "$work/gdb.log" ||
    failures+=("print/x multiboot2_magic did not read back as $MAGIC_HEX")
  summary="gdb stopped at long_mode_entry in boot.asm, then at kernel_main, and read multiboot2_magic = $MAGIC_HEX ($MAGIC_DECIMAL)"
else
  grep -qE '^Breakpoint 1, _start \(\) at [^ ]*kernel/arch/x86_64/boot\.asm:[0-9]+' "$work/gdb.log" ||
    failures+=("gdb did not stop at _start with its line in boot.asm")
  grep -qxF "\$1 = $MAGIC_HEX" "$work/gdb.log" ||
    failures+=("eax at _start was not the multiboot2 loader magic $MAGIC_HEX")
  grep -qxF "\$2 = $OTHER_LOADER_MAGIC" "$work/gdb.log" ||
    failures+=("gdb did not put $OTHER_LOADER_MAGIC in eax")
  # QEMU exits by itself once the kernel writes the exit port; the runner then ends.
  waited=0
  while kill -0 "$runner_pid" 2>/dev/null && [ $waited -lt $((EXIT_SECONDS * 10)) ]; do
    sleep 0.1
    waited=$((waited + 1))
  done
  runner_status=none
  if kill -0 "$runner_pid" 2>/dev/null; then
    failures+=("QEMU still ran $EXIT_SECONDS s after the kernel went on with $OTHER_LOADER_MAGIC")
  else
    runner_status=0
    wait "$runner_pid" || runner_status=$?
    runner_pid=
  fi
  # The runner's account of the exit, as it prints it after a --gdb session; what status it
  # gives for which exit is its own (qemu_runner_test checks it), but never 0 for a failure.
  if [ "$runner_status" = 0 ]; then
    failures+=("the runner ended with status 0, its status for the kernel's success code")
  fi
  grep -qF "kernel exited with failure code" "$work/runner.log" ||
    failures+=("the runner did not say that the kernel exited with the failure code")
  grep -qF "boot: not loaded by a multiboot2 boot loader" "$work/serial.log" ||
    failures+=("COM1 did not say 'boot: not loaded by a multiboot2 boot loader'")
  if grep -qF "heapkernel: booting" "$work/serial.log"; then
    failures+=("the C kernel ran with another loader's magic")
  fi
  summary="with $OTHER_LOADER_MAGIC in eax at _start, boot.asm said so on COM1 and the kernel exited with the failure code"
fi
elapsed=$((SECONDS - start))

if [ ${#failures[@]} -gt 0 ]; then
  for failure in "${failures[@]}"; do
    echo "gdb_attach_test: FAIL: $failure" >&2
  done
  echo "gdb_attach_test: the runner's output:" >&2
  cat "$work/runner.log" >&2 || true
  echo "gdb_attach_test: serial console:" >&2
  cat "$work/serial.log" >&2 || true
  exit 1
fi
echo "gdb_attach_test: PASS ($mode): $summary in $elapsed s"
