"""The one-photo path's rim and mouth (#16): `Talker.from_photo` keeps the photo's own head edge under the new head,
fits the map's rim colours to the photo and closes the mouth cavity; the prior's own map is unchanged."""

import numpy as np
import pytest
import torch
from scipy.ndimage import binary_dilation, binary_erosion

from ggtalker_nb.core import InputError, data_samples_path
from ggtalker_nb.data.synthtalk import sample_head_flame
from ggtalker_nb.e2v import eval as E
from ggtalker_nb.e2v.generator import IdentityGaussianGenerator

skdata = pytest.importorskip("skimage.data")
torch.set_num_threads(1)
SILENCE = (np.zeros(16000, np.float32), 16000)


@pytest.fixture(scope="module")
def photo_talkers():
    "The astronaut through `from_photo`, without and with the edge kept (rim colours and mouth as the prior made them)."
    from ggtalker_nb.talker import Talker

    kw = dict(body_steps=5, refine_steps=0, fill_mouth=False)
    return Talker.from_photo(skdata.astronaut(), edge_px=0, **kw), Talker.from_photo(skdata.astronaut(), **kw)


def _band_err(t, mask):
    "Mean |front frame − photo| with silent speech in the band ±2/3 px around the photo's head mask."
    photo = t.identity.body.frames[0].numpy().astype(float) / 255
    band = binary_dilation(mask, iterations=2) & ~binary_erosion(mask, iterations=3)
    f = t.speak(SILENCE, views=("front",)).frames[:, :, : mask.shape[1]].astype(float) / 255
    return float(np.abs(f - photo[None]).mean(-1)[:, band].mean())


def test_edge_kept_under_the_head(photo_talkers):
    "The photo's own head edge replaces the inpainter's grey guess where the speaking head's outline moved inside it."
    t0, t3 = photo_talkers
    m0, m3 = t0.identity.body.masks[0].numpy(), t3.identity.body.masks[0].numpy()
    assert (m3 <= m0).all() and m3.sum() < m0.sum()  # the re-drawn region shrank, inside the old one
    assert t3.identity.info["adaptation"]["edge_px"] == 3 and t0.identity.info["adaptation"]["edge_px"] == 0
    e0, e3 = _band_err(t0, m0), _band_err(t3, m0)
    assert e3 < 0.7 * e0, (e3, e0)


def test_from_photo_checks_its_arguments_before_fitting():
    from ggtalker_nb.talker import Talker

    blank = np.zeros((64, 64, 3), np.uint8)  # no face: the fit would fail later with another message
    with pytest.raises(InputError, match="edge_px"):
        Talker.from_photo(blank, edge_px=-1)
    with pytest.raises(InputError, match="refine_steps"):
        Talker.from_photo(blank, refine_steps=-2)


@pytest.fixture(scope="module")
def gen_ref():
    flame = sample_head_flame()
    gen = IdentityGaussianGenerator.load(data_samples_path("priors", "e2v_cpu.safetensors"), flame).eval()
    from ggtalker_nb.data.video import ClipReader

    return gen, E.reference_from_clip(ClipReader(data_samples_path("synthtalk_mini") / "id0002_c000"))


def test_prior_map_unchanged_by_the_photo_path(gen_ref):
    "'generator' is the generator's forward exactly; 'photo' changes colours only."
    gen, ref = gen_ref
    with torch.no_grad():
        M = gen(ref["image"], ref["flame"], ref["viewmat"], ref["K"], mask=ref["mask"])
    assert torch.equal(E.predict_map(gen, ref), M)
    P = E.predict_map(gen, ref, "photo")
    T0, T1 = gen.table.gather(M)[0], gen.table.gather(P)[0]
    assert torch.equal(T1[:, :11], T0[:, :11]) and not torch.equal(T1[:, 11:14], T0[:, 11:14])


def test_cavity_is_dark_when_the_mouth_opens(gen_ref):
    "With the jaw opened, the pixels of the mouth cavity are darker after `fill_cavity`, and nothing outside moves."
    from ggtalker_nb.e2v.generator import flame_vertices
    from ggtalker_nb.geometry import Camera
    from ggtalker_nb.render.mesh import rasterize

    gen, ref = gen_ref
    M = E.predict_map(gen, ref)
    fl = dict(ref["flame"], jaw=ref["flame"]["jaw"] + torch.tensor([[0.3, 0.0, 0.0]]))
    H, W = ref["image"].shape[1:3]
    cam = Camera(ref["viewmat"][0], ref["K"][0], W, H)
    cav_f = gen.flame.region_faces(["mouth_interior"])
    fid = rasterize(flame_vertices(gen.flame, fl), gen.flame.faces, cam).face_id[0]
    pix = (fid >= 0) & cav_f[fid.clamp_min(0)]
    assert pix.sum() > 50  # the open mouth shows its cavity
    rgb0, _ = E.render_map(gen, M, ref["flame"]["shape"], fl, cam)
    rgb1, _ = E.render_map(gen, E.fill_cavity(gen, M, ref), ref["flame"]["shape"], fl, cam)
    assert rgb1[0][pix].mean() < 0.8 * rgb0[0][pix].mean(), (rgb1[0][pix].mean(), rgb0[0][pix].mean())
    far = ~torch.from_numpy(binary_dilation(pix.numpy(), iterations=12))
    assert (rgb1[0][far] - rgb0[0][far]).abs().max() < 0.01  # the cavity's splats reach only faintly past its pixels
