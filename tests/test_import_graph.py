"""No import loops between the project's modules (issue 12).

The graph counts every import, also those inside functions: a loop hidden in a function still
ties two modules together, and is one refactoring away from failing at start-up. The one
accepted loop is a service importing its app's ``tasks`` inside a function, to enqueue a task
on commit (the task module imports the service it runs).
"""

from __future__ import annotations

import ast
from pathlib import Path

from redcross.roles import DOMAIN_APPS

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = DOMAIN_APPS  # the portal's own apps


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            modules[_module_name(path)] = path
    return modules


def _accepted(source: str, target: str, in_function: bool) -> bool:
    """A service enqueuing its own app's task on commit."""
    app = source.split(".")[0]
    return in_function and target == f"{app}.tasks" and source.startswith(f"{app}.services")


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        functions = [node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)]
        in_function = {id(inner) for function in functions for inner in ast.walk(function)}
        for node in ast.walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")
                    anchor = anchor[: len(anchor) - (node.level - 1)]
                    base = ".".join([*anchor, base] if base else anchor)
                targets = [
                    f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names
                ]
            for target in targets:
                # "import a.b.c" binds a module; the nearest project module up the dotted path is the edge
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != name and not _accepted(name, target, id(node) in in_function):
                    graph[name].add(target)
    return graph


def import_loops(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    loops: list[list[str]] = []
    counter = 0

    def visit(start: str) -> None:
        nonlocal counter
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
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
                        loops.append(sorted(component))

    for name in sorted(graph):
        if name not in index:
            visit(name)
    return loops


def test_the_project_has_no_import_loop():
    loops = import_loops(import_graph(project_modules()))
    assert loops == [], "import loops between project modules:\n" + "\n".join(" <-> ".join(loop) for loop in loops)


def test_the_checker_finds_a_loop_hidden_in_a_function():
    graph = {"a.services": {"b.selectors"}, "b.selectors": {"a.services"}, "c": set()}
    assert import_loops(graph) == [["a.services", "b.selectors"]]


def test_the_checker_reads_imports_inside_functions(tmp_path, monkeypatch):
    modules = {"donations.services.intake": tmp_path / "intake.py", "donations.tasks": tmp_path / "tasks.py"}
    modules["donations.services.intake"].write_text(
        "def f():\n    from donations.tasks import t\n    from donations import tasks\n"
    )
    modules["donations.tasks"].write_text("from donations.services.intake import f\n")
    graph = import_graph(modules)
    # the accepted loop: a service enqueuing its app's task from inside a function
    assert graph["donations.services.intake"] == set()
    modules["donations.services.intake"].write_text("from donations.tasks import t\n")
    assert import_loops(import_graph(modules)) == [["donations.services.intake", "donations.tasks"]]
