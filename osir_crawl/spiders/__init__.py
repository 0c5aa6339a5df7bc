"""Spiders, one module per platform family; shared request logic lives in ``_base``."""
