"""Structural fuzzing of the restricted unpickler: hypothesis writes *valid* pickle opcode streams over the allowed
globals (numpy dtype / `_reconstruct` / scalar, chumpy and scipy.sparse stand-ins, torch rebuilds, containers, memo
references) with arbitrary BUILD states and REDUCE arguments. Byte mutation of real files cannot reach the states
that matter (a dtype whose fields hold an object dtype with its flags reset to 0 made numpy read raw bytes as
object pointers: a segfault), so each stream is loaded — through `safe_unpickle` + `materialise`, `read_npy_safe`
and `load_flame_pkl` — and every value touched (repr, tolist, copy) in a worker subprocess: a crash fails the test.

One worker process serves many examples (a length-prefixed pipe); it is restarted after a crash so hypothesis
can shrink the failing stream. Only our `AssetError` family may come out of the loaders."""

import io
import json
import os
import pickle
import struct
import subprocess
import sys

import pytest
import torch
from hypothesis import HealthCheck, given, settings, strategies as st

from helpers import subprocess_env

P = pickle

# ---- the worker: loads each stream three ways, touches everything, answers one JSON line per stream ----
WORKER = r'''
import io, json, os, struct, sys, tempfile, shutil
import numpy as np
from ggtalker_nb.core import AssetError
from ggtalker_nb.flame import safe_unpickle, materialise, read_npy_safe, load_flame_pkl
tmp = tempfile.mkdtemp(prefix="unpickle_fuzz_")

def touch(x, depth=0, seen=None):
    seen = set() if seen is None else seen
    if depth > 30 or id(x) in seen: return
    seen.add(id(x))
    if isinstance(x, np.ndarray):
        repr(x); x.copy(); x.tolist(); x.tobytes()
        if x.dtype == object:
            for v in x.ravel(): touch(v, depth + 1, seen)
        return
    if isinstance(x, dict):
        for k, v in list(x.items()): touch(k, depth + 1, seen); touch(v, depth + 1, seen)
        return
    if isinstance(x, (list, tuple, set, frozenset)):
        for v in list(x): touch(v, depth + 1, seen)
        return
    try: repr(x)
    except RecursionError: pass

def run(fn):
    try: touch(fn())
    except AssetError: return None
    except RecursionError: return None
    except Exception as e: return f"{type(e).__name__}: {str(e)[:300]}"

hdr = io.BytesIO(); np.lib.format.write_array_header_1_0(hdr, {"descr": "|O", "fortran_order": False, "shape": ()})
hdr = np.lib.format.magic(1, 0) + hdr.getvalue()
out = sys.stdout
try:
    while True:
        n = sys.stdin.buffer.read(4)
        if len(n) < 4: break
        data = sys.stdin.buffer.read(struct.unpack("<I", n)[0])
        wrapped = sys.stdin.buffer.read(struct.unpack("<I", sys.stdin.buffer.read(4))[0])
        errs = [run(lambda: materialise(safe_unpickle(data, "fuzz.pkl")))]
        with open(os.path.join(tmp, "x.npy"), "wb") as fh: fh.write(hdr + data)
        errs.append(run(lambda: read_npy_safe(os.path.join(tmp, "x.npy"))))
        with open(os.path.join(tmp, "m.pkl"), "wb") as fh: fh.write(wrapped)
        errs.append(run(lambda: load_flame_pkl(os.path.join(tmp, "m.pkl"), n_shape=1)))
        out.write(json.dumps([e for e in errs if e]) + "\n"); out.flush()
finally:
    shutil.rmtree(tmp, ignore_errors=True)
'''


class Worker:
    "A long-lived loader subprocess; `check(data, wrapped)` → list of non-AssetError errors, or raises on a crash."

    def __init__(self):
        self.p = None

    def start(self):
        self.p = subprocess.Popen(
            [sys.executable, "-c", WORKER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=subprocess_env(),
        )

    def check(self, data: bytes, wrapped: bytes) -> list:
        if self.p is None or self.p.poll() is not None:
            self.start()
        try:
            self.p.stdin.write(struct.pack("<I", len(data)) + data + struct.pack("<I", len(wrapped)) + wrapped)
            self.p.stdin.flush()
            line = self.p.stdout.readline()
        except BrokenPipeError:
            line = b""
        if not line:
            rc = self.p.wait(timeout=30)
            self.p = None
            raise AssertionError(f"the loader process died (exit {rc}) on this pickle: {data!r}")
        return json.loads(line)

    def close(self):
        if self.p is not None and self.p.poll() is None:
            self.p.stdin.close()
            self.p.wait(timeout=30)
        self.p = None


@pytest.fixture(scope="module")
def worker():
    w = Worker()
    w.start()
    yield w
    w.close()


# ---- an opcode-stream AST: nodes emit opcodes that push exactly one value ----
def _s(x: str) -> bytes:
    b = x.encode("utf-8", "surrogatepass")
    return P.BINUNICODE + struct.pack("<I", len(b)) + b


def _b(x: bytes) -> bytes:
    return P.BINBYTES + struct.pack("<I", len(x)) + x


def _i(x: int) -> bytes:
    if -(2**31) <= x < 2**31:
        return P.BININT + struct.pack("<i", x)
    return P.LONG1 + bytes([len(pickle.encode_long(x))]) + pickle.encode_long(x)


class Emitter:
    def __init__(self):
        self.n_memo = 0

    def emit(self, node) -> bytes:
        kind = node[0]
        if kind == "raw":
            return node[1]
        if kind == "glob":
            return P.GLOBAL + f"{node[1]}\n{node[2]}\n".encode()
        if kind == "tuple":
            return P.MARK + b"".join(self.emit(c) for c in node[1]) + P.TUPLE
        if kind == "list":
            return P.EMPTY_LIST + P.MARK + b"".join(self.emit(c) for c in node[1]) + P.APPENDS
        if kind == "dict":
            return P.EMPTY_DICT + P.MARK + b"".join(self.emit(k) + self.emit(v) for k, v in node[1]) + P.SETITEMS
        if kind == "reduce":
            return self.emit(node[1]) + self.emit(node[2]) + P.REDUCE
        if kind == "newobj":
            return self.emit(node[1]) + self.emit(node[2]) + P.NEWOBJ
        if kind == "build":
            return self.emit(node[1]) + self.emit(node[2]) + P.BUILD
        if kind == "memo":
            out = self.emit(node[1]) + P.LONG_BINPUT + struct.pack("<I", self.n_memo)
            self.n_memo += 1
            return out
        if kind == "get":
            return P.LONG_BINGET + struct.pack("<I", node[1] % self.n_memo) if self.n_memo else P.NONE
        raise ValueError(kind)


def _torch_storage_bytes() -> bytes:
    buf = io.BytesIO()
    torch.save(torch.arange(6, dtype=torch.float32).untyped_storage(), buf)
    return buf.getvalue()


STORAGE = _torch_storage_bytes()

G = lambda m, n: ("glob", m, n)
lit = lambda b: ("raw", b)
small_int = st.one_of(st.sampled_from([-1, 0, 1, 2, 3, 4, 8, 16, 24, 63]), st.integers(-(2**40), 2**40))
leaf = st.one_of(
    small_int.map(lambda x: lit(_i(x))),
    st.floats(allow_nan=True).map(lambda x: lit(P.BINFLOAT + struct.pack(">d", x))),
    st.text(max_size=6).map(lambda x: lit(_s(x))),
    st.sampled_from(["<", ">", "|", "=", "a", "b", "x", "f8", "O8", "latin1"]).map(lambda x: lit(_s(x))),
    st.binary(max_size=40).map(lambda x: lit(_b(x))),
    st.sampled_from([P.NONE, P.NEWTRUE, P.NEWFALSE, P.EMPTY_TUPLE]).map(lit),
    st.integers(0, 50).map(lambda k: ("get", k)),
)
SPECS = [
    "f8",
    "f4",
    "f2",
    "i8",
    "i4",
    "i2",
    "i1",
    "u8",
    "u4",
    "u1",
    "b1",
    "c16",
    "c8",
    "O8",
    "O4",
    "V8",
    "V16",
    "V0",
    "S3",
    "S0",
    "U2",
    "M8",
    "m8",
    "f16",
    "?",
    "d",
    "T",
]
value = st.deferred(
    lambda: st.one_of(
        leaf,
        leaf,
        containers,
        dtype_node,
        dtype_node,
        array_node,
        coherent_array(),
        coherent_array(),
        scalar_node,
        stub_node,
        sparse_node,
        torch_node,
        misc_reduce,
        any_build,
        any_reduce,
    )
)
containers = st.one_of(
    st.lists(value, max_size=4).map(lambda xs: ("tuple", xs)),
    st.lists(value, max_size=4).map(lambda xs: ("list", xs)),
    st.lists(
        st.tuples(
            st.one_of(leaf, st.sampled_from(["x", "a", "idxs", "data", "_shape"]).map(lambda k: lit(_s(k)))), value
        ),
        max_size=4,
    ).map(lambda kv: ("dict", kv)),
    value.map(lambda v: ("memo", v)),
)
shape = st.one_of(
    st.lists(st.sampled_from([0, 1, 2, 3]), max_size=3).map(lambda xs: ("tuple", [lit(_i(x)) for x in xs])), value
)
dtype_plain = st.tuples(st.one_of(st.sampled_from(SPECS), st.text(max_size=4)), st.booleans(), st.booleans()).map(
    lambda t: (
        "memo",
        (
            "reduce",
            G("numpy", "dtype"),
            ("tuple", [lit(_s(t[0])), lit(P.NEWTRUE if t[1] else P.NEWFALSE), lit(P.NEWTRUE if t[2] else P.NEWFALSE)]),
        ),
    )
)
field_names = st.lists(st.sampled_from(["a", "b", "c"]), max_size=3)
dtype_state = st.builds(
    lambda ver, bo, sub, names, fields, rest, meta: ("tuple", [ver, bo, sub, names, fields, *rest] + meta),
    st.one_of(st.sampled_from([3, 4, 2, 1, 0]).map(lambda x: lit(_i(x))), value),
    st.one_of(st.sampled_from(["<", ">", "|", "="]).map(lambda x: lit(_s(x))), value),
    st.one_of(
        st.just(lit(P.NONE)), st.tuples(st.deferred(lambda: dtype_node), shape).map(lambda t: ("tuple", list(t)))
    ),
    st.one_of(st.just(lit(P.NONE)), field_names.map(lambda ns: ("tuple", [lit(_s(n)) for n in ns]))),
    st.one_of(
        st.just(lit(P.NONE)),
        st.lists(
            st.tuples(
                st.sampled_from(["a", "b", "c"]),
                st.deferred(lambda: dtype_node),
                st.sampled_from([0, 1, 4, 8]),
                st.booleans(),
            ),
            max_size=3,
        ).map(
            lambda fs: (
                "dict",
                [(lit(_s(n)), ("tuple", [d, lit(_i(o))] + ([lit(_s("t"))] if t else []))) for n, d, o, t in fs],
            )
        ),
        value,
    ),
    st.lists(st.one_of(small_int.map(lambda x: lit(_i(x))), value), min_size=3, max_size=3),
    st.one_of(st.just([]), st.just([lit(P.NONE)]), value.map(lambda v: [v])),
)
dtype_node = st.one_of(dtype_plain, st.tuples(dtype_plain, dtype_state).map(lambda t: ("memo", ("build", t[0], t[1]))))


@st.composite
def coherent_array(draw):
    """An ndarray BUILD whose dtype state (plain or structured, any flags) agrees with its raw data length: the states
    numpy accepts."""
    e, n = draw(st.sampled_from([1, 2, 4, 8, 16])), draw(st.sampled_from([0, 1, 2, 3]))
    names = draw(st.lists(st.sampled_from(["a", "b"]), unique=True, max_size=2))
    inner = st.one_of(
        st.sampled_from(["O8", "O8", "f8", "i4", "V8", "u1"]).map(
            lambda sp: (
                "memo",
                ("reduce", G("numpy", "dtype"), ("tuple", [lit(_s(sp)), lit(P.NEWFALSE), lit(P.NEWTRUE)])),
            )
        ),
        dtype_node,
    )
    fields = [(lit(_s(nm)), ("tuple", [draw(inner), lit(_i(draw(st.sampled_from([0, 4, 8]))))])) for nm in names]
    state = (
        "tuple",
        [
            lit(_i(draw(st.sampled_from([3, 4])))),
            lit(_s(draw(st.sampled_from(["|", "<", ">"])))),
            draw(st.one_of(st.just(lit(P.NONE)), st.tuples(inner, shape).map(lambda t: ("tuple", list(t))))),
            ("tuple", [lit(_s(nm)) for nm in names]) if names else lit(P.NONE),
            ("dict", fields) if names else lit(P.NONE),
            lit(_i(e)),
            lit(_i(draw(st.sampled_from([-1, 1, 4, 8])))),
            lit(_i(draw(st.sampled_from([0, 0, 1, 8, 16, 63])))),
            *draw(st.sampled_from([[], [lit(P.NONE)]])),
        ],
    )
    spec = draw(st.sampled_from(["V8", "V16", "V4", "O8", "f8", "S8"]))
    dt = (
        "memo",
        ("build", ("reduce", G("numpy", "dtype"), ("tuple", [lit(_s(spec)), lit(P.NEWFALSE), lit(P.NEWTRUE)])), state),
    )
    raw = lit(_b(bytes([draw(st.sampled_from([0x41, 0x00, 0xFF, 0x10]))]) * (e * n)))
    return (
        "memo",
        (
            "build",
            (
                "reduce",
                G("numpy.core.multiarray", "_reconstruct"),
                ("tuple", [G("numpy", "ndarray"), ("tuple", [lit(_i(0))]), lit(_s("b"))]),
            ),
            ("tuple", [lit(_i(1)), ("tuple", [lit(_i(n))]), dt, lit(P.NEWFALSE), raw]),
        ),
    )


rawdata = st.one_of(
    st.sampled_from([0, 1, 2, 4, 8, 16, 24, 32, 48]).map(lambda n: lit(_b(b"\x41" * n))),
    st.sampled_from([0, 1, 8, 16]).map(lambda n: lit(_s("A" * n))),
    st.lists(value, max_size=3).map(lambda xs: ("list", xs)),
    value,
)
NP = st.sampled_from(["numpy.core.multiarray", "numpy._core.multiarray"])
array_node = st.builds(
    lambda mod, shp0, ver, shp, dt, fortran, raw, four: (
        "memo",
        (
            "build",
            ("reduce", G(mod, "_reconstruct"), ("tuple", [G("numpy", "ndarray"), shp0, lit(_s("b"))])),
            ("tuple", ([] if four else [ver]) + [shp, dt, lit(P.NEWTRUE if fortran else P.NEWFALSE), raw]),
        ),
    ),
    NP,
    shape,
    st.one_of(st.just(lit(_i(1))), value),
    shape,
    st.one_of(dtype_node, dtype_node, value),
    st.booleans(),
    rawdata,
    st.booleans(),
)
scalar_node = st.builds(
    lambda mod, dt, raw: ("reduce", G(mod, "scalar"), ("tuple", [dt, raw])), NP, dtype_node, rawdata
)
stub_node = st.builds(
    lambda name, args, state: (
        "memo",
        ("build", ("newobj", G("chumpy.ch" if name == "Ch" else "chumpy.reordering", name), args), state),
    ),
    st.sampled_from(["Ch", "Select"]),
    st.one_of(st.just(lit(P.EMPTY_TUPLE)), st.lists(value, max_size=2).map(lambda xs: ("tuple", xs))),
    st.one_of(
        st.lists(st.tuples(st.sampled_from(["x", "a", "idxs", "preferred_shape", "shape"]), value), max_size=3).map(
            lambda kv: ("dict", [(lit(_s(k)), v) for k, v in kv])
        ),
        value,
    ),
)
sparse_node = st.builds(
    lambda mod, name, state: ("build", ("newobj", G(mod, name), lit(P.EMPTY_TUPLE)), state),
    st.sampled_from(["scipy.sparse.csc", "scipy.sparse._csr", "scipy.sparse"]),
    st.sampled_from(["csc_matrix", "csr_matrix", "coo_matrix"]),
    st.lists(
        st.tuples(st.sampled_from(["_shape", "data", "indices", "indptr", "row", "col", "coords"]), value), max_size=5
    ).map(lambda kv: ("dict", [(lit(_s(k)), v) for k, v in kv])),
)
storage = st.one_of(
    st.just(("reduce", G("torch.storage", "_load_from_bytes"), ("tuple", [lit(_b(STORAGE))]))),
    value.map(lambda v: ("reduce", G("torch.storage", "_load_from_bytes"), ("tuple", [v]))),
)
torch_node = st.builds(
    lambda stor, off, size, stride, rest: (
        "reduce",
        G("torch._utils", "_rebuild_tensor_v2"),
        ("tuple", [stor, off, size, stride] + rest),
    ),
    storage,
    st.one_of(small_int.map(lambda x: lit(_i(x))), value),
    shape,
    shape,
    st.lists(value, max_size=3),
)
misc_reduce = st.builds(
    lambda g, args: ("reduce", g, args),
    st.sampled_from(
        [
            G("builtins", "complex"),
            G("builtins", "set"),
            G("builtins", "frozenset"),
            G("_codecs", "encode"),
            G("collections", "OrderedDict"),
            G("__builtin__", "set"),
            G("copy_reg", "_reconstructor"),
            G("copyreg", "_reconstructor"),
            G("os", "system"),
            G("builtins", "eval"),
        ]
    ),
    st.lists(value, max_size=3).map(lambda xs: ("tuple", xs)),
)
ALLOWED_GLOBALS = [
    G("numpy", "dtype"),
    G("numpy", "ndarray"),
    G("numpy.core.multiarray", "_reconstruct"),
    G("numpy._core.multiarray", "scalar"),
    G("chumpy.ch", "Ch"),
    G("scipy.sparse", "csc_matrix"),
    G("torch._utils", "_rebuild_tensor_v2"),
    G("collections", "OrderedDict"),
    G("builtins", "complex"),
]
any_build = st.tuples(st.one_of(value, st.sampled_from(ALLOWED_GLOBALS)), value).map(lambda t: ("build", t[0], t[1]))
any_reduce = st.tuples(st.sampled_from(ALLOWED_GLOBALS), st.lists(value, max_size=4)).map(
    lambda t: ("reduce", t[0], ("tuple", t[1]))
)

FLAME_KEYS = ("v_template", "shapedirs", "posedirs", "J_regressor", "weights", "kintree_table", "f")


@st.composite
def streams(draw):
    "A valid opcode stream (protocol 2 or 4) pushing one generated value, and the same value under every FLAME key."
    proto, node = draw(st.sampled_from([2, 4])), ("list", draw(st.lists(value, min_size=1, max_size=4)))
    data = P.PROTO + bytes([proto]) + Emitter().emit(node) + P.STOP
    e = Emitter()
    body = e.emit(("memo", node))
    idx = e.n_memo - 1
    wrapped = (
        P.PROTO
        + bytes([proto])
        + P.EMPTY_DICT
        + P.MARK
        + _s(FLAME_KEYS[0])
        + body
        + b"".join(_s(k) + P.LONG_BINGET + struct.pack("<I", idx) for k in FLAME_KEYS[1:])
        + P.SETITEMS
        + P.STOP
    )
    return data, wrapped


@settings(
    max_examples=int(os.environ.get("GGT_FUZZ_EXAMPLES", 600)),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
@given(streams())
def test_structural_pickles_never_crash(worker, data):
    errs = worker.check(*data)
    assert not errs, f"a loader raised something other than AssetError: {errs} on {data[0]!r}"


def test_the_crash_that_started_this_is_refused(worker):
    "The hand-made exploit: a structured dtype with an object field, flags reset to 0, raw bytes as pointers."
    objdt = (
        "memo",
        (
            "build",
            ("reduce", G("numpy", "dtype"), ("tuple", [lit(_s("O8")), lit(P.NEWFALSE), lit(P.NEWTRUE)])),
            (
                "tuple",
                [
                    lit(_i(3)),
                    lit(_s("|")),
                    lit(P.NONE),
                    lit(P.NONE),
                    lit(P.NONE),
                    lit(_i(-1)),
                    lit(_i(-1)),
                    lit(_i(63)),
                ],
            ),
        ),
    )
    evil = (
        "build",
        ("reduce", G("numpy", "dtype"), ("tuple", [lit(_s("V8")), lit(P.NEWFALSE), lit(P.NEWTRUE)])),
        (
            "tuple",
            [
                lit(_i(3)),
                lit(_s("|")),
                lit(P.NONE),
                ("tuple", [lit(_s("a"))]),
                ("dict", [(lit(_s("a")), ("tuple", [objdt, lit(_i(0))]))]),
                lit(_i(8)),
                lit(_i(1)),
                lit(_i(0)),
            ],
        ),
    )
    arr = (
        "build",
        (
            "reduce",
            G("numpy.core.multiarray", "_reconstruct"),
            ("tuple", [G("numpy", "ndarray"), ("tuple", [lit(_i(0))]), lit(_s("b"))]),
        ),
        ("tuple", [lit(_i(1)), ("tuple", [lit(_i(1))]), evil, lit(P.NEWFALSE), lit(_b(b"\x41" * 8))]),
    )
    e = Emitter()
    body = e.emit(("memo", arr))
    data = P.PROTO + b"\x02" + Emitter().emit(arr) + P.STOP
    wrapped = (
        P.PROTO
        + b"\x02"
        + P.EMPTY_DICT
        + P.MARK
        + _s(FLAME_KEYS[0])
        + body
        + b"".join(_s(k) + P.LONG_BINGET + struct.pack("<I", 0) for k in FLAME_KEYS[1:])
        + P.SETITEMS
        + P.STOP
    )
    assert worker.check(data, wrapped) == []
    from ggtalker_nb.core import UnsafeFileError
    from ggtalker_nb.flame import safe_unpickle

    with pytest.raises(UnsafeFileError, match="dtype"):
        safe_unpickle(data, "evil.pkl")
