"""The package's layers, enforced: lower folders never reach up, and no module imports itself
back through others. Every import counts, the ones inside functions too (a lazy import that
closes a cycle is still a cycle a reader has to untangle)."""

from __future__ import annotations

import ast
from pathlib import Path

import senseindex

PKG = Path(senseindex.__file__).parent
# lowest first: a module may import only from its own layer or the ones before it
LAYERS = ["errors", "text", "storage", "encoding", "senses", "output", "evaluation", "web"]
TOP = {"__init__", "cli", "sense_index", "indexer", "distributed", "testing"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PKG.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imports(path: Path, files: set[str]) -> set[str]:
    """The senseindex modules a file imports (absolute or relative, anywhere in the file)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("senseindex"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if mod.startswith("senseindex"):
                for a in node.names:  # `from pkg import module` imports the module, else the name from mod
                    found.add(f"{mod}.{a.name}" if f"{mod}.{a.name}" in files else mod)
    return found


def graph() -> dict[str, set[str]]:
    files = {module_name(p): p for p in PKG.rglob("*.py")}
    return {m: {i for i in imports(p, set(files)) if i in files and i != m} for m, p in files.items()}


def layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "top"


def test_top_level_holds_only_the_entry_points():
    top = {p.stem for p in PKG.glob("*.py")}
    assert top <= TOP | {"errors"}, top - TOP
    assert len(top) <= 8


def test_lower_layers_never_import_higher_ones():
    bad = []
    for mod, deps in graph().items():
        here = layer(mod)
        if here not in LAYERS:
            continue
        for d in deps:
            there = layer(d)
            if there == "top" and d != "senseindex" or there in LAYERS and LAYERS.index(there) > LAYERS.index(here):
                bad.append(f"{mod} -> {d}")
    assert not bad, "\n".join(sorted(bad))


def test_no_import_cycles():
    g = {m: {d for d in deps if d != "senseindex"} for m, deps in graph().items() if m != "senseindex"}
    state: dict[str, int] = {}
    cycles = []

    def visit(m: str, path: list[str]) -> None:
        state[m] = 1
        for d in sorted(g.get(m, ())):
            if state.get(d) == 1:
                cycles.append(" -> ".join(path[path.index(d):] + [d]) if d in path else f"{m} -> {d}")
            elif d not in state:
                visit(d, path + [d])
        state[m] = 2

    for m in sorted(g):
        if m not in state:
            visit(m, [m])
    assert not cycles, "\n".join(cycles)
