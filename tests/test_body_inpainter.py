"Body inpainter version 2 (clean plate): file compatibility with version 1, caching, crops, errors."

import pytest
import torch

from ggtalker_nb.adapt.inpainter import (
    INPAINTER_VERSION,
    Inpainter,
    band_box,
    compose,
    fit_inpainter,
    inpainter_inputs,
    pushpull_fill,
    refit_body,
    seam_flicker_parts,
)
from ggtalker_nb.avatar.body import BodyModel
from ggtalker_nb.core import AssetError, InputError, save_safetensors


def _scene(T=3, H=48, W=40, seed=0):
    g = torch.Generator().manual_seed(seed)
    fr = torch.rand(T, H, W, 3, generator=g)
    ms = torch.zeros(T, H, W, dtype=torch.bool)
    ms[:, 12:30, 10:26] = True
    return fr, ms, torch.cat([fr * ms[..., None], ms[..., None].float()], -1)


def test_version1_file_loads_as_version1(tmp_path):
    "A body file written before version 2 (config without norm/prefill/gate/version) rebuilds the GroupNorm net."
    torch.manual_seed(0)
    fr, ms, hd = _scene()
    old = Inpainter((8, 16), mask_residual=True).eval()
    cfg = dict(widths=[8, 16], in_ch=8, mask_residual=True)  # exactly what version 1 stored
    t = {f"inpainter.{k}": v for k, v in old.state_dict().items()}
    t["frames"] = (fr * 255).to(torch.uint8)
    import numpy as np

    t["mask_bits"] = torch.from_numpy(np.packbits(ms.numpy(), axis=None))
    save_safetensors(
        t,
        tmp_path / "body.safetensors",
        dict(kind="ggtalker-body", inpainter=cfg, radius_px=2, mask_shape=list(ms.shape)),
    )
    b = BodyModel.load(tmp_path / "body.safetensors")
    assert b.inpainter.norm == "group" and not b.inpainter.prefill and b.inpainter.head_input
    with torch.no_grad():
        torch.testing.assert_close(
            b.compose(hd, "loop"), compose(old, hd, b.frames.float() / 255, b.masks, "loop", radius_px=2)
        )


def test_newer_version_refused(tmp_path):
    fr, ms, _ = _scene()
    b = BodyModel(Inpainter.light((8, 16)), (fr * 255).to(torch.uint8), ms, 2)
    b.inpainter.config["version"] = INPAINTER_VERSION + 1
    b.save(tmp_path / "body.safetensors")
    with pytest.raises(AssetError, match="newer"):
        BodyModel.load(tmp_path / "body.safetensors")


def test_version2_roundtrip_and_cache(tmp_path):
    torch.manual_seed(0)
    fr, ms, hd = _scene()
    net = Inpainter.light((8, 16, 16), out_init_std=0.1).eval()
    b = BodyModel(net, (fr * 255).to(torch.uint8), ms, 3)
    b.save(tmp_path / "b.safetensors")
    b2 = BodyModel.load(tmp_path / "b.safetensors")
    assert b2.inpainter.config == net.config
    with torch.no_grad():
        v = b.compose(hd, "loop")
        v2 = b2.compose(hd, "loop")
    torch.testing.assert_close(v, v2)
    assert len(b2.inpainter._plates) == 3
    with torch.no_grad():
        v3 = b2.compose(hd[[2, 1, 0, 2]], "loop")  # cached plates, other heads
    body = b2.frames.float() / 255
    mf, keep = inpainter_inputs(body, b2.masks, 3)
    with torch.no_grad():
        plate = b2.inpainter.plate(mf, keep)
    torch.testing.assert_close(v3, Inpainter.composite(hd[[2, 1, 0, 2]], plate[[0, 1, 2, 0]]).clamp(0, 1))


def test_crop_equals_whole_frame_and_only_band_changes():
    torch.manual_seed(1)
    fr, ms, hd = _scene(2, 80, 72)
    net = Inpainter.light((8, 16, 16), out_init_std=0.1).eval()
    mf, keep = inpainter_inputs(fr, ms, 4)
    with torch.no_grad():
        torch.testing.assert_close(net.plate(mf, keep), net.plate(mf, keep, crop=False), atol=1e-5, rtol=0)
        p = net.plate(mf, keep)
    torch.testing.assert_close(p[keep.bool()], fr[keep.bool()])


def test_pushpull_properties():
    g = torch.Generator().manual_seed(3)
    img, w = torch.rand(1, 33, 31, 3, generator=g), (torch.rand(1, 33, 31, generator=g) > 0.8).float()
    f = pushpull_fill(img, w)
    torch.testing.assert_close(f[w.bool()], img[w.bool()])
    assert f.min() >= img[w.bool()].min() - 1e-6 and f.max() <= img[w.bool()].max() + 1e-6
    with pytest.raises(InputError, match="weight"):
        pushpull_fill(img, w[:, :5])


def test_band_box():
    r = torch.zeros(20, 30, dtype=torch.bool)
    r[5, 7] = True
    assert band_box(r, 2, 4) == ((0, 8), (4, 12))
    assert band_box(torch.zeros(3, 3, dtype=torch.bool), 1) is None


def test_fit_improves_on_prefill_and_refit(tmp_path):
    "Training on crops lowers the band error below the push-pull fill's; refit_body keeps the body's frames and masks."
    from ggtalker_nb.adapt.inpainter import band_l1

    torch.manual_seed(0)
    T, H, W = 6, 40, 40
    yy, xx = torch.meshgrid(torch.linspace(0, 1, H), torch.linspace(0, 1, W), indexing="ij")
    fr = torch.stack([xx, yy, 0.5 * torch.ones_like(xx)], -1).expand(T, H, W, 3).clone()
    fr[:, 28:, :] = torch.tensor([0.1, 0.6, 0.3])  # a "shirt" the blanked band cuts into
    ms = torch.zeros(T, H, W, dtype=torch.bool)
    ms[:, 10:28, 14:26] = True
    hd = torch.cat([fr * ms[..., None], ms[..., None].float()], -1)
    net = Inpainter.light((8, 16, 16)).eval()
    before = band_l1(net, fr, hd, ms, 3)
    fit_inpainter(net, fr, hd, ms, steps=60, lr=5e-3, radius_px=3, batch_size=4, crop=32)
    after = band_l1(net, fr, hd, ms, 3)
    assert after < 0.7 * before, (before, after)
    occ = torch.zeros_like(ms)
    occ[:, 26:28, 14:26] = True  # the shirt over the lowest rows of the head
    b = BodyModel(Inpainter((8, 16)), (fr * 255).to(torch.uint8), ms, 3, occluders=occ)
    nb = refit_body(b, steps=3, widths=(8, 16), crop=32)
    assert nb.inpainter.config["version"] == INPAINTER_VERSION and len(nb.history) == 3
    assert torch.equal(nb.frames, b.frames) and torch.equal(nb.masks, b.masks) and nb.radius_px == 3
    assert torch.equal(nb.occluders, occ)


def test_fixed_body_frame_changes_only_where_the_head_moves():
    "Over one fixed body frame the version-2 composite is still wherever the head's alpha is still (no plate flicker)."
    g = torch.Generator().manual_seed(3)
    net = Inpainter.light((8, 8, 8), out_init_std=0.1).eval()
    body = torch.rand(2, 48, 48, 3, generator=g)
    bmask = torch.zeros(2, 48, 48, dtype=torch.bool)
    bmask[:, 14:34, 16:32] = True
    heads = torch.zeros(5, 48, 48, 4)
    hmask = torch.zeros(5, 48, 48, dtype=torch.bool)
    for t in range(5):
        hmask[t, 12:32, 14 + t : 30 + t] = True
    heads[..., :3] = torch.rand(5, 48, 48, 3, generator=g) * hmask[..., None]
    heads[..., 3] = hmask.float()
    out = compose(net, heads, body, bmask, "fixed", radius_px=3)
    still = ~(hmask[1:] | hmask[:-1])
    assert torch.equal(out[1:][still], out[:-1][still])
    sp = seam_flicker_parts(out, hmask, 3)
    assert sp["static"] == 0.0 and sp["edge"] > 0
