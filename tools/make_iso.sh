#!/bin/bash
# Builds a GRUB 2 rescue ISO that boots one multiboot2 kernel immediately, bit-identical for the
# same inputs: every file date and the volume dates are pinned.
#   GRUB_MKRESCUE=... XORRISO=... MFORMAT=... MCOPY=... make_iso.sh OUTPUT.iso KERNEL.elf
#     [KERNEL_COMMAND_LINE [GRUB_COMMANDS]]
# GRUB_COMMANDS: GRUB commands, one a line, run before the kernel is loaded (a test's changes to
# the memory map GRUB passes on, say).
# The grub_iso rule (tools/kernel.bzl) sets the four tool paths from //platforms:host_tools.bzl,
# whose check has found them (and GRUB's BIOS and EFI images) installed.
set -euo pipefail

: "${GRUB_MKRESCUE:?not set: make_iso.sh runs from the grub_iso rule}"
: "${XORRISO:?not set: make_iso.sh runs from the grub_iso rule}"
: "${MFORMAT:?not set: make_iso.sh runs from the grub_iso rule}"
: "${MCOPY:?not set: make_iso.sh runs from the grub_iso rule}"
# 2000-01-01 00:00:00 UTC: any fixed date does; this one reads as "not a real date". xorriso takes
# it as seconds since the epoch ("=N") and, for "uuid", as the 16 digits YYYYMMDDhhmmsscc in GMT.
FIXED_EPOCH=946684800
# The build machine's own settings stay out of the image: dates in UTC (this one, and the EFI
# partition's FAT dates, which mformat and mcopy write in local time), whatever /etc/localtime says.
export SOURCE_DATE_EPOCH=$FIXED_EPOCH TZ=UTC0 LC_ALL=C
printf -v FIXED_DATE '%(%Y%m%d%H%M%S)T00' "$FIXED_EPOCH"

output=$1
kernel=$2
cmdline=${3:-}
grub_commands=${4:-}

work=$(mktemp -d "${TMPDIR:-/tmp}/make_iso.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/root/boot/grub"
cp "$kernel" "$work/root/boot/kernel.elf"
{
  printf 'set timeout=0\nset default=0\nmenuentry "heapkernel" {\n'
  # No line at all without commands: the menu entry reads as it did before they could be given.
  [ -z "$grub_commands" ] || printf '%s\n' "$grub_commands"
  printf '    multiboot2 /boot/kernel.elf %s\n    boot\n}\n' "$cmdline"
} >"$work/root/boot/grub/grub.cfg"

# grub-mkrescue makes the EFI system partition image with mformat and mcopy, which it looks up on
# PATH. PATH holds only these two wrappers, so each runs its pinned path and any other program
# grub-mkrescue would look up is an error, not whatever the action's PATH holds. mformat would pick
# a random FAT volume serial number; its wrapper pins it (the only byte difference between builds).
mkdir "$work/bin"
cat > "$work/bin/mformat" <<SHIM
#!/bin/sh
exec $MFORMAT -N 484b524e "\$@"
SHIM
cat > "$work/bin/mcopy" <<SHIM
#!/bin/sh
exec $MCOPY "\$@"
SHIM
chmod +x "$work/bin/mformat" "$work/bin/mcopy"

# grub-mkrescue copies in every GRUB translation, font and theme the machine has installed unless
# told which: none (the menu is never shown, and its one line is the kernel's).
if ! PATH="$work/bin" "$GRUB_MKRESCUE" --xorriso="$XORRISO" --locales= --fonts= --themes= \
  -o "$output" "$work/root" -- \
  -volume_date all_file_dates "=$FIXED_EPOCH" \
  -volume_date uuid "$FIXED_DATE" \
  -volume_date c "=$FIXED_EPOCH" -volume_date m "=$FIXED_EPOCH" \
  -volume_date x "=$FIXED_EPOCH" -volume_date f "=$FIXED_EPOCH" \
  >"$work/log" 2>&1; then
  cat "$work/log" >&2
  exit 1
fi
