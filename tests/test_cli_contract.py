"""The CLI's error contract (docs/annotation-loop.md, "Errors and exit codes"), checked over
every command: a usage mistake is one ``error:`` line and exit code 2, a
mistake in what the user gave is one ``error:`` line naming it and exit
code 1, never a traceback. A command added without a row here fails."""

import pytest
import typer
from typer.testing import CliRunner

from autolabel_spacy.cli import build_app
from autolabel_spacy.cli.errors import EXIT_USAGE, EXIT_USER

MISSING = "no-such-file.jsonl"
# each command, and arguments that name something that is not there
USER_ERROR = {
    "convert": [MISSING, "out.jsonl"],
    "corpus": ["no-such-folder", "out"],
    "tag": ["no-such-model", "some text"],
    "annotate": ["no-such-model", MISSING, "-o", "out.jsonl"],
    "import": [MISSING, "out.spacy"],
    "evaluate": ["no-such-model", MISSING],
    "select": ["no-such-model", MISSING, "-o", "out.jsonl"],
    "bootstrap": [MISSING, "-o", "out", "--vocab", "no-such-terms.tsv"],
    "audit": [MISSING, "-o", "issues.jsonl"],
    "formats": None,  # reads nothing the user names
    "domains list": None,
    "domains show": ["no-such-domain"],
    "vocab build": [MISSING, "terms.tsv"],
    "serve": ["no-such-model"],
    "report": [MISSING, "-o", "report.html"],
    "pretrain": [MISSING, "-o", "assets"],
}


def command_paths(group, prefix=()):
    for name, command in sorted(group.commands.items()):
        if hasattr(command, "commands"):
            yield from command_paths(command, prefix + (name,))
        else:
            yield " ".join(prefix + (name,))


def run(args, cwd):
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(cwd)
        result = CliRunner().invoke(build_app(), args)
    return result.exit_code, result.stdout, result.stderr


def error_lines(stderr):
    assert "Traceback" not in stderr, stderr
    return [line for line in stderr.splitlines() if line.startswith("error: ")]


def test_every_command_has_a_row():
    assert sorted(command_paths(typer.main.get_command(build_app()))) == sorted(USER_ERROR)


@pytest.mark.parametrize("command", sorted(USER_ERROR))
def test_usage_errors_are_one_line_and_exit_2(command, tmp_path):
    code, _, err = run([*command.split(), "--no-such-option"], tmp_path)
    assert code == EXIT_USAGE and len(error_lines(err)) == 1 and "--no-such-option" in err


@pytest.mark.parametrize("command", sorted(c for c, args in USER_ERROR.items() if args is not None))
def test_user_errors_are_one_line_naming_the_input_and_exit_1(command, tmp_path):
    code, out, err = run([*command.split(), *USER_ERROR[command]], tmp_path)
    lines = error_lines(err)
    assert code == EXIT_USER and len(lines) == 1, (code, out, err)
    assert any(name in lines[0] for name in ("no-such", MISSING)), lines[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # nothing was written
