"""Tests of the procedural sample head (`ggtalker_nb.sample_head`): determinism, the shipped file, rig, bases,
landmarks, UVs."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

from ggtalker_nb.core import AssetError, InputError, data_samples_path
from ggtalker_nb.flame import FLAME
from ggtalker_nb.sample_head import (
    DEFAULT_COLORS,
    EXPR_NAMES,
    JOINT_NAMES,
    PARTS,
    SAMPLE_HEAD_FILE,
    build_sample_head,
    load_sample_head,
    make_texture,
    save_sample_head,
    uv_to_pixel,
    _uv_texel_table,
)

FLOATS = (
    "v_template",
    "shapedirs",
    "posedirs",
    "J_regressor",
    "weights",
    "vt",
    "lmk_bary_coords",
    "static_lmk_bary_coords",
)
INTS = ("faces", "ft", "parents", "lmk_faces_idx", "static_lmk_faces_idx")


@pytest.fixture(scope="module")
def head():
    return build_sample_head()


@pytest.fixture(scope="module")
def flame(head):
    return FLAME(head)


def run(flame, **kw):
    return flame(**{k: torch.as_tensor(np.asarray(v, np.float32))[None] for k, v in kw.items()})


def expr_vec(head, name, w=1.0):
    e = np.zeros(head.n_expr, np.float32)
    e[head.expr_names.index(name)] = w
    return e


def displacement(flame, head, **kw):
    return (run(flame, **kw).vertices - run(flame).vertices)[0].numpy()


# ---- determinism and the shipped file --------------------------------------------------------------------------


def test_two_builds_are_identical(head):
    b = build_sample_head()
    for k in FLOATS + INTS:
        np.testing.assert_array_equal(getattr(head, k), getattr(b, k), err_msg=k)
    np.testing.assert_array_equal(head.texture, b.texture)
    assert head.masks.keys() == b.masks.keys() and all((head.masks[k] == b.masks[k]).all() for k in head.masks)


def test_shipped_npz_equals_a_fresh_build(head):
    "CI guard: data_samples/sample_head.npz must be regenerated (`save_sample_head()`) whenever the builder changes."
    path = data_samples_path(SAMPLE_HEAD_FILE, must_exist=True)
    assert path.stat().st_size < 5e6
    s = load_sample_head()
    # floats within 1e-6 (another machine's BLAS/sparse solver may round differently), the texture within one level
    for k in FLOATS:
        np.testing.assert_allclose(getattr(s, k), getattr(head, k), atol=1e-6, rtol=0, err_msg=k)
    for k in INTS:
        np.testing.assert_array_equal(getattr(s, k), getattr(head, k), err_msg=k)
    assert np.abs(s.texture.astype(int) - head.texture).max() <= 1
    assert s.expr_names == head.expr_names and s.n_shape == head.n_shape and s.flame_version == "sample_head"
    assert s.masks.keys() == head.masks.keys() and all((s.masks[k] == head.masks[k]).all() for k in s.masks)


def test_save_and_load_roundtrip(tmp_path):
    p = save_sample_head(tmp_path / "h.npz", n_shape=8, n_expr=16, texture_size=64)
    a = load_sample_head(p)
    assert (a.n_shape, a.n_expr, a.texture.shape) == (8, 16, (64, 64, 3))
    assert a.expr_names == EXPR_NAMES[:14]
    p.write_bytes(p.read_bytes()[:1000])
    with pytest.raises(AssetError):
        load_sample_head(p)
    with pytest.raises(AssetError, match="no such file"):
        load_sample_head(tmp_path / "missing.npz")


def test_bad_arguments():
    with pytest.raises(InputError, match="n_expr"):
        build_sample_head(n_expr=0)
    with pytest.raises(InputError, match="n_shape"):
        build_sample_head(n_shape=2.5)
    with pytest.raises(InputError, match="lips"):
        make_texture(lips=(0.1, 0.2))
    with pytest.raises(InputError, match="eyes"):
        make_texture(eyes=(float("nan"), 0, 0))
    with pytest.raises(InputError, match="size"):
        make_texture(size=True)


# ---- counts, format, masks -------------------------------------------------------------------------------------


def test_counts_and_format(head):
    head.validate()
    assert 3000 <= head.n_verts <= 6000, head.n_verts
    assert (head.n_verts, head.n_faces, head.n_joints, head.n_shape, head.n_expr) == (4649, 9140, 5, 50, 50)
    assert head.parents.tolist() == [-1, 0, 1, 1, 1] and list(head.extras["joint_names"]) == list(JOINT_NAMES)
    assert head.expr_names[: len(EXPR_NAMES)] == EXPR_NAMES
    assert head.posedirs.shape == (head.n_verts, 3, 36)
    part = head.extras["part"]
    assert np.bincount(part).tolist()[1:] == [222, 222, 60, 60, 161]
    # every vertex is used; each part is a clean, consistently oriented manifold (edges shared by ≤ 2 faces, once per
    # direction)
    assert np.unique(head.faces).size == head.n_verts
    e = np.concatenate([head.faces[:, [0, 1]], head.faces[:, [1, 2]], head.faces[:, [2, 0]]])
    assert np.unique(e, axis=0).shape[0] == len(e)
    assert np.unique(np.sort(e, 1), axis=0, return_counts=True)[1].max() == 2
    assert (part[head.faces] == part[head.faces[:, :1]]).all()  # no face spans two parts


def test_size_and_placement(head):
    v = head.v_template
    skin = head.masks["skin"]
    J = head.J_regressor @ v
    chin = np.einsum("kd,k->d", v[head.faces[head.lmk_faces_idx[8]]], head.lmk_bary_coords[8])
    assert 0.23 <= v[skin, 1].max() - chin[1] <= 0.25
    assert J[0, 1] < J[1, 1] < J[2, 1] < J[3, 1]  # root < neck < jaw < eyes
    assert J[3, 0] > 0 > J[4, 0]  # left eye at +x
    assert np.abs(v.mean(0)).max() < 0.06  # roughly centred on the origin
    assert v[:, 2].argmax() in head.masks["nose"]  # the nose is the front-most point


def test_masks(head):
    m = head.masks
    for a, b in [
        ("face", "scalp"),
        ("face", "neck"),
        ("scalp", "neck"),
        ("face", "ears"),
        ("eyes", "skin"),
        ("teeth", "skin"),
        ("teeth", "mouth_interior"),
        ("mouth_interior", "skin"),
        ("eyelid_left", "eyelid_right"),
        ("eye_left", "eye_right"),
    ]:
        assert np.intersect1d(m[a], m[b]).size == 0, (a, b)
    part = head.extras["part"]
    assert (part[m["eyes"]] > 0).all() and (part[m["teeth"]] >= 3).all() and (part[m["mouth_interior"]] == 5).all()
    assert set(m["lips"]) <= set(m["skin"]) and set(m["nose"]) <= set(m["face"])
    x = head.v_template[:, 0]
    assert (x[m["eyelid_left"]] > 0).all() and (x[m["eyelid_right"]] < 0).all()


# ---- rig ----------------------------------------------------------------------------------------------------


def test_weights_and_regressor(head):
    np.testing.assert_allclose(head.weights.sum(1), 1, atol=1e-6)
    assert head.weights.min() >= 0 and head.J_regressor.min() >= 0
    np.testing.assert_allclose(head.J_regressor.sum(1), 1, atol=1e-6)
    part = head.extras["part"]
    np.testing.assert_array_equal(head.weights[part == 1, 3], 1)
    np.testing.assert_array_equal(head.weights[part == 2, 4], 1)
    np.testing.assert_array_equal(head.weights[part == 3, 1], 1)
    np.testing.assert_array_equal(head.weights[part == 4, 2], 1)


def test_joints_follow_shape(head, flame):
    "Joints are weighted vertex means: scaling the head (shape 0) moves them with it; eyes stay at the eyeball centres."
    out = run(flame, shape=np.eye(head.n_shape, dtype=np.float32)[0] * 3)
    rest = run(flame)
    assert (out.joints - rest.joints)[0, 3].norm() > 1e-3
    v = out.vertices[0].numpy()
    part = head.extras["part"]
    for j, p in ((3, 1), (4, 2)):
        c = out.joints[0, j].numpy()
        np.testing.assert_allclose(
            np.linalg.norm(v[part == p] - c, axis=1), 0.012, atol=1e-6
        )  # still a 12 mm ball around it


def test_jaw_opening(head, flame):
    gaps = []
    for a in (0.0, 0.1, 0.2, 0.3):
        pose = np.zeros(15, np.float32)
        pose[6] = a
        out = run(flame, pose=pose)
        gaps.append(float((out.landmarks[0, 62] - out.landmarks[0, 66]).norm()))
    assert gaps[0] < 1e-6 and all(np.diff(gaps) > 0.003), gaps
    d = np.linalg.norm(displacement(flame, head, pose=np.r_[0, 0, 0, 0, 0, 0, 0.3, 0, 0, 0, 0, 0, 0, 0, 0]), axis=1)
    corrective = np.abs(head.posedirs[:, :, 16]).max(1) > 0
    assert (d[(head.weights[:, 2] == 0) & ~corrective] < 1e-7).all()
    assert d[head.masks["teeth_lower"]].min() > 0.005 and d[head.masks["teeth_upper"]].max() < 1e-7
    assert d[head.masks["scalp"]].max() < 1e-7


def test_eye_pose_rotates_eyeballs_only(head, flame):
    pose = np.zeros(15, np.float32)
    pose[9:15] = [0.2, 0.35, 0, -0.1, -0.3, 0]
    d = np.linalg.norm(displacement(flame, head, pose=pose), axis=1)
    moved = np.flatnonzero(d > 1e-7)
    assert set(moved) <= set(head.masks["eyes"]) and len(moved) > 300
    # the pupil (front pole) turns to the subject's left for a positive yaw of the left eye
    out = run(flame, pose=pose).vertices[0].numpy()
    pole = head.masks["eye_left"][0]
    assert out[pole, 0] > head.v_template[pole, 0] + 0.003


def test_neck_and_global_pose(head, flame):
    pose = np.zeros(15, np.float32)
    pose[4] = 0.5  # turn the head (neck yaw)
    d = np.linalg.norm(displacement(flame, head, pose=pose), axis=1)
    assert d[head.masks["neck_boundary"]].max() < 1e-7 and d[head.masks["face"]].min() > 0.02


# ---- bases ----------------------------------------------------------------------------------------------------


def test_shape_basis_orthogonal_ordered(head):
    S = head.shapedirs[:, :, : head.n_shape].reshape(-1, head.n_shape).astype(np.float64)
    G = S.T @ S
    d = np.sqrt(np.diag(G))
    assert np.abs(G / np.outer(d, d) - np.eye(head.n_shape)).max() < 1e-4
    peak = np.linalg.norm(head.shapedirs[:, :, : head.n_shape], axis=1).max(0)
    assert (np.diff(peak) < 0).all() and 0.003 < peak[0] < 0.006 and peak[-1] > 0.0005


@settings(max_examples=15, deadline=None)
@given(st.lists(st.floats(-3, 3), min_size=10, max_size=10), st.integers(0, 2**16))
def test_random_identities_stay_plausible(coeffs, seed):
    """Shape coefficients (first ten anywhere in ±3, the rest unit normal) give plausible heads: closed lips, round
    eyeballs, 0.18–0.29 m."""
    head, flame = _cached()
    rng = np.random.default_rng(seed)
    shape = np.concatenate([coeffs, rng.normal(size=head.n_shape - 10).clip(-3, 3)]).astype(np.float32)
    out = run(flame, shape=shape)
    v = out.vertices[0].numpy()
    L = out.landmarks[0].numpy()
    assert np.linalg.norm(L[62] - L[66]) < 1e-5
    assert 0.18 < v[head.masks["skin"], 1].max() - L[8, 1] < 0.29
    part = head.extras["part"]
    np.testing.assert_allclose(np.linalg.norm(v[part == 1] - out.joints[0, 3].numpy(), axis=1), 0.012, atol=1e-5)
    assert L[30, 2] == L[:, 2].max()


_CACHE = {}


def _cached():
    if not _CACHE:
        a = load_sample_head()
        _CACHE["a"] = (a, FLAME(a))
    return _CACHE["a"]


EXPECT = {  # name: (mask the motion concentrates in, share of total motion there)
    "lip_pucker": ("lips", 0.4),
    "lip_press": ("lips", 0.5),
    "upper_lip_raise": ("face", 0.95),
    "lower_lip_depress": ("face", 0.95),
    "lip_funnel": ("lips", 0.4),
    "cheek_puff": ("face", 0.9),
    "brow_raise": ("face", 0.7),
    "brow_furrow": ("face", 0.9),
    "blink_L": ("eyelid_left", 0.9),
    "blink_R": ("eyelid_right", 0.9),
    "mouth_corner_down": ("face", 0.95),
    "nose_wrinkle": ("face", 0.95),
    "lip_spread_smile": ("face", 0.95),
    "mouth_shift_left": ("face", 0.9),
}


@pytest.mark.parametrize("name", EXPR_NAMES)
def test_named_expression_is_local(head, flame, name):
    d = np.linalg.norm(displacement(flame, head, expr=expr_vec(head, name)), axis=1)
    mask, share = EXPECT[name]
    assert d[head.masks[mask]].sum() / d.sum() > share
    assert d[head.masks["scalp"]].max() < 2e-4 and d[head.masks["neck"]].max() < 5e-4
    assert 0.002 < d.max() < 0.02


def test_named_expressions_do_what_they_say(head, flame):
    rest = run(flame).landmarks[0].numpy()
    L = lambda n, w=1.0: run(flame, expr=expr_vec(head, n, w)).landmarks[0].numpy() - rest
    s = L("lip_spread_smile")
    assert s[54, 0] > 0.004 and s[48, 0] < -0.004 and s[54, 1] > 0.004 and s[48, 1] > 0.004  # corners out and up
    p = L("lip_pucker")
    assert p[54, 0] < -0.004 and p[48, 0] > 0.004 and p[51, 2] > 0.004  # corners in, lips forward
    assert L("upper_lip_raise")[62, 1] > 0.003 and abs(L("upper_lip_raise")[66, 1]) < 1e-4
    assert L("lower_lip_depress")[66, 1] < -0.003 and abs(L("lower_lip_depress")[62, 1]) < 1e-4
    f = L("lip_funnel")
    assert f[62, 1] - f[66, 1] > 0.004 and f[62, 2] > 0.003  # lips part and go forward
    assert L("brow_raise")[19, 1] > 0.004 and L("brow_raise")[24, 1] > 0.004
    b = L("brow_furrow")
    assert b[21, 1] < -0.001 and b[21, 0] > 0.001 and b[22, 0] < -0.001  # inner brows down, together
    assert L("mouth_corner_down")[48, 1] < -0.004 and L("mouth_corner_down")[54, 1] < -0.004
    assert L("mouth_shift_left")[57, 0] > 0.004
    assert L("nose_wrinkle")[31, 1] > 0.0005
    pr = L("lip_press")
    assert pr[51, 1] < -0.0005 and pr[57, 1] > 0.0005  # lips compress
    blink = run(flame, expr=expr_vec(head, "blink_R")).landmarks[0].numpy()
    assert np.linalg.norm(blink[37] - blink[41]) < 1e-4 < np.linalg.norm(rest[37] - rest[41])
    cheek = displacement(flame, head, expr=expr_vec(head, "cheek_puff"))
    x = head.v_template[:, 0]
    assert cheek[x > 0.03, 0].max() > 0.005 and cheek[x < -0.03, 0].min() < -0.005  # both cheeks go out


def test_posedirs_small_but_nonzero(head):
    nz = np.flatnonzero(np.abs(head.posedirs).reshape(-1, 36).max(0) > 0)
    assert nz.tolist() == [7, 16]
    assert 1e-3 < np.abs(head.posedirs).max() < 1e-2


# ---- landmarks ----------------------------------------------------------------------------------------------

MIRROR = np.array(
    list(range(16, -1, -1))
    + list(range(26, 16, -1))
    + [27, 28, 29, 30]
    + [35, 34, 33, 32, 31]
    + [45, 44, 43, 42, 47, 46, 39, 38, 37, 36, 41, 40]
    + [54, 53, 52, 51, 50, 49, 48, 59, 58, 57, 56, 55]
    + [64, 63, 62, 61, 60, 67, 66, 65]
)


def test_landmarks(head):
    v, f = head.v_template, head.faces
    L = np.einsum("lkd,lk->ld", v[f[head.lmk_faces_idx]], head.lmk_bary_coords)
    assert head.lmk_faces_idx.shape == (68,) and head.static_lmk_faces_idx.shape == (51,)
    np.testing.assert_array_equal(head.static_lmk_faces_idx, head.lmk_faces_idx[17:])
    assert head.lmk_bary_coords.min() > -1e-6 and np.allclose(head.lmk_bary_coords.sum(1), 1, atol=1e-6)
    assert (head.extras["part"][f[head.lmk_faces_idx]] == 0).all()  # on the skin
    assert L[:, 2].argmax() == 30  # nose tip
    np.testing.assert_allclose(L[MIRROR] * [-1, 1, 1], L, atol=1e-5)  # symmetric under x → −x
    assert (L[0:8, 0] < 0).all() and (L[9:17, 0] > 0).all() and L[8, 1] == L[:17, 1].min()  # jaw: right → chin → left
    assert (L[17:22, 1] > L[36:42, 1].max()).all()  # brows above the eyes
    assert (L[36:42, 0] < 0).all() and (L[42:48, 0] > 0).all()  # iBUG: right eye first (−x)
    assert (L[[37, 38], 1] > L[[41, 40], 1]).all() and (L[[43, 44], 1] > L[[47, 46], 1]).all()
    assert L[27, 1] > L[28, 1] > L[29, 1] > L[30, 1] > L[33, 1]  # down the nose
    assert L[30, 1] > L[51, 1] > L[62, 1] >= L[66, 1] > L[57, 1] > L[8, 1]  # nose, lips, chin in order
    assert L[48, 0] < L[60, 0] < L[62, 0] < L[64, 0] < L[54, 0]


# ---- UV atlas and texture ------------------------------------------------------------------------------------


def test_uv_atlas(head):
    vt, ft = head.vt, head.ft
    assert vt.min() >= 0 and vt.max() <= 1 and head.vt.shape[0] != head.n_verts  # seams: vt ≠ v
    T = vt[ft].astype(np.float64)
    area = (T[:, 1, 0] - T[:, 0, 0]) * (T[:, 2, 1] - T[:, 0, 1]) - (T[:, 1, 1] - T[:, 0, 1]) * (T[:, 2, 0] - T[:, 0, 0])
    assert (area > 0).all()
    fid, bary, count = _uv_texel_table(vt, ft, 1024, 1024)
    assert (count > 1).sum() == 0  # no overlapping charts
    part = head.extras["part"][head.faces[:, 0]]
    for p in range(len(PARTS)):
        assert (part[fid[fid >= 0]] == p).any()  # every part has texels


def test_uv_to_pixel_convention():
    "v = 0 is the bottom row of the image, v = 1 the top; pixel centres at +0.5."
    np.testing.assert_allclose(
        uv_to_pixel(np.array([[0, 0], [1, 1], [0.5 / 8, 1 - 0.5 / 4]]), 4, 8), [[0, 4], [8, 0], [0.5, 0.5]]
    )


def test_texture_paints_the_right_places(head):
    tex = head.texture.astype(float) / 255
    H, W = tex.shape[:2]

    def colour_at_vertex(i):
        k = np.argwhere(head.faces == i)[0]
        x, y = uv_to_pixel(head.vt[head.ft[k[0], k[1]]], H, W).astype(int)
        return tex[min(y, H - 1), min(x, W - 1)]

    pupil = head.masks["eye_left"][0]  # the front pole
    assert colour_at_vertex(pupil).max() < 0.15
    crown = 0
    assert np.abs(colour_at_vertex(crown) - DEFAULT_COLORS["hair"]).max() < 0.1
    lip = head.faces[head.lmk_faces_idx[57], 0]
    assert np.abs(colour_at_vertex(lip) - DEFAULT_COLORS["lips"]).max() < 0.12
    cav = head.masks["mouth_interior"][0]
    c = colour_at_vertex(cav)
    assert c[0] > 2 * c[1] and c.max() < 0.5  # dark red


def test_make_texture_colours():
    t = make_texture(skin=(0.3, 0.2, 0.15), hair=(0.9, 0.8, 0.1), size=128)
    assert t.shape == (128, 128, 3) and t.dtype == np.uint8
    top = t[:8].reshape(-1, 3).mean(0) / 255  # the crown row of the atlas: hair
    np.testing.assert_allclose(top, (0.9, 0.8, 0.1), atol=0.12)
