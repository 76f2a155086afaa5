r"""Evaluate one A2E model on motion-version-2 SynthTalk the way the #17 tables do; resumable (one JSON per model).

    python scripts/eval_a2e.py MODEL NAME [--seeds 0,1,2] [--temperature T] [--kmeans]

MODEL: a model file, checkpoint or run folder (`load_any`); NAME: the output `runs/a2e_work/eval_NAME.json`, in the
layout `scripts/ship_a2e.py` reads: `seed0:splits` (held-out sentences, unseen voices, unseen languages; 4 samples
per clip), `seed0:style`, `degraded:<name>` (held-out sentences on `TEST_DEGRADATIONS` audio, 2 samples per clip),
`seedS:sentences` and `seedS:style` for the other sampling seeds, and with `--kmeans` the one-sample vs mean-of-K
ablation (`sample_mean_ablation`, K = 1, 4, 16). DDIM 10, guidance `DEFAULT_GUIDANCE` (or A2E_GUIDANCE="a,i").
`--per-clip-seed`: the style samples draw each clip's noise from its own seed (`clip_seed(seed, clip)`; without it
every clip starts from the same noise, which moves all of a speaker's clips together and made the style distance
swing by ±0.1 between sampling seeds). `--temperature`: residual models' sampling temperature (the file's own
default otherwise). One thread.
`--speed-against FILE`: also time DDIM 10 + guidance on 10 s of audio (audio encoder included, one thread, medians of
5, interleaved with FILE's model so that load changes hit both alike).
Data: `python scripts/a2e_data.py data/synthtalk_a2e --motion 2` and `... data/style_a2e --style-set --motion 2`.
"""

import argparse
import json
import os
import time

import torch

from ggtalker_nb.a2e.eval import (
    evaluate_a2e,
    evaluate_style,
    load_any,
    sample_mean_ablation,
    TEST_DEGRADATIONS,
)
from ggtalker_nb.a2e.model import DEFAULT_GUIDANCE
from ggtalker_nb.flame import FLAME
from ggtalker_nb.sample_head import load_sample_head

p = argparse.ArgumentParser()
p.add_argument("src")
p.add_argument("name")
p.add_argument("--seeds", default="0,1,2")
p.add_argument("--temperature", type=float, default=None)
p.add_argument("--kmeans", action="store_true")
p.add_argument(
    "--per-clip-seed",
    action="store_true",
    help="style: each clip its own noise seed (independent draws across a speaker's clips; `clip_seed`)",
)
p.add_argument("--speed-against", default=None)
p.add_argument("--data", default="data/synthtalk_a2e")
p.add_argument("--style", default="data/style_a2e")
p.add_argument("--out-dir", default="runs/a2e_work")
a = p.parse_args()
torch.set_num_threads(1)
FL = FLAME(load_sample_head())
seeds = [int(s) for s in a.seeds.split(",")]
G = tuple(float(x) for x in os.environ.get("A2E_GUIDANCE", ",".join(map(str, DEFAULT_GUIDANCE))).split(","))
model, enc, kind, names = load_any(a.src)
if a.temperature is not None:
    if not getattr(model, "residual", False):
        raise SystemExit("--temperature: only residual models have one")
    model.config.temperature = a.temperature
if kind != "diffusion":
    seeds = seeds[:1]
outp = f"{a.out_dir}/eval_{a.name}.json"
out = json.load(open(outp)) if os.path.exists(outp) else {}
out.update(
    name=a.name,
    src=a.src,
    kind=kind,
    guidance=list(G),
    parameterization=getattr(model.config, "parameterization", None),
    temperature=getattr(model.config, "temperature", None),
    per_clip_seed=a.per_clip_seed,
    command="python scripts/eval_a2e.py " + " ".join(os.sys.argv[1:]),
)


def save():
    json.dump(out, open(outp, "w"), indent=1)


probe = None


def run(key, fn):
    if key in out:
        return
    t = time.time()
    out[key] = fn()
    out[key + ":meta"] = dict(seconds=time.time() - t, load=os.getloadavg()[0])
    save()
    print(a.name, key, json.dumps(out[key])[:300], flush=True)


def style(s):
    global probe
    st = evaluate_style(model, a.style, a.data, enc, FL, 1, 10, G, s, probe, max_clips=6, per_clip_seed=a.per_clip_seed)
    probe = st.pop("probe")
    return st


splits = ("test_sentence", "test_voice", "test_language")
run("seed0:splits", lambda: evaluate_a2e(model, a.data, splits, enc, FL, 4, 10, "ddim", G, seeds[0])["summary"])
run("seed0:style", lambda: style(seeds[0]))
for dname in TEST_DEGRADATIONS:
    run(
        f"degraded:{dname}",
        lambda: evaluate_a2e(model, a.data, ("test_sentence",), enc, FL, 2, 10, "ddim", G, 0, degrade=dname)["summary"][
            "test_sentence"
        ],
    )
for s in seeds[1:]:
    run(
        f"seed{s}:sentences",
        lambda: evaluate_a2e(model, a.data, ("test_sentence",), enc, FL, 4, 10, "ddim", G, s)["summary"][
            "test_sentence"
        ],
    )
    run(f"seed{s}:style", lambda: style(s))
if a.kmeans and kind == "diffusion":
    run(
        "kmeans",
        lambda: sample_mean_ablation(model, a.data, (1, 4, 16), encoder=enc, flame=FL, steps=10, guidance=G)["table"],
    )
if a.speed_against:

    def speed():
        import statistics

        import numpy as np

        from ggtalker_nb.a2e.eval import encode_audio
        from ggtalker_nb.a2e.model import sample

        audio = (np.random.default_rng(0).standard_normal(160000) * 0.1).astype(np.float32)
        ms = {"this model": (model, enc), a.speed_against: load_any(a.speed_against)[:2]}
        ts = {k: [] for k in ms}
        for _ in range(5):
            for k, (m, e) in ms.items():
                t = time.perf_counter()
                f = encode_audio(e, audio, window=m.config.window, context=m.config.context)
                sample(m, f, 0, steps=10, guidance=G, generator=torch.Generator().manual_seed(0))
                ts[k].append(time.perf_counter() - t)
        return {k: dict(median_s=statistics.median(v), x_realtime=10 / statistics.median(v)) for k, v in ts.items()}

    run("speed_1thread", speed)
save()
