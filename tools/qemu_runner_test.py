#!/usr/bin/python3
"""Host tests of tools/qemu_runner.py: its pure logic, and the whole runner end to end
against a fake QEMU.

The fake QEMU is a small Python script (FAKE_QEMU below) that ignores QEMU's flags and
follows a plan given as JSON in $FAKE_QEMU_PLAN: print console lines, sleep, exit with a
chosen status, start a helper process, or play a triple fault over QMP the way QEMU 7.2
does (SHUTDOWN event, `info registers`, `quit`). It records its pid and argv in
$FAKE_QEMU_RECORD so the tests can check the command line and that nothing outlives the
runner. No kernel, no real QEMU: the whole file runs in a few seconds.

Run: bazel test //tools:qemu_runner_test
"""

from __future__ import annotations

import json
import os
import re
import select
import signal
import stat
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qemu_runner  # noqa: E402  (after the path tweak, so it works from any directory)
from qemu_runner import (  # noqa: E402
    Ending,
    ExitKind,
    ExpectationMatcher,
    GuestStop,
    LineKind,
    LineSplitter,
    Policy,
    QemuConfig,
    QmpSession,
    RunOutcome,
    Verdict,
)

RUNNER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "qemu_runner.py")
# The machine facts tools/qemu.bzl passes in a real run, made up here (not the kernel's, nor
# QEMU's defaults): the runner has none of its own, so what it does with them shows they are used.
MACHINE = {"debug_exit_port": 0x501, "memory": "96M", "machine": "test-machine", "cpu": "test-cpu"}
CODES = {"success_code": 41, "failure_code": 43}
MACHINE_ARGS = ["--qemu", "q", "--debug-exit-port", "0x501", "--memory", "96M", "--machine",
                "test-machine", "--cpu", "test-cpu", "--success-code", "41", "--failure-code", "43"]

REGISTERS_64 = textwrap.dedent(
    """\
    RAX=0000000000000000 RBX=0000000000000001 RCX=0000000000000002 RDX=00000000000003f8
    RSI=0000000000000000 RDI=0000000000000000 RBP=0000000000000000 RSP=ffffffff80104ff8
    RIP=ffffffff80001234 RFL=00000046 [---Z-P-] CPL=0 II=0 A20=1 SMM=0 HLT=0
    GDT=     ffffffff80010000 0000002f
    IDT=     ffffffff80011000 00000fff
    CR0=80000011 CR2=ffffffff90000000 CR3=0000000000101000 CR4=00000020
    EFER=0000000000000500
    FCW=037f FSW=0000 [ST=0] FTW=00 MXCSR=00001f80
    XMM00=0000000000000000 0000000000000000 XMM01=0000000000000000 0000000000000000
    """
)

FAKE_QEMU = r'''
import json, os, signal, socket, subprocess, sys, time

args = sys.argv[1:]
plan = json.loads(os.environ["FAKE_QEMU_PLAN"])
record_path = os.environ.get("FAKE_QEMU_RECORD")
record = {"pid": os.getpid(), "pgid": os.getpgid(0), "argv": args, "children": []}

def save_record():
    if record_path:
        with open(record_path + ".tmp", "w") as f:
            json.dump(record, f)
        os.replace(record_path + ".tmp", record_path)

save_record()
qmp = None
for arg in args:
    if arg.startswith("socket,id=qmp0,fd="):
        qmp = socket.socket(fileno=int(arg.rsplit("=", 1)[1]))
qmp_in = qmp.makefile("rb") if qmp else None

def qmp_send(message):
    qmp.sendall(json.dumps(message).encode() + b"\r\n")

def qmp_answer(reply):
    command = json.loads(qmp_in.readline())
    qmp_send({"return": reply(command), "id": command.get("id")})
    return command

if qmp:
    qmp_send({"QMP": {"version": {}, "capabilities": ["oob"]}})
    qmp_answer(lambda command: {})  # qmp_capabilities
    qmp_answer(lambda command: {})  # set-action

for step, *values in plan:
    if step == "out":
        sys.stdout.write(values[0]); sys.stdout.flush()
    elif step == "err":
        sys.stderr.write(values[0]); sys.stderr.flush()
    elif step == "sleep":
        time.sleep(values[0])
    elif step == "tick":  # a line every values[0] s, forever
        while True:
            print("tick", flush=True); time.sleep(values[0])
    elif step == "exit":
        os._exit(values[0])
    elif step == "child":
        helper = subprocess.Popen(["sleep", "60"])
        record["children"].append(helper.pid); save_record()
    elif step == "ignore_term":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    elif step == "check_vars":
        drive = [a for a in args if a.startswith("if=pflash") and "unit=1" in a][0]
        path = drive.split("file=", 1)[1]
        record["vars_writable"] = os.access(path, os.W_OK); save_record()
    elif step == "reset":  # triple fault under -no-reboot, as QEMU 7.2 does it
        log = args[args.index("-D") + 1]
        with open(log, "a") as f:
            f.write("Triple fault\n")
        if not qmp:
            os._exit(0)
        qmp_send({"event": "SHUTDOWN", "data": {"guest": True, "reason": "guest-reset"}})
        while True:
            command = qmp_answer(lambda c: os.environ["FAKE_REGISTERS"]
                                 if c["execute"] == "human-monitor-command" else {})
            if command["execute"] == "quit":
                os._exit(0)
while True:
    time.sleep(1)
'''


def progress_of(lines: list[str], expectations: list[str], panic: str | None = "PANIC"):
    matcher = ExpectationMatcher(expectations, panic)
    for line in lines:
        matcher.feed(line)
    return matcher.progress()


def process_is_gone(pid: int, timeout: float = 3.0) -> bool:
    """Returns whether `pid` is dead (gone or a zombie) within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with open(f"/proc/{pid}/stat") as stat_file:
                state = stat_file.read().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return True
        if state in ("Z", "X"):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)


class LineSplitterTest(unittest.TestCase):
    def test_lines_split_across_chunks_and_cleaned(self) -> None:
        splitter = LineSplitter()
        self.assertEqual(splitter.feed(b"\x1b[2J\x1b[01;01Hhel"), [])
        self.assertEqual(splitter.feed(b"lo\r\nwor"), ["hello"])
        self.assertEqual(splitter.feed(b"ld\n\n"), ["world", ""])
        self.assertEqual(splitter.flush(), [])

    def test_partial_line_is_flushed(self) -> None:
        splitter = LineSplitter()
        splitter.feed(b"PANIC: no newline")
        self.assertEqual(splitter.flush(), ["PANIC: no newline"])
        self.assertEqual(splitter.flush(), [])

    def test_overlong_line_is_cut(self) -> None:
        splitter = LineSplitter(max_line_bytes=4)
        self.assertEqual(splitter.feed(b"abcdefghij"), ["abcd", "efgh"])
        self.assertEqual(splitter.flush(), ["ij"])

    def test_invalid_utf8_and_control_characters(self) -> None:
        self.assertEqual(LineSplitter().feed(b"a\xffb\x07\tc\n"), ["a\ufffdb\tc"])


class ExpectationMatcherTest(unittest.TestCase):
    def test_expectations_match_in_order_one_per_line(self) -> None:
        matcher = ExpectationMatcher(["boot", "boot", "mem"], "PANIC")
        self.assertEqual(matcher.feed("noise"), LineKind.OTHER)
        self.assertEqual(matcher.feed("boot ok"), LineKind.MATCHED)
        # "mem" is not next yet: a line satisfies only the pending expectation.
        self.assertEqual(matcher.feed("mem boot"), LineKind.MATCHED)
        self.assertEqual(matcher.progress().pending.describe(), "expected line 3: /mem/")
        self.assertEqual(matcher.feed("mem: 128 MiB"), LineKind.MATCHED)
        progress = matcher.progress()
        self.assertTrue(progress.all_matched)
        self.assertEqual((progress.matched, progress.total), (3, 3))

    def test_earlier_lines_do_not_count_for_later_expectations(self) -> None:
        progress = progress_of(["second", "first"], ["first", "second"])
        self.assertEqual(progress.matched, 1)
        self.assertEqual(progress.pending.number, 2)

    def test_search_not_full_match(self) -> None:
        self.assertTrue(progress_of(["[0.1] Booting kernel v1"], [r"Booting \w+"]).all_matched)

    def test_panic_line_recorded_once_and_not_matched(self) -> None:
        matcher = ExpectationMatcher(["PANIC"], "PANIC")
        self.assertEqual(matcher.feed("PANIC: first"), LineKind.PANIC)
        self.assertEqual(matcher.feed("PANIC: second"), LineKind.PANIC)
        progress = matcher.progress()
        self.assertEqual(progress.panic_line, "PANIC: first")
        self.assertEqual(progress.matched, 0)

    def test_no_panic_regex_means_panic_lines_are_ordinary(self) -> None:
        progress = progress_of(["PANIC: x"], ["PANIC: x"], panic=None)
        self.assertTrue(progress.all_matched)
        self.assertIsNone(progress.panic_line)

    def test_last_line_skips_blank_lines(self) -> None:
        self.assertEqual(progress_of(["a", "b", "  "], []).last_line, "b")

    def test_a_later_line_must_repeat_what_an_earlier_one_captured(self) -> None:
        expectations = [r"CPU (?P<reader>\d) read", r"CPU (?P=reader) faulted"]
        # The same CPU: both match. Another CPU first: the second waits for the right one.
        self.assertTrue(progress_of(["CPU 2 read", "CPU 2 faulted"], expectations).all_matched)
        matcher = ExpectationMatcher(expectations, None)
        for line in ("CPU 2 read", "CPU 3 faulted", "CPU 22 faulted"):
            matcher.feed(line)
        progress = matcher.progress()
        self.assertEqual(progress.matched, 1)
        # What is awaited names the captured text, escaped, not the reference.
        self.assertEqual(progress.pending.describe(), "expected line 2: /CPU 2 faulted/")
        self.assertEqual(matcher.feed("CPU 2 faulted"), LineKind.MATCHED)

    def test_captured_text_is_matched_literally(self) -> None:
        expectations = [r"at (?P<where>\S+)$", r"again at (?P=where)$"]
        self.assertFalse(progress_of(["at a.c", "again at abc"], expectations).all_matched)
        self.assertTrue(progress_of(["at a.c", "again at a.c"], expectations).all_matched)

    def test_a_group_that_took_no_part_matches_nothing_later(self) -> None:
        # The optional group captured nothing: the later line can never match, and says so.
        matcher = ExpectationMatcher([r"start(?: on CPU (?P<cpu>\d))?$", r"done on CPU (?P=cpu)"],
                                     None)
        for line in ("start", "done on CPU ", "done on CPU 1"):
            matcher.feed(line)
        progress = matcher.progress()
        self.assertEqual(progress.matched, 1)
        self.assertEqual(progress.pending.describe(), "expected line 2: /done on CPU (?!)/")

    def test_a_line_may_still_refer_to_its_own_groups(self) -> None:
        expectations = [r"CPU (?P<cpu>\d) waits for CPU (?!(?P=cpu))\d"]
        self.assertFalse(progress_of(["CPU 1 waits for CPU 1"], expectations).all_matched)
        self.assertTrue(progress_of(["CPU 1 waits for CPU 0"], expectations).all_matched)

    def test_a_reference_no_earlier_line_names_is_refused(self) -> None:
        for expectations in ([r"CPU (?P=reader) faulted"],
                             [r"CPU (?P=reader) faulted", r"CPU (?P<reader>\d) read"], ["("]):
            problem = qemu_runner.expectations_problem(expectations)
            self.assertIsNotNone(problem, expectations)
            self.assertIn("expected line 1: bad regular expression", problem)
            with self.assertRaises(ValueError):
                ExpectationMatcher(expectations, None)
        self.assertIsNone(qemu_runner.expectations_problem([r"(?P<a>\d)", r"(?P=a)"]))


class ExitStatusTest(unittest.TestCase):
    def test_classification(self) -> None:
        cases = {41: ExitKind.SUCCESS, 43: ExitKind.FAILURE, 0: ExitKind.RESET,
                 -9: ExitKind.KILLED, 1: ExitKind.OTHER, 37: ExitKind.OTHER}
        for status, kind in cases.items():
            self.assertEqual(qemu_runner.classify_exit_status(status, 41, 43), kind, status)

    def test_other_status_names_the_debug_exit_value(self) -> None:
        self.assertEqual(qemu_runner.describe_other_status(37),
                         "unexpected QEMU exit status 37 (debug-exit value 0x12)")
        self.assertEqual(qemu_runner.describe_other_status(1), "unexpected QEMU exit status 1")

    def test_interactive_exit_description(self) -> None:
        policy = Policy(**CODES)
        describe = qemu_runner.describe_interactive_exit
        self.assertEqual(describe(41, policy, None), "kernel exited with success code 41")
        self.assertEqual(describe(0, policy, None, signal.SIGINT),
                         "QEMU stopped by SIGINT (QEMU exit status 0)")
        self.assertTrue(describe(0, policy, None).startswith("triple fault or reset"))

    def test_interactive_exit_codes(self) -> None:
        codes = [qemu_runner.interactive_exit_code(s, 41, 43) for s in (41, 43, 0, 1, -15)]
        self.assertEqual(codes, [0, 1, 2, 2, 2])


class DecideVerdictTest(unittest.TestCase):
    POLICY = Policy(**CODES, timeout=30, silence_timeout=10)

    def decide(self, outcome: RunOutcome, progress, policy: Policy = POLICY) -> Verdict:
        return qemu_runner.decide_verdict(outcome, progress, policy)

    def exited(self, status: int, **fields) -> RunOutcome:
        return RunOutcome(ending=Ending.EXITED, elapsed=1.234, exit_status=status, **fields)

    def test_pass_line(self) -> None:
        verdict = self.decide(self.exited(41), progress_of(["a", "b"], ["a", "b"]))
        self.assertTrue(verdict.passed)
        self.assertEqual(verdict.line(), "qemu_test: PASS: 2 expected lines matched, "
                         "kernel exited with success code 41 in 1.23 s")

    def test_the_kernels_last_line_must_end_the_run(self) -> None:
        summary = "[0035] INFO  summary: checks=7 failed=0 warnings=0 errors=0 verdict=PASS"
        panic = "[0033] PANIC interrupt_dispatch: page fault at 0x0000000000000000"
        for last in (summary, "boot: this CPU has no long mode (x86_64)"):
            verdict = self.decide(self.exited(41), progress_of(["a", last], ["a"]))
            self.assertTrue(verdict.passed, last)
        failing = Policy(**CODES, expect_failure_exit=True)
        self.assertTrue(self.decide(self.exited(43), progress_of(["a", panic], ["a"]), failing).passed)
        after_panic = progress_of(["a", panic, "[0034] INFO  chatter"], ["a"])
        self.assertFalse(self.decide(self.exited(43), after_panic, failing).passed)
        for after in ("[0036] INFO  chatter 5 from CPU 1", "[00"):
            verdict = self.decide(self.exited(41), progress_of(["a", summary, after], ["a"]))
            self.assertFalse(verdict.passed)
            self.assertEqual(
                verdict.message,
                f"the kernel's last line is neither its summary nor a PANIC line: {after!r} "
                "(kernel exited with code 41)")

    def test_success_code_with_missing_line(self) -> None:
        verdict = self.decide(self.exited(41), progress_of(["a"], ["a", "b+"]))
        self.assertEqual(verdict.line(), "qemu_test: FAIL: expected line 2 never appeared: /b+/ "
                         "(kernel exited with success code 41) (QEMU ran 1.23 s)")

    def test_failure_code(self) -> None:
        verdict = self.decide(self.exited(43), progress_of(["ERROR: no memory map"], ["x"]))
        self.assertEqual(verdict.message, "kernel exited with failure code 43 (last line: "
                         "'ERROR: no memory map'); expected line 1 never appeared: /x/")

    def test_timeout_and_silence(self) -> None:
        progress = progress_of(["hello"], ["hello", "world"])
        timeout = self.decide(RunOutcome(Ending.TIMEOUT, 30.01, serial_bytes=6), progress)
        self.assertEqual(timeout.message,
                         "timeout after 30 s; still waiting for expected line 2: /world/")
        silence = self.decide(RunOutcome(Ending.SILENCE, 10.0, serial_bytes=6), progress)
        self.assertEqual(silence.message, "console silent for 10 s; still waiting for "
                         "expected line 2: /world/; last line: 'hello'")
        mute = self.decide(RunOutcome(Ending.SILENCE, 10.0), progress_of([], ["hello"]))
        self.assertEqual(mute.message, "console silent for 10 s (no serial output at all); "
                         "still waiting for expected line 1: /hello/")

    def test_timeout_after_all_lines(self) -> None:
        verdict = self.decide(RunOutcome(Ending.TIMEOUT, 30.0), progress_of(["a"], ["a"]))
        self.assertEqual(verdict.message, "timeout after 30 s; 1 expected line matched, "
                         "still waiting for the kernel to exit")

    def test_panic_wins_over_the_exit_code(self) -> None:
        progress = progress_of(["boot", "PANIC: heap corrupted at 0x1000"], ["boot"])
        for outcome in (self.exited(43), self.exited(41), RunOutcome(Ending.PANIC, 1.0)):
            verdict = self.decide(outcome, progress)
            self.assertEqual(verdict.message, "kernel panic: PANIC: heap corrupted at 0x1000")

    def test_triple_fault(self) -> None:
        stop = GuestStop(reason="guest-reset", triple_fault_logged=True, registers=REGISTERS_64)
        verdict = self.decide(self.exited(0, guest_stop=stop), progress_of(["a"], ["a", "b"]))
        self.assertEqual(
            verdict.message,
            "triple fault or reset (QEMU exited with status 0 without a debug-exit); QEMU logged "
            "a triple fault; CPU state: RIP=ffffffff80001234 RSP=ffffffff80104ff8 "
            "CR2=ffffffff90000000 CR3=0000000000101000 IDT=ffffffff80011000/00000fff; "
            "expected line 2 never appeared: /b/")

    def test_reset_without_details_and_poweroff(self) -> None:
        self.assertEqual(self.decide(self.exited(0), progress_of([], [])).message,
                         "triple fault or reset (QEMU exited with status 0 without a debug-exit)")
        poweroff = self.exited(0, guest_stop=GuestStop(reason="guest-shutdown"))
        self.assertTrue(self.decide(poweroff, progress_of([], [])).message.startswith(
            "guest powered off (QEMU exited with status 0"))

    def test_unexpected_status_quotes_qemu(self) -> None:
        outcome = self.exited(1, qemu_stderr_tail="qemu-system-x86_64: -foo: invalid option")
        self.assertEqual(self.decide(outcome, progress_of([], [])).message,
                         "unexpected QEMU exit status 1; QEMU said: "
                         "qemu-system-x86_64: -foo: invalid option")

    def test_killed(self) -> None:
        self.assertEqual(self.decide(self.exited(-9), progress_of([], [])).message,
                         "QEMU was killed by signal SIGKILL")

    def test_interrupted(self) -> None:
        outcome = RunOutcome(Ending.INTERRUPTED, 5.0, signal_number=signal.SIGTERM)
        self.assertEqual(self.decide(outcome, progress_of([], ["x"])).message,
                         "interrupted by SIGTERM (test timeout?); "
                         "still waiting for expected line 1: /x/")

    def test_expected_failure_exit(self) -> None:
        policy = Policy(**CODES, expect_failure_exit=True)
        lines = ["PAGE FAULT at 0xdead", "PANIC: unhandled"]
        good = self.decide(self.exited(43), progress_of(lines, ["PAGE FAULT", "PANIC"], None),
                           policy)
        self.assertEqual(good.line(), "qemu_test: PASS: 2 expected lines matched, kernel exited "
                         "with failure code 43 as expected in 1.23 s")
        missing = self.decide(self.exited(43), progress_of(lines, ["CR2="], None), policy)
        self.assertEqual(missing.message, "expected line 1 never appeared: /CR2=/ "
                         "(kernel exited with failure code 43)")
        wrong = self.decide(self.exited(41), progress_of(lines, ["PAGE"], None), policy)
        self.assertEqual(wrong.message,
                         "kernel exited with success code 41, expected failure code 43")


class ExpectedVerdictTest(unittest.TestCase):
    def test_inversion(self) -> None:
        failed = Verdict(False, "console silent for 2 s (no serial output at all)", 2.0)
        passed = Verdict(True, "1 expected line matched, ...", 0.5)
        matching = qemu_runner.apply_expected_verdict(failed, r"console silent for \d+ s")
        self.assertTrue(matching.passed)
        self.assertIn("failed as expected", matching.line())
        other = qemu_runner.apply_expected_verdict(failed, "timeout after")
        self.assertFalse(other.passed)
        self.assertIn("does not match its verdict: console silent", other.message)
        self.assertFalse(qemu_runner.apply_expected_verdict(passed, "anything").passed)

    def test_quoted_console_text_does_not_match(self) -> None:
        # A failure exit whose last console line happens to hold the expected text: the text is
        # the kernel's, not the verdict's, so the run did not fail the expected way.
        quoting = Verdict(
            False,
            "kernel exited with failure code 35 (last line: 'triple fault or reset')",
            0.4,
        )
        self.assertFalse(qemu_runner.apply_expected_verdict(quoting, "triple fault or reset").passed)


class QmpSessionTest(unittest.TestCase):
    def test_triple_fault_conversation(self) -> None:
        session = QmpSession()
        [caps] = session.on_message({"QMP": {"version": {}}})
        self.assertEqual(caps["execute"], "qmp_capabilities")
        [action] = session.on_message({"return": {}, "id": caps["id"]})
        self.assertEqual(action["arguments"], {"reboot": "shutdown", "shutdown": "pause"})
        self.assertEqual(session.on_message({"return": {}, "id": action["id"]}), [])
        self.assertEqual(session.on_message({"event": "STOP"}), [])
        [info] = session.on_message(
            {"event": "SHUTDOWN", "data": {"guest": True, "reason": "guest-reset"}})
        self.assertEqual(info["arguments"], {"command-line": "info registers"})
        [quit_command] = session.on_message({"return": REGISTERS_64, "id": info["id"]})
        self.assertEqual(quit_command["execute"], "quit")
        self.assertEqual((session.shutdown_reason, session.registers),
                         ("guest-reset", REGISTERS_64))
        # Our own quit causes a host SHUTDOWN event: no further commands.
        self.assertEqual(session.on_message(
            {"event": "SHUTDOWN", "data": {"guest": False, "reason": "host-qmp-quit"}}), [])

    def test_no_register_query_when_qemu_refused_to_pause(self) -> None:
        session = QmpSession()
        session.on_message({"error": {"desc": "unknown command"}, "id": "set-action"})
        self.assertEqual(session.on_message(
            {"event": "SHUTDOWN", "data": {"guest": True, "reason": "guest-reset"}}), [])
        self.assertEqual(session.shutdown_reason, "guest-reset")

    def test_register_summary_32_bit(self) -> None:
        dump = "EIP=00100053 EFL=00000046\nESP=0007ff00\nIDT=     00000000 00000000\n"
        self.assertEqual(qemu_runner.summarize_registers(dump),
                         "EIP=00100053 ESP=0007ff00 IDT=00000000/00000000")
        self.assertEqual(qemu_runner.summarize_registers(""), "")

    def test_register_lines_stop_before_fpu_state(self) -> None:
        lines = qemu_runner.integer_register_lines(REGISTERS_64)
        self.assertEqual(lines[-1], "EFER=0000000000000500")
        self.assertFalse(any(line.startswith(("FCW", "XMM")) for line in lines))


class CommandLineTest(unittest.TestCase):
    def test_bios_command(self) -> None:
        config = QemuConfig(qemu="qemu-under-test", iso="k.iso", **MACHINE,
                            extra_flags=("-smp", "2"))
        command = qemu_runner.build_qemu_command(config, qmp_fd=7, reset_log="/t/reset.log")
        text = " ".join(command)
        for part in ("-machine test-machine", "-cpu test-cpu", "-accel tcg", "-m 96M",
                     "-display none", "-no-reboot", "-serial stdio",
                     "-device isa-debug-exit,iobase=0x501,iosize=0x04", "-boot d -cdrom k.iso",
                     "-chardev socket,id=qmp0,fd=7 -mon chardev=qmp0,mode=control",
                     "-d cpu_reset -D /t/reset.log"):
            self.assertIn(part, text)
        self.assertEqual(command[0], "qemu-under-test")
        self.assertEqual(command[-2:], ["-smp", "2"])
        self.assertNotIn("pflash", text)
        self.assertNotIn("-S", command)

    def test_extra_accel_replaces_the_default(self) -> None:
        config = QemuConfig(qemu="q", iso="k.iso", **MACHINE,
                            extra_flags=("-accel", "tcg,thread=multi"))
        command = qemu_runner.build_qemu_command(config)
        self.assertEqual(command.count("-accel"), 1)
        self.assertEqual(command[command.index("-accel") + 1], "tcg,thread=multi")

    def test_uefi_uses_the_writable_copy(self) -> None:
        config = QemuConfig(qemu="q", iso="k.iso", **MACHINE, firmware="uefi",
                            ovmf_code="/o/CODE.fd", ovmf_vars="/o/VARS.fd")
        text = " ".join(qemu_runner.build_qemu_command(config, ovmf_vars_copy="/tmp/x/VARS.fd"))
        self.assertIn("-drive if=pflash,format=raw,unit=0,readonly=on,file=/o/CODE.fd", text)
        self.assertIn("-drive if=pflash,format=raw,unit=1,file=/tmp/x/VARS.fd", text)
        self.assertNotIn("/o/VARS.fd", text)
        with self.assertRaises(ValueError):
            qemu_runner.build_qemu_command(config)

    def test_gdb_and_user_logging(self) -> None:
        config = QemuConfig(qemu="q", iso="k.iso", **MACHINE, gdb=True,
                            extra_flags=("-d", "int"))
        command = qemu_runner.build_qemu_command(config, reset_log="/t/reset.log")
        self.assertIn("-s", command)
        self.assertIn("-S", command)
        self.assertNotIn("cpu_reset", command)  # the user's -d wins

    def test_gdb_hint(self) -> None:
        self.assertEqual(qemu_runner.gdb_hint(None, "/out/kernel/kernel.elf"),
                         "gdb /out/kernel/kernel.elf -ex 'target remote localhost:1234'")
        relative = qemu_runner.gdb_hint(None, "kernel/kernel.elf")  # bazel run's runfiles
        self.assertEqual(relative, f"gdb {os.getcwd()}/kernel/kernel.elf "
                         "-ex 'target remote localhost:1234'")
        self.assertEqual(qemu_runner.gdb_hint("gdb -x my.gdb", "k"), "gdb -x my.gdb")

    def test_parse_args(self) -> None:
        args = qemu_runner.parse_args([*MACHINE_ARGS, "--iso", "k.iso", "--expect", "a",
                                       "--expect", "b", "--qemu-flag=-smp", "--qemu-flag=2",
                                       "--timeout", "0", "--silence-timeout", "10"])
        self.assertEqual(args.expect, ["a", "b"])
        policy = qemu_runner.policy_from_args(args)
        self.assertIsNone(policy.timeout)
        self.assertEqual(policy.silence_timeout, 10.0)
        self.assertEqual(qemu_runner.config_from_args(args).extra_flags, ("-smp", "2"))
        gdb_policy = qemu_runner.policy_from_args(
            qemu_runner.parse_args([*MACHINE_ARGS, "--iso", "k", "--gdb"]))
        self.assertEqual((gdb_policy.timeout, gdb_policy.silence_timeout), (None, None))

    def test_timeout_comes_from_bazel(self) -> None:
        self.assertEqual(qemu_runner.default_timeout({"TEST_TIMEOUT": "60"}), 55.0)
        self.assertEqual(qemu_runner.default_timeout({"TEST_TIMEOUT": "4"}), 2.0)
        self.assertIsNone(qemu_runner.default_timeout({}))
        self.assertIsNone(qemu_runner.default_timeout({"TEST_TIMEOUT": "soon"}))

    def test_gdb_port(self) -> None:
        config = QemuConfig(qemu="q", iso="k.iso", **MACHINE, gdb=True, gdb_port=4321)
        command = qemu_runner.build_qemu_command(config)
        self.assertEqual(command[-3:], ["-gdb", "tcp:127.0.0.1:4321", "-S"])
        self.assertNotIn("-s", command)

    def test_parse_args_rejects_bad_input(self) -> None:
        for argv in ([*MACHINE_ARGS, "--iso", "k", "--expect", "("],
                     [*MACHINE_ARGS, "--iso", "k", "--expect", "(?P=cpu)"],
                     [*MACHINE_ARGS, "--iso", "k", "--timeout", "-1"],
                     [*MACHINE_ARGS, "--iso", "k", "--success-code", "43"],
                     [*MACHINE_ARGS, "--iso", "k", "--firmware", "uefi"],
                     [a for a in MACHINE_ARGS if a not in ("--cpu", "test-cpu")] + ["--iso", "k"],
                     ["--iso", "k"], []):
            with self.assertRaises(SystemExit, msg=argv), open(os.devnull, "w") as devnull:
                stderr, sys.stderr = sys.stderr, devnull
                try:
                    qemu_runner.parse_args(argv)
                finally:
                    sys.stderr = stderr


class FakeQemuEndToEndTest(unittest.TestCase):
    """Runs the real runner script against the fake QEMU."""

    def setUp(self) -> None:
        self.tmp = tempfile.TemporaryDirectory(prefix="qemu_runner_test.")
        self.dir = self.tmp.name
        self.fake = os.path.join(self.dir, "fake-qemu")
        with open(self.fake, "w") as fake:
            fake.write(f"#!{sys.executable}\n{FAKE_QEMU}")
        os.chmod(self.fake, 0o755)
        self.iso = os.path.join(self.dir, "kernel.iso")
        open(self.iso, "w").close()
        self.record_path = os.path.join(self.dir, "record.json")
        self.outputs = os.path.join(self.dir, "outputs")
        os.mkdir(self.outputs)

    def tearDown(self) -> None:
        record = self.record()
        for pid in [record.get("pid")] + record.get("children", []):
            if pid and not process_is_gone(pid, timeout=0):
                try:
                    os.kill(pid, signal.SIGKILL)  # a leak the test reported; don't keep it
                except ProcessLookupError:
                    pass
        self.tmp.cleanup()

    def record(self) -> dict:
        try:
            with open(self.record_path) as record:
                return json.load(record)
        except FileNotFoundError:
            return {}

    def environment(self, plan: list) -> dict:
        env = dict(os.environ)
        env.update(FAKE_QEMU_PLAN=json.dumps(plan), FAKE_QEMU_RECORD=self.record_path,
                   FAKE_REGISTERS=REGISTERS_64, TEST_UNDECLARED_OUTPUTS_DIR=self.outputs,
                   TEST_TMPDIR=self.dir)
        return env

    def command(self, *flags: str) -> list[str]:
        return [sys.executable, RUNNER, "--qemu", self.fake, "--iso", self.iso,
                *MACHINE_ARGS[2:], *flags]

    def run_runner(self, plan: list, *flags: str) -> tuple[int, str, float]:
        """Returns the runner's exit status, its stdout and its wall time."""
        start = time.monotonic()
        result = subprocess.run(self.command(*flags), env=self.environment(plan),
                                capture_output=True, text=True, timeout=20)
        return result.returncode, result.stdout, time.monotonic() - start

    def verdict(self, stdout: str) -> str:
        return stdout.strip().splitlines()[-1]

    def assert_fake_is_gone(self) -> None:
        record = self.record()
        for pid in [record["pid"]] + record["children"]:
            self.assertTrue(process_is_gone(pid), f"process {pid} outlived the runner")

    def test_pass(self) -> None:
        lines = "\x1b[2JBooting kernel\r\nbootloader: GRUB 2.06\nmemory map: 3 entries\n"
        status, out, _ = self.run_runner(
            [["out", lines], ["exit", 41]],
            "--expect", "^Booting", "--expect", r"bootloader: GRUB", "--expect", "memory map")
        self.assertEqual(status, 0, out)
        self.assertIn("\nBooting kernel\nbootloader: GRUB 2.06\n", out)  # echoed, cleaned
        self.assertRegex(self.verdict(out), r"^qemu_test: PASS: 3 expected lines matched, "
                         r"kernel exited with success code 41 in \d+\.\d\d s$")
        with open(os.path.join(self.outputs, "serial.log"), "rb") as log:
            self.assertEqual(log.read(), lines.encode())

    def test_expected_line_out_of_order(self) -> None:
        status, out, _ = self.run_runner([["out", "b\na\n"], ["exit", 41]],
                                         "--expect", "a", "--expect", "b")
        self.assertEqual(status, 1)
        self.assertRegex(self.verdict(out), r"^qemu_test: FAIL: expected line 2 never appeared: "
                         r"/b/ \(kernel exited with success code 41\) \(QEMU ran \d+\.\d\d s\)$")

    def test_failure_code(self) -> None:
        status, out, _ = self.run_runner([["out", "ERROR: bad map\n"], ["exit", 43]])
        self.assertEqual(status, 1)
        self.assertIn("FAIL: kernel exited with failure code 43 (last line: 'ERROR: bad map')",
                      self.verdict(out))

    def test_deliberate_fault_kernel(self) -> None:
        report = "PAGE FAULT: CR2=0xdead write\nPANIC: unhandled page fault\n"
        status, out, _ = self.run_runner(
            [["out", report], ["exit", 43]], "--expect-exit", "failure",
            "--expect", r"PAGE FAULT: CR2=0xdead", "--expect", "PANIC: unhandled")
        self.assertEqual(status, 0, out)
        self.assertIn("kernel exited with failure code 43 as expected", self.verdict(out))

    def test_panic_fails_fast_and_kills_qemu(self) -> None:
        status, out, elapsed = self.run_runner(
            [["out", "boot\nPANIC: double free at 0x1000\n"], ["child"], ["sleep", 30]],
            "--expect", "boot", "--expect", "never")
        self.assertEqual(status, 1)
        self.assertIn("FAIL: kernel panic: PANIC: double free at 0x1000", self.verdict(out))
        self.assertLess(elapsed, 5)
        self.assert_fake_is_gone()

    def test_a_last_panic_line_without_its_newline_still_fails(self) -> None:
        # A kernel that panics as it exits, its PANIC line cut short of its newline: the partial
        # line is still read (and is the run's last), so the success code cannot pass the run.
        status, out, _ = self.run_runner(
            [["out", "summary: checks=1 failed=0 verdict=PASS\nPANIC: boom"], ["exit", 41]])
        self.assertEqual(status, 1, out)
        self.assertIn("FAIL: kernel panic: PANIC: boom", self.verdict(out))

    def test_timeout_kills_the_whole_process_group(self) -> None:
        status, out, elapsed = self.run_runner(
            [["child"], ["tick", 0.1]], "--timeout", "1", "--expect", "never")
        self.assertEqual(status, 1)
        self.assertRegex(self.verdict(out), r"FAIL: timeout after 1 s; still waiting for "
                         r"expected line 1: /never/ \(QEMU ran 1\.\d\d s\)$")
        self.assertLess(elapsed, 5)
        self.assert_fake_is_gone()

    def test_deadline_from_test_timeout(self) -> None:
        start = time.monotonic()
        result = subprocess.run(self.command("--expect", "never"),
                                env=dict(self.environment([["tick", 0.1]]), TEST_TIMEOUT="2"),
                                capture_output=True, text=True, timeout=20)
        self.assertEqual(result.returncode, 1)
        self.assertRegex(self.verdict(result.stdout), r"FAIL: timeout after 1 s; still waiting for "
                         r"expected line 1: /never/")
        self.assertLess(time.monotonic() - start, 5)

    def test_silence_counts_from_the_last_output(self) -> None:
        # Output every 0.2 s for 1.6 s, with a silence bound of 1 s: never silent that long, so
        # the run ends at its exit, not at a silence counted from QEMU's start.
        plan = [step for i in range(8) for step in (["out", f"line {i}\n"], ["sleep", 0.2])]
        status, out, _ = self.run_runner(
            plan + [["out", "summary: verdict=PASS\n"], ["exit", 41]],
            "--silence-timeout", "1", "--expect", "line 7")
        self.assertEqual(status, 0, out)
        self.assertIn("kernel exited with success code 41", self.verdict(out))

    def test_silence_with_a_qemu_that_ignores_sigterm(self) -> None:
        status, out, elapsed = self.run_runner(
            [["ignore_term"], ["out", "hello\n"], ["sleep", 30]],
            "--silence-timeout", "0.5", "--expect", "hello", "--expect", "world")
        self.assertEqual(status, 1)
        self.assertIn("FAIL: console silent for 0.5 s; still waiting for expected line 2: "
                      "/world/; last line: 'hello'", self.verdict(out))
        self.assertLess(elapsed, 5)
        self.assert_fake_is_gone()

    def test_kernel_that_never_prints(self) -> None:
        status, out, _ = self.run_runner(
            [["sleep", 30]], "--silence-timeout", "0.5", "--expect", "banner",
            "--expect-verdict", r"console silent for [\d.]+ s \(no serial output at all\)")
        self.assertEqual(status, 0, out)
        self.assertIn("qemu_test: run verdict: FAIL: console silent for 0.5 s (no serial output "
                      "at all); still waiting for expected line 1: /banner/", out)
        self.assertRegex(self.verdict(out), r"^qemu_test: PASS: the run failed as expected")

    def test_expect_verdict_fails_when_the_run_passes(self) -> None:
        status, out, _ = self.run_runner([["exit", 41]], "--expect-verdict", "timeout")
        self.assertEqual(status, 1)
        self.assertIn("FAIL: expected a failure matching /timeout/, but the run passed",
                      self.verdict(out))

    def test_triple_fault_over_qmp(self) -> None:
        status, out, _ = self.run_runner([["out", "boot\n"], ["reset"]], "--expect", "boot",
                                         "--expect-verdict", "triple fault or reset")
        self.assertEqual(status, 0, out)
        self.assertIn("qemu_test: CPU registers when the guest stopped:", out)
        self.assertIn("QEMU logged a triple fault; CPU state: RIP=ffffffff80001234 ", out)

    def test_reset_without_qmp_details(self) -> None:
        status, out, _ = self.run_runner([["out", "boot\n"], ["exit", 0]])
        self.assertEqual(status, 1)
        self.assertIn("FAIL: triple fault or reset (QEMU exited with status 0 without a "
                      "debug-exit) (QEMU ran", self.verdict(out))

    def test_qemu_error_is_quoted(self) -> None:
        status, out, _ = self.run_runner(
            [["err", "qemu-system-x86_64: -foo: invalid option\n"], ["exit", 1]])
        self.assertEqual(status, 1)
        self.assertIn("FAIL: unexpected QEMU exit status 1; QEMU said: qemu-system-x86_64: "
                      "-foo: invalid option", self.verdict(out))

    def terminate_when_ready(self, *flags: str) -> tuple[int, str, str]:
        """Runs the runner until the fake QEMU printed "ready", then sends it SIGTERM as
        Bazel's test timeout does; returns its exit status, stdout and stderr."""
        runner = subprocess.Popen(
            self.command(*flags), env=self.environment(
                [["child"], ["out", "ready\n"], ["sleep", 30]]),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 10
            seen = ""
            while "ready\n" not in seen and time.monotonic() < deadline:
                select.select([runner.stdout], [], [], 0.1)
                seen += runner.stdout.readline()
            self.assertIn("ready\n", seen)
            runner.send_signal(signal.SIGTERM)
            rest, errors = runner.communicate(timeout=10)
        finally:
            if runner.poll() is None:
                runner.kill()
        return runner.returncode, seen + rest, errors

    def test_sigterm_from_bazel(self) -> None:
        status, out, _ = self.terminate_when_ready("--expect", "never")
        self.assertEqual(status, 1)
        self.assertIn("FAIL: interrupted by SIGTERM (test timeout?); still waiting for expected "
                      "line 1: /never/", self.verdict(out))
        self.assert_fake_is_gone()

    def test_sigterm_in_interactive_mode(self) -> None:
        status, _, errors = self.terminate_when_ready("--interactive")
        self.assertEqual(status, 2)
        self.assertIn("qemu_run: QEMU stopped by SIGTERM", errors)
        self.assert_fake_is_gone()

    def test_uefi_boots_from_a_writable_vars_copy(self) -> None:
        code = os.path.join(self.dir, "CODE.fd")
        template = os.path.join(self.dir, "VARS.fd")
        for path in (code, template):
            with open(path, "wb") as firmware:
                firmware.write(b"\0" * 16)
            os.chmod(path, stat.S_IRUSR)  # read-only, as in Bazel's runfiles
        status, out, _ = self.run_runner(
            [["check_vars"], ["exit", 41]], "--firmware", "uefi", "--ovmf-code", code,
            "--ovmf-vars", template)
        self.assertEqual(status, 0, out)
        self.assertTrue(self.record()["vars_writable"])
        self.assertNotIn(f"file={template}", " ".join(self.record()["argv"]))

    def test_gdb_mode_has_no_timeouts(self) -> None:
        status, out, _ = self.run_runner(
            [["sleep", 1.2], ["out", "late\n"], ["exit", 41]], "--gdb", "--kernel-elf",
            "kernel.elf", "--silence-timeout", "0.3", "--timeout", "0.5")
        self.assertEqual(status, 0, out)
        self.assertIn("kernel.elf -ex 'target remote localhost:1234'", out)
        self.assertEqual(self.record()["argv"][-2:], ["-s", "-S"])

    def test_missing_iso(self) -> None:
        status, out, _ = self.run_runner([], "--iso", os.path.join(self.dir, "nope.iso"))
        self.assertEqual(status, 1)
        self.assertIn("qemu_test: FAIL: ISO not found:", self.verdict(out))

    def test_interactive_exit_codes(self) -> None:
        for plan_status, expected in ((41, 0), (43, 1), (0, 2)):
            result = subprocess.run(
                self.command("--interactive", "--expect", "ignored"),
                env=self.environment([["out", "hi\n"], ["exit", plan_status]]),
                capture_output=True, text=True, timeout=20, stdin=subprocess.DEVNULL)
            self.assertEqual(result.returncode, expected, result.stderr)
            self.assertEqual(result.stdout, "hi\n")  # the console goes straight through
        self.assertIn("qemu_run: triple fault or reset", result.stderr)


if __name__ == "__main__":
    unittest.main()
