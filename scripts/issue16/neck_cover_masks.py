"""Tracked head masks against SynthTalk's true masks, before and after leaving out what covers the neck
(`data.track.covered_neck`); adds the figures to results/track_synthtalk.json.

    python scripts/issue16/neck_cover_masks.py
"""

import json
import os
import subprocess
from pathlib import Path

import torch

torch.set_num_threads(1)
from ggtalker_nb.data.track import bench_track

b = bench_track(landmarker="mediapipe", adapt_steps=0, threads=1)
s = b["summary"]
P = Path("results/track_synthtalk.json")
rec = json.loads(P.read_text())
commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
rec["figures"].update(mask_iou=round(s["mask_iou"], 4), mask_iou_mesh=round(s["mask_iou_mesh"], 4))
note = (
    "mask_iou / mask_iou_mesh: the tracked head masks (fitted head ∩ person segmentation, less / with what covers the "
    "neck) against SynthTalk's true head masks, mean over the clips; python scripts/issue16/neck_cover_masks.py "
    f"(bench_track(landmarker='mediapipe', adapt_steps=0), commit {commit}, load {os.getloadavg()[0]:.1f})"
)
rec["notes"] = [n for n in rec.get("notes", []) if not n.startswith("mask_iou")] + [note]
P.write_text(json.dumps(rec, indent=1, ensure_ascii=False) + "\n")
print({k: round(v, 4) for k, v in s.items() if "mask" in k}, [round(r.get("mask_iou", 0), 3) for r in b["rows"]])
