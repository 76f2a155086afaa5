"The console script end to end, as a user runs it."
import shutil, subprocess, sys
from pathlib import Path

from ggtalker_nb.media import probe_video, read_video


def run(*args, timeout=300):
    return subprocess.run([shutil.which("ggtalker") or "ggtalker", *args], capture_output=True, text=True, timeout=timeout)


def test_help_lists_commands():
    p = run("--help")
    assert p.returncode == 0
    for cmd in ("demo", "convert-flame", "bench", "info"):
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
