"""The mitmproxy entry script: `mitmdump -s addon/crosswire/mitm.py`."""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # loaded by path, as mitmproxy loads scripts: make the package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from crosswire.addon import Crosswire

addons = [Crosswire()]
