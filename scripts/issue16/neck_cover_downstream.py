"""Adapting from tracked vs ground-truth parameters (bench_track's downstream figure) with the tracker's current
masks (head mesh ∩ person, less what covers the neck); updates the downstream figures of results/track_synthtalk.json
and keeps the previous ones as *_before.

    python scripts/issue16/neck_cover_downstream.py
"""

import json
import os
import subprocess
from pathlib import Path

import torch

torch.set_num_threads(1)
from ggtalker_nb.data.track import bench_track

b = bench_track(landmarker="mediapipe", adapt_steps=200, threads=1)
d = b["downstream"]
P = Path("results/track_synthtalk.json")
rec = json.loads(P.read_text())
f = rec["figures"]
commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
for k in ("adapt_psnr_gap_db", "adapt_psnr_head_gt", "adapt_psnr_head_tracked"):
    f.setdefault(k + "_before", f.get(k))
f.update(
    adapt_psnr_gap_db=round(d["gap_db"], 3),
    adapt_psnr_head_gt=round(d["runs"]["ground truth"]["psnr_head"], 3),
    adapt_psnr_head_tracked=round(d["runs"]["tracked"]["psnr_head"], 3),
)
rec["downstream_before"] = rec.get("downstream_before", rec["downstream"])
rec["downstream"] = d
note = (
    "adapt_psnr_*: python scripts/issue16/neck_cover_downstream.py (bench_track(landmarker='mediapipe', "
    f"adapt_steps=200, threads=1), tracker masks less what covers the neck, commit {commit}, "
    f"load {os.getloadavg()[0]:.1f}); *_before: the same bench with tracker version 1 masks and the previous E-V prior"
)
rec["notes"] = [n for n in rec.get("notes", []) if not n.startswith("adapt_psnr_*")] + [note]
P.write_text(json.dumps(rec, indent=1, ensure_ascii=False) + "\n")
print(json.dumps({k: v for k, v in f.items() if k.startswith("adapt")}))
