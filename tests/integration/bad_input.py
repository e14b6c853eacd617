"""Sends hostile input to a running logward (TCP and UDP on loopback) and
interleaves well-formed marker messages that must all be stored.
Usage: bad_input.py TCP_PORT UDP_PORT IDLE_CONNECTIONS"""
import os
import random
import socket
import sys
import time

tcp_port, udp_port, idle = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
markers = 0


def conn():
    s = socket.create_connection(("127.0.0.1", tcp_port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def marker(sock, name):
    global markers
    markers += 1
    sock.sendall(b"<14>Nov 27 12:00:00 goodhost marker: ok %s\n" % name.encode())


rng = random.Random(42)

# 1. binary garbage (no syslog shape at all), then a marker on the same
#    connection: LF framing resynchronises at the next newline.
s = conn()
garbage = bytes(b for b in rng.randbytes(900) if b not in (0x0A, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39))
s.sendall(b"\x01" + garbage + b"\n")
marker(s, "after-garbage")
# 2. NUL bytes inside a message, 3. invalid UTF-8, 4. Japanese text.
s.sendall(b"<13>Nov 27 12:00:01 badhost nul: before\x00after\n")
s.sendall(b"<13>Nov 27 12:00:02 badhost utf8: caf\xe9 \xff\xfe end\n")
marker(s, "after-bad-bytes")
# 5. a line over max_message_size (1 KiB in this test): cut, flagged, counted.
s.sendall(b"<13>Nov 27 12:00:03 badhost long: " + b"x" * 5000 + b"\n")
marker(s, "after-long")
s.close()

# 6. an octet count that lies (larger than the limit): the connection may
#    lose its framing, but the daemon keeps serving everyone else.
s = conn()
s.sendall(b"99999999999 <13>1 - - - - - - lie\n")
time.sleep(0.2)
s.close()
# 7. a client that disconnects in the middle of an octet-counted frame.
s = conn()
s.sendall(b"200 <13>1 2026-11-27T12:00:00Z cuthost cut - - - only part of the frame")
time.sleep(0.2)
s.close()

# 8. UDP: garbage and an empty datagram, then a marker.
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.sendto(b"\xff\xfe\x00garbage\x00", ("127.0.0.1", udp_port))
u.sendto(b"<14>Nov 27 12:00:04 goodhost marker: ok udp", ("127.0.0.1", udp_port))
markers += 1

# 9. many idle connections, and a sender that still gets through.
idlers = []
for _ in range(idle):
    idlers.append(conn())
s = conn()
marker(s, "with-idle-connections")
s.close()
time.sleep(1.0)
for c in idlers:
    c.close()

s = conn()
marker(s, "final")
s.close()
print(markers)
