"""Real FluidSynth renders: determinism, audio where notes play, silence where they rest."""

import dataclasses
import hashlib
import json

import numpy as np
import pyarrow.parquet as pq
import pytest
import soundfile as sf

from bassnet.synth.dataset import LABEL_SCHEMA, render_dataset
from bassnet.synth.fluidsynth_render import FluidRenderer
from bassnet.synth.labels import frame_labels
from bassnet.synth.midi import plan_to_midi
from bassnet.synth.plan import make_plan


def tree_hashes(root):
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def a4(tmp_path_factory, render_cfg):
    out = tmp_path_factory.mktemp("A4")
    cfg = dataclasses.replace(render_cfg, workers=2)
    summary = render_dataset("A4", out, 3, 7, cfg, progress=False)
    return out, summary, cfg


def test_layout_labels_and_manifest(a4):
    out, summary, cfg = a4
    assert summary.songs == 3 and "A4: 3 songs" in summary.line()
    table = pq.read_table(out / "labels.parquet")
    assert table.schema.equals(LABEL_SCHEMA)
    rows = table.to_pylist()
    assert [r["track_id"] for r in rows] == ["A4_00000", "A4_00001", "A4_00002"]
    manifest = (out / "manifest.csv").read_text().splitlines()
    assert manifest[0] == "track_id,stem,path,split"
    assert len(manifest) == 1 + 2 * 3
    for row in rows:
        for stem in ("mix", "bass"):
            info = sf.info(out / "audio" / f"{row['track_id']}.{stem}.wav")
            assert info.samplerate == cfg.sample_rate and info.channels == 1
            assert info.subtype == "PCM_16"
            assert info.frames == round(row["duration_s"] * cfg.sample_rate)
        assert (out / "midi" / f"{row['track_id']}.mid").is_file()
    assert not list(out.rglob("*.tmp")), "no temporary files left behind"


def test_same_seed_gives_identical_files_with_any_worker_count(a4, tmp_path):
    out, _, cfg = a4
    render_dataset("A4", tmp_path, 3, 7, dataclasses.replace(cfg, workers=1), progress=False)
    ours, theirs = tree_hashes(tmp_path), tree_hashes(out)
    # stats.json records the run's wall time, which differs between runs; the rest must not
    assert ours.pop("stats.json") and theirs.pop("stats.json")
    assert ours == theirs

    def counts(root):
        return {k: v for k, v in json.loads((root / "stats.json").read_text()).items()
                if k != "wall_minutes"}  # fmt: skip

    assert counts(tmp_path) == counts(out)


def test_render_song_gives_the_dataset_song(a4):
    """The control check renders new songs with `render_song`: the same song the dataset
    stage writes (MIDI bytes, WAV samples), so it sees what the models were trained on."""
    from bassnet.synth.dataset import STEMS, _to_pcm16, render_song
    from bassnet.synth.midi import midi_to_bytes

    out, _, cfg = a4
    renderer = FluidRenderer(cfg.soundfont, cfg.sample_rate, cfg.gain, cfg.effects)
    try:
        plan, midi, audio = render_song("A4", 1, 7, cfg, renderer, STEMS.values())
    finally:
        renderer.close()
    assert plan.track_id == "A4_00001"
    assert midi_to_bytes(midi) == (out / "midi" / "A4_00001.mid").read_bytes()
    for stem, samples in zip(STEMS, audio, strict=True):
        written, rate = sf.read(out / "audio" / f"A4_00001.{stem}.wav", dtype="int16")
        assert rate == cfg.sample_rate and np.abs(written).max() > 0
        assert np.array_equal(written, _to_pcm16(samples))


def test_other_seed_gives_other_files(a4, tmp_path):
    out, _, cfg = a4
    render_dataset("A4", tmp_path, 1, 8, cfg, progress=False)
    assert tree_hashes(tmp_path)["midi/A4_00000.mid"] != tree_hashes(out)["midi/A4_00000.mid"]


def rms(x):
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if len(x) else 0.0


def test_bass_sounds_on_notes_and_rests_in_pattern_5(render_cfg):
    cfg = dataclasses.replace(render_cfg, seconds=12, pattern_switch_prob=0.5)
    # the first song (by index) whose plan has pattern 5 in a measure after the first
    plan = next(
        p for p in (make_plan("A4", i, i, cfg) for i in range(100)) if 5 in p.patterns[1:-1]
    )
    renderer = FluidRenderer(cfg.soundfont, cfg.sample_rate, cfg.gain, cfg.effects)
    n = round(plan.duration_s * cfg.sample_rate)
    midi = plan_to_midi(plan)
    bass = renderer.render(midi, ("bass",), n).mean(axis=1)
    mix = renderer.render(midi, ("chords", "drums"), n).mean(axis=1)
    sr = cfg.sample_rate
    loud = rms(bass)
    assert loud > 1e-3
    for note in plan.bass_notes:  # every note sounds in its first 80 ms
        start = round(plan.ticks_to_seconds(note.start) * sr)
        assert rms(bass[start : start + int(0.08 * sr)]) > 0.2 * loud
    beat_s = plan.duration_s / plan.n_measures / 4
    for m, pattern in enumerate(plan.patterns):
        if pattern == 5:  # beat 1 only: silent from beat 2 (+ release) to the next measure
            a = round((m * 4 + 1) * beat_s * sr + 0.25 * sr)
            b = round((m + 1) * 4 * beat_s * sr)
            assert rms(bass[a:b]) < 0.01 * loud, m
            assert rms(mix[a:b]) > 0.05 * rms(mix)  # while the mix plays on


def test_a5_renders_audio_and_labels_with_one_chord_instrument_at_a_time(tmp_path, render_cfg):
    out = tmp_path / "A5"
    summary = render_dataset("A5", out, 2, 1005, render_cfg, progress=False)
    assert "A5: 2 songs" in summary.line()
    table = pq.read_table(out / "labels.parquet")
    assert table.schema.equals(LABEL_SCHEMA)
    for row in table.to_pylist():
        plan = make_plan("A5", int(row["index"]), row["seed"], render_cfg)
        assert row["chord_programs"] == [16, 24, 0]  # organ, guitar, piano
        assert row["chord_volumes"] == [127, 127, 127] and row["proportion"] is None
        assert set(row["pattern"]) <= {1, 2, 3}
        np.testing.assert_array_equal(
            row["chord_instrument"], frame_labels(plan)["chord_instrument"]
        )
        for stem in ("mix", "bass"):
            audio, rate = sf.read(out / "audio" / f"{row['track_id']}.{stem}.wav")
            assert rate == render_cfg.sample_rate
            assert len(audio) == round(row["duration_s"] * rate) and rms(audio) > 1e-3
    stats = json.loads((out / "stats.json").read_text())
    assert set(stats["pattern_share"]) == {"1", "2", "3"}
    assert abs(sum(stats["pattern_share"].values()) - 1) < 1e-3


def test_each_a5_chord_instrument_sounds_on_its_channel(render_cfg):
    """The chords alone sound in every measure, whichever of the three instruments (on MIDI
    channels 0, 1 and 3) plays it."""
    cfg = dataclasses.replace(render_cfg, seconds=20, instrument_switch_prob=1.0)
    plan = next(
        p for p in (make_plan("A5", i, i, cfg) for i in range(50))
        if {c.program for c in p.chords} == {16, 24, 0}
    )  # fmt: skip
    renderer = FluidRenderer(cfg.soundfont, cfg.sample_rate, cfg.gain, cfg.effects)
    try:
        n = round(plan.duration_s * cfg.sample_rate)
        chords = renderer.render(plan_to_midi(plan), ("chords",), n).mean(axis=1)
    finally:
        renderer.close()
    measure = n / plan.n_measures
    levels = {}
    for m, chord in enumerate(plan.chord_per_measure()):
        levels.setdefault(chord.program, []).append(
            rms(chords[round(m * measure) : round((m + 1) * measure)])
        )
    assert set(levels) == {16, 24, 0}
    assert min(min(v) for v in levels.values()) > 0.05 * rms(chords), levels
