"""The Python API (`bassnet.load_model`, `bassnet.generate`), patterns by name, the MIDI on the
song's beat, several inputs and --device, on rendered songs and small real models."""

import dataclasses
import json
import subprocess
import sys

import mido
import numpy as np
import pytest
import soundfile as sf
import torch

import bassnet
from bassnet.cli import main
from bassnet.errors import AudioError, ConfigError
from bassnet.generation.midi_out import TICKS_PER_BEAT, notes_to_midi
from bassnet.generation.notes import BassNote
from bassnet.model import BassNet, ModelConfig
from bassnet.synth.patterns import DATASETS, PATTERN_NAMES
from tests.conftest import save_tiny_model

CENTROIDS = {"root": [-0.5, 0.0], "third": [0.0, 0.5], "fifth": [0.5, 0.0]}


@pytest.fixture(scope="module")
def pattern_model(tmp_path_factory):
    """A small untrained model file with named pattern centroids, as `ship-models` writes."""
    path = tmp_path_factory.mktemp("patterns") / "model.pt"
    return save_tiny_model(path, seed=1, pattern_centroids=CENTROIDS)


@pytest.fixture(scope="module")
def songs(tmp_path_factory, render_cfg):
    """One rendered song of ≈12 s per dataset A1–A4: (mix WAV, true tempo in BPM)."""
    import pyarrow.parquet as pq

    from bassnet.synth.dataset import render_dataset

    out = []
    for i, dataset in enumerate(DATASETS):
        root = tmp_path_factory.mktemp(dataset)
        cfg = dataclasses.replace(render_cfg, seconds=12, valid_fraction=0.0)
        render_dataset(dataset, root, 1, 40 + i, cfg, progress=False)
        row = pq.read_table(root / "labels.parquet", columns=["track_id", "tempo_bpm"]).to_pylist()
        out.append((root / "audio" / f"{row[0]['track_id']}.mix.wav", row[0]["tempo_bpm"]))
    return out


def test_import_bassnet_does_not_import_torch():
    code = "import sys, bassnet; print('torch' in sys.modules, callable(bassnet.generate))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.split() == ["False", "True"], result.stderr
    with pytest.raises(AttributeError):
        bassnet.nothing_here  # noqa: B018


def test_generate_from_an_array_gives_notes_curves_midi_and_audio(a1_song, small_model, tmp_path):
    audio, sr = sf.read(a1_song[0], dtype="float32")
    bass = bassnet.generate(audio, str(small_model), z=(0.2, -0.1), sample_rate=sr,
                            midi_tempo=100)  # fmt: skip
    assert bass.audio.shape == (len(audio),) and bass.sample_rate == sr
    assert len(bass.curves) == 1 + round(len(audio) / sr * 16000) // 160
    assert isinstance(bass.midi, mido.MidiFile) and bass.tempo_bpm == 100
    assert all(isinstance(n, BassNote) for n in bass.notes)
    paths = bass.save(tmp_path / "out" / "song")
    assert [p.name for p in paths] == ["song.wav", "song.mid"]
    written, rate = sf.read(paths[0], dtype="float32")
    assert rate == sr and np.allclose(written, np.clip(bass.audio, -1, 1), atol=1 / 16384)
    # the file API gives the same bass for the file the array came from
    from_file = bassnet.generate(a1_song[0], str(small_model), z=(0.2, -0.1), midi_tempo=100)
    assert np.allclose(from_file.curves.level_db, bass.curves.level_db, atol=1e-3)


def test_an_array_needs_its_rate_and_a_sane_shape(small_model):
    with pytest.raises(ConfigError, match="sample_rate"):
        bassnet.generate(np.zeros(16000), str(small_model))
    with pytest.raises(AudioError, match="shape"):
        bassnet.generate(np.zeros((2, 3, 4)), str(small_model), sample_rate=16000)
    with pytest.raises(AudioError, match="NaN"):
        bassnet.generate(np.full(16000, np.nan), str(small_model), sample_rate=16000)
    with pytest.raises(ConfigError, match="device"):
        bassnet.load_model(str(small_model), device="tpu")


def test_a_pattern_by_name_is_its_centroid(a1_song, pattern_model):
    model = bassnet.load_model(pattern_model)
    assert list(model.patterns) == ["root", "third", "fifth"]
    assert model.pattern_source == "training songs"
    named = bassnet.generate(a1_song[0], model, z="fifth", midi_tempo=120)
    point = bassnet.generate(a1_song[0], model, z=(0.5, 0.0), midi_tempo=120)
    root = bassnet.generate(a1_song[0], model, z="root", midi_tempo=120)
    assert np.array_equal(named.curves.onset, point.curves.onset)
    assert not np.array_equal(named.curves.onset, root.curves.onset)
    with pytest.raises(ConfigError, match=r"no pattern 'sixth' \(known: root, third, fifth\)"):
        bassnet.generate(a1_song[0], model, z="sixth")


def test_the_cli_takes_a_pattern_and_refuses_two_kinds_of_z(a1_song, pattern_model, tmp_path,
                                                           capsys):  # fmt: skip
    base = ["generate", str(a1_song[0]), "--model", str(pattern_model), "-q"]
    assert main([*base, "-o", str(tmp_path / "fifth"), "--pattern", "fifth"]) == 0
    assert (tmp_path / "fifth.wav").is_file()
    assert main([*base, "-o", str(tmp_path / "x"), "--pattern", "fifth", "--z", "0,0"]) == 2
    assert "give one of --z, --z-path and --pattern" in capsys.readouterr().err
    assert main([*base, "-o", str(tmp_path / "x"), "--pattern", "ninth"]) == 2
    assert "known: root, third, fifth" in capsys.readouterr().err
    assert not (tmp_path / "x.wav").exists()


def test_every_dataset_names_each_of_its_patterns():
    assert {d: len(PATTERN_NAMES[d]) for d in DATASETS} == {
        d: s.n_patterns for d, s in DATASETS.items()
    }
    # a name says which pattern it is, whatever the dataset: A5 plays A1's patterns, by A1's names
    assert PATTERN_NAMES["A5"] == PATTERN_NAMES["A1"]
    own = {d: s for d, s in DATASETS.items() if d != "A5"}
    assert len({n for d in own for n in PATTERN_NAMES[d]}) == sum(
        s.n_patterns for s in own.values()
    )


def test_ship_stores_the_control_stages_centroids_by_name(tmp_path):
    from bassnet.pretrained.ship import ship

    torch.manual_seed(0)
    model = BassNet(ModelConfig(window="10/40", maps=2, blocks=2, head_maps=2)).eval()
    (tmp_path / "models/A4/40-40").mkdir(parents=True)
    model.save(tmp_path / "models/A4/40-40/model.pt")
    centroids = {str(p): [p / 10, -p / 10] for p in range(1, 6)}
    control = {"selected": "40-40", "models": {"40-40": {"centroids": centroids}}}
    (tmp_path / "control").mkdir()
    (tmp_path / "control/A4.json").write_text(json.dumps(control))
    cards = ship(tmp_path / "models", ["A4"], "40-40", "default", None, tmp_path / "out", None,
                 tmp_path / "control")  # fmt: skip
    names = ["root-fifth", "fifth-root", "root-third-fifth", "eighths", "root-only"]
    want = {name: [p / 10, -p / 10] for p, name in enumerate(names, start=1)}
    assert cards["A4"]["patterns"] == want
    loaded = bassnet.load_model(tmp_path / "out/A4.pt")
    assert list(loaded.patterns) == names
    assert all(np.allclose(loaded.patterns[k], v) for k, v in want.items())


def test_bassnet_models_lists_pattern_names(capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert "patterns: root, third, fifth" in out
    assert "patterns: root-fifth, fifth-root, root-third-fifth, eighths, root-only" in out


# --- the MIDI on the song's beat ---------------------------------------------------------
def _bar_times(midi: mido.MidiFile, count: int) -> tuple[float, list[float]]:
    """The tempo after the lead-in (BPM) and the times in s of the first `count` bar lines
    from the first 4/4 bar on, read back from the file's tempo and time-signature events."""
    events, tick = [], 0
    for msg in midi.tracks[0]:
        tick += msg.time
        if msg.type in ("set_tempo", "time_signature"):
            events.append((tick, msg))
    tempo_at = [(t, m.tempo) for t, m in events if m.type == "set_tempo"]
    first_44 = max(t for t, m in events if m.type == "time_signature" and m.numerator == 4)

    def seconds(target: int) -> float:
        total, prev_tick, prev_tempo = 0.0, 0, tempo_at[0][1]
        for t, tempo in tempo_at[1:] + [(target, None)]:
            t = min(t, target)
            total += (t - prev_tick) * prev_tempo / 1e6 / TICKS_PER_BEAT
            prev_tick, prev_tempo = t, tempo or prev_tempo
            if t >= target:
                break
        return total

    bars = [seconds(first_44 + 4 * TICKS_PER_BEAT * k) for k in range(count)]
    return 60e6 / tempo_at[-1][1], bars


def test_the_midi_takes_each_songs_tempo_and_its_bars_fall_on_the_songs_beats(songs, small_model):
    """Measured: madmom's tracker is within 0.1 % of the true tempo (the slope through its
    beats), and the octave is the song's (`generation.beat`: 80 of 80 test songs of A1–A4)."""
    for mix, truth in songs:
        bass = bassnet.generate(mix, str(small_model))
        assert abs(bass.tempo_bpm / truth - 1) < 0.02, (mix.name, bass.tempo_bpm, truth)
        tempo, bars = _bar_times(bass.midi, 4)
        assert tempo == pytest.approx(bass.tempo_bpm, rel=1e-4)
        # the rendered songs start on a downbeat: every MIDI bar line on one of the song's beats
        beat = 60 / truth
        assert np.allclose(bars, np.round(np.array(bars) / beat) * beat, atol=0.05), bars
        assert bars[0] < 0.05  # bar 1 starts with the song


@pytest.fixture(scope="module")
def fast_songs(tmp_path_factory, render_cfg):
    """A1 at 190 BPM and A3 at 188 BPM, ≈12 s each: (mix WAV, song MIDI, true tempo in BPM).
    Tempi where madmom's DBN alone takes every other beat (95 and 94 BPM)."""
    import pyarrow.parquet as pq

    from bassnet.synth.dataset import render_dataset

    out = []
    for dataset, bpm in (("A1", 190.0), ("A3", 188.0)):
        root = tmp_path_factory.mktemp(f"{dataset}-fast")
        cfg = dataclasses.replace(render_cfg, seconds=12, valid_fraction=0.0, tempo_bpm=(bpm, bpm))
        render_dataset(dataset, root, 1, 3, cfg, progress=False)
        row = pq.read_table(root / "labels.parquet", columns=["track_id", "tempo_bpm"]).to_pylist()
        track = row[0]["track_id"]
        out.append((root / "audio" / f"{track}.mix.wav", root / "midi" / f"{track}.mid",
                    row[0]["tempo_bpm"]))  # fmt: skip
    return out


def _song_bass(song_midi: mido.MidiFile) -> list[tuple[float, float, int]]:
    """The song's bass notes: (onset in s, onset in beats, pitch), from its MIDI file."""
    bass = next(t for t in song_midi.tracks if t.name == "bass")
    tempo = next(m.tempo for t in song_midi.tracks for m in t if m.type == "set_tempo")
    notes, tick = [], 0
    for msg in bass:
        tick += msg.time
        if msg.type == "note_on" and msg.velocity:
            beats = tick / song_midi.ticks_per_beat
            notes.append((beats * tempo / 1e6, beats, msg.note))
    return notes


def test_fast_songs_keep_their_tempo_and_their_notes_sit_on_its_beats(fast_songs, small_model):
    """The MIDI's tempo within 2 % of the song's (not its half), and the song's own bass notes,
    written on the grid `generate` found, each on the MIDI beat of its beat in the song within
    30 ms (A1 and A3 play quarter notes on the beats; madmom's frames are 10 ms; 30 ms is a
    tenth of a beat at 190 BPM)."""
    tolerance_s = 0.030
    for mix, song_midi, truth in fast_songs:
        bass = bassnet.generate(mix, str(small_model))
        assert abs(bass.tempo_bpm / truth - 1) < 0.02, (mix.name, bass.tempo_bpm, truth)
        song = _song_bass(mido.MidiFile(song_midi))
        notes = [BassNote(start, start + 0.1, pitch, 90, np.zeros(10))
                 for start, _, pitch in song]  # fmt: skip
        midi = notes_to_midi(notes, bass.seconds, tempo_bpm=bass.tempo_bpm,
                             downbeat_s=bass.downbeat_s)  # fmt: skip
        ticks, tick = [], 0
        for msg in midi.tracks[0]:
            tick += msg.time
            if msg.type == "note_on":
                ticks.append(tick)
        beat_s = 60 / truth
        # a note's beat in the MIDI: whole beats of the pickup (at their own tempo), then the
        # MIDI tempo's; each the note's beat in the song, the song starting on bar 1, beat 1
        at = np.array(ticks) / TICKS_PER_BEAT
        want = np.array([beats for _, beats, _ in song])
        assert len(at) == len(want) > 30
        off_s = np.abs(at - want) * beat_s
        assert off_s.max() < tolerance_s, (mix.name, bass.downbeat_s, off_s.max())


def test_a_one_octave_tempo_range_sets_the_octave(fast_songs):
    """generate.tempo_range_bpm: a user who wants the half-time feel of a 190-BPM song asks for
    60–120 BPM and gets 95; a range that is no range is refused by name."""
    from bassnet.generation.beat import song_beat
    from bassnet.generation.config import GenerateConfig
    from bassnet.generation.pipeline import MixReader

    mix, _, truth = fast_songs[0]
    cfg = GenerateConfig.from_params({"generate": {"tempo_range_bpm": [60, 120]}})
    beat = song_beat(MixReader(mix), tempo_range_bpm=cfg.tempo_range_bpm)
    assert beat.tempo_bpm == pytest.approx(truth / 2, rel=0.02)
    with pytest.raises(ConfigError, match="tempo_range_bpm must be"):
        GenerateConfig.from_params({"generate": {"tempo_range_bpm": [120, 60]}})


def test_a_later_downbeat_is_a_pickup_and_notes_keep_their_seconds():
    notes = [BassNote(0.3, 0.5, 40, 90, np.zeros(20)), BassNote(1.3, 1.8, 45, 90, np.zeros(50))]
    midi = notes_to_midi(notes, 4.0, tempo_bpm=90.0, downbeat_s=1.3)
    now, ons = 0.0, []
    for msg in midi:
        now += msg.time
        if msg.type == "note_on":
            ons.append(now)
    assert ons == pytest.approx([0.3, 1.3], abs=2e-3)  # within a tick (≈1.4 ms here)
    tempo, bars = _bar_times(midi, 3)
    assert tempo == pytest.approx(90.0, rel=1e-4)
    assert np.allclose(bars, [1.3, 1.3 + 8 / 3, 1.3 + 16 / 3], atol=2e-3)
    with pytest.raises(ConfigError, match="20..400 BPM"):
        notes_to_midi(notes, 4.0, tempo_bpm=1000.0)


def test_midi_tempo_overrides_the_beat_tracker(a1_song, small_model, tmp_path, capsys):
    out = tmp_path / "bass"
    assert main(["generate", str(a1_song[0]), "-o", str(out), "--model", str(small_model),
                 "--midi-tempo", "97.5", "-q"]) == 0  # fmt: skip
    assert "MIDI at 97.5 BPM" in capsys.readouterr().out
    tempos = [m.tempo for m in mido.MidiFile(out.with_suffix(".mid")) if m.type == "set_tempo"]
    assert tempos == [mido.bpm2tempo(97.5)]


# --- several inputs, folders, --device -----------------------------------------------------
def test_several_inputs_write_one_pair_each_and_a_failure_is_named(a1_song, small_model,
                                                                  tmp_path, capsys):  # fmt: skip
    other = tmp_path / "in" / "other.wav"
    other.parent.mkdir()
    audio, sr = sf.read(a1_song[0], dtype="float32")
    sf.write(other, audio[: 3 * sr], sr)
    broken = tmp_path / "in" / "broken.wav"
    broken.write_text("not audio")
    out = tmp_path / "out"
    code = main(["generate", str(a1_song[0]), str(broken), str(other), "-o", str(out),
                 "--model", str(small_model), "--midi-tempo", "120", "-q"])  # fmt: skip
    captured = capsys.readouterr()
    assert code == 2
    assert f"bassnet: error: {broken}: " in captured.err and "1 of 3 inputs failed" in captured.err
    assert captured.out.count("generated ") == 2
    stems = (a1_song[0].name.removesuffix(".wav"), "other")
    assert sorted(p.name for p in out.iterdir()) == sorted(
        f"{s}.{x}" for s in stems for x in ("wav", "mid")
    )
    assert main(["generate", str(a1_song[0]), str(other), "-o", str(out), "--model",
                 str(small_model), "--midi-tempo", "120", "-q"]) == 0  # fmt: skip


def test_an_existing_folder_as_output_takes_the_inputs_name(a1_song, small_model, tmp_path):
    folder = tmp_path / "dd"
    folder.mkdir()
    assert main(["generate", str(a1_song[0]), "-o", str(folder), "--model", str(small_model),
                 "--midi-tempo", "120", "-q", "--device", "cpu"]) == 0  # fmt: skip
    stem = a1_song[0].name.removesuffix(".wav")
    assert sorted(p.name for p in folder.iterdir()) == [f"{stem}.mid", f"{stem}.wav"]
    assert not (tmp_path / "dd.wav").exists()


def test_two_inputs_of_one_name_are_refused_before_any_work(a1_song, small_model, tmp_path,
                                                            capsys):  # fmt: skip
    twin = tmp_path / "b" / a1_song[0].name
    twin.parent.mkdir()
    twin.write_bytes(a1_song[0].read_bytes())
    code = main(["generate", str(a1_song[0]), str(twin), "-o", str(tmp_path / "out"),
                 "--model", str(small_model), "-q"])  # fmt: skip
    assert code == 2 and "would both write" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is here")
def test_cuda_without_a_gpu_is_a_named_error(a1_song, small_model, tmp_path, capsys):
    code = main(["generate", str(a1_song[0]), "-o", str(tmp_path / "b"), "--model",
                 str(small_model), "--device", "cuda", "-q"])  # fmt: skip
    assert code == 2 and "torch sees no GPU" in capsys.readouterr().err
    code = main(["encode", "--model", str(small_model), "--mix", str(a1_song[0]), "--bass",
                 str(a1_song[1]), "-o", str(tmp_path / "mu.csv"), "--device", "cuda"])  # fmt: skip
    assert code == 2 and "torch sees no GPU" in capsys.readouterr().err


def test_auto_runs_where_torch_can(a1_song, small_model):
    model = bassnet.load_model(small_model, device="auto")
    assert model.device == ("cuda:0" if torch.cuda.is_available() else "cpu")
    bass = bassnet.generate(a1_song[0], model, midi_tempo=120)
    assert len(bass.curves) > 0


def test_the_package_docstring_example_runs():
    import doctest

    result = doctest.testmod(bassnet, verbose=False)
    assert result.attempted >= 8 and result.failed == 0
