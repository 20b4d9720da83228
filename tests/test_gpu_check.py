"""benchmarks/gpu_check.py (`make gpu-check`): the scratch copy holds the working tree's files in
a git repository of its own, the tiny overrides make a valid gpu profile, stage times come from
DVC's lines, and only what a run wrote is collected. The whole check at the tiny size on the
CPU is the slow test (`make test-slow`)."""

import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from bassnet.config import REPO_PARAMS, FeatureConfig, RenderConfig, load_params

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("gpu_check", ROOT / "benchmarks" / "gpu_check.py")
gpu_check = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gpu_check)

GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]


def test_the_copy_holds_tracked_and_unignored_files_committed_in_a_repository_of_its_own(
    tmp_path,
):
    source, dest = tmp_path / "src", tmp_path / "dest"
    (source / "pkg").mkdir(parents=True)
    (source / ".gitignore").write_text("/data/\n*.tmp\n")
    (source / "pkg" / "a.py").write_text("x = 1\n")
    subprocess.run(GIT + ["init", "-q"], cwd=source, check=True)
    subprocess.run(GIT + ["add", "."], cwd=source, check=True)
    subprocess.run(GIT + ["commit", "-qm", "c"], cwd=source, check=True)
    (source / "pkg" / "a.py").write_text("x = 2\n")  # modified, not committed
    (source / "new.py").write_text("y = 1\n")  # untracked
    (source / "data").mkdir()
    (source / "data" / "big.bin").write_bytes(b"0" * 10)  # ignored
    (source / "scratch.tmp").write_text("")  # ignored
    dest.mkdir()

    count = gpu_check.copy_repository(source, dest)

    copied = sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*")
                    if p.is_file() and ".git" not in p.parts)  # fmt: skip
    assert copied == [".gitignore", "new.py", "pkg/a.py"] and count == 3
    assert (dest / "pkg" / "a.py").read_text() == "x = 2\n"  # the working tree, not HEAD
    status = subprocess.run(["git", "status", "--porcelain"], cwd=dest, capture_output=True,
                            text=True, check=True)  # fmt: skip
    assert status.stdout == ""  # all committed: `dvc exp run` needs a commit to start from
    assert subprocess.run(["git", "status"], cwd=source, capture_output=True).returncode == 0


def test_without_git_the_copy_leaves_out_environments_caches_and_outputs(tmp_path):
    source, dest = tmp_path / "src", tmp_path / "dest"
    for rel in ("pkg/a.py", ".dvc/config", ".dvc/cache/ab/cd", ".venv/bin/python",
                "data/features/x", "pkg/__pycache__/a.pyc", "runs/old/timings.json"):  # fmt: skip
        (source / rel).parent.mkdir(parents=True, exist_ok=True)
        (source / rel).write_text("")
    dest.mkdir()
    gpu_check.copy_repository(source, dest)
    copied = sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*")
                    if p.is_file() and ".git" not in p.parts)  # fmt: skip
    assert copied == [".dvc/config", "pkg/a.py"]


def _set(tree: dict, dotted: str, value) -> None:
    *path, last = dotted.split(".")
    for key in path:
        tree = tree.setdefault(key, {})
    tree[last] = value


def test_the_tiny_overrides_make_a_small_cpu_gpu_profile(tmp_path):
    """What `dvc exp run -S ++profiles.gpu.KEY=VALUE` makes of params.yaml under --tiny."""
    from bassnet.config import ControlConfig
    from bassnet.synth.dataset import valid_indices
    from bassnet.training.config import TrainConfig, control_model, model_config

    raw = yaml.safe_load(REPO_PARAMS.read_text())
    for key, value in gpu_check.TINY.items():
        _set(raw["profiles"]["gpu"], key, value)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(raw))
    params = load_params(tmp_path / "params.yaml", "gpu")

    render = RenderConfig.from_params(params)
    assert (render.songs, render.test_songs, render.seconds) == (4, 2, 10)
    assert len(valid_indices(render.songs, render.seeds["A1"], render.valid_fraction)) == 1
    assert FeatureConfig.from_params(params).device == "cpu"
    train = TrainConfig.from_params(params)
    assert (train.device, train.mini_epoch, train.max_mini_epochs) == ("cpu", 20, 2)
    assert model_config(params, "40-40").maps == 8
    assert params["evaluate"]["device"] == "cpu"
    assert ControlConfig.from_params(params).device == "cpu"
    for dataset in ("A1", "A4"):
        own, key, _ = control_model(params, dataset)
        assert TrainConfig.from_params(own, model=key).max_mini_epochs == 2


def test_stage_times_run_from_one_stage_line_to_the_next():
    starts = []
    for t, line in [
        (1.0, "Running stage 'render@A1':\n"),
        (2.0, "> bassnet render A1\n"),
        (4.5, "Running stage 'train@A1-40-40':\n"),
        (9.0, "Updating lock file\n"),
    ]:
        match = gpu_check.STAGE_LINE.search(line)
        if match:
            starts.append((match.group(1), t))
    assert gpu_check.stage_seconds(starts, 10.0) == {"render@A1": 3.5, "train@A1-40-40": 5.5}


def test_only_what_the_run_wrote_is_collected(tmp_path):
    scratch, dest = tmp_path / "scratch", tmp_path / "out"
    for rel in ("metrics/evaluation.json", "reports/figures/fig5.png", "reports/report.md",
                "models/A1/40-40/summary.json", "notes.txt"):  # fmt: skip
        (scratch / rel).parent.mkdir(parents=True, exist_ok=True)
        (scratch / rel).write_text("{}")
    old = time.time() - 3600
    os.utime(scratch / "reports" / "report.md", (old, old))  # from the repository, not rewritten
    copied = gpu_check.collect(scratch, dest, since=time.time() - 60)
    assert sorted(copied) == ["metrics/evaluation.json", "models/A1/40-40/summary.json",
                              "reports/figures/fig5.png"]  # fmt: skip
    assert (dest / "reports" / "figures" / "fig5.png").is_file()


def test_the_summary_names_phases_stages_and_findings(tmp_path):
    (tmp_path / "metrics").mkdir()
    finding = {"claim": "40/40 disentangles", "verdict": "inconclusive", "evidence": "A1 0.9"}
    (tmp_path / "metrics" / "evaluation.json").write_text(json.dumps({"findings": [finding]}))
    timings = {
        "tiny": True,
        "started": "t0",
        "total_s": 90.0,
        "machine": {"cpus": 2},
        "phases": {"pipeline": {"seconds": 80.0, "rc": 0, "stages": {"render@A1": 3.0}}},
    }
    page = gpu_check.summary_page(timings, tmp_path)
    assert "| pipeline | 80.0 | 0 |" in page and "| render@A1 | 3.0 |" in page
    assert "- **inconclusive**: 40/40 disentangles — A1 0.9" in page


@pytest.mark.slow
def test_the_tiny_check_runs_end_to_end_on_the_cpu(tmp_path):
    """`make gpu-check TINY=1` with this environment: every stage of the pipeline, both
    benchmarks, and one folder with the timings, report, figures and metrics (≈12 min on a
    busy 2-core machine)."""
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "gpu_check.py"), "--tiny", "--out", str(out),
         "--python", sys.executable, "--scratch", str(tmp_path / "scratch")],
        capture_output=True, text=True, timeout=3600,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    timings = json.loads((out / "timings.json").read_text())
    assert all(p.get("rc", 0) == 0 for p in timings["phases"].values())
    stages = timings["phases"]["pipeline"]["stages"]
    assert {"render@A1", "features-test@A4", "train-control@A4", "evaluate", "ship"} <= set(stages)
    for rel in ("pipeline/reports/report.md", "pipeline/reports/figures/fig5_latent_maps.png",
                "pipeline/metrics/evaluation.json", "pipeline/exp_show.json",
                "benchmarks/features.json", "benchmarks/train.json", "summary.md"):  # fmt: skip
        assert (out / rel).is_file(), rel
    assert not (tmp_path / "scratch").exists()  # removed unless --keep-scratch
