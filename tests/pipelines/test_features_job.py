"""The Beam feature job on real rendered audio: shards, schema, accuracy, readers."""

import json
import shutil

import duckdb
import numpy as np
import pandas as pd
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

import bassnet
from bassnet.config import FeatureConfig, load_params
from bassnet.constants import n_frames
from bassnet.features.schema import (
    FEATURE_SCHEMA,
    cqt_array,
    failures_path,
    read_shard_metadata,
    shard_metadata,
)
from bassnet.training.data import read_tracks, shard_paths
from tests.pipelines.conftest import run_features


@pytest.fixture(scope="module")
def features(small_a4, tmp_path_factory):
    out = tmp_path_factory.mktemp("features") / "A4"
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
    assert json.loads(failures_path(out).read_text()) == []
    assert failures_path(out) == out.parent / "A4.failures.json"
    assert sorted(out.iterdir()) == parts, "the folder holds the shards and nothing else"


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


def test_each_shard_names_the_settings_it_was_made_with(features):
    out = features[0]
    cfg = FeatureConfig.from_params(load_params())  # what run_features ran with
    expected = {
        "version": bassnet.__version__,
        "sample_rate_hz": "16000",
        "hop_samples": "160",
        "frame_rate_hz": "100",
        "cqt_bins": "264",
        "cqt_bins_per_octave": "36",
        "cqt_fmin_hz": "27.5",
        "f0_model": f"crepe-{cfg.crepe_model}",
        "f0_stride": str(cfg.f0_stride),
        "silence_db": str(cfg.silence_db),
    }
    for part in sorted(out.glob("part-*.parquet")):
        stored = read_shard_metadata(part)
        assert stored.items() >= expected.items(), stored
        assert {"bassnet." + k: v for k, v in stored.items()} == shard_metadata(cfg)
        kv = duckdb.sql(
            f"select decode(key), decode(value) from parquet_kv_metadata('{part}')"
        ).fetchall()
        assert ("bassnet.frame_rate_hz", "100") in kv and ("bassnet.cqt_bins", "264") in kv


def test_the_folder_reads_as_one_table(features):
    """pandas, pyarrow.dataset and DuckDB take the folder itself; each gives every row once and
    the same CQT as the shard read on its own."""
    out = features[0]
    rows = {r["track_id"]: r for r in read_rows(out)}
    frames = sum(r["n_frames"] for r in rows.values())
    first = min(rows)
    cqt = cqt_array(rows[first]["cqt_bass"], dtype=np.float16)
    assert cqt.shape == (rows[first]["n_frames"], 264)

    df = pd.read_parquet(out)
    assert sorted(df["track_id"]) == sorted(rows) and df["n_frames"].sum() == frames
    row = df.set_index("track_id").loc[first]
    np.testing.assert_array_equal(cqt_array(row, "cqt_bass", dtype=np.float16), cqt)

    table = ds.dataset(out).to_table()
    assert sorted(table["track_id"].to_pylist()) == sorted(rows)
    index = table["track_id"].to_pylist().index(first)
    np.testing.assert_array_equal(cqt_array(table["cqt_bass"][index], dtype=np.float16), cqt)
    assert table.schema.metadata[b"bassnet.frame_rate_hz"] == b"100"

    folder = f"read_parquet('{out}/*.parquet')"
    counts = duckdb.sql(f"select count(*), sum(len(f0_hz)) from {folder}").fetchall()
    assert counts == [(3, frames)]
    cell = duckdb.sql(f"select cqt_bass from {folder} where track_id = '{first}'").fetchall()[0][0]
    np.testing.assert_array_equal(cqt_array(cell, dtype=np.float16), cqt)


def test_polars_reads_the_folder_and_averages_float16_after_a_cast(features):
    pl = pytest.importorskip("polars")
    out = features[0]
    rows = sorted(read_rows(out), key=lambda r: r["track_id"])
    df = pl.read_parquet(out).sort("track_id")
    assert df["track_id"].to_list() == [r["track_id"] for r in rows]
    np.testing.assert_array_equal(
        cqt_array(df["cqt_mix"][0], dtype=np.float16),
        cqt_array(rows[0]["cqt_mix"], dtype=np.float16),
    )
    # list.mean has no float16 case in polars (a panic): the columns are cast to float32 first
    means = df.select(pl.col("onset", "level_db").cast(pl.List(pl.Float32)).list.mean())
    for name in ("onset", "level_db"):
        expected = [np.mean(np.asarray(r[name], np.float32)) for r in rows]
        np.testing.assert_allclose(means[name].to_list(), expected, rtol=1e-5, atol=1e-5)


def test_bassnet_reads_a_folder_with_a_failures_file_inside(features, tmp_path):
    """A failures.json among the shards (an old feature folder's layout) is not read as one."""
    old = tmp_path / "A4"
    shutil.copytree(features[0], old)
    (old / "failures.json").write_text("[]\n")
    assert [p.name for p in shard_paths(old)] == [p.name for p in shard_paths(features[0])]
    tracks = [
        t for p in shard_paths(old) for s in ("train", "valid") for t in read_tracks(p, s, -100.0)
    ]
    assert sorted(t.track_id for t in tracks) == sorted(r["track_id"] for r in read_rows(old))


def assert_same_rows(a, b):
    assert [r["track_id"] for r in a] == [r["track_id"] for r in b]
    for row_a, row_b in zip(a, b, strict=True):
        differ = [k for k in row_a if row_a[k] != row_b[k]]
        assert not differ, (row_a["track_id"], differ)


def test_rerun_gives_byte_identical_files(features, small_a4, tmp_path):
    """Byte-identical shards (their metadata included) and failures file; a failures.json
    inside the output folder, where an old run left it, is removed."""
    out = tmp_path / "A4"
    out.mkdir()
    (out / "failures.json").write_text("[]\n")
    run_features(small_a4 / "manifest.csv", out)
    assert_same_rows(read_rows(out), read_rows(features[0]))
    names = sorted(p.name for p in features[0].iterdir())
    assert sorted(p.name for p in out.iterdir()) == names
    for name in names:
        assert (out / name).read_bytes() == (features[0] / name).read_bytes(), name
    assert failures_path(out).read_bytes() == failures_path(features[0]).read_bytes()
