#!/usr/bin/env python3
"""One command through QEMU's monitor (QMP on a unix socket).

usage: qmp.py SOCKET COMMAND [ARGUMENTS-JSON]
e.g.   qmp.py vm1.qmp set_link '{"name": "n0", "up": false}'

QMP answers in JSON, unlike the human monitor's redrawn echo. Prints the
command's return value as JSON and exits 0, or prints QEMU's error and
exits 1. ci/softroce-cluster's `ctl link` uses it.
"""

import json
import socket
import sys


def call(stream, command, arguments):
    stream.write(json.dumps({"execute": command, "arguments": arguments}) + "\n")
    stream.flush()
    while True:  # events may come first
        msg = json.loads(stream.readline())
        if "return" in msg or "error" in msg:
            return msg


def main(argv):
    if len(argv) not in (3, 4):
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(10)
    sock.connect(argv[1])
    stream = sock.makefile("rw")
    json.loads(stream.readline())  # the greeting
    call(stream, "qmp_capabilities", {})
    reply = call(stream, argv[2], json.loads(argv[3]) if len(argv) == 4 else {})
    if "error" in reply:
        print(reply["error"].get("desc", reply["error"]))
        return 1
    print(json.dumps(reply["return"]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
