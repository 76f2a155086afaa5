# results/color.json from runs/color/bench_color.json (+ bench_color2.json) and the shading headroom
# run from the repository root: PYTHONPATH=. python scripts/issue16/color_write_results.py  (outputs under runs/, which
# git ignores)
import json
import subprocess
import time
import os
import torch
import numpy as np
from ggtalker_nb.data.video import ClipReader
from ggtalker_nb.adapt.color import mouth_mask
from ggtalker_nb.metrics import psnr

a = json.load(open("runs/color/bench_color.json"))
rows = [dict(r, lr_color=r.get("lr_color", 1e-3)) for r in a["rows"]]
b = json.load(open("runs/color/bench_color2.json")) if os.path.exists("runs/color/bench_color2.json") else dict(rows=[])
rows += b["rows"]
c3 = [
    r
    for f in ("runs/color/bench_color3.json", "runs/color/bench_color3b.json")
    if os.path.exists(f)
    for r in json.load(open(f))["rows"]
]
rows = [dict(r, fourier=r.get("fourier", 4)) for r in rows] + c3
# headroom: how much the shading changes the held-out clip's mouth (shaded vs unshaded ground truth, same motion)
c = "id0002_c002"
sa, sb = ClipReader(f"data/synthtalk_shaded/{c}"), ClipReader(f"data/synthtalk_unshaded/{c}")
fa, fb = torch.from_numpy(sa.frames()).float() / 255, torch.from_numpy(sb.frames()).float() / 255
ms = torch.from_numpy(np.asarray(sa.masks)).bool()
mm = mouth_mask(torch.as_tensor(sa.landmarks), ms)
F = dict(
    shading_gt_psnr_mouth=float(psnr(fa, fb, mm).mean()),
    shading_gt_psnr_head=float(psnr(fa * ms[..., None], fb * ms[..., None], ms).mean()),
)


def get(data, mlp, track, lr=1e-3, steps=None):
    x = [
        r
        for r in rows
        if r["fourier"] == 4
        and r["data"] == data
        and r["color_mlp"] == mlp
        and r["track"] == track
        and abs(r["lr_color"] - lr) < 1e-9
        and (steps is None or r["steps"] == steps)
    ]
    return x[0] if x else None


for data in ("shaded", "unshaded"):
    for tr in ("tracked", "clean"):
        on, off = get(data, True, tr, steps=300), get(data, False, tr, steps=300)
        F[f"{data}_{tr}_mouth_on"], F[f"{data}_{tr}_mouth_off"] = on["psnr_mouth"], off["psnr_mouth"]
        F[f"{data}_{tr}_mouth_gain"] = on["psnr_mouth"] - off["psnr_mouth"]
        F[f"{data}_{tr}_head_gain"] = on["psnr_head"] - off["psnr_head"]
for tr in ("tracked", "clean"):
    off, on3, on2 = (
        get("shaded", False, tr, 1e-3, 600),
        get("shaded", True, tr, 1e-3, 600),
        get("shaded", True, tr, 1e-2, 600),
    )
    if off and on3:
        F[f"long_{tr}_mouth_gain"] = on3["psnr_mouth"] - off["psnr_mouth"]
    if off and on2:
        F[f"long_lr1e2_{tr}_mouth_gain"] = on2["psnr_mouth"] - off["psnr_mouth"]
for tr in ("tracked", "clean"):
    off = get("shaded", False, tr, 1e-3, 600)
    for r in c3:
        if off and r["track"] == tr:
            F[f"fourier{r['fourier']}_{tr}_mouth_gain"] = r["psnr_mouth"] - off["psnr_mouth"]
if os.path.exists("runs/color/static_ceiling.json"):
    sc = json.load(open("runs/color/static_ceiling.json"))
    F["static_ceiling_mouth"] = sc["static_vs_shaded_mouth"]
    import math

    for tr in ("tracked", "clean"):
        off = get("shaded", False, tr, 1e-3, 600) or get("shaded", False, tr, 1e-3, 300)
        mse = 10 ** (-off["psnr_mouth"] / 10) - 10 ** (-sc["static_vs_shaded_mouth"] / 10)
        F[f"max_gain_{tr}"] = -10 * math.log10(mse) - off["psnr_mouth"] if mse > 0 else float("inf")
best = max(v for k, v in F.items() if k.endswith("mouth_gain") and k.startswith(("shaded", "long", "fourier")))
commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
out = dict(
    title="Colour MLP ablation on SynthTalk with expression-dependent shading: head and mouth-region PSNR",
    record=dict(
        date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        machine="the project's shared 2-core CPU, 1 torch thread, load average ≈ 10–15 (6 engineers' jobs)",
        command="python scripts/issue16/color_run_bench_color.py; python scripts/issue16/color_run_ablation2.py; "
        "FOURIER=8 python scripts/issue16/color_run_ablation3.py; FOURIER=10 OUT=runs/color/bench_color3b.json "
        "python scripts/issue16/color_run_ablation3.py; python scripts/issue16/color_static_ceiling.py; python "
        "scripts/issue16/color_write_results.py  (adapt.color.bench_color on "
        "shaded_synthtalk('data/synthtalk_shaded', True) / ('data/synthtalk_unshaded', False))",
        commit=f"{commit} + the uncommitted #16 working tree",
        status="measured",
    ),
    notes=[
        "held-out identity id0002 of a 3-identity SynthTalk (seed 0, tracking noise 1, motion version 2): adapted on "
        "id0002_c000/c001 (heldout_adapt) with the shipped E-V prior, 256², UV 64, phase 1 + phase 2 steps as listed, "
        "same steps with and without the MLP; measured on all 59 frames of id0002_c002 (heldout_test)",
        "psnr_mouth: inside the mouth landmarks' box grown by 25 % per side, inside the true head mask; psnr_head: "
        "inside the true head mask; tracked = the clip's noisy FLAME track, clean = its true one",
        "shading_gt_psnr: the held-out clip rendered with vs without the shading (same motion): how much the shading "
        "changes the pixels",
        "static_ceiling_mouth: the held-out clip rendered with each vertex's mean shading factor vs the true shading "
        "(scripts/issue16/color_static_ceiling.py) — the best an expression-independent albedo does with perfect "
        "geometry; max_gain_*: the mouth PSNR gain the no-MLP model would get if a colour model removed exactly that "
        "error (MSE_off − MSE_static)",
        "fourier 8 / 10: ColorMLP with 8 / 10 UV Fourier octaves (default 4), swapped in for the experiment "
        "(scripts/issue16/color_run_ablation3.py, FOURIER=8 / 10)",
    ],
    figures=F,
    tables=[
        dict(
            name="color_ablation",
            title="Colour MLP on / off (held-out clip id0002_c002)",
            columns=["data", "color_mlp", "lr_color", "fourier", "steps", "track", "psnr_head", "psnr_mouth"],
            rows=[
                {
                    k: (round(v, 3) if isinstance(v, float) and k.startswith("psnr") else v)
                    for k, v in r.items()
                    if k in ("data", "color_mlp", "lr_color", "fourier", "steps", "track", "psnr_head", "psnr_mouth")
                }
                for r in rows
            ],
            notes=[],
        )
    ],
    headline=[
        dict(
            order=33,
            what="Colour MLP gain on the mouth region, SynthTalk with expression shading (held-out id0002, 256²)",
            measured="+{fourier10_tracked_mouth_gain:.2f} dB (tracked) / +{fourier10_clean_mouth_gain:.2f} dB (clean "
            "track) with 10 UV Fourier octaves and lr_color 1e-2, 600 steps; the default MLP (4 octaves, lr "
            "1e-3): +{long_tracked_mouth_gain:.2f} / +{long_clean_mouth_gain:.2f}; unshaded control "
            "+{unshaded_tracked_mouth_gain:.2f} / {unshaded_clean_mouth_gain:+.2f}; headroom "
            "+{max_gain_tracked:.2f} / +{max_gain_clean:.2f}",
            target="≥ +0.5 dB on the mouth — met with 10 octaves (the shipped default of 4 octaves: **not met**)",
            notebook="60_adapt.color",
        )
    ],
)
json.dump(out, open("results/color.json", "w"), indent=1, ensure_ascii=False)
open("results/color.json", "a").write("\n")
print(json.dumps(F, indent=0))
