"""Bounded YAML: hostile deal files end fast, small and with a file:line problem.

Issue 10, finding 7: 370 bytes of nested aliases took 18 s and 911 MB,
5,000 levels of nesting gave a RecursionError traceback and 100,000 levels
crashed the process. Each hostile file here runs `dealrooms check` in its own
subprocess, so a crash shows as a signal and memory as the child's max RSS.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dealrooms_plugin import InvalidDeal, load_deal
from dealrooms_plugin.load import MAX_ALIAS_VALUES, MAX_YAML_BYTES, MAX_YAML_DEPTH, RESERVED_SLUGS

HEAD = "deal:\n  title: T\n  buyer: {name: B}\n  seller: {name: S}\n  target_date: 2027-02-15\n"


def alias_bomb(size: int) -> str:
    """Nine levels of nine-way aliases (9**9 values if expanded), padded to about ``size`` bytes."""
    lines = [HEAD, "milestones:\n", "  - &a0 [x, x, x, x, x, x, x, x, x]\n"]
    lines += [f"  - &a{level} [{', '.join([f'*a{level - 1}'] * 9)}]\n" for level in range(1, 10)]
    pad = size - sum(map(len, lines)) - 1
    return "".join(lines) + "#" * pad + "\n"


def deep_nesting(size: int) -> str:
    depth = (size - len(HEAD) - 20) // 2
    return HEAD + "milestones: " + "[" * depth + "]" * depth + "\n"


def check_in_subprocess(path: Path) -> tuple[int, str, float, int]:
    """Return code, output, wall seconds and max RSS (KB) of `dealrooms check path`, alone in a child."""
    # A fresh child per call: RUSAGE_CHILDREN keeps the largest child seen so far.
    probe = (
        "import resource, subprocess, sys, time\n"
        "t = time.perf_counter()\n"
        "p = subprocess.run([sys.executable, '-c', 'from dealrooms_plugin.cli import run; run()', 'check', sys.argv[1]],"
        " capture_output=True, text=True)\n"
        "print(p.returncode, time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
        "sys.stdout.write(p.stdout + p.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe, str(path)], capture_output=True, text=True, timeout=60)
    head, _, output = result.stdout.partition("\n")
    code, seconds, rss = head.split()
    return int(code), output, float(seconds), int(rss)


@pytest.mark.parametrize("make", [alias_bomb, deep_nesting], ids=["alias-bomb", "deep-nesting"])
def test_10kb_hostile_file_is_checked_fast_and_small(make, tmp_path: Path) -> None:
    path = tmp_path / "hostile.yml"
    path.write_text(make(10 * 1024), encoding="utf-8")
    assert 9 * 1024 < path.stat().st_size <= 10 * 1024
    code, output, seconds, rss_kb = check_in_subprocess(path)
    assert code == 1, output  # a signal would be negative
    assert "Traceback" not in output
    assert "hostile.yml:" in output and ("aliases expand" in output or "nested more than" in output)
    assert seconds < 2.0, f"took {seconds:.2f} s"
    assert rss_kb < 200 * 1024, f"used {rss_kb / 1024:.0f} MB"


def test_100000_levels_do_not_crash_the_process(tmp_path: Path) -> None:
    path = tmp_path / "deep.yml"
    path.write_text("a: " + "[" * 100_000 + "]" * 100_000 + "\n" + "b: " + "- " * 50_000 + "x\n", encoding="utf-8")
    code, output, seconds, _ = check_in_subprocess(path)
    assert code == 1 and "deep.yml:1: nested more than 50 levels deep" in output, output
    assert seconds < 2.0


def problems(tmp_path: Path, text: str | bytes, name: str = "deal.yml") -> list[str]:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    with pytest.raises(InvalidDeal) as caught:
        load_deal(path)
    return [str(p).replace(str(tmp_path) + "/", "") for p in caught.value.problems]


def test_limits_are_exact(tmp_path: Path) -> None:
    ok = HEAD + "x: " + "[" * (MAX_YAML_DEPTH - 1) + "]" * (MAX_YAML_DEPTH - 1) + "\n"
    [only] = problems(tmp_path, ok)  # 49 levels are read; only the field is unknown
    assert only.startswith("deal.yml:6: x: unknown field")
    deeper = HEAD + "x: " + "[" * MAX_YAML_DEPTH + "]" * MAX_YAML_DEPTH + "\n"
    assert "nested more than 50 levels deep" in problems(tmp_path, deeper)[0]
    # Aliases up to the budget are fine; one value more is refused.
    shared = "[" + ", ".join(["x"] * 99) + "]"
    within = HEAD + f"a: &a {shared}\nb: [{', '.join(['*a'] * (MAX_ALIAS_VALUES // 100))}]\n"
    assert not any("aliases expand" in p for p in problems(tmp_path, within))
    over = HEAD + f"a: &a {shared}\nb: [{', '.join(['*a'] * (MAX_ALIAS_VALUES // 100 + 1))}]\n"
    assert any("aliases expand to more than 10,000 values" in p for p in problems(tmp_path, over))


def test_too_many_aliases(tmp_path: Path) -> None:
    text = HEAD + "a: &a x\nb: [" + ", ".join(["*a"] * 501) + "]\n"
    assert problems(tmp_path, text) == [
        "deal.yml:7: more than 500 aliases (*name) (hint: write the values out instead of referring to them)"]


def test_size_cap_names_the_line_where_it_is_crossed(tmp_path: Path) -> None:
    text = HEAD + "summary: |\n" + "  lorem ipsum dolor sit amet\n" * (MAX_YAML_BYTES // 28 + 10)
    [problem] = problems(tmp_path, text)
    assert problem.startswith("deal.yml:") and "file is larger than 512 KiB" in problem
    assert int(problem.split(":")[1]) > 18_000


@pytest.mark.parametrize(("text", "expected"), [
    (HEAD.replace("T\n", "T\x00\n"), "deal.yml:2: control character U+0000 is not allowed in YAML"),
    (HEAD.replace("title: T", "title: é\x07"), "deal.yml:2: control character U+0007 is not allowed in YAML"),
    (HEAD.replace("title: T", "title: !!binary AAAA"), "deal.yml:2: YAML tag '!!binary' is not allowed"),
    (HEAD.replace("title: T", "title: !!python/name:os.system"), "deal.yml:2: YAML tag '!!python/name:os.system' is not allowed"),
    (HEAD.replace("title: T", "title: !local x"), "deal.yml:2: YAML tag '!local' is not allowed"),
    (HEAD.replace("title: T", "title: !!bool maybe"), "deal.yml:2: deal.title: expected a value of type bool"),
    (HEAD.replace("title: T", "title: !!int abc"), "deal.yml:2: deal.title: expected a value of type int"),
    # PyYAML's int constructor ends in an IndexError on these (it was a traceback).
    (HEAD.replace("title: T", "title: !!int +"), "deal.yml:2: deal.title: expected a value of type int"),
    (HEAD.replace("title: T", "title: !!int ''"), "deal.yml:2: deal.title: expected a value of type int"),
    (HEAD + "!!int +: 1\n", "deal.yml:6: expected a value of type int"),
    (HEAD + "goals:\n  - {id: g, metric: M, target: " + "7" * 4301 + ", unit: h, by: 2027-01-01}\n",
     "deal.yml:7: goals[0].target: number too long (4,301 digits)"),
    (HEAD + "goals:\n  - {id: g, metric: M, target: .nan, unit: h, by: 2027-01-01}\n",
     "deal.yml:7: goals[0].target: expected a number, found nan"),
    (HEAD + "? [a, b]\n: 1\n", "deal.yml:6: expected a key of plain text, found a list"),
    (HEAD + "deal: {}\n", "deal.yml:6: deal: key 'deal' appears twice in one mapping (first on line 1)"),
    (HEAD.replace("  buyer", "\tbuyer"), "deal.yml:3: YAML syntax error"),
    (HEAD[:-30], "deal.yml:"),
    ("\ufeff" + HEAD + "x: 1\n", "deal.yml:6: x: unknown field"),  # a BOM is fine
    (b"deal:\n  title: \xff\xfe\n", "deal.yml:2: not UTF-8 text"),
    (HEAD + "---\n" + HEAD, "deal.yml:6: YAML syntax error: but found another document"),
])
def test_hostile_values_give_a_problem_with_a_line(tmp_path: Path, text: str | bytes, expected: str) -> None:
    found = problems(tmp_path, text)
    assert any(p.startswith(expected) for p in found), found


def test_merge_keys_keep_their_meaning_and_count_against_the_budget(tmp_path: Path) -> None:
    path = tmp_path / "deal.yml"
    path.write_text(HEAD + "people:\n  - &ilse {id: ilse, name: Ilse, side: buyer}\n  - {<<: *ilse, id: dov, name: Dov}\n"
                    "  - {<<: [*ilse], id: amara}\n", encoding="utf-8")
    people = load_deal(path).deal.people
    # The mapping's own keys win over merged ones (not reported as duplicates).
    assert [(p.id, p.name, p.side) for p in people] == [("ilse", "Ilse", "buyer"), ("dov", "Dov", "buyer"),
                                                         ("amara", "Ilse", "buyer")]
    bomb = "a0: &a0 {k: 1, l: 2, m: 3}\n" + "".join(
        f"a{i}: &a{i} {{<<: [*a{i - 1}], k{i}: {{<<: *a{i - 1}}}, l{i}: {{<<: *a{i - 1}}}}}\n" for i in range(1, 25))
    assert any("aliases expand" in p for p in problems(tmp_path, bomb))


def test_a_long_dependency_chain_is_checked_without_recursion(tmp_path: Path) -> None:
    chain = "".join(f"  - {{id: m{i}, title: M, owner: seller, due: 2027-01-01, after: [m{i + 1}]}}\n" for i in range(3000))
    chain += "  - {id: m3000, title: M, owner: seller, due: 2027-01-01, after: [m0]}\n"
    found = problems(tmp_path, HEAD + "milestones:\n" + chain)
    assert len(found) == 1 and "dependency cycle m0 → m1 → m2" in found[0]


def test_did_you_mean_stays_fast_on_repeated_and_long_ids(tmp_path: Path) -> None:
    # 300 x 300 near-identical ids took 14 s of difflib before suggestions were bounded.
    people = "".join(f"  - {{id: p{i}x{'y' * 40}, name: N, side: buyer}}\n" for i in range(300))
    steps = "".join(f"  - {{id: s{i}, title: T, owner: q{i}x{'y' * 40}, due: 2027-01-01}}\n" for i in range(300))
    start = time.perf_counter()
    found = problems(tmp_path, HEAD + "people:\n" + people + "milestones:\n" + steps)
    assert len(found) == 300 and time.perf_counter() - start < 2.0
    assert "and 288 more)" in found[0] and len(found[0]) < 1000


@pytest.mark.parametrize("slug", sorted(RESERVED_SLUGS))
def test_reserved_slugs_are_refused_with_the_deal_file(tmp_path: Path, slug: str) -> None:
    found = problems(tmp_path, HEAD, name=f"{slug}.yml")
    assert found[0].startswith(f"{slug}.yml:1: the name '{slug}' is reserved")


def test_reserved_slugs_cover_every_folder_at_the_root_of_a_build() -> None:
    # What MkDocs, Material's search plugin and Dealrooms write at the site root
    # (seen in a real build of the example project); names with a dot cannot be slugs.
    root_of_a_build = ["404.html", "assets", "index.html", "search", "sitemap.xml", "sitemap.xml.gz"]
    assert {name for name in root_of_a_build if "." not in name} <= RESERVED_SLUGS
    assert "livereload" in RESERVED_SLUGS  # the path `mkdocs serve` answers itself


def test_check_refuses_a_reserved_slug(project: Path) -> None:
    (project / "dealrooms" / "search.yml").write_text(HEAD, encoding="utf-8")
    result = subprocess.run([sys.executable, "-c", "from dealrooms_plugin.cli import run; run()", "check"],
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert "dealrooms/search.yml:1: the name 'search' is reserved" in result.stdout


def test_resource_probe_measures_a_child() -> None:
    # Guards the measurement itself: a child that allocates ~300 MB must show up.
    probe = "import resource, subprocess, sys; subprocess.run([sys.executable, '-c', 'b = bytearray(300 * 2**20)']);" \
            " print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    rss = int(subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True).stdout)
    assert rss > 250 * 1024
    assert resource.RUSAGE_CHILDREN is not None
