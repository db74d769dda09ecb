"""Organisations: the registry of Norwegian public bodies, matching typed names, review."""
