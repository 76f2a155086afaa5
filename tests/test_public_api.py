"The package's public face: every advertised name imports from `ggtalker_nb` and is the module's own object."

import importlib
import subprocess
import sys

import ggtalker_nb


def test_every_public_name_resolves_to_its_module_object():
    for name, mod in ggtalker_nb._PUBLIC.items():
        obj = getattr(ggtalker_nb, name)
        assert obj is getattr(importlib.import_module(f"ggtalker_nb.{mod}"), name), name
    assert set(ggtalker_nb._PUBLIC) <= set(dir(ggtalker_nb))


def test_unknown_name_is_an_attribute_error():
    try:
        ggtalker_nb.NoSuchThing
    except AttributeError as e:
        assert "NoSuchThing" in str(e)
    else:
        raise AssertionError("unknown attribute resolved")


def test_import_is_lazy_and_from_import_works():
    code = (
        "import sys, ggtalker_nb; assert 'ggtalker_nb.talker' not in sys.modules; "
        "from ggtalker_nb import Talker, Camera, load_sample_head, FLAME, Gaussians; "
        "assert 'ggtalker_nb.talker' in sys.modules; print(Talker.__name__, Camera.__name__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["Talker", "Camera"]


def test_the_issue_names_import_from_the_package():
    code = (
        "import sys\n"
        "from ggtalker_nb import Talker, Video, FLAME, Gaussians, render, load_sample_head\n"
        "from ggtalker_nb import Identity, load_identity, speak_motion, render_frames, show_images, AUDIO_SR\n"
        "print(Talker.__name__, Video.__name__, FLAME.__name__, Gaussians.__name__, load_sample_head.__name__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["Talker", "Video", "FLAME", "Gaussians", "load_sample_head"]


def _tiny_scene():
    import torch
    from ggtalker_nb.geometry import Camera, Gaussians, intrinsics, look_at

    g = torch.Generator().manual_seed(0)
    n = 40
    gaussians = Gaussians(
        0.05 * torch.randn(n, 3, generator=g),
        torch.tensor([[1.0, 0, 0, 0]]).repeat(n, 1),
        torch.full((n, 3), 0.02),
        torch.full((n,), 0.8),
        torch.rand(n, 3, generator=g),
    )
    camera = Camera(look_at(torch.tensor([0.0, 0, 0.6]), torch.zeros(3)), intrinsics(24, 20, 40.0), 24, 20)
    return gaussians, camera


def test_render_is_the_renderer_and_the_subpackage():
    import torch
    from ggtalker_nb import render
    import ggtalker_nb.render.gaussians as rg
    from ggtalker_nb.render.kernels import __name__ as kernels_name

    assert render is sys.modules["ggtalker_nb.render"] and callable(render)
    assert rg is render.gaussians and kernels_name == "ggtalker_nb.render.kernels"
    gaussians, camera = _tiny_scene()
    called, direct = render(gaussians, camera), rg.render(gaussians, camera)
    assert torch.equal(called.rgba, direct.rgba) and called.rgba.shape == (20, 24, 4)
    assert called.rgba[..., 3].max() > 0.1  # something was drawn
    assert torch.equal(
        render(gaussians, camera, background=(1.0, 1.0, 1.0)).rgba,
        rg.render(gaussians, camera, background=(1.0, 1.0, 1.0)).rgba,
    )  # keywords pass through


def test_render_loads_on_its_first_call():
    code = (
        "import sys\nfrom ggtalker_nb import render\n"
        "assert callable(render) and 'ggtalker_nb.render.gaussians' not in sys.modules; print('ok')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_render_is_callable_whichever_import_comes_first():
    code = (
        "import ggtalker_nb.render.gaussians as rg, ggtalker_nb.render.kernels\n"
        "from ggtalker_nb import render\n"
        "assert callable(render) and render.gaussians is rg; print('ok')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


OLD_PATHS = {  # names that moved to the runtime layer (avatar) or a lower module, and still import from where they were
    "ggtalker_nb.adapt.ev": {
        "BodyModel": "avatar.body",
        "pack_track": "avatar.runtime",
        "render_frames": "avatar.runtime",
        "render_batch": "avatar.runtime",
        "ColorMLP": "avatar.color",
    },
    "ggtalker_nb.adapt.ae": {"speak_motion": "avatar.runtime", "DEFAULT_GUIDANCE": "avatar.runtime"},
    "ggtalker_nb.adapt.color": {"ColorMLP": "avatar.color", "uv_fourier": "avatar.color"},
    "ggtalker_nb.talker": {
        n: "avatar.identity"
        for n in (
            "Identity",
            "load_identity",
            "save_identity",
            "read_identity_json",
            "check_identity_tensors",
            "file_sha256",
            "head_model_id",
            "pingpong",
            "IDENTITY_FORMAT",
            "IDENTITY_VERSION",
            "COMPONENT_FILES",
        )
    },
    "ggtalker_nb.data.synthtalk": {"sample_head_flame": "sample_head", "DEFAULT_CAMERA": "sample_head"},
    "ggtalker_nb.data.video": {"AUDIO_SR": "media"},
    "ggtalker_nb.a2e.audio": {"AUDIO_SR": "media"},
}


def test_moved_names_still_import_from_their_old_modules():
    for old, names in OLD_PATHS.items():
        module = importlib.import_module(old)
        for name, new in names.items():
            assert getattr(module, name) is getattr(importlib.import_module(f"ggtalker_nb.{new}"), name), (old, name)
