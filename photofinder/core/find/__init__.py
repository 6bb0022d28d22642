"""Questions to answers: the query language, calibration of good matches, filters and the searcher."""
