#!/usr/bin/python3
"""Stores one instance, then aborts the association in the middle of a second one.

usage: abort_midway.py HOST PORT CALLED_AE FILE1 FILE2
Both files must be explicit VR little endian. The PDUs and the command sets are built here
by hand (PS3.8 9.3, PS3.7 9.3.1.1), independently of calcnode. Exit 0 when the first store
was answered Success and the abort was sent."""
import socket
import struct
import sys

import pydicom

HOST, PORT, CALLED, FILE1, FILE2 = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
EXPLICIT_LE = b"1.2.840.10008.1.2.1"


def item(t, v):
    return struct.pack(">BBH", t, 0, len(v)) + v


def even(b):
    return b + b"\x00" if len(b) % 2 else b


def element(group, elem, value):
    return struct.pack("<HHI", group, elem, len(value)) + value


def c_store_rq(message_id, sop_class, sop_instance):
    body = (element(0, 0x0002, even(sop_class.encode())) +
            element(0, 0x0100, struct.pack("<H", 0x0001)) +
            element(0, 0x0110, struct.pack("<H", message_id)) +
            element(0, 0x0700, struct.pack("<H", 0)) +
            element(0, 0x0800, struct.pack("<H", 0x0000)) +
            element(0, 0x1000, even(sop_instance.encode())))
    return element(0, 0x0000, struct.pack("<I", len(body))) + body


def pdata(pc_id, control, data):
    pdv = struct.pack(">IBB", len(data) + 2, pc_id, control) + data
    return struct.pack(">BBI", 0x04, 0, len(pdv)) + pdv


def dataset_bytes(path):
    with open(path, "rb") as f:
        raw = f.read()
    glen = int.from_bytes(raw[140:144], "little")
    return raw[144 + glen:]


def recv_pdu(s):
    head = b""
    while len(head) < 6:
        chunk = s.recv(6 - len(head))
        if not chunk:
            raise EOFError("connection closed")
        head += chunk
    (length,) = struct.unpack(">I", head[2:6])
    body = b""
    while len(body) < length:
        chunk = s.recv(length - len(body))
        if not chunk:
            raise EOFError("connection closed")
        body += chunk
    return head[0], body


ds1 = pydicom.dcmread(FILE1, stop_before_pixels=True)
ds2 = pydicom.dcmread(FILE2, stop_before_pixels=True)
sop_class = ds1.SOPClassUID
pc = item(0x20, struct.pack(">BBBB", 1, 0, 0, 0) + item(0x30, sop_class.encode()) + item(0x40, EXPLICIT_LE))
user = item(0x50, item(0x51, struct.pack(">I", 65536)) + item(0x52, b"1.2.3.4"))
rq = struct.pack(">HH", 1, 0) + CALLED.encode().ljust(16) + b"ABORTTEST".ljust(16) + bytes(32)
rq += item(0x10, b"1.2.840.10008.3.1.1.1") + pc + user
s = socket.create_connection((HOST, PORT), timeout=30)
s.sendall(struct.pack(">BBI", 0x01, 0, len(rq)) + rq)
t, body = recv_pdu(s)
assert t == 0x02, f"association not accepted (PDU type {t})"

# 1. a complete instance
s.sendall(pdata(1, 0x03, c_store_rq(1, sop_class, ds1.SOPInstanceUID)))
data = dataset_bytes(FILE1)
for off in range(0, len(data), 16000):
    last = off + 16000 >= len(data)
    s.sendall(pdata(1, 0x02 if last else 0x00, data[off:off + 16000]))
t, body = recv_pdu(s)
assert t == 0x04, f"expected P-DATA with the C-STORE-RSP, got PDU type {t}"
status_pos = body.find(struct.pack("<HHI", 0, 0x0900, 2))
status = struct.unpack("<H", body[status_pos + 8:status_pos + 10])[0]
assert status == 0, f"first store answered {status:04X}"

# 2. half of a second one, then A-ABORT (source 0: service user)
s.sendall(pdata(1, 0x03, c_store_rq(2, sop_class, ds2.SOPInstanceUID)))
data = dataset_bytes(FILE2)
for off in range(0, len(data) // 2, 16000):
    s.sendall(pdata(1, 0x00, data[off:min(off + 16000, len(data) // 2)]))
s.sendall(struct.pack(">BBI", 0x07, 0, 4) + bytes([0, 0, 0, 0]))
s.close()
print("stored one instance, aborted during the second")
