#!/usr/bin/python3
"""Records a program's heap allocations as a malloc trace for the replay benchmark.

    bazel run //tools:record_trace -- [--max-ops N] [--env NAME=VALUE] --out FILE.ops.gz \\
        -- PROGRAM [ARGS...]
    bazel run //tools:record_trace -- --convert VALGRIND_LOG --out FILE.ops.gz

Runs PROGRAM under `valgrind --trace-malloc=yes` (in the directory `bazel run` was started
from), which logs every malloc, calloc, realloc, memalign-family call, operator new/delete and free
with its addresses, and converts that log into the trace format of alloc/bench/trace.h: one
operation a line, `a ID SIZE ALIGN`, `z ID COUNT SIZE`, `r ID SIZE`, `f ID`, with block IDs
instead of addresses (an ID is given at allocation and follows the block through reallocs).
The result is gzip'ed with a zero timestamp, so the same log gives the same bytes.

Conversion rules: a failed allocation (NULL) and free(NULL) are dropped; realloc(NULL, n) is an
allocation; realloc(p, 0) that frees is `f`; a free or realloc of an address the log never
allocated (memory from before valgrind took over) is dropped and counted. --max-ops keeps the
first N operations, so that a long run fits in a small file. A line of the log that looks like a
malloc call but cannot be read stops the conversion with its line number.
"""

import argparse
import gzip
import os
import re
import subprocess
import sys
import tempfile

# One call as --trace-malloc=yes prints it, after the "--PID-- " prefix. realloc(NULL, n)
# continues on the same line with the malloc it turns into.
CALL = re.compile(r"^--\d+-- (?P<call>[A-Za-z_][A-Za-z_0-9]*)\((?P<args>[^)]*)\)(?P<rest>.*)$")
RESULT = re.compile(r"^\s*=\s*(0x[0-9A-Fa-f]+|\(nil\)|0)\s*$")

# The calls valgrind's malloc replacement prints (vg_replace_malloc.c), by what they do:
# operator new and delete appear under their mangled names (_Znwm, _ZdlPv, ...).
ALLOC_CALL = re.compile(r"^(malloc|__builtin_new|__builtin_vec_new|memalign|_Zn[wa]m.*)$")
FREE_CALL = re.compile(r"^(free|cfree|__builtin_delete|__builtin_vec_delete|_Zd[la]Pv.*)$")
IGNORED_CALL = re.compile(r"^malloc_usable_size$")


class ConvertError(Exception):
    """A log line that names an allocation call but cannot be read."""


def _number(text, lineno):
    try:
        return int(text.strip(), 0)
    except ValueError:
        raise ConvertError(f"line {lineno}: cannot read number {text.strip()!r}") from None


def _size_and_align(args, lineno):
    """Reads "N", "size N, al A" or "al A, size N"; the alignment defaults to malloc's 16."""
    size, align = None, 16
    for item in args.split(","):
        item = item.strip()
        if item.startswith("al "):
            align = max(16, _number(item[3:], lineno))
        elif item.startswith("size "):
            size = _number(item[5:], lineno)
        elif size is None:
            size = _number(item, lineno)
        else:
            raise ConvertError(f"line {lineno}: unexpected argument {item!r}")
    if size is None:
        raise ConvertError(f"line {lineno}: no size in {args!r}")
    if align & (align - 1):
        raise ConvertError(f"line {lineno}: alignment {align} is not a power of two")
    return size, align


def _address(text, lineno):
    text = text.strip()
    if text in ("(nil)", "0", "0x0"):
        return 0
    try:
        return int(text, 16)
    except ValueError:
        raise ConvertError(f"line {lineno}: cannot read address {text!r}") from None


def _result(rest, lineno):
    match = RESULT.match(rest)
    if match is None:
        raise ConvertError(f"line {lineno}: expected ' = ADDRESS' after the call, got {rest!r}")
    return _address(match.group(1), lineno)


class Converter:
    """Turns --trace-malloc=yes log lines into trace operations."""

    def __init__(self, max_ops=0):
        self.max_ops = max_ops
        self.ops = []
        self.live = {}  # address -> block ID
        self.next_id = 1
        self.unknown_frees = 0
        self.failed = 0

    def full(self):
        return self.max_ops and len(self.ops) >= self.max_ops

    def _new(self, address, line):
        """Records a new block at `address` as `line`, given its ID; counts a failed call (0)."""
        if address == 0:
            self.failed += 1
            return
        if address in self.live:
            # The log missed a free (e.g. from inside valgrind): the old block is gone.
            self.ops.append(f"f {self.live.pop(address)}")
        block = self.next_id
        self.next_id += 1
        self.live[address] = block
        self.ops.append(line.format(id=block))

    def feed(self, text, lineno):
        match = CALL.match(text)
        if match is None:
            return
        call, args, rest = match.group("call"), match.group("args"), match.group("rest")
        parts = args.split(",") if args.strip() else []
        if IGNORED_CALL.match(call):
            return
        glued = CALL.match("--0-- " + rest.strip())
        if glued is not None and call != "realloc":
            # A call valgrind printed no result for (a calloc whose size overflows fails before
            # it allocates), with the program's next call on the same line.
            self.failed += 1
            self.feed("--0-- " + rest.strip(), lineno)
            return
        if ALLOC_CALL.match(call):
            size, align = _size_and_align(args, lineno)
            self._new(_result(rest, lineno), "a {id} " + f"{size} {align}")
        elif call == "calloc":
            if len(parts) != 2:
                raise ConvertError(f"line {lineno}: calloc needs 2 arguments, got {args!r}")
            count, size = _number(parts[0], lineno), _number(parts[1], lineno)
            self._new(_result(rest, lineno), "z {id} " + f"{count} {size}")
        elif call == "realloc":
            if len(parts) != 2:
                raise ConvertError(f"line {lineno}: realloc needs 2 arguments, got {args!r}")
            old, size = _address(parts[0], lineno), _number(parts[1], lineno)
            if old == 0:
                # realloc(NULL, n): valgrind prints the malloc it becomes on the same line.
                address = _result(glued.group("rest"), lineno) if glued else _result(rest, lineno)
                self._new(address, "a {id} " + f"{size} 16")
                return
            if glued is not None and glued.group("call") == "free":
                # realloc(p, 0): valgrind prints the free it becomes on the same line, and its
                # " = 0" on a line of its own, which names no call and is skipped.
                block = self.live.pop(old, None)
                if block is None:
                    self.unknown_frees += 1
                else:
                    self.ops.append(f"f {block}")
                return
            address = _result(rest, lineno)
            block = self.live.get(old)
            if block is None:
                self.unknown_frees += 1
                return
            if size == 0 and address == 0:
                del self.live[old]
                self.ops.append(f"f {block}")
                return
            if address == 0:
                self.failed += 1  # failed realloc: the old block stays
                return
            del self.live[old]
            if size == 0:
                # realloc(p, 0) returning a block: a free and a new minimum allocation.
                self.ops.append(f"f {block}")
                self._new(address, "a {id} 0 16")
                return
            if address in self.live:
                self.ops.append(f"f {self.live.pop(address)}")
            self.live[address] = block
            self.ops.append(f"r {block} {size}")
        elif FREE_CALL.match(call):
            address = _address(parts[0] if parts else "", lineno)
            if address == 0:
                return
            block = self.live.pop(address, None)
            if block is None:
                self.unknown_frees += 1
                return
            self.ops.append(f"f {block}")


def convert(lines, max_ops=0):
    """Returns a Converter fed with the log lines (stops at max_ops operations)."""
    converter = Converter(max_ops)
    for lineno, text in enumerate(lines, 1):
        converter.feed(text.rstrip("\n"), lineno)
        if converter.full():
            del converter.ops[max_ops:]
            break
    return converter


def write_trace(ops, path):
    with open(path, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", compresslevel=9, fileobj=raw, mtime=0) as out:
            out.write(("\n".join(ops) + "\n").encode())


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--valgrind", required=True, help="the pinned valgrind (from BUILD)")
    parser.add_argument("--out", required=True, help="the trace to write (.ops.gz)")
    parser.add_argument("--max-ops", type=int, default=0, help="keep the first N operations")
    parser.add_argument("--convert", help="convert this --trace-malloc=yes log instead of running")
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for the program")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- PROGRAM [ARGS...]")
    args = parser.parse_args(argv)
    cwd = os.environ.get("BUILD_WORKING_DIRECTORY", os.getcwd())
    out = os.path.join(cwd, args.out)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command

    if args.convert:
        log = os.path.join(cwd, args.convert)
    elif command:
        env = dict(os.environ)
        for item in args.env:
            name, sep, value = item.partition("=")
            if not sep:
                parser.error(f"--env expects NAME=VALUE, got {item!r}")
            env[name] = value
        handle, log = tempfile.mkstemp(suffix=".vglog")
        os.close(handle)
        status = subprocess.call([args.valgrind, "--tool=memcheck", "--trace-malloc=yes",
                                  "--leak-check=no", "--undef-value-errors=no",
                                  f"--log-file={log}"] + command, cwd=cwd, env=env)
        if status != 0:
            print(f"record_trace: note: the program exited with status {status}", file=sys.stderr)
    else:
        parser.error("give --convert LOG or -- PROGRAM [ARGS...]")

    try:
        with open(log, encoding="utf-8", errors="replace") as lines:
            converter = convert(lines, args.max_ops)
    except ConvertError as error:
        print(f"record_trace: {log}: {error}", file=sys.stderr)
        return 1
    finally:
        if not args.convert:
            os.unlink(log)
    if not converter.ops:
        print("record_trace: no allocations in the log", file=sys.stderr)
        return 1
    write_trace(converter.ops, out)
    print(f"record_trace: {out}: {len(converter.ops)} operations, {len(converter.live)} blocks "
          f"live at the end, {converter.unknown_frees} frees of unknown addresses dropped, "
          f"{converter.failed} failed allocations dropped, {os.path.getsize(out)} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
