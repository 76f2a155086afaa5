"""Copy the trained A2E prior (runs/a2e_prior/final.safetensors) to data_samples/priors/a2e_cpu.safetensors with its
training record."""

import json
import sys
from ggtalker_nb.core import load_safetensors, save_safetensors

src = sys.argv[1] if len(sys.argv) > 1 else "runs/a2e_prior/final.safetensors"
t, meta = load_safetensors(src)
h = json.load(open("runs/a2e_prior/history.json"))
meta.update(
    command="python scripts/train_a2e.py prior   # rerun to resume; then python scripts/ship_a2e.py",
    data="data/synthtalk train split (16 identities, 12 clips each), built by `ggtalker synthtalk --out data/synthtalk "
    "--identities 20 --clips-per-identity 12 --size 256 --seed 0`",
    train_config=dict(
        steps=2000, batch_size=32, lr=3e-4, warmup=200, ckpt_every=250, lip_loss=1.0, encoder="mel", threads=1
    ),
    time_note="~1.05 s/step on one thread of this 2-core CPU when alone (≈35 min for 2000 steps); the real run shared "
    "the CPU "
    "with other jobs and was resumed once across sessions, so its wall time was longer",
    val=h.get("val", []),
    nan_skipped=h.get("nan_skipped", 0),
)
save_safetensors(t, "data_samples/priors/a2e_cpu.safetensors", {k: v for k, v in meta.items() if k != "format_version"})
print({k: v for k, v in meta.items() if k not in ("val", "a2e_config")})
