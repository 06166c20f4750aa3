#!/usr/bin/python3
"""Opens one DICOM association (Verification, PS3.8 9.3.2) and holds it open until asked
to release it, so a test can fill an association limit deterministically.

usage: hold_association.py HOST PORT CALLING_AE CALLED_AE STATUS_FILE RELEASE_FILE

Writes "accepted" or "rejected RESULT SOURCE REASON" (PS3.8 Table 9-21) to STATUS_FILE
once the acceptor has answered. When accepted, waits until RELEASE_FILE exists, then
sends A-RELEASE-RQ, reads the A-RELEASE-RP and closes. Exit status 0 when accepted and
released, 1 when rejected, 2 on any other outcome."""
import os
import socket
import struct
import sys
import time

APPLICATION_CONTEXT = b"1.2.840.10008.3.1.1.1"
VERIFICATION = b"1.2.840.10008.1.1"
IMPLICIT_LE = b"1.2.840.10008.1.2"
IMPLEMENTATION_CLASS = b"1.2.826.0.1.3680043.10.1497.9.0"
MAX_LENGTH = 16384
POLL_S = 0.02
HOLD_LIMIT_S = 300


def item(item_type, value):
    return struct.pack(">BBH", item_type, 0, len(value)) + value


def ae(title):
    return title.encode("ascii").ljust(16, b" ")[:16]


def associate_rq(calling, called):
    pc = struct.pack(">BBBB", 1, 0, 0, 0) + item(0x30, VERIFICATION) + item(0x40, IMPLICIT_LE)
    user = item(0x51, struct.pack(">I", MAX_LENGTH)) + item(0x52, IMPLEMENTATION_CLASS)
    body = (struct.pack(">HH", 1, 0) + ae(called) + ae(calling) + bytes(32)
            + item(0x10, APPLICATION_CONTEXT) + item(0x20, pc) + item(0x50, user))
    return struct.pack(">BBI", 0x01, 0, len(body)) + body


def read_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise EOFError("connection closed by the acceptor")
        data += chunk
    return data


def read_pdu(sock):
    pdu_type, _, length = struct.unpack(">BBI", read_exact(sock, 6))
    return pdu_type, read_exact(sock, length)


def write_status(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text + "\n")
    os.rename(tmp, path)


def main():
    host, port, calling, called, status_file, release_file = sys.argv[1:7]
    sock = socket.create_connection((host, int(port)))
    sock.sendall(associate_rq(calling, called))
    pdu_type, body = read_pdu(sock)
    if pdu_type == 0x03:
        result, source, reason = body[1], body[2], body[3]
        write_status(status_file, f"rejected {result} {source} {reason}")
        sock.close()
        return 1
    if pdu_type != 0x02:
        write_status(status_file, f"unexpected PDU type {pdu_type}")
        return 2
    write_status(status_file, "accepted")
    deadline = time.monotonic() + HOLD_LIMIT_S
    while not os.path.exists(release_file):
        if time.monotonic() > deadline:
            return 2
        time.sleep(POLL_S)
    sock.sendall(struct.pack(">BBI", 0x05, 0, 4) + bytes(4))
    pdu_type, _ = read_pdu(sock)
    sock.close()
    return 0 if pdu_type == 0x06 else 2


if __name__ == "__main__":
    sys.exit(main())
