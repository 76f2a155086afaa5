"""Evaluate the retrained E2V prior (scripts/train_e2v_orbit.py) against the shipped one on the held-out SynthTalk
identities from every side, write results/e2v_views.json (and the headline figures of results/e2v_eval.json), and
ship the new prior to data_samples/priors/e2v_cpu.safetensors only if it is better.

    python scripts/ship_e2v_orbit.py [DATA] [RUN]      # defaults: data/synthtalk_e2v runs/e2v_orbit

"Better": higher mean head PSNR over the nine views AND lower median stripe ratio at yaw 90° and 180°.
"""

import datetime
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

torch.set_num_threads(1)
from ggtalker_nb.core import load_safetensors
from ggtalker_nb.data.synthtalk import sample_head_flame
from ggtalker_nb.e2v.eval import EVAL_VIEWS, e2v_table, eval_e2v, summarize_e2v
from ggtalker_nb.e2v.generator import IdentityGaussianGenerator

DATA = sys.argv[1] if len(sys.argv) > 1 else "data/synthtalk_e2v"
RUN = Path(sys.argv[2] if len(sys.argv) > 2 else "runs/e2v_orbit")
PRIOR = Path("data_samples/priors/e2v_cpu.safetensors")
N_FRAMES = 4
flame = sample_head_flame()


def evaluate(path):
    gen = IdentityGaussianGenerator.load(path, flame).eval()
    t0, load = time.time(), os.getloadavg()[0]
    rows = eval_e2v(gen, DATA, n_frames=N_FRAMES, stripe_res=256)
    return rows, time.time() - t0, load


old_path = RUN / "previous_prior.safetensors"  # the shipped prior as it was before this run (kept once)
if not old_path.exists():
    old_path.write_bytes(PRIOR.read_bytes())
new_path = RUN / "final.safetensors"
if not new_path.exists():
    new_path = RUN / "latest_weights.safetensors"
old_rows, old_s, old_load = evaluate(old_path)
new_rows, new_s, new_load = evaluate(new_path)
print("previous prior\n" + e2v_table(old_rows) + "\n\nretrained prior\n" + e2v_table(new_rows))

S = {k: (summarize_e2v(old_rows, k), summarize_e2v(new_rows, k)) for k in ("psnr_head", "iou", "stripe", "ssim")}
views = list(EVAL_VIEWS)
mean_old = float(np.mean([S["psnr_head"][0][v]["generator"] for v in views]))
mean_new = float(np.mean([S["psnr_head"][1][v]["generator"] for v in views]))
better = mean_new > mean_old and all(
    S["stripe"][1][v]["generator"] < S["stripe"][0][v]["generator"] for v in ("yaw90", "yaw180")
)
print(f"mean head PSNR over the views: previous {mean_old:.2f} dB, retrained {mean_new:.2f} dB; ship: {better}")

commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
date = datetime.date.today().isoformat()
machine = "the project's shared 2-core AMD EPYC CPU (no GPU), one thread"
_, new_meta = load_safetensors(new_path)
shipped = S if better else None
g = lambda k, v, m="generator", i=1: round(S[k][i][v][m], 3)
rows = []
for v in views:
    yp = EVAL_VIEWS[v]
    rows.append(
        dict(
            view=v,
            yaw="clip" if yp is None else yp[0],
            pitch="clip" if yp is None else yp[1],
            psnr_head=g("psnr_head", v),
            psnr_head_without_prior=g("psnr_head", v, "unwrap"),
            iou=g("iou", v),
            stripe=g("stripe", v),
            psnr_head_before=g("psnr_head", v, i=0),
            iou_before=g("iou", v, i=0),
            stripe_before=g("stripe", v, i=0),
        )
    )
rec = dict(
    title="E2V one-image heads from every side (4 held-out SynthTalk identities × 4 frames, 128²; stripes at 256²)",
    record=dict(
        date=date,
        machine=machine,
        commit=commit,
        status="measured",
        command=f"python scripts/ship_e2v_orbit.py {DATA} {RUN}",
        load=[round(old_load, 2), round(new_load, 2)],
        seconds=[round(old_s), round(new_s)],
    ),
    notes=[
        "head PSNR: over pixels where the ground-truth head mask or the predicted alpha is > 0.05, both over white; "
        "the recorded frames are downsampled as head colour alone (no background in the rim)",
        "psnr_head_without_prior: the unwrap-only map (the reference's colours where seen, their mean elsewhere; no "
        "network)",
        "iou: predicted alpha > 0.5 against the ground-truth head mask > 0.5 (SynthTalk's head faces: the lower neck "
        "and torso are not head)",
        "stripe: metrics.stripe_energy of the render ÷ that of SynthTalk's render of the same view (texel-grid "
        "frequencies and harmonics, 32² patches inside both silhouettes, first target frame at 256²), median over "
        "identities",
        "*_before: the previous shipped prior (round texel Gaussians, views up to yaw 70° in training); the other "
        "columns: "
        "the retrained prior (texel ellipses, full-orbit training views)"
        + ("" if better else " — NOT shipped: not better"),
        f"data: ggtalker synthtalk --out {DATA} --identities 20 --clips-per-identity 12 --size 256 --seed 0 "
        "--max-seconds 3",
    ],
    figures=dict(
        own=g("psnr_head", "clip"),
        yaw60=g("psnr_head", "yaw60"),
        yaw180=g("psnr_head", "yaw180"),
        yaw180_without_prior=g("psnr_head", "yaw180", "unwrap"),
        own_before=g("psnr_head", "clip", i=0),
        yaw60_before=g("psnr_head", "yaw60", i=0),
        yaw180_before=g("psnr_head", "yaw180", i=0),
        iou_min=min(g("iou", v) for v in views),
        iou_min_before=min(g("iou", v, i=0) for v in views),
        stripe_max=max(g("stripe", v) for v in views),
        stripe_max_before=max(g("stripe", v, i=0) for v in views),
        shipped=better,
    ),
    headline=[
        dict(
            order=21,
            what="E2V one-image head: silhouette IoU, worst view of 9 (yaw up to 180°)",
            measured="{iou_min:.3f} (before {iou_min_before:.3f})",
            target="≥ 0.95 at every yaw",
            notebook="52_e2v.eval",
        ),
        dict(
            order=22,
            what="E2V one-image head: stripe energy ÷ ground truth, worst view (median over identities)",
            measured="{stripe_max:.2f}× (before {stripe_max_before:.1f}×)",
            target="≤ 1.5×",
            notebook="52_e2v.eval",
        ),
        dict(
            order=23,
            what="E2V one-image head PSNR at yaw 180°: with the prior / without (unwrap only)",
            measured="{yaw180:.1f} / {yaw180_without_prior:.1f} dB (before {yaw180_before:.1f})",
            target="reported",
            notebook="52_e2v.eval",
        ),
    ],
    tables=[
        dict(
            name="e2v_views",
            title="E2V per view: head PSNR (with / without the prior), silhouette IoU, stripe ratio — "
            "retrained prior vs the previous one (_before)",
            columns=[
                "view",
                "psnr_head",
                "psnr_head_without_prior",
                "iou",
                "stripe",
                "psnr_head_before",
                "iou_before",
                "stripe_before",
            ],
            rows=rows,
            notes=[],
        )
    ],
    rows=dict(previous=old_rows, retrained=new_rows),
)
Path("results/e2v_views.json").write_text(json.dumps(rec, indent=1, ensure_ascii=False) + "\n")
print("wrote results/e2v_views.json")

if better:
    ev = json.loads(Path("results/e2v_eval.json").read_text())
    ev["record"] = dict(
        date=date,
        machine=machine,
        commit=commit,
        status="measured",
        command=f"python scripts/ship_e2v_orbit.py {DATA} {RUN}  (the E2V rows of results/e2v_views.json)",
    )
    ev["figures"] = dict(
        own=g("psnr_head", "clip"),
        yaw60=g("psnr_head", "yaw60"),
        own_unwrap=g("psnr_head", "clip", "unwrap"),
        yaw60_unwrap=g("psnr_head", "yaw60", "unwrap"),
        gain_min=min(g("psnr_head", v) - g("psnr_head", v, "unwrap") for v in views),
        gain_max=max(g("psnr_head", v) - g("psnr_head", v, "unwrap") for v in views),
    )
    ev["title"] = "E2V one-shot head PSNR from one frontal image (4 held-out identities × 4 frames, 128²)"
    ev["headline"][0]["target"] = (
        "≥ 20 / ≥ 18 dB (#16); beat the unwrap-only baseline at every view (+{gain_min:.1f} to +{gain_max:.1f} dB)"
    )
    ev["tables"][0]["rows"] = [
        dict(view=v, generator_head_psnr=g("psnr_head", v), unwrap_head_psnr=g("psnr_head", v, "unwrap")) for v in views
    ]
    Path("results/e2v_eval.json").write_text(json.dumps(ev, indent=1, ensure_ascii=False) + "\n")
    hist = json.loads((RUN / "history.json").read_text())["history"]
    keys = ("step", "t", "lr", "loss", "l1", "ssim", "perc", "alpha", "offset", "scale", "psnr")
    meta = dict(
        command="python scripts/train_e2v_orbit.py 950 3450 data/synthtalk_e2v runs/e2v_orbit   # rerun to resume; "
        "then python scripts/ship_e2v_orbit.py",
        data="ggtalker synthtalk --out data/synthtalk_e2v --identities 20 --clips-per-identity 12 --size 256 --seed 0 "
        "--max-seconds 3 (train split of the identities built: see identity_names in the run's checkpoint)",
        warm_start="the previous shipped prior (900 steps, round texels), output head's scale/rotation rows "
        "re-initialised",
        schedule_note="two invocations: 'train_e2v_orbit.py 1800 3700' stopped by hand after the step-50 checkpoint "
        "to shorten the cosine schedule, then '950 3450' resumed at step 50",
        steps=new_meta.get("step"),
        threads=1,
        machine="2-core CPU shared with other jobs",
        evaluation="results/e2v_views.json",
        history=[{k: round(float(r[k]), 6) for k in keys if k in r} for r in hist],
    )
    gen = IdentityGaussianGenerator.load(new_path, flame)
    gen.save(PRIOR, meta)
    print("shipped", PRIOR)
