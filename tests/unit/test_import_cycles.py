"""No import cycles between the project's modules, wherever the import stands.

A cycle closed by an import inside a function (or an ``if TYPE_CHECKING:`` block)
does not fail at import time but still ties two modules together: each needs the
other to be read, tested or moved. Every import statement therefore counts.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("dashapp", "callbacks", "layouts", "data", "geo", "optimization")


def project_modules() -> dict[str, Path]:
    """Dotted name -> file, for every module of the project's packages."""
    modules = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    return modules


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _module_level(body: list[ast.stmt]):
    """Import statements run when the module is imported (not in functions,
    classes or ``if TYPE_CHECKING:`` blocks)."""
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If) and not _is_type_checking(node):
            yield from _module_level(node.body + node.orelse)
        elif isinstance(node, ast.Try):
            yield from _module_level(
                node.body + node.orelse + node.finalbody
                + [s for h in node.handlers for s in h.body]
            )  # fmt: skip


def _everywhere(body: list[ast.stmt]):
    """Every import statement, in functions, classes and type-checking blocks too."""
    for node in ast.walk(ast.Module(body=body, type_ignores=[])):
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node


def import_graph(
    modules: dict[str, Path], *, everywhere: bool = True
) -> dict[str, set[str]]:
    """Module -> project modules it imports (at module level only when
    ``everywhere`` is false).

    ``from package import name`` points at ``package.name`` when that is a module,
    else at ``package``.
    """
    statements = _everywhere if everywhere else _module_level
    graph = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets = set()
        for node in statements(ast.parse(path.read_text()).body):
            if isinstance(node, ast.Import):
                targets |= {alias.name for alias in node.names}
                continue
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                targets.add(full if full in modules else base)
        graph[name] = {t for t in targets if t in modules and t != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_cycles_finds_a_cycle_and_only_cycles():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert cycles(graph) == [["a", "b", "c"]]


def test_the_graph_sees_imports_inside_functions():
    modules = project_modules()
    everywhere = import_graph(modules)
    top = import_graph(modules, everywhere=False)
    assert "dashapp.ids" in top["layouts.shell"]
    assert "callbacks.shell" in everywhere["dashapp"]  # imported in create_app
    assert "callbacks.shell" not in top["dashapp"]


def test_a_cycle_closed_inside_a_function_is_found(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "a.py").write_text("from pkg import b\n")
    (tmp_path / "pkg" / "b.py").write_text(
        "def later():\n    from pkg.a import thing\n    return thing\n"
    )
    modules = {"pkg.a": tmp_path / "pkg/a.py", "pkg.b": tmp_path / "pkg/b.py"}
    assert cycles(import_graph(modules)) == [["pkg.a", "pkg.b"]]
    assert cycles(import_graph(modules, everywhere=False)) == []


def test_no_import_cycle_between_project_modules():
    assert cycles(import_graph(project_modules())) == []


def test_callbacks_do_not_import_the_package_that_registers_them():
    # dashapp.create_app imports every callbacks module: importing names from the
    # dashapp package itself would close a cycle through the factory
    graph = import_graph(project_modules())
    assert [
        m for m in graph if m.startswith("callbacks.") and "dashapp" in graph[m]
    ] == []


def test_layouts_import_no_flask_nor_cache():
    names = sorted(n for n in project_modules() if n.startswith("layouts"))
    assert "layouts.scenarios" in names
    code = (
        f"import sys, importlib; [importlib.import_module(n) for n in {names!r}]; "
        "print(sorted(m for m in ('flask', 'flask_caching', 'diskcache', 'dashapp.cache') "
        "if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
        check=True,
    ).stdout  # fmt: skip
    assert out.strip() == "[]"


def _imported_names(path: Path):
    """(module, name) of every ``from module import name`` in the file."""
    for node in _everywhere(ast.parse(path.read_text()).body):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                yield node.module, alias.name
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, None


def test_no_module_imports_a_private_name_of_another():
    found = [
        f"{name}: from {module} import {imported}"
        for name, path in project_modules().items()
        for module, imported in _imported_names(path)
        if module.split(".")[0] in PACKAGES
        and imported
        and imported.startswith("_")
        and not imported.startswith("__")
    ]
    assert found == []


def test_services_import_no_dash_no_layouts_no_command_line():
    # the services are what callbacks, the CLI and the API share: plain arguments in
    refused = ("dash", "dash_bootstrap_components", "dash_ag_grid", "layouts",
               "callbacks", "argparse", "dashapp.auth", "dashapp.context")  # fmt: skip
    services = {
        n: p for n, p in project_modules().items() if n.startswith("dashapp.services")
    }
    assert "dashapp.services.maps" in services
    modules = project_modules()
    found = sorted(
        f"{name}: {module}"
        for name, path in services.items()
        for module, imported in _imported_names(path)
        if module in refused or module.split(".")[0] in refused
        or (module == "dashapp" and f"dashapp.{imported}" not in modules)
    )  # fmt: skip
    assert found == []


def test_services_load_no_dash():
    names = sorted(n for n in project_modules() if n.startswith("dashapp.services"))
    code = (
        f"import sys, importlib; [importlib.import_module(n) for n in {names!r}]; "
        "print(sorted(m for m in ('dash', 'layouts', 'callbacks') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
        check=True,
    ).stdout  # fmt: skip
    assert out.strip() == "[]"
