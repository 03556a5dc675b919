"""Importers and live sources. Each source parses its input into records; db/ writes them."""
