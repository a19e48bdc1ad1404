"""The command line as a user meets it."""
from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from kg.cli import app

runner = CliRunner()
COMMANDS = sorted(c.name or c.callback.__name__ for c in app.registered_commands)


@pytest.mark.parametrize("command", COMMANDS)
def test_cli_every_command_has_help(command):
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.output and len(result.output.splitlines()) > 4


def test_cli_query_prints_table_and_json(seed_store):
    path = str(seed_store.path)
    seed_store_query = "SELECT ?place WHERE { kzr:person_kassym-jomart-tokayev kzo:visited ?place }"
    result = runner.invoke(app, ["query", seed_store_query, "--store", path])
    assert result.exit_code == 0, result.output
    assert "kzr:city_moscow" in result.output
    result = runner.invoke(app, ["query", seed_store_query, "--store", path, "--format", "json"])
    data = json.loads(result.stdout)
    places = {b["place"]["value"] for b in data["results"]["bindings"]}
    assert "https://w3id.org/kzru-kg/resource/city_moscow" in places


def test_cli_malformed_query_exits_nonzero(seed_store):
    result = runner.invoke(app, ["query", "SELECT ?x WHERE { ?x ", "--store", str(seed_store.path)])
    assert result.exit_code != 0
    assert "syntax error" in result.output


def test_cli_missing_store_is_one_clear_line(tmp_path):
    result = runner.invoke(app, ["query", "ASK {}", "--store", str(tmp_path / "nowhere")])
    assert result.exit_code == 1
    assert "no store here" in result.output


def test_cli_build_reports_bad_file_and_keeps_going(tmp_path):
    bad = tmp_path / "in"
    bad.mkdir()
    (bad / "empty.txt").write_text("   \n")
    (bad / "ok.txt").write_text("Kazakh President Kassym-Jomart Tokayev visited Moscow on "
                                "November 28, 2022, where he met Russian President Vladimir Putin.\n")
    store = tmp_path / "store"
    result = runner.invoke(app, ["build", str(bad), "--store", str(store)])
    assert result.exit_code == 1
    assert "empty.txt" in result.output
    result = runner.invoke(app, ["query", "--store", str(store),
                                 "SELECT ?p WHERE { ?x kzo:visited ?p }", "--format", "csv"])
    assert "city_moscow" in result.stdout


def test_cli_reading_commands_say_when_derived_graphs_are_out_of_date(tmp_path):
    """After an interrupted build the entity labels and counts may be stale or missing: query,
    stats and export say so on stderr (answers still come), and a build clears it."""
    from kg.store import KGStore

    src = tmp_path / "in"
    src.mkdir()
    (src / "ok.txt").write_text("Kazakh President Kassym-Jomart Tokayev visited Moscow on "
                                "November 28, 2022, where he met Russian President Vladimir Putin.\n")
    store = tmp_path / "store"
    assert runner.invoke(app, ["build", str(src), "--store", str(store), "--no-validate"]).exit_code == 0
    commands = [["query", "--name", "most-mentioned"], ["stats"],
                ["export", "--format", "facts", "-o", str(tmp_path / "f.jsonl")]]
    for command in commands:
        assert "out of date" not in runner.invoke(app, [*command, "--store", str(store)]).stderr
    kg = KGStore(store)
    kg.mark_derived_out_of_date()  # as a build stopped after its first write leaves it
    kg.close()
    for command in commands:
        result = runner.invoke(app, [*command, "--store", str(store)])
        assert result.exit_code == 0, result.output
        assert "out of date (a build or removal is running, or was interrupted)" in result.stderr, command
    assert runner.invoke(app, ["build", str(src), "--store", str(store), "--no-validate"]).exit_code == 0
    assert "out of date" not in runner.invoke(app, ["stats", "--store", str(store)]).stderr
