"""Tests the conversion of valgrind --trace-malloc=yes logs into malloc traces (record_trace.py).

The logs below are written the way valgrind 3.19's malloc replacement prints them.
"""

import gzip
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import record_trace  # noqa: E402  (after the path is set)


def convert(text, max_ops=0):
    return record_trace.convert(text.strip("\n").split("\n"), max_ops)


class ConvertTest(unittest.TestCase):
    def test_calls_become_operations_with_ids(self):
        c = convert("""
==1== Memcheck, a memory error detector
--1-- malloc(48) = 0x4A43040
--1-- calloc(13,16) = 0x4A430B0
--1-- realloc(0x4A43040,100) = 0x4A44000
--1-- memalign(al 64, size 200) = 0x4A45000
--1-- _Znwm(24) = 0x4A46000
--1-- _ZnwmSt11align_val_t(size 40, al 32) = 0x4A47000
--1-- _ZdlPvm(0x4A46000)
--1-- free(0x4A44000)
--1-- free(0x0)
--1-- malloc_usable_size(0x4A430B0)
--1-- free(0x4A430B0)
""")
        self.assertEqual(c.ops, ["a 1 48 16", "z 2 13 16", "r 1 100", "a 3 200 64", "a 4 24 16",
                                 "a 5 40 32", "f 4", "f 1", "f 2"])
        self.assertEqual(sorted(c.live.values()), [3, 5])

    def test_realloc_of_null_is_an_allocation_and_realloc_to_zero_a_free(self):
        # As valgrind 3.19 prints them: realloc(p, 0) with the free it becomes, its result on a
        # line of its own.
        c = convert("""
--7-- realloc(0x0,1600)malloc(1600) = 0x4A442F0
--7-- realloc(0x4A442F0,0)free(0x4A442F0)
--7--  = 0
--7-- malloc(8) = 0x4A442F0
""")
        self.assertEqual(c.ops, ["a 1 1600 16", "f 1", "a 2 8 16"])
        self.assertEqual(c.failed, 0)

    def test_a_call_without_result_is_failed_and_the_glued_call_read(self):
        # A calloc whose size overflows prints no result; the program's next call follows it on
        # the same line (valgrind 3.19).
        c = convert("""
--7-- calloc(9223372036854775807,4)malloc(24) = 0x4A430F0
--7-- free(0x4A430F0)
""")
        self.assertEqual(c.ops, ["a 1 24 16", "f 1"])
        self.assertEqual(c.failed, 1)

    def test_failed_and_unknown_calls_are_dropped_and_counted(self):
        c = convert("""
--7-- malloc(99999999999) = 0x0
--7-- free(0x1234)
--7-- realloc(0x5678,10) = 0x9990
--7-- malloc(8) = 0x100
--7-- realloc(0x100,1000000000000) = 0x0
""")
        self.assertEqual(c.ops, ["a 1 8 16"])
        self.assertEqual(c.failed, 2)
        self.assertEqual(c.unknown_frees, 2)

    def test_an_address_handed_out_again_ends_the_block_the_log_did_not_free(self):
        c = convert("""
--7-- malloc(8) = 0x100
--7-- malloc(16) = 0x100
""")
        self.assertEqual(c.ops, ["a 1 8 16", "f 1", "a 2 16 16"])

    def test_max_ops_keeps_a_prefix(self):
        log = "\n".join(f"--1-- malloc({n}) = {hex(0x1000 + 64 * n)}" for n in range(1, 50))
        self.assertEqual(convert(log, max_ops=3).ops, ["a 1 1 16", "a 2 2 16", "a 3 3 16"])

    def test_unreadable_call_is_an_error_with_its_line(self):
        with self.assertRaisesRegex(record_trace.ConvertError, "line 2: cannot read number"):
            convert("--1-- malloc(8) = 0x100\n--1-- malloc(eight) = 0x200")
        with self.assertRaisesRegex(record_trace.ConvertError, "line 1: expected ' = ADDRESS'"):
            convert("--1-- malloc(8)")
        with self.assertRaisesRegex(record_trace.ConvertError, "not a power of two"):
            convert("--1-- memalign(al 24, size 8) = 0x100")

    def test_written_trace_is_gzip_and_reproducible(self):
        with tempfile.TemporaryDirectory() as tmp:
            first, second = os.path.join(tmp, "1.ops.gz"), os.path.join(tmp, "2.ops.gz")
            record_trace.write_trace(["a 1 8 16", "f 1"], first)
            record_trace.write_trace(["a 1 8 16", "f 1"], second)
            with open(first, "rb") as f1, open(second, "rb") as f2:
                self.assertEqual(f1.read(), f2.read())
            with gzip.open(first, "rt") as f:
                self.assertEqual(f.read(), "a 1 8 16\nf 1\n")


if __name__ == "__main__":
    unittest.main()
