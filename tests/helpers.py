"""Helpers shared by the test files (pytest puts tests/ on sys.path): subprocess environment, free ports, 2-rank
torchrun."""

import os
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def subprocess_env() -> dict:
    "The environment for a child Python: one torch thread, the repository importable, no inherited torchrun variables."
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("WORLD_SIZE", None)
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def torchrun2(script, tmp_path) -> tuple:
    """Run `script` under torchrun with 2 gloo CPU ranks; it saves rank{0,1}.safetensors in tmp_path → ((w0, m0), (w1,
    m1))."""
    from ggtalker_nb.core import load_safetensors

    p = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--nnodes",
            "1",
            "--nproc_per_node",
            "2",
            "--master_addr",
            "127.0.0.1",
            "--master_port",
            str(free_port()),
            str(script),
        ],
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    return load_safetensors(Path(tmp_path) / "rank0.safetensors"), load_safetensors(
        Path(tmp_path) / "rank1.safetensors"
    )
