"Parity tests of `ggtalker_nb.render.gaussians` against gsplat's pure-torch pieces and an independent per-pixel loop."

import pytest
import torch
import torch.nn.functional as F

from gsplat.cuda._torch_impl import _fully_fused_projection, _quat_scale_to_covar_preci, _spherical_harmonics

from ggtalker_nb.core import InputError, MissingDependencyError
from ggtalker_nb.geometry import Camera, Gaussians, orbit_camera
from ggtalker_nb.render.gaussians import (
    ALPHA_MAX,
    ALPHA_MIN,
    T_MIN,
    eval_sh,
    gaussian_head_scene,
    plan_tiles,
    project_gaussians,
    render,
    render_reference,
)

F64 = torch.float64


def loop_reference(g: Gaussians, cam: Camera, sh_degree=None):
    """Independent reference for unbatched Gaussians (N,) and cameras (C,): gsplat's torch projection + SH, then for
    every pixel a front-to-back loop over all Gaussians with gsplat's rules. Returns rgb, alpha, depth (C, H, W, ·)."""
    vm, K = cam.viewmat.reshape(-1, 4, 4), cam.K.reshape(-1, 3, 3)
    covars, _ = _quat_scale_to_covar_preci(g.quats, g.scales, compute_preci=False)
    radii, m2, depth, con, _ = _fully_fused_projection(
        g.means, covars, vm, K, cam.width, cam.height, 0.3, cam.near, cam.far
    )
    ys, xs = torch.meshgrid(
        torch.arange(cam.height, dtype=F64) + 0.5, torch.arange(cam.width, dtype=F64) + 0.5, indexing="ij"
    )
    rgbs, alphas, depths = [], [], []
    for c in range(vm.shape[0]):
        if g.sh_degree is None:
            cols = g.colors
        else:
            campos = torch.linalg.inv(vm[c])[:3, 3]
            deg = g.sh_degree if sh_degree is None else sh_degree
            cols = (_spherical_harmonics(deg, g.means - campos, g.colors) + 0.5).clamp_min(0)
        z = depth[c]
        ok = (radii[c] > 0).all(-1) & (g.opacities >= ALPHA_MIN) & (z >= cam.near) & (z <= cam.far)
        T = torch.ones_like(xs)
        acc = torch.zeros(*xs.shape, 4, dtype=F64)
        done = torch.zeros_like(xs, dtype=torch.bool)
        for i in torch.argsort(z).tolist():
            if not ok[i]:
                continue
            dx, dy = m2[c, i, 0] - xs, m2[c, i, 1] - ys
            a, b, cc = con[c, i]
            s = 0.5 * (a * dx * dx + cc * dy * dy) + b * dx * dy
            al = (g.opacities[i] * torch.exp(-s)).clamp_max(ALPHA_MAX)
            use = (s >= 0) & (al >= ALPHA_MIN) & ~done
            nT = T * (1 - al)
            stop = use & (nT <= T_MIN)
            done, use = done | stop, use & ~stop
            f = torch.cat([cols[i], z[i : i + 1]])
            acc = acc + torch.where(use[..., None], (al * T)[..., None] * f, torch.zeros_like(acc))
            T = torch.where(use, nT, T)
        alpha = (1 - T)[..., None]
        rgbs.append(acc[..., :3])
        alphas.append(alpha)
        depths.append(acc[..., 3:] / alpha.clamp_min(1e-10))
    return torch.stack(rgbs), torch.stack(alphas), torch.stack(depths)


def scene(batch=(), n=300, seed=0, sh=None):
    "A small head with big splats (so pixels stop at T ≤ 1e-4), jittered per batch element, float64, requires_grad."
    base = gaussian_head_scene(n, seed=seed, scale_mm=(8.0, 20.0), dtype=F64)
    gen = torch.Generator().manual_seed(seed + 1)
    fields = [
        x.expand(*batch, *x.shape).clone() for x in (base.means, base.quats, base.scales, base.opacities, base.colors)
    ]
    fields[0] = fields[0] + 0.004 * torch.randn(fields[0].shape, generator=gen, dtype=F64)
    if sh is not None:
        shc = 0.3 * torch.randn(*batch, n, (sh + 1) ** 2, 3, generator=gen, dtype=F64)
        shc[..., 0, :] = (fields[4] - 0.5) / 0.28209479177387814
        fields[4] = shc
    return Gaussians(*[f.requires_grad_() for f in fields])


def params(g):
    return [g.means, g.quats, g.scales, g.opacities, g.colors]


CAMS = orbit_camera(
    torch.tensor([-20.0, 40.0]), torch.tensor([5.0, -10.0]), dist=0.7, fov_deg=22.0, width=30, height=26, dtype=F64
)


def grads(outs, ps, seed=3):
    gen = torch.Generator().manual_seed(seed)
    loss = sum((o * torch.randn(o.shape, generator=gen, dtype=F64)).sum() for o in outs)
    return torch.autograd.grad(loss, ps)


def test_projection_matches_gsplat_torch():
    g = scene(n=300, seed=5)
    cov_ref, _ = _quat_scale_to_covar_preci(g.quats, g.scales)
    torch.testing.assert_close(g.covariances(), cov_ref)
    pr = project_gaussians(
        g.means[None],
        g.quats[None],
        g.scales[None],
        g.opacities[None],
        CAMS.viewmat[None],
        CAMS.K[None],
        30,
        26,
        near=0.01,
        far=1e10,
    )
    radii, m2, d, con, _ = _fully_fused_projection(g.means, cov_ref, CAMS.viewmat, CAMS.K, 30, 26, 0.3, 0.01, 1e10)
    ok = (pr.radii[0] > 0).all(-1)
    assert ok.any()
    torch.testing.assert_close(pr.means2d[0][ok], m2[ok])
    torch.testing.assert_close(pr.conics[0][ok], con[ok])
    torch.testing.assert_close(pr.depths[0], d)
    assert not (ok & ~(radii > 0).all(-1)).any()
    # gradients of the projected quantities agree too (gsplat's torch pieces are plain autograd)
    ps = params(g)[:3]
    ours = grads([pr.means2d[0][ok], pr.conics[0][ok], pr.depths[0]], ps)
    theirs = grads([m2[ok], con[ok], d], ps)
    for a, b in zip(ours, theirs):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize("deg", [0, 1, 2, 3])
def test_sh_matches_gsplat(deg):
    gen = torch.Generator().manual_seed(deg)
    dirs = torch.randn(64, 3, generator=gen, dtype=F64)
    coeffs = torch.randn(64, 16, 3, generator=gen, dtype=F64)
    torch.testing.assert_close(eval_sh(deg, dirs, coeffs), _spherical_harmonics(deg, dirs, coeffs))


@pytest.mark.parametrize("batch", [(), (2,), (1, 2)])
def test_render_and_grads_match_loop_reference(batch):
    g = scene(batch)
    out = render(g, CAMS)
    assert out.rgb.shape == (*batch, 2, 26, 30, 3) and out.alpha.shape == out.depth.shape == (*batch, 2, 26, 30, 1)
    flat = [x.reshape(-1, *x.shape[len(batch) :]) for x in params(g)]
    refs = [loop_reference(Gaussians(*[x[b] for x in flat]), CAMS) for b in range(flat[0].shape[0])]
    ref = [torch.stack([r[k] for r in refs]).reshape(*batch, 2, 26, 30, -1) for k in range(3)]
    assert (ref[1] > 0.999).float().mean() > 0.1  # the T stop is exercised
    for a, b in zip((out.rgb, out.alpha, out.depth), ref):
        torch.testing.assert_close(a, b, atol=1e-4, rtol=0)
    for a, b in zip(grads((out.rgb, out.alpha, out.depth), params(g)), grads(ref, params(g))):
        torch.testing.assert_close(a, b, atol=1e-4 * max(1.0, float(b.abs().max())), rtol=1e-4)


@pytest.mark.parametrize("deg", [0, 1, 2, 3])
def test_sh_render_matches_loop_reference(deg):
    g = scene(n=80, sh=deg, seed=deg)
    out = render(g, CAMS)
    ref = loop_reference(g, CAMS)
    for a, b in zip((out.rgb, out.alpha, out.depth), ref):
        torch.testing.assert_close(a, b, atol=1e-4, rtol=0)
    for a, b in zip(grads((out.rgb, out.alpha, out.depth), params(g)), grads(ref, params(g))):
        torch.testing.assert_close(a, b, atol=1e-4 * max(1.0, float(b.abs().max())), rtol=1e-4)


def test_float32_matches_float64_reference():
    g = scene((2,), n=150)
    g32 = Gaussians(*[x.detach().float() for x in params(g)])
    out = render(g32, CAMS.to(torch.float32))
    ref = render_reference(g, CAMS)
    for k in ("rgb", "alpha", "depth"):
        torch.testing.assert_close(
            getattr(out, k).double(), getattr(ref, k), atol=1e-4 if k != "depth" else 1e-4 * 0.8, rtol=1e-4
        )


def test_gradcheck_tiny_scene():
    gen = torch.Generator().manual_seed(11)
    means = torch.tensor([[0.0, 0.0, 0.0], [0.02, 0.015, 0.04], [-0.025, -0.01, -0.03]], dtype=F64)
    quats = torch.randn(3, 4, generator=gen, dtype=F64)
    scales = torch.tensor([[0.02, 0.01, 0.015], [0.012, 0.018, 0.01], [0.015, 0.012, 0.02]], dtype=F64)
    ops = torch.tensor([0.5, 0.4, 0.6], dtype=F64)
    cols = torch.rand(3, 3, generator=gen, dtype=F64)
    cam = orbit_camera(-15.0, 10.0, dist=0.3, fov_deg=20.0, width=10, height=9, dtype=F64)

    def f(*xs):
        o = render(Gaussians(*xs), cam)
        return o.rgb, o.alpha, o.depth

    xs = tuple(x.clone().requires_grad_() for x in (means, quats, scales, ops, cols))
    assert (f(*xs)[1] > 0.05).float().mean() > 0.3
    assert torch.autograd.gradcheck(f, xs, eps=1e-6, atol=1e-5, rtol=1e-4, fast_mode=True)


def test_tile_lists_are_conservative_and_sorted():
    g = scene(n=200, seed=9)
    pr = project_gaussians(
        g.means[None].detach(),
        g.quats[None].detach(),
        g.scales[None].detach(),
        g.opacities[None].detach(),
        CAMS.viewmat[None],
        CAMS.K[None],
        30,
        26,
    )
    for c in range(2):
        plan = plan_tiles(
            pr.means2d[0, c : c + 1],
            pr.radii[0, c : c + 1],
            pr.depths[0, c : c + 1],
            30,
            26,
            8,
            pr.conics[0, c : c + 1],
            pr.opacities[0, c : c + 1],
        )
        ys, xs = torch.meshgrid(torch.arange(26, dtype=F64) + 0.5, torch.arange(30, dtype=F64) + 0.5, indexing="ij")
        m2, con, op = pr.means2d[0, c], pr.conics[0, c], pr.opacities[0, c]
        dx, dy = m2[:, 0, None, None] - xs, m2[:, 1, None, None] - ys
        sig = (
            0.5 * (con[:, 0, None, None] * dx * dx + con[:, 2, None, None] * dy * dy) + con[:, 1, None, None] * dx * dy
        )
        hit = (op[:, None, None] * torch.exp(-sig) >= ALPHA_MIN) & (pr.radii[0, c] > 0).all(-1)[:, None, None]
        t_of = torch.repeat_interleave(torch.arange(plan.count.numel()), plan.count)
        listed = torch.zeros(g.n, plan.tiles_y, plan.tiles_x, dtype=torch.bool)
        listed[plan.gids, t_of // plan.tiles_x, t_of % plan.tiles_x] = True
        need = F.pad(hit, (0, 2, 0, 6)).reshape(g.n, 4, 8, 4, 8).any(4).any(2)
        assert not (need & ~listed).any()
        for t in range(plan.count.numel()):
            assert (pr.depths[0, c, plan.gids[plan.start[t] : plan.start[t] + plan.count[t]]].diff() >= 0).all()


def test_auto_backend_on_cpu_is_numba_or_torch(monkeypatch):
    if torch.cuda.is_available():
        pytest.skip("this case is about machines without CUDA")
    import gsplat
    from ggtalker_nb.render import gaussians as RG

    def boom(*a, **k):
        raise AssertionError("gsplat.rasterization called without CUDA")

    monkeypatch.setattr(gsplat, "rasterization", boom)
    g = gaussian_head_scene(200)
    cam = orbit_camera(0.0, 0.0, dist=0.8, width=24, height=24)
    want = "numba" if RG._numba_kernels() is not None else "torch"
    assert torch.equal(render(g, cam).rgb, render(g, cam, backend=want).rgb)
    monkeypatch.setattr(RG, "_KERNELS", False)  # as if numba did not import: auto is the torch backend
    assert torch.equal(render(g, cam).rgb, render(g, cam, backend="torch").rgb)
    with pytest.raises(MissingDependencyError, match="numba"):
        render(g, cam, backend="numba")


def test_float32_camera_with_float64_gaussians():
    g = scene(n=100)
    for cam in (orbit_camera(10.0, 0.0, dist=0.7, width=20, height=16), CAMS.to(torch.float32)):
        out = render(g, cam, backend="torch")
        assert out.rgb.dtype == F64
        torch.testing.assert_close(out.rgb, render(g, cam.to(F64), backend="torch").rgb, atol=1e-6, rtol=0)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA tensors")
def test_auto_on_cuda_without_gsplat_falls_back_to_torch(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "gsplat" else real(name, *a))
    g = gaussian_head_scene(200, device="cuda")
    cam = orbit_camera(0.0, 0.0, dist=0.8, width=24, height=24, device="cuda")
    with pytest.warns(UserWarning, match="gsplat"):
        out = render(g, cam)
    torch.testing.assert_close(out.rgb, render(g, cam, backend="torch").rgb)
    with pytest.raises(MissingDependencyError, match="CUDA"):
        render(g, cam, backend="gsplat")


def test_bad_inputs():
    g = gaussian_head_scene(50)
    cam = orbit_camera(0.0, 0.0, dist=0.8, width=16, height=16)
    kw = dict(means=g.means, quats=g.quats, scales=g.scales, opacities=g.opacities, colors=g.colors)
    nan = g.means.clone()
    nan[3, 1] = float("nan")
    cases = [
        ({"means": nan}, "NaN"),
        ({"quats": g.quats[:10]}, "quats"),
        ({"opacities": g.opacities * 2}, "opacities"),
        ({"scales": -g.scales}, "scales"),
        ({"colors": g.colors[:, :2]}, "colors"),
        ({"colors": g.colors.double()}, "dtype"),
    ]
    for over, msg in cases:
        with pytest.raises(InputError, match=msg):
            render(Gaussians(**{**kw, **over}), cam)
    with pytest.raises(InputError, match="backend"):
        render(g, cam, backend="opengl")
    with pytest.raises(InputError, match="background"):
        render(g, cam, background=torch.zeros(16, 16, 2))
    with pytest.raises(InputError, match="batch"):
        render(g, orbit_camera(torch.zeros(3, 2), 0.0, width=8, height=8))
    with pytest.raises(InputError, match="sh_degree"):
        render(g, cam, sh_degree=2)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU for gsplat's rasterizer")
def test_torch_backend_matches_gsplat_cuda():
    g = gaussian_head_scene(20000, device="cuda")
    for x in params(g):
        x.requires_grad_()
    cams = orbit_camera(
        torch.tensor([0.0, 45.0]),
        torch.tensor([5.0, 10.0]),
        dist=0.8,
        fov_deg=20.0,
        width=256,
        height=192,
        device="cuda",
    )
    o_gs, o_pt = render(g, cams, backend="gsplat"), render(g, cams, backend="torch")
    for k in ("rgb", "alpha"):
        torch.testing.assert_close(getattr(o_gs, k), getattr(o_pt, k), atol=2e-3, rtol=0)
    m = (o_gs.alpha > 0.5) & (o_pt.alpha > 0.5)
    torch.testing.assert_close(o_gs.depth[m], o_pt.depth[m], atol=2e-3, rtol=0)
    cot = torch.randn_like(o_gs.rgb)
    g1 = torch.autograd.grad((o_gs.rgb * cot).sum() + o_gs.alpha.sum(), params(g))
    g2 = torch.autograd.grad((o_pt.rgb * cot).sum() + o_pt.alpha.sum(), params(g))
    for a, b in zip(g1, g2):
        assert F.cosine_similarity(a.flatten(), b.flatten(), dim=0) > 0.99


def test_capped_alpha_matches_loop_reference():
    "Opacity 1 makes α = min(0.999, ·) cap near centres: values and (zero) gradients there must agree too."
    g = scene(n=200, seed=4)
    with torch.no_grad():
        g.opacities[::3] = 1.0
    out = render(g, CAMS)
    ref = loop_reference(g, CAMS)
    for a, b in zip((out.rgb, out.alpha, out.depth), ref):
        torch.testing.assert_close(a, b, atol=1e-4, rtol=0)
    for a, b in zip(grads((out.rgb, out.alpha, out.depth), params(g)), grads(ref, params(g))):
        torch.testing.assert_close(a, b, atol=1e-4 * max(1.0, float(b.abs().max())), rtol=1e-4)
    # the same with the backward recomputing every block (no forward blocks kept)
    out, ref = render(g, CAMS, cache_mb=0), loop_reference(g, CAMS)
    for a, b in zip(grads((out.rgb, out.alpha, out.depth), params(g)), grads(ref, params(g))):
        torch.testing.assert_close(a, b, atol=1e-4 * max(1.0, float(b.abs().max())), rtol=1e-4)
