#!/usr/bin/python3
"""Host tests of tools/size_report.py: which sections count as what, the sums, and the argument
parsers' errors. The end-to-end run is //alloc:size_report itself.

Run: bazel test //tools:size_report_test
"""

import argparse
import os
import sys
import unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import size_report  # noqa: E402  (after the path is set)

# `llvm-size -A` of a relocatable object, as llvm-size-19 prints it for Thumb.
SAMPLE = """core.o  :
section                                    size   addr
.text.alloc_heap_init                       388      0
.ARM.exidx.text.alloc_heap_init               8      0
.rel.ARM.exidx.text.alloc_heap_init          16      0
.text                                         0      0
.rodata.cst16                                16      0
.data.rel.ro.table                           32      0
.data.counter                                 4      0
.sdata                                        8      0
.bss.state                                   64      0
.tbss.errno                                   4      0
.comment                                     41      0
.debug_info                                1234      0
.eh_frame                                    56      0
Total                                      1871
"""


class KindTest(unittest.TestCase):
    def test_kinds(self):
        expect = {
            ".text": "text",
            ".text.alloc_malloc": "text",
            ".rodata": "rodata",
            ".rodata.str1.1": "rodata",
            ".srodata.cst8": "rodata",
            ".data.rel.ro": "rodata",
            ".data.rel.ro.local": "rodata",
            ".data": "data",
            ".data.x": "data",
            ".sdata": "data",
            ".tdata.x": "data",
            ".bss": "bss",
            ".sbss.y": "bss",
            ".tbss": "bss",
        }
        for section, kind in expect.items():
            self.assertEqual(kind, size_report.kind_of(section), section)

    def test_not_counted(self):
        for section in (".ARM.exidx.text.f", ".eh_frame", ".rel.text.f", ".rela.text.f",
                        ".debug_info", ".comment", ".textual", ".database", ".note.GNU-stack"):
            self.assertIsNone(size_report.kind_of(section), section)

    def test_sums(self):
        self.assertEqual({"text": 388, "rodata": 48, "data": 12, "bss": 68},
                         size_report.sizes_of(SAMPLE))


class ParseTest(unittest.TestCase):
    def test_target(self):
        self.assertEqual(("cortex_m4", "a/b.a"), size_report.parse_target("cortex_m4=a/b.a"))
        for bad in ("cortex_m4", "=a.a", "cortex_m4="):
            with self.assertRaises(argparse.ArgumentTypeError):
                size_report.parse_target(bad)

    def test_goal(self):
        self.assertEqual(("cortex_m4", 2560, "TLSF"), size_report.parse_goal("cortex_m4=2560:TLSF"))
        for bad in ("cortex_m4=2560", "cortex_m4=big:TLSF", "cortex_m4=2560:", "2560:TLSF"):
            with self.assertRaises(argparse.ArgumentTypeError):
                size_report.parse_goal(bad)


class GoalTest(unittest.TestCase):
    def test_verdicts(self):
        cores = {"cortex_m4": {"text": 2560}, "host": {"text": 4000}}
        verdicts = size_report.goal_verdicts(
            [("cortex_m4", 2560, "TLSF"), ("host", 3999, "small")], cores)
        self.assertEqual([
            ("goal on cortex_m4: core text 2560 bytes, at most 2560 (TLSF): met", True),
            ("goal on host: core text 4000 bytes, at most 3999 (small): NOT met, 1 bytes over",
             False),
        ], verdicts)


if __name__ == "__main__":
    unittest.main()
