"""Packaging for scrapyd: ``scrapyd-deploy`` builds an egg of the ``osir_crawl`` package.

The egg holds code only. The registry and the store are files a deployed spider reads and
writes by path, so under scrapyd pass them as absolute settings (``OSIR_ORGS``, ``OSIR_DB``),
in scrapyd's environment or per job; see docs/operations.md.
"""

from setuptools import find_packages, setup

from osir_crawl import __version__

setup(
    name="osir_crawl",
    version=__version__,
    packages=find_packages(include=["osir_crawl", "osir_crawl.*"]),
    entry_points={"scrapy": ["settings = osir_crawl.settings"]},
    zip_safe=True,
)
