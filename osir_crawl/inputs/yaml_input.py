"""The one YAML loader of the project's inputs, and the messages of their pydantic models.

``load_yaml`` reads a file with the safe loader (libyaml's where PyYAML has it: the same
documents and line marks, about eight times faster; every spider loads the registry, most
the catalogue, when it starts). Mappings and lists come back as :class:`MarkedDict` and
:class:`MarkedList`: plain dicts and lists that also know the line each key or item is on,
so ``validated`` can name the line of whatever a model refuses. A key given twice in one
mapping is an error (PyYAML would keep the last silently: an org listed twice would lose the
accounts of its first entry).

Every message is one line, ``file:line: problem``: it goes to a terminal or a log.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import yaml
from pydantic import BaseModel, ValidationError

SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class MarkedDict(dict):
    """A YAML mapping; ``line`` is where it starts, ``lines[key]`` where each key is."""

    line: int = 0

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.lines: dict = {}


class MarkedList(list):
    """A YAML sequence; ``line`` is where it starts, ``lines[i]`` where each item is."""

    line: int = 0

    def __init__(self, *args):
        super().__init__(*args)
        self.lines: list[int] = []


class _DuplicateKey(yaml.YAMLError):
    def __init__(self, key, line: int, first: int):
        self.line = line
        super().__init__(f"{key!r} appears twice in one mapping (first on line {first}); "
                         "only one can count")


def _line(node) -> int:
    return node.start_mark.line + 1


class _MarkedLoader(SAFE_LOADER):
    """The safe loader, refusing a key given twice and marking mappings and lists with lines."""

    def construct_mapping(self, node, deep=False):
        first_lines: dict = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                first = first_lines.setdefault(key, _line(key_node))
            except TypeError:  # an unhashable key: the constructor reports it
                continue
            if first != _line(key_node):
                raise _DuplicateKey(key, _line(key_node), first)
        return super().construct_mapping(node, deep=deep)

    def construct_marked_mapping(self, node):
        data = MarkedDict()
        data.line = _line(node)
        yield data
        data.update(self.construct_mapping(node))
        for key_node, _ in node.value:  # merged (<<) keys included: flattened by now
            try:
                data.lines.setdefault(self.construct_object(key_node), _line(key_node))
            except TypeError:
                continue

    def construct_marked_sequence(self, node):
        data = MarkedList()
        data.line = _line(node)
        yield data
        data.extend(self.construct_sequence(node))
        data.lines = [_line(item) for item in node.value]


    def construct_yaml_timestamp(self, node):
        """A date PyYAML cannot construct (``2025-13-45``) is an error of its line."""
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError as exc:
            raise yaml.constructor.ConstructorError(
                None, None, f"{node.value!r} is not a date ({exc})", node.start_mark) from None


_MarkedLoader.add_constructor("tag:yaml.org,2002:timestamp",
                              _MarkedLoader.construct_yaml_timestamp)
_MarkedLoader.add_constructor("tag:yaml.org,2002:map", _MarkedLoader.construct_marked_mapping)
_MarkedLoader.add_constructor("tag:yaml.org,2002:seq", _MarkedLoader.construct_marked_sequence)


def parse_yaml(text: str, source: str, error: type[Exception]):
    """The document in ``text``; ``error`` naming ``source`` and the line if it is not YAML."""
    try:
        return yaml.load(text, Loader=_MarkedLoader)  # noqa: S506 -- a SafeLoader subclass
    except _DuplicateKey as exc:
        raise error(f"{source}:{exc.line}: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        at = f":{mark.line + 1}" if mark else ""
        text = " ".join(str(exc).replace(' in "<unicode string>",', " at").split())
        raise error(f"{source}{at}: not valid YAML: {text}") from None
    except (ValueError, TypeError) as exc:  # a scalar PyYAML cannot construct: 2025-13-45
        raise error(f"{source}: not valid YAML: {exc}") from None


def load_yaml(path, error: type[Exception], what: str, source: str | None = None):
    """The document in the file ``path`` (``what`` it is, for "registry file not found");
    messages name the file as ``source`` (default: the path)."""
    source = source or str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(f"{source}: {what} file not found") from None
    except UnicodeDecodeError as exc:
        raise error(f"{source}: not UTF-8 text (byte {exc.start}: {exc.reason})") from None
    except OSError as exc:  # a folder, no permission
        raise error(f"{source}: cannot read the {what}: {exc.strerror or exc}") from None
    return parse_yaml(text, source, error)


def line_of(data, loc) -> int | None:
    """The line of the deepest part of ``data`` along ``loc`` (keys and list indexes) that
    carries a mark; None for data that did not come from a file."""
    line = getattr(data, "line", None) or None
    for part in loc:
        if isinstance(data, MarkedDict) and _has(data, part):
            line, data = data.lines.get(part, line), data[part]
        elif isinstance(data, MarkedList) and isinstance(part, int) and 0 <= part < len(data):
            line, data = data.lines[part], data[part]
        elif isinstance(data, (dict, list)) and _has(data, part):
            data = data[part]  # a plain value in memory: no line
        else:
            break
        line = getattr(data, "line", None) or line
    return line


def _has(data, key) -> bool:
    if isinstance(data, list):
        return isinstance(key, int) and 0 <= key < len(data)
    try:
        return key in data
    except TypeError:
        return False


# Pydantic's messages where a plainer one says the same to someone editing a YAML file.
MESSAGES = {
    "missing": "is missing",
    "extra_forbidden": "is not a known key",
    "dict_type": "must be a mapping",
    "model_type": "must be a mapping",
    "list_type": "must be a list",
    "string_type": "must be a text",
    "bool_type": "must be true or false",
    "int_type": "must be a whole number",
    "float_type": "must be a number",
}

Describe = Callable[[tuple, dict], str]


def message(error: dict) -> str:
    """One problem of a ValidationError as a sentence: ours (a validator's ValueError) or the
    plainer words of MESSAGES, with the value given."""
    if error["type"] in ("value_error", "assertion_error"):
        return error["msg"].partition(", ")[2]
    if error["type"] == "literal_error":
        return f"must be {error['ctx']['expected']} (got {_short(error['input'])})"
    text = MESSAGES.get(error["type"], error["msg"])
    if error["type"] not in ("missing", "extra_forbidden"):
        text += f" (got {_short(error['input'])})"
    return text


def dotted(loc: tuple, error: dict) -> str:
    """The default description of a problem: where it is (``counts.chips``, ``repos[2]``) and
    what is wrong. ``since must be a YYYY-MM-DD date``; a validator's own sentence after a
    colon (``counts.chips: give exactly one of file …``), or in place of the key when it
    names the key itself (``counts.chips.within narrows a file …``)."""
    text, where = message(error), _path(loc)
    if not where:
        return text
    last = str(loc[-1])
    if text.startswith((f"{last} ", f"{last}:")) and not isinstance(loc[-1], int):
        head = _path(loc[:-1])
        return f"{head}.{text}" if head else text
    plain = error["type"] in MESSAGES or text.startswith(("must ", "is "))
    return f"{where}{' ' if plain else ': '}{text}"


def _path(loc: tuple) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")


def validated(model: type[BaseModel], data, source: str, error: type[Exception],
              describe: Describe = dotted, context: dict | None = None):
    """``model`` validated from ``data`` (a loaded YAML document, or the same structure in
    memory), or ``error``: ``source:line: <the first problem>`` (``describe`` words it from
    the problem's location and pydantic's error; the line is omitted for data in memory)."""
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        first = errors[0]
        loc = tuple(p for p in first["loc"] if p != "[key]")
        line = line_of(data, loc)
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        at = f"{source}:{line}" if line else source
        raise error(f"{at}: {describe(loc, first)}{more}") from None


def _short(value) -> str:
    text = repr(dict(value) if isinstance(value, MarkedDict) else
                list(value) if isinstance(value, MarkedList) else value)
    return text if len(text) <= 80 else text[:77] + "..."
