"""The shape of the house (HOUSE_STYLE, README "Layout"): imports run one way, down the
layers, and no modules import each other in a circle. Every import counts, those inside
functions too: an import made "when used" to dodge a circle is still the circle.

A package's `__init__` handing on its own modules (the models, a blueprint's routes) is
its face, not an import of them."""

from __future__ import annotations

import ast
from pathlib import Path

import kamportal

ROOT = Path(kamportal.__file__).parent

# Low to high: a module may import its own layer and those below. Jobs and blueprints are
# two doors onto the same services: neither imports the other.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    (
        "infrastructure",
        (
            "kamportal.clock",
            "kamportal.config",
            "kamportal.csv_files",
            "kamportal.errors",
            "kamportal.queue",
        ),
    ),
    # i18n holds the Babel extension and the client's-language formatting of the models' money.
    (
        "models",
        ("kamportal.models", "kamportal.extensions", "kamportal.database", "kamportal.i18n"),
    ),
    (
        "messaging, billing and tickets",
        ("kamportal.messaging", "kamportal.billing", "kamportal.tickets"),
    ),
    ("services", ("kamportal.services",)),
    ("jobs", ("kamportal.jobs",)),
    ("blueprints", ("kamportal.blueprints",)),
    ("the app", ("kamportal", "kamportal.cli", "kamportal.demo")),
]
SIBLINGS = {frozenset({"jobs", "blueprints"})}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in ROOT.rglob("*.py")}


def imports_of(name: str) -> set[str]:
    """The package's modules `name` imports, anywhere in its code."""
    path = MODULES[name]
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = name if is_package else name.rpartition(".")[0]
                for _ in range(node.level - 1):
                    package = package.rpartition(".")[0]
                base = f"{package}.{base}" if base else package
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base
                for alias in node.names
            ]
        else:
            continue
        for target in targets:
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if not target or target == name:
                continue
            if is_package and target.startswith(name + "."):
                continue  # the package's face hands on its own modules
            found.add(target)
    return found


GRAPH = {name: imports_of(name) for name in MODULES}


def layer_of(name: str) -> tuple[int, str]:
    best = (-1, "", "")
    for rank, (layer, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (name == prefix or name.startswith(prefix + ".")) and len(prefix) > len(best[2]):
                best = (rank, layer, prefix)
    assert best[0] >= 0, f"{name} is in no layer: give it one in LAYERS"
    return best[0], best[1]


def test_the_walk_sees_the_whole_package():
    assert len(MODULES) > 80
    assert "kamportal.services.renewals" in GRAPH["kamportal.blueprints.renewals.routes"]


def test_the_demos_stories_are_in_the_app_layer_and_none_imports_the_package():
    """The demo is a package of stories (kamportal/demo/): each is in the top layer with
    the CLI, and a story imports the module it needs, never the package's face, which
    imports every story (a circle the walk would not see)."""
    stories = [name for name in MODULES if name.startswith("kamportal.demo.")]
    assert {"kamportal.demo.seed", "kamportal.demo.common"} < set(stories)
    assert "kamportal.demo.common" in GRAPH["kamportal.demo.escalations"]
    for name in stories:
        assert layer_of(name)[1] == "the app", name
        assert "kamportal.demo" not in GRAPH[name], name


def test_imports_run_down_the_layers():
    upward = []
    for name, targets in GRAPH.items():
        rank, layer = layer_of(name)
        for target in targets:
            target_rank, target_layer = layer_of(target)
            if target_rank > rank or frozenset({layer, target_layer}) in SIBLINGS:
                upward.append(f"{name} ({layer}) imports {target} ({target_layer})")
    assert upward == []


def test_no_modules_import_each_other_in_a_circle():
    """Tarjan's strongly connected components: any of more than one module is a circle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def visit(name: str) -> None:
        index[name] = low[name] = len(index)
        stack.append(name)
        on_stack.add(name)
        for target in GRAPH[name]:
            if target not in index:
                visit(target)
                low[name] = min(low[name], low[target])
            elif target in on_stack:
                low[name] = min(low[name], index[target])
        if low[name] == index[name]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == name:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for name in sorted(GRAPH):
        if name not in index:
            visit(name)
    assert circles == []
