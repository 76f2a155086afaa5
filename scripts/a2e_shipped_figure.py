"""Figure of 43_a2e.eval (session 9): the mouth signals of one held-out sentence, the ground truth against the
regression baseline, three samples of the shipped prior and the previous prior.

    git show 35e0568:data_samples/priors/a2e_cpu.safetensors > /tmp/a2e_cpu_old.safetensors
    python scripts/a2e_shipped_figure.py /tmp/a2e_cpu_old.safetensors     # -> nbs/images/a2e_shipped.png"""

import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from ggtalker_nb.a2e.eval import STYLE_SIGNALS, _fit_last, load_any, predict_motion, style_signals  # noqa: E402
from ggtalker_nb.data.video import ClipReader, list_clips  # noqa: E402
from ggtalker_nb.flame import FLAME  # noqa: E402
from ggtalker_nb.sample_head import load_sample_head  # noqa: E402

torch.set_num_threads(1)
OLD = sys.argv[1]
FL = FLAME(load_sample_head())
clip = [c for c in list_clips("data/synthtalk_a2e") if ClipReader(c).meta["split"] == "test_sentence"][0]
r = ClipReader(clip)
tr = r.flame_clean if r.flame_clean is not None else r.flame
truth = torch.cat([_fit_last(torch.as_tensor(tr.expr), 50), torch.as_tensor(tr.jaw)], -1).float()
T = len(truth)


def motion(src, n=1, seed=0):
    model, enc, _, names = load_any(src)
    row = names.index(r.identity)
    return predict_motion(model, enc, r.audio, row, n, 10, "ddim", (1.0, 2.0), seed, n_frames=T)


curves = [
    ("ground truth", [truth], dict(color="k", lw=2.2)),
    ("regression baseline (912 clips)", motion("runs/a2e_big_regression_s0/final.safetensors"), dict(color="tab:blue")),
    ("shipped prior, 3 samples", motion("data_samples/priors/a2e_cpu.safetensors", 3), dict(color="tab:red", lw=1)),
    ("previous prior (x0, 144 clips)", motion(OLD), dict(color="tab:gray", ls="--")),
]
fig, axes = plt.subplots(len(STYLE_SIGNALS), 1, figsize=(9, 6.5), sharex=True)
t = torch.arange(T) / 25.0
for ax, (j, name) in zip(axes, enumerate(STYLE_SIGNALS)):
    for label, ms, kw in curves:
        for k, m in enumerate(ms):
            ax.plot(t, style_signals(FL, m, 50)[:, j], label=label if k == 0 else None, **kw)
    ax.set_ylabel(f"{name.replace('_', ' ')} (mm)")
axes[0].legend(fontsize=8, ncol=2, loc="upper right")
axes[-1].set_xlabel("seconds")
fig.suptitle(
    f"Held-out sentence {clip.name} ({r.identity}'s own voice): mouth signals on the neutral head", fontsize=10
)
fig.tight_layout()
fig.savefig("nbs/images/a2e_shipped.png", dpi=90)
print("wrote nbs/images/a2e_shipped.png")
