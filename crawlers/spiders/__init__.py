"""Thin spiders, one per platform: they build requests, call a parser and yield what it found."""
