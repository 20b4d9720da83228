"""Small BassNet models that ship inside the package, so `bassnet generate` works out of the box.

They are the default profile's models of A1–A5, per dataset the one the control stage selected
on the validation songs, copied here by `bassnet ship-models` (the DVC stage `ship`) with their
weights in float16 and their prior p(z|x); `models.json` and `MODEL_CARD.md` say what each was
trained on and how well it did. `resolve("A1")` gives the path of one.
"""

from __future__ import annotations

import json
from pathlib import Path

from bassnet.errors import ConfigError

HERE = Path(__file__).resolve().parent
CARD_JSON = HERE / "models.json"


def available() -> dict[str, dict]:
    """Shipped models by name → their card entry (dataset, window, profile, metrics, file)."""
    if not CARD_JSON.is_file():
        return {}
    return json.loads(CARD_JSON.read_text())


def resolve(name_or_path: str) -> Path:
    """A shipped model's name (e.g. "A1") or a path to a model.pt → the file's path."""
    shipped = available()
    if name_or_path in shipped:
        return HERE / shipped[name_or_path]["file"]
    path = Path(name_or_path)
    if path.is_file():
        return path
    names = ", ".join(shipped) or "none (run `dvc repro ship`)"
    raise ConfigError(f"no model {name_or_path!r}: not a file, nor a shipped model ({names})")


def score_text(score: dict | None) -> str:
    """A stored score ({"value", "low", "high", …}) as "0.812 [0.741, 0.873]"; n/a if none."""
    if not score or score.get("value") is None:
        return "n/a"
    if score.get("low") is None:
        return f"{score['value']:.3f} [interval undefined]"
    return f"{score['value']:.3f} [{score['low']:.3f}, {score['high']:.3f}]"
