"""The package's layout: no module of ours hides one of the standard library."""

import os
import pathlib
import subprocess
import sys
import sysconfig

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


def module_names(folder):
    """(name, path) of every module and package under ``folder``."""
    for path in sorted(folder.rglob("*")):
        if path.suffix == ".py" and path.stem not in ("__init__", "__main__"):
            yield path.stem, path
        elif path.is_dir() and (path / "__init__.py").is_file():
            yield path.name, path


# run/ and validation/ hold scripts: running one puts its folder first on the import path,
# where a module named like the standard library's would be imported instead of it
@pytest.mark.parametrize("folder", ["pd14_pynn", "run", "validation"])
def test_no_module_has_a_standard_library_name(folder):
    names = list(module_names(ROOT / folder))
    assert names, f"no modules found under {folder}/"
    clashes = [str(path.relative_to(ROOT)) for name, path in names
               if name in sys.stdlib_module_names]
    assert clashes == []


# under `python -c` the current folder comes first on the import path, as a script's does
@pytest.mark.parametrize("cwd", ["validation", "pd14_pynn/validation", "."])
def test_standard_statistics_beside_the_validation_package(cwd):
    code = ("import pd14_pynn.validation.compare, pd14_pynn.validation.spike_statistics, "
            "statistics; print(statistics.__file__); print(statistics.median([1, 5, 2]))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT / cwd, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr
    path, median = proc.stdout.split()
    assert pathlib.Path(path).parent == pathlib.Path(sysconfig.get_paths()["stdlib"])
    assert median == "2"
