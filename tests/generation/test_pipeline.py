"""`bassnet generate` end to end on rendered audio, odd inputs, and bad input."""

import mido
import numpy as np
import pytest
import soundfile as sf

from bassnet.api import generate_files
from bassnet.cli import main
from bassnet.errors import AudioError, DataError
from bassnet.generation.config import GenerateConfig
from bassnet.generation.pipeline import MixReader, load_folded, song_curves
from tests.generation.conftest import tone


def test_generate_writes_wav_midi_and_mix_at_the_input_rate_and_length(a1_song, small_model,
                                                                      tmp_path):  # fmt: skip
    mix, _, _ = a1_song
    info = sf.info(mix)
    result = generate_files(mix, tmp_path / "out" / "bass", small_model, with_mix=True,
                            progress=False)  # fmt: skip
    bass = sf.info(result.wav)
    assert (bass.samplerate, bass.frames, bass.channels) == (info.samplerate, info.frames, 1)
    mixed = sf.info(result.mix)
    assert (mixed.samplerate, mixed.frames, mixed.channels) == (
        info.samplerate, info.frames, info.channels,
    )  # fmt: skip
    midi = mido.MidiFile(result.midi)
    assert abs(midi.length - info.frames / info.samplerate) < 0.01
    assert result.realtime_factor > 0 and result.seconds_audio == pytest.approx(info.duration)


def test_segments_give_the_same_curves_as_one_pass(a1_song, small_model):
    mix, _, _ = a1_song
    audio, sr = sf.read(mix, dtype="float32")
    long = mix.parent / "long.wav"
    sf.write(long, np.concatenate([audio] * 3), sr)  # ≈24 s: three segments of 10 s
    model = load_folded(small_model)
    reader = MixReader(long)
    z = lambda t: np.zeros((len(t), 2), np.float32)  # noqa: E731
    pieces = song_curves(model, reader, z, GenerateConfig(segment_s=10), progress=False)
    whole = song_curves(model, reader, z, GenerateConfig(segment_s=60), progress=False)
    assert len(pieces) == len(whole) == 1 + round(reader.seconds * 16000) // 160
    for name in ("voicing", "level_db", "onset"):
        assert np.allclose(getattr(pieces, name), getattr(whole, name), atol=2e-3), name


@pytest.mark.parametrize(
    "sr, channels, subtype",
    [(8000, 1, "PCM_U8"), (16000, 1, "PCM_16"), (44100, 2, "PCM_24"), (96000, 2, "FLOAT")],
)
def test_rates_channels_and_sample_formats(small_model, tmp_path, sr, channels, subtype):
    audio = np.stack([tone(110.0, 3.0, sr) + tone(220.0, 3.0, sr, 0.2)] * channels, axis=1)
    path = tmp_path / f"in_{sr}.wav"
    sf.write(path, audio, sr, subtype=subtype)
    result = generate_files(path, tmp_path / "bass", small_model, progress=False)
    out = sf.info(result.wav)
    assert (out.samplerate, out.frames) == (sr, len(audio))
    mido.MidiFile(result.midi)


def test_silence_gives_an_empty_midi_and_a_silent_wav(small_model, tmp_path):
    path = tmp_path / "silence.wav"
    sf.write(path, np.zeros(3 * 22050, np.float32), 22050)
    result = generate_files(path, tmp_path / "bass", small_model, progress=False)
    assert result.notes == 0
    assert not [m for m in mido.MidiFile(result.midi) if m.type == "note_on"]
    assert not np.any(sf.read(result.wav)[0])


def test_a_z_outside_the_trained_region_warns(a1_song, small_model, tmp_path):
    with pytest.warns(UserWarning, match="outside the region"):
        generate_files(a1_song[0], tmp_path / "bass", small_model, z=np.array([5.0, 0.0]),
                       progress=False)  # fmt: skip


def test_a_z_path_is_followed(a1_song, small_model, tmp_path):
    path = tmp_path / "z.csv"
    path.write_text("time_s,z1,z2\n0,-0.5,0\n8,0.5,0\n")
    result = generate_files(a1_song[0], tmp_path / "bass", small_model, z_path=path,
                            progress=False)  # fmt: skip
    assert result.wav.is_file() and not result.warnings


def test_bad_model_and_audio_files_are_clear_errors(a1_song, small_model, tmp_path):
    with pytest.raises(DataError, match="no such model"):
        generate_files(a1_song[0], tmp_path / "b", tmp_path / "missing.pt", progress=False)
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a model")
    with pytest.raises(DataError, match="not a BassNet model"):
        generate_files(a1_song[0], tmp_path / "b", junk, progress=False)
    text = tmp_path / "song.wav"
    text.write_text("this is not audio")
    with pytest.raises(AudioError, match="song.wav"):
        generate_files(text, tmp_path / "b", small_model, progress=False)
    assert not list(tmp_path.glob("b.*"))  # nothing half-written


def test_the_cli_generates_and_names_its_outputs(a1_song, small_model, tmp_path, capsys):
    out = tmp_path / "cli"
    code = main(["generate", str(a1_song[0]), "-o", str(out), "--model", str(small_model),
                 "--z", "0.4,0.0", "-q"])  # fmt: skip
    assert code == 0
    assert out.with_suffix(".wav").is_file() and out.with_suffix(".mid").is_file()
    assert "× real time" in capsys.readouterr().out
    assert main(["generate", str(a1_song[0]), "-o", str(out), "--model", "nope"]) == 2
    assert "no model 'nope'" in capsys.readouterr().err


def test_the_cli_says_a_warning_once(a1_song, small_model, tmp_path, capsys):
    assert main(["generate", str(a1_song[0]), "-o", str(tmp_path / "far"), "--model",
                 str(small_model), "--z", "5,0", "-q"]) == 0  # fmt: skip
    assert capsys.readouterr().err.count("outside the region") == 1


def test_the_soundfont_renderer_plays_the_midi(a1_song, small_model, tmp_path):
    result = generate_files(a1_song[0], tmp_path / "bass", small_model, render="soundfont",
                            progress=False)  # fmt: skip
    audio, sr = sf.read(result.wav)
    assert sr == sf.info(a1_song[0]).samplerate
    notes = [m for m in mido.MidiFile(result.midi) if m.type == "note_on" and m.velocity]
    assert bool(notes) == bool(np.any(np.abs(audio) > 1e-3))  # sound exactly when notes play
