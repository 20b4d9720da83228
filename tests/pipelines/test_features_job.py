"""The Beam feature job on real rendered audio: shards, schema, accuracy, readers."""

import json

import duckdb
import numpy as np
import polars as pl
import pyarrow.parquet as pq
import pytest

from bassnet.constants import n_frames
from bassnet.features.schema import FEATURE_SCHEMA, cqt_array
from tests.pipelines.conftest import run_features


@pytest.fixture(scope="module")
def features(small_a4, tmp_path_factory):
    out = tmp_path_factory.mktemp("features")
    metrics_file = out.parent / "metrics.json"
    metrics = run_features(small_a4 / "manifest.csv", out, "--metrics", str(metrics_file))
    return out, metrics, metrics_file


def read_rows(out):
    return [r for p in sorted(out.glob("part-*.parquet")) for r in pq.read_table(p).to_pylist()]


def test_one_row_per_track_with_the_schema(features, small_a4):
    out, metrics, _ = features
    parts = sorted(out.glob("part-*.parquet"))
    assert parts and all(pq.read_schema(p).equals(FEATURE_SCHEMA) for p in parts)
    rows = read_rows(out)
    labels = pq.read_table(small_a4 / "labels.parquet").to_pylist()
    assert sorted(r["track_id"] for r in rows) == [r["track_id"] for r in labels]
    for row, label in zip(sorted(rows, key=lambda r: r["track_id"]), labels, strict=True):
        n = row["n_frames"]
        assert n == pytest.approx(n_frames(label["duration_s"]), abs=1)
        assert cqt_array(row["cqt_mix"]).shape == (n, 264)
        for key in ("f0_hz", "f0_confidence", "onset", "level_db", "pattern", "bass_pitch"):
            assert len(row[key]) == n, key
        assert (row["f0_mix_hz"] is not None) == (row["split"] == "valid")
        assert row["tonic"] == label["tonic"] and row["dataset"] == small_a4.name
    assert json.loads((out / "failures.json").read_text()) == []
    assert not list(out.glob(".*")), "no temporary files left"


def test_descriptors_match_the_midi_truth(features):
    _, metrics, metrics_file = features
    assert metrics["f0_raw_pitch_accuracy"] >= 0.95
    assert metrics["onset_f_measure"] >= 0.90
    assert json.loads(metrics_file.read_text()) == metrics


def test_bass_is_in_the_bass_cqt_and_not_in_the_mix(features):
    rows = read_rows(features[0])
    row = rows[0]
    bass, mix = cqt_array(row["cqt_bass"]), cqt_array(row["cqt_mix"])
    pitch = np.asarray(row["bass_pitch"])
    voiced = np.flatnonzero(pitch >= 0)
    bins = (pitch[voiced] - 21) * 3  # MIDI 21 = A0 = bin 0, three bins per semitone
    hit = bass[voiced, bins]
    assert np.median(hit - np.median(bass[voiced], axis=1)) > 2.0  # the bass's f0 stands out
    assert np.median(mix[voiced, bins]) < np.median(hit)


def test_shards_open_with_duckdb_and_polars(features):
    out = features[0]
    pattern = str(out / "part-*.parquet")
    count, frames = duckdb.sql(
        f"select count(*), sum(len(f0_hz)) from read_parquet('{pattern}')"
    ).fetchall()[0]
    assert count == 3 and frames > 0
    first_bin = duckdb.sql(
        f"select cqt_bass[1][1] from read_parquet('{pattern}') limit 1"
    ).fetchall()[0][0]
    assert isinstance(first_bin, float)
    df = pl.read_parquet(pattern)
    assert df.height == 3 and df["cqt_mix"].list.len().sum() == frames


def assert_same_rows(a, b):
    assert [r["track_id"] for r in a] == [r["track_id"] for r in b]
    for row_a, row_b in zip(a, b, strict=True):
        differ = [k for k in row_a if row_a[k] != row_b[k]]
        assert not differ, (row_a["track_id"], differ)


def test_rerun_gives_identical_rows(features, small_a4, tmp_path):
    run_features(small_a4 / "manifest.csv", tmp_path)
    assert_same_rows(read_rows(tmp_path), read_rows(features[0]))
