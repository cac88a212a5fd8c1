"""Run a command and print its peak resident memory: `python -m benchmarks.peak OUT CMD...`.

Linux carries a process's peak-memory figure across exec, so a child started by a big process
reports at least the parent's size. This launcher is small (it imports only os and sys): the
command runs as its child, and its figure, written to OUT in KiB, is the command's own.
"""

import os
import sys


def main() -> None:
    out, args = sys.argv[1], sys.argv[2:]
    pid = os.posix_spawn(args[0], args, dict(os.environ))
    _, status, usage = os.wait4(pid, 0)
    with open(out, "w", encoding="ascii") as fh:
        fh.write(str(usage.ru_maxrss))
    sys.exit(os.waitstatus_to_exitcode(status))


if __name__ == "__main__":
    main()
