"""Stems of one song that end apart: within `stems.length_tolerance_s` the song is kept and its
shorter stems are padded with silence to the longest (manifest and feature job); further apart
it is skipped, with the song and the lengths named."""

import json

import numpy as np
import pyarrow.parquet as pq
import pytest

from bassnet.cli import main
from bassnet.config import REPO_PARAMS
from bassnet.constants import SR, frame_count
from bassnet.errors import AudioError
from bassnet.features.audio import aligned_length, pad_to
from bassnet.features.schema import failures_path, stems_from_store
from bassnet.stems.layouts import Padded, scan, write_manifest
from tests.pipelines.conftest import run_features
from tests.stems.conftest import write


def with_tail(audio: np.ndarray, seconds: float, sr: int) -> np.ndarray:
    """`audio` and a release tail: its last `seconds` again, fading out exponentially."""
    n = round(seconds * sr)
    tail = audio[-n:] * np.exp(-np.arange(n) / (0.1 * sr))
    return np.concatenate([audio, tail]).astype(np.float32)


@pytest.fixture(scope="module")
def ragged(stem_audio, tmp_path_factory):
    """A flat collection of two rendered songs: `tail`, whose keys ring 0.4 s past its bass and
    drums, and `far`, whose keys run 5 s past them."""
    songs, sr = stem_audio
    root = tmp_path_factory.mktemp("ragged") / "flat"
    for song, stems, seconds in (("tail", songs["song0"], 0.4), ("far", songs["song1"], 5.0)):
        write(root / song / "bass.wav", stems["bass"], sr)
        write(root / song / "drums.wav", stems["drums"], sr)
        write(root / song / "keys.wav", with_tail(stems["keys"], seconds, sr), sr)
    return root, len(songs["song0"]["bass"]), len(songs["song1"]["bass"]), sr


def params_file(folder, tolerance):
    """The repository's params with `stems.length_tolerance_s` set to `tolerance`."""
    text = REPO_PARAMS.read_text()
    assert "length_tolerance_s: 2.0 " in text
    path = folder / "params.yaml"
    path.write_text(text.replace("length_tolerance_s: 2.0 ", f"length_tolerance_s: {tolerance} "))
    return path


def test_a_release_tail_is_kept_and_a_longer_gap_is_skipped(ragged):
    root, n_tail, n_far, sr = ragged
    rows, skipped, padded = scan("flat", root, length_tolerance_s=2.0)
    assert {r.track_id for r in rows} == {"tail"}
    assert padded == [Padded("tail", n_tail, n_tail + round(0.4 * sr), sr)]
    assert "(0.4 s apart)" in padded[0].note
    [far] = skipped
    assert far.song == "far"
    assert far.reason.startswith(
        f"stems of different lengths: {n_far}–{n_far + 5 * sr} samples (5 s apart"
    )
    # with no tolerance, stems must be of one length
    rows, skipped, padded = scan("flat", root, length_tolerance_s=0.0)
    assert not rows and not padded and {s.song for s in skipped} == {"tail", "far"}


def test_the_manifest_command_notes_padded_songs_and_names_skipped_ones(ragged, tmp_path, capsys):
    root, n_tail, n_far, sr = ragged
    out = tmp_path / "manifest.csv"
    params = params_file(tmp_path, 2.0)
    assert main(["manifest", "flat", str(root), "-o", str(out), "--params", str(params)]) == 0
    captured = capsys.readouterr()
    assert f"padded tail: stems of {n_tail}–{n_tail + round(0.4 * sr)} samples" in captured.err
    assert f"skipped far: stems of different lengths: {n_far}–{n_far + 5 * sr}" in captured.err
    assert "1 songs (1 unsplit), 3 stem files, 1 padded, 1 songs with skips" in captured.out
    assert main(["manifest", "flat", str(root), "-o", str(out), "--params",
                 str(params_file(tmp_path, 0.0))]) == 2  # fmt: skip
    assert "no usable song" in capsys.readouterr().err


def test_the_feature_job_pads_the_shorter_stems_to_the_longest(ragged, tmp_path):
    root, n_tail, _, sr = ragged
    rows, _, _ = scan("flat", root, length_tolerance_s=2.0)
    write_manifest(rows, tmp_path / "manifest.csv")
    metrics = run_features(tmp_path / "manifest.csv", tmp_path / "features")
    assert (metrics["tracks"], metrics["failed"]) == (1, 0)
    [row] = pq.read_table(next((tmp_path / "features").glob("part-*.parquet"))).to_pylist()
    longest = n_tail + round(0.4 * sr)
    samples = -(-longest * SR // sr)  # the longest stem at 16 kHz
    assert row["duration_s"] == samples / SR and row["n_frames"] == frame_count(samples)
    assert row["stems"] == ["drums", "keys", "bass"]
    stored = stems_from_store(np.array(row["stem_audio"], np.int16), np.array(row["stem_scale"]))
    drums, keys = stored
    ended = n_tail * SR // sr + SR // 20  # 50 ms past the drums' own end: the resampler's ringing
    assert len(drums) == len(keys) == samples
    assert not np.any(drums[ended:]) and np.any(keys[ended:])  # silence, then the keys' tail

    # the same manifest with no tolerance: the track fails, naming its stems' lengths
    strict = params_file(tmp_path, 0.0)
    run_features(tmp_path / "manifest.csv", tmp_path / "strict", "--params", str(strict))
    [failure] = json.loads(failures_path(tmp_path / "strict").read_text())
    assert "stems differ in length by 0.4 s" in failure["error"]
    assert f"'keys': {longest}" in failure["error"] and f"'bass': {n_tail}" in failure["error"]


def test_aligned_length_and_pad_to():
    assert aligned_length({"mix": 100, "bass": 90}, 100, 0.1) == 100
    with pytest.raises(AudioError, match=r"by 0\.11 s.*'bass': 89"):
        aligned_length({"mix": 100, "bass": 89}, 100, 0.1)
    audio = np.ones(3, np.float32)
    assert pad_to(audio, 3) is audio  # no copy where nothing is padded
    np.testing.assert_array_equal(pad_to(audio, 5), [1, 1, 1, 0, 0])
    with pytest.raises(AudioError, match="fewer"):
        pad_to(audio, 2)
