r"""Re-adapted shipped identity with the whole neck (#16.3): refit its body inpainter as the shipped one was
(scripts/issue16/body_refit_sample.py: `refit_body`, version-2 clean plate, 1500 steps, heads = the identity's renders
of its body frames; the body frames' occluders are kept), then — after measuring — install it as
data_samples/identity_sample (the previous one is kept under runs/neck/identity_sample_before for the before/after
picture).

    ggtalker adapt data/synthtalk_e2v --identity id0004 --split heldout_adapt --time-budget 1500 --out runs/neck/id0004
    python scripts/issue16/neck_install_sample.py refit runs/neck/id0004
    IDENTITY=runs/neck/id0004 DRY=1 python scripts/stripes_adapted.py      # measure before installing
    python scripts/issue16/neck_install_sample.py install runs/neck/id0004
"""

import json
import os
import shutil
import sys
import time
from pathlib import Path

import torch

from ggtalker_nb.adapt.inpainter import refit_body
from ggtalker_nb.avatar.identity import file_sha256, load_identity

torch.set_num_threads(1)
what, src = sys.argv[1], Path(sys.argv[2])
steps = int(os.environ.get("STEPS", 1500))
if what == "refit":
    t0 = time.perf_counter()
    ident, flame = load_identity(src)
    heads = ident.body_heads(flame)
    b = refit_body(ident.body, heads=heads, steps=steps)
    if b.occluders is None:  # refit_body of an older tree: keep the body frames' occluders
        b.occluders = ident.body.occluders
    cmd = (
        "scripts/issue16/neck_install_sample.py refit (refit_body(identity body, heads=its renders of the body "
        f"frames, "
        f"steps={steps}); occluders kept)"
    )
    b.save(src / "body.safetensors", metadata=dict(command=cmd))
    info = json.loads((src / "identity.json").read_text())
    info["components"]["body"].update(
        bytes=(src / "body.safetensors").stat().st_size, sha256=file_sha256(src / "body.safetensors")
    )
    info.setdefault("adaptation", {})["body_refit"] = dict(
        command=f"python {cmd}", time=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    )
    (src / "identity.json").write_text(json.dumps(info, indent=1, ensure_ascii=False) + "\n")
    occ = None if b.occluders is None else int(b.occluders.sum())
    print("refit", round(time.perf_counter() - t0), b.history[-1] if b.history else None, "occluder px", occ)
elif what == "install":
    dst = Path("data_samples/identity_sample")
    keep = Path("runs/neck/identity_sample_before")
    if not keep.exists():
        shutil.copytree(dst, keep)
    load_identity(src)  # checksums and tensors verified before anything is replaced
    for f in sorted(src.iterdir()):
        if f.is_file() and (f.suffix == ".safetensors" or f.name == "identity.json"):
            shutil.copyfile(f, dst / f.name)
    load_identity(dst)
    print("installed", src, "→", dst, "(previous in", keep, ")")
else:
    raise SystemExit(f"unknown step {what!r}: refit or install")
