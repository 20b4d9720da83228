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


# The module each `bassnet` subcommand of dvc.yaml runs; the CLI is a thin layer over them.
STAGE_MODULES = {
    "render": "bassnet.synth.dataset",
    "features": "bassnet.pipelines.features",
    "train": "bassnet.training.loop",
    "evaluate": "bassnet.evaluation.report",
    "control": "bassnet.evaluation.control_test",
    "prior": "bassnet.evaluation.report",  # its `selected_model`; it imports evaluation.prior
    "ship-models": "bassnet.pretrained.ship",
}


def _module_file(name: str) -> Path | None:
    path = ROOT.joinpath(*name.split("."))
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imports(path: Path, module: str, top_level_only: bool) -> set[str]:
    """bassnet modules that `path` imports (in functions too, unless `top_level_only`)."""
    import ast

    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else ast.walk(tree)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found |= {base} | {f"{base}.{a.name}" for a in node.names}
    return {n for n in found if n.split(".")[0] == "bassnet"}


def code_closure(module: str) -> set[Path]:
    """The source files that importing and running `module` may execute: its imports, in
    functions too, transitively, with the `__init__.py` of every package on the way (whose
    own function-level imports, such as `bassnet.__getattr__`'s lazy API, are not followed)."""
    files: set[Path] = set()
    todo = [module]
    while todo:
        name = todo.pop()
        parts = name.split(".")
        for i in range(1, len(parts) + 1):  # the packages a module's import runs first
            prefix = ".".join(parts[:i])
            path = _module_file(prefix)
            if path is None or path in files:
                continue
            files.add(path)
            todo += _imports(path, prefix, top_level_only=path.name == "__init__.py")
    return files


def test_every_stage_depends_on_the_code_it_runs():
    """A change to any file a stage's command executes makes `dvc status` report the stage:
    its code deps (folders or files in dvc.yaml) cover the command's whole import closure."""
    import yaml

    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    checked = 0
    for name, stage in stages.items():
        body = stage.get("do", stage)
        command = body["cmd"].split()
        module = STAGE_MODULES[command[1]]
        deps = [ROOT / d for d in body["deps"] if "$" not in d]
        missing = sorted(
            str(f.relative_to(ROOT))
            for f in code_closure(module)
            if not any(f == d or d in f.parents for d in deps)
        )
        assert not missing, f"stage {name} runs {module} but does not depend on {missing}"
        checked += 1
    assert checked >= 10
