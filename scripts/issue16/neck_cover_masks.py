"""Tracked head masks against SynthTalk's true masks, before and after leaving out what covers the neck
(`data.track.covered_neck`); adds the figures to results/track_synthtalk.json. With --downstream, also the tracker
bench's downstream figure (adapting from tracked vs ground-truth parameters, 200 steps each), keeping the previous
downstream figures as *_before.

    python scripts/issue16/neck_cover_masks.py [--downstream]
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import torch

torch.set_num_threads(1)
from ggtalker_nb.data.track import bench_track  # noqa: E402

DOWN = "--downstream" in sys.argv[1:]
b = bench_track(landmarker="mediapipe", adapt_steps=200 if DOWN else 0, threads=1)
s = b["summary"]
P = Path("results/track_synthtalk.json")
rec = json.loads(P.read_text())
f = rec["figures"]
commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
f.update(mask_iou=round(s["mask_iou"], 4), mask_iou_mesh=round(s["mask_iou_mesh"], 4))
where = f"commit {commit}, load {os.getloadavg()[0]:.1f}"
notes = {
    "mask_iou": "mask_iou / mask_iou_mesh: the tracked head masks (fitted head ∩ person segmentation, less / with what "
    "covers the neck) against SynthTalk's true head masks, mean over the clips; python "
    f"scripts/issue16/neck_cover_masks.py (bench_track(landmarker='mediapipe', adapt_steps=0), {where})"
}
if DOWN:
    d = b["downstream"]
    for k in ("adapt_psnr_gap_db", "adapt_psnr_head_gt", "adapt_psnr_head_tracked"):
        f.setdefault(k + "_before", f.get(k))
    f.update(
        adapt_psnr_gap_db=round(d["gap_db"], 3),
        adapt_psnr_head_gt=round(d["runs"]["ground truth"]["psnr_head"], 3),
        adapt_psnr_head_tracked=round(d["runs"]["tracked"]["psnr_head"], 3),
    )
    rec["downstream_before"] = rec.get("downstream_before", rec["downstream"])
    rec["downstream"] = d
    notes["adapt_psnr_*"] = (
        "adapt_psnr_*: python scripts/issue16/neck_cover_masks.py --downstream (bench_track(landmarker='mediapipe', "
        f"adapt_steps=200, threads=1), tracker masks less what covers the neck, {where}); *_before: the same bench "
        "with tracker version 1 masks and the previous E-V prior"
    )
rec["notes"] = [n for n in rec.get("notes", []) if not any(n.startswith(k) for k in notes)] + list(notes.values())
P.write_text(json.dumps(rec, indent=1, ensure_ascii=False) + "\n")
print(json.dumps({k: v for k, v in f.items() if k.startswith(("adapt", "mask"))}))
