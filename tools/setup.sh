#!/bin/bash
# Installs what building and testing this project needs, from Debian's apt by package name, and
# only what is missing: a second run changes nothing and takes seconds. Run as root (or with sudo)
# from anywhere. Every tool the build uses is named in platforms/host_tools.bzl.
set -euo pipefail

PACKAGES=(
  bazel-bootstrap            # Bazel 4.2.3 (brings a JDK)
  clang-19 lld-19 llvm-19    # compiler, linker, ar/objcopy/nm for host and kernel
  libclang-rt-19-dev         # sanitizers and libFuzzer runtimes (--config=asan/ubsan/fuzz)
  clang-format-19            # C formatting check
  clang-tidy-19              # static analysis of the C sources
  clangd-19                  # editor support over compile_commands.json
  nasm                       # kernel boot code
  grub-common grub-pc-bin grub-efi-amd64-bin xorriso mtools   # bootable ISO (BIOS and UEFI)
  qemu-system-x86 ovmf       # boot tests, legacy BIOS and UEFI
  python3                    # QEMU test runner
  libc6-dev-i386 lib32gcc-12-dev    # i386 Linux tests (tools/cross_test.bzl), run natively
  libc6-dev-arm64-cross libgcc-12-dev-arm64-cross   # aarch64 Linux tests
  libc6-dev-armhf-cross libgcc-12-dev-armhf-cross   # 32-bit Arm (armhf) Linux tests
  libc6-dev-riscv64-cross libgcc-12-dev-riscv64-cross   # riscv64 Linux tests
  libc6-dev-s390x-cross libgcc-12-dev-s390x-cross   # s390x Linux tests (big-endian)
  qemu-user-static           # runs the aarch64, armhf, riscv64 and s390x tests
  picolibc-arm-none-eabi gcc-arm-none-eabi   # Cortex-M4 tests: C library, libgcc
  qemu-system-arm            # runs the Cortex-M4 tests on the mps2-an386 board
  gdb                        # debugging the kernel in QEMU
  libjemalloc-dev libmimalloc-dev libgoogle-perftools-dev   # allocators the benchmark compares against
  valgrind gnuplot-nox zlib1g-dev   # benchmark: instruction counts, chart, reading gzip'ed traces
  nginx-light                # HTTP remote cache for the cache test (WebDAV PUT)
  git ca-certificates
)
BUILDIFIER_VERSION=8.2.1
BUILDIFIER_PREFIX=/opt/buildifier

if [ "$(id -u)" -ne 0 ]; then
  exec sudo "$0" "$@"
fi

missing=()
for package in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

# buildifier ships through npm; any working npm does, Debian's is installed when there is none.
if ! command -v npm >/dev/null 2>&1; then
  missing+=(nodejs npm)
fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "setup: all ${#PACKAGES[@]} Debian packages present"
fi

# buildifier is needed only by the format check (tools/check_format.sh), not to build or test, so
# a registry that cannot be reached is a warning here; the format check fails loudly without it.
if [ "$(cat "$BUILDIFIER_PREFIX/version" 2>/dev/null)" != "$BUILDIFIER_VERSION" ]; then
  echo "setup: installing buildifier $BUILDIFIER_VERSION from npm into $BUILDIFIER_PREFIX"
  rm -rf "$BUILDIFIER_PREFIX"
  mkdir -p "$BUILDIFIER_PREFIX"
  # No retries: an unreachable registry should cost a second, not a minute, on every run.
  if npm install --prefix "$BUILDIFIER_PREFIX" --no-audit --no-fund --loglevel=error --fetch-retries=0 \
    "@bazel/buildifier@$BUILDIFIER_VERSION"; then
    echo "$BUILDIFIER_VERSION" > "$BUILDIFIER_PREFIX/version"
  else
    echo "setup: WARNING: could not install buildifier from the npm registry;" \
      "building and testing work without it, tools/check_format.sh does not" >&2
  fi
else
  echo "setup: buildifier $BUILDIFIER_VERSION present"
fi

echo "setup: done. Next: bazel run //kernel:qemu, then bazel test //..."
