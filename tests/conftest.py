"""Shared fixtures: the harness plugins (servers, browser) and the app fixtures."""

pytest_plugins = ["tests.support.servers", "tests.support.browser", "tests.support.app"]
