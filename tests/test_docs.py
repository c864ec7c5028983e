"""docs/backward_walkthrough.md quotes the engine line by line: each reference must still point at a
line that says what the walkthrough quotes (when the code moves, the numbers move with it)."""
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[1]
WALK = (ROOT / "docs" / "backward_walkthrough.md").read_text(encoding="utf-8")
REF = re.compile(r"`(tinygrad_edu/\w+\.py)` line (\d+): `([^`]+)`|(?<=and )line (\d+): `([^`]+)`")


def references():
    path = None
    for m in REF.finditer(WALK):
        if m.group(1):
            path, number, quote = m.group(1), int(m.group(2)), m.group(3)
        else:
            number, quote = int(m.group(4)), m.group(5)
        yield path, number, quote


def test_the_walkthrough_quotes_lines_that_say_what_it_quotes():
    refs = list(references())
    assert len(refs) >= 15
    files = {path for path, _, _ in refs}
    assert {"tinygrad_edu/function.py", "tinygrad_edu/autograd.py", "tinygrad_edu/ops.py"} <= files
    for path, number, quote in refs:
        lines = (ROOT / path).read_text(encoding="utf-8").splitlines()
        assert number <= len(lines), f"{path} has no line {number}"
        assert quote.strip() in lines[number - 1], \
            f"{path} line {number} is now {lines[number - 1].strip()!r}, not {quote!r}"


def test_the_walkthrough_is_linked_from_the_readme():
    assert "docs/backward_walkthrough.md" in (ROOT / "README.md").read_text(encoding="utf-8")
