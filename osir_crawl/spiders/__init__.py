"""Spiders, one module per platform family; shared request logic lives in ``_base``."""


def monthly_spiders(loader) -> list[str]:
    """The spiders ``scrapy crawlall`` runs (and ``--check`` asks): every spider of the loader
    but those marked ``monthly = False`` (legacy_import, a replay of published data)."""
    return sorted(n for n in loader.list() if getattr(loader.load(n), "monthly", True))
