"""Windows from real feature shards: split, neighbours, determinism, bad input."""

import shutil

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch

from bassnet.errors import DataError
from bassnet.features.cqt import LOG_FLOOR, transpose_log_cqt
from bassnet.model.multires import WindowSpec
from bassnet.training.data import (
    WindowSampler,
    WindowSet,
    read_tracks,
    recolour_log_cqt,
    shard_paths,
)

SPEC = WindowSpec(8, 32)


def sampler(shards, seed=0, neighbourhood=100, transpose=0, **recolour):
    return WindowSampler(
        shard_paths(shards),
        SPEC,
        neighbourhood,
        np.random.default_rng(seed),
        -100.0,
        4,
        transpose=transpose,
        **recolour,
    )


def test_split_is_by_song_and_deterministic(a1_shards):
    train_ids = {t.track_id for p in shard_paths(a1_shards) for t in read_tracks(p, "train", -100)}
    valid_ids = {t.track_id for p in shard_paths(a1_shards) for t in read_tracks(p, "valid", -100)}
    assert len(train_ids) == 3 and len(valid_ids) == 1 and not train_ids & valid_ids
    assert {t.track_id for t in sampler(a1_shards).tracks} == train_ids
    first = WindowSet(shard_paths(a1_shards), SPEC, 10, -100.0)
    second = WindowSet(shard_paths(a1_shards), SPEC, 10, -100.0)
    assert set(first.track_ids) == valid_ids and len(first) >= 5
    assert first.starts == second.starts and np.array_equal(first.x, second.x)


def test_batches_are_seeded_and_compressed(a1_shards):
    a, b = sampler(a1_shards).batch(5), sampler(a1_shards).batch(5)
    assert np.array_equal(a["x"], b["x"]) and np.array_equal(a["v"], b["v"])
    assert a["x"].shape == a["u"].shape == (5, SPEC.channels, SPEC.compressed, 264)
    assert a["targets"]["f0"].shape == (5, SPEC.channels, SPEC.compressed, 265)
    assert not np.array_equal(a["x"], sampler(a1_shards, seed=1).batch(5)["x"])


def test_neighbours_start_within_the_neighbourhood(a1_shards, monkeypatch):
    import bassnet.training.data as data

    seen = []
    original = data.cut

    def spy(tracks, index, start, spec, semitones=None):
        seen.append((index.copy(), start.copy()))
        return original(tracks, index, start, spec, semitones)

    monkeypatch.setattr(data, "cut", spy)
    sampler(a1_shards, neighbourhood=20).batch(50)
    (index, start), (index_n, start_n) = seen
    assert np.array_equal(index, index_n)
    assert np.abs(start - start_n).max() <= 20 and (start != start_n).any()


def _semitones(plain: torch.Tensor, moved: torch.Tensor) -> list[int]:
    """Per window, the k in [-3, 3] with transpose_log_cqt(plain, k) ≈ moved (None if none;
    float16 features: the floor differs by 6e-4 from its float32 value)."""
    found = []
    for p, m in zip(plain.numpy(), moved.numpy(), strict=True):
        moves = {k: np.stack([transpose_log_cqt(c, k) for c in p]) for k in range(-3, 4)}
        ks = [k for k, moved_p in moves.items() if np.allclose(moved_p, m, atol=2e-3)]
        found.append(ks[0] if len(ks) == 1 else None)
    return found


def test_transposed_windows_keep_the_mix_bass_relation(a1_shards):
    # the same seed draws the same windows; only the semitones come on top
    plain, moved = sampler(a1_shards).batch(40), sampler(a1_shards, transpose=3).batch(40)
    kx, ky = _semitones(plain["x"], moved["x"]), _semitones(plain["y"], moved["y"])
    ku, kv = _semitones(plain["u"], moved["u"]), _semitones(plain["v"], moved["v"])
    assert None not in kx + ku and kx == ky and ku == kv  # mix and bass moved together
    assert len(set(kx)) > 3 and kx != ku  # each window and its neighbour on its own
    f0, f0_moved = plain["targets"]["f0"], moved["targets"]["f0"]
    for i, k in enumerate(kx):  # the f0 target moved with the bass: 3 bins a semitone
        voiced = f0[i, 0, :, :264].sum(-1) == 1
        top = f0[i, 0, voiced, :264].argmax(-1)
        inside = (top + 3 * k >= 0) & (top + 3 * k < 264)
        assert torch.equal(f0_moved[i, 0, voiced, :264].argmax(-1)[inside], (top + 3 * k)[inside])


NATS_PER_DB = np.log(10) / 20  # log |CQT| is in nats: 20 dB is a factor of 10 in magnitude


def test_recolouring_moves_the_level_and_tilts_the_spectrum_of_real_windows(a1_shards):
    x = sampler(a1_shards).batch(3)["x"]  # real mix windows (3, C, a, 264), float16's floor
    sounding = x > np.log(LOG_FLOOR) + 0.01
    assert sounding.float().mean() > 0.2 and (~sounding).any()
    out = recolour_log_cqt(x, np.array([6.0, -6.0, 0.0]), np.array([0.0, 0.0, 2.0]))
    change = (out - x).double()

    def moved_by(values, db):  # every value is a move of `db` dB
        return values.numel() > 0 and (values - db * NATS_PER_DB).abs().max() < 1e-5

    assert moved_by(change[0][sounding[0]], 6.0)
    assert torch.equal(out[0][~sounding[0]], x[0][~sounding[0]])  # silence stays silent
    loud = x[1] > np.log(LOG_FLOOR) + 1  # -6 dB (0.69 nats) does not reach the floor from here
    assert moved_by(change[1][loud], -6.0) and (out[1] >= np.log(LOG_FLOOR) - 1e-6).all()
    # 2 dB per octave about the middle of the 264 bins (131.5): bins 168 and 96 lie 36.5 and
    # 35.5 bins (≈ an octave) above and below it
    up, down = (sounding[2, :, :, b] for b in (168, 96))
    assert moved_by(change[2, :, :, 168][up], 2 * 36.5 / 36)
    assert moved_by(change[2, :, :, 96][down & (x[2, :, :, 96] > np.log(LOG_FLOOR) + 1)],
                    -2 * 35.5 / 36)  # fmt: skip


def _gain_db(plain: torch.Tensor, recoloured: torch.Tensor) -> np.ndarray:
    """Per window, the mean change of its sounding bins in dB."""
    sounding = plain > np.log(LOG_FLOOR) + 0.01
    change = (recoloured - plain) * sounding
    return (change.sum((1, 2, 3)) / sounding.sum((1, 2, 3)) / NATS_PER_DB).numpy()


def test_recoloured_mixes_leave_the_bass_and_differ_from_their_neighbours(a1_shards):
    plain = sampler(a1_shards).batch(40)
    recoloured = sampler(a1_shards, mix_gain_db=9.0, mix_tilt_db=1.0).batch(40)
    for key in ("y", "v"):  # the bass and its targets are not touched
        assert torch.equal(plain[key], recoloured[key])
    assert torch.equal(plain["targets"]["f0"], recoloured["targets"]["f0"])
    gx, gu = _gain_db(plain["x"], recoloured["x"]), _gain_db(plain["u"], recoloured["u"])
    assert np.abs(gx).max() <= 9.0 + 1.2 * 4 and np.abs(gx).std() > 2  # spread over ±9 dB
    assert np.abs(gx - gu).mean() > 2  # the neighbour gets its own gain
    off = sampler(a1_shards, mix_gain_db=0.0, mix_tilt_db=0.0).batch(40)
    assert torch.equal(off["x"], plain["x"]) and torch.equal(off["u"], plain["u"])


def _rewrite(shards, tmp_path, change):
    out = tmp_path / "bad"
    shutil.copytree(shards, out)
    path = shard_paths(out)[0]
    rows = pq.read_table(path).to_pylist()
    change(rows[0])
    table = pa.Table.from_pylist(rows, schema=pq.read_schema(path))
    pq.write_table(table, path)
    return out, rows[0]["track_id"]


def test_nan_features_are_named(a1_shards, tmp_path):
    def poison(row):
        row["onset"][3] = float("nan")
        row["split"] = "train"

    bad, track = _rewrite(a1_shards, tmp_path, poison)
    with pytest.raises(DataError, match=f"{track}.*onset"):
        sampler(bad)


def test_track_shorter_than_the_window_is_named(a1_shards, tmp_path):
    with pytest.raises(DataError, match="shorter than the window 8/2048"):
        WindowSampler(shard_paths(a1_shards), WindowSpec(8, 2048), 10,
                      np.random.default_rng(0), -100.0, 4)  # fmt: skip


def test_missing_shards_are_an_error(tmp_path):
    with pytest.raises(DataError, match="no feature shards"):
        shard_paths(tmp_path)
