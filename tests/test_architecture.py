"""The layout's rules, checked from the code's own imports (``docs/architecture.md``).

1. Every package imports only packages on a lower layer (``LAYERS``, bottom first); two
   packages on the same layer do not import each other.
2. No import circle between modules, lazy (function-level) imports included.
3. No source file over ``MAX_LINES`` lines unless its module docstring says why
   (a line starting with ``Long file:``).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
TOP_PACKAGES = ("motionbeat", "generator", "render", "app")
LAYERS: tuple[tuple[str, ...], ...] = (
    ("motionbeat.core",),
    ("motionbeat.music",),
    ("motionbeat.audio",),
    ("motionbeat.metrics",),
    ("motionbeat.datasets",),
    ("motionbeat.choreography", "motionbeat.encoder"),
    ("render",),
    ("generator.cleanup", "generator.model"),
    ("generator.sampling",),
    ("generator",),
    ("motionbeat",),  # the old command names (motionbeat.train, motionbeat.data.*): runpy only
    ("app",),
)
"""Packages bottom first; a module belongs to the longest package name that prefixes it."""
MAX_LINES = 450
LONG_FILE_MARK = "Long file:"


def _module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    found = {}
    for top in TOP_PACKAGES:
        for path in sorted((REPO / top).rglob("*.py")):
            found[_module_name(path)] = path
    return found


MODULES = _modules()


def _resolve(name: str) -> str | None:
    """The project module that an imported dotted name refers to (longest existing prefix)."""
    parts = name.split(".")
    for n in range(len(parts), 0, -1):
        candidate = ".".join(parts[:n])
        if candidate in MODULES:
            return candidate
    return None


def _imports(module: str, path: Path) -> set[str]:
    """Project modules that ``module`` imports anywhere in its body.

    ``from pkg import name`` imports the module ``pkg.name`` when there is one, else ``pkg``.
    """
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    targets = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            names = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
        else:
            continue
        for name in names:
            if name.split(".")[0] in TOP_PACKAGES and (target := _resolve(name)) and target != module:
                targets.add(target)
    return targets


GRAPH = {m: _imports(m, p) for m, p in MODULES.items()}


def _unit(module: str) -> tuple[int, str]:
    """(layer index, package) of a module: the longest ``LAYERS`` package that prefixes it."""
    best = None
    for layer, packages in enumerate(LAYERS):
        for package in packages:
            if (module == package or module.startswith(package + ".")) and (
                best is None or len(package) > len(best[1])
            ):
                best = (layer, package)
    assert best is not None, f"{module} is on no layer: add its package to LAYERS"
    return best


def test_every_module_is_on_a_layer():
    for module in MODULES:
        _unit(module)


def test_imports_only_go_down():
    upward = []
    for module, targets in GRAPH.items():
        layer, package = _unit(module)
        for target in targets:
            t_layer, t_package = _unit(target)
            if t_package != package and t_layer >= layer:
                upward.append(f"{module} ({package}) imports {target} ({t_package})")
    assert not upward, "imports that do not go down a layer:\n" + "\n".join(sorted(upward))


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index, low, on_stack, stack, out = {}, {}, set(), [], []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    out.append(sorted(component))
    return out


def test_no_import_circle():
    assert _cycles(GRAPH) == []


def test_cycle_finder_finds_a_circle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_layer_check_sees_an_upward_import():
    assert _unit("motionbeat.core.motion") < _unit("motionbeat.encoder.model")
    assert _unit("generator.sampling.pipeline")[0] > _unit("generator.model.denoiser")[0]
    assert "motionbeat.core.contract" in GRAPH["motionbeat.core.kinematics"]


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_long_file_without_a_reason(module):
    path = MODULES[module]
    lines = len(path.read_text().splitlines())
    if lines <= MAX_LINES:
        return
    doc = ast.get_docstring(ast.parse(path.read_text())) or ""
    assert LONG_FILE_MARK in doc, (
        f"{path.relative_to(REPO)} has {lines} lines (> {MAX_LINES}); split it, or say why in its "
        f"docstring on a line starting with {LONG_FILE_MARK!r}"
    )
