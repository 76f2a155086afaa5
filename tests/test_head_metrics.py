"""Head-pixel PSNR/SSIM are the primary image figures: no ground-truth pixel outside the head enters the prediction,
and the adaptation's evaluation figure (`psnr_eval`, which time-to-PSNR and the identity summary read) is that
figure."""

import torch

from ggtalker_nb.adapt.ev import head_metrics
from ggtalker_nb.metrics import psnr


def _scene(seed=0, H=40, W=48):
    g = torch.Generator().manual_seed(seed)
    img = torch.rand(2, H, W, 3, generator=g)
    m = torch.zeros(2, H, W, dtype=torch.bool)
    m[:, 10:30, 12:36] = True
    return img, m


def test_perfect_head_scores_perfectly_whatever_the_background():
    img, m = _scene()
    rgba = torch.cat([img * m[..., None], m[..., None].float()], -1)  # the true head, premultiplied, alpha = mask
    p, s = head_metrics(rgba, img, m)
    assert torch.all(p > 100) and torch.allclose(s, torch.ones(2, dtype=s.dtype))
    img2 = img.clone()
    img2[~m] = torch.rand(int((~m).sum()), 3)  # other background, same head
    p2, s2 = head_metrics(rgba, img2, m)
    torch.testing.assert_close((p2, s2), (p, s))


def test_a_missing_head_is_not_rescued_by_the_background():
    "The old full-frame figure pasted the ground truth outside the mask, so an empty render still scored well there."
    img, m = _scene(1)
    empty = torch.zeros(2, *img.shape[1:3], 4)
    p, s = head_metrics(empty, img, m)
    pasted = empty[..., :3] + img * (~m)[..., None]  # the old definition
    assert float(psnr(pasted, img).mean()) > float(p.mean()) + 3  # the paste inflated it by > 3 dB here
    assert float(s.mean()) < 0.1


def test_spill_outside_the_head_lowers_head_ssim():
    img, m = _scene(2)
    good = torch.cat([img * m[..., None], m[..., None].float()], -1)
    spill = good.clone()
    spill[:, 8:10, 12:36] = torch.tensor([1.0, 1.0, 1.0, 1.0])  # a bright band just outside the mask
    assert float(head_metrics(spill, img, m)[1].mean()) < float(head_metrics(good, img, m)[1].mean()) - 1e-3


def test_adaptation_history_reports_head_pixels():
    "adapt_ev's evaluation: psnr_eval/ssim_eval are the head-pixel figures (tiny run on the mini identity)."
    from ggtalker_nb.adapt.ev import EVAdaptConfig, adapt_ev
    from ggtalker_nb.core import data_samples_path

    mini = data_samples_path("synthtalk_mini", must_exist=True)
    torch.set_num_threads(1)
    cfg = EVAdaptConfig(
        uv_res=16,
        image_size=48,
        phase1_steps=2,
        phase2_steps=0,
        eval_every=2,
        eval_frames=2,
        progress=False,
        ckpt_every=0,
    )
    r = adapt_ev([mini / "id0002_c000"], None, cfg, eval_clips=[mini / "id0002_c001"])
    h = r.history[-1]
    assert h["psnr_eval"] == h["psnr_head"] and h["ssim_eval"] == h["ssim_head"] and 0 < h["ssim_head"] <= 1
