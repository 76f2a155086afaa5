"FLAME layer and loaders: smplx parity, official-format pickles written independently of our writer, malicious files."

import io
import os
import pickle
import subprocess
import sys
import types
from collections import OrderedDict

import numpy as np
import pytest
import torch
from einops import rearrange

from ggtalker_nb.core import AssetError, UnsafeFileError
from ggtalker_nb.flame import (
    FLAME,
    FlameAssets,
    convert_flame,
    load_flame,
    load_flame_npz,
    load_flame_pkl,
    load_landmark_embedding,
    random_flame_assets,
    safe_unpickle,
    save_flame_npz,
    save_flame_pkl_official_style,
)

from smplx.lbs import lbs as smplx_lbs  # a dev requirement; the parity oracle


@pytest.fixture(scope="module")
def big():
    return random_flame_assets(n_verts=5023, n_shape=30, n_expr=20, seed=7)


@pytest.mark.parametrize("batch,seed", [(1, 0), (5, 1), (16, 2)])
def test_lbs_matches_smplx(big, batch, seed):
    flame = FLAME(big)
    g = torch.Generator().manual_seed(seed)
    shape, expr = torch.randn(batch, 30, generator=g), torch.randn(batch, 20, generator=g)
    pose = torch.randn(batch, 15, generator=g) * 0.5
    out = flame(shape, expr, pose)
    v, j = smplx_lbs(
        torch.cat([shape, expr], 1),
        pose,
        flame.v_template,
        flame.shapedirs,
        rearrange(flame.posedirs, "v c p -> p (v c)"),
        flame.J_regressor,
        flame.parents,
        flame.weights,
    )
    torch.testing.assert_close(out.vertices, v, atol=1e-5, rtol=0)
    torch.testing.assert_close(out.joints, j, atol=1e-5, rtol=0)


def test_lbs_matches_smplx_with_offsets_float64(big):
    flame = FLAME(big, dtype=torch.float64)
    g = torch.Generator().manual_seed(3)
    B = 4
    shape, expr = (
        torch.randn(B, 30, generator=g, dtype=torch.float64),
        torch.randn(B, 20, generator=g, dtype=torch.float64),
    )
    pose = torch.randn(B, 15, generator=g, dtype=torch.float64)
    off = torch.randn(B, big.n_verts, 3, generator=g, dtype=torch.float64) * 1e-2
    out = flame(shape, expr, pose, vertex_offsets=off)
    v, j = smplx_lbs(
        torch.cat([shape, expr], 1),
        pose,
        flame.v_template + off,
        flame.shapedirs,
        rearrange(flame.posedirs, "v c p -> p (v c)"),
        flame.J_regressor,
        flame.parents,
        flame.weights,
    )
    # smplx's Rodrigues adds 1e-8 to the rotation vector before taking its norm: agreement is ~1e-8, not 1e-15
    torch.testing.assert_close(out.vertices, v, atol=1e-7, rtol=0)
    torch.testing.assert_close(out.joints, j, atol=1e-7, rtol=0)


def test_jaw_moves_only_jaw_weighted_vertices(big):
    a = big.copy()
    a.posedirs[:] = 0  # pose correctives act wherever their basis is nonzero
    flame = FLAME(a)
    rest = flame().vertices[0]
    for jaw in ([0.4, 0, 0], [0.1, -0.2, 0.05]):
        d = flame(jaw_pose=torch.tensor([jaw])).vertices[0] - rest
        torch.testing.assert_close(d, _jaw_displacement_expected(flame, jaw), atol=1e-6, rtol=0)
        assert torch.equal(d.norm(dim=-1) > 0, flame.weights[:, 2] > 0)
    # neck rotation moves everything skinned to the neck or its children, but not root-only vertices
    d = (flame(neck_pose=torch.tensor([[0.3, 0, 0]])).vertices[0] - rest).norm(dim=-1)
    assert torch.equal(d > 1e-7, flame.weights[:, 1:].sum(1) > 0)


def test_gradients_reach_every_parameter():
    tiny = FLAME(random_flame_assets(n_verts=12, n_shape=2, n_expr=2, seed=5, scale=1e-2), dtype=torch.float64)
    V = tiny.n_verts
    g = torch.Generator().manual_seed(0)
    mk = lambda *s, k=1.0: (torch.randn(*s, generator=g, dtype=torch.float64) * k).requires_grad_()
    inputs = (mk(1, 2), mk(1, 2), mk(1, 3), mk(1, 3), mk(1, 3), mk(1, 6), mk(1, 3), mk(V, 3, k=1e-2))
    f = lambda s, e, go, nk, jw, ey, t, o: (
        tiny(s, e, transl=t, vertex_offsets=o, global_orient=go, neck_pose=nk, jaw_pose=jw, eye_pose=ey).vertices
    )
    assert torch.autograd.gradcheck(f, inputs, eps=1e-6, atol=1e-6)
    out = f(*inputs).sum()
    out.backward()
    assert all(x.grad is not None and x.grad.abs().sum() > 0 for x in inputs)


def test_shared_shape_path_matches_and_has_gradients():
    "shape (S,) takes a cheaper path (blend once); it must equal the per-frame path and differentiate."
    tiny = FLAME(random_flame_assets(n_verts=12, n_shape=3, n_expr=2, seed=2, scale=1e-2), dtype=torch.float64)
    g = torch.Generator().manual_seed(1)
    s = torch.randn(3, generator=g, dtype=torch.float64, requires_grad=True)
    e = torch.randn(4, 2, generator=g, dtype=torch.float64, requires_grad=True)
    p = torch.randn(4, 15, generator=g, dtype=torch.float64) * 0.3
    torch.testing.assert_close(tiny(s, e, p).vertices, tiny(s[None].expand(4, -1), e, p).vertices)
    assert torch.autograd.gradcheck(lambda s, e: tiny(s, e, p).vertices, (s, e), eps=1e-6, atol=1e-6)


def test_gradcheck_full_pose_vector_near_zero():
    "Rodrigues at angle 0 must have an exact gradient (FLAME's rest pose)."
    tiny = FLAME(random_flame_assets(n_verts=20, n_shape=1, n_expr=1, seed=6, scale=1e-2), dtype=torch.float64)
    pose = torch.zeros(1, 15, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda p: tiny(pose=p).vertices, (pose,), eps=1e-6, atol=1e-6)


# ---------- official-format pickle produced independently: fake chumpy classes in sys.modules ----------


@pytest.fixture
def fake_chumpy(monkeypatch):
    "Modules chumpy, chumpy.ch, chumpy.reordering with look-alike classes, only for pickling."
    chumpy, ch, reo = (types.ModuleType(n) for n in ("chumpy", "chumpy.ch", "chumpy.reordering"))

    class Ch:
        def __init__(self, x):
            self.x = np.asarray(x)

        def __getstate__(self):
            return {"x": self.x, "_dirty_vars": set(), "_itr": None}

        def __setstate__(self, d):
            self.__dict__.update(d)

    Ch.__module__, Ch.__qualname__ = "chumpy.ch", "Ch"

    class Select(Ch):
        def __init__(self, a, idxs, preferred_shape):
            self.a, self.idxs, self.preferred_shape = a, idxs, preferred_shape

        def __getstate__(self):
            return {"a": self.a, "idxs": self.idxs, "preferred_shape": self.preferred_shape}

    Select.__module__, Select.__qualname__ = "chumpy.reordering", "Select"
    ch.Ch, reo.Select, chumpy.ch, chumpy.reordering = Ch, Select, ch, reo
    for name, m in (("chumpy", chumpy), ("chumpy.ch", ch), ("chumpy.reordering", reo)):
        monkeypatch.setitem(sys.modules, name, m)
    return Ch, Select


def _official_bytes(a: FlameAssets, Ch, Select) -> bytes:
    import scipy.sparse as sp

    jr = sp.csc_matrix(a.J_regressor.astype(np.float64))
    J = a.J_regressor.astype(np.float64) @ a.v_template.astype(np.float64)
    d = {
        "v_template": Ch(a.v_template.astype(np.float64)),
        "shapedirs": Ch(a.shapedirs.astype(np.float64)),
        "posedirs": Ch(rearrange(a.posedirs.astype(np.float64), "v c p -> (v c) p")),  # also accept (3V, P)
        "J_regressor": jr,
        "weights": Ch(a.weights.astype(np.float64)),
        "f": a.faces.astype(np.uint32),
        "kintree_table": np.stack([np.where(a.parents < 0, 4294967295, a.parents), np.arange(a.n_joints)]).astype(
            np.uint32
        ),
        "J": Select(Ch(J.ravel()), np.arange(J.size)[::-1].copy(), J.shape),
        "bs_style": "lbs",
    }
    raw = pickle.dumps(d, protocol=2)
    mod = type(jr).__module__.encode()  # e.g. scipy.sparse._csc
    assert raw.count(b"c" + mod + b"\ncsc_matrix\n") == 1
    raw = raw.replace(b"c" + mod + b"\ncsc_matrix\n", b"cscipy.sparse.csc\ncsc_matrix\n")
    return raw


def test_fake_chumpy_pickle_loads(tmp_path, fake_chumpy):
    a = random_flame_assets(n_verts=200, n_shape=5, n_expr=3, seed=8)
    raw = _official_bytes(a, *fake_chumpy)
    assert b"cchumpy.ch\nCh\n" in raw and b"cscipy.sparse.csc\ncsc_matrix\n" in raw and raw[:2] == b"\x80\x02"
    (tmp_path / "flame2023.pkl").write_bytes(raw)
    m = load_flame_pkl(tmp_path / "flame2023.pkl", n_shape=5)
    for k in ("v_template", "shapedirs", "posedirs", "J_regressor", "weights", "parents", "faces"):
        np.testing.assert_allclose(getattr(m, k), getattr(a, k), atol=1e-7)
    J = a.J_regressor.astype(np.float64) @ a.v_template.astype(np.float64)
    np.testing.assert_allclose(m.extras["J"], J.ravel()[::-1].reshape(J.shape), atol=1e-7)
    assert m.flame_version == "2023" and m.parents[0] == -1
    # FLAME() takes the path directly, and the npz conversion is pickle-free and equal
    torch.testing.assert_close(FLAME(m)().vertices[0], torch.as_tensor(a.v_template))
    with pytest.raises(AssetError, match="pass n_shape explicitly"):  # not 400 columns: the split is not FLAME's
        FLAME(tmp_path / "flame2023.pkl")
    convert_flame(tmp_path / "flame2023.pkl", tmp_path / "m.npz", n_shape=5)
    np.testing.assert_array_equal(load_flame(tmp_path / "m.npz").shapedirs, m.shapedirs)


def test_our_writer_and_pythons_agree(tmp_path, fake_chumpy):
    a = random_flame_assets(n_verts=100, n_shape=4, n_expr=2, seed=9)
    save_flame_pkl_official_style(a, tmp_path / "ours.pkl")
    (tmp_path / "theirs.pkl").write_bytes(_official_bytes(a, *fake_chumpy))
    x, y = load_flame_pkl(tmp_path / "ours.pkl", n_shape=4), load_flame_pkl(tmp_path / "theirs.pkl", n_shape=4)
    for k in ("v_template", "shapedirs", "posedirs", "J_regressor", "weights", "parents", "faces"):
        np.testing.assert_array_equal(getattr(x, k), getattr(y, k))


def test_py2_protocol0_masks(tmp_path):
    "A hand-written Python 2 protocol-0 pickle of masks (numpy arrays with latin-1 str data)."
    arr = np.array([1, 5, 7], np.int64)
    data = arr.tobytes().decode("latin1")
    body = (
        "(dp0\nS'lips'\np1\ncnumpy.core.multiarray\n_reconstruct\np2\n(cnumpy\nndarray\np3\n(I0\ntp4\nS'b'\np5\ntp6\nRp7\n"
        f"(I1\n(I3\ntp8\ncnumpy\ndtype\np9\n(S'i8'\np10\nI0\nI1\ntp11\nRp12\n(I3\nS'<'\np13\nNNNI-1\nI-1\nI0\ntp14\nbI00\n"
        f"S{data!r}\np15\ntp16\nbs."
    )
    from ggtalker_nb.flame import load_flame_masks

    (tmp_path / "FLAME_masks.pkl").write_bytes(body.encode("latin1"))
    np.testing.assert_array_equal(load_flame_masks(tmp_path / "FLAME_masks.pkl")["lips"], arr)


# ---------- malicious files ----------


class _Evil:
    def __init__(self, f, *a):
        self.f, self.a = f, a

    def __reduce__(self):
        return (self.f, self.a)


def _evil_payloads(sentinel):
    s = str(sentinel)
    out = [pickle.dumps(_Evil(os.system, f"touch {s}"), protocol=p) for p in range(0, 6)]
    out += [
        pickle.dumps(_Evil(subprocess.check_call, ["touch", s]), protocol=2),
        pickle.dumps(_Evil(eval, f"open({s!r}, 'w')"), protocol=2),
        f"c__builtin__\neval\n(S\"open({s!r}, 'w')\"\ntR.".encode(),  # Python 2 spelling
        f"cos\nsystem\n(S'touch {s}'\ntR.".encode(),
        f"cbuiltins\ngetattr\n(cbuiltins\n__import__\n(S'os'\ntRS'system'\ntR(S'touch {s}'\ntR.".encode(),
        b"\x80\x02ccopy_reg\n_reconstructor\ncos\n_wrap_close\nc__builtin__\nobject\nN\x87R.",
        pickle.dumps({"v_template": OrderedDict(x=[_Evil(os.system, f"touch {s}")])}, protocol=4),
    ]
    return out


def test_malicious_pickles_refused_without_running(tmp_path):
    sentinel = tmp_path / "pwned"
    for i, p in enumerate(_evil_payloads(sentinel)):
        with pytest.raises(UnsafeFileError, match="not on the allow-list"):
            safe_unpickle(p, f"evil{i}.pkl")
        (tmp_path / f"evil{i}.pkl").write_bytes(p)
        with pytest.raises(UnsafeFileError):
            load_flame_pkl(tmp_path / f"evil{i}.pkl")
    assert not sentinel.exists()


def test_allowed_names_cannot_be_abused(tmp_path):
    # _reconstruct with a subtype other than ndarray; _codecs.encode to another codec; object scalar; copyreg with a
    # non-stub
    with pytest.raises(UnsafeFileError):
        safe_unpickle(b"\x80\x02cnumpy.core.multiarray\n_reconstruct\ncchumpy.ch\nCh\nK\x00\x85U\x01b\x87R.")
    with pytest.raises(UnsafeFileError):
        safe_unpickle(b"\x80\x02c_codecs\nencode\nX\x01\x00\x00\x00aX\x06\x00\x00\x00base64\x86R.")
    with pytest.raises(AssetError):  # numpy.ndarray is a reference for _reconstruct, not a callable
        safe_unpickle(b"\x80\x02cnumpy\nndarray\nJ\x00\xe1\xf5\x05\x85\x85R.")
    with pytest.raises(UnsafeFileError):
        safe_unpickle(b"\x80\x02ccopy_reg\n_reconstructor\nccollections\nOrderedDict\nc__builtin__\nobject\nN\x87R.")
    # torch is only allowed for the landmark file
    t = pickle.dumps(torch.arange(3), protocol=2)
    with pytest.raises(UnsafeFileError, match="torch"):
        safe_unpickle(t)
    np.testing.assert_array_equal(safe_unpickle(t, allow_torch=True).numpy(), [0, 1, 2])


def test_landmark_npy_with_malicious_storage(tmp_path):
    """A storage blob inside the embedding that is itself a malicious torch pickle: torch.load(weights_only=True)
    refuses it."""
    sentinel = tmp_path / "pwned"
    buf = io.BytesIO()
    torch.save(_Evil(os.system, f"touch {sentinel}"), buf)
    import torch.storage as ts

    class _Blob:
        def __reduce__(self):
            return (ts._load_from_bytes, (buf.getvalue(),))

    arr = np.empty((), dtype=object)
    arr[()] = OrderedDict(static_lmk_faces_idx=_Blob())
    np.save(tmp_path / "lmk.npy", arr, allow_pickle=True)
    with pytest.raises(UnsafeFileError, match="weights-only loader .*posix.system") as e:
        load_landmark_embedding(tmp_path / "lmk.npy")
    assert not sentinel.exists()
    # torch's own message advises retrying with weights_only=False: our message never passes that on
    assert "weights_only=False" not in str(e.value) and "likely succeed" not in str(e.value), str(e.value)


def test_landmark_npy_real_format(tmp_path):
    rng = np.random.default_rng(0)
    emb = OrderedDict(
        static_lmk_faces_idx=torch.as_tensor(rng.integers(0, 100, 51)),
        static_lmk_bary_coords=torch.as_tensor(rng.random((51, 3))),
        dynamic_lmk_faces_idx=torch.as_tensor(rng.integers(0, 100, (79, 17))),
        dynamic_lmk_bary_coords=torch.as_tensor(rng.random((79, 17, 3))),
        full_lmk_faces_idx=torch.as_tensor(rng.integers(0, 100, (1, 68))),
        full_lmk_bary_coords=torch.as_tensor(rng.random((1, 68, 3))),
    )
    arr = np.empty((), dtype=object)
    arr[()] = emb
    np.save(tmp_path / "lmk.npy", arr, allow_pickle=True)
    e = load_landmark_embedding(tmp_path / "lmk.npy")
    for k, v in emb.items():
        np.testing.assert_allclose(e[k], v.numpy().reshape(e[k].shape), atol=1e-6)
    assert e["full_lmk_faces_idx"].shape == (68,) and e["full_lmk_bary_coords"].shape == (68, 3)


def test_npz_roundtrip_and_path_autodetect(tmp_path):
    a = random_flame_assets(n_verts=64, n_shape=3, n_expr=2, seed=1)
    save_flame_npz(a, tmp_path / "a.npz")
    b = load_flame(tmp_path / "a.npz")
    np.testing.assert_array_equal(a.shapedirs, b.shapedirs)
    (tmp_path / "junk.bin").write_bytes(b"hello")
    with pytest.raises(AssetError, match="junk.bin"):
        load_flame(tmp_path / "junk.bin")


# ---------- the shipped sample head (data_samples/sample_head.npz, made by ggtalker_nb.sample_head) ----------


@pytest.fixture(scope="module")
def sample_head():
    from ggtalker_nb.core import data_samples_path

    return load_flame_npz(data_samples_path("sample_head.npz", must_exist=True))


def test_sample_head_matches_smplx(sample_head):
    flame = FLAME(sample_head)
    g = torch.Generator().manual_seed(11)
    B = 6
    shape, expr = torch.randn(B, flame.n_shape, generator=g), torch.randn(B, flame.n_expr, generator=g)
    pose = torch.randn(B, 3 * flame.n_joints, generator=g) * 0.3
    transl = torch.randn(B, 3, generator=g) * 0.05
    out = flame(shape, expr, pose, transl)
    v, j = smplx_lbs(
        torch.cat([shape, expr], 1),
        pose,
        flame.v_template,
        flame.shapedirs,
        rearrange(flame.posedirs, "v c p -> p (v c)"),
        flame.J_regressor,
        flame.parents,
        flame.weights,
    )
    torch.testing.assert_close(out.vertices, v + transl[:, None], atol=1e-5, rtol=0)
    torch.testing.assert_close(out.joints, j + transl[:, None], atol=1e-5, rtol=0)
    assert out.landmarks.shape == (B, 68, 3)


def _jaw_displacement_expected(flame, jaw):
    "With only the jaw rotated (no correctives): v' - v = w_jaw · (R (v - J_jaw) + J_jaw - v)."
    from ggtalker_nb.geometry import axis_angle_to_matrix

    v = flame.v_template
    Jj = (flame.J_regressor @ v)[2]
    R = axis_angle_to_matrix(torch.as_tensor(jaw, dtype=v.dtype))
    return flame.weights[:, 2:3] * ((v - Jj) @ R.T + Jj - v)


def test_sample_head_jaw_moves_only_jaw_weighted_vertices(sample_head):
    a = sample_head.copy()
    a.posedirs[:] = 0
    flame = FLAME(a)
    jaw = [0.3, 0.02, 0.0]
    d = flame(jaw_pose=torch.tensor([jaw])).vertices[0] - flame().vertices[0]
    torch.testing.assert_close(d, _jaw_displacement_expected(flame, jaw), atol=1e-6, rtol=0)
    assert d[flame.weights[:, 2] == 0].abs().max() == 0  # no jaw weight: not a single bit moves
    assert d[flame.masks["lips"]].norm(dim=-1).max() > 1e-3  # the lips do follow the jaw


def test_landmark_values_beyond_float32_are_refused_without_warnings(tmp_path):
    "Barycentrics of 1e300 overflow float32: an AssetError naming the key, not numpy's 'overflow encountered in cast'."
    import warnings

    arr = np.empty((), dtype=object)
    arr[()] = OrderedDict(static_lmk_faces_idx=np.arange(3), static_lmk_bary_coords=np.full((3, 3), 1e300))
    np.save(tmp_path / "lmk.npy", arr, allow_pickle=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(AssetError, match="'static_lmk_bary_coords' has NaN/inf values or values beyond float32"):
            load_landmark_embedding(tmp_path / "lmk.npy")
