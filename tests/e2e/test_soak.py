# SPDX-License-Identifier: BSD-3-Clause
"""Short fault and soak run (~60 s): see soak.py for the topology, the
operations and what is checked. scripts/soak.sh runs the same for longer.

XVS_SOAK_SECONDS sets the length, XVS_SOAK_SEED replays a run's choices,
XVS_SOAK_SUMMARY names a file for the summary line.
"""
import os

from soak import Soak


def test_soak_short(switch_unstarted):
    sw = switch_unstarted
    sw.xvsd.extra = ["--workers", "2"]
    sw.start()
    seed = os.environ.get("XVS_SOAK_SEED")
    soak = Soak(sw, int(os.environ.get("XVS_SOAK_SECONDS", "60")),
                int(seed) if seed else None)
    result = soak.run()
    if os.environ.get("XVS_SOAK_SUMMARY"):
        with open(os.environ["XVS_SOAK_SUMMARY"], "a") as f:
            f.write(soak.summary + "\n")
    assert result == "PASS", result
