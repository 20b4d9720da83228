"""Each kind of bad track fails with its name and reason; the rest of the job completes."""

import json
import shutil

import numpy as np
import pyarrow.parquet as pq
import pytest
import soundfile as sf

from bassnet.errors import ManifestError
from bassnet.features.schema import failures_path
from bassnet.pipelines.manifest import read_manifest
from tests.pipelines.conftest import run_features

SR = 22050


def tone(seconds, sr=SR, freq=110.0):
    t = np.arange(int(seconds * sr)) / sr
    return (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def write(path, audio, sr=SR, subtype="PCM_16"):
    sf.write(path, audio, sr, subtype=subtype)
    return path.name


@pytest.fixture(scope="module")
def bad_collection(tmp_path_factory, small_a4):
    """One good rendered track plus one track per kind of fault."""
    root = tmp_path_factory.mktemp("bad")
    rows = []
    good = "A4_00000"
    for stem in ("mix", "bass"):
        shutil.copy(small_a4 / "audio" / f"{good}.{stem}.wav", root / f"{good}.{stem}.wav")
        rows.append((good, stem, f"{good}.{stem}.wav"))

    def track(name, bass, mix=None, **mix_kw):
        rows.append(
            (
                name,
                "mix",
                write(root / f"{name}.mix.wav", tone(1.0) if mix is None else mix, **mix_kw),
            )
        )
        rows.append((name, "bass", bass))

    (root / "garbage.wav").write_bytes(b"this is not audio at all" * 100)
    track("unreadable", "garbage.wav")
    track("empty", write(root / "empty.wav", np.zeros(0, np.float32)))
    full = root / "full.wav"
    write(full, tone(1.0))
    (root / "cut.wav").write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    track("truncated", "cut.wav")
    nan = tone(1.0)
    nan[100] = np.nan
    track("nan", write(root / "nan.wav", nan, subtype="FLOAT"))
    track("silent", write(root / "silent.wav", np.zeros(SR, np.float32)))
    track("tiny", write(root / "tiny.wav", tone(0.002)), mix=tone(0.002))
    track("lengths", write(root / "long.wav", tone(3.5)))  # 2.5 s past its mix: not padded
    track("rates", write(root / "rate.wav", tone(1.0, sr=16000), sr=16000))
    rows.append(("nobass", "mix", write(root / "nobass.mix.wav", tone(1.0))))
    rows.append(("dup", "bass", write(root / "dup.wav", tone(1.0))))
    rows.append(("dup", "bass", "dup.wav"))
    rows.append(("dup", "mix", "dup.wav"))
    rows.append(("missing", "mix", "dup.wav"))
    rows.append(("missing", "bass", "nowhere.wav"))
    write(root / "ok.mix.wav", tone(1.0, freq=220.0))
    write(root / "ok.bass.wav", tone(1.0))
    for bad_id in bad_ids(root):  # good audio: the id alone is the fault
        rows += [(bad_id, "mix", "ok.mix.wav"), (bad_id, "bass", "ok.bass.wav")]
    manifest = root / "manifest.csv"
    manifest.write_text("track_id,stem,path\n" + "".join(f"{a},{b},{c}\n" for a, b, c in rows))
    return manifest


def bad_ids(root):
    """Track ids that are paths: one with a folder, one climbing out of the job's output
    folder (to `root`, beside it), one absolute (into `root`), one starting with a dot."""
    return ["rock/song1", "../../escaped-rel", str(root / "escaped-abs"), ".hidden"]


EXPECTED = {
    "unreadable": "unreadable audio",
    "empty": "no samples",
    "truncated": "truncated file",
    "nan": "NaN or infinite",
    "silent": "bass is silent",
    "tiny": "shorter than one frame",
    "lengths": "differ in length",
    "rates": "differ in sample rate",
    "nobass": "no bass stem",
    "dup": "duplicate stem 'bass'",
    "missing": "file not found",
}


def test_each_bad_track_is_reported_and_the_good_one_completes(bad_collection, tmp_path):
    out = tmp_path / "out"
    metrics = run_features(bad_collection, out)
    failures = {f["track_id"]: f for f in json.loads(failures_path(out).read_text())}
    assert failures_path(out) == tmp_path / "out.failures.json"
    root = bad_collection.parent
    expected = {**EXPECTED, **{bad_id: "track id" for bad_id in bad_ids(root)}}
    assert set(failures) == set(expected)
    for track_id, message in expected.items():
        assert message in failures[track_id]["error"], failures[track_id]
    rows = [r for p in out.glob("part-*.parquet") for r in pq.read_table(p).to_pylist()]
    assert [r["track_id"] for r in rows] == ["A4_00000"]
    assert all(p.match("part-*.parquet") for p in out.iterdir()), "the folder holds only shards"
    assert metrics["tracks"] == 1 and metrics["failed"] == len(expected)
    # ids are never paths: nothing was written where a bad id points
    assert not (tmp_path / "escaped-rel").exists()
    assert not (tmp_path.parent / "escaped-rel").exists()
    assert not (root / "escaped-abs").exists() and not (out / "rock").exists()


def test_a_manifest_without_its_columns_fails_before_any_work(tmp_path):
    manifest = tmp_path / "m.csv"
    manifest.write_text("id,file\na,b.wav\n")
    with pytest.raises(ManifestError, match="missing columns"):
        read_manifest(manifest)
    with pytest.raises(ManifestError, match="manifest not found"):
        read_manifest(tmp_path / "none.csv")
    manifest.write_text("track_id,stem,path\n")
    with pytest.raises(ManifestError, match="no tracks"):
        read_manifest(manifest)
