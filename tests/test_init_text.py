"""`bulk init` shows every setting bulk.toml takes, each with its default."""

from __future__ import annotations

import dataclasses
import re
import tomllib

from bulk.config import DEFAULT_REASONS, Config, init_text, parse_config

# The older single-marketplace key: still read, never suggested.
DEPRECATED = {("amazon", "marketplace")}


def shown_keys(text: str) -> set[tuple[str, str]]:
    section, found = "", set()
    for line in text.splitlines():
        head = re.match(r"^(?:# )?\[(\w+)\]$", line)
        if head:
            section = head.group(1)
            continue
        key = re.match(r"^(?:# )?(\w+) = ", line)
        if key:
            found.add((section, key.group(1)))
    return found


def test_every_setting_is_shown() -> None:
    expected = set()
    for section in dataclasses.fields(Config):
        default = getattr(Config(), section.name)
        if dataclasses.is_dataclass(default):
            expected |= {(section.name, f.name) for f in dataclasses.fields(default)}
    assert expected - DEPRECATED - shown_keys(init_text()) == set()


def test_the_reasons_are_shown_as_the_defaults() -> None:
    text = init_text()
    for reason in DEFAULT_REASONS:
        assert f'# "{reason.label}" = "{reason.code}"' in text


def test_the_file_means_the_defaults_and_so_does_it_uncommented() -> None:
    text = init_text()
    assert parse_config(tomllib.loads(text)) == Config()
    # Every commented example is valid too, once uncommented.
    uncommented = re.sub(r"(?m)^# (\"|\w+ = |\[)", r"\1", text)
    assert parse_config(tomllib.loads(uncommented)).reasons == DEFAULT_REASONS
