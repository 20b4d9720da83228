"""`bassnet manifest`: each layout → a manifest the feature job reads; bad songs are named."""

import os

import numpy as np
import pytest
import soundfile as sf

from bassnet.cli import main
from bassnet.pipelines.manifest import read_manifest
from bassnet.stems.layouts import assign_splits, scan, split_of, track_id, write_manifest
from tests.stems.conftest import flat_layout, musdb_layout, slakh_layout, write


@pytest.mark.parametrize(
    "layout, make, stems",
    [
        ("musdb18", musdb_layout, {"bass", "drums", "other"}),
        ("flat", flat_layout, {"bass", "drums", "keys"}),
        ("slakh2100", slakh_layout, {"bass", "drums", "piano"}),
    ],
)
def test_each_layout_gives_a_manifest_the_feature_job_reads(stem_audio, tmp_path, layout, make,
                                                            stems):  # fmt: skip
    songs, sr = stem_audio
    root = make(tmp_path / layout, songs, sr)
    rows, skipped, _ = scan(layout, root)
    assert not [s for s in skipped if "skipped" not in s.reason]  # no song lost
    assert {r.stem for r in rows} == stems
    out = tmp_path / "datasets" / layout / "manifest.csv"
    write_manifest(rows, out)
    tracks = read_manifest(out)
    assert len(tracks) == 2 and not any(t.problems for t in tracks)
    assert all(set(t.stems) == stems for t in tracks)


def test_slakh_merges_bass_parts_and_keeps_its_own_splits(stem_audio, tmp_path):
    songs, sr = stem_audio
    rows, skipped, _ = scan("slakh2100", slakh_layout(tmp_path, songs, sr))
    first = [r for r in rows if r.track_id == "Track00001"]
    assert sorted(r.path.name for r in first if r.stem == "bass") == ["S00.flac", "S03.flac"]
    assert {r.track_id: r.split for r in rows} == {"Track00001": "train", "Track00002": "valid"}
    assert not any("S04" in str(r.path) for r in rows) and not skipped  # not rendered: left out


def test_bad_songs_are_skipped_with_reasons_and_the_rest_continue(stem_audio, tmp_path):
    songs, sr = stem_audio
    stems = songs["song0"]
    root = musdb_layout(tmp_path / "c", {"good": stems}, sr)
    for stem in ("drums", "other"):
        write(root / "no_bass" / f"{stem}.wav", stems["drums"], sr)
    write(root / "empty" / "bass.wav", np.zeros(0, np.float32), sr)
    write(root / "empty" / "drums.wav", stems["drums"], sr)
    write(root / "rates" / "bass.wav", stems["bass"], sr)
    write(root / "rates" / "drums.wav", stems["drums"][::2], sr // 2)
    write(root / "lengths" / "bass.wav", stems["bass"], sr)
    write(root / "lengths" / "drums.wav", stems["drums"][:-100], sr)
    for name in ("My Song", "My_Song"):
        write(root / name / "bass.wav", stems["bass"], sr)
        write(root / name / "drums.wav", stems["drums"], sr)
    write(root / "bass_only" / "bass.wav", stems["bass"], sr)  # features would refuse it
    outside = write(tmp_path / "elsewhere" / "bass.wav", stems["bass"], sr)
    (root / "escape").mkdir()
    os.symlink(outside, root / "escape" / "bass.wav")
    (root / "broken").mkdir()
    (root / "broken" / "bass.wav").write_text("not audio")
    rows, skipped, _ = scan("musdb18", root)
    reasons = {s.song: s.reason for s in skipped}
    assert {r.track_id for r in rows} == {"good", "My_Song"}
    assert reasons["no_bass"] == "no bass stem"
    assert "empty stem" in reasons["empty"]
    assert "sample rates" in reasons["rates"]
    assert "different lengths" in reasons["lengths"]
    assert "duplicate id" in reasons["My_Song"] or "duplicate id" in reasons["My Song"]
    assert "outside the collection" in reasons["escape"]
    assert "unreadable" in reasons["broken"]
    assert "only bass stems" in reasons["bass_only"]


def test_ids_and_splits_are_stable():
    assert track_id("My Song (live)") == "My_Song_live"
    ids = [f"song{i}" for i in range(400)]
    splits = [split_of(i, 7, 0.1) for i in ids]
    assert splits == [split_of(i, 7, 0.1) for i in ids]  # the same every time
    assert 0.05 < splits.count("valid") / len(ids) < 0.15
    assert splits != [split_of(i, 8, 0.1) for i in ids]  # the seed matters


def test_the_manifest_command(stem_audio, tmp_path, capsys):
    songs, sr = stem_audio
    root = flat_layout(tmp_path / "flat", songs, sr)
    out = tmp_path / "datasets/mine/manifest.csv"
    assert main(["manifest", "flat", str(root), "-o", str(out)]) == 0
    assert "2 songs" in capsys.readouterr().out
    assert out.read_text().splitlines()[0] == "track_id,stem,path,split"
    assert main(["manifest", "flat", str(tmp_path / "nowhere"), "-o", str(out)]) == 2
    assert main(["manifest", "flat", str(tmp_path / "datasets"), "-o", str(out)]) == 2
    assert sf.info(root / "song0" / "bass.flac").frames > 0


def test_unsplit_manifests_are_split_by_the_collection_seed(stem_audio, tmp_path):
    songs, sr = stem_audio
    rows, _, _ = scan("flat", flat_layout(tmp_path / "flat", songs, sr))
    assert {r.split for r in rows} == {None}
    out = tmp_path / "manifest.csv"
    write_manifest(rows, out)
    assert {t.split for t in read_manifest(out)} == {"train"}
    seeded = {t.track_id: t.split for t in read_manifest(out, split_seed=3, valid_fraction=0.5)}
    assert seeded == assign_splits(["song0", "song1"], 3, 0.5)
    # a small collection still gets a validation song (training needs one)
    none_drawn = {t.track_id: t.split for t in read_manifest(out, split_seed=3, valid_fraction=0)}
    assert sorted(none_drawn.values()) == ["train", "valid"]


def test_assign_splits_keeps_the_drawn_splits_when_one_is_valid():
    ids = [f"song{i}" for i in range(50)]
    drawn = assign_splits(ids, 1, 0.1)
    assert drawn == {t: split_of(t, 1, 0.1) for t in ids}  # enough songs: nothing forced
    assert assign_splits(["only"], 1, 0.0) == {"only": "train"}  # one song: nothing to hold out
