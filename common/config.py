"""YAML configuration files validated on load against a pydantic schema, with `--set a.b=value`
overrides; every problem becomes a ConfigError naming the file and the field."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from common.errors import ConfigError

M = TypeVar("M", bound=BaseModel)


class Strict(BaseModel):
    """A schema node that rejects unknown keys (a misspelt key is an error, not a silent default)."""

    model_config = ConfigDict(extra="forbid")


def apply_overrides(raw: dict, overrides: dict, where: str) -> dict:
    """Set dotted keys (`train.epochs`) in a parsed YAML mapping; the parents must be mappings."""
    for dotted, value in (overrides or {}).items():
        node, path = raw, []
        *parents, leaf = dotted.split(".")
        for key in parents:
            path.append(key)
            child = node.setdefault(key, {})
            if not isinstance(child, dict):
                raise ConfigError(f"{where}: cannot set '{dotted}': '{'.'.join(path)}' is {child!r}, not a mapping")
            node = child
        node[leaf] = value
    return raw


def read_yaml(path: Path):
    """A YAML file's content; a missing or unparsable file is a ConfigError naming it."""
    try:
        return yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text (is it the YAML file?)") from None
    except OSError as e:  # a folder in its place, no permission
        raise ConfigError(f"{path}: cannot be read: {e.strerror or e}") from None
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML: {e}") from None


def load_yaml(path: Path, schema: type[M], overrides: dict | None = None, what: str = "configuration") -> M:
    path = Path(path)
    raw = read_yaml(path)
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level, got {type(raw).__name__}")
    raw = apply_overrides(raw, overrides or {}, str(path))
    return validate_section(raw, schema, f"{path}: invalid {what}")


def validate_section(raw: dict, schema: type[M], where: str) -> M:
    """A configuration file, or a section of one, validated against its reader's schema (e.g. a
    task.yaml section a toolchain reads); problems are a ConfigError, `where` then one line per field."""
    try:
        return schema.model_validate(raw)
    except ValidationError as e:
        problems = "\n".join(
            f"  {'.'.join(str(p) for p in err['loc']) or '(top level)'}: {err['msg']}" for err in e.errors()
        )
        raise ConfigError(f"{where}:\n{problems}") from None
