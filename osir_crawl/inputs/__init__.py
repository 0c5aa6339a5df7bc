"""The project's declared inputs: the one YAML loader (with line marks) and the messages of
their pydantic models, which name the file and the line of every problem."""

from osir_crawl.inputs.yaml_input import (
    MarkedDict,
    MarkedList,
    line_of,
    load_yaml,
    parse_yaml,
    validated,
)

__all__ = ["MarkedDict", "MarkedList", "line_of", "load_yaml", "parse_yaml", "validated"]
