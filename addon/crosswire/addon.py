"""The mitmproxy addon: hooks only, no format knowledge."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from mitmproxy import ctx

log = logging.getLogger("crosswire")


class Crosswire:
    def load(self, loader) -> None:  # type: ignore[no-untyped-def]
        loader.add_option("crosswire_route", Sequence[str], [], "A route: 'MATCH -> UPSTREAM'. Repeatable.")

    def running(self) -> None:
        if not ctx.options.crosswire_route:
            log.info("crosswire: no route configured, so no flow is touched (set crosswire_route or crosswire_config)")
