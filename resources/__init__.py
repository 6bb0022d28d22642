"""The app icon and desktop entry (shipped in the package as photofinder.resources)."""
