"The console script end to end, as a user runs it."
import shutil, subprocess, sys
from pathlib import Path

from ggtalker_nb.media import probe_video, read_video


def run(*args, timeout=300):
    return subprocess.run([shutil.which("ggtalker") or "ggtalker", *args], capture_output=True, text=True, timeout=timeout)


def test_help_lists_commands():
    p = run("--help")
    assert p.returncode == 0
    for cmd in ("demo", "convert-flame", "synthtalk", "bench", "info"):
        assert cmd in p.stdout


def test_demo_writes_a_video(tmp_path):
    out = tmp_path / "demo.mp4"
    p = run("demo", "--seconds", "1", "--size", "64", "--out", str(out))
    assert p.returncode == 0, p.stderr
    assert "render" in p.stdout and "total" in p.stdout          # per-stage timings printed
    info = probe_video(out)
    assert info["video"] == "128x64"                              # front view | orbit view
    frames = read_video(out)
    assert frames.shape[0] == 25
    front, orbit = frames[..., :64, :].astype(float), frames[..., 64:, :].astype(float)
    assert front.std() > 5                                         # a head, not a blank frame
    assert abs(front[0] - front[12]).mean() > 0.5                 # it moves
    assert abs(orbit[0] - orbit[12]).mean() > abs(front[0] - front[12]).mean()  # the orbit view turns


def test_convert_flame_missing_file_is_a_clear_error(tmp_path):
    p = run("convert-flame", str(tmp_path / "nope.pkl"), "--out", str(tmp_path / "x.npz"))
    assert p.returncode == 2 and "nope.pkl" in p.stderr
    assert not (tmp_path / "x.npz").exists()


def test_synthtalk_builds_a_tiny_set_and_resumes(tmp_path):
    from ggtalker_nb.data.video import list_clips, read_clip
    args = ("synthtalk", "--out", str(tmp_path / "st"), "--identities", "1", "--clips-per-identity", "1",
            "--size", "64", "--max-seconds", "0.6")
    p = run(*args)
    assert p.returncode == 0, p.stderr
    clips = list_clips(tmp_path / "st")
    assert len(clips) == 1
    c = read_clip(clips[0])
    assert c.frames.shape[1:] == (64, 64, 3) and c.frames.shape[0] == c.flame.expr.shape[0]
    mtime = (clips[0] / "meta.json").stat().st_mtime
    p = run(*args)                                   # a second run finds the clip complete and skips it
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


def test_bench_quick_runs_print_tables():
    p = run("bench", "flame", "--quick")
    assert p.returncode == 0, p.stderr
    assert "sample head" in p.stdout and "ms" in p.stdout
    p = run("bench", "mesh", "--quick")
    assert p.returncode == 0, p.stderr
    assert "ms/frame" in p.stdout and "sample head" in p.stdout
