"""What the per-source connection tests share: plain TCP connections from
a chosen loopback address (Linux routes all of 127.0.0.0/8 to lo), and
whether the server closed one. Imported by the tests' inline clients
(PYTHONPATH=tests/integration)."""
import socket


def connect(src, port):
    s = socket.socket()
    s.bind((src, 0))
    s.connect(("127.0.0.1", port))
    return s


def closed_by_peer(s, wait=1.0):
    """True when the server closed s (end of stream or reset) within wait
    seconds; False when it is still open and silent."""
    s.settimeout(wait)
    try:
        return s.recv(1) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False
