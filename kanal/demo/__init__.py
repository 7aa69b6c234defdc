"""The Copenhagen demo (top layer: it may use every app).

``from kanal.demo import load_demo`` works without importing models while
Django starts: names are read from ``loader`` when first asked for.
"""

from importlib import import_module


def __getattr__(name: str):
    if name.startswith("__") or name == "loader":
        raise AttributeError(name)
    return getattr(import_module(f"{__name__}.loader"), name)
