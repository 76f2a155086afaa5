"Fuzzing FLAME's file readers with random and mutated bytes: only our AssetError family comes out, nothing runs."

import os
import pickle
import shutil
import tempfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings, strategies as st

from ggtalker_nb.core import AssetError
from ggtalker_nb.flame import (
    load_flame_npz,
    load_flame_params,
    load_landmark_embedding,
    load_obj,
    random_flame_assets,
    safe_unpickle,
    save_flame_npz,
    save_flame_pkl_official_style,
    load_flame_pkl,
    materialise,
)

SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TMP = Path(tempfile.mkdtemp(prefix="flame_fuzz_"))
SENTINEL = TMP / "pwned"


class _Evil:
    def __reduce__(self):
        return (os.system, (f"touch {SENTINEL}",))


def _seeds():
    a = random_flame_assets(n_verts=24, n_shape=2, n_expr=2, seed=0)
    save_flame_pkl_official_style(a, TMP / "seed.pkl")
    save_flame_npz(a, TMP / "seed.npz")
    np.savez(TMP / "params.npz", shape=np.zeros(2), expr=np.zeros((3, 2)), jaw_pose=np.zeros((3, 3)))
    arr = np.empty((), dtype=object)
    import torch
    from collections import OrderedDict

    arr[()] = OrderedDict(
        static_lmk_faces_idx=torch.arange(4),
        static_lmk_bary_coords=torch.rand(4, 3),
        full_lmk_faces_idx=np.arange(3),
        full_lmk_bary_coords=np.ones((3, 3)) / 3,
    )
    np.save(TMP / "lmk.npy", arr, allow_pickle=True)
    obj = "v 0 0 0\nv 1 0 0\nv 0 1 0\nv 1 1 0\nvt 0 0\nvt 1 0\nvt 0 1\nvn 0 0 1\nf 1/1/1 2/2/1 3/3/1\nf -1/-1 -2/-2 -3/-3\n"  # noqa: E501
    return dict(
        pkl=(TMP / "seed.pkl").read_bytes(),
        npz=(TMP / "seed.npz").read_bytes(),
        params=(TMP / "params.npz").read_bytes(),
        lmk=(TMP / "lmk.npy").read_bytes(),
        obj=obj.encode(),
        evil=pickle.dumps({"x": [_Evil()]}, protocol=2),
    )


SEEDS = _seeds()


def teardown_module():
    shutil.rmtree(TMP, ignore_errors=True)


@st.composite
def mutated(draw, key):
    "Seed bytes with a few random edits: byte flips, truncation, insertion, deletion, splicing."
    b = bytearray(SEEDS[key])
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "truncate", "insert", "delete", "splice"]))
        i = draw(st.integers(0, max(len(b) - 1, 0)))
        if op == "flip" and b:
            b[i] = draw(st.integers(0, 255))
        elif op == "truncate":
            del b[i:]
        elif op == "insert":
            b[i:i] = draw(st.binary(min_size=1, max_size=16))
        elif op == "delete":
            del b[i : i + draw(st.integers(1, 64))]
        else:
            other = SEEDS[draw(st.sampled_from(sorted(SEEDS)))]
            j = draw(st.integers(0, len(other) - 1))
            b[i : i + 32] = other[j : j + 32]
    return bytes(b)


def _only_our_errors(fn, data, name):
    p = TMP / name
    p.write_bytes(data)
    try:
        fn(p)
    except AssetError:
        pass
    assert not SENTINEL.exists()


@SETTINGS
@given(
    st.one_of(
        st.binary(max_size=256), st.binary(max_size=64).map(lambda b: b"\x80\x02" + b), mutated("pkl"), mutated("evil")
    )
)
def test_unpickler_fuzz(data):
    try:
        materialise(safe_unpickle(data, "fuzz.pkl"))
    except AssetError:
        pass
    assert not SENTINEL.exists()


@SETTINGS
@given(mutated("pkl"))
def test_flame_pkl_fuzz(data):
    _only_our_errors(load_flame_pkl, data, "fuzz_model.pkl")


@SETTINGS
@given(st.one_of(st.binary(max_size=128), mutated("npz")))
def test_npz_fuzz(data):
    _only_our_errors(load_flame_npz, data, "fuzz.npz")


@SETTINGS
@given(mutated("params"))
def test_params_fuzz(data):
    _only_our_errors(load_flame_params, data, "fuzz_params.npz")


@SETTINGS
@given(st.one_of(mutated("lmk"), st.binary(max_size=128).map(lambda b: SEEDS["lmk"][:128] + b)))
def test_landmark_npy_fuzz(data):
    _only_our_errors(load_landmark_embedding, data, "fuzz_lmk.npy")


_obj_line = st.one_of(
    st.tuples(
        st.sampled_from(["v", "vt", "vn", "f", "g", "#", "usemtl", "f", "f"]),
        st.lists(
            st.one_of(
                st.integers(-6, 6).map(str),
                st.floats(allow_nan=True).map(str),
                st.sampled_from(["1/1", "2//3", "-1/-1/-1", "/", "1/2/3/4", "x", "", "1e400"]),
            ),
            max_size=5,
        ),
    ).map(lambda t: " ".join([t[0], *t[1]])),
    st.text(max_size=20),
)


@SETTINGS
@given(
    st.one_of(
        mutated("obj"), st.lists(_obj_line, max_size=12).map(lambda ls: "\n".join(ls).encode("utf-8", "surrogatepass"))
    )
)
def test_obj_fuzz(data):
    _only_our_errors(load_obj, data, "fuzz.obj")
