"""Long audio (#17, session 9): the A2E mean heads over a ~28 s clip in one span against `over_windows`.

    python scripts/a2e_long_audio.py        # -> table a2e_long_audio in results/a2e_ablation.json

Each of the 16 training speakers' six held-out sentences in their own voice (data/style_a2e) are joined into one clip
(audio cut or padded to its motion's frames, so nothing drifts), ~28 s. Scored: the lip vertex error of the shipped
prior's mean head (temperature 0) and of the regression baseline (runs/a2e_big_regression_s0) on the sentences one by
one, on the joined clip in one span (what `mean_motion` / `predict_regression` did before session 9), and on the
joined clip through `over_windows` (2 · config.n frames, margin 2 · config.context: what they do now)."""

import json
import os
import subprocess
import time

import numpy as np
import torch

from ggtalker_nb.a2e.eval import _fit_last, encode_audio, load_any
from ggtalker_nb.a2e.train import LipVertexLoss
from ggtalker_nb.data.video import ClipReader, list_clips

torch.set_num_threads(1)
L = LipVertexLoss()
truth_of = lambda r: r.flame_clean if r.flame_clean is not None else r.flame
MODELS = {
    "shipped prior's mean head (temperature 0)": "data_samples/priors/a2e_cpu.safetensors",
    "regression baseline (912 clips, training seed 0)": "runs/a2e_big_regression_s0/final.safetensors",
}


def lve(pred, truth) -> float:
    with torch.no_grad():
        return float((L.verts(pred[None], None) - L.verts(truth[None], None)).norm(dim=-1).amax(-1).mean() * 1000)


def one_span(model, f, row):
    "The model over the whole span in one call (the pre-session-9 behaviour)."
    if getattr(model, "residual", False):
        a, _, idt = model.encode_condition(f, row)
        return model.mean_out(model.mean_norm(model.mean_dec(a + idt[:, None])))
    return model(f, row)


t0 = time.time()
by = {}
for p in list_clips("data/style_a2e"):
    r = ClipReader(p)
    by.setdefault(r.identity, []).append(r)
rows = []
for label, src in MODELS.items():
    model, enc, kind, names = load_any(src)
    model.eval()
    c = model.config
    res = {"sentences one by one": [], "joined, one span": [], "joined, over_windows": []}
    frames = []
    for ident, rs in by.items():
        row = torch.tensor([names.index(ident)])
        mots = [
            torch.cat([_fit_last(torch.as_tensor(truth_of(r).expr), 50), torch.as_tensor(truth_of(r).jaw)], -1).float()
            for r in rs
        ]
        auds = [np.pad(r.audio[: len(m) * 640], (0, max(0, len(m) * 640 - len(r.audio)))) for r, m in zip(rs, mots)]
        with torch.no_grad():
            per = []
            for a, m in zip(auds, mots):
                f = encode_audio(enc, a, len(m), c.window, c.context)
                per.append(lve(model.normalizer.denormalize(one_span(model, f, row))[0], m))
            res["sentences one by one"].append(float(np.mean(per)))
            truth, audio = torch.cat(mots), np.concatenate(auds)
            frames.append(len(truth))
            f = encode_audio(enc, audio, len(truth), c.window, c.context)
            res["joined, one span"].append(lve(model.normalizer.denormalize(one_span(model, f, row))[0], truth))
            if getattr(model, "residual", False):
                w = model.mean_motion(f, row)
            else:
                from ggtalker_nb.a2e.train import predict_regression

                w = model.normalizer.normalize(predict_regression(model, f, row))
            res["joined, over_windows"].append(lve(model.normalizer.denormalize(w)[0], truth))
    for how, v in res.items():
        rows.append(
            dict(model=label, scored=how, lve_mm=round(float(np.mean(v)), 3), lve_sd=round(float(np.std(v)), 3))
        )
    print(label, {k: round(float(np.mean(v)), 3) for k, v in res.items()}, "frames", int(np.mean(frames)))
commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
tab = dict(
    name="a2e_long_audio",
    title="Long audio (#17, session 9): the mean heads over ~28 s clips in one span vs over_windows",
    columns=["model", "scored", "lve_mm", "lve_sd"],
    rows=rows,
    notes=[
        f"16 speakers × their 6 held-out sentences (data/style_a2e) joined into one clip each, {int(np.mean(frames))} "
        "frames on average (all sentences ≤ 98 frames); lve_sd: std over speakers. One span: the head over the whole "
        "clip (sinusoidal positions far past the 50-frame training windows); over_windows: 100-frame windows, 20 "
        "frames of context each side; clips ≤ 100 frames are one call either way.",
        f"`python scripts/a2e_long_audio.py`, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, commit {commit} + "
        f"working tree, 1 thread, load {os.getloadavg()[0]:.1f}, {time.time() - t0:.0f} s.",
    ],
)
res = json.load(open("results/a2e_ablation.json"))
res["tables"] = [t for t in res["tables"] if t["name"] != "a2e_long_audio"] + [tab]
open("results/a2e_ablation.json", "w").write(json.dumps(res, indent=1, ensure_ascii=False) + "\n")
