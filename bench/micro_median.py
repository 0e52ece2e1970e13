#!/usr/bin/python3
"""micro_median.py: interleaved runs of micro benchmarks, medians per row.

  bench/micro_median.py N ROW BIN...    e.g.
  bench/micro_median.py 12 switch /tmp/before/build/micro_stages build/micro_stages
  bench/micro_median.py 6 0 /tmp/before/build/micro_qos build/micro_qos   (every row)

Runs `taskset -c $MICRO_CPU BIN 300 ROW` (CPU 0 by default) N times for each BIN in turn (so that the
host's load falls on all of them alike) and prints, per BIN and output row
("<name>  <x> ns[: ratio <r>]"), the median and minimum ns and the median
and range of the ratio. A shared host moves single runs by 10 % or more:
compare medians of the same invocation, not figures of different ones.
"""
import collections
import os
import re
import statistics
import subprocess
import sys

CPU = os.environ.get("MICRO_CPU", "0")  # the CPU the runs are pinned to
ROW = re.compile(r"\s+(.*?)\s+([\d.]+) ns(: ratio ([\d.]+))?$")
# micro_qos's rows: "<name>  QoS off <x> ns, on <y> ns (QoS adds <z> ns): ratio <r>" (the
# added ns is the row's figure) and its anchors' "classification <x> ns, ... (8 classes a
# burst: <y> ns)"
QOS_ROW = re.compile(r"\s+(.*?)\s+QoS off .* \(QoS adds\s+([\d.]+) ns\): ratio ([\d.]+)$")
QOS_ANCHORS = re.compile(r"classification ([\d.]+) ns, .* \(8 classes a burst: ([\d.]+) ns\)")


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    n, row, bins = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
    ns = {b: collections.defaultdict(list) for b in bins}
    ratio = {b: collections.defaultdict(list) for b in bins}
    for _ in range(n):
        for b in bins:
            out = subprocess.run(["taskset", "-c", CPU, b, "300", row], capture_output=True,
                                 text=True, check=True).stdout
            for line in out.splitlines():
                m = QOS_ROW.match(line)
                if m:
                    ns[b][m.group(1) + ": QoS adds"].append(float(m.group(2)))
                    ratio[b][m.group(1) + ": QoS adds"].append(float(m.group(3)))
                    continue
                m = QOS_ANCHORS.search(line)
                if m:
                    ns[b]["anchor: classification"].append(float(m.group(1)))
                    ns[b]["anchor: scheduler pick of 8 classes"].append(float(m.group(2)))
                    continue
                m = None if "QoS-off" in line else ROW.match(line)  # micro_qos's "at best"
                if m:
                    ns[b][m.group(1)].append(float(m.group(2)))
                    if m.group(4):
                        ratio[b][m.group(1)].append(float(m.group(4)))
    for b in bins:
        print("==", b)
        for name, v in ns[b].items():
            r = ratio[b][name]
            extra = (f"  ratio median {statistics.median(r):.2f} ({min(r):.2f}-{max(r):.2f})"
                     if r else "")
            print(f"  {name:<40} median {statistics.median(v):6.2f} ns  min {min(v):6.2f}{extra}")


if __name__ == "__main__":
    main()
