"""Faithful local stand-ins for external systems, started by tests as fixtures."""
