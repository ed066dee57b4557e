"""Modules stay small enough to read: one concept per module.

A module over 800 lines fails (split it into a package of private modules
behind its __init__); generated code is exempt.
"""

from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "arco_grpc"
LIMIT = 800


def test_no_module_exceeds_the_line_limit():
    sizes = {
        path.relative_to(PACKAGE.parent).as_posix(): len(path.read_text(encoding="utf-8").splitlines())
        for path in PACKAGE.rglob("*.py")
        if "_gen" not in path.parts
    }
    assert sizes, "no modules found: the test is looking in the wrong place"
    too_long = {name: lines for name, lines in sizes.items() if lines > LIMIT}
    assert not too_long, f"split these modules (limit {LIMIT} lines): {too_long}"


def test_no_catch_all_module_names():
    names = {path.stem for path in PACKAGE.rglob("*.py") if "_gen" not in path.parts}
    assert not names & {"utils", "helpers", "common", "misc", "_utils", "_helpers"}
