#!/usr/bin/python3
"""Boot a kernel ISO under QEMU and decide pass or fail from its serial console.

This is the backend of the `qemu_test` Bazel rule (and of `bazel run` targets that boot
the kernel). The kernel reports through two channels only:

  * lines on COM1, which QEMU hands to us on its stdout (`-serial stdio`);
  * a value written to the port of QEMU's `isa-debug-exit` device (--debug-exit-port),
    which makes QEMU exit with status (value << 1) | 1; --success-code and --failure-code
    are those statuses for the kernel's two verdicts.

A test passes when every `--expect` regular expression has matched a console line, in
order, each on a line after the one that matched the previous, and the kernel then exits
with the expected code. A group an expected line captures by name, `(?P<cpu>...)`, may be
referred to by a later one as `(?P=cpu)`: that line must hold the same text. Everything
else ends the run early with one line

    qemu_test: FAIL: <what went wrong> (QEMU ran X.XX s)

(timeout, a console that went silent, a panic line, a triple fault or reset, a wrong
exit code, QEMU ending before an expected line appeared); a pass prints

    qemu_test: PASS: N expected lines matched, kernel exited with success code C in X.XX s

Exit status of this script: 0 on pass, 1 on fail, 2 on a command-line error. In
`--interactive` mode (for `bazel run`): 0 if the kernel exited with the success code,
1 with the failure code, 2 otherwise.

QEMU runs in its own process group, which is always killed when this script ends,
including on SIGTERM/SIGINT/SIGHUP (Bazel's test timeout), and Linux kills QEMU if this
script dies without cleaning up (PR_SET_PDEATHSIG). The one exception is --interactive
on a terminal: there QEMU stays in the terminal's foreground process group, so that it
can read the keyboard and Ctrl-C reaches it.

Triple faults: QEMU runs with -no-reboot, so a guest reset ends QEMU with status 0. When
the QMP control channel is up, the runner switches QEMU to pause on that shutdown, reads
the CPU registers (the state at the fault) and then quits QEMU, so the verdict can name
RIP, CR2 and friends. `-d cpu_reset` tells a triple fault from a deliberate reset.

The pure parts (console line splitting, the expectation matcher, exit-status
interpretation, verdicts, the QMP conversation, the QEMU command line) are separate from
the process handling so that tools/qemu_runner_test.py can test them on the host.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import dataclasses
import enum
import json
import os
import re
import selectors
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from typing import BinaryIO, Callable, Mapping, Sequence

VERDICT_PREFIX = "qemu_test: "
INTERACTIVE_PREFIX = "qemu_run: "
# The runner has no defaults for the machine's facts: tools/qemu.bzl passes the tool paths from
# //platforms:host_tools.bzl, the debug-exit port and codes from kernel/arch/x86_64/machine.bzl,
# the machine, CPU and memory (its rule's attributes) and the silence limit; the overall deadline
# comes from Bazel's TEST_TIMEOUT.
GDB_PORT = 1234  # QEMU's own default for -s
# The runner gives its verdict this long before Bazel's test timeout kills it (at most half of it).
TEST_TIMEOUT_MARGIN_SECONDS = 5.0
# After a panic line, keep reading this long (or until QEMU exits) so the rest of the
# report (registers, backtrace) lands in the log before QEMU is killed.
PANIC_GRACE_SECONDS = 1.0
# How long QEMU gets to exit after SIGTERM before its process group gets SIGKILL.
KILL_GRACE_SECONDS = 1.0
# A console "line" longer than this without a newline is cut and handled anyway.
MAX_LINE_BYTES = 16 * 1024
SERIAL_LOG_NAME = "serial.log"


# --------------------------------------------------------------------------------------
# Console text
# --------------------------------------------------------------------------------------

# ANSI escape sequences (firmware and GRUB paint the screen with them): CSI sequences
# such as "\x1b[2J" or "\x1b[=3h", and two-byte escapes such as "\x1bc".
_ANSI_ESCAPE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|[@-Z\\-_])")
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def clean_console_text(raw: str) -> str:
    """Returns `raw` without ANSI escape sequences and control characters (tab kept)."""
    return _CONTROL_CHARS.sub("", _ANSI_ESCAPE.sub("", raw))


class LineSplitter:
    """Turns chunks of serial bytes into cleaned text lines.

    Lines end at "\\n"; "\\r" and escape sequences are dropped. A partial line stays
    buffered until its newline arrives, `flush()` is called, or it grows past
    `max_line_bytes`.
    """

    def __init__(self, max_line_bytes: int = MAX_LINE_BYTES) -> None:
        self._pending = b""
        self._max_line_bytes = max_line_bytes

    def feed(self, data: bytes) -> list[str]:
        """Returns the complete lines that `data` finishes, in order."""
        self._pending += data
        *complete, self._pending = self._pending.split(b"\n")
        lines = [self._decode(raw) for raw in complete]
        while len(self._pending) > self._max_line_bytes:
            lines.append(self._decode(self._pending[: self._max_line_bytes]))
            self._pending = self._pending[self._max_line_bytes :]
        return lines

    def flush(self) -> list[str]:
        """Returns the buffered partial line (if it has any text) and forgets it."""
        raw, self._pending = self._pending, b""
        line = self._decode(raw)
        return [line] if line.strip() else []

    @staticmethod
    def _decode(raw: bytes) -> str:
        return clean_console_text(raw.decode("utf-8", errors="replace"))


# --------------------------------------------------------------------------------------
# Expectations
# --------------------------------------------------------------------------------------


# A named group that an expected line captures, `(?P<name>...)`, may be referred to by a later
# expected line as `(?P=name)`: that line must then hold the very text the earlier one captured.
# Python's re refers to groups within one pattern only, so the matcher puts the captured text,
# escaped, in place of the reference before the later line is searched for (bind_references).
_NAMED_GROUP = re.compile(r"\(\?P<(\w+)>")
_GROUP_REFERENCE = re.compile(r"\(\?P=(\w+)\)")


def bind_references(text: str, captured: Mapping[str, str | None]) -> str:
    """Returns `text` with each `(?P=name)` of a group it does not define itself replaced by the
    escaped text that an earlier expected line captured as `name`, or by a pattern that matches
    nothing where that line's group took no part in its match (None); left as it is if no
    earlier line has `name`."""
    own = set(_NAMED_GROUP.findall(text))

    def replace(reference: re.Match[str]) -> str:
        name = reference.group(1)
        if name in own or name not in captured:
            return reference.group(0)
        value = captured[name]
        return "(?!)" if value is None else re.escape(value)

    return _GROUP_REFERENCE.sub(replace, text)


def expectations_problem(texts: Sequence[str]) -> str | None:
    """Returns why the expected lines cannot be used (one that is no regular expression, or
    that refers to a group neither it nor an earlier line names), or None."""
    names: set[str] = set()
    for number, text in enumerate(texts, 1):
        try:
            re.compile(bind_references(text, {name: "" for name in names}))
        except re.error as error:
            return f"expected line {number}: bad regular expression /{text}/: {error}"
        names.update(_NAMED_GROUP.findall(text))
    return None


@dataclasses.dataclass(frozen=True)
class Expectation:
    """One `--expect` regular expression (references to earlier lines' groups bound) and its
    1-based position."""

    number: int
    pattern: re.Pattern[str]

    def describe(self) -> str:
        """Returns e.g. "expected line 2: /Booting/"."""
        return f"expected line {self.number}: /{self.pattern.pattern}/"


class LineKind(enum.Enum):
    MATCHED = "matched the next expected line"
    PANIC = "matched the panic regex"
    OTHER = "nothing to note"


@dataclasses.dataclass(frozen=True)
class MatchProgress:
    """A snapshot of the matcher: what matched, what is awaited, the first panic line."""

    matched: int
    total: int
    pending: Expectation | None
    panic_line: str | None
    last_line: str | None

    @property
    def all_matched(self) -> bool:
        return self.pending is None


class ExpectationMatcher:
    """Matches console lines against ordered expectations and a panic regex.

    Each line can satisfy at most one expectation: the next pending one (re.search), with
    the groups earlier expectations captured by name bound into it (bind_references).
    A line matching `panic_regex` (None disables it) is recorded as the panic line and
    does not advance the expectations.
    """

    def __init__(self, expectations: Sequence[str], panic_regex: str | None) -> None:
        problem = expectations_problem(expectations)
        if problem is not None:
            raise ValueError(problem)
        self._texts = list(expectations)
        self._captured: dict[str, str | None] = {}
        self._panic = re.compile(panic_regex) if panic_regex else None
        self._matched = 0
        self._pending = self._expectation(0)
        self._panic_line: str | None = None
        self._last_line: str | None = None

    def _expectation(self, index: int) -> Expectation | None:
        if index >= len(self._texts):
            return None
        bound = bind_references(self._texts[index], self._captured)
        return Expectation(index + 1, re.compile(bound))

    def feed(self, line: str) -> LineKind:
        """Consumes one console line; returns what it meant."""
        if line.strip():
            self._last_line = line
        if self._panic is not None and self._panic.search(line):
            if self._panic_line is None:
                self._panic_line = line
            return LineKind.PANIC
        if self._pending is not None:
            match = self._pending.pattern.search(line)
            if match:
                self._captured.update(match.groupdict())
                self._matched += 1
                self._pending = self._expectation(self._matched)
                return LineKind.MATCHED
        return LineKind.OTHER

    def progress(self) -> MatchProgress:
        """Returns a snapshot of the current state."""
        return MatchProgress(
            matched=self._matched,
            total=len(self._texts),
            pending=self._pending,
            panic_line=self._panic_line,
            last_line=self._last_line,
        )


# --------------------------------------------------------------------------------------
# Exit status and verdicts
# --------------------------------------------------------------------------------------


class ExitKind(enum.Enum):
    SUCCESS = "kernel exited with the success code"
    FAILURE = "kernel exited with the failure code"
    RESET = "QEMU exited with status 0: guest reset (triple fault) or shutdown"
    KILLED = "QEMU was killed by a signal"
    OTHER = "any other status"


def classify_exit_status(status: int, success_code: int, failure_code: int) -> ExitKind:
    """Returns what a QEMU exit status (Popen.returncode) means."""
    if status == success_code:
        return ExitKind.SUCCESS
    if status == failure_code:
        return ExitKind.FAILURE
    if status == 0:
        return ExitKind.RESET
    if status < 0:
        return ExitKind.KILLED
    return ExitKind.OTHER


def describe_other_status(status: int) -> str:
    """Returns "unexpected QEMU exit status N", naming the debug-exit value if any."""
    text = f"unexpected QEMU exit status {status}"
    if status > 1 and status & 1:
        text += f" (debug-exit value {status >> 1:#x})"
    return text


class Ending(enum.Enum):
    EXITED = "QEMU exited by itself"
    TIMEOUT = "overall timeout"
    SILENCE = "console silent too long"
    PANIC = "panic line seen"
    INTERRUPTED = "the runner got a termination signal"


@dataclasses.dataclass(frozen=True)
class GuestStop:
    """What QMP and the QEMU log said about a guest-initiated stop (status 0)."""

    reason: str | None = None  # QMP SHUTDOWN reason, e.g. "guest-reset"
    triple_fault_logged: bool = False
    registers: str | None = None  # `info registers` text


@dataclasses.dataclass(frozen=True)
class RunOutcome:
    """How one QEMU run ended, as observed by the process-handling code."""

    ending: Ending
    elapsed: float
    exit_status: int | None = None
    signal_number: int | None = None
    serial_bytes: int = 0
    guest_stop: GuestStop = GuestStop()
    qemu_stderr_tail: str | None = None


@dataclasses.dataclass(frozen=True)
class Policy:
    """What counts as a pass."""

    success_code: int
    failure_code: int
    expect_failure_exit: bool = False
    timeout: float | None = None
    silence_timeout: float | None = None


@dataclasses.dataclass(frozen=True)
class Verdict:
    """The result of a run: pass or fail, why, and QEMU's wall time in seconds."""

    passed: bool
    message: str
    elapsed: float

    def line(self) -> str:
        """Returns the one-line verdict, wall time included."""
        if self.passed:
            return f"{VERDICT_PREFIX}PASS: {self.message} in {self.elapsed:.2f} s"
        return f"{VERDICT_PREFIX}FAIL: {self.message} (QEMU ran {self.elapsed:.2f} s)"


def format_seconds(seconds: float) -> str:
    """Returns 30 as "30" and 0.5 as "0.5"."""
    return f"{seconds:g}"


def summarize_registers(dump: str) -> str:
    """Returns the key registers from QEMU's `info registers` text, e.g.
    "RIP=ffffffff80001000 RSP=... CR2=... CR3=... IDT=base/limit"; "" if none found."""
    parts = []
    for names in (("RIP", "EIP"), ("RSP", "ESP"), ("CR2",), ("CR3",)):
        for name in names:
            found = re.search(rf"\b{name}=([0-9a-fA-F]+)", dump)
            if found:
                parts.append(f"{name}={found.group(1)}")
                break
    idt = re.search(r"\bIDT=\s*([0-9a-fA-F]+)\s+([0-9a-fA-F]+)", dump)
    if idt:
        parts.append(f"IDT={idt.group(1)}/{idt.group(2)}")
    return " ".join(parts)


def integer_register_lines(dump: str) -> list[str]:
    """Returns the non-empty lines of an `info registers` dump up to the FPU state."""
    lines = []
    for line in dump.splitlines():
        if line.startswith(("FCW=", "FPR", "XMM", "YMM")):
            break
        if line.strip():
            lines.append(line.rstrip())
    return lines


def _count_lines(count: int) -> str:
    return f"{count} expected line" + ("" if count == 1 else "s")


def _waiting_for(progress: MatchProgress) -> str:
    if progress.pending is not None:
        return f"still waiting for {progress.pending.describe()}"
    return f"{_count_lines(progress.total)} matched, still waiting for the kernel to exit"


def _never_appeared(progress: MatchProgress) -> str:
    assert progress.pending is not None
    pending = progress.pending
    return f"expected line {pending.number} never appeared: /{pending.pattern.pattern}/"


def _reset_message(stop: GuestStop) -> str:
    if stop.reason == "guest-shutdown":
        text = "guest powered off (QEMU exited with status 0 without a debug-exit)"
    else:
        text = "triple fault or reset (QEMU exited with status 0 without a debug-exit)"
    if stop.triple_fault_logged:
        text += "; QEMU logged a triple fault"
    summary = summarize_registers(stop.registers or "")
    if summary:
        text += f"; CPU state: {summary}"
    return text


# The kernel's log lines start with their sequence number, "[0042] INFO  ...". The last of a run
# that exits is its summary or a PANIC line (README): the kernel keeps the log after either, so a
# line of another CPU's after it, even a part of one, is a defect of the kernel's. Lines without the
# prefix (boot.asm's refusals, written before the log exists) are not the log's.
KERNEL_LOG_LINE = re.compile(r"^\[\d")
KERNEL_LAST_LINE = re.compile(r"^\[\d+\] (?:PANIC \S|\S+\s+summary: )")


def last_line_problem(last_line: str | None) -> str | None:
    """Returns why `last_line`, a run's last console line, cannot end it, or None."""
    if last_line is None or not KERNEL_LOG_LINE.match(last_line):
        return None
    if KERNEL_LAST_LINE.match(last_line):
        return None
    return f"the kernel's last line is neither its summary nor a PANIC line: {last_line.strip()!r}"


def decide_verdict(outcome: RunOutcome, progress: MatchProgress, policy: Policy) -> Verdict:
    """Returns the verdict for a finished run. Pure: no I/O."""

    def fail(message: str) -> Verdict:
        return Verdict(False, message, outcome.elapsed)

    if outcome.ending == Ending.INTERRUPTED:
        name = signal.Signals(outcome.signal_number).name if outcome.signal_number else "a signal"
        return fail(f"interrupted by {name} (test timeout?); {_waiting_for(progress)}")
    if progress.panic_line is not None and not policy.expect_failure_exit:
        return fail(f"kernel panic: {progress.panic_line.strip()}")
    if outcome.ending == Ending.TIMEOUT:
        assert policy.timeout is not None
        return fail(f"timeout after {format_seconds(policy.timeout)} s; {_waiting_for(progress)}")
    if outcome.ending == Ending.SILENCE:
        assert policy.silence_timeout is not None
        text = f"console silent for {format_seconds(policy.silence_timeout)} s"
        if outcome.serial_bytes == 0:
            text += " (no serial output at all)"
        text += f"; {_waiting_for(progress)}"
        if progress.last_line is not None:
            text += f"; last line: {progress.last_line.strip()!r}"
        return fail(text)

    assert outcome.exit_status is not None
    status = outcome.exit_status
    kind = classify_exit_status(status, policy.success_code, policy.failure_code)
    missing = "" if progress.all_matched else f"; {_never_appeared(progress)}"
    expected_kind = ExitKind.FAILURE if policy.expect_failure_exit else ExitKind.SUCCESS
    if kind == expected_kind:
        last_problem = last_line_problem(progress.last_line)
        if progress.all_matched and last_problem is not None:
            return fail(f"{last_problem} (kernel exited with code {status})")
        if progress.all_matched:
            code_text = (
                f"failure code {status} as expected"
                if policy.expect_failure_exit
                else f"success code {status}"
            )
            return Verdict(
                True,
                f"{_count_lines(progress.total)} matched, kernel exited with {code_text}",
                outcome.elapsed,
            )
        code_name = "failure" if policy.expect_failure_exit else "success"
        return fail(f"{_never_appeared(progress)} (kernel exited with {code_name} code {status})")
    if kind == ExitKind.SUCCESS:
        return fail(
            f"kernel exited with success code {status}, expected failure code "
            f"{policy.failure_code}{missing}"
        )
    if kind == ExitKind.FAILURE:
        text = f"kernel exited with failure code {status}"
        if progress.last_line is not None:
            text += f" (last line: {progress.last_line.strip()!r})"
        return fail(text + missing)
    if kind == ExitKind.RESET:
        return fail(_reset_message(outcome.guest_stop) + missing)
    if kind == ExitKind.KILLED:
        return fail(f"QEMU was killed by signal {signal.Signals(-status).name}{missing}")
    text = describe_other_status(status)
    if outcome.qemu_stderr_tail:
        text += f"; QEMU said: {outcome.qemu_stderr_tail}"
    return fail(text + missing)


def apply_expected_verdict(verdict: Verdict, expected_regex: str) -> Verdict:
    """Inverts a verdict for tests of the rule itself.

    Returns a pass when `verdict` is a failure whose message starts with a match of
    `expected_regex` (re.match: text the message quotes from the kernel's console, such as its
    last line, cannot match), and a failure otherwise."""
    if verdict.passed:
        return Verdict(
            False,
            f"expected a failure matching /{expected_regex}/, but the run passed: "
            f"{verdict.message}",
            verdict.elapsed,
        )
    if re.match(expected_regex, verdict.message):
        return Verdict(
            True,
            f"the run failed as expected (/{expected_regex}/ matched its verdict)",
            verdict.elapsed,
        )
    return Verdict(
        False,
        f"the run failed, but /{expected_regex}/ does not match its verdict: {verdict.message}",
        verdict.elapsed,
    )


def interactive_exit_code(status: int, success_code: int, failure_code: int) -> int:
    """Returns the `--interactive` exit code: 0 success code, 1 failure code, 2 else."""
    kind = classify_exit_status(status, success_code, failure_code)
    return {ExitKind.SUCCESS: 0, ExitKind.FAILURE: 1}.get(kind, 2)


# --------------------------------------------------------------------------------------
# QMP (QEMU's JSON control channel)
# --------------------------------------------------------------------------------------


class QmpSession:
    """The runner's side of the QMP conversation, as a state machine without I/O.

    Feed each message QEMU sends to `on_message`; send back the commands it returns.
    The conversation: negotiate capabilities, ask QEMU to pause (not exit) when the guest
    shuts down or resets, and on such a SHUTDOWN read the registers and quit QEMU.
    """

    def __init__(self) -> None:
        self.shutdown_reason: str | None = None
        self.registers: str | None = None
        self.pause_on_shutdown = False

    def on_message(self, message: dict) -> list[dict]:
        """Returns the commands to send in answer to `message`."""
        if "QMP" in message:
            return [{"execute": "qmp_capabilities", "id": "capabilities"}]
        reply_to = message.get("id")
        if reply_to == "capabilities" and "return" in message:
            return [
                {
                    "execute": "set-action",
                    "arguments": {"reboot": "shutdown", "shutdown": "pause"},
                    "id": "set-action",
                }
            ]
        if reply_to == "set-action":
            self.pause_on_shutdown = "return" in message
            return []
        if reply_to == "registers":
            self.registers = str(message.get("return", ""))
            return [{"execute": "quit", "id": "quit"}]
        if message.get("event") == "SHUTDOWN":
            data = message.get("data", {})
            if data.get("guest") and self.shutdown_reason is None:
                self.shutdown_reason = data.get("reason")
                if self.pause_on_shutdown:
                    return [
                        {
                            "execute": "human-monitor-command",
                            "arguments": {"command-line": "info registers"},
                            "id": "registers",
                        }
                    ]
        return []


# --------------------------------------------------------------------------------------
# Configuration and the QEMU command line
# --------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class QemuConfig:
    """The machine to boot: everything that shapes QEMU's command line."""

    qemu: str
    iso: str
    debug_exit_port: int
    memory: str
    machine: str
    cpu: str
    firmware: str = "bios"
    ovmf_code: str | None = None
    ovmf_vars: str | None = None
    extra_flags: tuple[str, ...] = ()
    gdb: bool = False
    gdb_port: int = GDB_PORT


def build_qemu_command(
    config: QemuConfig,
    *,
    ovmf_vars_copy: str | None = None,
    qmp_fd: int | None = None,
    reset_log: str | None = None,
) -> list[str]:
    """Returns QEMU's argv. `ovmf_vars_copy` (a writable copy of the OVMF variable store)
    is required for UEFI; `qmp_fd` is a connected socket QEMU inherits for QMP;
    `reset_log` receives `-d cpu_reset` output unless the extra flags set -d or -D."""
    # An -accel among the extra flags (such as multi-threaded TCG for -smp) replaces the default.
    accel = [] if "-accel" in config.extra_flags else ["-accel", "tcg"]
    command = [
        config.qemu,
        "-machine", config.machine,
        "-cpu", config.cpu,
        *accel,
        "-m", config.memory,
        "-display", "none",
        "-no-reboot",
        "-serial", "stdio",
        "-nic", "none",
        "-device", f"isa-debug-exit,iobase={config.debug_exit_port:#x},iosize=0x04",
    ]  # fmt: skip
    if config.firmware == "uefi":
        if ovmf_vars_copy is None:
            raise ValueError("UEFI needs a writable copy of the OVMF variable store")
        command += [
            "-drive", f"if=pflash,format=raw,unit=0,readonly=on,file={config.ovmf_code}",
            "-drive", f"if=pflash,format=raw,unit=1,file={ovmf_vars_copy}",
        ]  # fmt: skip
    command += ["-boot", "d", "-cdrom", config.iso]
    if qmp_fd is not None:
        command += ["-chardev", f"socket,id=qmp0,fd={qmp_fd}", "-mon", "chardev=qmp0,mode=control"]
    if reset_log is not None and not {"-d", "-D"} & set(config.extra_flags):
        command += ["-d", "cpu_reset", "-D", reset_log]
    if config.gdb:
        if config.gdb_port == GDB_PORT:
            command += ["-s", "-S"]
        else:
            command += ["-gdb", f"tcp:127.0.0.1:{config.gdb_port}", "-S"]
    command += config.extra_flags
    return command


def gdb_hint(hint: str | None, kernel_elf: str | None, port: int = GDB_PORT) -> str:
    """Returns the command a developer runs to attach gdb to QEMU's stub."""
    if hint:
        return hint
    target = f"-ex 'target remote localhost:{port}'"
    if kernel_elf:
        return f"gdb {shlex.quote(os.path.abspath(kernel_elf))} {target}"
    return f"gdb {target}"


# --------------------------------------------------------------------------------------
# Process handling
# --------------------------------------------------------------------------------------

_PR_SET_PDEATHSIG = 1
_HANDLED_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def _die_with_parent_hook(death_signal: int) -> Callable[[], None] | None:
    """Returns a preexec_fn that makes the child get `death_signal` when this process
    dies (Linux prctl), or None where prctl is unavailable."""
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def hook() -> None:
        prctl(_PR_SET_PDEATHSIG, death_signal, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)

    return hook


def _has_exited(process: subprocess.Popen) -> bool:
    """Returns whether `process` has ended, without reaping it (so its process-group id
    stays reserved for a final killpg)."""
    if process.returncode is not None:
        return True
    try:
        info = os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return True
    return info is not None


def stop_process_group(
    process: subprocess.Popen, grace: float = KILL_GRACE_SECONDS, own_group: bool = True
) -> int:
    """Ends `process` and, if it leads its own process group (`own_group`), everything in
    that group; returns its exit status.

    SIGTERM first, SIGKILL after `grace` seconds; the SIGKILL is sent in any case before
    the leader is reaped (its pid and group id stay reserved until then), so no helper it
    started outlives the run."""
    send = _signal_group if own_group else _signal_process
    if process.returncode is None:
        if not _has_exited(process):
            send(process.pid, signal.SIGTERM)
            deadline = time.monotonic() + grace
            while not _has_exited(process) and time.monotonic() < deadline:
                time.sleep(0.01)
        send(process.pid, signal.SIGKILL)
    return process.wait()


def _signal_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def _signal_process(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except (ProcessLookupError, PermissionError):
        pass


class _SignalCatcher:
    """While active, turns SIGTERM/SIGINT/SIGHUP into bytes on a socket the event loop
    selects on (signal.set_wakeup_fd), instead of killing the runner mid-run."""

    def __init__(self) -> None:
        self.reader, self._writer = socket.socketpair()
        self.reader.setblocking(False)
        self._writer.setblocking(False)
        self._previous_handlers: dict[int, object] = {}
        self._previous_wakeup_fd = -1

    def __enter__(self) -> "_SignalCatcher":
        for signum in _HANDLED_SIGNALS:
            # A Python handler (not SIG_IGN) so children get the default action back.
            self._previous_handlers[signum] = signal.signal(signum, lambda *_: None)
        self._previous_wakeup_fd = signal.set_wakeup_fd(self._writer.fileno())
        return self

    def __exit__(self, *exc_info: object) -> None:
        signal.set_wakeup_fd(self._previous_wakeup_fd)
        for signum, handler in self._previous_handlers.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]
        self.reader.close()
        self._writer.close()

    def received(self) -> int | None:
        """Returns the number of a signal that arrived, if any."""
        try:
            data = self.reader.recv(64)
        except BlockingIOError:
            return None
        return data[-1] if data else None


class _QmpChannel:
    """Non-blocking JSON-lines transport around a QmpSession."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.session = QmpSession()
        self._buffer = b""

    def on_readable(self) -> bool:
        """Handles incoming messages; returns False once the channel is closed."""
        try:
            data = self.sock.recv(65536)
        except BlockingIOError:
            return True
        except OSError:
            data = b""
        if not data:
            return False
        *lines, self._buffer = (self._buffer + data).split(b"\n")
        for raw in lines:
            try:
                message = json.loads(raw)
            except ValueError:
                continue
            if not isinstance(message, dict):
                continue
            for command in self.session.on_message(message):
                try:
                    self.sock.sendall(json.dumps(command).encode() + b"\n")
                except OSError:
                    return False
        return True


class _ConsoleWatch:
    """The state of one run's event loop: console lines, QEMU's stderr, the deadlines."""

    def __init__(
        self,
        matcher: ExpectationMatcher,
        policy: Policy,
        echo: Callable[[str], None],
        serial_log: BinaryIO | None,
        start: float,
    ) -> None:
        self._matcher = matcher
        self._policy = policy
        self._echo = echo
        self._serial_log = serial_log
        self._splitter = LineSplitter()
        self._deadline = start + policy.timeout if policy.timeout else None
        self._last_output = start
        self._panic_deadline: float | None = None
        self.serial_bytes = 0
        self.stderr_lines: list[str] = []

    def _deadlines(self) -> list[tuple[float, Ending]]:
        silence = self._policy.silence_timeout
        candidates = [
            (self._panic_deadline, Ending.PANIC),
            (self._deadline, Ending.TIMEOUT),
            (self._last_output + silence if silence else None, Ending.SILENCE),
        ]
        return [(when, ending) for when, ending in candidates if when is not None]

    def expired(self, now: float) -> Ending | None:
        """Returns the deadline that has passed at `now` (a panic's grace first), if any."""
        for when, ending in self._deadlines():
            if now >= when:
                return ending
        return None

    def seconds_to_next_deadline(self, now: float) -> float | None:
        """Returns how long the event loop may sleep; None for no deadline at all."""
        waits = [when - now for when, _ in self._deadlines()]
        return min(waits) if waits else None

    def on_serial(self, data: bytes, now: float) -> None:
        """Logs, echoes and matches a chunk of console output."""
        self.serial_bytes += len(data)
        self._last_output = now
        if self._serial_log is not None:
            self._serial_log.write(data)
            self._serial_log.flush()
        self._handle_lines(self._splitter.feed(data), now)

    def on_stderr(self, data: bytes) -> None:
        """Passes QEMU's own messages through and keeps them for the verdict."""
        text = data.decode("utf-8", errors="replace")
        sys.stderr.write(text)
        sys.stderr.flush()
        self.stderr_lines += [line.strip() for line in text.splitlines() if line.strip()]

    def finish(self, now: float) -> None:
        """Handles a last line that never got its newline."""
        self._handle_lines(self._splitter.flush(), now)

    def _handle_lines(self, lines: list[str], now: float) -> None:
        for line in lines:
            self._echo(line)
            if self._matcher.feed(line) == LineKind.PANIC and self._panic_deadline is None:
                self._panic_deadline = now + PANIC_GRACE_SECONDS


def watch_qemu(
    command: Sequence[str],
    matcher: ExpectationMatcher,
    policy: Policy,
    *,
    echo: Callable[[str], None],
    serial_log: BinaryIO | None = None,
    qmp: _QmpChannel | None = None,
    qmp_child_socket: socket.socket | None = None,
    reset_log: str | None = None,
) -> RunOutcome:
    """Runs QEMU, feeds its console to `matcher`, stops it at the first decisive event.

    Each console line goes to `echo`, the raw bytes to `serial_log`. `qmp_child_socket`
    is QEMU's end of the QMP channel: passed to QEMU, then closed here. Returns how the
    run ended; QEMU and its process group are gone when this returns. Raises OSError if
    QEMU cannot be started."""
    signal_number: int | None = None
    with contextlib.ExitStack() as stack:
        signals = stack.enter_context(_SignalCatcher())
        selector = stack.enter_context(selectors.DefaultSelector())
        start = time.monotonic()
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            pass_fds=(qmp_child_socket.fileno(),) if qmp_child_socket is not None else (),
            preexec_fn=_die_with_parent_hook(signal.SIGKILL),
        )
        stack.enter_context(process)  # closes the pipes at the end
        if qmp_child_socket is not None:
            qmp_child_socket.close()
        watch = _ConsoleWatch(matcher, policy, echo, serial_log, start)
        try:
            assert process.stdout is not None and process.stderr is not None
            selector.register(process.stdout, selectors.EVENT_READ, "serial")
            selector.register(process.stderr, selectors.EVENT_READ, "stderr")
            selector.register(signals.reader, selectors.EVENT_READ, "signal")
            if qmp is not None:
                qmp.sock.setblocking(False)
                selector.register(qmp.sock, selectors.EVENT_READ, "qmp")
            open_streams = 2
            while True:
                now = time.monotonic()
                ending = watch.expired(now)
                if ending is None and open_streams == 0 and _has_exited(process):
                    ending = Ending.EXITED
                if ending is not None:
                    break
                wait = watch.seconds_to_next_deadline(now)
                if open_streams == 0:  # QEMU closed its output: poll for its exit
                    wait = 0.01 if wait is None else min(wait, 0.01)
                for key, _ in selector.select(wait):
                    if key.data == "signal":
                        signal_number = signals.received()
                    elif key.data == "qmp":
                        assert qmp is not None
                        if not qmp.on_readable():
                            selector.unregister(qmp.sock)
                    else:
                        data = os.read(key.fd, 65536)
                        if not data:
                            selector.unregister(key.fileobj)
                            open_streams -= 1
                        elif key.data == "serial":
                            watch.on_serial(data, time.monotonic())
                        else:
                            watch.on_stderr(data)
                if signal_number is not None:
                    ending = Ending.INTERRUPTED
                    break
            elapsed = time.monotonic() - start
        finally:
            status = stop_process_group(process)
        watch.finish(time.monotonic())

    session = qmp.session if qmp is not None else None
    return RunOutcome(
        ending=ending,
        elapsed=elapsed,
        exit_status=status if ending == Ending.EXITED else None,
        signal_number=signal_number,
        serial_bytes=watch.serial_bytes,
        guest_stop=GuestStop(
            reason=session.shutdown_reason if session else None,
            triple_fault_logged=_log_mentions_triple_fault(reset_log),
            registers=session.registers if session else None,
        ),
        qemu_stderr_tail=watch.stderr_lines[-1] if watch.stderr_lines else None,
    )


def _log_mentions_triple_fault(path: str | None) -> bool:
    if path is None:
        return False
    try:
        with open(path, "rb") as log:
            return b"Triple fault" in log.read()
    except OSError:
        return False


# --------------------------------------------------------------------------------------
# Command line and the two modes
# --------------------------------------------------------------------------------------


def _regex(text: str) -> str:
    try:
        re.compile(text)
    except re.error as error:
        raise argparse.ArgumentTypeError(f"bad regular expression /{text}/: {error}") from None
    return text


def _seconds(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0 (0 = no limit): {text}")
    return value


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """Returns the parsed command line; exits with status 2 on a usage error."""
    parser = argparse.ArgumentParser(
        description="Boot a kernel ISO under QEMU (TCG) and judge it by its serial console "
        "and its isa-debug-exit code.",
        epilog="Flags for QEMU that start with '-' are written --qemu-flag=-smp --qemu-flag=2.",
    )
    parser.add_argument("--qemu", required=True, help="QEMU binary")
    parser.add_argument("--iso", required=True, help="bootable ISO (GRUB, multiboot2)")
    parser.add_argument("--memory", required=True, help="guest RAM, QEMU -m syntax")
    parser.add_argument("--machine", required=True, help="QEMU -machine")
    parser.add_argument("--cpu", required=True, help="QEMU -cpu")
    parser.add_argument("--timeout", type=_seconds,
                        help="overall limit in seconds, from QEMU start (0 = none; default: "
                        f"Bazel's TEST_TIMEOUT less {TEST_TIMEOUT_MARGIN_SECONDS:g} s, else none)")
    parser.add_argument("--silence-timeout", type=_seconds, default=0.0,
                        help="fail when the console prints nothing for this long (0 = never)")
    parser.add_argument("--expect", action="append", default=[], metavar="REGEX",
                        help="a console line must match (re.search); repeat, in order; "
                        "(?P=name) in one refers to the text an earlier one captured as "
                        "(?P<name>...)")
    parser.add_argument("--qemu-flag", action="append", default=[], metavar="FLAG",
                        help="extra QEMU argument; repeat")
    parser.add_argument("--firmware", choices=("bios", "uefi"), default="bios")
    parser.add_argument("--ovmf-code", help="UEFI firmware code (with --firmware uefi)")
    parser.add_argument("--ovmf-vars",
                        help="UEFI variable store template (with --firmware uefi); the runner "
                        "boots from a writable copy")
    parser.add_argument("--debug-exit-port", type=lambda text: int(text, 0), required=True,
                        help="I/O port of the isa-debug-exit device")
    parser.add_argument("--success-code", type=int, required=True,
                        help="QEMU status for the kernel's success exit")
    parser.add_argument("--failure-code", type=int, required=True,
                        help="QEMU status for the kernel's failure exit")
    parser.add_argument("--expect-exit", choices=("success", "failure"), default="success",
                        help="'failure': the kernel must exit with the failure code, and "
                        "panic lines are not fatal (match them with --expect)")
    parser.add_argument("--panic-regex", type=_regex, default="PANIC",
                        help="a matching line fails the run at once ('' = off)")
    parser.add_argument("--expect-verdict", type=_regex, metavar="REGEX",
                        help="test the runner: pass only if the run FAILs with a verdict "
                        "matching REGEX")
    parser.add_argument("--gdb", action="store_true",
                        help="start QEMU halted with a gdb stub (-S); no timeouts")
    parser.add_argument("--gdb-port", type=int, default=GDB_PORT,
                        help="the stub's loopback port with --gdb (default %(default)s)")
    parser.add_argument("--gdb-hint", help="the gdb command line to print with --gdb")
    parser.add_argument("--kernel-elf", help="kernel ELF for the printed gdb command")
    parser.add_argument("--interactive", action="store_true",
                        help="for bazel run: serial on the terminal, no timeouts or "
                        "expectations; exit 0/1/2 for success code/failure code/other")
    args = parser.parse_args(argv)
    problem = expectations_problem(args.expect)
    if problem is not None:
        parser.error(problem)
    if args.success_code == args.failure_code:
        parser.error("--success-code and --failure-code must differ")
    if args.firmware == "uefi" and not (args.ovmf_code and args.ovmf_vars):
        parser.error("--firmware uefi needs --ovmf-code and --ovmf-vars")
    return args


def config_from_args(args: argparse.Namespace) -> QemuConfig:
    """Returns the QEMU configuration the command line asks for."""
    return QemuConfig(
        qemu=args.qemu,
        iso=args.iso,
        memory=args.memory,
        machine=args.machine,
        cpu=args.cpu,
        firmware=args.firmware,
        ovmf_code=args.ovmf_code,
        ovmf_vars=args.ovmf_vars,
        extra_flags=tuple(args.qemu_flag),
        gdb=args.gdb,
        gdb_port=args.gdb_port,
        debug_exit_port=args.debug_exit_port,
    )


def default_timeout(environment: dict[str, str]) -> float | None:
    """The overall limit when --timeout is not given: Bazel's TEST_TIMEOUT less a margin, so
    the runner's own verdict comes before Bazel kills it; None outside a test."""
    text = environment.get("TEST_TIMEOUT", "")
    try:
        test_timeout = float(text)
    except ValueError:
        return None
    if test_timeout <= 0:
        return None
    return test_timeout - min(TEST_TIMEOUT_MARGIN_SECONDS, test_timeout / 2)


def policy_from_args(args: argparse.Namespace) -> Policy:
    """Returns the pass rules; --gdb and --interactive switch the timeouts off."""
    no_limits = args.gdb or args.interactive
    timeout = args.timeout if args.timeout is not None else default_timeout(dict(os.environ))
    return Policy(
        success_code=args.success_code,
        failure_code=args.failure_code,
        expect_failure_exit=args.expect_exit == "failure",
        timeout=None if no_limits or not timeout else timeout,
        silence_timeout=None if no_limits or args.silence_timeout == 0 else args.silence_timeout,
    )


def find_setup_problem(config: QemuConfig) -> str | None:
    """Returns why QEMU cannot be started (a missing file), or None."""
    if shutil.which(config.qemu) is None:
        return f"QEMU not found or not executable: {config.qemu} (run tools/setup.sh)"
    needed = [("ISO", config.iso)]
    if config.firmware == "uefi":
        needed += [("OVMF code", config.ovmf_code), ("OVMF variables", config.ovmf_vars)]
    for what, path in needed:
        if not os.path.isfile(path):
            return f"{what} not found: {path}"
    return None


def _temp_parent() -> str | None:
    test_tmpdir = os.environ.get("TEST_TMPDIR")
    return test_tmpdir if test_tmpdir and os.path.isdir(test_tmpdir) else None


def _print_line(text: str) -> None:
    print(text, flush=True)


def _copy_ovmf_vars(config: QemuConfig, directory: str) -> str | None:
    if config.firmware != "uefi":
        return None
    copy = os.path.join(directory, "OVMF_VARS.fd")
    shutil.copyfile(config.ovmf_vars, copy)  # a fresh, writable file whatever the source mode
    return copy


def run_test(args: argparse.Namespace) -> int:
    """Runs one test boot and prints its verdict; returns 0 on pass, 1 on fail."""
    config = config_from_args(args)
    policy = policy_from_args(args)
    problem = find_setup_problem(config)
    if problem is not None:
        _print_line(f"{VERDICT_PREFIX}FAIL: {problem}")
        return 1
    expect_failure = policy.expect_failure_exit
    matcher = ExpectationMatcher(args.expect, None if expect_failure else args.panic_regex)
    outputs_dir = os.environ.get("TEST_UNDECLARED_OUTPUTS_DIR")

    with tempfile.TemporaryDirectory(prefix="qemu_runner.", dir=_temp_parent()) as tmp:
        reset_log = os.path.join(tmp, "qemu-reset.log")
        parent_end, child_end = socket.socketpair()
        with parent_end, child_end:
            command = build_qemu_command(
                config,
                ovmf_vars_copy=_copy_ovmf_vars(config, tmp),
                qmp_fd=child_end.fileno(),
                reset_log=reset_log,
            )
            _print_line(f"{VERDICT_PREFIX}starting: {shlex.join(command)}")
            if config.gdb:
                _print_line(
                    f"{VERDICT_PREFIX}QEMU waits for gdb on localhost:{config.gdb_port}; attach with: "
                    + gdb_hint(args.gdb_hint, args.kernel_elf, config.gdb_port)
                )
            serial_log: BinaryIO | None = None
            if outputs_dir and os.path.isdir(outputs_dir):
                serial_log = open(os.path.join(outputs_dir, SERIAL_LOG_NAME), "wb")
            try:
                outcome = watch_qemu(
                    command,
                    matcher,
                    policy,
                    echo=_print_line,
                    serial_log=serial_log,
                    qmp=_QmpChannel(parent_end),
                    qmp_child_socket=child_end,
                    reset_log=reset_log,
                )
            except OSError as error:
                _print_line(f"{VERDICT_PREFIX}FAIL: cannot start QEMU: {error}")
                return 1
            finally:
                if serial_log is not None:
                    serial_log.close()

    if outcome.guest_stop.registers:
        _print_line(f"{VERDICT_PREFIX}CPU registers when the guest stopped:")
        for register_line in integer_register_lines(outcome.guest_stop.registers):
            _print_line(f"    {register_line}")
    verdict = decide_verdict(outcome, matcher.progress(), policy)
    if args.expect_verdict is not None:
        _print_line(f"{VERDICT_PREFIX}run verdict: {verdict.line()[len(VERDICT_PREFIX):]}")
        verdict = apply_expected_verdict(verdict, args.expect_verdict)
    _print_line(verdict.line())
    return 0 if verdict.passed else 1


def describe_interactive_exit(
    status: int, policy: Policy, reset_log: str | None, stop_signal: int | None = None
) -> str:
    """Returns what the kernel did, for the line printed after `--interactive`;
    `stop_signal` is the signal (Ctrl-C's SIGINT, SIGTERM) that ended the session, if any."""
    kind = classify_exit_status(status, policy.success_code, policy.failure_code)
    if kind == ExitKind.SUCCESS:
        return f"kernel exited with success code {status}"
    if kind == ExitKind.FAILURE:
        return f"kernel exited with failure code {status}"
    if stop_signal is not None:
        return f"QEMU stopped by {signal.Signals(stop_signal).name} (QEMU exit status {status})"
    if kind == ExitKind.RESET:
        return _reset_message(GuestStop(triple_fault_logged=_log_mentions_triple_fault(reset_log)))
    if kind == ExitKind.KILLED:
        return f"QEMU was killed by signal {signal.Signals(-status).name}"
    return describe_other_status(status)


def _stdin_is_terminal() -> bool:
    try:
        return os.isatty(sys.stdin.fileno())
    except (AttributeError, ValueError, OSError):
        return False


def run_interactive(args: argparse.Namespace) -> int:
    """Boots with the serial console on this terminal (stdio inherited); returns 0/1/2
    for the kernel's success code / failure code / anything else.

    On a terminal QEMU stays in our (foreground) process group, so it may read the
    keyboard and Ctrl-C reaches it; otherwise it gets its own process group, killed as a
    whole at the end, as in test mode."""
    config = config_from_args(args)
    policy = policy_from_args(args)
    problem = find_setup_problem(config)
    if problem is not None:
        print(f"{INTERACTIVE_PREFIX}{problem}", file=sys.stderr)
        return 2
    on_terminal = _stdin_is_terminal()
    with tempfile.TemporaryDirectory(prefix="qemu_runner.", dir=_temp_parent()) as tmp:
        reset_log = os.path.join(tmp, "qemu-reset.log")
        command = build_qemu_command(
            config, ovmf_vars_copy=_copy_ovmf_vars(config, tmp), reset_log=reset_log
        )
        print(f"{INTERACTIVE_PREFIX}starting: {shlex.join(command)}", file=sys.stderr)
        print(f"{INTERACTIVE_PREFIX}Ctrl-C stops QEMU.", file=sys.stderr)
        if config.gdb:
            print(
                f"{INTERACTIVE_PREFIX}QEMU waits for gdb on localhost:{config.gdb_port}; attach with: "
                + gdb_hint(args.gdb_hint, args.kernel_elf, config.gdb_port),
                file=sys.stderr,
            )
        start = time.monotonic()
        try:
            process = subprocess.Popen(
                command,
                start_new_session=not on_terminal,
                # On a terminal SIGTERM, not SIGKILL, if we die: QEMU restores the tty mode.
                preexec_fn=_die_with_parent_hook(signal.SIGTERM if on_terminal else signal.SIGKILL),
            )
        except OSError as error:
            print(f"{INTERACTIVE_PREFIX}cannot start QEMU: {error}", file=sys.stderr)
            return 2
        stop_signals: list[int] = []

        def stop_qemu(signum: int, _frame: object) -> None:
            stop_signals.append(signum)
            if not _has_exited(process):
                _signal_process(process.pid, signal.SIGTERM)

        previous = {signum: signal.signal(signum, stop_qemu) for signum in _HANDLED_SIGNALS}
        try:
            # Wait without reaping, so the process group can still be killed afterwards.
            os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOWAIT)
        finally:
            status = stop_process_group(process, own_group=not on_terminal)
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        elapsed = time.monotonic() - start
        text = describe_interactive_exit(
            status, policy, reset_log, stop_signals[0] if stop_signals else None
        )
    print(f"{INTERACTIVE_PREFIX}{text} after {elapsed:.2f} s", file=sys.stderr)
    return interactive_exit_code(status, policy.success_code, policy.failure_code)


def main(argv: Sequence[str]) -> int:
    """Returns the process exit status for the command line `argv` (without argv[0])."""
    args = parse_args(argv)
    if args.interactive:
        return run_interactive(args)
    return run_test(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
