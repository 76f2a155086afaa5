"""Build motion-only SynthTalk sets for A2E training and evaluation (no frames: TTS + motion only, ~0.2 s per clip).

    python scripts/a2e_data.py data/synthtalk_a2e --motion 2      # 20 identities x 12 clips, seed 0: the #17 data
    python scripts/a2e_data.py data/synthtalk_a2e_v3              # the same with the current motion (version 3)
    python scripts/a2e_data.py data/synthtalk_a2e_v1 --motion 1   # the same clips with the old (version-1) motion
    python scripts/a2e_data.py data/style_a2e --style-set         # every held-out sentence for every training identity

The clips are ordinary clip folders (audio.wav, flame.npz, meta.json, camera.json, no frames) with the same speech,
splits and identities as `build_synthtalk(out, 20, 12, seed=0)`; only rendering is skipped, which A2E does not need.
`--style-set` writes, for each training identity, one clip per held-out sentence in the identity's own voice
(split `test_sentence`; clip index 1000 + sentence number, so their motion draws are not those of any dataset clip):
enough frames per identity for the per-identity style statistics of `ggtalker_nb.a2e.eval.style_metrics`.
Rerunning skips complete clips and keeps the folder's motion version.
"""

import argparse
import inspect
import json
import time
from pathlib import Path
from ggtalker_nb.data import synthtalk as st
from ggtalker_nb.data.video import is_clip_dir, remove_partials, write_clip

p = argparse.ArgumentParser()
p.add_argument("out")
p.add_argument("--identities", type=int, default=20)
p.add_argument("--clips-per-identity", type=int, default=12)
p.add_argument("--seed", type=int, default=0)
p.add_argument("--style-set", action="store_true")
p.add_argument("--motion", type=int, default=None, help="SynthTalk motion version (default: the current one)")
a = p.parse_args()
prev = Path(a.out) / "synthtalk.json"
if prev.is_file():  # a rerun completes a set: its clips keep one motion version
    have = json.loads(prev.read_text()).get("motion_version", 1)
    if a.motion is not None and a.motion != have:
        raise SystemExit(f"{a.out} holds motion-version-{have} clips; --motion {a.motion} would mix versions")
    a.motion = have
kw = {} if a.motion is None else dict(motion_version=a.motion)
if a.motion is not None and "motion_version" not in inspect.signature(st.SynthTalk).parameters:
    raise SystemExit("this SynthTalk has no motion_version setting")
gen = st.SynthTalk(a.seed, a.identities, a.clips_per_identity, size=256, **kw)
out = Path(a.out)
out.mkdir(parents=True, exist_ok=True)
remove_partials(out)
info = dict(
    format="synthtalk",
    motion_only=True,
    seed=a.seed,
    n_identities=a.identities,
    clips_per_identity=a.clips_per_identity,
    style_set=a.style_set,
    motion_version=getattr(gen, "motion_version", 1),
)
(out / "synthtalk.json").write_text(json.dumps(info, indent=1))
todo = []
if a.style_set:
    held = st.sentence_ids("heldout")
    for i in range(a.identities):
        if st.is_heldout_identity(i, a.identities):
            continue
        for j, (lang, si) in enumerate(held):
            todo.append((i, 1000 + j, lang, si))
else:
    todo = [(i, k, None, None) for i in range(a.identities) for k in range(a.clips_per_identity)]
t0, n = time.time(), 0
for i, k, lang, si in todo:
    d = out / f"{gen.identity(i).name}_c{k:03d}"
    if is_clip_dir(d):
        continue
    if lang is not None:  # a held-out sentence in the identity's own voice
        ident = gen.identity(i)
        gen.plan = lambda i_, k_, lang=lang, si=si, ident=ident: dict(
            split="test_sentence", language=lang, sentence_index=si, text=st.SENTENCES[lang][si], voice=ident.voice
        )
    clip = gen.make_clip(i, k, render=False)
    if lang is not None:
        del gen.plan
    write_clip(d, clip)
    n += 1
print(json.dumps(dict(out=str(out), built=n, total=len(todo), seconds=round(time.time() - t0, 1))))
