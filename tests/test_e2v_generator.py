"""Cross-module tests of the E2V Identity-Gaussian Generator: unwrap ground truth, gradients through the renderer, a
tiny overfit, save/load."""

import time

import pytest
import torch
import torch.nn.functional as F
from einops import rearrange

from ggtalker_nb.core import AssetError, data_samples_path, load_safetensors
from ggtalker_nb.data.video import FramePairDataset
from ggtalker_nb.e2v.generator import E2VConfig, IdentityGaussianGenerator, flame_vertices, texel_points, unwrap_image
from ggtalker_nb.flame import FLAME
from ggtalker_nb.geometry import Camera, orbit_camera
from ggtalker_nb.gaussians.uvmap import UVMapSpec, sample_texture, uv_texel_table
from ggtalker_nb.render.gaussians import render
from ggtalker_nb.render.mesh import render_mesh
from ggtalker_nb.sample_head import load_sample_head

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def head():
    return load_sample_head()


@pytest.fixture(scope="module")
def flame(head):
    return FLAME(head)


@pytest.fixture(scope="module")
def pair():
    ds = FramePairDataset(data_samples_path("synthtalk_mini"), split="train")
    return ds[0]


def _b(item, prefix):
    return (
        item[prefix + "image"][None],
        {k: v[None] for k, v in item[prefix + "flame"].items()},
        item[prefix + "viewmat"][None],
        item[prefix + "K"][None],
    )


@pytest.mark.parametrize("yaw", [0.0, 40.0, -60.0])
def test_unwrap_recovers_texture(head, flame, yaw):
    "Unwrapping a textured render gives the texture at the visible texels; texels facing away are invisible."
    tab = uv_texel_table(flame.vt, flame.ft, 64)
    tex = torch.as_tensor(head.texture).float() / 255
    centre = flame.v_template.mean(0)
    cam = orbit_camera(yaw, 10.0, 1.0, target=centre.tolist(), fov_deg=25, width=160, height=160)
    img = render_mesh(flame.v_template, flame.faces, cam, texture=tex, vt=flame.vt, ft=flame.ft, supersample=2).rgb
    un = unwrap_image(
        rearrange(img, "h w c -> 1 c h w"), flame.v_template[None], flame.faces, cam.viewmat[None], cam.K[None], tab
    )
    x = tab.gather(un)[0]
    vis = x[:, 3] > 0
    err = (x[vis, :3] - sample_texture(tex, tab.uv.float())[vis]).abs().mean()
    assert vis.sum() > 0.2 * tab.n and err < 0.05, (int(vis.sum()), float(err))
    pts, nrm = texel_points(flame.v_template, flame.faces, tab)
    away = (nrm * F.normalize(cam.position - pts, dim=-1)).sum(-1) < -0.2
    assert away.sum() > 100 and (vis & away).sum() == 0
    assert (un[0, :3] * (1 - un[0, 3:4])).abs().max() == 0  # zero where not visible


def test_unwrap_mask_removes_texels(flame):
    tab = uv_texel_table(flame.vt, flame.ft, 32)
    cam = orbit_camera(0.0, 0.0, 1.0, target=flame.v_template.mean(0).tolist(), fov_deg=25, width=64, height=64)
    img = torch.rand(1, 3, 64, 64)
    args = (img, flame.v_template[None], flame.faces, cam.viewmat[None], cam.K[None], tab)
    full = unwrap_image(*args)
    half = torch.zeros(1, 64, 64)
    half[:, :, :32] = 1  # keep the left half of the image only
    part = unwrap_image(*args, mask=half)
    assert 0 < part[:, 3].sum() < full[:, 3].sum()
    assert unwrap_image(*args, mask=torch.zeros(1, 16, 16))[:, 3].sum() == 0


def test_unwrap_differentiable_in_image(flame):
    tab = uv_texel_table(flame.vt, flame.ft, 32)
    cam = orbit_camera(0.0, 0.0, 1.0, target=flame.v_template.mean(0).tolist(), fov_deg=25, width=64, height=64)
    img = torch.rand(1, 3, 64, 64, requires_grad=True)
    un = unwrap_image(img, flame.v_template[None], flame.faces, cam.viewmat[None], cam.K[None], tab)
    un[:, :3].sum().backward()
    assert img.grad.abs().sum() > 0


@pytest.mark.parametrize("make", [E2VConfig.tiny, E2VConfig.cpu])
def test_shapes(flame, pair, make):
    gen = IdentityGaussianGenerator(flame, make())
    img, p, vm, K = _b(pair, "source_")
    with torch.no_grad():
        M, un = gen(img, p, vm, K, return_unwrap=True)
    r = gen.config.uv_res
    assert M.shape == (1, 14, r, r) and un.shape == (1, 3 + gen.config.feat_ch + 2, r, r)
    assert (M * (1 - gen.uv_mask)).abs().max() == 0
    lg = gen.to_local(M, p["shape"])
    assert lg.means.shape == (1, gen.table.n, 3)
    # zero-init offset head: Gaussians start exactly on the surface
    assert gen.head.weight[UVMapSpec.offset].abs().max() == 0
    assert gen.table.gather(M)[..., :3].abs().max() == 0


def test_paper_config(flame):
    gen = IdentityGaussianGenerator(flame, E2VConfig.paper())
    n = gen.n_params()
    assert gen.uv_res == (256, 256) and 5e6 < n["total"] < 1e8
    assert n["total"] > IdentityGaussianGenerator(flame, E2VConfig.cpu()).n_params()["total"]


def test_batch_of_two(flame, pair):
    gen = IdentityGaussianGenerator(flame, E2VConfig.tiny())
    img, p, vm, K = _b(pair, "source_")
    img2, p2, vm2, K2 = _b(pair, "target_")
    cat = lambda a, b: torch.cat([a, b])
    with torch.no_grad():
        M = gen(cat(img, img2), {k: cat(p[k], p2[k]) for k in p}, cat(vm, vm2), cat(K, K2))
        M1 = gen(img2, p2, vm2, K2)
    torch.testing.assert_close(M[1:], M1, atol=1e-5, rtol=1e-5)


def _setup_render(pair, res):
    img, p, vm, K = _b(pair, "target_")
    H = img.shape[1]
    Ks = K.clone()
    Ks[:, :2] *= res / H
    cam = Camera(vm[0], Ks[0], res, res)
    tgt = F.interpolate(rearrange(img, "b h w c -> b c h w"), size=(res, res), mode="area")
    mask = F.interpolate(pair["target_mask"][None, None], size=(res, res), mode="area")
    return p, cam, rearrange(tgt, "b c h w -> b h w c"), rearrange(mask, "b c h w -> b h w c")


def _loss(gen, pair, res):
    p, cam, tgt, mask = _setup_render(pair, res)
    img, ps, vm, K = _b(pair, "source_")
    M = gen(img, ps, vm, K)
    g = gen.to_local(M, ps["shape"]).to_world(flame_vertices(gen.flame, p), gen.flame.faces)
    out = render(g, cam, background=(0.0, 0.0, 0.0)).rgb  # (1, H, W, 3)
    assert out.shape == tgt.shape
    return ((out - tgt).abs() * mask).sum() / (3 * mask.sum())


def test_gradients_reach_every_parameter_group(flame, pair):
    torch.manual_seed(0)
    gen = IdentityGaussianGenerator(flame, E2VConfig.tiny())
    _loss(gen, pair, 32).backward()
    for name, mod in dict(features=gen.features, encoder=gen.encoder, unet=gen.unet, head=gen.head).items():
        for pn, prm in mod.named_parameters():
            assert prm.grad is not None and prm.grad.abs().sum() > 0, f"{name}.{pn} got no gradient"
    assert gen.head.weight.grad[UVMapSpec.offset].abs().sum() > 0  # the zero-init offset head still learns


def test_tiny_overfit(flame, pair):
    "60 Adam steps on one source→target pair lower the masked L1 clearly."
    torch.manual_seed(0)
    gen = IdentityGaussianGenerator(
        flame,
        E2VConfig(uv_res=64, widths=(8, 16, 32), feat_ch=4, feat_res=64, enc_res=32, enc_widths=(8, 16), code_dim=16),
    )
    opt = torch.optim.Adam(gen.parameters(), lr=3e-3)
    t0, losses = time.perf_counter(), []
    for _ in range(60):
        loss = _loss(gen, pair, 64)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    dt = time.perf_counter() - t0
    print(f"overfit: {losses[0]:.4f} -> {losses[-1]:.4f} in {dt:.1f} s")
    assert losses[-1] < 0.7 * losses[0] and min(losses[-5:]) < min(losses[:5]), losses


def test_save_load(flame, pair, tmp_path):
    torch.manual_seed(1)
    gen = IdentityGaussianGenerator(flame, E2VConfig.tiny())
    with torch.no_grad():
        for prm in gen.parameters():
            prm.add_(0.01 * torch.randn_like(prm))
    path = tmp_path / "g.safetensors"
    gen.save(path, dict(step=3))
    t, meta = load_safetensors(path)
    assert meta["config"] == E2VConfig.tiny().to_json() and meta["step"] == 3
    assert not any(k.startswith("flame.") for k in t)
    g2 = IdentityGaussianGenerator.load(path, flame)
    img, p, vm, K = _b(pair, "source_")
    with torch.no_grad():
        torch.testing.assert_close(g2(img, p, vm, K), gen(img, p, vm, K))
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(AssetError):
        IdentityGaussianGenerator.load(path, flame)
