"""The filter panel beside the grid: folder, date taken, file type, places, and the counts it offers."""
