"""The ranking method as configuration (``data/method.yaml``).

:func:`load_method` reads the YAML file; :func:`method_from_dict` builds a
:class:`Method` from the same structure in memory; :func:`default_method` is
the published OSIR-LMTS method (``data/method.yaml`` as shipped is identical).

YAML keys (all optional except ``dimensions``)::

    normalisation: max          # max: x / max(x) (published) | minmax: (x - min) / (max - min)
    ties: dense                 # dense (published) | min (1,1,3 competition ranking)
    discount: inverse_log2      # g(rank) = 1 / log2(rank + 1)
    overall_weights: {data: 1/6, model: 1/2, infra: 1/6, eval: 1/6}   # numbers or "a/b"
    summary_delta: [data, model]   # dimensions that get a <dim>-summary-delta.csv
    dimensions:                 # dimension -> indicators, in column order
      data: [num_language, num_speech, ...]          # plain mean (published)
      model: [{downloads_language: 0.3}, likes, ...] # any weight given -> weighted mean,
                                                     # unlisted weights are 1
    optional:                   # indicators a summary may lack (skipped, with a note);
      infra: [num_adapted_chips_ai_compiler, ...]    # any other listed one missing: an error
    derived:                    # indicators scoring/derived.py adds to a build's summaries
      eval: [num_hosted_models]

The published indicator lists are :data:`scoring.vocabulary.INDICATORS`.
"""

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict

from osir_crawl.inputs import line_of, load_yaml, validated
from osir_crawl.inputs.yaml_input import message

from .errors import ScoringError
from .vocabulary import INDICATORS, LATER_INDICATORS

DATA_DIR = Path(__file__).resolve().parents[1] / "data"
METHOD_FILE = DATA_DIR / "method.yaml"
NORMALISATIONS = ("max", "minmax")
TIE_MODES = ("dense", "min")
DISCOUNTS = {"inverse_log2": lambda rank: 1 / math.log2(rank + 1)}


@dataclass(frozen=True)
class Dimension:
    """One dimension: its indicators in order and, if weighted, one weight per indicator."""

    name: str
    indicators: tuple
    weights: tuple = None  # None: plain mean (sum left to right / k)
    optional: tuple = ()  # indicators a summary may lack

    def weight(self, indicator):
        return 1.0 if self.weights is None else self.weights[self.indicators.index(indicator)]


@dataclass(frozen=True)
class Method:
    dimensions: tuple  # of Dimension, in overall order
    overall_weights: tuple  # of (dimension name, weight), summed in this order
    normalisation: str = "max"
    ties: str = "dense"
    discount: str = "inverse_log2"
    summary_delta: tuple = ("data", "model")
    derived: tuple = ()  # of (dimension, indicators scoring/derived.py adds to its summary)

    def dimension(self, name):
        for dim in self.dimensions:
            if dim.name == name:
                return dim
        raise KeyError(name)

    @property
    def names(self):
        return tuple(d.name for d in self.dimensions)

    def g(self, rank):
        """The rank discount g(rank)."""
        return DISCOUNTS[self.discount](rank)


PUBLISHED = {
    "normalisation": "max",
    "ties": "dense",
    "discount": "inverse_log2",
    "overall_weights": {"data": "1/6", "model": "1/2", "infra": "1/6", "eval": "1/6"},
    "summary_delta": ["data", "model"],
    "dimensions": {dim: list(indicators) for dim, indicators in INDICATORS.items()},
    "optional": {dim: list(indicators) for dim, indicators in LATER_INDICATORS.items()},
}


def default_method():
    """The published method (x/max, plain means, dense ranks, 1/6-1/2-1/6-1/6, 1/log2(r+1))."""
    return method_from_dict(PUBLISHED, "built-in method")


def load_method(path=None):
    """Read a method file (default ``data/method.yaml``; the built-in method if that is absent)."""
    if path is None and not METHOD_FILE.exists():
        return default_method()
    path = Path(path or METHOD_FILE)
    return method_from_dict(load_yaml(path, ScoringError, "method"), str(path))


def _number(value):
    """A weight: a number or ``"a/b"``, finite and >= 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"expected a number or 'a/b', got {value!r}")
    if isinstance(value, str):
        try:
            num, _, den = value.partition("/")
            value = float(num) / float(den) if den else float(num)
        except (ValueError, ZeroDivisionError):
            raise ValueError(f"expected a number or 'a/b', got {value!r}") from None
    value = float(value)
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"weight must be a finite number >= 0, got {value!r}")
    return value


def _indicators(items):
    """A dimension's list: ``name`` or ``{name: weight}`` items -> ((name, weight or None), ...)."""
    if not isinstance(items, list) or not items:
        raise ValueError("expected a non-empty list of indicators")
    out = []
    for i, item in enumerate(items):
        if isinstance(item, dict) and len(item) == 1:
            (name, weight), = item.items()
            try:
                weight = _number(weight)
            except ValueError as err:
                raise ValueError(f"[{i}] ({name}): {err}") from None
        elif isinstance(item, str):
            name, weight = item, None
        else:
            raise ValueError(f"[{i}]: expected a name or {{name: weight}}, got {item!r}")
        if any(name == seen for seen, _ in out):
            raise ValueError(f"[{i}]: indicator {name!r} listed twice")
        out.append((str(name), weight))
    return tuple(out)


Weight = Annotated[float, BeforeValidator(_number)]
Names = list[str]


class MethodFile(BaseModel):
    """The YAML structure (see the module docstring); cross-references between its keys are
    checked by :func:`method_from_dict`."""

    model_config = ConfigDict(extra="forbid", validate_default=True)

    normalisation: Literal[NORMALISATIONS] = PUBLISHED["normalisation"]
    ties: Literal[TIE_MODES] = PUBLISHED["ties"]
    discount: Literal[tuple(DISCOUNTS)] = PUBLISHED["discount"]
    overall_weights: dict[str, Weight] = PUBLISHED["overall_weights"]
    summary_delta: Names = PUBLISHED["summary_delta"]
    dimensions: dict[str, Annotated[tuple, BeforeValidator(_indicators)]]
    optional: dict[str, Names] | None = None
    derived: dict[str, Names] | None = None


def _describe(loc, error):
    if error["type"] == "literal_error":
        allowed = {"normalisation": NORMALISATIONS, "ties": TIE_MODES,
                   "discount": tuple(DISCOUNTS)}[loc[0]]
        return f"{loc[0]}: {error['input']!r} is not one of {', '.join(allowed)}"
    if error["type"] == "extra_forbidden":
        return f"unknown key(s) {loc[0]}"
    if loc == ("dimensions",) or (loc[:1] == ("dimensions",) and error["type"] != "value_error"):
        return "dimensions: expected a mapping of dimension -> indicators"
    if loc[:1] == ("dimensions",):  # _indicators' words start with the item: [2] ...
        text = message(error)
        return f"dimensions.{loc[1]}{'' if text.startswith('[') else ': '}{text}"
    if loc[:1] == ("overall_weights",) and len(loc) == 2:
        return f"overall_weights.{loc[1]}: {message(error)}"
    return f"{loc[0]}: " + {
        "overall_weights": "expected one weight for each dimension",
        "summary_delta": "expected a list of dimensions",
        "optional": "expected a mapping of dimension -> indicators",
        "derived": "expected lists of indicators per dimension"}.get(loc[0], message(error))


def method_from_dict(spec, source="method"):
    """Build and validate a :class:`Method` from the YAML structure (see module docstring);
    errors name ``source`` (and the line, for a file)."""
    if not isinstance(spec, dict):
        raise ScoringError(f"{source}: expected a mapping at top level")
    declared = validated(MethodFile, spec, source, ScoringError, _describe)
    dims = list(declared.dimensions)

    def fail(key, text):
        line = line_of(spec, (key,))
        raise ScoringError(f"{source}{f':{line}' if line else ''}: {key}: {text}")

    if set(declared.overall_weights) != set(dims):
        fail("overall_weights", f"expected one weight for each of {', '.join(dims)}")
    if any(d not in dims for d in declared.summary_delta):
        fail("summary_delta", f"expected a list of dimensions ({', '.join(dims)})")
    if any(d not in dims for d in declared.derived or {}):
        fail("derived", f"expected lists of indicators per dimension ({', '.join(dims)})")
    optional = declared.optional or {}
    for name, items in optional.items():
        if name not in dims or any(i not in dict(declared.dimensions[name]) for i in items):
            fail("optional", f"{name}: expected a list of the dimension's indicators")
    dimensions = []
    for name, items in declared.dimensions.items():
        weighted = any(w is not None for _, w in items)
        dimensions.append(Dimension(
            name, tuple(i for i, _ in items),
            tuple(1.0 if w is None else w for _, w in items) if weighted else None,
            tuple(optional.get(name, ()))))
    return Method(
        dimensions=tuple(dimensions),
        derived=tuple((d, tuple(v)) for d, v in (declared.derived or {}).items()),
        overall_weights=tuple((d, declared.overall_weights[d]) for d in dims),
        normalisation=declared.normalisation,
        ties=declared.ties,
        discount=declared.discount,
        summary_delta=tuple(declared.summary_delta),
    )


def load_indicator_labels(path=None):
    """``{dimension: {indicator: {"group": ..., "label": ...}}}`` from ``data/indicators.yaml``.

    Returns ``{}`` when the file is absent (labels are only decoration).
    """
    path = Path(path or DATA_DIR / "indicators.yaml")
    if not path.exists():
        return {}
    return load_yaml(path, ScoringError, "indicator labels") or {}
