"""A 1-hour song through `bassnet generate` in bounded memory (slow: `make test-slow`)."""

import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf


@pytest.mark.slow
def test_a_one_hour_song_generates_in_bounded_memory(small_model, tmp_path):
    # stereo 44.1 kHz 16-bit, written block by block: 635 MB on disk, 1.27 GB as float32
    sr, seconds, path = 44100, 3600, tmp_path / "hour.wav"
    rng = np.random.default_rng(0)
    with sf.SoundFile(path, "w", samplerate=sr, channels=2, subtype="PCM_16") as out:
        for _ in range(seconds // 60):
            t = np.arange(60 * sr) / sr
            block = 0.2 * np.sin(2 * np.pi * 110 * t) + 0.05 * rng.standard_normal(len(t))
            out.write(np.stack([block, block], axis=1).astype(np.float32))
    code = (
        "import resource, sys; from pathlib import Path; "
        "from bassnet.api import generate_files; "
        "r = generate_files(sys.argv[1], sys.argv[2], Path(sys.argv[3]), progress=False); "
        "print('MAXRSS_KB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, r.seconds_audio)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(path), str(tmp_path / "bass"), str(small_model)],
        capture_output=True, text=True, timeout=3000,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    maxrss_gib = int(result.stdout.split("MAXRSS_KB")[1].split()[0]) / 2**20
    print(f"peak RSS {maxrss_gib:.2f} GiB for 1 h of stereo 44.1 kHz")
    assert maxrss_gib < 1.5  # the song as float32 alone would be 1.27 GB: it is never held whole
    assert sf.info(tmp_path / "bass.wav").frames == seconds * sr
