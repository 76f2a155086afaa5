"""Run every notebook in nbs/ as a test (nbdev's `test_nb`), honouring `tst_flags`.

`NBDEV_FLAGS="slow"` (or `"cuda slow"` on a GPU machine) also runs the cells carrying those flags."""

import os
from pathlib import Path

import pytest
import nbdev.test as nbt
from nbdev.config import get_config

ROOT = Path(__file__).resolve().parent.parent
NBS = sorted(
    p
    for p in (ROOT / "nbs").rglob("*.ipynb")
    if not any(part.startswith(("_", ".")) for part in p.relative_to(ROOT / "nbs").parts)
)


def test_there_are_notebooks():
    assert len(NBS) >= 3, NBS


@pytest.mark.parametrize("nb", NBS, ids=[p.stem for p in NBS])
def test_notebook(nb):
    force = os.environ.get("NBDEV_FLAGS", "").split()
    all_flags = get_config(path=ROOT).tst_flags.split()
    skip = [f for f in all_flags if f not in force]
    ok, secs = nbt.test_nb(nb, skip_flags=skip, force_flags=force, showerr=True)
    assert ok, f"{nb.name} failed (see the traceback above); ran {secs:.1f} s"
