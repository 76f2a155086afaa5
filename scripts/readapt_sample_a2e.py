"""Re-adapt the A-E stage of the shipped sample identity (data_samples/identity_sample = SynthTalk id0004) to the
shipped A2E prior, and score the A-E model before and after on the identity's held-out sentence (its motion v1 clip
and the same sentence in data/synthtalk_a2e, motion v2); writes results/a2e_adapt.json.

    cp -r data_samples/identity_sample /tmp/identity_sample_old      # the A-E model to compare against
    python scripts/readapt_sample_a2e.py --old /tmp/identity_sample_old

The adaptation uses the identity's own source clips (identity.json: data/synthtalk_e2v id0004, its 11 heldout_adapt
clips; `ggtalker synthtalk --out data/synthtalk_e2v ...`) with `adapt_a2e`'s defaults (300 steps at most, early
stopping on the last ~20 % of clips). Scores: 8 samples per clip, DDIM 10, guidance (1, 2), the identity's own row,
each model at its default temperature.
"""

import argparse
import json
import os
import subprocess
import time
from pathlib import Path

import torch

from ggtalker_nb.a2e.eval import evaluate_a2e
from ggtalker_nb.a2e.model import load_a2e
from ggtalker_nb.adapt.ae import readapt_identity_a2e
from ggtalker_nb.data.video import ClipReader, list_clips

torch.set_num_threads(1)
p = argparse.ArgumentParser()
p.add_argument("--old", required=True, help="a copy of the identity folder before re-adaptation")
p.add_argument("--identity", default="data_samples/identity_sample")
p.add_argument("--prior", default="data_samples/priors/a2e_cpu.safetensors")
p.add_argument("--skip-adapt", action="store_true", help="score only (the identity is re-adapted already)")
a = p.parse_args()
t0 = time.time()
r = None
if not a.skip_adapt:
    r = readapt_identity_a2e(a.identity, a.prior, progress=False)
    print({k: r[k] for k in ("identity", "steps", "stopped", "val_before", "val_best", "seconds")})
own = [c for c in list_clips("data/synthtalk_e2v") if c.name.startswith("id0004")]
own = [c for c in own if ClipReader(c).meta["split"] == "heldout_test"]
v2 = [c for c in list_clips("data/synthtalk_a2e") if c.name.startswith("id0004")]
v2 = [c for c in v2 if ClipReader(c).meta["split"] == "heldout_test"]  # its adapt clips share the adaptation's audio


def score(folder):
    info = json.loads((Path(folder) / "identity.json").read_text())
    m, enc = load_a2e(Path(folder) / info["components"]["a2e"]["file"])
    row = info["a2e_identity"]
    out = {}
    for name, clips in (
        ("own held-out sentence (synthtalk_e2v, motion v1)", own),
        ("synthtalk_a2e id0004 (motion v2)", v2),
    ):
        e = evaluate_a2e(
            m, clips, splits=None, encoder=enc, n_samples=8, steps=10, guidance=(1.0, 2.0), identity=row, seed=0
        )
        rows = e["rows"]
        out[name] = dict(
            clips=len(rows),
            lve_mm=round(sum(x["lve"] for x in rows) / len(rows), 3),
            mo_corr=round(sum(x["mo_corr"] for x in rows) / len(rows), 3),
            div_mm=round(sum(x["div"] for x in rows) / len(rows), 3),
        )
        unknown = evaluate_a2e(
            m, clips, splits=None, encoder=enc, n_samples=8, steps=10, guidance=(1.0, 2.0), identity=None, seed=0
        )["rows"]
        out[name]["lve_unknown_row_mm"] = round(sum(x["lve"] for x in unknown) / len(unknown), 3)
    return dict(parameterization=m.config.parameterization, temperature=m.config.temperature, row=row, scores=out)


old, new = score(a.old), score(a.identity)
print(json.dumps(dict(old=old, new=new), indent=1))
commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
rows = []
for label, s in (
    ("previous shipped prior (x0), adapted 2026-12-06 09:25", old),
    ("new shipped prior (residual), re-adapted", new),
):
    for split, v in s["scores"].items():
        rows.append(dict(model=label, clips_scored=split, **v))
rec = dict(
    title="The sample identity's A-E model adapted from the previous and the new shipped A2E prior (#17)",
    record=dict(
        date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        machine="the project's shared 2-core CPU (no GPU), 1 torch thread",
        status="measured this session",
        commit=commit + " + working tree",
        load=round(os.getloadavg()[0], 2),
        command="python scripts/readapt_sample_a2e.py --old /tmp/identity_sample_old (a copy of the identity before)",
        seconds=round(time.time() - t0, 1),
    ),
    adaptation=None if r is None else {k: r[k] for k in ("steps", "stopped", "val_before", "val_best", "seconds")},
    tables=[
        dict(
            name="a2e_adapt",
            title="The sample identity's A-E model (SynthTalk id0004), before and after re-adaptation to the new prior",
            columns=["model", "clips_scored", "clips", "lve_mm", "lve_unknown_row_mm", "mo_corr", "div_mm"],
            rows=rows,
            notes=[
                "8 samples per clip, DDIM 10, guidance (1, 2), the identity's row (lve_unknown_row_mm: the same model "
                "with the unknown-speaker row); each model at its default temperature (the residual prior 0.5).",
                "The adaptation clips: data/synthtalk_e2v id0004's 11 heldout_adapt clips (motion v1); scored on its "
                "heldout_test clip (one sentence, 69 frames: a small sample), and on the same sentence and voice in "
                "data/synthtalk_a2e (motion v2, the new prior's training motion).",
            ],
        )
    ],
)
Path("results/a2e_adapt.json").write_text(json.dumps(rec, indent=1, ensure_ascii=False) + "\n")
print("wrote results/a2e_adapt.json")
