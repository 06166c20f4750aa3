#!/usr/bin/python3
"""Hostile Upper Layer input against a running calcnode (PS3.8 section 9.3).

usage: hostile.py HOST PORT CALLED_AE ARTIM_S
Each case opens a connection, sends bytes an honest peer never would, and checks that
the node answers at once (A-ABORT, A-ASSOCIATE-RJ, or closing the connection) and never
hangs. Prints one line per case and exits 1 if any case failed.
The PDUs are built here by hand from the standard's tables, independently of calcnode.
"""
import socket
import struct
import sys
import time

HOST, PORT, CALLED, ARTIM_S = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
APP_CONTEXT = b"1.2.840.10008.3.1.1.1"
VERIFICATION = b"1.2.840.10008.1.1"
IMPLICIT_LE = b"1.2.840.10008.1.2"


def item(item_type, value):
    return struct.pack(">BBH", item_type, 0, len(value)) + value


def ae(title):
    return (title if isinstance(title, bytes) else title.encode()).ljust(16)


def associate_rq(called=CALLED, pc_id=1, extra=b"", calling="HOSTILE"):
    pc = item(0x20, struct.pack(">BBBB", pc_id, 0, 0, 0) + item(0x30, VERIFICATION) +
              item(0x40, IMPLICIT_LE))
    user = item(0x50, item(0x51, struct.pack(">I", 16384)) + item(0x52, b"1.2.3.4"))
    body = struct.pack(">HH", 1, 0) + ae(called) + ae(calling) + bytes(32)
    body += item(0x10, APP_CONTEXT) + pc + user + extra
    return struct.pack(">BBI", 0x01, 0, len(body)) + body


def exchange(payload, wait_s=5.0, hold_open=False):
    """Sends payload, returns (bytes received, seconds until the node closed or answered)."""
    s = socket.create_connection((HOST, PORT), timeout=wait_s)
    start = time.monotonic()
    s.sendall(payload)
    data = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
            if not hold_open and len(data) >= 6:
                (length,) = struct.unpack(">I", data[2:6])
                if len(data) >= 6 + length and data[0] in (0x03, 0x07):
                    break
    except socket.timeout:
        pass
    finally:
        s.close()
    return data, time.monotonic() - start


failures = 0


def check(name, ok, detail=""):
    global failures
    print(("ok   " if ok else "FAIL ") + name + (": " + detail if detail else ""))
    if not ok:
        failures += 1


def refused(data):
    """The node answered with A-ABORT (0x07) or A-ASSOCIATE-RJ (0x03), or just closed."""
    return data == b"" or data[0] in (0x03, 0x07)


# 1. garbage: an unknown PDU type
data, t = exchange(b"\xde\xad\xbe\xef" * 64)
check("garbage bytes are refused at once", refused(data) and t < 2, f"{data[:8].hex()} {t:.2f}s")

# 2. a declared length of 4 GB: refused before anything is buffered
data, t = exchange(struct.pack(">BBI", 0x01, 0, 0xFFFFFFFF) + b"\x00" * 100)
check("A-ASSOCIATE-RQ declaring 4 GB is refused at once", refused(data) and t < 2,
      f"{data[:8].hex()} {t:.2f}s")
data, t = exchange(struct.pack(">BBI", 0x04, 0, 0xFFFFFFFF) + b"\x00" * 100)
check("P-DATA-TF declaring 4 GB is refused at once", refused(data) and t < 2,
      f"{data[:8].hex()} {t:.2f}s")

# 3. P-DATA before any association
pdv = struct.pack(">IBB", 4, 1, 0x03) + b"\x00\x00"
data, t = exchange(struct.pack(">BBI", 0x04, 0, len(pdv)) + pdv)
check("P-DATA-TF before association is aborted", refused(data) and t < 2,
      f"{data[:8].hex()} {t:.2f}s")

# 4. an item running past its PDU
rq = bytearray(associate_rq())
# the application context item starts after the 68 fixed bytes + 6 header: make it huge
struct.pack_into(">H", rq, 6 + 68 + 2, 0x7FFF)
data, t = exchange(bytes(rq))
check("item longer than its PDU is refused", refused(data) and t < 2, f"{data[:8].hex()} {t:.2f}s")

# 5. a too-short A-ASSOCIATE-RQ
data, t = exchange(struct.pack(">BBI", 0x01, 0, 10) + b"\x00" * 10)
check("too-short A-ASSOCIATE-RQ is refused", refused(data) and t < 2, f"{data[:8].hex()} {t:.2f}s")

# 6. an even presentation context ID
data, t = exchange(associate_rq(pc_id=2))
check("even presentation context ID is refused", refused(data) and t < 2,
      f"{data[:8].hex()} {t:.2f}s")

# 7. unknown called AE title: A-ASSOCIATE-RJ, permanent, service user, reason 7
data, t = exchange(associate_rq(called="NOT-CALCNODE"))
ok = len(data) >= 10 and data[0] == 0x03 and data[7:10] == bytes([1, 1, 7])
check("unknown called AE title is rejected with reason 7", ok, data[:10].hex())

# 7b. AE titles with bytes outside the AE repertoire (not even UTF-8): refused the same
# way; the node records the refusal with those bytes replaced (checked by the caller)
data, t = exchange(associate_rq(called=b"NOT\xffCALC\x01", calling=b"BAD\xfe\x00X"))
ok = len(data) >= 10 and data[0] == 0x03 and data[7:10] == bytes([1, 1, 7])
check("AE titles of non-text bytes are rejected with reason 7", ok, data[:10].hex())

# 8. a peer that stalls in the middle of a PDU is dropped after the ARTIM timeout
full = associate_rq()
data, t = exchange(full[:20], wait_s=ARTIM_S * 3 + 5, hold_open=True)
check("stalled peer is dropped after ARTIM", t < ARTIM_S * 3 + 4 and t >= ARTIM_S * 0.5,
      f"closed after {t:.1f}s (ARTIM {ARTIM_S}s)")

# 9. a valid association, then garbage inside it: A-ABORT
s = socket.create_connection((HOST, PORT), timeout=5)
s.sendall(associate_rq())
ac = s.recv(65536)
check("valid association is accepted", len(ac) > 0 and ac[0] == 0x02, ac[:6].hex())
s.sendall(b"\x09\x00\x00\x00\x00\x04abcd")
try:
    rest = s.recv(65536)
except (ConnectionResetError, socket.timeout):
    rest = b""
check("unknown PDU type inside an association is aborted", refused(rest), rest[:8].hex())
s.close()

# 10. many connections opened and dropped at once
for _ in range(50):
    c = socket.create_connection((HOST, PORT), timeout=5)
    c.sendall(associate_rq()[:30])
    c.close()
s = socket.create_connection((HOST, PORT), timeout=5)
s.sendall(associate_rq())
ac = s.recv(65536)
s.close()
check("a valid association is accepted after 50 half-open connections were dropped",
      len(ac) > 0 and ac[0] == 0x02, ac[:6].hex())

sys.exit(1 if failures else 0)
