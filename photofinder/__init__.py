"""photofinder: find photos by what is in them."""

__version__ = "0.1.0"
