"""A mitmproxy script for tests: makes one named step of crosswire's matched-request path raise.

Load it after crosswire's entry script (``-s mitm.py -s faults.py``) so both use the same modules.
The step to break is read from the file ``$CROSSWIRE_TEST_FAULT_FILE`` whenever a wrapped step
runs (empty: none), so one mitmdump serves every step in turn.
"""

from __future__ import annotations

import functools
import importlib
import os
from pathlib import Path
from typing import Any

FAULT_FILE = Path(os.environ["CROSSWIRE_TEST_FAULT_FILE"])

# step name -> (module, attribute path): every call crosswire makes on a matched flow's way
STEPS = {
    # the request: deciding, converting, routing, sending
    "match": ("crosswire.addon", "find_target"),
    "client_view": ("crosswire.addon", "Crosswire._client_view"),
    "include_usage": ("crosswire.addon", "_include_usage"),
    "convert_request": ("crosswire.bodies", "convert_request"),
    "serialise": ("crosswire.addon", "_serialise"),
    "upstream_path": ("crosswire.routes", "Route.upstream_path"),
    "forward_rule": ("crosswire.policy", "forward_rule"),
    "upstream_headers": ("crosswire.policy", "upstream_headers"),
    "strip_query": ("crosswire.policy", "strip_query"),
    "request_view": ("crosswire.record", "request_view"),
    "send": ("crosswire.addon", "Crosswire._send"),
    "credential": ("crosswire.formats.registry", "Format.credential"),
    # the answer: headers, streaming, whole bodies, the recording
    "redact_request": ("crosswire.addon", "Crosswire._redact_request"),
    "redact_headers": ("crosswire.policy", "Redactor.headers"),
    "adapter": ("crosswire.addon", "StreamAdapter.__init__"),
    "client_headers": ("crosswire.addon", "_client_headers"),
    "framing": ("crosswire.addon", "_frame_for_client"),
    "stream_feed": ("crosswire.convert", "StreamConverter.feed"),
    "convert_answer": ("crosswire.addon", "Crosswire._convert_answer"),
    "convert_body": ("crosswire.addon", "convert_body"),
    "response_view": ("crosswire.record", "response_view"),
    "metadata": ("crosswire.record", "metadata"),
}


class InjectedFault(RuntimeError):
    pass


def _armed(step: str) -> bool:
    try:
        return FAULT_FILE.read_text().strip() == step
    except OSError:
        return False


def _wrap(step: str, original: Any) -> Any:
    @functools.wraps(original)
    def broken(*args: Any, **kwargs: Any) -> Any:
        if _armed(step):
            raise InjectedFault(f"injected fault: {step}")
        return original(*args, **kwargs)

    return broken


for _step, (_module, _path) in STEPS.items():
    _owner: Any = importlib.import_module(_module)
    *_parents, _name = _path.split(".")
    for _parent in _parents:
        _owner = getattr(_owner, _parent)
    setattr(_owner, _name, _wrap(_step, getattr(_owner, _name)))
