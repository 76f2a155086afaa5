"The package's public face: every advertised name imports from `ggtalker_nb` and is the module's own object."
import importlib, subprocess, sys

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
    code = ("import sys, ggtalker_nb; assert 'ggtalker_nb.talker' not in sys.modules; "
            "from ggtalker_nb import Talker, Camera, load_sample_head, FLAME, Gaussians; "
            "assert 'ggtalker_nb.talker' in sys.modules; print(Talker.__name__, Camera.__name__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["Talker", "Camera"]
