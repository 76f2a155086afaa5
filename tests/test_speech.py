"Speech I/O and espeak-ng TTS: timing realism, determinism, thread safety, languages, and every kind of bad audio file."

import ctypes
import math
import os
import struct
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings, HealthCheck, strategies as st

from ggtalker_nb.core import InputError
from ggtalker_nb.data import speech as S


def sine(f, sr, sec, a=0.5):
    return (a * np.sin(2 * np.pi * f * np.arange(int(round(sr * sec))) / sr)).astype(np.float32)


def raw_wav(path, a, sr, extensible=False, sampwidth=None):
    "A WAV written by hand: any dtype, 24-bit via sampwidth=3, optional WAVE_FORMAT_EXTENSIBLE."
    a = np.asarray(a)
    ch = 1 if a.ndim == 1 else a.shape[1]
    bits = sampwidth * 8 if sampwidth else a.dtype.itemsize * 8
    kind = 3 if a.dtype.kind == "f" else 1
    b = (
        a.astype("<i4").reshape(-1).view(np.uint8).reshape(-1, 4)[:, :3].tobytes()
        if sampwidth == 3
        else a.astype(a.dtype.newbyteorder("<")).tobytes()
    )
    ba = ch * bits // 8
    if extensible:
        sub = kind.to_bytes(2, "little") + bytes.fromhex("000000001000800000aa00389b71")
        fmt = struct.pack("<HHIIHHHHI", 0xFFFE, ch, sr, sr * ba, ba, bits, 22, bits, 0) + sub
    else:
        fmt = struct.pack("<HHIIHH", kind, ch, sr, sr * ba, ba, bits)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(b)) + b
    Path(path).write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    return Path(path)


# ---------------------------------------------------------------- espeak-ng binding


def test_event_struct_layout():
    if ctypes.sizeof(ctypes.c_void_p) == 8:
        assert ctypes.sizeof(S.EspeakEvent) == 40
        assert S.EspeakEvent.id.offset == 32 and S.EspeakEvent.user_data.offset == 24


SENTS = [
    "She sells sea shells by the sea shore.",
    "Susan's zebra zigzags past six sizzling sausages.",
    "The measure of his vision is a casual pleasure.",
    "Sam says she is sure the sun shines on the seas.",
    "Sixty-six sick chicks sit in a shed.",
]


@pytest.mark.parametrize("voice", ["en-us", "en-gb-x-rp", "en-us+m3"])
def test_timings_are_real(voice):
    "Sibilant segments carry far more >4 kHz energy than vowel segments, and a 100 ms shift destroys it."
    sps = [S.tts(s, voice=voice) for s in SENTS]
    r0 = S.hf_share_ratio(sps)
    r_shift = [S.hf_share_ratio(sps, shift_s=d) for d in (0.1, -0.1)]
    assert r0 >= 3, r0
    assert max(r_shift) < 0.5 * r0, (r0, r_shift)


def test_determinism_is_order_independent():
    a = S.tts("The quick brown fox.", voice="en+f2", pitch=60)
    for v in ("de", "ru", "en-us+klatt", "en-us+whisper"):  # anything in between
        S.tts("Etwas ganz anderes, noch einmal." if v == "de" else "Hello there, again.", voice=v)
    S.list_voices()
    b = S.tts("The quick brown fox.", voice="en+f2", pitch=60)
    assert np.array_equal(a.samples, b.samples) and a.phonemes == b.phonemes and a.words == b.words


def test_thread_safety():
    texts = [f"Thread number {i} says hello." for i in range(6)]
    serial = [S.tts(t).samples for t in texts]
    with ThreadPoolExecutor(4) as ex:
        par = list(ex.map(lambda t: S.tts(t).samples, texts))
    for a, b in zip(serial, par):
        assert np.array_equal(a, b)


def test_voices_and_settings_differ():
    base = S.tts("Voices differ.", voice="en-us")
    others = [
        S.tts("Voices differ.", voice="en-us", pitch=20),
        S.tts("Voices differ.", voice="en-us", variant="f2"),
        S.tts("Voices differ.", voice="en-gb-scotland"),
        S.tts("Voices differ.", voice="en-us", rate=250),
    ]
    for o in others:
        assert len(o.samples) != len(base.samples) or not np.array_equal(o.samples, base.samples)
    assert others[-1].duration < 0.85 * base.duration  # faster rate → shorter


@pytest.mark.parametrize(
    "voice,text",
    [
        ("de", "Guten Morgen, wie geht es dir heute?"),
        ("fr", "Bonjour, je suis très content de vous voir."),
        ("es", "Buenos días, ¿cómo estás hoy?"),
        ("ru", "Доброе утро, как ваши дела? Hello world."),
        ("cmn-latn-pinyin", "ni3 hao3, jin1 tian1 tian1 qi4 hen3 hao3."),
    ],
)
def test_languages(voice, text):
    s = S.tts(text, voice=voice)
    check_tiling(s)
    real = [p for p in s.phonemes if p.name != S.SILENCE]
    assert s.duration > 0.5 and np.abs(s.samples).max() > 0.05 and len(real) >= 8
    assert not any(p.name.startswith("(") for p in s.phonemes)  # language-switch markers dropped
    assert all(w.text and w.text in text for w in s.words) and len(s.words) >= 4


def check_tiling(s):
    st_ = np.array([p.start_s for p in s.phonemes])
    en = np.array([p.end_s for p in s.phonemes])
    assert st_[0] == 0 and abs(en[-1] - s.duration) < 1e-9
    assert (np.diff(st_) >= 0).all() and (en >= st_).all() and np.array_equal(st_[1:], en[:-1])
    assert all(p.name for p in s.phonemes)
    for a, b in zip(s.phonemes, s.phonemes[1:]):
        assert not (a.name == b.name == S.SILENCE)
    for w in s.words:
        assert 0 <= w.start_s <= w.end_s <= s.duration + 1e-9


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz ,.?!'0123456789é", min_size=1, max_size=60))
def test_random_text_tiles_or_fails_clearly(text):
    try:
        s = S.tts(text)
    except InputError as e:
        assert "text" in str(e)
        return
    check_tiling(s)
    assert s.samples.dtype == np.float32 and np.isfinite(s.samples).all()


def test_bad_tts_arguments():
    with pytest.raises(InputError, match="no voice 'en-gb'"):
        S.tts("hello", voice="en-gb")
    with pytest.raises(InputError, match="not a valid"):
        S.tts("hello", voice="../../etc/passwd")
    with pytest.raises(InputError, match="pitch"):
        S.tts("hello", pitch=101)
    with pytest.raises(InputError, match="rate"):
        S.tts("hello", rate=10)
    with pytest.raises(InputError, match="non-empty"):
        S.tts("")
    with pytest.raises(InputError, match="non-empty"):
        S.tts(None)


def test_missing_library_is_reported_at_call_not_import():
    code = (
        "import os; os.environ['GGTALKER_ESPEAK_LIB'] = '/nonexistent/libespeak-ng.so.1'\n"
        "from ggtalker_nb.data import speech\n"
        "print('imported')\n"
        "try: speech.tts('hi')\n"
        "except ImportError as e: print(type(e).__name__, e)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120).stdout
    assert (
        out.startswith("imported\nMissingDependencyError") and "apt-get install libespeak-ng1 espeak-ng-data" in out
    ), out


def test_phoneme_track():
    s = S.tts("Hello world.")
    tr = s.phoneme_track(25)
    assert len(tr) == S.n_frames(s.samples, s.sr, 25)
    for t, lab in enumerate(tr):
        c = (t + 0.5) / 25
        if c < s.duration:
            assert any(p.name == lab and p.start_s <= c < p.end_s for p in s.phonemes), (t, lab)


# ---------------------------------------------------------------- audio I/O

X = sine(300, 16000, 0.25)


@pytest.mark.parametrize(
    "kind,extensible", [(k, e) for k in ["u8", "i16", "i24", "i32", "f32", "f64"] for e in (False, True)]
)
def test_read_pcm_formats(tmp_path, kind, extensible):
    a, sw, eps = {
        "u8": ((X * 128 + 128).round().clip(0, 255).astype(np.uint8), None, 1 / 128),
        "i16": ((X * 32767).round().astype(np.int16), None, 1 / 32767),
        "i24": ((X * (2**23 - 1)).round().astype(np.int32), 3, 1e-6),
        "i32": ((X * (2**31 - 1)).round().astype(np.int32), None, 1e-6),
        "f32": (X, None, 1e-7),
        "f64": (X.astype(np.float64), None, 1e-7),
    }[kind]
    y, sr = S.read_audio(raw_wav(tmp_path / "a.wav", a, 16000, extensible, sw))
    assert sr == 16000 and y.dtype == np.float32
    np.testing.assert_allclose(y, X, atol=eps)


def test_int8_and_uint8_samples_written_as_pcm(tmp_path):
    i8 = (X * 127).round().astype(np.int8)
    u8 = (i8.astype(np.int16) + 128).astype(np.uint8)
    for a in (i8, u8):
        y, _ = S.read_audio(S.write_wav(tmp_path / "x.wav", a, 16000))
        np.testing.assert_allclose(y, i8 / 128, atol=1 / 32767)


def test_stereo_downmix_is_channel_mean(tmp_path):
    st_ = np.stack([X, -0.5 * X, 0.25 * X], 1)
    y, _ = S.read_audio(S.write_wav(tmp_path / "st.wav", st_, 16000))
    np.testing.assert_allclose(y, X * (1 - 0.5 + 0.25) / 3, atol=2e-4)
    with pytest.raises(InputError, match="silent"):  # opposite phases cancel
        S.read_audio(S.write_wav(tmp_path / "op.wav", np.stack([X, -X], 1), 16000))


@pytest.mark.parametrize("sr_in", [8000, 11025, 22050, 44100, 48000, 96000])
def test_resampled_on_read(tmp_path, sr_in):
    y, sr = S.read_audio(S.write_wav(tmp_path / "r.wav", sine(440, sr_in, 0.5), sr_in))
    assert sr == 16000 and abs(len(y) - 8000) <= 1
    spec = np.abs(np.fft.rfft(y[:8000] * np.hanning(8000)))
    assert abs(np.fft.rfftfreq(8000, 1 / 16000)[spec.argmax()] - 440) <= 2
    np.testing.assert_allclose(np.abs(y[1000:-1000]).max(), 0.5, atol=5e-3)


def test_resample_matches_scipy_and_fft_path():
    from scipy.signal import resample_poly

    x = np.random.default_rng(0).standard_normal(22050).astype(np.float32)
    np.testing.assert_allclose(S.resample(x, 22050, 16000), resample_poly(x, 320, 441), atol=1e-5)
    assert len(S.resample(x, 22050, 16000)) == math.ceil(22050 * 320 / 441)
    s = sine(500, 22050, 1.0)
    np.testing.assert_allclose(
        S.resample(s, 22050, 16000, "fft")[1000:-1000], S.resample(s, 22050, 16000, "poly")[1000:-1000], atol=2e-3
    )


BAD = {
    "empty": (lambda p: p.write_bytes(b""), "empty"),
    "text named .wav": (lambda p: p.write_text("just some text, not audio\n" * 10), "not a WAV file"),
    "truncated header": (
        lambda p: p.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00"),
        "corrupt WAV file: a chunk header is truncated",
    ),
    "random bytes after RIFF": (
        lambda p: p.write_bytes(b"RIFF" + np.random.default_rng(0).bytes(200)),
        "corrupt WAV file: the RIFF form type",
    ),
    # a RIFF/WAVE header followed by garbage: scipy used to say "cannot access local variable 'fs'"
    "garbage after RIFF WAVE": (
        lambda p: p.write_bytes(b"RIFF\x24\x00\x00\x00WAVE" + np.random.default_rng(1).bytes(40)),
        "corrupt WAV file: garbage",
    ),
    "data before fmt": (
        lambda p: p.write_bytes(b"RIFF\x24\x00\x00\x00WAVEdata\x04\x00\x00\x00abcd"),
        "corrupt WAV file: the 'data' chunk comes before",
    ),
    "unknown format tag": (
        lambda p: p.write_bytes(
            b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00" + b"\x53\xab" + bytes(14) + b"data\x00\x00\x00\x00"
        ),
        "corrupt or unsupported WAV file: Unknown wave file format",
    ),
    "silent": (lambda p: S.write_wav(p, np.zeros(16000), 16000), "SILENCE_PEAK_DBFS=-60"),
    "near silent (dither)": (
        lambda p: S.write_wav(p, np.random.default_rng(0).uniform(-3e-4, 3e-4, 16000), 16000),
        "silent",
    ),
    "1 ms": (lambda p: S.write_wav(p, sine(300, 16000, 0.001), 16000), "1.0 ms long"),
    "no samples": (lambda p: raw_wav(p, np.zeros(0, np.int16), 16000), "no audio samples"),
    "NaN": (
        lambda p: raw_wav(p, np.where(np.arange(4000) == 7, np.nan, sine(300, 16000, 0.25)).astype(np.float32), 16000),
        "1 NaN/inf",
    ),
    "inf": (lambda p: raw_wav(p, np.where(np.arange(4000) < 3, np.inf, sine(300, 16000, 0.25)), 16000), "3 NaN/inf"),
    "4 kHz": (lambda p: S.write_wav(p, sine(300, 4000, 0.5), 4000), "4000 Hz is below the minimum MIN_SR=8000"),
    "too long": (lambda p: S.write_wav(p, sine(300, 8000, 301.0), 8000), "is 301.0 s long, more than max_seconds=300"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_audio_files(tmp_path, case):
    make, msg = BAD[case]
    p = tmp_path / "bad.wav"
    make(p)
    with pytest.raises(InputError, match=msg.replace(".", r"\.").replace("(", r"\(")) as e:
        S.read_audio(p)
    assert "bad.wav" in str(e.value)  # the message names the file


def test_limits_are_configurable(tmp_path):
    p = S.write_wav(tmp_path / "a.wav", sine(300, 8000, 3.0), 8000)
    with pytest.raises(InputError, match="is 3.0 s long"):
        S.read_audio(p, max_seconds=2)
    assert S.read_audio(p, max_seconds=None)[0].shape == (48000,)
    z = S.write_wav(tmp_path / "z.wav", np.zeros(8000), 8000)
    assert np.all(S.read_audio(z, allow_silence=True)[0] == 0)
    assert S.read_audio(S.write_wav(tmp_path / "s.wav", sine(300, 16000, 0.05), 16000), min_seconds=0.01)[0].shape == (
        800,
    )
    with pytest.raises(InputError, match="no such file"):
        S.read_audio(tmp_path / "missing.wav")


def test_compressed_formats_through_ffmpeg(tmp_path):
    from ggtalker_nb.media import ffmpeg_exe

    src = S.write_wav(tmp_path / "a.wav", sine(440, 22050, 1.0), 22050)
    for ext, tol in ((".flac", 1e-4), (".mp3", None), (".m4a", None)):
        out = tmp_path / f"a{ext}"
        subprocess.run([ffmpeg_exe(), "-loglevel", "error", "-y", "-i", str(src), str(out)], check=True, timeout=60)
        y, sr = S.read_audio(out)
        assert sr == 16000 and abs(len(y) / sr - 1.0) < 0.08, (ext, len(y))
        if tol:
            np.testing.assert_allclose(y, S.resample(sine(440, 22050, 1.0), 22050, 16000), atol=1e-3)
        else:
            spec = np.abs(np.fft.rfft(y))
            f = np.fft.rfftfreq(len(y), 1 / sr)
            assert abs(f[spec.argmax()] - 440) < 3, ext
    (tmp_path / "bad.mp3").write_bytes(b"ID3" + b"\x00" * 50 + b"garbage" * 20)
    with pytest.raises(InputError, match="bad.mp3"):
        S.read_audio(tmp_path / "bad.mp3")


# ---------------------------------------------------------------- frame energy


@settings(max_examples=25, deadline=None)
@given(
    sr=st.sampled_from([8000, 16000, 22050, 44100]),
    fps=st.sampled_from([24.0, 25.0, 29.97, 30.0, 60.0]),
    n=st.integers(1, 30),
    k=st.integers(0, 29),
)
def test_energy_frames_align_with_video(sr, fps, n, k):
    "A burst that fills exactly video frame k shows up in frame k only."
    k = k % n
    T_s = int(math.floor(n * sr / fps))  # the longest clip that n frames cover
    x = np.zeros(T_s)
    lo, hi = math.ceil(k * sr / fps), math.ceil((k + 1) * sr / fps)  # samples i with floor(i·fps/sr) == k
    x[lo : min(hi, T_s)] = 0.5
    assert S.n_frames(x, sr, fps) == n
    e = S.audio_energy(x, sr, fps)
    assert e.shape == (n,) and e.argmax() == k
    assert abs(e[k] - 20 * math.log10(0.5)) < 1e-3
    assert (np.delete(e, k) == S.ENERGY_FLOOR_DB).all()


def test_missing_data_folder_is_an_error_not_exit(tmp_path):
    "espeak-ng calls exit(1) on missing data unless told not to: we must survive and explain."
    code = (
        "from ggtalker_nb.data import speech\n"
        "try: speech.tts('hi')\n"
        "except ImportError as e: print(type(e).__name__, e)\n"
        "print('alive')"
    )
    env = {**os.environ, "ESPEAK_DATA_PATH": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env).stdout
    assert "MissingDependencyError" in out and "espeak-ng-data" in out and "alive" in out, out


def test_long_compressed_file_is_refused_with_its_duration(tmp_path):
    from ggtalker_nb.media import ffmpeg_exe

    src = S.write_wav(tmp_path / "a.wav", sine(440, 16000, 6.0), 16000)
    subprocess.run(
        [ffmpeg_exe(), "-loglevel", "error", "-y", "-i", str(src), str(tmp_path / "a.flac")], check=True, timeout=60
    )
    with pytest.raises(InputError, match=r"a\.flac: is 6\.0 s long, more than max_seconds=2"):
        S.read_audio(tmp_path / "a.flac", max_seconds=2)
    assert S.read_audio(tmp_path / "a.flac", max_seconds=10)[0].shape == (96000,)
    assert S.read_audio((tmp_path / "a.flac").read_bytes())[0].shape == (96000,)  # bytes of a non-WAV format


def test_espeak_available_without_library():
    code = (
        "import os; os.environ['GGTALKER_ESPEAK_LIB'] = '/nonexistent/libespeak-ng.so.1'\n"
        "from ggtalker_nb.data import speech\n"
        "print(repr(speech.espeak_available()))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120).stdout
    assert out.strip() == "None", out
    assert S.espeak_available().startswith("1.")


def test_tts_survives_another_copy_registering_its_callback():
    "A second copy of the speech code in this process (a notebook run in-process) re-points espeak's C callback."
    from ggtalker_nb.data import speech

    assert len(speech.tts("Hello there.").samples) > 0
    foreign = speech._SynthCallback(lambda wav, n, events: 0)  # collects nothing, like another copy's buffers
    speech.espeak().espeak_SetSynthCallback(foreign)
    try:
        assert len(speech.tts("Hello there.").samples) > 0
    finally:
        speech.espeak().espeak_SetSynthCallback(speech._Espeak.callback)
