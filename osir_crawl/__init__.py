"""osir-crawl: crawl the open-source influence of AI organisations and rank them."""

__version__ = "0.1.0"
