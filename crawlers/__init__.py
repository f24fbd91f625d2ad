"""Scrapy project: thin spiders over pure parsers, a pipeline into the store, scheduling."""
