"""The results grid and what shows a result: its model, view, tiles and thumbnail loader, the bar above it, the quick-look preview and the one-line details."""
