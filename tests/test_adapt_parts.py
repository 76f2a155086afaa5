"Property and gradient tests for the colour MLP and the body inpainter (ggtalker_nb.adapt.color / .inpainter)."

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

from ggtalker_nb.adapt.color import ColorMLP, uv_fourier
from ggtalker_nb.adapt.inpainter import Inpainter, body_indices, compose, dilate, inpainter_inputs, seam_flicker
from ggtalker_nb.core import InputError

torch.set_num_threads(1)


def _brute(m: np.ndarray, r: int, disk: bool) -> np.ndarray:
    H, W = m.shape
    out = np.zeros_like(m)
    ys, xs = np.nonzero(m)
    for y, x in zip(ys, xs):
        for dy in range(-r, r + 1):
            for dx in range(-r, r + 1):
                if disk and dy * dy + dx * dx > r * r:
                    continue
                if 0 <= y + dy < H and 0 <= x + dx < W:
                    out[y + dy, x + dx] = True
    return out


@settings(max_examples=25, deadline=None)
@given(H=st.integers(1, 12), W=st.integers(1, 12), r=st.integers(0, 4), disk=st.booleans(), seed=st.integers(0, 999))
def test_dilate_matches_bruteforce(H, W, r, disk, seed):
    m = np.random.default_rng(seed).random((H, W)) > 0.85
    got = dilate(torch.from_numpy(m), r, "disk" if disk else "square").numpy()
    np.testing.assert_array_equal(got, _brute(m, r, disk))


def test_dilate_soft_is_monotone_and_bounded():
    x = torch.rand(3, 9, 9)
    for k in ("square", "disk"):
        y = dilate(x, 2, k)
        assert (y >= x).all() and (y <= 1).all()


def test_color_mlp_gradcheck_double():
    torch.manual_seed(0)
    m = ColorMLP(3, 2, hidden=8, layers=2, fourier=2).double()
    with torch.no_grad():
        m.out.weight.normal_(0, 0.3)
    base, uv = torch.rand(5, 3, dtype=torch.double, requires_grad=True), torch.rand(5, 2, dtype=torch.double)
    expr = torch.randn(2, 3, dtype=torch.double, requires_grad=True)
    pose = torch.randn(2, 2, dtype=torch.double, requires_grad=True)
    assert torch.autograd.gradcheck(lambda b, e, p: m(b, uv, e, p), (base, expr, pose))


@pytest.mark.parametrize("bshape", [(), (4,), (2, 3)])
def test_color_mlp_batch_shapes(bshape):
    torch.manual_seed(1)
    m = ColorMLP(5, 6)
    with torch.no_grad():
        m.out.weight.normal_(0, 0.1)
    base, uv = torch.rand(7, 3), torch.rand(7, 2)
    expr, pose = torch.randn(*bshape, 5), torch.randn(*bshape, 6)
    out = m(base, uv, expr, pose)
    assert out.shape == (*bshape, 7, 3)
    # per-frame base colours (e.g. after SH evaluation per view) broadcast the same way
    out2 = m(base.expand(*bshape, 7, 3), uv, expr, pose)
    torch.testing.assert_close(out, out2)
    assert ((out - base).abs() <= m.max_delta + 1e-6).all()  # bounded residual


def test_uv_fourier_periodic():
    uv = torch.rand(10, 2)
    f, g = uv_fourier(uv, 3), uv_fourier(uv + 2.0, 3)
    torch.testing.assert_close(f[:, 2:], g[:, 2:], atol=1e-5, rtol=0)


@pytest.mark.parametrize("hw", [(13, 21), (16, 16), (1, 5)])
def test_inpainter_any_size_and_grad(hw):
    torch.manual_seed(0)
    net = Inpainter(widths=(8, 16, 16))
    fr, ms = torch.rand(2, *hw, 3), torch.rand(2, *hw) > 0.5
    hd = torch.cat([fr * ms[..., None], ms[..., None].float()], -1).requires_grad_()
    mf, keep = inpainter_inputs(fr, ms, 1)
    out = net(hd, mf, keep)
    assert out.shape == (2, *hw, 3)
    assert (out - Inpainter.composite(hd, mf)).abs().max() < 0.02
    out.sum().backward()
    assert hd.grad is not None and hd.grad.abs().sum() > 0


def test_compose_and_errors():
    fr, ms = torch.rand(3, 8, 8, 3), torch.zeros(3, 8, 8, dtype=torch.bool)
    head = torch.zeros(7, 8, 8, 4)
    torch.testing.assert_close(compose(None, head, fr, ms, "loop"), fr[body_indices(7, 3, "loop")])
    torch.testing.assert_close(compose(None, head, fr, ms, "fixed", 2), fr[[2] * 7])
    with pytest.raises(InputError, match="mode"):
        compose(None, head, fr, ms, "bounce")
    with pytest.raises(InputError, match="body_frames"):
        compose(None, head, fr[..., :4, :], ms, "loop")
    with pytest.raises(InputError, match="at least 2"):
        seam_flicker(fr[:1], ms[:1], 2)
