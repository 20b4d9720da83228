"""The DVC pipeline definition is valid and declares the stages the README names."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_dvc_lists_the_render_stages():
    dvc = Path(sys.executable).parent / "dvc"
    result = subprocess.run(
        [str(dvc), "stage", "list"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    stages = {line.split()[0] for line in result.stdout.splitlines() if line.strip()}
    assert {f"render@A{i}" for i in range(1, 5)} <= stages
