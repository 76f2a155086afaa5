# issue #16.1: the seam band's temporal error against the real video (|ΔI − ΔI_video|), naive paste vs the version-2
# inpainter, with the net the flicker split was measured with (runs/body/nets/inpainter_256.safetensors, saved by
#   THREADS=1 SIZES=256 NETS=runs/body/nets OUT=runs/body/bench_body_split_256.json \
#     python scripts/issue16/body_run_bench_body.py)
# It first recomputes the split's stored figures (they must agree), then adds the error columns to
# results/body.json (table body_flicker_split).  Run from the repository root:
#   PYTHONPATH=. python scripts/issue16/body_flicker_error.py [--write]
import json
import os
import subprocess
import sys
import time

import torch

from ggtalker_nb.adapt.inpainter import load_clip_tensors, seam_flicker_parts
from ggtalker_nb.avatar.body import Inpainter, compose
from ggtalker_nb.core import data_samples_path, load_safetensors

torch.set_num_threads(1)
SIZE, R = 256, 6
sd, meta = load_safetensors("runs/body/nets/inpainter_256.safetensors")
net = Inpainter.from_config(meta["config"])
net.load_state_dict(sd)
net.eval()
root = data_samples_path("synthtalk_mini")
fa, ma, _ = load_clip_tensors(root / "id0002_c000", SIZE)
fb, mb, hb = load_clip_tensors(root / "id0002_c001", SIZE)
res = json.load(open("results/body.json"))
table = next(t for t in res["tables"] if t["name"] == "body_flicker_split")
out = {}
with torch.no_grad():
    for mode in ("fixed", "loop"):
        for who, model in (("naive paste", None), ("inpainter v2 (clean plate)", net)):
            o = compose(model, hb, fa, ma, mode, radius_px=R)
            p = seam_flicker_parts(o, mb, R, reference=fb)
            row = next(r for r in table["rows"] if r["body"] == mode and r["method"] == who)
            # the stored split must be reproduced by this net before anything is added to it
            assert abs(p["total"] - row["flicker"]) < 1e-5 and abs(p["edge"] - row["edge"]) < 1e-5, (p, row)
            out[(mode, who)] = p
            print(
                f"{mode:5s} {who:28s} flicker {p['total']:.5f} edge {p['edge']:.5f} (video {p['edge_reference']:.5f})"
                f"  temporal error: edge {p['edge_error']:.5f} static {p['static_error']:.5f}"
            )
if "--write" in sys.argv:
    F = res["figures"]
    for (mode, who), p in out.items():
        row = next(r for r in table["rows"] if r["body"] == mode and r["method"] == who)
        row["edge_error"], row["static_error"] = round(p["edge_error"], 5), round(p["static_error"], 5)
        tag = "naive" if who == "naive paste" else "v2"
        F[f"terr_{mode}_{tag}_edge_256"], F[f"terr_{mode}_{tag}_static_256"] = p["edge_error"], p["static_error"]
    for c in ("edge_error", "static_error"):
        if c not in table["columns"]:
            table["columns"].insert(table["columns"].index("old_head_shown"), c)
    note = (
        "edge_error / static_error: the temporal error against the real video, mean |ΔI − ΔI_video| on the edge "
        "pixels / on the rest (`seam_flicker_parts(reference=)`; 0 for the video itself); static_error is the same "
        "for both methods over a fixed body (neither can move the body as the real video does). Added "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} by `scripts/issue16/body_flicker_error.py` with the "
        "same net (its stored figures reproduced to 1e-5), commit "
        + subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
        + f", load {os.getloadavg()[0]:.1f}"
    )
    table["notes"] = [n for n in table["notes"] if not n.startswith("edge_error")] + [note]
    json.dump(res, open("results/body.json", "w"), indent=1, ensure_ascii=False)
    open("results/body.json", "a").write("\n")
