#!/usr/bin/python3
"""Code and data size of one static library alone, per target: the backend of size_report.bzl.

For each target's archive (built -Os with a section per function and per object) it measures
two things, both with ld.lld alone, so no start file, libc or test harness is counted:

  core            what a program calling only the --root functions keeps: `ld.lld -r
                  --gc-sections -u <root>...` drops every section the roots do not reach;
  whole library   every member of the archive, nothing dropped (`ld.lld -r --whole-archive`).

Sizes are bytes from `llvm-size -A`, summed per kind of section:
  text    code (.text*)
  rodata  constants (.rodata*, .srodata*, and .data.rel.ro*: constant once relocated)
  data    initialised writable data (.data*, .sdata*, .tdata*)
  bss     zeroed writable data (.bss*, .sbss*, .tbss*)
Unwind tables (.eh_frame, .ARM.exidx), relocations, notes and debug sections are not counted:
they are not the allocator's code or data, and a bare-metal image usually drops them.

For the --detail targets it lists the core's functions and objects by size (`llvm-nm
--size-sort`) with the archive member (source file) defining each, their sum per member, and the
symbols the core calls outside the library (memset, memcpy, ...).

Usage:
  size_report.py --ld LD --size SIZE --nm NM --out FILE --roots a,b --library LABEL \
      [--detail TARGET]... [--goal TARGET=BYTES:TEXT]... [--must-meet-goals] TARGET=ARCHIVE...
Exit status: 0 with the report written, 1 if a tool failed (its output is printed) or, with
--must-meet-goals, a goal is not met (the report is written, the goal's line printed), 2 on a
command-line error.
"""

import argparse
import os
import subprocess
import sys
import tempfile

# Kinds of section, each with the name prefixes that make it (a prefix matches the name itself or
# the name followed by "."). .data.rel.ro is tried before .data.
KINDS = (
    ("rodata", (".rodata", ".srodata", ".data.rel.ro")),
    ("text", (".text",)),
    ("data", (".data", ".sdata", ".tdata")),
    ("bss", (".bss", ".sbss", ".tbss")),
)
KIND_NAMES = ("text", "rodata", "data", "bss")


def kind_of(section):
    """The kind of a section name ("text", ...), or None for a section not counted."""
    for kind, prefixes in KINDS:
        for prefix in prefixes:
            if section == prefix or section.startswith(prefix + "."):
                return kind
    return None


def sizes_of(size_output):
    """Sums `llvm-size -A` output into {kind: bytes}."""
    totals = dict.fromkeys(KIND_NAMES, 0)
    for line in size_output.splitlines():
        words = line.split()
        if len(words) != 3 or not words[1].isdigit():
            continue
        kind = kind_of(words[0])
        if kind is not None:
            totals[kind] += int(words[1])
    return totals


def run(command):
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.stderr.write("size_report: %s failed (exit %d):\n%s%s" % (
            " ".join(command), result.returncode, result.stdout, result.stderr))
        sys.exit(1)
    return result.stdout


def measure(args, archive, workdir, name):
    """Links the core and the whole library of `archive`; returns their paths."""
    core = os.path.join(workdir, name + ".core.o")
    whole = os.path.join(workdir, name + ".whole.o")
    roots = []
    for root in args.roots:
        roots += ["-u", root]
    run([args.ld, "-r", "--gc-sections"] + roots + [archive, "-o", core])
    run([args.ld, "-r", "--whole-archive", archive, "-o", whole])
    return core, whole


def row(name, core, whole):
    cells = ["%-10s" % name]
    cells += ["%7d" % core[k] for k in KIND_NAMES]
    cells.append("%7d" % sum(core.values()))
    cells.append(" ")
    cells += ["%7d" % whole[k] for k in KIND_NAMES]
    cells.append("%7d" % sum(whole.values()))
    return " ".join(cells)


def members_of(args, archive):
    """{symbol: archive member defining it}; a static name several members define (an inline
    function of a shared header) maps to their names joined by "+"."""
    members = {}
    for line in run([args.nm, "--print-file-name", "--defined-only", archive]).splitlines():
        where, sep, symbol = line.rpartition(": ")
        if not sep or not symbol.split():
            continue
        member = where.rpartition(":")[2]
        name = symbol.split()[-1]
        known = members.get(name, member).split("+")
        members[name] = "+".join(known if member in known else known + [member])
    return members


def detail(args, name, core_object, archive):
    lines = ["", "%s core, by size (llvm-nm --size-sort; t/T code, r/R constants, d/b data):" % name]
    members = members_of(args, archive)
    per_member = {}
    symbols = run([args.nm, "--size-sort", "--print-size", "--defined-only", core_object])
    for line in symbols.splitlines():
        words = line.split()
        if len(words) == 4:
            size, symbol = int(words[1], 16), words[3]
            member = members.get(symbol, "?")
            per_member[member] = per_member.get(member, 0) + size
            lines.append("  %6d  %s %-32s %s" % (size, words[2], symbol, member))
    lines.append("  by source file: " + ", ".join(
        "%s %d" % (member, size)
        for member, size in sorted(per_member.items(), key=lambda item: -item[1])))
    undefined = run([args.nm, "--undefined-only", core_object]).split()
    outside = sorted(word for word in undefined if word != "U")
    lines.append("  calls outside the library (not counted): %s" % (", ".join(outside) or "none"))
    return lines


def parse_target(text):
    name, sep, archive = text.partition("=")
    if not sep or not name or not archive:
        raise argparse.ArgumentTypeError("expected TARGET=ARCHIVE, got %r" % text)
    return name, archive


def parse_goal(text):
    name, sep, rest = text.partition("=")
    limit, sep2, what = rest.partition(":")
    if not sep or not sep2 or not limit.isdigit() or not what:
        raise argparse.ArgumentTypeError("expected TARGET=BYTES:TEXT, got %r" % text)
    return name, int(limit), what


def goal_verdicts(goals, cores):
    """A report line per goal, and whether the target's core text is within it."""
    verdicts = []
    for name, limit, what in goals:
        text = cores[name]["text"]
        verdict = "met" if text <= limit else "NOT met, %d bytes over" % (text - limit)
        verdicts.append(("goal on %s: core text %d bytes, at most %d (%s): %s" % (
            name, text, limit, what, verdict), text <= limit))
    return verdicts


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ld", required=True)
    parser.add_argument("--size", required=True)
    parser.add_argument("--nm", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--library", required=True, help="the library's label, for the title")
    parser.add_argument("--roots", required=True, type=lambda s: [r for r in s.split(",") if r])
    parser.add_argument("--detail", action="append", default=[])
    parser.add_argument("--goal", action="append", default=[], type=parse_goal)
    parser.add_argument("--must-meet-goals", action="store_true",
                        help="a goal not met fails the run (the report is written all the same)")
    parser.add_argument("targets", nargs="+", type=parse_target)
    args = parser.parse_args()
    if not args.roots:
        parser.error("--roots names no function")
    names = [name for name, _ in args.targets]
    for name in args.detail + [goal[0] for goal in args.goal]:
        if name not in names:
            parser.error("%s is not one of the targets %s" % (name, ", ".join(names)))

    lines = [
        "%s: bytes per target, built -Os -ffunction-sections -fdata-sections (-c opt)." % args.library,
        "core: what remains after section garbage collection from the roots",
        "  " + ", ".join(args.roots) + ".",
        "whole: every function of the library. Unwind tables and debug sections not counted.",
        "",
        "%-10s %s   %s" % ("", "core".center(39), "whole".center(39)),
        "%-10s %s   %s" % ("target", " ".join("%7s" % k for k in KIND_NAMES + ("total",)),
                           " ".join("%7s" % k for k in KIND_NAMES + ("total",))),
    ]
    cores = {}
    details = []
    with tempfile.TemporaryDirectory(dir=os.path.dirname(os.path.abspath(args.out))) as workdir:
        for name, archive in args.targets:
            core, whole = measure(args, archive, workdir, name)
            cores[name] = sizes_of(run([args.size, "-A", core]))
            lines.append(row(name, cores[name], sizes_of(run([args.size, "-A", whole]))))
            if name in args.detail:
                details += detail(args, name, core, archive)
    lines += details
    missed = []
    for line, met in goal_verdicts(args.goal, cores):
        lines += ["", line]
        if not met:
            missed.append(line)
    with open(args.out, "w") as out:
        out.write("\n".join(lines) + "\n")
    if args.must_meet_goals and missed:
        for line in missed:
            print("size_report: %s: %s" % (args.library, line), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
