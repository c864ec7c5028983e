"""The layers of ARCHITECTURE.md hold: no file imports a file on a floor above its own.

    floor 1  engine core      tinygrad_edu: errors modes tensor function ops autograd functional numpy_api files
    floor 2  engine tools     tinygrad_edu: gradcheck viz compile codegen lowering selfcheck backprop_check ...
    floor 3  nn core          nn: errors init module layers losses optim functional
    floor 4  specs and files  nn: spec io torch_bridge (and the documents' references: reference checks)
    floor 5  training, data, plots   nn: train data plot
    floor 6  command line     nn: cli

Every import counts, also one inside a function (a lazy import is still a dependency).
"""
import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]

ENGINE_CORE = {"errors", "modes", "tensor", "function", "ops", "autograd", "functional", "numpy_api", "files",
               "__init__"}
NN_FLOORS = {"errors": 3, "init": 3, "module": 3, "layers": 3, "losses": 3, "optim": 3, "functional": 3,
             "spec": 4, "io": 4, "reference": 4, "checks": 4, "torch_bridge": 4,
             "train": 5, "data": 5, "plot": 5,
             "cli": 6, "__init__": 7}


def imports(path, package):
    """Module names (inside `package`) that the file imports, anywhere in it."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1:
                names = [node.module] if node.module else [a.name for a in node.names]
                found.update(n.split(".")[0] for n in names)
            elif node.module and node.module.startswith(package + "."):
                found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith(package + "."):
                    found.add(alias.name.split(".")[1])
    return found


@pytest.mark.parametrize("path", sorted((ROOT / "nn").glob("*.py")), ids=lambda p: p.name)
def test_no_nn_file_imports_a_floor_above_it(path):
    name = path.stem
    assert name in NN_FLOORS, f"nn/{path.name} has no floor in this test: add it to NN_FLOORS"
    above = {m: NN_FLOORS[m] for m in imports(path, "nn") if NN_FLOORS.get(m, 0) > NN_FLOORS[name]}
    assert not above, f"nn/{path.name} (floor {NN_FLOORS[name]}) imports floors above it: {above}"


@pytest.mark.parametrize("path", sorted((ROOT / "tinygrad_edu").glob("*.py")), ids=lambda p: p.name)
def test_the_engine_core_imports_no_engine_tool_and_the_engine_no_nn(path):
    text_imports = imports(path, "tinygrad_edu")
    assert "nn" not in imports(path, "nn") and not any(
        isinstance(n, ast.Import) and any(a.name == "nn" or a.name.startswith("nn.") for a in n.names)
        for n in ast.walk(ast.parse(path.read_text(encoding="utf-8")))), f"{path.name} imports nn"
    if path.stem in ENGINE_CORE and path.stem != "__init__":
        tools = text_imports - ENGINE_CORE
        assert not tools, f"tinygrad_edu/{path.name} (engine core) imports engine tools: {sorted(tools)}"


def test_nn_has_no_import_circle():
    edges = {p.stem: imports(p, "nn") & set(NN_FLOORS) for p in (ROOT / "nn").glob("*.py")}

    def reach(start):
        seen, todo = set(), [start]
        while todo:
            for nxt in edges.get(todo.pop(), ()):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen
    assert [m for m in edges if m in reach(m)] == []
