"The console script end to end, as a user runs it."

import json
import shutil
import subprocess

from ggtalker_nb.media import probe_video, read_video


def run(*args, timeout=300):
    return subprocess.run(
        [shutil.which("ggtalker") or "ggtalker", *args], capture_output=True, text=True, timeout=timeout
    )


def test_help_lists_commands():
    p = run("--help")
    assert p.returncode == 0
    for cmd in ("demo", "adapt", "speak", "convert-flame", "synthtalk", "bench", "info"):
        assert cmd in p.stdout


def test_demo_writes_a_video(tmp_path):
    "The main job on the shipped sample identity and sample audio (cut to 1 s, 64² per view)."
    out = tmp_path / "demo.mp4"
    p = run("demo", "--seconds", "1", "--size", "64", "--out", str(out))
    assert p.returncode == 0, p.stderr
    for stage in ("load identity", "A2E", "render front", "inpainter", "render orbit", "encode mp4", "total"):
        assert stage in p.stdout  # per-stage timings printed
    info = probe_video(out)
    assert info["video"] == "128x64" and info["audio"]  # front view | orbit view, with sound
    frames = read_video(out)
    assert frames.shape[0] == 25
    front, orbit = frames[..., :64, :].astype(float), frames[..., 64:, :].astype(float)
    assert front.std() > 5  # a head on a body, not a blank frame
    assert abs(front[0] - front[12]).mean() > 0.3  # it moves
    assert abs(orbit[0] - orbit[12]).mean() > abs(front[0] - front[12]).mean()  # the orbit view turns


def test_adapt_then_speak_end_to_end(tmp_path):
    "`ggtalker adapt` (toy priors, tiny preset) → identity folder → `ggtalker speak --text` and `--audio` → mp4s."
    from ggtalker_nb.core import data_samples_path
    from ggtalker_nb.talker import make_tiny_priors

    make_tiny_priors(tmp_path / "priors")
    p = run(
        "adapt",
        str(data_samples_path("synthtalk_mini")),
        "--identity",
        "id0002",
        "--out",
        str(tmp_path / "id"),
        "--priors",
        str(tmp_path / "priors"),
        "--preset",
        "tiny",
        "--quiet",
    )
    assert p.returncode == 0, p.stderr
    j = json.loads((tmp_path / "id" / "identity.json").read_text())
    assert j["made_by"]["command"].startswith("ggtalker adapt ") and "--preset tiny" in j["made_by"]["command"]
    p = run(
        "speak",
        "--identity",
        str(tmp_path / "id"),
        "--text",
        "Good morning.",
        "--voice",
        "en-gb-x-rp+m3",
        "--views",
        "front,orbit",
        "--out",
        str(tmp_path / "t.mp4"),
    )
    assert p.returncode == 0, p.stderr
    assert "text to speech" in p.stdout and "A2E" in p.stdout
    assert probe_video(tmp_path / "t.mp4")["video"] == "96x48"
    wav = data_samples_path("synthtalk_mini", "id0000_c000", "audio.wav")
    p = run(
        "speak",
        "--identity",
        str(tmp_path / "id"),
        "--audio",
        str(wav),
        "--size",
        "32",
        "--out",
        str(tmp_path / "a.mp4"),
    )
    assert p.returncode == 0, p.stderr
    info = probe_video(tmp_path / "a.mp4")
    from ggtalker_nb.data.speech import read_audio

    x, sr = read_audio(wav)
    assert info["video"] == "32x32" and info["audio"] and abs(info["duration"] - len(x) / sr) < 0.15


def test_speak_and_adapt_errors_are_clear(tmp_path):
    p = run("speak", "--identity", str(tmp_path / "nope"), "--text", "Hi.", "--out", str(tmp_path / "x.mp4"))
    assert p.returncode == 2 and "no such identity folder" in p.stderr
    p = run("adapt", str(tmp_path), "--out", str(tmp_path / "id"), "--priors", str(tmp_path / "nope"))
    assert p.returncode == 2 and "missing A2E prior" in p.stderr and "42_a2e.train" in p.stderr
    assert not (tmp_path / "x.mp4").exists()


def test_convert_flame_missing_file_is_a_clear_error(tmp_path):
    p = run("convert-flame", str(tmp_path / "nope.pkl"), "--out", str(tmp_path / "x.npz"))
    assert p.returncode == 2 and "nope.pkl" in p.stderr
    assert not (tmp_path / "x.npz").exists()


def test_synthtalk_builds_a_tiny_set_and_resumes(tmp_path):
    from ggtalker_nb.data.video import list_clips, read_clip

    args = (
        "synthtalk",
        "--out",
        str(tmp_path / "st"),
        "--identities",
        "1",
        "--clips-per-identity",
        "1",
        "--size",
        "64",
        "--max-seconds",
        "0.6",
    )
    p = run(*args)
    assert p.returncode == 0, p.stderr
    clips = list_clips(tmp_path / "st")
    assert len(clips) == 1
    c = read_clip(clips[0])
    assert c.frames.shape[1:] == (64, 64, 3) and c.frames.shape[0] == c.flame.expr.shape[0]
    mtime = (clips[0] / "meta.json").stat().st_mtime
    p = run(*args)  # a second run finds the clip complete and skips it
    assert p.returncode == 0, p.stderr
    assert (clips[0] / "meta.json").stat().st_mtime == mtime


def test_convert_flame_from_an_official_style_pickle(tmp_path):
    import numpy as np
    from ggtalker_nb.flame import load_flame_npz, random_flame_assets, save_flame_pkl_official_style

    a = random_flame_assets(n_verts=300, n_shape=20, n_expr=10, seed=1)
    pkl = tmp_path / "generic_model.pkl"
    save_flame_pkl_official_style(a, pkl)
    out = tmp_path / "flame.npz"
    p = run("convert-flame", str(pkl), "--out", str(out), "--n-shape", "20")
    assert p.returncode == 0, p.stderr
    b = load_flame_npz(out)
    for k in ("v_template", "shapedirs", "posedirs", "J_regressor", "weights", "faces", "parents"):
        np.testing.assert_allclose(getattr(b, k), getattr(a, k), rtol=0, atol=1e-6, err_msg=k)
    assert b.n_shape == 20 and b.n_expr == 10


def test_bench_quick_runs_print_tables(tmp_path):
    p = run("bench", "render", "--quick", "--out", str(tmp_path / "b"))  # a table family of 81_bench
    assert p.returncode == 0, p.stderr
    assert "renderer (ours, torch)" in p.stdout and (tmp_path / "b" / "speed.json").is_file()
    p = run("bench", "flame", "--quick")
    assert p.returncode == 0, p.stderr
    assert "sample head" in p.stdout and "ms" in p.stdout
    p = run("bench", "mesh", "--quick")
    assert p.returncode == 0, p.stderr
    assert "ms/frame" in p.stdout and "sample head" in p.stdout
