"""The desktop app (PySide6). The only package that imports Qt."""

from photofinder.gui import pyside_fix

pyside_fix.apply()
