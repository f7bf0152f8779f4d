"""The package layout shows the flow: imports run one way along the stages, with no cycles."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "monitor"

# The stages in flow order: a module may import its own stage or an earlier one, never a later one.
LAYERS = [
    ("monitor.core", "monitor.stats"),
    ("monitor.store",),
    ("monitor.providers",),
    ("monitor.evals",),
    ("monitor.pipeline.poll",),
    ("monitor.pipeline.queue",),
    ("monitor.pipeline.run",),
    ("monitor.pipeline.compare",),
    ("monitor.pipeline.report",),
    ("monitor.pipeline.deliver",),
    ("monitor.pipeline.complete",),
    ("monitor.service", "monitor.simulator"),
    ("monitor.cli",),
    ("monitor.__main__",),
]


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py")) if "migrations" not in p.parts}


def _layer(module: str) -> int | None:
    for index, prefixes in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return index
    return None


def _imports(path: Path, module: str, known: set[str]) -> set[str]:
    """Every monitor module this file imports, at the top, inside functions or under TYPE_CHECKING."""
    found: set[str] = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            submodules = {f"{base}.{alias.name}" for alias in node.names} & known
            found.update(submodules)
            if len(submodules) < len(node.names):  # some names are attributes of `base` itself
                found.add(base)
    return {name for name in found if name in known and name != module}


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {name: _imports(path, name, known) for name, path in modules.items()}


def test_every_module_belongs_to_a_stage() -> None:
    unplaced = [m for m in _modules() if m not in ("monitor", "monitor.pipeline") and _layer(m) is None]
    assert unplaced == []


def test_imports_never_run_backwards_along_the_flow() -> None:
    backward = []
    for module, targets in _graph().items():
        source = _layer(module)
        for target in targets:
            layer = _layer(target)
            if source is not None and layer is not None and layer > source:
                backward.append(f"{module} -> {target}")
    assert sorted(backward) == []


def test_there_is_no_import_cycle() -> None:
    graph = {m: {t for t in targets if t != "monitor"} for m, targets in _graph().items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    assert cycles == []


@pytest.mark.parametrize("module", sorted(_modules()))
def test_every_module_says_its_job_in_its_first_line(module: str) -> None:
    tree = ast.parse(_modules()[module].read_text("utf-8"))
    docstring = ast.get_docstring(tree)
    assert docstring, f"{module} has no module docstring"
    assert docstring.splitlines()[0].strip()
