"""Imports go one way (ARCHITECTURE.md): agents reach the outside only through connectors, connectors
and tables never reach back into agents, domain code never reaches into a runtime (the API or the
worker), and no two modules import each other, however indirectly. Read from the source with `ast`,
so a function-level import counts as much as a top-level one. STREAMAPP_IMPORT_ROOT points it at another
checkout (e.g. an older commit, to see what it would have caught there)."""

from __future__ import annotations

import ast
import os
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(os.environ.get("STREAMAPP_IMPORT_ROOT", Path(__file__).resolve().parents[2]))
PACKAGES = ("streamapp", "agents", "connectors", "tables")
# Entry points and runtimes inside `streamapp/`: everything else there is domain code.
NOT_DOMAIN = ("streamapp.api", "streamapp.worker", "streamapp.console", "streamapp.commands", "streamapp.cli",
              "streamapp")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported(tree: ast.AST, module: str, is_package: bool, modules: set[str]) -> Iterator[str]:
    """Every module named by an import statement anywhere in the tree (relative ones resolved):
    `from a import b` names `a.b` when that is a module, else `a`."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = module.split(".")[: len(module.split(".")) - node.level + (1 if is_package else 0)]
                base = ".".join([*parent, base] if base else parent)
            for alias in node.names:
                yield f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base


def import_graph() -> dict[str, set[str]]:
    files = [p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")]
    modules = {module_name(p): p for p in files}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(), str(path))
        graph[name] = set(imported(tree, name, path.name == "__init__.py", set(modules))) - {name}
    return graph


GRAPH = import_graph()


def within(module: str, package: str) -> bool:
    return not package or module == package or module.startswith(package + ".")


def is_domain(module: str) -> bool:
    return within(module, "streamapp") and not any(
        module == p or (p != "streamapp" and within(module, p)) for p in NOT_DOMAIN)


def violations(source: str, target_check) -> list[str]:
    return sorted(f"{m} -> {t}" for m, ts in GRAPH.items() if within(m, source) for t in ts if target_check(t))


def test_agents_import_no_redis() -> None:
    assert violations("agents", lambda t: within(t, "redis")) == []


def test_connectors_do_not_import_agents() -> None:
    assert violations("connectors", lambda t: within(t, "agents")) == []


def test_tables_import_neither_connectors_nor_agents() -> None:
    assert violations("tables", lambda t: within(t, "connectors") or within(t, "agents")) == []


def test_domain_does_not_import_a_runtime() -> None:
    bad = sorted(f"{m} -> {t}" for m, ts in GRAPH.items() if is_domain(m) for t in ts
                 if within(t, "streamapp.api") or within(t, "streamapp.worker"))
    assert bad == []


def internal_edges(module: str) -> set[str]:
    """The modules of ours that `module` imports."""
    return {t for t in GRAPH.get(module, ()) if t in GRAPH}


def cycles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(GRAPH):
        if root in index:
            continue
        work = [(root, iter(sorted(internal_edges(root))))]
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
                    work.append((child, iter(sorted(internal_edges(child)))))
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
                    found.append(sorted(component))
    return found


def test_no_import_cycles() -> None:
    assert cycles() == []


def test_nothing_registers_itself_by_being_discovered() -> None:
    """Registries name their members (`streamapp.metrics.NORMALISERS`, the CLI's commands): a package
    that imports whatever modules it finds hides its members from readers, and from this graph."""
    assert violations("", lambda t: t == "pkgutil") == []


def test_the_graph_sees_the_tree() -> None:
    """A guard for the guards: the graph holds every package and the edges they are known to have."""
    assert {"agents.consumer", "connectors.alert_store", "tables.issues", "streamapp.settings"} <= set(GRAPH)
    assert "streamapp.settings" in GRAPH["agents.consumer"] | {t for ts in GRAPH.values() for t in ts}
