# add the 3-seed ablation of the colour defaults to results/color.json (table color_seeds, figures seeds_*, headline)
# run from the repository root after color_run_seeds.py (new and old settings):
#   PYTHONPATH=. python scripts/issue16/color_write_seeds.py
import json
import os
import subprocess
import time

import numpy as np

new = json.load(open("runs/color/bench_color_seeds.json"))
old = json.load(open("runs/color/bench_color_seeds_old.json"))
rows = new["rows"] + old["rows"]
loads = [x[0] for x in new["loads"] + old["loads"]]
key = lambda r: "off" if not r["color_mlp"] else f"{r['color_fourier']} octaves, lr {r['lr_color']:g}"
settings = sorted({key(r) for r in rows}, key=lambda k: (k != "off", k))
seeds = sorted({r["seed"] for r in rows})
F = {}
table = []
for split, track in (("heldout", "tracked"), ("heldout", "clean"), ("train", "tracked")):
    off = {r["seed"]: r for r in rows if key(r) == "off" and r["split"] == split and r["track"] == track}
    for s in settings:
        sel = {r["seed"]: r for r in rows if key(r) == s and r["split"] == split and r["track"] == track}
        both = [sd for sd in seeds if sd in sel and sd in off]
        row = dict(setting=s, split=split, track=track, seeds=len(both))
        for reg in ("head", "mouth", "rest"):
            v = np.array([sel[sd][f"psnr_{reg}"] for sd in both])
            g = np.array([sel[sd][f"psnr_{reg}"] - off[sd][f"psnr_{reg}"] for sd in both])
            row[f"psnr_{reg}"] = f"{v.mean():.2f} ± {v.std(ddof=1) if len(v) > 1 else 0:.2f}"
            if s != "off":
                row[f"gain_{reg}"] = f"{g.mean():+.2f} ± {g.std(ddof=1) if len(g) > 1 else 0:.2f}"
                tag = f"seeds_{'new' if s.startswith('10') else 'old'}_{split}_{track}_{reg}"
                F[f"{tag}_gain"] = float(g.mean())
                F[f"{tag}_gain_sd"] = float(g.std(ddof=1)) if len(g) > 1 else 0.0
                F[f"{tag}_gain_min"] = float(g.min())
                F[f"{tag}_gain_max"] = float(g.max())
        table.append(row)
        if s == "off":
            for reg in ("head", "mouth"):
                v = np.array([sel[sd][f"psnr_{reg}"] for sd in both])
                F[f"seeds_off_{split}_{track}_{reg}_sd"] = float(v.std(ddof=1))
# the deformation-input probe (scripts/issue16/color_deform_probe.py, experiment only): gains over the same seeds' off
probe = []
if os.path.exists("runs/color/bench_color_deform.json"):
    pr = json.load(open("runs/color/bench_color_deform.json"))
    loads += [x[0] for x in pr["loads"]]
    for split, track in (("heldout", "tracked"), ("heldout", "clean"), ("train", "tracked")):
        off = {r["seed"]: r for r in new["rows"] if not r["color_mlp"] and r["split"] == split and r["track"] == track}
        sel = {r["seed"]: r for r in pr["rows"] if r["split"] == split and r["track"] == track}
        both = [sd for sd in sorted(sel) if sd in off]
        row = dict(setting="4 octaves, lr 0.001 + deformation input", split=split, track=track, seeds=len(both))
        for reg in ("head", "mouth", "rest"):
            v = np.array([sel[sd][f"psnr_{reg}"] for sd in both])
            g = np.array([sel[sd][f"psnr_{reg}"] - off[sd][f"psnr_{reg}"] for sd in both])
            sd_ = lambda x: x.std(ddof=1) if len(x) > 1 else 0.0
            row[f"psnr_{reg}"] = f"{v.mean():.2f} ± {sd_(v):.2f}"
            row[f"gain_{reg}"] = f"{g.mean():+.2f} ± {sd_(g):.2f}"
            tag = f"probe_deform_{split}_{track}_{reg}"
            F[f"{tag}_gain"], F[f"{tag}_gain_sd"] = float(g.mean()), float(sd_(g))
            F[f"{tag}_gain_min"], F[f"{tag}_gain_max"] = float(g.min()), float(g.max())
        probe.append(row)
res = json.load(open("results/color.json"))
res["tables"] = [t for t in res["tables"] if t["name"] != "color_deform_probe"]
if probe:
    res["tables"].append(
        dict(
            name="color_deform_probe",
            title="Probe, not shipped: the colour MLP with a per-Gaussian deformation input (its parent triangle's log "
            "edge-length and area ratios against the neutral mesh), gain over no colour MLP of the same seed",
            columns=[
                "setting",
                "split",
                "track",
                "seeds",
                "psnr_head",
                "gain_head",
                "psnr_mouth",
                "gain_mouth",
                "psnr_rest",
                "gain_rest",
            ],
            rows=probe,
            notes=[
                "scripts/issue16/color_deform_probe.py: the default MLP (4 octaves, lr 1e-3) with layer 1 also fed "
                "4 features of the Gaussian's triangle in the frame (×5, clipped to ±3), patched into adapt.ev and "
                "avatar.runtime for the experiment; same data, steps, seeds and E-V prior as table color_seeds",
            ],
        )
    )
res["tables"] = [t for t in res["tables"] if t["name"] != "color_seeds"] + [
    dict(
        name="color_seeds",
        title="Colour settings over 3 seeds (E-V prior of commit cfeebe2, before the 05:37 fine-tune): PSNR (dB) and "
        "gain over no colour MLP, same seed, mean ± sample standard deviation",
        columns=[
            "setting",
            "split",
            "track",
            "seeds",
            "psnr_head",
            "gain_head",
            "psnr_mouth",
            "gain_mouth",
            "psnr_rest",
            "gain_rest",
        ],
        rows=table,
        notes=[
            "each seed: adaptation with and without the colour MLP, same seed (frame order and the MLP's start), "
            "300 + 300 steps, UV 64, 256²; heldout = id0002_c002 (59 frames, never seen); train = id0002_c000 "
            "(seen frames, with the tracked FLAME parameters, not the adaptation's per-frame corrections)",
            "rest = head pixels outside the mouth region",
        ],
    )
]
for t in res["tables"]:
    if t["name"] == "color_ablation" and "one seed" not in t["title"]:
        t["title"] += " — one seed each, measured before 03:43 with the E-V prior of that time"
res["figures"].update(F)
res["figures"]["seeds_load_range"] = [round(min(loads), 1), round(max(loads), 1)]
res["headline"] = [
    dict(
        order=33,
        what="Colour MLP gain on the mouth region, SynthTalk with expression shading (held-out id0002, 256², 3 seeds)",
        measured="defaults (4 UV Fourier octaves, lr_color 1e-3): {seeds_old_heldout_tracked_mouth_gain:+.2f} dB "
        "(tracked; seeds {seeds_old_heldout_tracked_mouth_gain_min:+.2f}…"
        "{seeds_old_heldout_tracked_mouth_gain_max:+.2f}) / {seeds_old_heldout_clean_mouth_gain:+.2f} dB (clean "
        "track; {seeds_old_heldout_clean_mouth_gain_min:+.2f}…{seeds_old_heldout_clean_mouth_gain_max:+.2f}); "
        "10 octaves, lr 1e-2: {seeds_new_heldout_tracked_mouth_gain:+.2f} / {seeds_new_heldout_clean_mouth_gain:+.2f}"
        " ({seeds_new_heldout_clean_mouth_gain_min:+.2f}…{seeds_new_heldout_clean_mouth_gain_max:+.2f}); whole head "
        "(tracked) {seeds_old_heldout_tracked_head_gain:+.2f} vs {seeds_new_heldout_tracked_head_gain:+.2f}; the "
        "no-MLP baseline's own seed spread ±{seeds_off_heldout_tracked_mouth_sd:.2f} / "
        "±{seeds_off_heldout_clean_mouth_sd:.2f} dB"
        + (
            "; probe, not shipped — the defaults plus a per-Gaussian deformation input: "
            "{probe_deform_heldout_tracked_mouth_gain:+.2f} ± {probe_deform_heldout_tracked_mouth_gain_sd:.2f} / "
            "{probe_deform_heldout_clean_mouth_gain:+.2f} ± {probe_deform_heldout_clean_mouth_gain_sd:.2f} dB, whole "
            "head {probe_deform_heldout_tracked_head_gain:+.2f}"
            if probe
            else ""
        ),
        target="≥ +0.5 dB on the mouth — **not met** (the earlier +0.51 dB was one seed, measured before 03:43; it "
        "does not reproduce on today's tree; the defaults stay"
        + ("; the deformation-input probe reaches it at the mean, not shipped yet)" if probe else ")"),
        notebook="60_adapt.color",
    )
]
commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
old_cmd = res["record"]["command"].split("; the earlier rows")[0].split("the earlier rows: ")[-1]
res["record"] = dict(
    date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    machine=f"the project's shared 2-core CPU, 1 torch thread, load average {min(loads):.1f}–{max(loads):.1f} "
    "(table color_seeds; the earlier table: load ≈ 10–15)",
    command="python scripts/issue16/color_run_seeds.py; LR=1e-3 FOURIER=4 VARIANTS=on "
    "OUT=runs/color/bench_color_seeds_old.json python scripts/issue16/color_run_seeds.py; "
    + ("python scripts/issue16/color_deform_probe.py; " if probe else "")
    + "python scripts/issue16/color_write_seeds.py  (adapt.color.bench_color(seeds=…, train_eval=True) on "
    "data/synthtalk_shaded; table color_seeds) — the earlier rows: " + old_cmd,
    commit=f"{commit} + the uncommitted #16 working tree",
    status="measured",
)
json.dump(res, open("results/color.json", "w"), indent=1, ensure_ascii=False)
open("results/color.json", "a").write("\n")
for r in table + probe:
    print(r)
print({k: round(v, 3) for k, v in F.items() if "mouth_gain" in k and "sd" not in k})
print(os.getloadavg())
