"""Texel ellipses (#16 stripes): on the sample head's real atlas each Gaussian's tangent covariance is the texel's own
patch."""

import math

import torch

from ggtalker_nb.data.synthtalk import sample_head_flame
from ggtalker_nb.e2v.generator import E2VConfig, IdentityGaussianGenerator, texel_points
from ggtalker_nb.gaussians.uvmap import texel_ellipses, uv_texel_table, uvmap_to_gaussians
from ggtalker_nb.metrics import stripe_energy


def _head():
    fl = sample_head_flame()
    return fl, uv_texel_table(fl.vt, fl.ft, 256)


def test_covariance_is_the_neighbour_steps():
    "Where a texel and its right and lower neighbours lie in one triangle, Σ_tangent = c²(d_r d_rᵀ + d_d d_dᵀ) exactly."
    fl, tab = _head()
    V = fl.v_template.double()
    log_s, q = texel_ellipses(tab, V, fl.faces, fl.vt, fl.ft, scale_factor=0.6, normal_scale=1e-3)
    pts, _ = texel_points(V, fl.faces, tab)
    U, W = tab.resolution
    idx = tab.index
    right = torch.where(tab.cols + 1 < W, idx[tab.rows, (tab.cols + 1).clamp(max=W - 1)], -1)
    down = torch.where(tab.rows + 1 < U, idx[(tab.rows + 1).clamp(max=U - 1), tab.cols], -1)
    same = (right >= 0) & (down >= 0)
    same &= (tab.face_id[right.clamp_min(0)] == tab.face_id) & (tab.face_id[down.clamp_min(0)] == tab.face_id)
    sel = same.nonzero()[:, 0]
    assert len(sel) > 100
    dr, dd = pts[right[sel]] - pts[sel], pts[down[sel]] - pts[sel]
    want = 0.36 * (dr[:, :, None] * dr[:, None] + dd[:, :, None] * dd[:, None])
    from ggtalker_nb.geometry import quat_to_matrix, triangle_frames

    R = triangle_frames(V, fl.faces)[0][tab.face_id[sel]] @ quat_to_matrix(q[sel].double())
    S = torch.diag_embed(torch.exp(2 * log_s[sel].double()))
    got = R @ S @ R.transpose(-1, -2)
    torch.testing.assert_close(got, want, atol=1e-11, rtol=1e-5)  # (the normal axis adds ~1e-13)


def test_generator_base_follows_the_atlas():
    """The anisotropic generator's initial Gaussians are the texel ellipses; a config without `footprint` is the old
    round one."""
    fl, _ = _head()
    cfg = E2VConfig.tiny()
    gen = IdentityGaussianGenerator(fl, cfg)
    lg = uvmap_to_gaussians(gen.base[0], gen.table, fl.v_template, fl.faces, gen.spec)
    g = lg.to_world(fl.v_template, fl.faces)
    log_s, _ = texel_ellipses(gen.table, fl.v_template, fl.faces, fl.vt, fl.ft, cfg.scale_factor)
    keep = log_s.max(-1).values < math.log(gen.spec.scale_max) - 1e-3  # not clamped by the activation
    torch.testing.assert_close(g.scales.log()[keep], log_s[keep].float(), atol=1e-4, rtol=1e-4)
    old = E2VConfig.from_json({k: v for k, v in cfg.to_json().items() if k != "footprint"})
    assert old.footprint == "isotropic"
    s_old = (
        uvmap_to_gaussians(IdentityGaussianGenerator(fl, old).base[0], gen.table, fl.v_template, fl.faces)
        .to_world(fl.v_template, fl.faces)
        .scales
    )
    torch.testing.assert_close(s_old[:, 0], s_old[:, 2])  # round


def test_stripe_ratio_invariances():
    "Energy scales with contrast squared and ignores where the stripes start; a stripe-free copy gives 1."
    H = W = 128
    yy, xx = torch.meshgrid(torch.arange(H) + 0.5, torch.arange(W) + 0.5, indexing="ij")
    base = 0.5 + 0.1 * torch.sin(xx / 9) + 0.02 * torch.randn(H, W, generator=torch.Generator().manual_seed(1))
    ctr = torch.stack(torch.meshgrid(torch.arange(0, 128, 2.0), torch.arange(0, 128, 3.0), indexing="xy"), -1).reshape(
        -1, 2
    )
    stp = torch.tensor([[2.0, 0.0], [0.0, 3.0]]).expand(len(ctr), 2, 2)
    mask = torch.ones(H, W, dtype=torch.bool)
    s1 = 0.05 * torch.cos(2 * math.pi * yy / 3)
    s2 = 0.05 * torch.cos(2 * math.pi * (yy + 1.3) / 3)
    im = lambda *x: torch.stack(x)[..., None].expand(-1, -1, -1, 3)
    e, n = stripe_energy(im(base, base + s1, base + s2, 0.5 + 2 * (base - 0.5)), mask, ctr, stp)
    assert n > 0
    torch.testing.assert_close(e[1], e[2], rtol=0.05, atol=0)  # phase does not matter
    torch.testing.assert_close(e[3], 4 * e[0], rtol=1e-4, atol=0)  # contrast ×2 → energy ×4
    assert e[1] > 20 * e[0]
