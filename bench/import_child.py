"""Run ``manage.py import-sessions FILE`` in this process and report its peak memory.

    python -m bench.import_child FILE

Prints the import's own output, then ``peak_rss_kb=N`` from /proc/self/status
(VmHWM: the high-water mark of this process's memory, which exec reset — a
figure from wait4 would include the pages of the parent it was forked from).
"""

from __future__ import annotations

import sys
from pathlib import Path

import manage


def peak_rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


if __name__ == "__main__":
    status = manage.main(["import-sessions", sys.argv[1]])
    print(f"peak_rss_kb={peak_rss_kb()}", flush=True)
    sys.exit(status)
