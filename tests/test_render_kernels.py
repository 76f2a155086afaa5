"Parity of the compiled (numba) rasterizer backend with the torch backend (the reference twin): images and gradients."

import pytest
import torch

pytest.importorskip("numba")

from ggtalker_nb.geometry import Gaussians, orbit_camera
from ggtalker_nb.render import gaussians as RG
from ggtalker_nb.render import kernels as RK
from ggtalker_nb.render.gaussians import gaussian_head_scene, plan_tiles, project_gaussians, render

F64 = torch.float64
KEYS = ("rgb", "alpha", "depth")


def params(g):
    return [g.means, g.quats, g.scales, g.opacities, g.colors]


def scene(batch=(), n=300, seed=0, scale_mm=(8.0, 20.0), dtype=F64, sh=None):
    "A head scene with a leading batch (each element jittered), requires_grad."
    base = gaussian_head_scene(n, seed=seed, scale_mm=scale_mm, dtype=dtype)
    gen = torch.Generator().manual_seed(seed + 1)
    f = [x.expand(*batch, *x.shape).clone() for x in params(base)]
    f[0] = f[0] + 0.004 * torch.randn(f[0].shape, generator=gen, dtype=dtype)
    if sh is not None:
        shc = 0.3 * torch.randn(*batch, n, (sh + 1) ** 2, 3, generator=gen, dtype=dtype)
        shc[..., 0, :] = (f[4] - 0.5) / 0.28209479177387814
        f[4] = shc
    return Gaussians(*[x.requires_grad_() for x in f])


def edge_scene(dtype=F64):
    """Gaussians behind the camera, beyond the far plane, off-screen, tiny (sub-pixel), huge, opaque (α capped), and a
    normal head."""
    g = scene(n=200, seed=3, dtype=dtype)
    m, q, s, o, c = (x.detach().clone() for x in params(g))
    m[0] = torch.tensor([0.0, 0.0, 1.5])
    m[1] = torch.tensor([0.0, 0.0, 0.79])  # behind the camera / just in front of it
    m[2] = torch.tensor([2.0, 0.0, 0.0])
    m[3] = torch.tensor([0.0, -3.0, 0.0])  # off-screen
    s[4:8] = 1e-5  # tiny
    s[8] = torch.tensor([0.3, 0.25, 0.01])
    o[8] = 0.3  # huge (covers the image)
    o[9:40:3] = 1.0  # capped α
    o[40:45] = 0.0
    o[45:50] = 1.0 / 255  # invisible / at the threshold
    return Gaussians(*[x.requires_grad_() for x in (m, q, s, o, c)])


def compare(g, cam, atol=1e-10, gtol=1e-9, seed=0, **kw):
    o1, o2 = render(g, cam, backend="numba", **kw), render(g, cam, backend="torch", **kw)
    for k in KEYS:
        torch.testing.assert_close(getattr(o1, k), getattr(o2, k), atol=atol, rtol=0)
    gen = torch.Generator().manual_seed(seed)
    cot = [torch.randn(getattr(o1, k).shape, generator=gen, dtype=o1.rgb.dtype) for k in KEYS]
    G = [torch.autograd.grad(sum((getattr(o, k) * c).sum() for k, c in zip(KEYS, cot)), params(g)) for o in (o1, o2)]
    for a, b in zip(*G):
        torch.testing.assert_close(a, b, atol=gtol * max(1.0, float(b.abs().max())), rtol=gtol * 100)
    return o1


def test_constants_match_torch_backend():
    assert (RK.ALPHA_MIN, RK.ALPHA_MAX, RK.T_MIN) == (RG.ALPHA_MIN, RG.ALPHA_MAX, RG.T_MIN)
    assert RK.ALPHA_KEEP == RG._ALPHA_KEEP


@pytest.mark.parametrize("dtype", [F64, torch.float32])
@pytest.mark.parametrize("tile", [8, 16])
def test_bin_tiles_equals_plan_tiles(dtype, tile):
    g = scene((2,), n=400, seed=2, scale_mm=(2.0, 12.0), dtype=dtype)
    cams = orbit_camera(
        torch.tensor([-20.0, 40.0]),
        torch.tensor([5.0, -10.0]),
        dist=0.7,
        fov_deg=22.0,
        width=61,
        height=47,
        dtype=dtype,
    )
    vm, K = cams.viewmat.expand(2, 2, 4, 4), cams.K.expand(2, 2, 3, 3)
    pr = project_gaussians(*(x.detach() for x in (g.means, g.quats, g.scales, g.opacities)), vm, K, 61, 47)
    a = [x.reshape(4, 400, -1).squeeze(-1) for x in (pr.means2d, pr.radii, pr.depths, pr.conics, pr.opacities)]
    plan = plan_tiles(a[0], a[1], a[2], 61, 47, tile, a[3], a[4])
    gids, start, count = RK.bin_tiles(a[0], a[1], a[2], 61, 47, tile, a[3], a[4])
    assert torch.equal(count, plan.count) and torch.equal(start, plan.start) and torch.equal(gids, plan.gids)


@pytest.mark.parametrize("batch", [(), (2,), (1, 2)])
def test_batches_and_cameras(batch):
    g = scene(batch)
    cams = orbit_camera(
        torch.tensor([-20.0, 40.0]), torch.tensor([5.0, -10.0]), dist=0.7, fov_deg=22.0, width=30, height=26, dtype=F64
    )
    out = compare(g, cams)
    assert out.rgb.shape == (*batch, 2, 26, 30, 3)
    assert (out.alpha > 0.999).float().mean() > 0.1  # the T ≤ 1e-4 stop is exercised


@pytest.mark.parametrize("n,res,tile", [(50, 17, 8), (600, 40, 8), (2000, 64, 16), (3000, 33, 4)])
def test_sizes_and_tiles(n, res, tile):
    g = scene(n=n, seed=n, scale_mm=(1.0, 10.0))
    cam = orbit_camera(25.0, -5.0, dist=0.7, fov_deg=22.0, width=res, height=res + 3, dtype=F64)
    compare(g, cam, tile=tile, background=(0.2, 0.4, 0.6))


def test_edge_cases_unbatched_camera_and_background_image():
    g = edge_scene()
    cam = orbit_camera(0.0, 0.0, dist=0.8, fov_deg=25.0, width=37, height=29, dtype=F64)
    bg = torch.rand(29, 37, 3, dtype=F64)
    out = compare(g, cam, background=bg)
    assert out.rgb.shape == (29, 37, 3)


@pytest.mark.parametrize("deg", [1, 3])
def test_sh_colours(deg):
    g = scene(n=120, sh=deg, seed=deg)
    cams = orbit_camera(
        torch.tensor([-20.0, 40.0]), torch.tensor([5.0, -10.0]), dist=0.7, fov_deg=22.0, width=30, height=26, dtype=F64
    )
    compare(g, cams)


def test_empty_and_all_culled():
    cam = orbit_camera(0.0, 0.0, dist=0.8, width=20, height=12, dtype=F64)
    g = scene(n=30)
    far = Gaussians(*[x.detach().clone() for x in params(g)])
    far.means[:] = torch.tensor([0.0, 0.0, 5.0], dtype=F64)  # all behind the camera
    out = render(far, cam, backend="numba")
    assert float(out.alpha.abs().sum() + out.rgb.abs().sum()) == 0.0
    empty = Gaussians(*[x[:0].detach() for x in params(g)])
    assert render(empty, cam, backend="numba").rgb.shape == (12, 20, 3)


def test_float32_head_scene():
    """float32 at a realistic size: the two backends agree to ≤ 1e-5 on most pixels (rounding can flip a threshold on a
    few)."""
    g = gaussian_head_scene(5000)
    cam = orbit_camera(20.0, 5.0, dist=0.8, fov_deg=20.0, width=96, height=96)
    o1, o2 = render(g, cam, backend="numba"), render(g, cam, backend="torch")
    for k in ("rgb", "alpha"):
        d = (getattr(o1, k) - getattr(o2, k)).abs()
        assert float(d.max()) < 1e-3 and float((d > 1e-5).float().mean()) < 1e-3
    torch.testing.assert_close(
        o1.rgb.double(), render(gaussian_head_scene(5000, dtype=F64), cam, backend="numba").rgb, atol=1e-4, rtol=0
    )


def test_threads_follow_torch():
    old = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        assert RK.set_threads() == 1
        g = scene(n=100)
        cam = orbit_camera(0.0, 0.0, dist=0.8, width=24, height=24, dtype=F64)
        one = render(g, cam, backend="numba").rgb
        torch.set_num_threads(2)
        assert RK.set_threads() == min(2, RK.nb.config.NUMBA_NUM_THREADS)
        assert torch.equal(one, render(g, cam, backend="numba").rgb)  # deterministic whatever the thread count
    finally:
        torch.set_num_threads(old)


def test_numba_backend_refuses_cuda_and_bad_backend():
    g = scene(n=10)
    cam = orbit_camera(0.0, 0.0, dist=0.8, width=8, height=8, dtype=F64)
    with pytest.raises(Exception, match="backend"):
        render(g, cam, backend="cuda-numba")
    if torch.cuda.is_available():
        with pytest.raises(Exception, match="CPU"):
            render(g.to("cuda"), cam.to("cuda"), backend="numba")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_branch_free_exp(dtype):
    "The kernels' vectorisable exp on [−6, 0] against numpy's: float32 to its rounding, float64 to ≤ 5e-13 relative."
    import numba as nb
    import numpy as np

    C = RK._kernel_consts(dtype)
    run = nb.njit(lambda xs, C: np.array([RK._exp_le0(x, RK._consts_tuple(C)) for x in xs]))
    xs = np.concatenate([np.linspace(-6.0, 0.0, 200001), -np.log(2) * np.arange(10), [-0.0]]).astype(dtype)
    got, ref = run(xs, C), np.exp(xs.astype(np.float64))
    assert got.dtype == np.dtype(dtype)
    assert float(np.max(np.abs(got - ref) / ref)) < (4e-7 if dtype == "float32" else 5e-13)


def test_depth_order_is_stable_with_ties_and_signed_zero():
    "float32 depths are sorted as packed (depth bits, index) keys: the same order as a stable argsort, ties by index."
    import numpy as np

    g = np.random.default_rng(0)
    d = g.choice(
        np.array([-1.5, -0.0, 0.0, 0.25, 0.25, 1.0, 3.0e-39, 7.5], np.float32), size=(3, 500)
    )  # ties, ±0, subnormal
    radii = g.integers(0, 3, size=(3, 500, 2)).astype(np.int32)
    flat, off = RK._depth_order(radii, d)
    for i in range(3):
        vis = np.flatnonzero((radii[i] > 0).all(-1))
        ref = vis[np.argsort(d[i, vis].astype(np.float64), kind="stable")] + i * 500
        assert np.array_equal(flat[off[i] : off[i + 1]], ref)
    f64, off64 = RK._depth_order(radii, d.astype(np.float64))
    assert np.array_equal(f64, flat) and np.array_equal(off64, off)


def test_float32_gradients_match_torch_backend():
    """float32 (the fast path): images ≤ 1e-5 on nearly every pixel and gradients to float32 rounding against the torch
    backend."""
    g = scene((2,), n=400, seed=5, dtype=torch.float32)
    cams = orbit_camera(
        torch.tensor([-20.0, 40.0]), torch.tensor([5.0, -10.0]), dist=0.7, fov_deg=22.0, width=40, height=36
    )
    o1, o2 = render(g, cams, backend="numba"), render(g, cams, backend="torch")
    for k in ("rgb", "alpha"):
        d = (getattr(o1, k) - getattr(o2, k)).detach().abs()
        assert float((d > 1e-5).float().mean()) < 2e-3 and float(d.max()) < 5e-3
    gen = torch.Generator().manual_seed(0)
    cot = [torch.randn(getattr(o1, k).shape, generator=gen) for k in ("rgb", "alpha")]
    G = [
        torch.autograd.grad(sum((getattr(o, k) * c).sum() for k, c in zip(("rgb", "alpha"), cot)), params(g))
        for o in (o1, o2)
    ]
    for a, b in zip(*G):
        assert float((a - b).norm() / b.norm()) < 2e-3


@pytest.mark.parametrize("aa", [False, True])
def test_inference_path_compiled_projection(aa):
    """Without gradients the numba backend projects with `kernels.project`: the same images as the torch backend
    (float64)."""
    g = edge_scene()
    cams = orbit_camera(
        torch.tensor([-20.0, 40.0]), torch.tensor([5.0, -10.0]), dist=0.7, fov_deg=22.0, width=37, height=29, dtype=F64
    )
    with torch.no_grad():
        o1, o2 = render(g, cams, backend="numba", antialiased=aa), render(g, cams, backend="torch", antialiased=aa)
    for k in KEYS:
        torch.testing.assert_close(getattr(o1, k), getattr(o2, k), atol=1e-10, rtol=0)
    sh = scene(n=120, sh=2, seed=4)
    with torch.no_grad():
        torch.testing.assert_close(
            render(sh, cams, backend="numba").rgb, render(sh, cams, backend="torch").rgb, atol=1e-10, rtol=0
        )


@pytest.mark.parametrize("field", ["means", "quats", "scales", "opacities", "colors"])
def test_non_finite_input_is_named(field):
    """render's one-sum finiteness pre-check still refuses NaN/inf with the exact message; huge finite values (sum
    overflow) pass."""
    g = Gaussians(*[x.detach().clone() for x in params(scene(n=50, dtype=torch.float32))])
    cam = orbit_camera(0.0, 0.0, dist=0.8, width=16, height=16)
    bad = Gaussians(*[x.clone() for x in params(g)])
    getattr(bad, field).view(-1)[7] = float("nan") if field != "colors" else float("inf")
    with pytest.raises(Exception, match=f"Gaussians.{field}"):
        render(bad, cam, backend="numba")
    huge = Gaussians(*[x.clone() for x in params(g)])
    huge.colors[:, 0] = 3e38  # finite, but the sum overflows to inf
    assert torch.isfinite(render(huge, cam, backend="numba").alpha).all()


def test_gradients_bit_identical_across_thread_counts():
    """Same inputs → the same image and gradient bits with 1 and 2 threads (tiles own their pairs; the pair sums use a
    fixed split)."""
    old = torch.get_num_threads()
    g = gaussian_head_scene(12000)
    ps = params(g)
    for x in ps:
        x.requires_grad_(True)
    cam = orbit_camera(20.0, 5.0, dist=0.8, fov_deg=20.0, width=192, height=192)

    def run():
        o = render(g, cam, backend="numba")
        cot = torch.randn(o.rgb.shape, generator=torch.Generator().manual_seed(0))
        return [o.rgb, o.alpha, *torch.autograd.grad((o.rgb * cot).sum() + o.alpha.sum() + o.depth.sum(), ps)]

    try:
        torch.set_num_threads(1)
        a = run()
        torch.set_num_threads(2)
        b = run()
    finally:
        torch.set_num_threads(old)
    with torch.no_grad():
        pr = project_gaussians(*(x[None] for x in ps[:4]), cam.viewmat[None, None], cam.K[None, None], 192, 192)
        assert (
            len(RK.bin_tiles(pr.means2d[0], pr.radii[0], pr.depths[0], 192, 192, 8, pr.conics[0], pr.opacities[0])[0])
            > 50000
        )
    for x, y in zip(a, b):
        assert torch.equal(x, y)


def test_numba_pool_start_keeps_torchs_thread_count():
    # starting numba's OpenMP pool must not change torch's thread count: a resumed training would otherwise compute
    # its first step with other float sums than an uninterrupted run (tests/test_e2v_train.py's kill-and-resume test)
    import subprocess
    import sys
    import textwrap

    from helpers import subprocess_env

    code = textwrap.dedent("""
        import torch
        torch.set_num_threads(1)
        from ggtalker_nb.render.gaussians import gaussian_head_scene, render
        from ggtalker_nb.geometry import orbit_camera
        g = gaussian_head_scene(200, seed=0)
        render(g, orbit_camera(0.0, 0.0, 0.6, 32, 32), backend="numba")
        print("threads", torch.get_num_threads())
    """)
    out = subprocess.run(
        [sys.executable, "-c", code], env=subprocess_env(), capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "threads 1" in out.stdout, out.stdout
