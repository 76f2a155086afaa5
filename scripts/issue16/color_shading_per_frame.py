# how the expression shading is spread over the held-out clip's frames (issue #16.4): per-frame mouth-region MSE between
# the shaded and the unshaded renders of id0002_c002 (same motion), and the share carried by the most-shaded frames
# run from the repository root: PYTHONPATH=. python scripts/issue16/color_shading_per_frame.py
import json

import numpy as np
import torch

from ggtalker_nb.adapt.color import mouth_mask
from ggtalker_nb.data.video import ClipReader

c = "id0002_c002"
sa, sb = ClipReader(f"data/synthtalk_shaded/{c}"), ClipReader(f"data/synthtalk_unshaded/{c}")
fa, fb = torch.from_numpy(sa.frames()).float() / 255, torch.from_numpy(sb.frames()).float() / 255
ms = torch.from_numpy(np.asarray(sa.masks)).bool()
mm = mouth_mask(torch.as_tensor(sa.landmarks), ms)
mse = torch.stack([((fa[t] - fb[t]) ** 2).mean(-1)[mm[t]].mean() for t in range(len(fa))]).numpy()
srt = np.sort(mse)[::-1]
share = lambda k: float(srt[:k].sum() / srt.sum())
widest = mm.flatten(1).sum(1).argsort(descending=True)[:4].sort().values.tolist()
out = dict(
    frames=len(mse),
    share_top10pct=share(max(1, len(mse) // 10)),
    share_top25pct=share(max(1, len(mse) // 4)),
    median_over_mean=float(np.median(mse) / mse.mean()),
    widest_mouth_frames=widest,
    widest_share=float(mse[widest].sum() / mse.sum()),
)
json.dump(out, open("runs/color/shading_per_frame.json", "w"), indent=1)
print(out)
