"""The wheel as a pip user gets it: built from the repository, installed away from the checkout, run from an empty
folder.

The wheel is built from a copy of the packaging files, `ggtalker_nb/` and `data_samples/` (so no stale `build/`
folder is reused), with `python -m build --wheel --no-isolation` (falling back to `pip wheel --no-build-isolation`
where `build` is not installed): offline, with the setuptools already installed. It is installed with
`pip install --no-deps --target` into a temp folder; the children run with that folder as their only
`PYTHONPATH` entry from an empty working directory, and check that `ggtalker_nb` really comes from it (not from
the checkout or an editable install)."""

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = [
    "setup.py",
    "settings.ini",
    "pyproject.toml",
    "MANIFEST.in",
    "README.md",
    "LICENSE",
    "NOTICE",
    "CONTRIBUTING.md",
]
LITTER = shutil.ignore_patterns("__pycache__", "*.py[co]", ".ipynb_checkpoints", "*.tmp", ".DS_Store")
MAX_WHEEL_MB = 60


def _shipped_data() -> list[str]:
    "Files under data_samples/ that the wheel must carry (setup.py's DATA_EXCLUDE is the litter ignored here)."
    skip = re.compile(r"(^|/)(__pycache__|\.ipynb_checkpoints)/|\.py[co]$|\.tmp$|(^|/)\.DS_Store$")
    return sorted(
        p.relative_to(ROOT / "data_samples").as_posix()
        for p in (ROOT / "data_samples").rglob("*")
        if p.is_file() and not skip.search(p.relative_to(ROOT / "data_samples").as_posix())
    )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> tuple[Path, str]:
    "Build the wheel → (path, the build's output)."
    tmp = tmp_path_factory.mktemp("wheel")
    src, dist = tmp / "src", tmp / "dist"
    src.mkdir()
    for f in PACKAGING:
        shutil.copy2(ROOT / f, src / f)
    for d in ("ggtalker_nb", "data_samples"):
        shutil.copytree(ROOT / d, src / d, ignore=LITTER)
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # else distutils warns that byte-compiling is off
    try:
        import build  # noqa: F401

        cmd = [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist), str(src)]
    except ImportError:
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-v",
            "-w",
            str(dist),
            str(src),
        ]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env, cwd=tmp)
    assert p.returncode == 0, p.stdout[-4000:] + p.stderr[-4000:]
    whl = sorted(dist.glob("ggtalker_nb-*.whl"))
    assert len(whl) == 1, whl
    return whl[0], p.stdout + p.stderr


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    "`pip install --no-deps --target` the wheel → the target folder."
    target = tmp_path_factory.mktemp("site")
    p = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--no-index",
            "--quiet",
            "--target",
            str(target),
            str(wheel[0]),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    return target


def _run(args, target: Path, cwd: Path, **env_extra) -> subprocess.CompletedProcess:
    "Run `args` from `cwd` with only the wheel's target folder on PYTHONPATH (no GGTALKER_DATA unless given)."
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "GGTALKER_DATA")}
    env.update(PYTHONPATH=str(target), OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", HF_HUB_OFFLINE="1", **env_extra)
    return subprocess.run(args, capture_output=True, text=True, timeout=180, cwd=cwd, env=env)


def test_wheel_builds_without_warnings_and_carries_data_and_licences(wheel):
    path, log = wheel
    mb = path.stat().st_size / 1e6
    print(f"wheel {path.name}: {mb:.1f} MB ({path.stat().st_size / 2**20:.1f} MiB)")
    assert mb < MAX_WHEEL_MB, (
        f"the wheel is {mb:.1f} MB (limit {MAX_WHEEL_MB} MB): exclude large files not needed at run time"
    )
    warnings = [l for l in log.splitlines() if re.search(r"(^|\s)warning[:\s]|\w+Warning\b", l, re.I)]
    assert not warnings, "\n".join(warnings)
    names = set(zipfile.ZipFile(path).namelist())
    data = _shipped_data()
    assert {
        "priors/a2e_cpu.safetensors",
        "priors/e2v_cpu.safetensors",
        "identity_sample/identity.json",
        "audio/sample.wav",
        "sample_head.npz",
    } <= set(data)
    missing = [f for f in data if f"ggtalker_nb/data_samples/{f}" not in names]
    assert not missing, f"data_samples files missing from the wheel: {missing}"
    assert not [n for n in names if n.startswith("data_samples/")]  # inside the package, not a top-level folder
    info = [n for n in names if ".dist-info/" in n]
    assert any(n.endswith("/LICENSE") for n in info) and any(n.endswith("/NOTICE") for n in info), info
    meta = zipfile.ZipFile(path).read(next(n for n in info if n.endswith("/METADATA"))).decode()
    assert "License-Expression: Apache-2.0" in meta


def test_notice_names_every_vendored_model():
    "Each third-party file in data_samples/models/ is named in NOTICE (its licence travels in that folder)."
    d = ROOT / "data_samples" / "models"
    if not d.is_dir():
        pytest.skip("no vendored models (data_samples/models/) in this checkout")
    notice = (ROOT / "NOTICE").read_text()
    assert "Apache License" in (ROOT / "LICENSE").read_text()
    for f in d.iterdir():
        if f.is_file() and f.name not in ("LICENSE", "NOTICE", "README.md"):
            assert f"data_samples/models/{f.name}" in notice, f"NOTICE does not name the third-party file {f.name}"
    assert (d / "LICENSE").is_file()


def _frames_printed(stdout: str) -> int:
    m = re.search(r"\((\d+) frames", stdout)
    assert m, stdout
    return int(m[1])


def test_installed_wheel_runs_outside_the_checkout(installed, tmp_path):
    """From an empty folder: import, the resolver, `Talker.from_pretrained()`, the face models, `ggtalker demo`,
    `ggtalker speak --text`."""
    from ggtalker_nb.media import read_video

    cwd = tmp_path / "empty"
    cwd.mkdir()
    code = """
import importlib.util, ggtalker_nb
from ggtalker_nb.core import data_samples_root
from ggtalker_nb.talker import Talker
Talker.from_pretrained()
print(ggtalker_nb.__file__); print(data_samples_root()[0])
if importlib.util.find_spec("ggtalker_nb.data.faces"):      # the vendored face models, sha256-checked
    from ggtalker_nb.data.faces import MODEL_FILES, model_path
    print(*[model_path(n) for n in MODEL_FILES], sep="\\n")
"""
    p = _run([sys.executable, "-c", code], installed, cwd)
    assert p.returncode == 0, p.stderr[-3000:]
    file, root, *models = p.stdout.split()
    assert Path(file).is_relative_to(installed) and Path(root) == installed / "ggtalker_nb" / "data_samples", p.stdout
    assert all(Path(f).parent == Path(root) / "models" for f in models), p.stdout
    exe = installed / "bin" / "ggtalker"  # the console script pip wrote
    assert exe.is_file()
    # 1.03 s of audio = 25.75 video frames: the last frame is partly covered by speech (the frame-count bug's case)
    p = _run([str(exe), "demo", "--size", "32", "--seconds", "1.03", "--out", "demo.mp4"], installed, cwd)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-3000:]
    n = _frames_printed(p.stdout)
    frames = read_video(cwd / "demo.mp4")
    assert frames.shape[0] == n and frames.shape[1:3] == (32, 64), (frames.shape, n)
    assert frames.std() > 5
    p = _run([str(exe), "speak", "--text", "Hello there.", "--size", "32", "--out", "hello.mp4"], installed, cwd)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-3000:]
    assert read_video(cwd / "hello.mp4").shape[0] == _frames_printed(p.stdout)
    assert sorted(x.name for x in cwd.iterdir()) == ["demo.mp4", "hello.mp4"]


def test_ggtalker_data_override_and_its_message(installed, tmp_path):
    """GGTALKER_DATA may name the data_samples folder or a folder holding it; a wrong value is an error saying what to
    set."""
    code = """
import os, sys
from ggtalker_nb.core import AssetError, data_samples_path
for v in sys.argv[1:]:
    os.environ["GGTALKER_DATA"] = v
    try: print(data_samples_path("priors", "a2e_cpu.safetensors", must_exist=True))
    except AssetError as e: print("AssetError:", e)
"""
    p = _run([sys.executable, "-c", code, str(ROOT), str(ROOT / "data_samples"), str(tmp_path)], installed, tmp_path)
    assert p.returncode == 0, p.stderr[-2000:]
    a, b, c = p.stdout.strip().splitlines()
    assert Path(a) == Path(b) == ROOT / "data_samples" / "priors" / "a2e_cpu.safetensors", p.stdout
    assert (
        c.startswith("AssetError:")
        and "set GGTALKER_DATA to a data_samples folder that has priors/a2e_cpu.safetensors" in c
    ), c
    p = _run(
        [str(installed / "bin" / "ggtalker"), "demo", "--size", "32", "--seconds", "0.2"],
        installed,
        tmp_path,
        GGTALKER_DATA=str(tmp_path / "nowhere"),
    )
    assert p.returncode == 2 and "GGTALKER_DATA" in p.stderr and "no such folder" in p.stderr, p.stderr[-2000:]
