"""A local stand-in for the platforms: serves their real response formats from a scenario."""
