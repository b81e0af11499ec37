"""The one way a test picks a loopback port for a server it starts.

The kernel chooses (bind to port 0), so suites running side by side on one machine get different
ports; a fixed range scanned from its start made two suites pick the same port and race for it.
"""

from __future__ import annotations

import socket

__all__ = ["free_port"]


def free_port() -> int:
    """A loopback TCP port nobody is listening on at the moment of the call."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
