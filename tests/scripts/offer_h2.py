"""A mitmproxy script for tests: offer only HTTP/2 (ALPN ``h2``) to the upstream on port
``$CROSSWIRE_TEST_H2_PORT``, whatever the client speaks.

mitmproxy mirrors the client's ALPN offers upstream (tlsconfig), so an HTTP/1.x client never gets
an HTTP/2 upstream on its own; the framing tests need every client x upstream pair.
"""

from __future__ import annotations

import os
from typing import Any

PORT = int(os.environ.get("CROSSWIRE_TEST_H2_PORT", "0"))


def server_connect(data: Any) -> None:
    address = data.server.address
    if address and address[1] == PORT:
        data.server.alpn_offers = (b"h2",)
