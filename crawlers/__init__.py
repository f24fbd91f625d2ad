"""Scrapy project: thin spiders over pure parsers, a pipeline into the store, scheduling."""

import yuqing  # noqa: F401  (first: its loopback guard, when the tests ask for it, must precede Twisted's imports)
