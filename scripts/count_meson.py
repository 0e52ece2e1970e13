#!/usr/bin/env python3
"""Count cmocka test cases in a meson testlog.json: prints "passed failed skipped".

Each meson test is one cmocka binary printing "[       OK ] name" or
"[  FAILED  ] name" per case. A binary that crashed counts one more failure;
a meson test with no cmocka lines counts as one case.
"""
import json
import re
import sys

passed = failed = skipped = 0
with open(sys.argv[1]) as f:
    for line in f:
        t = json.loads(line)
        out = (t.get("stdout") or "") + (t.get("stderr") or "")
        ok = len(re.findall(r"^\[       OK \] ", out, re.M))
        bad = len(re.findall(r"^\[  FAILED  \] (?!\d)", out, re.M))
        sk = len(re.findall(r"^\[  SKIPPED \] (?!\d)", out, re.M))
        if ok or bad:
            passed += ok
            failed += bad
            skipped += sk
            if t["result"] != "OK" and not bad:
                failed += 1  # crashed or timed out after some cases passed
        elif t["result"] == "OK":
            passed += 1
        elif t["result"] == "SKIP":
            skipped += 1
        else:
            failed += 1
print(passed, failed, skipped)
