"""The mitmproxy entry script: `mitmdump -s addon/crosswire/mitm.py`.

It loads the crosswire package this file belongs to, never another copy: mitmproxy loads scripts
as modules of its own package (``__package__`` is not empty) with only the script's directory on
``sys.path``, so a plain ``import crosswire`` would find whichever copy is installed. The package
directory's parent goes first on ``sys.path``, and a different copy imported earlier is dropped.
"""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent


def _is_here(module: object) -> bool:
    location = getattr(module, "__file__", None)
    return location is not None and Path(location).resolve().parent == _HERE


if not _is_here(sys.modules.get("crosswire")):
    for name in [n for n in sys.modules if n == "crosswire" or n.startswith("crosswire.")]:
        del sys.modules[name]
    sys.path.insert(0, str(_HERE.parent))

from crosswire.addon import Crosswire  # noqa: E402

addons = [Crosswire()]
