"""`keraspec fmt`: the canonical layout, exact outputs, meaning kept, the command line."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from keraspec import api
from keraspec.cli import ExitCode, main
from keraspec.diagnostics import SpecError
from keraspec.fmt import TOP_LEVEL, WIDTH, format_text
from keraspec.loader import load_text
from keraspec.scalars import same_value
from keraspec.schema import SPEC_KEY_ORDER

ROOT = Path(__file__).parent.parent
CORPUS = sorted(
    [
        *ROOT.glob("specs/*.yaml"),
        *ROOT.glob("specs/applications/*.yaml"),
        *ROOT.glob("tests/cases/valid/*.yaml"),
        *ROOT.glob("docs/examples/*.yaml"),
    ]
)
# Files already in the canonical layout. The others have nodes longer than 100
# columns, hand-wrapped flow mappings, aligned lists, or block-style nodes that fit
# on one line (see docs/ci.md, "Format specs").
CANONICAL = {
    "docs/examples/mlp_typos.yaml",
    "specs/ensemble.yaml",
    "specs/headline.yaml",
    "specs/mlp.yaml",
    "specs/seq2seq.yaml",
    "specs/shared_embedding.yaml",
    "specs/shared_lstm_tweets.yaml",
    "specs/shared_vision.yaml",
    "specs/ticket_ranking.yaml",
    "specs/transformer_block.yaml",
    "tests/cases/valid/compile_lists.yaml",
    "tests/cases/valid/input_options.yaml",
    "tests/cases/valid/named_outputs.yaml",
    "tests/cases/valid/op_names.yaml",
    "tests/cases/valid/shared_layers.yaml",
    "tests/cases/valid/wrappers_and_objects.yaml",
}


def fmt(text: str) -> str:
    return format_text(textwrap.dedent(text))


def expect(text: str) -> str:
    return textwrap.dedent(text)


# --- Exact layouts --------------------------------------------------------------


def test_block_style_keys_out_of_order_become_canonical() -> None:
    assert fmt("""\
        compile:
          loss: mse
          optimizer:
            learning_rate: 1e-3
            type: Adam
        outputs:
          - out
        nodes:
          hidden:
            inputs: x
            activation: relu
            units: 64
            type: Dense
          out:
            inputs: hidden
            type: Dense
            units: 1
        inputs:
          x:
            shape: [8]
        name: block_style
        keraspec: 1
        """) == expect("""\
        keraspec: 1
        name: block_style
        inputs:
          x: {shape: [8]}
        nodes:
          hidden: {type: Dense, activation: relu, units: 64, inputs: x}
          out: {type: Dense, units: 1, inputs: hidden}
        outputs: [out]
        compile:
          optimizer: {type: Adam, learning_rate: 1e-3}
          loss: mse
        """)


def test_composition_keys_order_and_wiring_after_arguments() -> None:
    assert fmt("""\
        keraspec: 1
        name: composed
        nodes:
          more: {prefix: "s${i}", repeat: 2, inputs: first, with: {f: 8}, block: stage}
          first: {when: "${deep}", inputs: x, call: {training: false}, units: 4, type: Dense}
        inputs:
          x: {shape: [4]}
        blocks:
          stage:
            outputs: d
            nodes:
              d: {type: Dense, units: "${f}", inputs: x}
            inputs: x
            params: {f: required}
        params:
          deep: true
        outputs: more
        """) == expect("""\
        keraspec: 1
        name: composed
        params:
          deep: true
        blocks:
          stage:
            params: {f: required}
            inputs: x
            nodes:
              d: {type: Dense, units: "${f}", inputs: x}
            outputs: d
        inputs:
          x: {shape: [4]}
        nodes:
          more: {block: stage, with: {f: 8}, inputs: first, repeat: 2, prefix: "s${i}"}
          first: {type: Dense, units: 4, inputs: x, call: {training: false}, when: "${deep}"}
        outputs: more
        """)


def test_comments_stay_with_their_keys() -> None:
    assert fmt("""\
        # Header comment
        # second header line

        nodes:   # the graph
          # about h
          h:
            inputs: x      # wired to x
            units: 8
            type: Dense
          out: {type: Dense, units: 1, inputs: h}  # the head
          # trailing in nodes


        # about the name
        name: demo
        outputs: [out]
        keraspec: 1 # the version
        inputs:
          x: {shape: [4]}
        # the end
        """) == expect("""\
        # Header comment
        # second header line

        keraspec: 1  # the version

        # about the name
        name: demo
        inputs:
          x: {shape: [4]}
        nodes:   # the graph
          # about h
          h:
            type: Dense
            units: 8
            inputs: x      # wired to x
          out: {type: Dense, units: 1, inputs: h}  # the head
          # trailing in nodes
        outputs: [out]
        # the end
        """)


def test_a_comment_inside_a_flow_mapping_makes_it_block_style() -> None:
    assert fmt("""\
        keraspec: 1
        name: c
        inputs: {x: {shape: [4]}}
        nodes:
          h: {type: Dense,
              # why 8
              units: 8, inputs: x}
        outputs: [h]
        """) == expect("""\
        keraspec: 1
        name: c
        inputs:
          x: {shape: [4]}
        nodes:
          h:
            type: Dense
            # why 8
            units: 8
            inputs: x
        outputs: [h]
        """)


def test_a_node_goes_block_style_when_it_does_not_fit_in_100_columns() -> None:
    fits = "  a: {type: Dense, units: 1, name: " + "n" * 53 + ", inputs: x}"
    too_long = fits.replace("a:", "ab:")
    assert (len(fits), len(too_long)) == (WIDTH, WIDTH + 1)
    text = f"keraspec: 1\nname: w\ninputs:\n  x: {{shape: [4]}}\nnodes:\n{fits}\n{too_long}\n"
    assert format_text(text + "outputs: [a, ab]\n") == (
        f"keraspec: 1\nname: w\ninputs:\n  x: {{shape: [4]}}\nnodes:\n{fits}\n"
        f"  ab:\n    type: Dense\n    units: 1\n    name: {'n' * 53}\n    inputs: x\n"
        "outputs: [a, ab]\n"
    )


def test_scalars_keep_their_spelling_and_quotes() -> None:
    # The loader refuses `no`, `on`, `0755` unquoted (E108): quoted they stay quoted.
    assert fmt("""\
        keraspec: 1
        name: traps
        description: "0755"
        inputs:
          words: {shape: [1], dtype: 'no'}
          x: {shape: [~, 3]}
        nodes:
          lookup:
            type: StringLookup
            vocabulary:
              - "on"
              - '(unk)'
              - yes please
            inputs: words
          enc: {type: LSTM, units: 4, return_state: true, inputs: x}
          dec:
            type: Dense
            units: ${width}
            inputs:
              - enc[1]
              - enc[2]
          rate: {type: Dropout, rate: 1e-3, seed:, inputs: dec}
        outputs: [lookup, rate]
        """) == expect("""\
        keraspec: 1
        name: traps
        description: "0755"
        inputs:
          words: {shape: [1], dtype: 'no'}
          x: {shape: [~, 3]}
        nodes:
          lookup: {type: StringLookup, vocabulary: ["on", '(unk)', yes please], inputs: words}
          enc: {type: LSTM, units: 4, return_state: true, inputs: x}
          dec: {type: Dense, units: "${width}", inputs: ["enc[1]", "enc[2]"]}
          rate: {type: Dropout, rate: 1e-3, seed: null, inputs: dec}
        outputs: [lookup, rate]
        """)


def test_plain_strings_that_flow_style_would_misread_are_quoted() -> None:
    text = "outputs:\n  a: enc[1]\n  b: :x\n  c: x?\n  d: a:b\n  e: http://x\n  f: a, b\n"
    assert format_text(text) == (
        'outputs: {a: "enc[1]", b: ":x", c: "x?", d: a:b, e: http://x, f: "a, b"}\n'
    )


def test_anchors_aliases_and_merge_keys_survive() -> None:
    # `inputs` goes before `nodes`: the anchor moves to the first use, the alias after.
    assert fmt("""\
        keraspec: 1
        name: anchors
        layers:
          shared: &dense {type: Dense, units: 8, activation: relu}
        nodes:
          a: {<<: *dense, units: &u 3, inputs: x}
          b:
            <<: *dense
            inputs: y
        inputs:
          x: &vec {shape: [*u]}
          y: *vec
        outputs: [a, b]
        """) == expect("""\
        keraspec: 1
        name: anchors
        inputs:
          x: &vec {shape: [&u 3]}
          y: *vec
        layers:
          shared: &dense {type: Dense, units: 8, activation: relu}
        nodes:
          a: {<<: *dense, units: *u, inputs: x}
          b: {<<: *dense, inputs: y}
        outputs: [a, b]
        """)


def test_multi_line_strings_survive() -> None:
    assert fmt("""\
        keraspec: 1
        name: strings
        description: >
          Folded text
          on two lines.
        inputs:
          x: {shape: [4]}
        nodes:
          h:
              type: Dense
              units: 4
              name: "a long
                quoted string"
              note: |-
                    kept
                      as written
              inputs: x
        outputs: [h]
        """) == expect("""\
        keraspec: 1
        name: strings
        description: >
          Folded text
          on two lines.
        inputs:
          x: {shape: [4]}
        nodes:
          h:
            type: Dense
            units: 4
            name: "a long quoted string"
            note: |-
                  kept
                    as written
            inputs: x
        outputs: [h]
        """)


def test_lists_of_mappings_in_block_style_keep_their_comments() -> None:
    text = expect("""\
        keraspec: 1
        name: cells
        inputs:
          x: {shape: [5, 3]}
        nodes:
          rnn:
            type: RNN
            cell:
              # the first cell
              - type: LSTMCell
                units: 4   # small
                kernel_initializer: {type: GlorotUniform, seed: 1234567890123456789}
              - {type: GRUCell, units: 2}
            inputs: x
        outputs: [rnn]
        """)
    assert format_text(text) == text


def test_blank_lines_are_kept_once_and_never_open_a_block() -> None:
    assert fmt("""\
        keraspec: 1
        name: blank


        inputs:

          x: {shape: [4]}
        nodes:
          a: {type: Dense, units: 1, inputs: x}



          b: {type: Dense, units: 1, inputs: a}
        outputs: [b]


        """) == expect("""\
        keraspec: 1
        name: blank

        inputs:
          x: {shape: [4]}
        nodes:
          a: {type: Dense, units: 1, inputs: x}

          b: {type: Dense, units: 1, inputs: a}
        outputs: [b]
        """)


def test_unknown_sections_go_after_the_known_ones_in_block_style() -> None:
    assert fmt("""\
        extra: {b: 1, a: 2}
        fit: {epochs: 2}
        keraspec: 1
        name: s
        inputs: {x: {shape: [4]}}
        outputs: [x]
        """) == expect("""\
        keraspec: 1
        name: s
        inputs:
          x: {shape: [4]}
        outputs: [x]
        fit:
          epochs: 2
        extra:
          b: 1
          a: 2
        """)


def test_the_example_in_the_docs_is_what_fmt_does() -> None:
    blocks = re.findall(r"```yaml\n(.*?)```", (ROOT / "docs" / "ci.md").read_text("utf-8"), re.S)
    before = next(b for b in blocks if b.startswith("# before\n"))
    after = next(b for b in blocks if b.startswith("# after `keraspec fmt`\n"))
    assert format_text(before.partition("\n")[2]) == after.partition("\n")[2]


def test_every_schema_section_has_a_place() -> None:
    assert set(SPEC_KEY_ORDER) <= set(TOP_LEVEL)
    assert [k for k in TOP_LEVEL if k in SPEC_KEY_ORDER] == list(SPEC_KEY_ORDER)


def test_an_invalid_spec_is_formatted_all_the_same() -> None:
    assert fmt("""\
        name: typo
        nodes:
          h: {units: 4, type: Dnse, inputs: x}
        """) == expect("""\
        name: typo
        nodes:
          h: {type: Dnse, units: 4, inputs: x}
        """)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: [1\n", "E100 invalid YAML: expected ',' or ']', but got '<stream end>'"),
        ("- a\n- b\n", "E103 a spec must be a mapping at the top level"),
        ("a: 1\na: 2\n", "E101 duplicate key `a` (first defined at line 1)"),
    ],
)
def test_text_that_is_not_a_yaml_mapping_gets_the_loaders_diagnostic(text, message) -> None:
    with pytest.raises(SpecError) as raised:
        format_text(text, "bad.yaml")
    assert str(raised.value.diagnostics[0]).startswith("bad.yaml:")
    assert message in str(raised.value.diagnostics[0])


# --- Every spec in the repository ---------------------------------------------


def meaning(text: str) -> object:
    """What a text says: the spec keraspec loads (params and blocks expanded) or, when
    it does not load as a spec, the data the loader reads."""
    try:
        return api.loads(text).model_dump()
    except SpecError:
        return load_text(text).data


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: str(p.relative_to(ROOT)))
def test_formatting_keeps_meaning_and_is_idempotent(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    formatted = format_text(text)
    assert same_value(meaning(formatted), meaning(text))
    assert format_text(formatted) == formatted
    code = [line for line in formatted.splitlines() if not line.lstrip().startswith("#")]
    assert max(map(len, code)) <= WIDTH  # comments are the author's: never rewrapped
    comments = [line.strip() for line in text.splitlines() if line.strip().startswith("#")]
    assert all(comment in formatted for comment in comments)


def test_the_canonical_files_are_left_unchanged() -> None:
    unchanged = {
        str(path.relative_to(ROOT))
        for path in CORPUS
        if format_text(path.read_text(encoding="utf-8")) == path.read_text(encoding="utf-8")
    }
    assert unchanged == CANONICAL


# --- Random specs ---------------------------------------------------------------

WORDS = st.sampled_from(["relu", "no", "0755", "enc[1]", "${w}", "a b", "x: y", "é"])
SPACES = st.integers(1, 6).map(" ".__mul__)


def scalar(draw: st.DrawFn, in_flow: bool) -> str:
    """A name, plain where YAML reads it back as written, else double-quoted."""
    word = draw(WORDS)
    unsafe = ": " in word or (in_flow and any(c in word for c in ",[]{}"))
    return word if draw(st.booleans()) and not unsafe else yaml.safe_dump(word, default_style='"')


@st.composite
def node_lines(draw: st.DrawFn, name: str, inputs: list[str]) -> list[str]:
    """One node, flow or block style, its keys in any order, comments here and there."""
    in_flow = draw(st.booleans())
    fields = [
        ("type", "Dense"),
        ("units", str(draw(st.integers(1, 999)))),
        ("inputs", draw(st.sampled_from(inputs))),
        ("name", scalar(draw, in_flow).strip()),
    ]
    if draw(st.booleans()):
        fields.append(("activation", draw(st.sampled_from(["relu", "'tanh'", '"no"']))))
    fields = draw(st.permutations(fields))
    eol = draw(SPACES) + f"# {name} eol" if draw(st.booleans()) else ""
    if in_flow:
        parts = [f"{k}: {v}" for k, v in fields]
        cut = draw(st.integers(1, len(parts)))  # a hand-wrapped flow mapping
        wrap = ",\n      " if draw(st.booleans()) else ", "
        body = ", ".join(parts[:cut]) + (wrap + ", ".join(parts[cut:]) if parts[cut:] else "")
        return [f"  {name}: {{{body}}}{eol}"]
    indent = "  " + " " * draw(st.sampled_from([2, 4]))
    lines = [f"  {name}:{eol}"]
    for key, value in fields:
        comment = draw(SPACES) + f"# on {name}.{key}" if draw(st.booleans()) else ""
        lines.append(f"{indent}{key}: {value}{comment}")
    if draw(st.booleans()):
        lines.append(" " * draw(st.integers(0, 6)) + f"# after {name}")
    return lines


@st.composite
def spec_texts(draw: st.DrawFn) -> str:
    """A spec with a random node graph, key orders, flow or block styles, and comments."""
    count = draw(st.integers(1, 6))
    nodes = ["nodes:" + (draw(SPACES) + "# the graph" if draw(st.booleans()) else "")]
    for i in range(count):
        if draw(st.booleans()):
            nodes.append(" " * draw(st.integers(0, 4)) + f"# before n{i}")
        if draw(st.booleans()):
            nodes.append("")
        nodes += draw(node_lines(f"n{i}", [f"n{j}" for j in range(i)] or ["x"]))
    sections = [
        "keraspec: 1\nname: random",
        "inputs:\n  x: {shape: [4]}",
        "\n".join(nodes),
        f"outputs: [n{count - 1}]" + ("\n# the end" if draw(st.booleans()) else ""),
    ]
    return "\n".join(draw(st.permutations(sections))) + "\n"


@settings(max_examples=150, deadline=None)
@given(spec_texts())
def test_random_specs_keep_meaning_and_comments_and_are_idempotent(text: str) -> None:
    formatted = format_text(text)  # itself checks meaning and a second pass
    assert same_value(load_text(formatted).data, load_text(text).data)
    assert format_text(formatted) == formatted
    comments = sorted(line.split("#", 1)[1] for line in text.splitlines() if "#" in line)
    kept = sorted(line.split("#", 1)[1] for line in formatted.splitlines() if "#" in line)
    assert kept == comments


# --- The command line -------------------------------------------------------------

BLOCK_STYLE = "keraspec: 1\nname: m\ninputs:\n  x:\n    shape: [4]\noutputs: [x]\n"
CANONICAL_TEXT = "keraspec: 1\nname: m\ninputs:\n  x: {shape: [4]}\noutputs: [x]\n"


def run(capsys, *args: object) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def old_file(path: Path, text: str) -> int:
    """Writes ``text`` with an mtime in the past, so a rewrite would show; returns it."""
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(1_000_000_000_000_000_000, 1_000_000_000_000_000_000))
    return path.stat().st_mtime_ns


def test_fmt_rewrites_in_place_keeping_the_file_mode(tmp_path, capsys) -> None:
    spec = tmp_path / "m.yaml"
    spec.write_text(BLOCK_STYLE, encoding="utf-8")
    spec.chmod(0o640)
    assert run(capsys, "fmt", spec) == (0, "", f"reformatted {spec}\n1 file reformatted.\n")
    assert spec.read_text(encoding="utf-8") == CANONICAL_TEXT
    assert stat.S_IMODE(spec.stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["m.yaml"]  # no temporary file left


def test_fmt_leaves_canonical_files_untouched(tmp_path, capsys) -> None:
    spec = tmp_path / "m.yaml"
    mtime = old_file(spec, CANONICAL_TEXT)
    assert run(capsys, "fmt", spec) == (0, "", "1 file left unchanged.\n")
    assert spec.stat().st_mtime_ns == mtime


def test_fmt_rewrites_a_symlinks_target_and_keeps_the_link(tmp_path, capsys) -> None:
    target = tmp_path / "m.yaml"
    target.write_text(BLOCK_STYLE, encoding="utf-8")
    link = tmp_path / "link.yaml"
    link.symlink_to("m.yaml")
    assert run(capsys, "fmt", link)[0] == ExitCode.OK
    assert link.is_symlink() and target.read_text(encoding="utf-8") == CANONICAL_TEXT


def test_fmt_check_lists_what_would_change_and_writes_nothing(tmp_path, capsys) -> None:
    block, canonical = tmp_path / "block.yaml", tmp_path / "canonical.yaml"
    mtimes = old_file(block, BLOCK_STYLE), old_file(canonical, CANONICAL_TEXT)
    code, out, err = run(capsys, "fmt", "--check", tmp_path / "*.yaml")
    assert (code, out) == (ExitCode.INVALID, "")
    assert err == (
        f"would reformat {block}\n1 file would be reformatted, 1 file would be left unchanged.\n"
    )
    assert block.read_text(encoding="utf-8") == BLOCK_STYLE
    assert (block.stat().st_mtime_ns, canonical.stat().st_mtime_ns) == mtimes


def test_fmt_check_passes_on_canonical_files(capsys) -> None:
    specs = [ROOT / "specs" / "headline.yaml", ROOT / "specs" / "mlp.yaml"]
    assert run(capsys, "fmt", "--check", *specs) == (0, "", "2 files would be left unchanged.\n")


def test_fmt_diff_prints_a_unified_diff_and_writes_nothing(tmp_path, capsys) -> None:
    spec = tmp_path / "m.yaml"
    mtime = old_file(spec, BLOCK_STYLE.rstrip("\n"))  # no final newline
    code, out, err = run(capsys, "fmt", "--diff", spec)
    assert code == ExitCode.OK
    assert out == (
        f"--- a/{spec}\n"
        f"+++ b/{spec}\n"
        "@@ -1,6 +1,5 @@\n"
        " keraspec: 1\n"
        " name: m\n"
        " inputs:\n"
        "-  x:\n"
        "-    shape: [4]\n"
        "-outputs: [x]\n"
        "\\ No newline at end of file\n"
        "+  x: {shape: [4]}\n"
        "+outputs: [x]\n"
    )
    assert err == f"would reformat {spec}\n1 file would be reformatted.\n"
    assert spec.stat().st_mtime_ns == mtime


def test_fmt_diff_output_applies_with_git_apply(tmp_path, capsys, monkeypatch) -> None:
    (tmp_path / "m.yaml").write_text(BLOCK_STYLE, encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # `git apply` reads the a/ and b/ paths from here
    _, out, _ = run(capsys, "fmt", "--diff", "m.yaml")
    subprocess.run(["git", "apply", "-"], input=out, text=True, check=True, cwd=tmp_path)
    assert (tmp_path / "m.yaml").read_text(encoding="utf-8") == CANONICAL_TEXT


def test_fmt_reports_invalid_yaml_at_its_line_and_leaves_the_file(tmp_path, capsys) -> None:
    bad, good = tmp_path / "bad.yaml", tmp_path / "good.yaml"
    mtime = old_file(bad, "keraspec: 1\nname: [broken\ninputs: {}\n")
    good.write_text(BLOCK_STYLE, encoding="utf-8")
    code, out, err = run(capsys, "fmt", bad, good)
    assert (code, out) == (ExitCode.INVALID, "")
    assert err == (
        f"{bad}:3:7: E100 invalid YAML: expected ',' or ']', but got ':' "
        "(while parsing a flow sequence)\n"
        "    3 | inputs: {}\n"
        "      |       ^\n"
        f"reformatted {good}\n"
        "1 file reformatted, 1 file failed to reformat.\n"
    )
    assert bad.stat().st_mtime_ns == mtime
    assert good.read_text(encoding="utf-8") == CANONICAL_TEXT


def test_fmt_reports_a_file_that_is_not_a_mapping(tmp_path, capsys) -> None:
    spec = tmp_path / "list.yaml"
    spec.write_text("- a\n- b\n", encoding="utf-8")
    code, _, err = run(capsys, "fmt", "--check", spec)
    assert code == ExitCode.INVALID
    assert err.splitlines()[0] == f"{spec}:1:1: E103 a spec must be a mapping at the top level"
    assert err.splitlines()[-1] == "1 file would fail to reformat."


def test_fmt_missing_file_is_a_usage_error(tmp_path, capsys) -> None:
    code, out, err = run(capsys, "fmt", tmp_path / "missing.yaml")
    assert (code, out) == (ExitCode.USAGE, "")
    assert err.endswith(f"Error: Invalid value for SPEC: no such file: `{tmp_path}/missing.yaml`\n")


def test_validate_does_not_import_the_formatter() -> None:
    code = (
        "import sys; from keraspec.cli import main; "
        f"main(['validate', {str(ROOT / 'specs' / 'mlp.yaml')!r}]); "
        "print('keraspec.fmt' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout == "False\n"


def test_pre_commit_hook_runs_keraspec_fmt() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    fmt_hook = next(hook for hook in hooks if hook["id"] == "keraspec-fmt")
    assert fmt_hook["entry"] == "keraspec fmt"
    assert fmt_hook["language"] == "python"
    assert fmt_hook["files"] == r"\.ya?ml$"
