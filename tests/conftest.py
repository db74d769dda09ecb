"""Shared fixtures: the harness plugins."""

pytest_plugins = ["tests.support.servers", "tests.support.browser"]
