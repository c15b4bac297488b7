"""The architecture holds: import-linter's contracts, no import circle, no god file, no handler that sees the whole
container, and every store of the unit of work provided by every backend."""

from __future__ import annotations

import ast
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import grimp
from importlinter.cli import lint_imports
from litestar.di import Dependency
from litestar.handlers import HTTPRouteHandler

from dreamina.bootstrap import MODULES, Container, memory_database
from dreamina.entrypoints.http.app import FACES, create_app
from dreamina.ports.unit_of_work import UnitOfWork
from dreamina.settings import load_settings
from dreamina.wiring.infrastructure import sql_repositories

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "src" / "dreamina"
MAX_LINES = 450  # a file past this size does several jobs; split it along its seams


def test_import_contracts_are_kept(capsys) -> None:  # type: ignore[no-untyped-def]
    previous = Path.cwd()
    os.chdir(ROOT)  # import-linter reads pyproject.toml from the working directory
    try:
        exit_code = lint_imports(no_cache=True)
    finally:
        os.chdir(previous)
    report = capsys.readouterr().out
    assert exit_code == 0, report
    assert "0 broken" in report


def import_circles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Every set of modules that import each other, directly or through others (Tarjan's strongly connected
    components over the module graph, type-checking imports included)."""
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return circles


def test_no_import_circle_anywhere_in_src() -> None:
    assert import_circles(grimp.build_graph("dreamina")) == []


def test_the_circle_finder_finds_a_circle() -> None:
    graph = grimp.ImportGraph()
    for name in ("pkg", "pkg.a", "pkg.b", "pkg.c"):
        graph.add_module(name)
    graph.add_import(importer="pkg.a", imported="pkg.b")
    graph.add_import(importer="pkg.b", imported="pkg.c")
    graph.add_import(importer="pkg.c", imported="pkg.a")
    assert import_circles(graph) == [["pkg.a", "pkg.b", "pkg.c"]]


def _source_files() -> Iterator[Path]:
    for path in sorted(SOURCE.rglob("*.py")):
        if "migrations" not in path.relative_to(SOURCE).parts:
            yield path


def test_no_source_file_does_several_jobs() -> None:
    too_long = {
        str(path.relative_to(ROOT)): count
        for path in _source_files()
        if (count := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert too_long == {}


def test_no_mid_file_imports_to_break_a_circle() -> None:
    assert [str(p.relative_to(ROOT)) for p in _source_files() if "noqa: E402" in p.read_text(encoding="utf-8")] == []


def _handlers(tmp_path: Path) -> list[HTTPRouteHandler]:
    app = create_app(load_settings({"DREAMINA_DATA_DIR": str(tmp_path)}))
    return [h for route in app.routes for h in getattr(route, "route_handlers", ()) if isinstance(h, HTTPRouteHandler)]


def test_no_handler_takes_the_container(tmp_path: Path) -> None:
    handlers = _handlers(tmp_path)
    assert len(handlers) > 50
    seeing_everything = [
        f"{handler.handler_name}({name})"
        for handler in handlers
        for name, field in handler.parsed_fn_signature.parameters.items()
        if name == "container" or field.annotation is Container
    ]
    assert seeing_everything == []


def _received(tmp_path: Path) -> set[tuple[str, str]]:
    """(handler, dependency) for every dependency a handler receives."""
    return {
        (handler.handler_name, name)
        for handler in _handlers(tmp_path)
        for name, field in handler.parsed_fn_signature.parameters.items()
        if any(isinstance(m, Dependency) for m in field.metadata)
    }


def test_every_handler_dependency_is_a_use_case_some_module_provides(tmp_path: Path) -> None:
    provided = {name for face in FACES for name in face.dependencies}
    who_is_calling = {"principal", "staff", "subject"}  # from the auth kit, not a module
    assert {f"{h}({n})" for h, n in _received(tmp_path) if n not in provided | who_is_calling} == set()


def test_every_use_case_a_face_provides_reaches_a_handler(tmp_path: Path) -> None:
    received = {name for _, name in _received(tmp_path)}
    received |= {"sessions", "policy_changes"}  # the auth kit's own dependencies (principal, subject)
    assert {name for face in FACES for name in face.dependencies} - received == set()


def _stores_of(protocol: type) -> set[str]:
    names: set[str] = set()
    for klass in protocol.__mro__:
        if getattr(klass, "_is_protocol", False):
            names |= {n for n in getattr(klass, "__annotations__", {}) if not n.startswith("_")}
    return names


def test_every_store_of_the_unit_of_work_is_provided_by_every_backend() -> None:
    declared = _stores_of(UnitOfWork)
    assert len(declared) == 37  # + processor_notifications, marketing_campaigns, improvement_choices,
    # ticket_address_requests (issue 16); abuse_reports, abuse_report_inbox, moderation_records,
    # moderation_reviews (issue 17); standing (issue 14: a submission's three holds in one read)
    assert set(sql_repositories(MODULES)) == declared
    assert set(memory_database().repository_names) == declared


def test_each_module_declares_its_stores_once() -> None:
    names = [part.name for part in MODULES]
    assert len(names) == len(set(names))
    for part in MODULES:
        assert part.sql, part.name
        assert {n for stores in part.memory for n in stores.repositories} == set(part.sql), part.name


def _environment_reads_at_import(tree: ast.Module) -> list[int]:
    """Lines where module-level code (outside any function) reads ``os.environ`` or ``os.getenv``."""
    found: list[int] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            in_function = True
        if (
            not in_function
            and isinstance(node, ast.Attribute)
            and node.attr in {"environ", "getenv", "environb"}
            and isinstance(node.value, ast.Name)
            and node.value.id == "os"
        ):
            found.append(node.lineno)
        for child in ast.iter_child_nodes(node):
            visit(child, in_function)

    visit(tree, False)
    return found


def test_no_module_reads_the_environment_when_imported() -> None:
    """Settings come from the environment when a command starts (``load_settings``), never while a module is
    imported: the process tests fork ``dreamina`` commands from a server that imported every module first
    (``tests/processes.py``), and an operator's settings must not depend on import order either."""
    offenders = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in sorted(SOURCE.rglob("*.py"))
        for line in _environment_reads_at_import(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert offenders == []


def test_the_import_time_environment_check_finds_a_read() -> None:
    tree = ast.parse("import os\nURL = os.environ.get('X')\ndef later():\n    return os.getenv('Y')\n")
    assert _environment_reads_at_import(tree) == [2]
