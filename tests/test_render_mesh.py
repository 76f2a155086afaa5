"""Parity, conventions and gradients of the mesh rasterizer (`ggtalker_nb.render.mesh`) against a plain ray-casting
reference."""

import math

import pytest
import torch

from ggtalker_nb.core import InputError
from ggtalker_nb.geometry import Camera, orbit_camera
from ggtalker_nb.render.mesh import (
    interpolate,
    rasterize,
    rasterize_bruteforce,
    render_mesh,
    sample_texture,
    draw_points,
    overlay_wireframe,
)


# ---------------------------------------------------------------- reference: one ray per pixel, every face
def ray_cast_reference(verts, faces, cam):
    """Plain per-pixel ray casting (Möller–Trumbore in camera space), float64.

    For every pixel centre (c + 0.5, r + 0.5) a ray from the camera centre is intersected with every face; the nearest
    hit (smallest camera z) wins, exact depth ties go to the smaller face index. Faces with a vertex closer than
    `near` are skipped, hits farther than `far` ignored. Returns face_id (H, W), bary (H, W, 3), depth (H, W).
    """
    H, W = cam.height, cam.width
    R, t = cam.viewmat[:3, :3].double(), cam.viewmat[:3, 3].double()
    vc = verts.double() @ R.T + t
    tri = vc[faces]  # (F, 3, 3)
    usable = (tri[..., 2] >= cam.near).all(-1)
    Kinv = torch.linalg.inv(cam.K.double())
    v0, v1, v2 = tri[:, 0], tri[:, 1], tri[:, 2]
    e1, e2 = v1 - v0, v2 - v0
    face_id = torch.full((H, W), -1, dtype=torch.long)
    bary = torch.zeros(H, W, 3, dtype=torch.float64)
    depth = torch.full((H, W), math.inf, dtype=torch.float64)
    for r in range(H):
        for c in range(W):
            d = Kinv @ torch.tensor([c + 0.5, r + 0.5, 1.0], dtype=torch.float64)  # d.z == 1: t is camera z
            p = torch.cross(d.expand_as(e2), e2, dim=-1)
            det = (e1 * p).sum(-1)
            inv = 1 / det
            s = -v0
            u = (s * p).sum(-1) * inv
            q = torch.cross(s, e1, dim=-1)
            w = (d * q).sum(-1) * inv
            z = (e2 * q).sum(-1) * inv
            hit = usable & (det != 0) & (u >= 0) & (w >= 0) & (u + w <= 1) & (z <= cam.far) & (z > 0)
            if not hit.any():
                continue
            zz = torch.where(hit, z, math.inf)
            best = int(torch.nonzero(zz == zz.min())[0])
            face_id[r, c] = best
            bary[r, c] = torch.stack([1 - u[best] - w[best], u[best], w[best]])
            depth[r, c] = z[best]
    return face_id, bary, depth


def edge_distance(verts, faces, cam, fids, rc):
    "Pixel distance from the centre of pixel `rc` to the nearest projected edge of the faces `fids`."
    uv, _ = cam.to(torch.float64).project(verts.double())
    p = torch.tensor([rc[1] + 0.5, rc[0] + 0.5], dtype=torch.float64)
    best = math.inf
    for f in fids:
        if f < 0:
            continue
        pts = uv[faces[f]]
        for i in range(3):
            a, b = pts[i], pts[(i + 1) % 3]
            ab = b - a
            t = ((p - a) @ ab / (ab @ ab)).clamp(0, 1)
            best = min(best, float((a + t * ab - p).norm()))
    return best


def random_scene(seed, n_faces=40, H=24, W=32):
    g = torch.Generator().manual_seed(seed)
    centres = (torch.rand(n_faces, 1, 3, generator=g) - 0.5) * 0.6
    verts = (centres + (torch.rand(n_faces, 3, 3, generator=g) - 0.5) * 0.3).reshape(-1, 3).double()
    faces = torch.arange(3 * n_faces).reshape(n_faces, 3)
    yaw, pitch = float(torch.rand(1, generator=g) * 360 - 180), float(torch.rand(1, generator=g) * 60 - 30)
    cam = orbit_camera(yaw, pitch, dist=1.2, fov_deg=40, width=W, height=H, dtype=torch.float64)
    return verts, faces, cam


def test_parity_with_ray_casting():
    agree = total = 0
    for seed in range(6):
        verts, faces, cam = random_scene(seed)
        fr = rasterize(verts, faces, cam)
        fid, bary, depth = ray_cast_reference(verts, faces, cam)
        same = fr.face_id == fid
        agree += int(same.sum())
        total += same.numel()
        for r, c in (~same).nonzero().tolist():  # disagreements only where the centre sits on an edge
            assert edge_distance(verts, faces, cam, [int(fr.face_id[r, c]), int(fid[r, c])], (r, c)) < 1e-4, (
                seed,
                r,
                c,
            )
        m = same & (fid >= 0)
        assert m.sum() > 50  # the scene is not empty
        torch.testing.assert_close(fr.bary[m], bary[m], atol=1e-9, rtol=0)
        torch.testing.assert_close(fr.depth[m], depth[m], atol=1e-9, rtol=1e-9)
        assert torch.isinf(fr.depth[fr.face_id < 0]).all() and (fr.bary[fr.face_id < 0] == 0).all()
        assert (fr.mask == (fr.face_id >= 0)).all()
    assert agree / total >= 0.999, agree / total


def test_bruteforce_twin_matches():
    verts, faces, cam = random_scene(11, n_faces=60, H=30, W=40)
    a, b = rasterize(verts, faces, cam), rasterize_bruteforce(verts, faces, cam)
    assert (a.face_id == b.face_id).float().mean() >= 0.999
    m = a.face_id == b.face_id
    torch.testing.assert_close(a.bary[m], b.bary[m])
    torch.testing.assert_close(a.depth[m], b.depth[m])


def test_float32_parity():
    verts, faces, cam = random_scene(5)
    fr = rasterize(verts.float(), faces, cam.to(torch.float32))
    fid, bary, _ = ray_cast_reference(verts, faces, cam)
    assert (fr.face_id == fid).float().mean() >= 0.99
    m = (fr.face_id == fid) & (fid >= 0)
    torch.testing.assert_close(fr.bary[m].double(), bary[m], atol=1e-4, rtol=0)


def pixel_camera(W=8, H=8, f=1.0, cx=0.0, cy=0.0, **kw):
    "Identity view: camera coordinates = world coordinates; pixel = (f·x/z + cx, f·y/z + cy)."
    K = torch.tensor([[f, 0, cx], [0, f, cy], [0, 0, 1]], dtype=torch.float64)
    return Camera(torch.eye(4, dtype=torch.float64), K, W, H, **kw)


def test_single_triangle_known_pixels():
    cam = pixel_camera()
    verts = torch.tensor([[0.0, 0.0, 1.0], [4.0, 0.0, 1.0], [0.0, 4.0, 1.0]], dtype=torch.float64)
    fr = rasterize(verts, torch.tensor([[0, 1, 2]]), cam)
    r, c = torch.meshgrid(torch.arange(8), torch.arange(8), indexing="ij")
    expect = (r + c) <= 3  # centre (c+.5, r+.5) inside x + y <= 4 (edges inclusive)
    assert (fr.mask == expect).all()
    torch.testing.assert_close(fr.depth[expect], torch.ones(int(expect.sum()), dtype=torch.float64))
    # barycentrics of pixel (row 0, col 1): centre (1.5, 0.5) = 0.5·v0 + 0.375·v1 + 0.125·v2
    torch.testing.assert_close(fr.bary[0, 1], torch.tensor([0.5, 0.375, 0.125], dtype=torch.float64))


def test_pixel_centre_convention():
    cam = pixel_camera()

    def tri_at(x, y, rad=0.3):
        return torch.tensor([[x - rad, y - rad, 1.0], [x + rad, y - rad, 1.0], [x, y + rad, 1.0]], dtype=torch.float64)

    fr = rasterize(tri_at(2.5, 1.5), torch.tensor([[0, 1, 2]]), cam)
    assert fr.mask.sum() == 1 and fr.mask[1, 2]  # the triangle around centre (2.5, 1.5) hits pixel row 1, col 2
    fr = rasterize(tri_at(2.0, 1.0), torch.tensor([[0, 1, 2]]), cam)
    assert fr.mask.sum() == 0  # around a pixel corner: no centre inside


def test_near_far_and_backfaces():
    cam = pixel_camera(near=0.5, far=10.0)
    tri = torch.tensor([[0.0, 0.0, 1.0], [4.0, 0.0, 1.0], [0.0, 4.0, 1.0]], dtype=torch.float64)
    f = torch.tensor([[0, 1, 2]])
    behind = tri.clone()
    behind[2] = torch.tensor([0.0, 0.4, 0.4])  # one vertex in front of near
    assert rasterize(behind, f, cam).mask.sum() == 0  # the whole face is dropped
    ok = tri.clone()
    ok[2] = torch.tensor([0.0, 0.6, 0.6])
    assert rasterize(ok, f, cam).mask.sum() > 0
    assert rasterize(tri * 20, f, cam).mask.sum() == 0  # beyond far (z = 20)
    # outward normal of (0,1,2) here is (0,0,+1): pointing away from the camera -> a back face
    assert rasterize(tri, f, cam, cull_backfaces=True).mask.sum() == 0
    assert rasterize(tri, f.flip(-1), cam, cull_backfaces=True).mask.sum() == 10


def test_deterministic_ties():
    cam = pixel_camera()
    tri = torch.tensor([[0.0, 0.0, 1.0], [4.0, 0.0, 1.0], [0.0, 4.0, 1.0]], dtype=torch.float64)
    faces = torch.tensor([[0, 1, 2], [0, 1, 2], [0, 1, 2]])
    a = rasterize(tri, faces, cam)
    assert (a.face_id[a.mask] == 0).all()  # equal depth: smallest face index
    # two triangles sharing the diagonal x + y = 4: centres exactly on it go to the smaller index
    quad = torch.tensor([[0.0, 0.0, 1.0], [4.0, 0.0, 1.0], [0.0, 4.0, 1.0], [4.0, 4.0, 1.0]], dtype=torch.float64)
    fr = rasterize(quad, torch.tensor([[3, 2, 1], [0, 1, 2]]), cam)
    r, c = torch.meshgrid(torch.arange(8), torch.arange(8), indexing="ij")
    diag = (r + c) == 3
    assert (fr.face_id[diag] == 0).all() and (fr.face_id[(r + c < 3)] == 1).all()
    assert (rasterize(quad, torch.tensor([[3, 2, 1], [0, 1, 2]]), cam).face_id == fr.face_id).all()


@pytest.mark.parametrize("case", ["frames_one_camera", "frames_cameras", "cameras_one_mesh", "outer"])
def test_batched_equals_looped(case):
    verts, faces, _ = random_scene(3, n_faces=30, H=20, W=24)
    T = 3
    vt = verts + 0.02 * torch.randn(T, *verts.shape, generator=torch.Generator().manual_seed(0), dtype=verts.dtype)
    cams = orbit_camera(
        torch.tensor([-20.0, 0.0, 25.0]), 10.0, 1.2, fov_deg=40, width=24, height=20, dtype=torch.float64
    )
    one = cams[1]
    if case == "frames_one_camera":
        fr = rasterize(vt, faces, one)
        refs = [rasterize(vt[i], faces, one) for i in range(T)]
    elif case == "frames_cameras":
        fr = rasterize(vt, faces, cams)
        refs = [rasterize(vt[i], faces, cams[i]) for i in range(T)]
    elif case == "cameras_one_mesh":
        fr = rasterize(verts, faces, cams)
        refs = [rasterize(verts, faces, cams[i]) for i in range(T)]
    else:  # every frame from every camera: verts (T, 1, V, 3) x cameras (C,) -> (T, C)
        fr = rasterize(vt[:, None], faces, cams)
        assert fr.face_id.shape == (T, T, 20, 24)
        refs = [rasterize(vt[i], faces, cams[j]) for i in range(T) for j in range(T)]
        fr = type(fr)(*(x.reshape(T * T, *x.shape[2:]) for x in (fr.face_id, fr.bary, fr.depth, fr.mask)), fr.faces)
    assert fr.face_id.shape[0] == len(refs)
    for i, r in enumerate(refs):
        assert (fr.face_id[i] == r.face_id).all()
        torch.testing.assert_close(fr.bary[i], r.bary)
        torch.testing.assert_close(fr.depth[i], r.depth)


def test_chunking_does_not_change_result():
    verts, faces, cam = random_scene(8, n_faces=50)
    a, b = rasterize(verts, faces, cam), rasterize(verts, faces, cam, max_pairs=7)
    assert (a.face_id == b.face_id).all()
    torch.testing.assert_close(a.bary, b.bary)


def test_texture_orientation():
    # red top half of the image: rows 0..U/2-1 -> v in (0.5, 1]
    U = 8
    tex = torch.zeros(U, U, 3, dtype=torch.float64)
    tex[: U // 2, :, 0] = 1
    uv = torch.tensor([[[0.5, 0.9], [0.5, 0.1], [0.1, 0.7], [0.9, 0.3]]], dtype=torch.float64)
    out = sample_texture(tex, uv)
    torch.testing.assert_close(out[0, :, 0], torch.tensor([1.0, 0.0, 1.0, 0.0], dtype=torch.float64))
    # texel centres: v = 1 - (row + 0.5)/U, u = (col + 0.5)/U reproduce the texel exactly
    texr = torch.rand(U, U, 3, dtype=torch.float64)
    r, c = torch.meshgrid(torch.arange(U), torch.arange(U), indexing="ij")
    uvc = torch.stack([(c + 0.5) / U, 1 - (r + 0.5) / U], -1).double()
    torch.testing.assert_close(sample_texture(texr, uvc), texr)
    u8 = (texr * 255).round().to(torch.uint8)
    torch.testing.assert_close(sample_texture(u8, uvc), u8.double() / 255)
    # through the renderer: a camera-facing quad whose vt has v up -> the upper image half is red
    cam = pixel_camera(W=8, H=8, f=8.0, cx=4.0, cy=4.0)
    quad = torch.tensor([[-0.5, -0.5, 1.0], [0.5, -0.5, 1.0], [0.5, 0.5, 1.0], [-0.5, 0.5, 1.0]], dtype=torch.float64)
    faces = torch.tensor([[0, 1, 2], [0, 2, 3]])
    vt = torch.tensor(
        [[0.0, 1.0], [1.0, 1.0], [1.0, 0.0], [0.0, 0.0]], dtype=torch.float64
    )  # world y down = image top = v 1
    img = render_mesh(quad, faces, cam, texture=tex, vt=vt).rgb
    assert (img[:4, :, 0] == 1).all() and (img[4:, :, 0] == 0).all()


def test_uv_seams_ft():
    # the same geometry with ft separate from faces: each face corner gets its own uv
    cam = pixel_camera(W=8, H=8, f=8.0, cx=4.0, cy=4.0)
    quad = torch.tensor([[-0.5, -0.5, 1.0], [0.5, -0.5, 1.0], [0.5, 0.5, 1.0], [-0.5, 0.5, 1.0]], dtype=torch.float64)
    faces = torch.tensor([[0, 1, 2], [0, 2, 3]])
    vt = torch.tensor([[0.25, 0.5], [0.75, 0.5]], dtype=torch.float64)
    ft = torch.tensor([[0, 0, 0], [1, 1, 1]])  # face 0 samples u=0.25 everywhere, face 1 u=0.75
    tex = torch.zeros(4, 4, 3, dtype=torch.float64)
    tex[:, 2:, 1] = 1  # right half green
    r = render_mesh(quad, faces, cam, texture=tex, vt=vt, ft=ft)
    torch.testing.assert_close(r.rgb[..., 1], (r.face_id == 1).double())


def test_gradients_float64():
    cam = pixel_camera(W=6, H=5, f=6.0, cx=3.0, cy=2.5)
    verts = torch.tensor(
        [[-0.4, -0.3, 1.0], [0.5, -0.35, 1.2], [0.05, 0.45, 0.9], [0.6, 0.4, 1.1]], dtype=torch.float64
    )
    faces = torch.tensor([[0, 1, 2], [1, 3, 2]])
    fr = rasterize(verts, faces, cam)
    assert fr.mask.sum() >= 10
    colors = torch.rand(4, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda c: interpolate(fr, c), (colors,))
    corner = torch.rand(2, 3, 2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda c: interpolate(fr, c, per_corner=True), (corner,))
    tex = torch.rand(4, 5, 3, dtype=torch.float64, requires_grad=True)
    vt = torch.tensor([[0.1, 0.2], [0.8, 0.3], [0.4, 0.9], [0.9, 0.8]], dtype=torch.float64)
    assert torch.autograd.gradcheck(
        lambda t: render_mesh(verts, faces, cam, texture=t, vt=vt, lambert=True).rgb, (tex,)
    )
    # through the barycentrics to the vertex positions (visibility held fixed by small perturbations)
    v = verts.clone().requires_grad_(True)
    col = colors.detach()
    assert torch.autograd.gradcheck(lambda x: interpolate(rasterize(x, faces, cam), col), (v,), eps=1e-7, atol=1e-5)


def test_bad_inputs():
    verts, faces, cam = random_scene(0, n_faces=4, H=8, W=8)
    with pytest.raises(InputError, match="faces"):
        rasterize(verts, faces + 100, cam)
    with pytest.raises(InputError, match="broadcast"):
        rasterize(verts.expand(3, -1, -1), faces, orbit_camera(torch.zeros(2)))
    with pytest.raises(InputError, match="verts"):
        rasterize(verts[:, :2], faces, cam)
    with pytest.raises(InputError, match="not both"):
        render_mesh(
            verts, faces, cam, vertex_colors=torch.rand_like(verts), texture=torch.rand(4, 4, 3), vt=torch.rand(12, 2)
        )


def test_overlays():
    img = torch.zeros(10, 12, 3)
    out = draw_points(img, torch.tensor([[3.5, 4.5]]), color=(0.0, 0.0, 1.0), radius=1.0)
    assert out[4, 3, 2] == 1 and out[4, 5, 2] == 0 and out[4, 4, 2] == 1 and (img == 0).all()
    assert out[..., 2].sum() == 5  # centre pixel + its 4 neighbours (centres at distance 1)
    cam = pixel_camera(W=8, H=8)
    tri = torch.tensor([[0.0, 0.0, 1.0], [6.0, 0.0, 1.0], [0.0, 6.0, 1.0]], dtype=torch.float64)
    wf = overlay_wireframe(torch.zeros(8, 8, 3, dtype=torch.float64), tri, torch.tensor([[0, 1, 2]]), cam)
    assert wf[0, :6, 1].all() and wf[:6, 0, 1].all() and not wf[1, 1, 1] and not wf[2, 2, 1]  # legs drawn, inside empty


def test_background_image_and_supersampling():
    verts, faces, cam = random_scene(2, n_faces=20, H=12, W=16)
    bg = torch.rand(12, 16, 3, dtype=torch.float64)
    r1 = render_mesh(verts, faces, cam, vertex_colors=torch.rand_like(verts), background=bg)
    torch.testing.assert_close(r1.rgb[~r1.fragments.mask], bg[~r1.fragments.mask])
    for k in (2, 3):
        rk = render_mesh(verts, faces, cam, background=bg, supersample=k)
        assert rk.rgb.shape == (12, 16, 3) and rk.alpha.shape == (12, 16)
        empty = rk.alpha == 0
        torch.testing.assert_close(rk.rgb[empty], bg[empty])
        if k == 3:  # odd k: the centre sample of each block is the 1x pixel centre
            assert (rk.face_id == r1.face_id).all()
    with pytest.raises(InputError, match="supersample"):
        render_mesh(verts, faces, cam, supersample=0)


from hypothesis import given, settings, strategies as st


@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n_faces=st.integers(1, 30),
    H=st.integers(1, 17),
    W=st.integers(1, 19),
    cull=st.booleans(),
    f32=st.booleans(),
)
def test_property_matches_bruteforce(seed, n_faces, H, W, cull, f32):
    verts, faces, cam = random_scene(seed, n_faces=n_faces, H=H, W=W)
    if f32:
        verts, cam = verts.float(), cam.to(torch.float32)
    a = rasterize(verts, faces, cam, cull_backfaces=cull, max_pairs=64)
    b = rasterize_bruteforce(verts, faces, cam, cull_backfaces=cull)
    same = a.face_id == b.face_id
    for r, c in (~same).nonzero().tolist():  # only where a centre sits on an edge (float32: looser)
        d = edge_distance(verts, faces, cam, [int(a.face_id[r, c]), int(b.face_id[r, c])], (r, c))
        assert d < (1e-3 if f32 else 1e-6), (r, c, d)
    tol = dict(atol=1e-4, rtol=1e-4) if f32 else dict(atol=1e-9, rtol=1e-9)
    torch.testing.assert_close(a.bary[same], b.bary[same], **tol)
    torch.testing.assert_close(a.depth[same], b.depth[same], **tol)
