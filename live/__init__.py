"""Salen: a self-hosted server for hybrid seminars."""
