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
    import yaml

    if path is None and not METHOD_FILE.exists():
        return default_method()
    path = Path(path or METHOD_FILE)
    try:
        with open(path, encoding="utf-8") as fh:
            spec = yaml.safe_load(fh)
    except FileNotFoundError:
        raise ScoringError(f"{path}: method file not found") from None
    except yaml.YAMLError as err:
        raise ScoringError(f"{path}: not valid YAML ({' '.join(str(err).split())})") from None
    return method_from_dict(spec, str(path))


def _number(value, loc):
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ScoringError(f"{loc}: expected a number or 'a/b', got {value!r}")
    if isinstance(value, str):
        try:
            num, _, den = value.partition("/")
            value = float(num) / float(den) if den else float(num)
        except (ValueError, ZeroDivisionError):
            raise ScoringError(f"{loc}: expected a number or 'a/b', got {value!r}") from None
    value = float(value)
    if not math.isfinite(value) or value < 0:
        raise ScoringError(f"{loc}: weight must be a finite number >= 0, got {value!r}")
    return value


def method_from_dict(spec, source="method"):
    """Build and validate a :class:`Method` from the YAML structure (see module docstring)."""
    if not isinstance(spec, dict):
        raise ScoringError(f"{source}: expected a mapping at top level")
    unknown = set(spec) - set(PUBLISHED) - {"derived"}
    if unknown:
        raise ScoringError(f"{source}: unknown key(s) {', '.join(sorted(map(str, unknown)))}")

    def choice(key, allowed):
        value = spec.get(key, PUBLISHED[key])
        if value not in allowed:
            raise ScoringError(f"{source}: {key}: {value!r} is not one of {', '.join(allowed)}")
        return value

    normalisation = choice("normalisation", NORMALISATIONS)
    ties = choice("ties", TIE_MODES)
    discount = choice("discount", tuple(DISCOUNTS))
    dims_spec = spec.get("dimensions")
    if not isinstance(dims_spec, dict) or not dims_spec:
        raise ScoringError(f"{source}: dimensions: expected a mapping of dimension -> indicators")
    dims = []
    for name, items in dims_spec.items():
        loc = f"{source}: dimensions.{name}"
        if not isinstance(items, list) or not items:
            raise ScoringError(f"{loc}: expected a non-empty list of indicators")
        names, weights = [], []
        for i, item in enumerate(items):
            if isinstance(item, dict) and len(item) == 1:
                (ind, w), = item.items()
                weights.append(_number(w, f"{loc}[{i}] ({ind})"))
            elif isinstance(item, str):
                ind = item
                weights.append(None)
            else:
                raise ScoringError(f"{loc}[{i}]: expected a name or {{name: weight}}, got {item!r}")
            if ind in names:
                raise ScoringError(f"{loc}[{i}]: indicator {ind!r} listed twice")
            names.append(str(ind))
        weighted = any(w is not None for w in weights)
        dims.append(Dimension(str(name), tuple(names),
                              tuple(1.0 if w is None else w for w in weights) if weighted else None))
    dim_names = [d.name for d in dims]
    dims = _with_optional(dims, spec.get("optional"), source)

    ow = spec.get("overall_weights", PUBLISHED["overall_weights"])
    if not isinstance(ow, dict) or set(ow) != set(dim_names):
        raise ScoringError(f"{source}: overall_weights: expected one weight for each of "
                           f"{', '.join(dim_names)}")
    overall = tuple((d, _number(ow[d], f"{source}: overall_weights.{d}")) for d in dim_names)

    sd = spec.get("summary_delta", PUBLISHED["summary_delta"])
    if not isinstance(sd, list) or any(d not in dim_names for d in sd):
        raise ScoringError(f"{source}: summary_delta: expected a list of dimensions "
                           f"({', '.join(dim_names)})")
    derived = spec.get("derived") or {}
    if not isinstance(derived, dict) or any(
            d not in dim_names or not isinstance(v, list) for d, v in derived.items()):
        raise ScoringError(f"{source}: derived: expected lists of indicators per dimension "
                           f"({', '.join(dim_names)})")
    return Method(
        dimensions=tuple(dims),
        derived=tuple((d, tuple(map(str, v))) for d, v in derived.items()),
        overall_weights=overall,
        normalisation=normalisation,
        ties=ties,
        discount=discount,
        summary_delta=tuple(sd),
    )


def _with_optional(dims, optional, source):
    if not optional:
        return dims
    if not isinstance(optional, dict):
        raise ScoringError(f"{source}: optional: expected a mapping of dimension -> indicators")
    known = {d.name: d for d in dims}
    for name, items in optional.items():
        dim = known.get(name)
        if dim is None or not isinstance(items, list) or any(i not in dim.indicators
                                                             for i in items):
            raise ScoringError(f"{source}: optional.{name}: expected a list of the dimension's "
                               f"indicators")
        known[name] = Dimension(dim.name, dim.indicators, dim.weights, tuple(items))
    return [known[d.name] for d in dims]


def load_indicator_labels(path=None):
    """``{dimension: {indicator: {"group": ..., "label": ...}}}`` from ``data/indicators.yaml``.

    Returns ``{}`` when the file is absent (labels are only decoration).
    """
    import yaml

    path = Path(path or DATA_DIR / "indicators.yaml")
    if not path.exists():
        return {}
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh) or {}
