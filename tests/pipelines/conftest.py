"""A small rendered dataset and a helper that runs the feature job on a manifest."""

import dataclasses

import pytest

from bassnet.pipelines.features import run
from bassnet.synth.dataset import render_dataset

# In-process DirectRunner: the fastest real runner for tests; the multi-process and Dask
# runners are tested separately.
IN_MEMORY = ["--direct_running_mode=in_memory", "--direct_num_workers=1"]


@pytest.fixture(scope="session")
def small_a4(tmp_path_factory, render_cfg):
    """A4, 3 songs of ≈6 s, rendered with the real FluidSynth (one song in 'valid')."""
    out = tmp_path_factory.mktemp("A4")
    cfg = dataclasses.replace(render_cfg, seconds=6, valid_fraction=0.34)
    render_dataset("A4", out, 3, 7, cfg, progress=False)
    return out


def run_features(manifest, out, *extra):
    """Run `bassnet features` in this process; returns its metrics."""
    args = ["--manifest", str(manifest), "--out", str(out), *extra]
    if not any(a.startswith("--runner") for a in extra):
        args += IN_MEMORY
    return run(args)
