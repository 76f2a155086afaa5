"""The package's shape, read from the source: layers in order, the runtime (`avatar`) below training (`adapt`),
no import of another module's `_private` name, no import cycles.

Every module's imports are parsed (not executed). A *top-level* import runs when the module is imported; a *local*
one (inside a function) only when that function runs."""

import ast
import functools
from pathlib import Path

PKG = Path(__file__).resolve().parent.parent / "ggtalker_nb"

# lowest first: a module may import its own group and the groups before it
LAYERS = [
    "core",
    "viz",
    "geometry",
    "flame",
    "sample_head",
    "media",
    "train",
    "render",
    "gaussians",
    "metrics",
    "data",
    "a2e",
    "e2v",
    "avatar",
    "adapt",
    "talker",
    "bench",
    "cli",
]

# (importer, imported): upward imports that exist on purpose, with the reason
ALLOWED_UPWARD = {
    ("ggtalker_nb.data.track", "ggtalker_nb.adapt.ev"): "local, in `_bench_downstream`: adapts from tracked clips to "
    "measure the tracker by what it is for",
    ("ggtalker_nb.data.track", "ggtalker_nb.e2v.generator"): "local, in the same benchmark",
}
# (importer, imported, name): private names still imported across modules while they are being moved (none now)
PENDING_PRIVATE: set = set()


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PKG.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def group(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def package_imports(path: Path) -> list[dict]:
    "Every import of a `ggtalker_nb` module in `path`: importer, imported module, names, and whether it is local."
    me = module_name(path)
    package = me.split(".") if path.name == "__init__.py" else me.split(".")[:-1]
    found = []

    def visit(node, local: bool):
        for child in ast.iter_child_nodes(node):
            inner = local or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package[: len(package) - child.level + 1]
                    target = ".".join(base + ([child.module] if child.module else []))
                else:
                    target = child.module or ""
                if target.startswith("ggtalker_nb"):
                    found.append(dict(importer=me, module=target, names=[a.name for a in child.names], local=local))
            elif isinstance(child, ast.Import):
                for alias in child.names:
                    if alias.name.startswith("ggtalker_nb"):
                        found.append(dict(importer=me, module=alias.name, names=[], local=local))
            visit(child, inner)

    visit(ast.parse(path.read_text()), False)
    return [f for f in found if f["module"] not in (me, "ggtalker_nb")]


def modules() -> list[Path]:
    return sorted(p for p in PKG.rglob("*.py") if "__pycache__" not in p.parts and p.name != "_modidx.py")


@functools.lru_cache
def all_imports() -> tuple[dict, ...]:
    paths = modules()
    return tuple(imp for p in paths for imp in package_imports(p))


def test_every_module_has_a_layer():
    groups = {group(module_name(p)) for p in modules()}
    assert groups - {""} <= set(LAYERS), f"add {sorted(groups - {''} - set(LAYERS))} to LAYERS"


def test_no_private_name_crosses_modules():
    bad = {(i["importer"], i["module"], n) for i in all_imports() for n in i["names"] if n.startswith("_")}
    assert bad <= PENDING_PRIVATE, f"imports of another module's private names: {sorted(bad - PENDING_PRIVATE)}"


def test_imports_follow_the_layers():
    upward = []
    for i in all_imports():
        a, b = group(i["importer"]), group(i["module"])
        if a in LAYERS and b in LAYERS and LAYERS.index(b) > LAYERS.index(a):
            if (i["importer"], i["module"]) not in ALLOWED_UPWARD:
                upward.append((i["importer"], i["module"], i["local"]))
    assert not upward, f"upward imports (importer, imported, local): {sorted(set(upward))}"


def test_runtime_sits_below_training():
    imps = all_imports()
    edges = {(i["importer"], i["module"]) for i in imps}
    talker_top = {i["module"] for i in imps if i["importer"] == "ggtalker_nb.talker" and not i["local"]}
    assert any(m.startswith("ggtalker_nb.avatar") for m in talker_top), "talker must take the runtime from avatar"
    assert any(a.startswith("ggtalker_nb.adapt") and b.startswith("ggtalker_nb.avatar") for a, b in edges)
    for a, b in edges:
        if a.startswith("ggtalker_nb.avatar") and (a, b) not in ALLOWED_UPWARD:
            assert group(b) not in ("adapt", "talker", "bench", "cli"), (
                f"{a} imports {b}: the runtime must not need training"
            )
    # what speaking runs comes from avatar, not from adapt
    inference = {"render_frames", "speak_motion", "BodyModel", "load_identity", "ColorMLP", "pack_track"}
    from_adapt = {
        n
        for i in imps
        if i["importer"] == "ggtalker_nb.talker" and i["module"].startswith("ggtalker_nb.adapt")
        for n in i["names"]
    }
    assert not from_adapt & inference, f"talker takes {sorted(from_adapt & inference)} from adapt"


def test_no_import_cycles():
    graph = {}
    for i in all_imports():
        if not i["local"]:
            graph.setdefault(i["importer"], set()).add(i["module"])
    state = {}

    def visit(node, stack):
        state[node] = "open"
        for nxt in graph.get(node, ()):
            if state.get(nxt) == "open":
                raise AssertionError(f"import cycle: {' → '.join(stack + [node, nxt])}")
            if nxt not in state:
                visit(nxt, stack + [node])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [])
