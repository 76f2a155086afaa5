"Property and parity tests of gaussians.binding and gaussians.uvmap (cross-module, hypothesis)."

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st
from scipy.spatial.transform import Rotation

from ggtalker_nb.geometry import matrix_to_quat, quat_multiply, quat_to_matrix
from ggtalker_nb.gaussians.binding import BoundGaussians, sample_surface
from ggtalker_nb.gaussians.uvmap import (
    gaussians_to_uvmap,
    init_uvmap_from_mesh,
    uv_texel_table,
    uvmap_to_gaussians,
)


def _random_mesh(seed, nv=40, nf=60):
    g = torch.Generator().manual_seed(seed)
    V = torch.randn(nv, 3, generator=g, dtype=torch.float64)
    Fc = torch.stack([torch.randperm(nv, generator=g)[:3] for _ in range(nf)])
    return V, Fc


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), scale=st.floats(0.2, 5.0))
def test_similarity_equivariance(seed, scale):
    "to_world commutes with rotations, translations and uniform scales of the mesh."
    V, Fc = _random_mesh(seed)
    fid, bary = sample_surface(V, Fc, 64, seed=seed)
    bg = BoundGaussians.from_surface(V, Fc, fid, bary, scale=0.05)
    g = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        bg.mu_l.add_(torch.randn(64, 3, generator=g, dtype=torch.float64))
        bg.q_l.copy_(torch.randn(64, 4, generator=g, dtype=torch.float64))
    Q = torch.tensor(Rotation.random(random_state=seed).as_matrix())
    t = torch.randn(3, generator=g, dtype=torch.float64)
    with torch.no_grad():
        g0, g1 = bg.to_world(V, Fc), bg.to_world(scale * V @ Q.T + t, Fc)
    torch.testing.assert_close(g1.means, scale * g0.means @ Q.T + t, atol=1e-8, rtol=1e-8)
    torch.testing.assert_close(g1.scales, scale * g0.scales, atol=1e-8, rtol=1e-8)
    torch.testing.assert_close(quat_to_matrix(g1.quats), Q @ quat_to_matrix(g0.quats), atol=1e-8, rtol=1e-8)
    dot = (quat_multiply(matrix_to_quat(Q).expand(64, 4), g0.quats) * g1.quats).sum(-1).abs()
    torch.testing.assert_close(dot, torch.ones(64, dtype=torch.float64))


@pytest.mark.parametrize("bshape", [(), (2,), (1, 3)])
def test_batched_matches_loop(bshape):
    "Batched vertices give the same Gaussians as one call per mesh."
    V, Fc = _random_mesh(0)
    fid, bary = sample_surface(V, Fc, 32, seed=0)
    bg = BoundGaussians.from_surface(V, Fc, fid, bary)
    Vb = V + 0.1 * torch.randn(*bshape, *V.shape, dtype=torch.float64)
    with torch.no_grad():
        gb = bg.to_world(Vb, Fc)
        flat = Vb.reshape(-1, *V.shape)
        for i, v in enumerate(flat):
            gi = bg.to_world(v, Fc)
            torch.testing.assert_close(gb.means.reshape(-1, 32, 3)[i], gi.means)
            torch.testing.assert_close(gb.quats.reshape(-1, 32, 4)[i], gi.quats)
            torch.testing.assert_close(gb.scales.reshape(-1, 32, 3)[i], gi.scales)
    assert gb.means.shape == (*bshape, 32, 3) and gb.colors.shape == (*bshape, 32, 3)


def _brute_force_table(vt, ft, U, W):
    "Reference twin: loop over texels, test every UV triangle (numpy), pick the deepest-inside one."
    vt = np.asarray(vt, np.float64)
    ft = np.asarray(ft)
    out = {}
    for i in range(U):
        for j in range(W):
            p = np.array([(j + 0.5) / W, 1 - (i + 0.5) / U])
            best = None
            for f, (a, b, c) in enumerate(vt[ft]):
                T = np.array([b - a, c - a]).T
                if abs(np.linalg.det(T)) < 1e-14:
                    continue
                l1, l2 = np.linalg.solve(T, p - a)
                bc = np.array([1 - l1 - l2, l1, l2])
                if bc.min() >= -1e-9 and (best is None or bc.min() > best[0] + 1e-12):
                    best = (bc.min(), f, bc)
            if best is not None:
                out[(i, j)] = (best[1], best[2])
    return out


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 10_000), res=st.integers(5, 13))
def test_table_matches_brute_force(seed, res):
    "The vectorised UV rasterizer equals a per-texel loop on random atlases."
    rng = np.random.default_rng(seed)
    vt = torch.tensor(rng.uniform(0, 1, (9, 2)))
    ft = torch.tensor(np.stack([rng.permutation(9)[:3] for _ in range(5)]))
    tab = uv_texel_table(vt, ft, (res, res + 2))
    ref = _brute_force_table(vt, ft, res, res + 2)
    got = {(int(i), int(j)): (int(f), b.numpy()) for i, j, f, b in zip(tab.rows, tab.cols, tab.face_id, tab.bary)}
    assert set(got) == set(ref)
    for key, (f, b) in ref.items():
        # ties (a texel exactly on a shared edge) may pick either triangle; the point must agree
        fg, bg = got[key]
        pg = (bg[:, None] * vt.numpy()[ft.numpy()[fg]]).sum(0)
        pr = (b[:, None] * vt.numpy()[ft.numpy()[f]]).sum(0)
        np.testing.assert_allclose(pg, pr, atol=1e-9)


def test_uvmap_gradients_and_batch():
    "Decoding a batch of maps is differentiable in every channel, and each map decodes like the unbatched call."
    vt = torch.tensor([[0.0, 0], [1, 0], [1, 1], [0, 1]])
    ft = torch.tensor([[0, 1, 2], [0, 2, 3]])
    V = torch.tensor([[0.0, 0, 0], [0.1, 0, 0], [0.1, 0.1, 0.01], [0, 0.1, 0]])
    tab = uv_texel_table(vt, ft, 8)
    M = torch.randn(3, 14, 8, 8, requires_grad=True)
    w = uvmap_to_gaussians(M, tab, V, ft).to_world(V.expand(3, 4, 3), ft)
    (w.means.square().sum() + w.quats[..., 1:].sum() + w.scales.sum() + w.opacities.sum() + w.colors.sum()).backward()
    assert (M.grad.abs().sum((0, 2, 3)) > 0).all()
    w1 = uvmap_to_gaussians(M[1].detach(), tab, V, ft).to_world(V, ft)
    torch.testing.assert_close(w.means[1].detach(), w1.means)
    torch.testing.assert_close(w.colors[1].detach(), w1.colors)


def test_init_roundtrip_through_bound_module():
    "init map → LocalGaussians → trainable BoundGaussians → same world Gaussians; map ⇄ Gaussians round trip."
    vt = torch.tensor([[0.0, 0], [1, 0], [1, 1], [0, 1]])
    ft = torch.tensor([[0, 1, 2], [0, 2, 3]])
    V = torch.tensor([[0.0, 0, 0], [0.2, 0, 0], [0.2, 0.2, 0.03], [0, 0.2, 0]])
    M, tab = init_uvmap_from_mesh((V, ft, vt, ft, torch.rand(32, 32, 3)), 32)
    lg = uvmap_to_gaussians(M, tab, V, ft)
    bg = BoundGaussians.from_local(lg)
    with torch.no_grad():
        a, b = lg.to_world(V, ft), bg.to_world(V, ft)
    for f in ("means", "quats", "scales", "opacities", "colors"):
        torch.testing.assert_close(getattr(a, f), getattr(b, f), atol=1e-5, rtol=1e-5)
    M2 = gaussians_to_uvmap(bg.local().detach(), tab, V, ft)
    torch.testing.assert_close(M2, M, atol=2e-3, rtol=1e-3)


# ---------------------------------------------------------------- FLAME-driven
from ggtalker_nb.flame import FLAME, random_flame_assets
from ggtalker_nb.sample_head import load_sample_head


def _jaw(fl, angle, T=1):
    pose = torch.zeros(T, 15)
    pose[:, 6] = angle
    return fl(pose=pose).vertices


def test_jaw_moves_only_jaw_bound_gaussians():
    """Sample head, pure skinning (pose correctives off): opening the jaw moves exactly the Gaussians on jaw-touching
    faces."""
    a = load_sample_head()
    a.posedirs = np.zeros_like(a.posedirs)
    fl = FLAME(a)
    faces = fl.faces
    M, tab = init_uvmap_from_mesh(a, 64)
    with torch.no_grad():
        lg = uvmap_to_gaussians(M, tab, fl.v_template, faces)
        g0, g1 = lg.to_world(_jaw(fl, 0.0)[0], faces), lg.to_world(_jaw(fl, 0.3)[0], faces)
    moved = (g1.means - g0.means).norm(dim=-1) > 1e-7
    w = torch.as_tensor(a.weights)[:, 2]  # jaw joint
    touch = (w[faces[lg.face_id]] > 0).any(-1)
    assert moved.sum() > 100
    assert not (moved & ~touch).any()
    strong = (w[faces[lg.face_id]] > 0.5).all(-1)
    assert strong.sum() > 50 and moved[strong].all()
    # rotations of jaw-bound Gaussians turn with the jaw (about x), the others keep theirs
    assert torch.equal(g0.quats[~touch], g1.quats[~touch])


def test_jaw_with_pose_correctives_moves_only_faces_with_moving_vertices():
    "Full FLAME (with pose correctives): Gaussians move exactly with their faces' vertices."
    a = load_sample_head()
    fl = FLAME(a)
    bg = BoundGaussians.from_surface(
        fl.v_template, fl.faces, *sample_surface(fl.v_template, fl.faces, 4000, seed=3), scale=0.002
    )
    with torch.no_grad():
        v0, v1 = _jaw(fl, 0.0)[0], _jaw(fl, 0.25)[0]
        g0, g1 = bg.to_world(v0, fl.faces), bg.to_world(v1, fl.faces)
    dv = (v1 - v0).norm(dim=-1)[fl.faces[bg.face_id]].amax(-1)  # largest vertex motion of each Gaussian's face
    moved = (g1.means - g0.means).norm(dim=-1) > 0
    assert moved.any() and not (moved & (dv == 0)).any()  # nothing moves on a still face
    assert moved[dv > 1e-5].all()  # and faces that clearly move carry their Gaussians


def test_flame_5023_batched_frames():
    "A FLAME-sized model (5023 vertices): bound Gaussians follow a batch of frames, gradients reach FLAME parameters."
    a = random_flame_assets(n_verts=5023)
    fl = FLAME(a)
    fid, bary = sample_surface(fl.v_template, fl.faces, 2000, seed=0)
    bg = BoundGaussians.from_surface(fl.v_template, fl.faces, fid, bary, scale=0.002)
    expr = torch.zeros(4, fl.n_expr, requires_grad=True)
    pose = torch.zeros(4, 15)
    pose[:, 6] = torch.linspace(0, 0.3, 4)
    verts = fl(expr=expr, pose=pose).vertices
    assert verts.shape == (4, 5023, 3)
    g = bg.to_world(verts, fl.faces).validate()
    assert g.means.shape == (4, 2000, 3) and g.opacities.shape == (4, 2000)
    g.means.sum().backward()
    assert expr.grad.abs().sum() > 0 and bg.mu_l.grad.abs().sum() > 0


def test_identities_times_frames():
    "B identities (batched maps) driven over T frames each: locals (B,1,N,·) against vertices (B,T,V,3)."
    vt = torch.tensor([[0.0, 0], [1, 0], [1, 1], [0, 1]])
    ft = torch.tensor([[0, 1, 2], [0, 2, 3]])
    V = torch.tensor([[0.0, 0, 0], [0.1, 0, 0], [0.1, 0.1, 0.01], [0, 0.1, 0]])
    tab = uv_texel_table(vt, ft, 8)
    lg = uvmap_to_gaussians(torch.randn(2, 14, 8, 8), tab, V, ft)
    frames = V + 0.01 * torch.randn(2, 3, 4, 3)
    g = lg[:, None].to_world(frames, ft).validate()
    assert g.means.shape == (2, 3, tab.n, 3) and g.colors.shape == (2, 3, tab.n, 3)
    g10 = lg[1].to_world(frames[1, 0], ft)
    torch.testing.assert_close(g.means[1, 0], g10.means)
    torch.testing.assert_close(g.quats[1, 0], g10.quats)


def test_v_axis_matches_render_mesh():
    """Our UV convention (row = (1 − v)·H) is render.mesh's: both texture lookups agree; texel centres read texels
    exactly."""
    from ggtalker_nb.render.mesh import sample_texture as mesh_sample
    from ggtalker_nb.gaussians.uvmap import sample_texture

    tex = torch.rand(12, 20, 3)
    uv = torch.rand(50, 2)
    torch.testing.assert_close(sample_texture(tex, uv), mesh_sample(tex, uv[None, None])[0, 0])
    tab = uv_texel_table(
        torch.tensor([[0.0, 0], [1, 0], [1, 1], [0, 1]]), torch.tensor([[0, 1, 2], [0, 2, 3]]), (12, 20)
    )
    torch.testing.assert_close(mesh_sample(tex, tab.uv.float()[None, None])[0, 0], tex[tab.rows, tab.cols])
