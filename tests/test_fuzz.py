"""YAML fuzz test (issue 10, Done-when): mutated deal files never break `dealrooms check`.

Hundreds of seeded mutations of the three example deals (dropped lines, tabs,
wrong types, control characters, truncation, duplicate keys, huge numbers,
alias bombs, deep nesting up to 100,000 levels, Python tags, BOMs, byte
noise). Each must end with exit 0 or 1, a `file:line:` at the start of every
problem, no traceback, within 2 s. Most run through the CLI in one batch
subprocess (click's runner, timed per file); the ones built to crash a
process run alone in their own subprocess, so a crash shows as a signal.
"""

from __future__ import annotations

import json
import random
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "dealrooms").glob("[!_]*.yml"))
SEED = 20261123
PROBLEM_LINE = re.compile(r"^(?P<file>[^:\n]+\.yml):(?P<line>\d+): \S")

# Runs in a child process: `dealrooms check FILE` through click's runner, one file at a time.
BATCH_DRIVER = """
import json, sys, time
from click.testing import CliRunner
from dealrooms_plugin.cli import main
runner = CliRunner()
for name in sys.argv[1:]:
    start = time.perf_counter()
    result = runner.invoke(main, ["check", name])
    seconds = time.perf_counter() - start
    error = None
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        import traceback
        error = "".join(traceback.format_exception(result.exception))
    print(json.dumps({"file": name, "code": result.exit_code, "seconds": seconds,
                      "stdout": result.stdout, "error": error}))
"""

SCALAR = re.compile(r"^(\s*(?:- )?[a-z_]+: )(.+)$")
WRONG_VALUES = ["[a, b]", "{x: 1}", "12", "yes", "null", "''", "1.0e+999", ".nan", "-5", "2027-13-45", "~", "[]",
                "!!str 3", "'target-6x'", "{{nested}}", "*undefined", "&anchor", "'''", '"\\x"', "|", ">-"]
CONTROL = ["\x00", "\x01", "\x07", "\x08", "\x0b", "\x0c", "\x1b", "\x7f", "\x85", "\x9f", "\ufffe", "\ud7ff"]


def mutate(text: str, rng: random.Random) -> tuple[str, bool]:
    """One mutation of a deal's text; True when it is built to exhaust or crash a process."""
    lines = text.splitlines(keepends=True)
    kind = rng.randrange(15)
    if kind == 0:  # dropped lines
        for _ in range(rng.randint(1, 4)):
            if lines:
                del lines[rng.randrange(len(lines))]
    elif kind == 1:  # tabs for indentation
        i = rng.randrange(len(lines))
        lines[i] = re.sub(r"^( +)", lambda m: "\t" * rng.randint(1, len(m.group(1))), lines[i])
        if "\t" not in lines[i]:
            lines[i] = "\t" + lines[i]
    elif kind == 2:  # wrong types
        candidates = [i for i, line in enumerate(lines) if SCALAR.match(line)]
        for i in rng.sample(candidates, min(len(candidates), rng.randint(1, 3))):
            lines[i] = SCALAR.sub(lambda m: m.group(1) + rng.choice(WRONG_VALUES), lines[i].rstrip("\n")) + "\n"
    elif kind == 3:  # control characters
        i = rng.randrange(len(lines))
        at = rng.randrange(len(lines[i]))
        lines[i] = lines[i][:at] + rng.choice(CONTROL) + lines[i][at:]
    elif kind == 4:  # truncation
        return text[: rng.randrange(len(text))], False
    elif kind == 5:  # duplicate keys
        i = rng.randrange(len(lines))
        lines.insert(i + 1, lines[i])
    elif kind == 6:  # huge numbers
        candidates = [i for i, line in enumerate(lines) if SCALAR.match(line)]
        i = rng.choice(candidates)
        digits = rng.choice([4300, 4301, 10_000, 50_000])
        lines[i] = SCALAR.sub(lambda m: m.group(1) + rng.choice(["", "-", "0x"]) + "9" * digits, lines[i].rstrip("\n")) + "\n"
    elif kind == 7:  # Python and other tags
        tag = rng.choice(["!!python/object/apply:os.system ['true']", "!!python/name:os.system", "!!binary AAAA",
                          "!!set {a, b}", "!!timestamp 2027-01-01", "!custom x", "!!omap [a: 1]", "!!float abc",
                          "!!int 12abc", "!!bool maybe", "!!null x", "!<tag:example.com,2026:x> y"])
        candidates = [i for i, line in enumerate(lines) if SCALAR.match(line)]
        i = rng.choice(candidates)
        lines[i] = SCALAR.sub(lambda m: m.group(1) + tag, lines[i].rstrip("\n")) + "\n"
    elif kind == 8:  # alias bombs, placed where a list or a mapping is expected
        width, depth = rng.randint(5, 12), rng.randint(6, 12)
        block = [f"  - &b0 [{', '.join(['x'] * width)}]\n"]
        block += [f"  - &b{d} [{', '.join([f'*b{d - 1}'] * width)}]\n" for d in range(1, depth)]
        key = rng.choice(["milestones", "people", "goals", "zzz"])
        return text + f"{key}:\n" + "".join(block), True
    elif kind == 9:  # deep nesting, flow or block, up to 100,000 levels
        levels = rng.choice([60, 1_000, 5_000, 30_000, 100_000])
        style = rng.randrange(3)
        if style == 0:
            deep = "[" * levels + "]" * levels
        elif style == 1:
            deep = "{a: " * levels + "}" * levels
        else:
            deep = "\n" + "".join(" " * (i % 4000) + "- " for i in range(min(levels, 2_000))) + "x"
        return text + f"zzz: {deep}\n", True
    elif kind == 10:  # a BOM, stray or leading
        at = 0 if rng.random() < 0.5 else rng.randrange(len(text))
        return text[:at] + "\ufeff" + text[at:], False
    elif kind == 11:  # byte noise
        data = bytearray(text.encode("utf-8"))
        for _ in range(rng.randint(1, 20)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        return data.decode("utf-8", errors="surrogateescape"), False
    elif kind == 12:  # anchors, aliases and merge keys in odd places
        i = rng.randrange(len(lines))
        lines.insert(i, rng.choice(["<<: *nothing\n", "  <<: {a: 1}\n", "&x\n", "? [a, b]\n: c\n", "*x: 1\n",
                                    "  ? {a: 1}\n  : 2\n", "<<: [1, 2]\n"]))
    elif kind == 13:  # an extra document, directives, stray indicators
        lines.insert(rng.randrange(len(lines)), rng.choice(["---\n", "...\n", "%YAML 1.1\n", "%TAG ! tag:x,2026:\n",
                                                            "@x\n", "`y\n", "- \n", ": \n"]))
    else:  # several at once
        first, dangerous = mutate(text, rng)
        second, more = mutate(first, rng)
        return second, dangerous or more
    return "".join(lines), False


def write_cases(folder: Path) -> tuple[list[str], list[str]]:
    rng = random.Random(SEED)
    ordinary, hostile = [], []
    for n in range(330):
        source = EXAMPLES[n % len(EXAMPLES)]
        text, dangerous = mutate(source.read_text(encoding="utf-8"), rng)
        name = f"f{n:03d}-{source.stem}.yml"
        (folder / name).write_bytes(text.encode("utf-8", errors="surrogateescape"))
        (hostile if dangerous else ordinary).append(name)
    return ordinary, hostile


def assert_answer(name: str, code: int, stdout: str, seconds: float) -> None:
    assert code in (0, 1), f"{name}: exit {code}\n{stdout}"
    assert "Traceback" not in stdout, f"{name}:\n{stdout}"
    assert seconds < 2.0, f"{name}: took {seconds:.2f} s"
    lines = [line for line in stdout.splitlines() if line.strip()]
    # Plan warnings (checks.py) are printed for deals that load; they never make the exit code.
    problem_lines = [line for line in lines if ": warning: " not in line]
    assert (code == 1) == bool(problem_lines), f"{name}: exit {code} with output:\n{stdout}"
    problem_lines = lines
    for line in problem_lines:
        match = PROBLEM_LINE.match(line)
        assert match and (match.group("file") == name or match.group("file").startswith("_templates/")), \
            f"{name}: not a file:line problem: {line!r}"


def test_mutated_deals_get_an_answer_never_a_crash(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "dealrooms" / "logos", tmp_path / "logos")
    shutil.copytree(ROOT / "dealrooms" / "_templates", tmp_path / "_templates")
    ordinary, hostile = write_cases(tmp_path)
    assert len(ordinary) + len(hostile) >= 300 and len(hostile) >= 20

    start = time.perf_counter()
    batch = subprocess.run([sys.executable, "-c", BATCH_DRIVER, *ordinary], cwd=tmp_path,
                           capture_output=True, text=True, timeout=120)
    assert batch.returncode == 0, batch.stderr[-3000:]  # a crash of the batch would be a negative signal number
    answers = [json.loads(line) for line in batch.stdout.splitlines()]
    assert [a["file"] for a in answers] == ordinary
    for answer in answers:
        assert answer["error"] is None, f"{answer['file']}:\n{answer['error']}"
        assert_answer(answer["file"], answer["code"], answer["stdout"], answer["seconds"])
    failing = sum(a["code"] == 1 for a in answers)
    assert failing > len(answers) * 0.6  # the mutations do break most deals: the test exercises the error paths

    for name in hostile:
        began = time.perf_counter()
        result = subprocess.run([sys.executable, "-c", "from dealrooms_plugin.cli import run; run()", "check", name],
                                cwd=tmp_path, capture_output=True, text=True, timeout=60)
        # Wall time includes starting Python (~0.3 s here); the limit is still 2 s.
        assert_answer(name, result.returncode, result.stdout + ("Traceback" if "Traceback" in result.stderr else ""),
                      time.perf_counter() - began)
        assert result.returncode == 1, f"{name}: {result.stdout}"
    assert time.perf_counter() - start < 120


def test_the_mutations_are_reproducible(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    assert write_cases(first) == write_cases(second)
    assert all((first / p.name).read_bytes() == p.read_bytes() for p in second.iterdir())
