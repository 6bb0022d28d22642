"""The library at a glance: named groups of alike photos."""
