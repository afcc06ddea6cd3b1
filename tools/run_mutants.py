#!/usr/bin/env python
"""Plant each bug of tests/mutants.py in a copy of the repository and check that its tests fail.

    python tools/run_mutants.py                 # every mutant (about 15 minutes on 2 cores)
    python tools/run_mutants.py --list          # the mutants, each checked against the current sources
    python tools/run_mutants.py resume-fresh-rng wgan-clip-removed --keep

For each mutant the repository's files (tracked and untracked, not ignored: what ``git ls-files``
lists) are copied to a temporary directory, the mutant's edits are made there, and pytest runs the
mutant's test files from the copy's root with the copy first on PYTHONPATH, so the copy's ``gans``
is the one imported (checked: ``gans.__file__`` must lie in the copy). The working tree is never
touched, so others may keep working and testing in it. ``../shared`` is linked beside the copy, so
tests that use real data run as they do in the working tree.

A mutant is *caught* when pytest fails (exit status 1), *missed* when its tests pass, and an *error*
when its edit no longer matches the sources (stale) or pytest could not run. Before the mutants, the
same test files run on an unmutated copy (``--no-baseline`` skips this): a failure there would make
every "caught" meaningless. Exits 0 only when every mutant is caught; the last line is
``mutants_caught: K/N``.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def load_mutants():
    spec = importlib.util.spec_from_file_location("gans_test_mutants", ROOT / "tests" / "mutants.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # NamedTuple classes need their module while the file executes
    spec.loader.exec_module(module)
    return module.MUTANTS


def problems_of(mutant, root: Path = ROOT) -> list[str]:
    """Why ``mutant`` cannot be planted in ``root`` (empty when it can)."""
    problems = []
    for edit in mutant.edits:
        path = root / edit.file
        if not path.is_file():
            problems.append(f"{edit.file} does not exist")
            continue
        count = path.read_text(encoding="utf-8").count(edit.original)
        if count != 1:
            problems.append(f"{edit.file}: the original text occurs {count} times (expected once)")
    for test in mutant.tests:
        if not (root / test.split("::")[0]).is_file():
            problems.append(f"{test} does not exist")
    return problems


def copy_repository(destination: Path) -> Path:
    """Copy the files git lists (tracked, plus untracked that are not ignored) to destination/<repo name>."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            check=True, capture_output=True).stdout.decode().split("\0")
    copy = destination / ROOT.name
    for name in filter(None, listed):
        source = ROOT / name
        if not source.is_file():  # deleted in the working tree but still in the index
            continue
        target = copy / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    shared = ROOT.parent / "shared"
    if shared.is_dir():
        (destination / "shared").symlink_to(shared, target_is_directory=True)
    return copy


def plant(mutant, copy: Path) -> None:
    for edit in mutant.edits:
        path = copy / edit.file
        text = path.read_text(encoding="utf-8")
        assert text.count(edit.original) == 1, (mutant.name, edit.file)
        path.write_text(text.replace(edit.original, edit.replacement), encoding="utf-8")


def environment(copy: Path) -> dict[str, str]:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "TF_CPP_MIN_LOG_LEVEL": "3"}
    env["PYTHONPATH"] = os.pathsep.join([str(copy)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    return env


def check_imported_from(copy: Path, env: dict[str, str]) -> None:
    where = subprocess.run([sys.executable, "-c", "import gans; print(gans.__file__)"], cwd=copy, env=env,
                           capture_output=True, text=True, check=True).stdout.strip()
    if not Path(where).resolve().is_relative_to(copy.resolve()):
        raise RuntimeError(f"the copy's tests would import gans from {where}, not from {copy}")


def run_tests(copy: Path, tests, timeout: int) -> tuple[int, str]:
    env = environment(copy)
    check_imported_from(copy, env)
    # One worker (-n 0, over pytest.ini's two): with pytest-xdist, -x ends a run at its first failure with
    # exit status 2 (interrupted), which would read as an error instead of a caught mutant.
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-n", "0", "-p", "no:cacheprovider", "-W", "ignore", *tests]
    try:
        done = subprocess.run(command, cwd=copy, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return -1, f"timed out after {timeout} s"
    return done.returncode, done.stdout + done.stderr


def first_failure(output: str) -> str:
    for line in output.splitlines():
        if line.startswith(("FAILED ", "ERROR ")):
            return line.split(" - ")[0]
    return output.strip().splitlines()[-1] if output.strip() else "(no output)"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="run only these mutants (default: all)")
    parser.add_argument("--list", action="store_true", help="list the mutants and check they can be planted")
    parser.add_argument("--no-baseline", action="store_true", help="skip the run on an unmutated copy")
    parser.add_argument("--keep", action="store_true", help="keep the temporary copies (their paths are printed)")
    parser.add_argument("--timeout", type=int, default=1200, help="seconds per pytest run (default 1200)")
    args = parser.parse_args(argv)

    mutants = load_mutants()
    unknown = set(args.names) - {m.name for m in mutants}
    if unknown:
        parser.error(f"unknown mutants {sorted(unknown)}; see --list")
    if args.names:
        mutants = [m for m in mutants if m.name in args.names]
    if args.list:
        for m in mutants:
            problems = problems_of(m)
            print(f"{m.name:<40} {'STALE: ' + '; '.join(problems) if problems else 'ok':<6}  {', '.join(m.tests)}")
            print(f"{'':<40} {m.claim}")
        return 1 if any(problems_of(m) for m in mutants) else 0

    scratch = Path(tempfile.mkdtemp(prefix="gans-mutants-"))
    try:
        if not args.no_baseline:
            tests = sorted({t for m in mutants for t in m.tests})
            start = time.time()
            status, output = run_tests(copy_repository(scratch / "baseline"), tests, args.timeout)
            if status != 0:
                print(f"baseline: the unmutated tests fail ({first_failure(output)}); fix them first.\n"
                      + output[-3000:])
                print(f"mutants_caught: 0/{len(mutants)}")
                return 2
            print(f"baseline: {len(tests)} test files pass unmutated ({time.time() - start:.0f} s)", flush=True)
        caught = 0
        for i, mutant in enumerate(mutants):
            start = time.time()
            problems = problems_of(mutant)
            if problems:
                verdict, detail = "ERROR (stale)", "; ".join(problems)
            else:
                copy = copy_repository(scratch / f"{i:02d}-{mutant.name}")
                plant(mutant, copy)
                status, output = run_tests(copy, mutant.tests, args.timeout)
                if status == 1:
                    verdict, detail = "caught", first_failure(output)
                    caught += 1
                elif status == 0:
                    verdict, detail = "MISSED", f"{', '.join(mutant.tests)} pass with the bug planted"
                else:
                    verdict, detail = f"ERROR (pytest exit {status})", first_failure(output)
                if not args.keep:
                    shutil.rmtree(copy.parent, ignore_errors=True)
            print(f"{mutant.name:<40} {verdict:<8} {time.time() - start:5.0f} s  {detail}", flush=True)
        if args.keep:
            print(f"copies kept in {scratch}")
        print(f"mutants_caught: {caught}/{len(mutants)}")
        return 0 if caught == len(mutants) else 1
    finally:
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
