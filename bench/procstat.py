"""This process's memory as /proc/self/status reports it (Linux), for the benchmarks' children."""

from __future__ import annotations


def status_kib() -> dict[str, int]:
    """VmHWM, VmRSS, RssAnon and RssFile of this process, in KiB."""
    wanted = ("VmHWM", "VmRSS", "RssAnon", "RssFile")
    values = {}
    with open("/proc/self/status") as status:
        for line in status:
            key, _, rest = line.partition(":")
            if key in wanted:
                values[key] = int(rest.split()[0])
    return values


def mib(kib: float) -> float:
    return round(kib / 1024, 1)
