"""The imports run one way, lowest layer first; nothing imports a layer above its own.

    base      core (the package), core.quiet, core.errors, core.paths, core.text, core.writable, core.child,
              core.registry, core.catalogue (the cells' and implementations' names and words), core.config
    data      core.data (the corpus, the batch iterator)
    model     core.model (cells, unrollers, the fused engine, CharRNN, the sampler, the tracer)
    runs      core.runs, and core.data.sources (a session's uploads, kept beside its runs: it writes
              through core.runs.store, and core.runs.archive reads through it)
    training  core.training
    analysis  core.inside, core.measure, core.lab (each reads trained runs or times training)
    tour      core.tour (the Tour's computations: analyses and measurements of its own)
    commands  core.commands and the short `python -m core.<name>` modules that run them
    app       explorer

A module may import its own layer and any below it, at module level or inside a function alike (a late
import still runs back up). The base also holds the cells' and implementations' names without TensorFlow,
so a config is built and checked without it: a subprocess shows that, and that the app's first page is
imported and drawn without it. The catalogue and the registries that attach each implementation to its entry must
name the same things.
"""

import ast
import subprocess
import sys

import pytest

from core.catalogue import CELL_CHOICES, IMPL_CHOICES, KERAS_TWINS
from core.paths import ROOT

LAYERS = (
    ("base", ("core", "core.quiet", "core.errors", "core.paths", "core.text", "core.writable", "core.child",
              "core.registry", "core.catalogue", "core.config", "core.presets")),
    ("data", ("core.data",)),
    ("model", ("core.model",)),
    ("runs", ("core.runs", "core.data.sources")),
    ("training", ("core.training",)),
    ("analysis", ("core.inside", "core.measure", "core.lab")),
    ("tour", ("core.tour",)),
    ("commands", ("core.commands", "core.bench", "core.cluster", "core.example", "core.experiment",
                  "core.export", "core.sample", "core.train")),
    ("app", ("explorer",)),
)  # fmt: skip


def layer_of(module: str) -> int | None:
    """The index in LAYERS of the longest prefix naming `module` (None: not the project's, or in none)."""
    best, rank = "", None
    for i, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > len(best):
                best, rank = prefix, i
    return rank


def module_name(path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path, module: str):
    """(line, imported module) for every import in the file, however deeply nested."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the module's own package, up level - 1
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            # `from core.runs import checkpoints` imports the module core.runs.checkpoints, which may be
            # in another layer than core.runs; `from core.runs.store import RunDir` imports core.runs.store
            yield from ((node.lineno, submodule(base, alias.name)) for alias in node.names)


def submodule(package: str, name: str) -> str:
    """package.name if that is one of the project's modules, else package."""
    path = ROOT.joinpath(*package.split("."), name)
    return f"{package}.{name}" if path.with_suffix(".py").exists() or path.is_dir() else package


def project_files():
    return sorted(p for folder in ("core", "explorer") for p in (ROOT / folder).rglob("*.py"))


def back_imports(files) -> list[str]:
    """A sentence for every import of a layer above the importer's."""
    found = []
    for path in files:
        module = module_name(path)
        own = layer_of(module)
        for line, imported in imports(path, module):
            theirs = layer_of(imported)
            if theirs is not None and theirs > own:
                found.append(
                    f"{path.relative_to(ROOT)} line {line}: {module} (layer {LAYERS[own][0]}) imports "
                    f"{imported} (layer {LAYERS[theirs][0]}), a layer above it"
                )
    return found


def test_every_module_has_a_layer():
    placed = [module_name(p) for p in project_files()]
    assert [m for m in placed if layer_of(m) is None] == []  # a new folder: add it to LAYERS, in its place


def test_nothing_imports_a_layer_above_its_own():
    found = back_imports(project_files())
    assert not found, "the imports run one way; these run back up:\n" + "\n".join(found)


def test_a_back_import_is_caught_at_function_level_too(tmp_path):
    # A late import of the model layer inside a function of core/config.py, as the config once had.
    fake = tmp_path / "core" / "config.py"
    fake.parent.mkdir()
    fake.write_text("def cells():\n    from core.model.cells import CELLS\n    return CELLS\n")
    module = "core.config"
    lines = [f"{line}: {imported}" for line, imported in imports(fake, module)]
    assert lines == ["2: core.model.cells"]
    assert layer_of("core.model.cells") > layer_of(module)
    assert layer_of("core.data.sources") == layer_of("core.runs.store")  # the longest prefix decides


def run_without_tensorflow(code: str) -> str:
    """Run `code` in a fresh interpreter at the project's root; fail if it imported TensorFlow."""
    check = code + "\nimport sys\nassert 'tensorflow' not in sys.modules, 'tensorflow was imported'\n"
    out = subprocess.run([sys.executable, "-c", check], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


def test_the_command_lines_help_needs_no_tensorflow():
    # --help and a refused flag answer at once: TensorFlow is imported only once a command runs.
    out = run_without_tensorflow(
        "import contextlib, io\n"
        "from core.commands import bench, example, train\n"
        "for main in (train.main, bench.main):\n"
        "    text = io.StringIO()\n"
        "    with contextlib.redirect_stdout(text), contextlib.suppress(SystemExit):\n"
        "        main(['--help'])\n"
        "    print(text.getvalue()[:60].replace(chr(10), ' '))\n"
    )
    assert "usage: python -m core.train" in out and "usage: python -m core.bench" in out


def test_a_config_is_built_and_checked_without_tensorflow():
    out = run_without_tensorflow(
        "from core.config import ConfigError, ModelConfig, RunConfig\n"
        "from core.presets import PRESETS\n"
        "m = ModelConfig()\n"
        "print(m.impl, ModelConfig(cell='rnn').one_hot_inputs, ModelConfig(cell='gru', impl='fused').impl)\n"
        "RunConfig.from_dict(PRESETS['seed'].to_dict())\n"
        "for bad in ({'impl': 'tf1-scan'}, {'cell': 'rnn', 'impl': 'keras-fused'}, {'cell': 'lstn'}):\n"
        "    try:\n"
        "        ModelConfig(**bad)\n"
        "    except ConfigError as err:\n"
        "        print(err)\n"
    )
    lines = out.splitlines()
    assert lines[0] == "auto True fused"
    assert lines[1].startswith("'tf1-scan' runs only inside a TF1 graph")
    assert lines[2] == "implementation 'keras-fused' works only with cells lstm, gru"
    assert lines[3] == "unknown cell 'lstn'; choose one of: rnn, lstm, gru, ln_lstm, ln_gru"


def test_the_app_page_imports_without_tensorflow():
    run_without_tensorflow("import explorer.main")


def test_the_first_page_is_drawn_without_tensorflow_pandas_or_the_other_tabs(tmp_path):
    # The sidebar and the Tour's first section; what starts once they are drawn (TensorFlow's import in a
    # thread, the spare worker) is left out.
    run_without_tensorflow(
        f"import os\nos.environ['RNN_EXPLORER_RUNS_DIR'] = {str(tmp_path)!r}\n"
        "from explorer.common import loading, services\n"
        "loading.start = lambda first: None\n"
        "from streamlit.testing.v1 import AppTest\n"
        f"at = AppTest.from_file({str(ROOT / 'explorer' / 'app.py')!r}, default_timeout=120)\n"
        "at.run()\n"
        "assert not at.exception and at.slider[0].label == 'batch_size: rows side by side'\n"
        "assert at.button(key='start').label == 'Start training' and not at.button(key='start').disabled\n"
        # pandas and the other tabs' modules were half of the first script run's time (docs/app-targets.md)
        "import sys\n"
        "assert 'pandas' not in sys.modules, 'pandas was imported'\n"
        "late = ['explorer.runs.view', 'explorer.generate.view', 'explorer.inside.view', 'explorer.lab.view']\n"
        "assert not [m for m in late if m in sys.modules], [m for m in late if m in sys.modules]\n"
    )


# ---- the catalogue (names and words) and the registries (the code) agree ------------------------------
def test_every_catalogue_entry_is_registered_by_the_module_it_names():
    from core.model.cells import CELLS
    from core.model.unrollers import UNROLLERS

    for catalogue, registry in ((CELL_CHOICES, CELLS), (IMPL_CHOICES, UNROLLERS)):
        assert registry.names() == catalogue.names()
        for name in catalogue:
            entry = registry[name]  # the TF1 family's module is imported here, on first look-up
            assert entry.impl.__module__ == catalogue[name].module, name
            assert entry.description == catalogue[name].description and entry.said == catalogue[name].said


def test_registering_a_name_the_catalogue_lacks_is_refused():
    from core.model.unrollers import UNROLLERS

    with pytest.raises(
        KeyError, match="unknown implementation 'mine': give it an entry in core/catalogue.py"
    ):
        UNROLLERS.register("mine")


def test_keras_fused_supports_the_cells_keras_has_a_layer_for():
    from core.model.cells import CELLS

    assert set(KERAS_TWINS) == {name for name in CELLS if CELLS[name].impl.keras_layer is not None}
    assert IMPL_CHOICES["keras-fused"].supports == KERAS_TWINS
